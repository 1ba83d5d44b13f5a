//! The aggregator's status page in a real headless Chromium (Debian's `chromium`, driven over
//! WebDriver by `chromedriver`; `make test` installs both when missing), on a running devnet
//! whose operator 1 double-signs and is slashed. The test reads the page's DOM at two instants
//! without reloading it: the certified head it shows advances and equals `latestCertifiedBlock`
//! on L1, and the slashing shows on operator 1's row. It saves a screenshot under
//! `target/test-output/status_page/`.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy::transports::http::reqwest;
use base64::Engine as _;
use common::{Devnet, SERIAL};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// What the test reads off the page: the certified head of rollup 1 and a marker this test set
/// on `window`, which a reload would erase.
const READ_PAGE: &str = r#"
    const head = document.querySelector('[data-rollup="1"] [data-field="certified-head"]');
    return {
        head: head ? head.textContent : null,
        operators: document.querySelectorAll('[data-operator]').length,
        marker: window.suretyTestMarker ?? null,
    };
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_shows_the_certified_head_live() {
    let _serial = SERIAL.lock().await;
    let devnet = Devnet::start(&["--double-sign", "1", "--double-sign-at", "3"]);
    devnet.wait_certified(2, Duration::from_secs(120)).await;
    let page = format!(
        "{}/",
        devnet.manifest["aggregators"][0]["http"].as_str().unwrap()
    );
    assert!(
        devnet.output().contains(&format!("status page {page}")),
        "the devnet does not print the page's URL\n{}",
        devnet.output()
    );

    let browser = Browser::start().await;
    browser.open(&page).await;
    let first = shown_head_equals_l1(&browser, &devnet).await;
    let read = browser.execute(READ_PAGE).await;
    assert_eq!(read["operators"], 4, "one row per operator: {read}");
    browser
        .execute("window.suretyTestMarker = 'same page';")
        .await;

    devnet
        .wait_certified(first + 3, Duration::from_secs(60))
        .await;
    let second = shown_head_equals_l1(&browser, &devnet).await;
    assert!(second > first, "the page showed {first}, then {second}");
    assert_eq!(
        browser.execute(READ_PAGE).await["marker"],
        "same page",
        "the page was reloaded"
    );

    // Operator 1's double signing ends in a slashing, and its row says so.
    let culprit = devnet.operator(1)["address"]
        .as_str()
        .unwrap()
        .to_lowercase();
    devnet.wait_line("SLASHED", Duration::from_secs(120)).await;
    let row = format!(
        "return [...document.querySelectorAll('[data-operator]')]\
           .find((r) => r.dataset.operator.toLowerCase() === '{culprit}')?.textContent ?? null;"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = browser.execute(&row).await;
        if text
            .as_str()
            .is_some_and(|t| t.contains("slashed on EigenLayer"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "operator 1's row: {text}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let output = output_dir();
    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let path = output.join("status-page.png");
    std::fs::write(&path, &png).unwrap();
    browser.resize(390, 1600).await;
    std::fs::write(
        output.join("status-page-phone.png"),
        browser.screenshot().await,
    )
    .unwrap();
    println!("screenshots in {}", output.display());
    drop(browser);
    let (status, output) = devnet.stop();
    assert!(status.success(), "{output}");
}

/// Reads the certified head the page shows until it equals `latestCertifiedBlock` read from L1
/// at the same moment (the page may lag by a snapshot); returns it.
async fn shown_head_equals_l1(browser: &Browser, devnet: &Devnet) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shown = browser.execute(READ_PAGE).await["head"]
            .as_str()
            .and_then(|h| h.trim().parse::<u64>().ok());
        let on_l1 = devnet.certified_head().await;
        if shown == Some(on_l1) {
            return on_l1;
        }
        assert!(
            Instant::now() < deadline,
            "the page shows certified head {shown:?}; L1 says {on_l1}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `target/test-output/status_page/`.
fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-output")
        .join("status_page");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A headless Chromium session over WebDriver (W3C protocol, JSON over HTTP to `chromedriver`).
struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: `make chromium` installs Debian's chromium and \
                 chromium-driver"
            );
        }
        let port = surety_testkit::ports::reserve().unwrap().port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Self {
            driver,
            http: reqwest::Client::new(),
            session: format!("http://127.0.0.1:{port}"),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while browser
            .http
            .get(format!("{}/status", browser.session))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let created = browser
            .call(
                reqwest::Method::POST,
                "/session",
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--disable-background-networking",
                            "--disable-extensions",
                            "--no-first-run",
                            "--window-size=1280,1400",
                            format!("--user-data-dir={}", browser._profile.path().display()),
                        ],
                    },
                }}}),
            )
            .await;
        let id = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"));
        browser.session = format!("{}/session/{id}", browser.session);
        browser
    }

    /// One WebDriver command; its `value`.
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
            .json()
            .await
            .unwrap();
        assert!(
            response["value"]["error"].is_null(),
            "WebDriver {path}: {response}"
        );
        response["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn execute(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({ "width": width, "height": height }),
        )
        .await;
    }

    /// The viewport as PNG.
    async fn screenshot(&self) -> Vec<u8> {
        let encoded = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends Chromium with the session, then the driver.
        let session = self.session.clone();
        let http = self.http.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(http.delete(session).send())
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
