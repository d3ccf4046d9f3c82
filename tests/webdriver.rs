//! A minimal WebDriver client: one chromedriver process with one headless Chromium
//! session, driven over chromedriver's HTTP API (navigate, run scripts, click, set form
//! values, read text, take screenshots). Chromium runs in chromedriver's process group,
//! which is killed when the [`WebDriver`] drops, even after a failed assertion.

use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

use crate::poll;

/// The key of a WebDriver element reference in a JSON answer.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// When a navigation counts as done (WebDriver's `pageLoadStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLoad {
    /// Navigation waits until the page has loaded (`normal`).
    Normal,
    /// Navigation returns at once (`none`): for pages that never finish loading, such
    /// as one showing an endless MJPEG stream.
    None,
}

/// A chromedriver process with one headless Chromium session.
pub struct WebDriver {
    process: tokio::process::Child,
    _profile: tempfile::TempDir,
    client: reqwest::Client,
    /// The session's URL on chromedriver.
    session: String,
}

impl WebDriver {
    /// Starts chromedriver on a free port and opens a headless Chromium session with a
    /// window of `width` × `height` and its own temporary profile.
    pub async fn start(width: u32, height: u32, page_load: PageLoad) -> WebDriver {
        WebDriver::start_with(width, height, page_load, &[]).await
    }

    /// [`WebDriver::start`] with more Chromium flags `extra` (such as
    /// `--ignore-certificate-errors` for a test's self-signed certificate).
    pub async fn start_with(
        width: u32,
        height: u32,
        page_load: PageLoad,
        extra: &[&str],
    ) -> WebDriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // Its own process group, with Chromium in it: see `Drop`.
            .process_group(0)
            .spawn()
            .expect("chromedriver runs (install it: apt-get install chromium chromium-driver)");
        let client = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        poll(
            Duration::from_secs(30),
            "chromedriver to be ready",
            || async {
                let status = crate::try_get_json(&client, &format!("{base}/status")).await?;
                (status["value"]["ready"] == true).then_some(())
            },
        )
        .await;
        let profile = tempfile::tempdir().expect("temp dir");
        let mut args = json!([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ]);
        if let Some(args) = args.as_array_mut() {
            args.extend(extra.iter().map(|flag| json!(flag)));
        }
        let mut always_match = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
        });
        if page_load == PageLoad::None {
            always_match["pageLoadStrategy"] = json!("none");
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": always_match}});
        let response: Value = client
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"));
        WebDriver {
            process,
            _profile: profile,
            client,
            session: format!("{base}/session/{session}"),
        }
    }

    /// Posts WebDriver command `path` (relative to the session) with `body` and returns
    /// the answer's `value`; panics unless the command succeeded (200, no `error`).
    pub async fn command(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/{path}", self.session))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"));
        let status = response.status();
        let response: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path} answer: {e}"));
        if let Some(error) = response["value"]["error"].as_str() {
            panic!(
                "WebDriver {path}: {error}: {}",
                response["value"]["message"]
            );
        }
        assert_eq!(status, 200, "WebDriver {path}: {response}");
        response["value"].clone()
    }

    /// Navigates to `url`.
    pub async fn open(&self, url: &str) {
        self.command("url", json!({"url": url})).await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn run(&self, script: &str, args: Value) -> Value {
        self.command("execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Runs `script` (a function body that takes no arguments) and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.run(script, json!([])).await
    }

    /// Clicks the element `css` selects, as a user would.
    pub async fn click(&self, css: &str) {
        let element = self
            .command("element", json!({"using": "css selector", "value": css}))
            .await;
        let id = element[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {element}"));
        self.command(&format!("element/{id}/click"), json!({}))
            .await;
    }

    /// Drags the mouse from `from` to `to` (viewport CSS pixels) with the left button
    /// held, as a user would: press, move, release.
    pub async fn drag(&self, from: (f64, f64), to: (f64, f64)) {
        self.press_and_move(from, to).await;
        self.release_at(to).await;
    }

    /// Presses the left button at `from` and moves to `to` holding it (viewport CSS
    /// pixels): a drag still going on, which [`WebDriver::release_at`] ends.
    pub async fn press_and_move(&self, from: (f64, f64), to: (f64, f64)) {
        self.pointer(vec![
            pointer_move(from, 0),
            json!({"type": "pointerDown", "button": 0}),
            pointer_move(to, 150),
        ])
        .await;
    }

    /// Moves the held pointer to `to` and releases the button there.
    pub async fn release_at(&self, to: (f64, f64)) {
        self.pointer(vec![
            pointer_move(to, 50),
            json!({"type": "pointerUp", "button": 0}),
        ])
        .await;
    }

    /// Performs `actions` with the mouse (its state, e.g. a held button, carries over
    /// to the next call).
    async fn pointer(&self, actions: Vec<Value>) {
        let actions = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": actions
        }]});
        self.command("actions", actions).await;
    }

    /// Sets a form control's value and fires `change` (and `input`), as typing does.
    pub async fn set(&self, css: &str, value: &str) {
        let done = self
            .run(
                "const e = document.querySelector(arguments[0]); if (!e) return false;
                 e.value = arguments[1];
                 e.dispatchEvent(new Event('input', {bubbles: true}));
                 e.dispatchEvent(new Event('change', {bubbles: true}));
                 return true;",
                json!([css, value]),
            )
            .await;
        assert_eq!(done, true, "no element {css}");
    }

    /// The text content of the element `css` selects (empty when there is none).
    pub async fn text(&self, css: &str) -> String {
        let value = self
            .run(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                json!([css]),
            )
            .await;
        value.as_str().unwrap_or_default().to_string()
    }

    /// Polls until the text of the element `css` selects contains `needle` (panics with
    /// `what` after `deadline`).
    pub async fn wait_for_text(&self, css: &str, needle: &str, deadline: Duration, what: &str) {
        poll(deadline, what, || async {
            self.text(css).await.contains(needle).then_some(())
        })
        .await;
    }

    /// Waits until `script` (no arguments) returns a value `check` accepts (panics with
    /// `what` after `deadline`).
    pub async fn wait_for_value(
        &self,
        script: &str,
        check: impl Fn(&Value) -> bool,
        deadline: Duration,
        what: &str,
    ) {
        poll(deadline, what, || async {
            check(&self.eval(script).await).then_some(())
        })
        .await;
    }

    /// A PNG screenshot of the window, or `None` where chromedriver gives none (for
    /// polling).
    pub async fn try_screenshot(&self) -> Option<Vec<u8>> {
        let response =
            crate::try_get_json(&self.client, &format!("{}/screenshot", self.session)).await?;
        base64::engine::general_purpose::STANDARD
            .decode(response["value"].as_str()?)
            .ok()
    }

    /// A PNG screenshot of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.try_screenshot().await.expect("a screenshot")
    }

    /// Ends the session (Chromium exits; chromedriver ends on drop).
    pub async fn close(self) {
        let _ = self.client.delete(&self.session).send().await;
    }
}

impl Drop for WebDriver {
    /// After a failed assertion the session is never closed and Chromium would outlive
    /// chromedriver: end chromedriver's process group (by its id), Chromium included.
    fn drop(&mut self) {
        if let Some(pid) = self.process.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// A WebDriver action moving the pointer to viewport point `(x, y)` in `duration` ms.
fn pointer_move((x, y): (f64, f64), duration: u32) -> Value {
    json!({"type": "pointerMove", "duration": duration, "origin": "viewport",
           "x": x.round() as i64, "y": y.round() as i64})
}
