//! A package index stand-in that can yank (PEP 592), which pypiserver
//! cannot, on a small scripted HTTP server on 127.0.0.1 that can also
//! answer with any status, headers and delay (404s, 5xx, hangs, GitHub
//! rate limits). Each connection is served on its own thread, so a hung
//! answer does not block the next request.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn new(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Answer {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&str, &str) -> Answer + Send + Sync;

/// A loopback HTTP/1.1 server answering `handler(method, path)`.
pub struct Server {
    pub port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the stub index");
        let port = listener.local_addr().expect("address").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let (seen, stop) = (
            Arc::new(Mutex::new(Vec::new())),
            Arc::new(AtomicBool::new(false)),
        );
        let handler: Arc<Handler> = Arc::new(handler);
        let (log, flag) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (log, handler) = (log.clone(), handler.clone());
                        std::thread::spawn(move || serve(stream, &log, &*handler));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `METHOD path` of every request so far.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("log").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<String>>, handler: &Handler) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut first = String::new();
    if reader.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = first.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    log.lock().expect("log").push(format!("{method} {path}"));
    let answer = handler(method, path);
    std::thread::sleep(answer.delay);
    let mut head = format!(
        "HTTP/1.1 {} Status\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut stream = &stream;
    let _ = write!(stream, "{head}\r\n{}", answer.body);
}

const PROJECT: &str = "mindoff-dataport";

#[derive(Default)]
struct State {
    /// `(version, yank reason)` in publication order.
    versions: Vec<(String, Option<String>)>,
    json: bool,
    /// Requests of the project page so far.
    polls: usize,
    /// `(version, from poll)`: shown yanked from that poll on.
    yank_at: Vec<(String, usize)>,
    /// `(from poll, until poll, answer)`: served instead of the page.
    faults: Vec<(usize, usize, Answer)>,
}

/// A simple index serving `mindoff-dataport` (sdist and wheel per version)
/// as PEP 503 HTML or PEP 691 JSON, with yanks.
pub struct YankIndex {
    pub server: Server,
    state: Arc<Mutex<State>>,
}

impl YankIndex {
    pub fn start(json: bool) -> YankIndex {
        let state = Arc::new(Mutex::new(State {
            json,
            ..State::default()
        }));
        let shared = state.clone();
        let server = Server::start(move |_, path| {
            let mut s = shared.lock().expect("state");
            if path.trim_end_matches('/') != format!("/simple/{PROJECT}") {
                return Answer::new(404, "Not Found");
            }
            let poll = s.polls;
            s.polls += 1;
            if let Some((_, _, answer)) = s
                .faults
                .iter()
                .find(|(from, until, _)| (*from..*until).contains(&poll))
            {
                return answer.clone();
            }
            let due: Vec<String> = s
                .yank_at
                .iter()
                .filter(|(_, from)| poll >= *from)
                .map(|(v, _)| v.clone())
                .collect();
            for (v, reason) in s.versions.iter_mut() {
                if due.contains(v) && reason.is_none() {
                    *reason = Some("broken build".into());
                }
            }
            let page = if s.json {
                json_page(&s.versions)
            } else {
                html_page(&s.versions)
            };
            let kind = if s.json {
                "application/vnd.pypi.simple.v1+json"
            } else {
                "text/html"
            };
            Answer::new(200, &page).header("Content-Type", kind)
        });
        YankIndex { server, state }
    }

    /// The upload URL (for manage links); nothing is accepted there.
    pub fn url(&self) -> String {
        format!("{}/", self.server.url())
    }

    pub fn simple_url(&self) -> String {
        format!("{}/simple/", self.server.url())
    }

    pub fn publish(&self, version: &str) {
        self.state
            .lock()
            .expect("state")
            .versions
            .push((version.into(), None));
    }

    pub fn yank(&self, version: &str) {
        for (v, reason) in self.state.lock().expect("state").versions.iter_mut() {
            if v == version {
                *reason = Some("broken build".into());
            }
        }
    }

    /// Shows `version` yanked from the `poll`-th look at the page on.
    pub fn yank_from_poll(&self, version: &str, poll: usize) {
        self.state
            .lock()
            .expect("state")
            .yank_at
            .push((version.into(), poll));
    }

    /// Answers `answer` instead of the page for polls `from..until`.
    pub fn fault(&self, from: usize, until: usize, answer: Answer) {
        self.state
            .lock()
            .expect("state")
            .faults
            .push((from, until, answer));
    }

    pub fn polls(&self) -> usize {
        self.state.lock().expect("state").polls
    }
}

fn files(version: &str) -> [String; 2] {
    [
        format!("mindoff_dataport-{version}.tar.gz"),
        format!("mindoff_dataport-{version}-py3-none-any.whl"),
    ]
}

fn html_page(versions: &[(String, Option<String>)]) -> String {
    let mut out = format!("<!DOCTYPE html><html><body><h1>Links for {PROJECT}</h1>\n");
    for (v, reason) in versions {
        let yank = reason
            .as_ref()
            .map_or(String::new(), |r| format!(" data-yanked=\"{r}\""));
        for f in files(v) {
            out.push_str(&format!(
                "<a href=\"/packages/{f}#sha256=00{v}\"{yank}>{f}</a><br>\n"
            ));
        }
    }
    out + "</body></html>\n"
}

fn json_page(versions: &[(String, Option<String>)]) -> String {
    let files: Vec<serde_json::Value> = versions
        .iter()
        .flat_map(|(v, reason)| {
            files(v).into_iter().map(move |f| {
                serde_json::json!({
                    "filename": f,
                    "url": format!("/packages/{f}"),
                    "hashes": {"sha256": format!("00{v}")},
                    "yanked": reason.clone().map_or(serde_json::Value::Bool(false), serde_json::Value::String),
                })
            })
        })
        .collect();
    serde_json::json!({"meta": {"api-version": "1.1"}, "name": PROJECT, "files": files}).to_string()
}

/// A command whose index (upload and simple API) is this stub, stdin closed.
pub fn with_stub(mut cmd: Command, index: &YankIndex) -> Command {
    cmd.env("TWINE_REPOSITORY_URL", index.url())
        .env("XTASK_INDEX_URL", index.simple_url())
        .stdin(Stdio::null());
    cmd
}
