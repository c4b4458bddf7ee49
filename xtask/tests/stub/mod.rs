//! A small HTTP/1.1 stub server on 127.0.0.1 for the one component with no
//! local equivalent: the GitHub REST API and the OIDC token exchange. It
//! can also forward unhandled requests to a real server (pypiserver), so
//! an upload goes through the stub and its credentials can be seen.
//! `TlsProxy` puts TLS under a throwaway CA in front of a loopback server.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    raw_head: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub enum Reply {
    Json(u16, String),
    /// A JSON answer with extra headers (rate-limit headers, `retry-after`).
    JsonWith(u16, Vec<(String, String)>, String),
    /// Forward to `127.0.0.1:port`, with the `Authorization` header replaced.
    Forward {
        port: u16,
        authorization: Option<String>,
    },
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct Stub {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Stub {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the stub");
        let port = listener.local_addr().expect("stub address").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log, flag) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                        if let Some(request) = read_request(&stream) {
                            log.lock().expect("log").push(request.clone());
                            let _ = respond(stream, &request, handler(&request));
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Stub {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Request> {
        self.requests.lock().expect("log").clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
        raw_head: head,
    })
}

fn respond(mut stream: TcpStream, request: &Request, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Json(status, body) => {
            respond(stream, request, Reply::JsonWith(status, vec![], body))
        }
        Reply::JsonWith(status, headers, body) => {
            let reason = match status {
                200 => "OK",
                201 => "Created",
                204 => "No Content",
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "Not Found",
                422 => "Unprocessable Entity",
                429 => "Too Many Requests",
                _ => "Status",
            };
            let extra: String = headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\r\n"))
                .collect();
            write!(
                stream,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        Reply::Forward {
            port,
            authorization,
        } => {
            let mut upstream = TcpStream::connect(("127.0.0.1", port))?;
            let mut head = String::new();
            for (i, line) in request.raw_head.lines().enumerate() {
                let lower = line.to_ascii_lowercase();
                if i > 0
                    && (lower.starts_with("authorization:") || lower.starts_with("connection:"))
                {
                    continue;
                }
                if line.is_empty() {
                    continue;
                }
                head.push_str(line);
                head.push_str("\r\n");
            }
            if let Some(auth) = authorization {
                head.push_str(&format!("Authorization: {auth}\r\n"));
            }
            head.push_str("Connection: close\r\n\r\n");
            upstream.write_all(head.as_bytes())?;
            upstream.write_all(&request.body)?;
            let mut answer = Vec::new();
            upstream.read_to_end(&mut answer)?;
            stream.write_all(&answer)
        }
    }
}

/// Standard base64 (for Basic auth headers).
pub fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A TLS-terminating proxy on 127.0.0.1 in front of a loopback port, with
/// a certificate for `localhost` and `127.0.0.1` from a CA made for this
/// proxy alone (`ca`, PEM). Certificates come from the `openssl` command;
/// the proxy is the system `python3` with its standard `ssl` module.
/// Killed by PID on drop.
pub struct TlsProxy {
    child: std::process::Child,
    pub port: u16,
    pub ca: std::path::PathBuf,
}

const TLS_PROXY: &str = r#"
import select, socket, ssl, sys, threading
cert, key, upstream = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)

def serve(conn):
    # One thread per connection, reading and writing both sides: an SSL
    # socket is never used from two threads at once.
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()
        return
    up = socket.create_connection(("127.0.0.1", upstream))
    try:
        while True:
            ready = [tls] if tls.pending() else select.select([tls, up], [], [], 60)[0]
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (up if s is tls else tls).sendall(data)
    except (ssl.SSLError, OSError):
        pass
    finally:
        tls.close()
        up.close()

while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"#;

impl TlsProxy {
    pub fn start(upstream: u16, dir: &std::path::Path) -> TlsProxy {
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap_or_else(|e| {
                    panic!("openssl is needed for the TLS tests (Debian package openssl): {e}")
                });
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=xtask test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat());
        run(&[
            &["req", "-new"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat());
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("writing the extensions");
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                TLS_PROXY,
                "server.pem",
                "server.key",
                &upstream.to_string(),
            ])
            .current_dir(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting the TLS proxy");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("proxy stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the proxy's port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("proxy port: {line:?}"));
        TlsProxy {
            child,
            port,
            ca: dir.join("ca.pem"),
        }
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
