//! Waiting for a condition with a deadline: try, and try again a moment later until it
//! holds or the time is up (then fail saying what was last seen).

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

/// Calls `attempt` every `every` until it gives `Ok`, for at most `limit`; past that,
/// fails with the message of its last `Err`.
pub async fn poll<T, F, Fut>(limit: Duration, every: Duration, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(last) if Instant::now() > deadline => bail!(last),
            Err(_) => tokio::time::sleep(every).await,
        }
    }
}
