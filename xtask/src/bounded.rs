//! A child process with a time limit: a network call that accepts the
//! connection and never answers must not hold a release (or a maintainer's
//! terminal) forever. The child is stopped by its own handle, never by
//! name.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How a bounded run ended.
pub enum Ended {
    Finished(Output),
    /// Stopped at the limit; what it had printed by then.
    TimedOut {
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
}

/// Runs `command` to its end or until `limit` has passed, collecting its
/// output (read on threads, so a full pipe never stalls it).
pub fn run(mut command: Command, limit: Duration, what: &str) -> Result<Ended> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .with_context(|| format!("waiting for {what}"))?
        {
            break Some(status);
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(match status {
        Some(status) => Ended::Finished(Output {
            status,
            stdout,
            stderr,
        }),
        None => Ended::TimedOut { stdout, stderr },
    })
}
