//! The docs site in a real browser: two series deployed to the docs branch,
//! the branch served as GitHub Pages would (a static server on 127.0.0.1),
//! and headless Chromium driven through chromedriver (WebDriver over HTTP).
//! Needs Chromium and chromedriver on `PATH` (`cargo xtask test` installs
//! Debian's `chromium` and `chromium-driver`); without them the test fails
//! with one message saying so, or is skipped when `XTASK_SKIP_BROWSER` is set.

mod harness;

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::{free_port, git, run_ok, Sandbox, TempDir};
use serde_json::{json, Value};

/// A child process killed by PID on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The browser and its driver from `PATH`; the names Debian, Ubuntu and
/// Google use for the browser are all accepted.
fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let find = |name: &str| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|file| file.is_file())
    };
    let browser = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .into_iter()
    .find_map(find)?;
    Some((browser, find("chromedriver")?))
}

/// A WebDriver session on chromedriver.
struct Browser {
    base: String,
    agent: ureq::Agent,
    _driver: Server,
}

impl Browser {
    fn start(binary: &Path, driver: &Path, profile: &Path) -> Browser {
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let driver = Server(driver);
        wait_for_port(port);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut browser = Browser {
            base: format!("http://127.0.0.1:{port}"),
            agent,
            _driver: driver,
        };
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": binary.display().to_string(),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,900", format!("--user-data-dir={}", profile.display())]
        }}}});
        let session = browser.call("POST", "/session", Some(caps));
        let id = session["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut response = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(json!({})).to_string()),
        }
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let text = response
            .body_mut()
            .read_to_string()
            .expect("WebDriver answer");
        let value: Value = serde_json::from_str(&text).expect("WebDriver JSON");
        assert!(
            value["value"]["error"].is_null(),
            "WebDriver {method} {path}: {text}"
        );
        value
            .get("sessionId")
            .map_or(value["value"].clone(), |_| value["value"].clone())
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Polls a script until it returns something truthy.
    fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self.script(script);
            if !(value.is_null()
                || value == json!(false)
                || value == json!("")
                || value == json!([]))
            {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} (at {})",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.base).call();
    }
}

fn decode_base64(input: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = input
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(value(*c)) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[test]
fn the_served_docs_site_redirects_lists_both_series_and_switches_version() {
    let Some((chromium, chromedriver)) = browser_binaries() else {
        let why = "the docs-site browser test needs Chromium and chromedriver on PATH: \
run `cargo xtask test` (as root on Debian/Ubuntu it installs the chromium and \
chromium-driver packages), or install them; XTASK_SKIP_BROWSER=1 skips this test";
        if std::env::var_os("XTASK_SKIP_BROWSER").is_some() {
            eprintln!("skipped: {why}");
            return;
        }
        // A failure with this message alone: no panic location, no backtrace.
        eprintln!("{why}");
        std::panic::resume_unwind(Box::new(why));
    };
    let sandbox = Sandbox::new();
    // Only released series get docs: 0.6 is pyproject.toml's, 0.7 is tagged.
    git(&sandbox.work, &["tag", "v0.7.0"]);
    sandbox.write_docs_page("series 0.6 page");
    run_ok(&mut sandbox.xtask(&["docs-deploy", "0.6"]));
    sandbox.write_docs_page("series 0.7 page");
    run_ok(&mut sandbox.xtask(&["docs-deploy", "0.7"]));

    // The docs branch, served as static files the way GitHub Pages would.
    let site = sandbox.dir.path().join("site");
    git(
        sandbox.dir.path(),
        &[
            "clone",
            "-q",
            "-b",
            "docs",
            harness::path_str(&sandbox.remote),
            harness::path_str(&site),
        ],
    );
    let port = free_port();
    let _server = Server(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
                "--directory",
            ])
            .arg(&site)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the static server"),
    );
    wait_for_port(port);

    let profile = TempDir::new("chromium-profile");
    let browser = Browser::start(&chromium, &chromedriver, profile.path());
    browser.open(&format!("http://127.0.0.1:{port}/"));
    // Root -> latest-release/ -> 0.7/ (mike's redirect pages).
    browser.wait_for(
        "the redirect to the newest series",
        "return location.pathname.startsWith('/0.7/')",
    );
    let body = browser.wait_for(
        "the page text",
        "return document.body && document.body.innerText",
    );
    assert!(
        body.as_str()
            .unwrap_or_default()
            .contains("series 0.7 page"),
        "{body}"
    );

    // Material's version selector, filled from versions.json.
    let versions = browser.wait_for(
        "the version selector",
        "const links = [...document.querySelectorAll('.md-version__link')]; \
         return links.length >= 2 ? links.map(a => a.textContent.trim()) : null;",
    );
    let names: Vec<&str> = versions
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("0.7")) && names.iter().any(|n| n.starts_with("0.6")),
        "{names:?}"
    );

    let shot = browser.call("GET", "/screenshot", None);
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../test-artifacts");
    fs::create_dir_all(&artifacts).expect("artifact dir");
    fs::write(
        artifacts.join("docs-site.png"),
        decode_base64(shot.as_str().unwrap_or_default()),
    )
    .expect("screenshot");

    // Choosing the older series loads its pages.
    browser.script(
        "const a = [...document.querySelectorAll('.md-version__link')].find(a => a.textContent.trim().startsWith('0.6')); a.click(); return true;",
    );
    browser.wait_for(
        "the 0.6 pages",
        "return location.pathname.startsWith('/0.6/')",
    );
    let body = browser.wait_for(
        "the 0.6 text",
        "return document.body && document.body.innerText.includes('series 0.6 page')",
    );
    assert_eq!(body, json!(true));
}
