//! A loopback HTTP proxy in front of the test pypiserver that injects the
//! faults a real index shows: listing lag (new files hidden from the
//! simple pages for a while, as behind a CDN) and a connection dropped
//! after the first file upload. std::net only; one request per
//! connection (`Connection: close`), which every client handles.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// A file appears on the simple pages only this long after the proxy
    /// first saw it there.
    HideNewFiles(Duration),
    /// The second upload (POST) gets its connection closed, unanswered;
    /// every later request passes.
    DropSecondUpload,
    /// Every upload (POST) is answered with this status and a page that
    /// echoes the request's headers (as debugging proxies and some error
    /// pages do), without reaching the index.
    EchoUploads(u16),
}

pub struct Proxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    pub posts: Arc<AtomicUsize>,
}

struct Shared {
    upstream: u16,
    fault: Fault,
    first_seen: Mutex<HashMap<String, Instant>>,
    posts: Arc<AtomicUsize>,
}

impl Proxy {
    pub fn start(upstream: u16, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let posts = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            upstream,
            fault,
            first_seen: Mutex::new(HashMap::new()),
            posts: posts.clone(),
        });
        let stopping = stop.clone();
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &shared);
                });
            }
        });
        Proxy {
            port,
            stop,
            accept: Some(accept),
            posts,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn simple_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn serve(client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head: Vec<String> = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let Some(request_line) = head.first().cloned() else {
        return Ok(());
    };
    let length: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let method = request_line.split(' ').next().unwrap_or("");
    let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
    if method == "POST" {
        let n = shared.posts.fetch_add(1, Ordering::SeqCst) + 1;
        if let Fault::EchoUploads(status) = shared.fault {
            let page = format!("<pre>{}</pre>\n", head.join("\n"));
            let answer = format!(
                "HTTP/1.1 {status} Echo\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
Connection: close\r\n\r\n{page}",
                page.len()
            );
            let mut client = client;
            client.write_all(answer.as_bytes())?;
            return client.flush();
        }
        if matches!(shared.fault, Fault::DropSecondUpload) && n == 2 {
            // Hang up without an answer: the upload never reaches the index.
            let _ = client.shutdown(std::net::Shutdown::Both);
            return Ok(());
        }
    }
    let hide = match shared.fault {
        Fault::HideNewFiles(d) if method == "GET" && path.starts_with("/simple/") => Some(d),
        _ => None,
    };
    let mut upstream = TcpStream::connect(("127.0.0.1", shared.upstream))?;
    let mut request = format!("{request_line}\r\n");
    for line in &head[1..] {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if name == "connection" || (hide.is_some() && name == "accept") {
            continue;
        }
        request.push_str(line);
        request.push_str("\r\n");
    }
    if hide.is_some() {
        // HTML pages are simple to filter; the xtask reads either form.
        request.push_str("Accept: text/html\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    upstream.write_all(request.as_bytes())?;
    upstream.write_all(&body)?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    let response = match hide {
        Some(d) => filter_listing(&response, d, shared),
        None => response,
    };
    let mut client = client;
    client.write_all(&response)?;
    client.flush()?;
    Ok(())
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        (n.trim().eq_ignore_ascii_case(name)).then_some(v.trim())
    })
}

/// Drops the `<a>` lines of files first seen less than `hide` ago and
/// fixes the Content-Length.
fn filter_listing(response: &[u8], hide: Duration, shared: &Shared) -> Vec<u8> {
    let text = String::from_utf8_lossy(response).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return response.to_vec();
    };
    let now = Instant::now();
    let mut seen = shared.first_seen.lock().expect("proxy state");
    let mut kept = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("<a ") {
        kept.push_str(&rest[..start]);
        let anchor_end = rest[start..]
            .find("</a>")
            .map_or(rest.len(), |e| start + e + "</a>".len());
        let anchor = &rest[start..anchor_end];
        let name = anchor
            .rsplit_once("</a>")
            .and_then(|(before, _)| before.rsplit_once('>'))
            .map(|(_, name)| name.trim().to_string())
            .unwrap_or_default();
        let first = *seen.entry(name).or_insert(now);
        if now.duration_since(first) >= hide {
            kept.push_str(anchor);
        }
        rest = &rest[anchor_end..];
    }
    kept.push_str(rest);
    let head: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:"))
        .collect();
    format!(
        "{}\r\nContent-Length: {}\r\n\r\n{kept}",
        head.join("\r\n"),
        kept.len()
    )
    .into_bytes()
}
