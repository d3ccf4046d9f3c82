//! The header read timeout for HTTP/2 connections. hyper times the request heads of
//! HTTP/1.1 only, so an HTTP/2 client that sends the preface and SETTINGS, then no
//! request (or none after its last one ended), and answers every PING, would hold its
//! connection forever. [`counted`] wraps a connection's service so that each request is
//! counted from its call (its head complete) until its response body ends or is dropped
//! (stream reset, client gone); [`Activity::idle_for`] completes once the count has
//! stayed zero for a whole timeout, counted from the connection's start and again from
//! each moment it fell back to zero. A connection with a live stream (an MJPEG viewer)
//! is never idle.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::body::{Frame, SizeHint};
use hyper::{Request, Response};
use tokio::sync::watch;

/// Wraps `service` (one connection's) to count its requests in flight, and returns the
/// count's [`Activity`].
pub fn counted<S>(service: S) -> (Counted<S>, Activity) {
    let (in_flight, activity) = watch::channel(0);
    (Counted { service, in_flight }, Activity(activity))
}

/// A connection's service, counting its requests in flight.
pub struct Counted<S> {
    service: S,
    in_flight: watch::Sender<usize>,
}

impl<S, B> hyper::service::Service<Request<B>> for Counted<S>
where
    S: hyper::service::Service<Request<B>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<CountedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        // Counted from here: dropping the future (a stream reset before the answer)
        // drops the ticket too.
        let ticket = InFlight::new(self.in_flight.clone());
        let response = self.service.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| CountedBody {
                body,
                _ticket: ticket,
            }))
        })
    }
}

/// One request in flight: counts itself in when made and out when dropped.
struct InFlight(watch::Sender<usize>);

impl InFlight {
    fn new(in_flight: watch::Sender<usize>) -> InFlight {
        in_flight.send_modify(|n| *n += 1);
        InFlight(in_flight)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// A response body that keeps its request counted in flight until hyper drops it (when
/// it has been sent, or its stream was reset).
pub struct CountedBody {
    body: Body,
    _ticket: InFlight,
}

impl hyper::body::Body for CountedBody {
    type Data = <Body as hyper::body::Body>::Data;
    type Error = <Body as hyper::body::Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection's count of requests in flight, as seen by its connection task.
pub struct Activity(watch::Receiver<usize>);

impl Activity {
    /// Completes once no request has been in flight for `timeout`: from now if none
    /// is, else from when the last one ends; a request that comes and goes meanwhile
    /// starts the wait again. Never completes once the service is gone (the
    /// connection ended anyway).
    pub async fn idle_for(mut self, timeout: Duration) {
        loop {
            let idle = *self.0.borrow_and_update() == 0;
            let changed = if idle {
                match tokio::time::timeout(timeout, self.0.changed()).await {
                    Ok(changed) => changed,
                    Err(_) => return,
                }
            } else {
                self.0.changed().await
            };
            if changed.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use http_body_util::BodyExt;
    use hyper::service::{service_fn, Service};
    use tokio::time::Instant;

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn ok(_: Request<Body>) -> std::future::Ready<Result<Response<Body>, Infallible>> {
        std::future::ready(Ok(Response::new(Body::from("ok"))))
    }

    /// Runs `idle_for(TIMEOUT)` in a task and returns whether it has completed.
    fn watch_idle(activity: Activity) -> Arc<AtomicBool> {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        tokio::spawn(async move {
            activity.idle_for(TIMEOUT).await;
            flag.store(true, Ordering::SeqCst);
        });
        done
    }

    /// Lets every task react to what happened so far, then the paused clock run `by`,
    /// and every task react again.
    async fn advance(by: Duration) {
        tokio::task::yield_now().await;
        tokio::time::advance(by).await;
        tokio::task::yield_now().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_requests_is_idle_after_the_timeout() {
        let (_service, activity) = counted(service_fn(ok));
        let start = Instant::now();
        activity.idle_for(TIMEOUT).await;
        assert_eq!(start.elapsed(), TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_live_response_body_keeps_the_connection_busy_until_dropped() {
        let (service, activity) = counted(service_fn(ok));
        let done = watch_idle(activity);
        let response = service
            .call(Request::new(Body::empty()))
            .await
            .expect("infallible");
        advance(TIMEOUT * 3).await;
        assert!(!done.load(Ordering::SeqCst), "busy while the body lives");
        drop(response);
        advance(TIMEOUT - Duration::from_secs(1)).await;
        assert!(!done.load(Ordering::SeqCst), "the wait starts at the drop");
        advance(Duration::from_secs(1)).await;
        assert!(done.load(Ordering::SeqCst), "idle a timeout after the drop");
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_comes_and_goes_starts_the_wait_again() {
        let (service, activity) = counted(service_fn(ok));
        let done = watch_idle(activity);
        advance(TIMEOUT - Duration::from_secs(1)).await;
        // Answered and read to its end between two looks of the idle task.
        let body = service
            .call(Request::new(Body::empty()))
            .await
            .expect("infallible");
        let read = body.into_body().collect().await.expect("a full body");
        assert_eq!(read.to_bytes(), "ok");
        advance(Duration::from_secs(1)).await;
        assert!(!done.load(Ordering::SeqCst), "the request reset the wait");
        advance(TIMEOUT).await;
        assert!(done.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_dropped_before_its_answer_counts_out() {
        let (service, activity) = counted(service_fn(|_: Request<Body>| {
            std::future::pending::<Result<Response<Body>, Infallible>>()
        }));
        let done = watch_idle(activity);
        let answer = service.call(Request::new(Body::empty()));
        advance(TIMEOUT * 2).await;
        assert!(!done.load(Ordering::SeqCst), "busy while the handler runs");
        drop(answer);
        advance(TIMEOUT).await;
        assert!(done.load(Ordering::SeqCst));
    }
}
