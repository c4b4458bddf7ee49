//! `.github/workflows/cd.yml` run as written, job by job, on this machine:
//! a small runner reads the workflow, evaluates its `${{ … }}` expressions
//! and job conditions, stands in for the four actions it uses, and runs
//! every `run:` line with bash the way the Actions runner does. The jobs
//! talk to a bare git remote, a real pypiserver on 127.0.0.1 behind a
//! trusted-publishing stub, and run the xtask binary the workflow's own
//! `xtask` job compiled, checked by the workflow's own `sha256sum` lines.
//!
//! What differs from GitHub, on purpose, and nothing else:
//! - the checkout is a local bare repository (`file://`), so nothing needs
//!   credentials; `persist-credentials: false` is honoured by making
//!   pushes from that checkout fail, as they would without a token;
//! - the index is the local pypiserver (TWINE_REPOSITORY_URL and
//!   XTASK_INDEX_URL in every job's environment, as a runner's variables);
//! - the managed Python tools come from the shared XTASK_TOOLS_DIR instead
//!   of being installed in every job;
//! - the `xtask` job's `cargo build` reuses an earlier build's dependencies
//!   (see `CARGO_TARGET`): it still compiles the checked-out xtask crate.
//!
//! Re-runs are GitHub's: "Re-run all jobs" is a new attempt of the same
//! event, "Re-run failed jobs" one that runs the failed jobs and every job
//! needing them while the others keep their results and outputs; either
//! way the run's artifacts stay. Several runs (two tags) can be driven
//! job by job in any interleaving.
//!
//! Shared by the cd_*.rs tests: `expr` (the `${{ … }}` expressions),
//! `runner` (jobs, steps, re-runs), `steps` (a `run:` step and the file
//! commands and artifacts around it); here, the fixture the jobs reach and
//! the checks the tests share.
#![allow(dead_code)]

pub mod expr;
pub mod runner;
pub mod steps;

use std::collections::BTreeMap;
use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::harness::{add_changelog_entry, git, Index, Sandbox, PASSWORD, USER};
use crate::stub::{Reply, Stub};
use runner::Runner;
use steps::sha256_of;

// ---------------------------------------------------------------------------
// What the jobs reach: a sandbox project on a bare remote with a tag, the
// real index behind a trusted-publishing exchange.

/// The token the exchange mints; masked by the xtask, never shown.
pub const MINTED: &str = "minted-cd-jobs-upload-token";
/// The runner's ID-token request token, handed to `id-token: write` jobs.
pub const REQUEST_TOKEN: &str = "cd-jobs-id-token-request";
/// The environment the index's trusted publisher names.
pub const TRUSTED_ENVIRONMENT: &str = "pypi";

/// An ID token (header.payload.signature, base64url) whose claims say
/// which environment the job ran in.
pub fn id_token(tag: &str, environment: &str) -> String {
    let b64url = |b: &[u8]| {
        crate::stub::base64(b)
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    };
    let claims = json!({
        "repository": "o/r",
        "workflow_ref": format!("o/r/.github/workflows/cd.yml@refs/tags/{tag}"),
        "ref": format!("refs/tags/{tag}"),
        "event_name": "release",
        "environment": environment,
    });
    format!(
        "{}.{}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk",
        b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    )
}

pub struct Fixture {
    pub sandbox: Sandbox,
    pub index: Index,
    pub exchange: Stub,
    /// Uploads from this one on (counting from 1) are refused with a 503,
    /// without reaching the index; `usize::MAX`: none is.
    pub refuse_uploads_from: Arc<AtomicUsize>,
    pub tag: String,
    pub version: String,
}

impl Fixture {
    /// The project on a bare remote, an entry under `## Recent Changes`,
    /// and the next minor version tagged (annotated) and pushed.
    pub fn new() -> Fixture {
        let sandbox = Sandbox::new();
        add_changelog_entry(&sandbox.work, "Run cd.yml job by job in the tests");
        sandbox.commit_and_push("Changelog: run cd.yml in the tests");
        let pyproject = fs::read_to_string(sandbox.work.join("pyproject.toml")).expect("pyproject");
        let current = pyproject
            .lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("a version in pyproject.toml");
        let parts: Vec<u64> = current
            .split('.')
            .map(|p| p.parse().expect("a numeric version"))
            .collect();
        let version = format!("{}.{}.0", parts[0], parts[1] + 1);
        let tag = format!("v{version}");
        sandbox.plain_tag(&tag);
        let index = Index::start();
        let refuse_uploads_from = Arc::new(AtomicUsize::new(usize::MAX));
        let exchange = exchange(&index, refuse_uploads_from.clone());
        Fixture {
            sandbox,
            index,
            exchange,
            refuse_uploads_from,
            tag,
            version,
        }
    }

    pub fn remote_refs(&self) -> String {
        git(&self.sandbox.remote, &["for-each-ref"])
    }

    pub fn remote_file(&self, rev: &str, file: &str) -> String {
        git(&self.sandbox.remote, &["show", &format!("{rev}:{file}")])
    }
}

/// The trusted-publishing exchange in front of the real pypiserver, as in
/// github.rs: the OIDC calls are answered here (an ID token names the
/// job's tag and environment; only one issued for the trusted environment
/// is exchanged), everything else is forwarded, and an upload gets through
/// only with the minted token (swapped for the index's real credentials).
/// Uploads from the `refuse_from`-th on are answered 503, as an index
/// that fails mid-release.
pub fn exchange(index: &Index, refuse_from: Arc<AtomicUsize>) -> Stub {
    let port = index.port;
    let upstream = format!(
        "Basic {}",
        crate::stub::base64(format!("{USER}:{PASSWORD}").as_bytes())
    );
    let minted = format!(
        "Basic {}",
        crate::stub::base64(format!("__token__:{MINTED}").as_bytes())
    );
    let trusted: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let uploads = AtomicUsize::new(0);
    Stub::start(move |req| match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/_/oidc/audience") => Reply::Json(200, r#"{"audience":"local index"}"#.into()),
        ("GET", p) if p.starts_with("/id-token") => {
            if req.header("authorization") != Some(&format!("bearer {REQUEST_TOKEN}")) {
                return Reply::Json(403, r#"{"message":"bad request token"}"#.into());
            }
            let query = |key: &str| {
                p.split(['?', '&'])
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                    .unwrap_or_default()
                    .to_string()
            };
            let (tag, environment) = (query("tag"), query("environment"));
            let token = id_token(&tag, &environment);
            if environment == TRUSTED_ENVIRONMENT {
                trusted.lock().expect("tokens").push(token.clone());
            }
            Reply::Json(200, json!({ "value": token }).to_string())
        }
        ("POST", "/_/oidc/mint-token") => {
            let body = req.body_text();
            if trusted
                .lock()
                .expect("tokens")
                .iter()
                .any(|t| body.contains(t.as_str()))
            {
                Reply::Json(200, json!({ "token": MINTED }).to_string())
            } else {
                Reply::Json(422, r#"{"message":"Token request failed","errors":[{"code":"invalid-publisher","description":"no trusted publisher for these claims"}]}"#.into())
            }
        }
        ("POST", _) => {
            let n = uploads.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= refuse_from.load(Ordering::SeqCst) {
                return Reply::Json(503, r#"{"message":"the index is unavailable"}"#.into());
            }
            Reply::Forward {
                port,
                authorization: (req.header("authorization") == Some(minted.as_str()))
                    .then(|| upstream.clone()),
            }
        }
        _ => Reply::Forward {
            port,
            authorization: None,
        },
    })
}

// ---------------------------------------------------------------------------
// Checks shared by the tests of re-runs and releases close together: what maintainers meet with GitHub's
// "Re-run all jobs" / "Re-run failed jobs" and with two tags at once.

/// The index's files (of every version) with the sha256 of their bytes.
pub fn index_files(fx: &Fixture) -> BTreeMap<String, String> {
    fx.index
        .files()
        .into_iter()
        .map(|f| {
            let sha = sha256_of(&fx.index.packages.join(&f));
            (f, sha)
        })
        .collect()
}

/// The files and sha256 the build job recorded as its output.
pub fn recorded_files(run: &Runner) -> BTreeMap<String, String> {
    run.output("build", "sha256")
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (file, sha) = pair.split_once('=').expect("FILE=SHA256");
            (file.to_string(), sha.to_string())
        })
        .collect()
}

/// Upload requests that reached the exchange (accepted or refused).
pub fn uploads(fx: &Fixture) -> usize {
    fx.exchange
        .seen()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/")
        .count()
}

pub fn remote_rev(fx: &Fixture, rev: &str) -> String {
    git(&fx.sandbox.remote, &["rev-parse", rev])
}

/// Each job's result, in the workflow's order.
pub fn results(run: &Runner) -> Vec<(String, &'static str)> {
    run.order()
        .into_iter()
        .filter(|j| run.records.contains_key(j))
        .map(|j| {
            let r = run.result(&j);
            (j, r)
        })
        .collect()
}

pub fn assert_released(run: &Runner) {
    let all = run.summary();
    for job in ["xtask", "commits", "build", "publish", "docs"] {
        assert_eq!(run.result(job), "success", "{job}:\n{all}");
    }
    assert_eq!(run.result("revert"), "skipped", "{all}");
}

/// The log of one step of a job.
pub fn step_log(run: &Runner, job: &str, step: &str) -> String {
    run.record(job)
        .steps
        .iter()
        .find(|s| s.name == step)
        .unwrap_or_else(|| panic!("{job} has no step {step}:\n{}", run.summary()))
        .log
        .clone()
}

/// The maintainer's clone, up to date with the remote's root.
pub fn pull(fx: &Fixture) {
    git(
        &fx.sandbox.work,
        &["pull", "-q", "--ff-only", "origin", "root"],
    );
}
