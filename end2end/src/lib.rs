//! Browser test harness: Debian's chromedriver and headless Chromium driven through
//! fantoccini. Tests run against a real node (`server::start`) and real servers (the sandbox).
//!
//! A `Browser` owns its chromedriver process (killed on drop) and a fresh Chromium profile;
//! `close` ends the WebDriver session so that Chromium exits too, and must be called also when
//! a test fails, which `Browser::run` takes care of.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A headless Chromium session.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempProfile,
}

struct TempProfile(PathBuf);

impl Drop for TempProfile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session (1280×800 window).
    pub async fn start() -> anyhow::Result<Browser> {
        let port = free_port()?;
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run chromedriver ({e}); install it: apt-get install chromium chromium-driver"))?;
        let profile = TempProfile(std::env::temp_dir().join(format!("orch-e2e-profile-{}-{port}", std::process::id())));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.0.display()),
                ]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let attempt = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await;
            match attempt {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => anyhow::bail!("chromedriver did not accept a session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Ok(Browser { client, driver, _profile: profile })
    }

    /// Runs `test` with a fresh browser, closing the session whatever the outcome.
    pub async fn run<F, Fut>(test: F) -> anyhow::Result<()>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let browser = Browser::start().await?;
        let client = browser.client.clone();
        let outcome = test(client).await;
        let _ = browser.client.clone().close().await;
        drop(browser);
        outcome
    }
}

/// Opens `url` and waits until the page is hydrated (an attribute only the browser sets).
pub async fn open_hydrated(client: &Client, url: &str) -> anyhow::Result<()> {
    client.goto(url).await?;
    wait_for(Duration::from_secs(30), "the page to hydrate", || async {
        client.find(Locator::Css("body[data-hydrated='true']")).await.ok().map(|_| ())
    })
    .await
}

/// Polls `probe` until it returns `Some`, or fails after `timeout`.
pub async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where tests save screenshots for review.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The built browser bundle; browser tests need it (`scripts/build-site.sh`).
pub fn site_root() -> anyhow::Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site");
    anyhow::ensure!(
        root.join("pkg/orchestrator_bg.wasm").is_file(),
        "the browser bundle is missing at {}; run scripts/build-site.sh first",
        root.display()
    );
    Ok(root)
}

/// Drags with the mouse from the centre of `from` to the centre of `to`, through several
/// intermediate moves (pointer events as a person makes them). The button stays down when
/// `release` is false, so a test can look at the page mid-drag and call `release_pointer`.
pub async fn drag(client: &Client, from: &fantoccini::elements::Element, to: &fantoccini::elements::Element, release: bool) -> anyhow::Result<()> {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
    let step = Some(Duration::from_millis(60));
    let mut mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: from.clone(), duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveToElement { element: from.clone(), duration: step, x: 12.0, y: 8.0 })
        .then(PointerAction::MoveToElement { element: to.clone(), duration: step, x: -10.0, y: 4.0 })
        .then(PointerAction::MoveToElement { element: to.clone(), duration: step, x: 0.0, y: 0.0 });
    if release {
        mouse = mouse.then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    }
    client.perform_actions(mouse).await?;
    Ok(())
}

/// Releases the mouse button held by `drag(.., false)`.
pub async fn release_pointer(client: &Client) -> anyhow::Result<()> {
    use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
    client.perform_actions(MouseActions::new("mouse".into()).then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })).await?;
    Ok(())
}
