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

mod harness;
mod stub;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::yaml::workflow;
use harness::{add_changelog_entry, git, path_str, Index, Sandbox, PASSWORD, USER};
use serde_json::{json, Map, Value};
use stub::{Reply, Stub};

// ---------------------------------------------------------------------------
// Expressions: exactly what cd.yml uses (context paths with `.name`, `.*`
// and `['name']`, string literals, `==`, `!=`, `!`, `&&`, `||`,
// parentheses, `contains` and the status functions). Anything else panics,
// so a workflow edit this runner does not understand cannot pass silently.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Dot,
    Star,
    LBrack,
    RBrack,
    LParen,
    RParen,
    Comma,
    Not,
    Eq,
    Ne,
    And,
    Or,
}

fn tokens(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => break,
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                        None => panic!("unterminated string in `{text}`"),
                    }
                }
                i += 1;
                out.push(Tok::Str(s));
            }
            _ if ["==", "!=", "&&", "||"].contains(&two.as_str()) => {
                out.push(match two.as_str() {
                    "==" => Tok::Eq,
                    "!=" => Tok::Ne,
                    "&&" => Tok::And,
                    _ => Tok::Or,
                });
                i += 2;
            }
            '!' | '.' | '*' | '[' | ']' | '(' | ')' | ',' => {
                out.push(match c {
                    '!' => Tok::Not,
                    '.' => Tok::Dot,
                    '*' => Tok::Star,
                    '[' => Tok::LBrack,
                    ']' => Tok::RBrack,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    _ => Tok::Comma,
                });
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => panic!("this runner does not understand `{other}` in `{text}`"),
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Star,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Lit(Value),
    Path(Vec<Seg>),
    Not(Box<Expr>),
    Eq(Box<Expr>, Box<Expr>, bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    text: String,
}

impl Parser {
    fn parse(text: &str) -> Expr {
        let mut p = Parser {
            toks: tokens(text),
            at: 0,
            text: text.to_string(),
        };
        let e = p.or();
        assert!(p.at == p.toks.len(), "this runner stopped reading `{text}`");
        e
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Tok {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t.unwrap_or_else(|| panic!("`{}` ends too early", self.text))
    }

    fn expect(&mut self, tok: Tok) {
        let got = self.next();
        assert_eq!(got, tok, "in `{}`", self.text);
    }

    fn or(&mut self) -> Expr {
        let mut e = self.and();
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()));
        }
        e
    }

    fn and(&mut self) -> Expr {
        let mut e = self.eq();
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.eq()));
        }
        e
    }

    fn eq(&mut self) -> Expr {
        let e = self.unary();
        match self.peek() {
            Some(Tok::Eq) | Some(Tok::Ne) => {
                let equal = self.next() == Tok::Eq;
                Expr::Eq(Box::new(e), Box::new(self.unary()), equal)
            }
            _ => e,
        }
    }

    fn unary(&mut self) -> Expr {
        if self.peek() == Some(&Tok::Not) {
            self.at += 1;
            return Expr::Not(Box::new(self.unary()));
        }
        self.primary()
    }

    fn primary(&mut self) -> Expr {
        match self.next() {
            Tok::Str(s) => Expr::Lit(Value::String(s)),
            Tok::LParen => {
                let e = self.or();
                self.expect(Tok::RParen);
                e
            }
            Tok::Ident(name) if self.peek() == Some(&Tok::LParen) => {
                self.at += 1;
                let mut args = Vec::new();
                while self.peek() != Some(&Tok::RParen) {
                    args.push(self.or());
                    if self.peek() == Some(&Tok::Comma) {
                        self.at += 1;
                    }
                }
                self.at += 1;
                let arity = match name.as_str() {
                    "always" | "success" | "failure" | "cancelled" => 0,
                    "contains" => 2,
                    other => panic!("this runner has no function `{other}` (in `{}`)", self.text),
                };
                assert_eq!(args.len(), arity, "{name}() in `{}`", self.text);
                Expr::Call(name, args)
            }
            Tok::Ident(word) if word == "true" || word == "false" => {
                Expr::Lit(Value::Bool(word == "true"))
            }
            Tok::Ident(word) if word == "null" => Expr::Lit(Value::Null),
            Tok::Ident(root) => {
                let mut segs = vec![Seg::Key(root)];
                loop {
                    match self.peek() {
                        Some(Tok::Dot) => {
                            self.at += 1;
                            match self.next() {
                                Tok::Ident(k) => segs.push(Seg::Key(k)),
                                Tok::Star => segs.push(Seg::Star),
                                other => panic!("`.{other:?}` in `{}`", self.text),
                            }
                        }
                        Some(Tok::LBrack) => {
                            self.at += 1;
                            match self.next() {
                                Tok::Str(k) => segs.push(Seg::Key(k)),
                                other => panic!("`[{other:?}]` in `{}`", self.text),
                            }
                            self.expect(Tok::RBrack);
                        }
                        _ => break,
                    }
                }
                Expr::Path(segs)
            }
            other => panic!(
                "this runner does not understand {other:?} in `{}`",
                self.text
            ),
        }
    }
}

/// Whether an expression calls a status function (else a job condition
/// is implicitly `success() && (…)`, as on GitHub).
fn has_status_call(e: &Expr) -> bool {
    match e {
        Expr::Call(name, args) => {
            matches!(
                name.as_str(),
                "always" | "success" | "failure" | "cancelled"
            ) || args.iter().any(has_status_call)
        }
        Expr::Not(a) => has_status_call(a),
        Expr::Eq(a, b, _) | Expr::And(a, b) | Expr::Or(a, b) => {
            has_status_call(a) || has_status_call(b)
        }
        Expr::Lit(_) | Expr::Path(_) => false,
    }
}

/// What an expression may read where it stands: an object whose keys are
/// the contexts available there (`github`, `needs`, `steps`, `runner`),
/// and whether status functions apply (job conditions only).
struct Ctx {
    contexts: Value,
    status: bool,
}

impl Ctx {
    fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Lit(v) => v.clone(),
            Expr::Path(segs) => self.path(segs),
            Expr::Not(a) => Value::Bool(!truthy(&self.eval(a))),
            Expr::Eq(a, b, equal) => Value::Bool(loose_eq(&self.eval(a), &self.eval(b)) == *equal),
            Expr::And(a, b) => {
                let left = self.eval(a);
                if truthy(&left) {
                    self.eval(b)
                } else {
                    left
                }
            }
            Expr::Or(a, b) => {
                let left = self.eval(a);
                if truthy(&left) {
                    left
                } else {
                    self.eval(b)
                }
            }
            Expr::Call(name, args) => self.call(name, args),
        }
    }

    fn call(&self, name: &str, args: &[Expr]) -> Value {
        let results = || -> Vec<String> {
            assert!(self.status, "{name}() where this runner has no job status");
            self.contexts["needs"]
                .as_object()
                .map(|needs| {
                    needs
                        .values()
                        .map(|n| n["result"].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        Value::Bool(match name {
            "always" => {
                assert!(self.status, "always() where this runner has no job status");
                true
            }
            "success" => results().iter().all(|r| r == "success"),
            "failure" => results().iter().any(|r| r == "failure"),
            "cancelled" => {
                results();
                false // nothing is ever cancelled here
            }
            "contains" => {
                let (hay, needle) = (self.eval(&args[0]), self.eval(&args[1]));
                match &hay {
                    Value::Array(items) => items.iter().any(|i| loose_eq(i, &needle)),
                    Value::String(s) => s.to_lowercase().contains(&to_text(&needle).to_lowercase()),
                    other => panic!("contains() on {other}"),
                }
            }
            other => panic!("this runner has no function `{other}`"),
        })
    }

    /// A context path. The context and its first key must exist (an
    /// unknown job, step or property is a test failure, not an empty
    /// string); deeper keys read as null when absent, as on GitHub (a
    /// step output that was never written).
    fn path(&self, segs: &[Seg]) -> Value {
        let Seg::Key(root) = &segs[0] else {
            panic!("a path starting with `*`")
        };
        let mut current = self.contexts.get(root).cloned().unwrap_or_else(|| {
            panic!(
                "the expression reads `{root}`, which this runner does not provide here (it has {})",
                self.contexts.as_object().map_or(String::new(), |o| o
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "))
            )
        });
        for (depth, seg) in segs.iter().enumerate().skip(1) {
            current = match (seg, current) {
                (Seg::Star, Value::Object(o)) => {
                    Value::Array(o.into_iter().map(|(_, v)| v).collect())
                }
                (Seg::Key(k), Value::Object(mut o)) => match o.remove(k) {
                    Some(v) => v,
                    None if depth == 1 => panic!(
                        "`{root}.{k}` is unknown to this runner (it has {})",
                        o.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    None => Value::Null,
                },
                (Seg::Key(k), Value::Array(items)) => Value::Array(
                    items
                        .into_iter()
                        .map(|i| i.get(k).cloned().unwrap_or(Value::Null))
                        .collect(),
                ),
                (_, Value::Null) => Value::Null,
                (seg, other) => panic!("{seg:?} of {other} under `{root}`"),
            };
        }
        current
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// GitHub's `==`: strings case-insensitively, null equal to null and to
/// the empty string; other mixes are not used by cd.yml.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.to_lowercase() == y.to_lowercase(),
        (Value::Null, Value::Null) => true,
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.is_empty(),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (x, y) => panic!("this runner does not compare {x} with {y}"),
    }
}

/// A value as `${{ }}` puts it into text.
fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => panic!("`${{{{ }}}}` of {other} is not text"),
    }
}

/// Replaces every `${{ expr }}` in a YAML value that is text.
fn interpolate(value: &Value, ctx: &Ctx) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => return n.to_string(),
        Value::Bool(b) => return b.to_string(),
        other => panic!("{other} is not a text value"),
    };
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unterminated `${{{{` in {text}"));
        out.push_str(&to_text(
            &ctx.eval(&Parser::parse(&rest[start + 3..start + end])),
        ));
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------
// What the jobs reach: a sandbox project on a bare remote with a tag, the
// real index behind a trusted-publishing exchange.

/// The token the exchange mints; masked by the xtask, never shown.
const MINTED: &str = "minted-cd-jobs-upload-token";
/// The runner's ID-token request token, handed to `id-token: write` jobs.
const REQUEST_TOKEN: &str = "cd-jobs-id-token-request";
/// The environment the index's trusted publisher names.
const TRUSTED_ENVIRONMENT: &str = "pypi";

/// An ID token (header.payload.signature, base64url) whose claims say
/// which environment the job ran in.
fn id_token(tag: &str, environment: &str) -> String {
    let b64url = |b: &[u8]| {
        stub::base64(b)
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

struct Fixture {
    sandbox: Sandbox,
    index: Index,
    exchange: Stub,
    /// Uploads from this one on (counting from 1) are refused with a 503,
    /// without reaching the index; `usize::MAX`: none is.
    refuse_uploads_from: Arc<AtomicUsize>,
    tag: String,
    version: String,
}

impl Fixture {
    /// The project on a bare remote, an entry under `## Recent Changes`,
    /// and the next minor version tagged (annotated) and pushed.
    fn new() -> Fixture {
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

    fn remote_refs(&self) -> String {
        git(&self.sandbox.remote, &["for-each-ref"])
    }

    fn remote_file(&self, rev: &str, file: &str) -> String {
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
fn exchange(index: &Index, refuse_from: Arc<AtomicUsize>) -> Stub {
    let port = index.port;
    let upstream = format!(
        "Basic {}",
        stub::base64(format!("{USER}:{PASSWORD}").as_bytes())
    );
    let minted = format!(
        "Basic {}",
        stub::base64(format!("__token__:{MINTED}").as_bytes())
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
// The runner.

/// The `xtask` job's `cargo build --locked --package xtask` would be a cold
/// compile of every dependency (ring's C included) in every test, since the
/// workflow has no cache. Instead the checkout's `target` is a symlink to
/// this directory, kept across test runs: `cargo build` still runs as
/// written and recompiles the checked-out xtask crate (a fresh clone's
/// files are newer than any earlier build, ~3 s), only the dependencies
/// are reused (one cold build, ~30 s, the first time ever). The workflow's
/// `cp target/debug/xtask` then copies what that build produced. Sharing
/// the test's own target/ instead would make the clone's build replace the
/// binary the tests are running. `TARGET_LOCK` keeps the tests'
/// builds (and the copy after each) from interleaving.
fn cargo_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cd-jobs-cargo-target")
}

static TARGET_LOCK: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone)]
struct StepRecord {
    name: String,
    outcome: &'static str,
    log: String,
    took: Duration,
}

#[derive(Debug, Clone)]
struct JobRecord {
    result: &'static str,
    outputs: Map<String, Value>,
    steps: Vec<StepRecord>,
}

impl JobRecord {
    /// The step that failed, if any.
    fn failed_step(&self) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.outcome == "failure")
    }

    fn log(&self) -> String {
        self.steps
            .iter()
            .map(|s| {
                let end = if s.log.ends_with('\n') || s.log.is_empty() {
                    ""
                } else {
                    "\n"
                };
                format!(
                    "=== {} ({}, {:.1?})\n{}{end}",
                    s.name, s.outcome, s.took, s.log
                )
            })
            .collect()
    }
}

struct Runner<'a> {
    fx: &'a Fixture,
    /// The release this run is for (its event's tag).
    tag: String,
    /// GitHub's run attempt: 1, then one more per re-run.
    attempt: u32,
    wf: Value,
    dir: PathBuf,
    event_path: PathBuf,
    event: Value,
    records: BTreeMap<String, JobRecord>,
}

/// Machine variables a job keeps (where the toolchains are); everything
/// else the test process has (CARGO_*, TWINE_*, GITHUB_*) is dropped.
const KEPT_VARS: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "RUSTUP_HOME",
    "CARGO_HOME",
    "RUSTUP_AUTO_INSTALL",
    "PYENV_ROOT",
];

impl<'a> Runner<'a> {
    fn new(fx: &'a Fixture) -> Runner<'a> {
        Runner::for_tag(fx, &fx.tag)
    }

    /// The run a published release of `tag` starts.
    fn for_tag(fx: &'a Fixture, tag: &str) -> Runner<'a> {
        let wf = workflow("cd.yml");
        check_keys(
            &wf,
            &["name", "on", "permissions", "concurrency", "env", "jobs"],
            "the workflow",
        );
        let types = &wf["on"]["release"]["types"];
        assert!(
            types
                .as_array()
                .is_some_and(|t| t.contains(&json!("published"))),
            "cd.yml no longer runs on a published release: {}",
            wf["on"]
        );
        let dir = fx.sandbox.dir.path().join(format!("actions-{tag}"));
        fs::create_dir_all(dir.join("artifacts")).expect("mkdir artifacts");
        let event = json!({
            "action": "published",
            "release": {
                "tag_name": tag,
                "name": tag,
                "draft": false,
                "prerelease": false,
            },
            "repository": {"full_name": "o/r"},
        });
        let event_path = dir.join("event.json");
        fs::write(&event_path, event.to_string()).expect("writing the event");
        Runner {
            fx,
            tag: tag.to_string(),
            attempt: 1,
            wf,
            dir,
            event_path,
            event,
            records: BTreeMap::new(),
        }
    }

    fn job_def(&self, name: &str) -> &Value {
        let job = &self.wf["jobs"][name];
        assert!(job.is_object(), "cd.yml has no job `{name}`");
        job
    }

    fn needs(&self, name: &str) -> Vec<String> {
        match &self.job_def(name)["needs"] {
            Value::Null => vec![],
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .map(|n| n.as_str().expect("a job name").to_string())
                .collect(),
            other => panic!("{name}: needs {other}"),
        }
    }

    /// Every job, each after the jobs it needs (ties by name).
    fn order(&self) -> Vec<String> {
        let jobs: Vec<String> = self.wf["jobs"]
            .as_object()
            .expect("jobs")
            .keys()
            .cloned()
            .collect();
        let mut done: Vec<String> = Vec::new();
        while done.len() < jobs.len() {
            let next = jobs
                .iter()
                .find(|j| !done.contains(j) && self.needs(j).iter().all(|n| done.contains(n)))
                .unwrap_or_else(|| panic!("the needs of {jobs:?} form a cycle"))
                .clone();
            done.push(next);
        }
        done
    }

    /// Runs, in order, every job not run yet.
    fn run_remaining(&mut self) {
        for job in self.order() {
            if !self.records.contains_key(&job) {
                self.run_job(&job);
            }
        }
    }

    /// Runs jobs in order up to and including `last`.
    fn run_through(&mut self, last: &str) {
        for job in self.order() {
            if !self.records.contains_key(&job) {
                self.run_job(&job);
            }
            if job == last {
                return;
            }
        }
        panic!("no job {last}");
    }

    /// GitHub's "Re-run all jobs": a new attempt of the same event; the
    /// run's artifacts stay (an upload with `overwrite` replaces them).
    fn rerun_all(&mut self) {
        self.attempt += 1;
        self.records.clear();
    }

    /// GitHub's "Re-run failed jobs": a new attempt that runs the failed
    /// jobs and every job needing them (directly or not) again; the other
    /// jobs keep their results and outputs, and the artifacts stay.
    fn rerun_failed(&mut self) {
        self.attempt += 1;
        let mut again: Vec<String> = self
            .records
            .iter()
            .filter(|(_, r)| r.result == "failure")
            .map(|(name, _)| name.clone())
            .collect();
        assert!(!again.is_empty(), "no job failed:\n{}", self.summary());
        loop {
            let more: Vec<String> = self
                .order()
                .into_iter()
                .filter(|j| !again.contains(j) && self.needs(j).iter().any(|n| again.contains(n)))
                .collect();
            if more.is_empty() {
                break;
            }
            again.extend(more);
        }
        for job in again {
            self.records.remove(&job);
        }
    }

    /// Runs `job` unless it ran in this attempt already.
    fn run_pending(&mut self, job: &str) {
        if !self.records.contains_key(job) {
            self.run_job(job);
        }
    }

    fn record(&self, job: &str) -> &JobRecord {
        self.records
            .get(job)
            .unwrap_or_else(|| panic!("job {job} has not run"))
    }

    fn result(&self, job: &str) -> &'static str {
        self.record(job).result
    }

    fn output(&self, job: &str, key: &str) -> String {
        to_text(self.record(job).outputs.get(key).unwrap_or(&Value::Null))
    }

    /// Where an uploaded artifact's files are kept.
    fn artifact(&self, name: &str) -> PathBuf {
        self.dir.join("artifacts").join(name)
    }

    /// Every job's result, for messages.
    fn summary(&self) -> String {
        self.records
            .iter()
            .map(|(name, r)| format!("### job {name}: {}\n{}\n", r.result, r.log()))
            .collect()
    }

    /// `needs` as a job's expressions see it: its direct needs only.
    fn needs_context(&self, name: &str) -> Value {
        let mut needs = Map::new();
        for need in self.needs(name) {
            let record = self
                .records
                .get(&need)
                .unwrap_or_else(|| panic!("{name} would run before {need}, which it needs"));
            needs.insert(
                need,
                json!({ "result": record.result, "outputs": record.outputs }),
            );
        }
        Value::Object(needs)
    }

    /// Whether the job runs: its `if:` (implicitly `success() && …` when
    /// it calls no status function), or `success()` without one.
    fn condition(&self, name: &str) -> bool {
        let text = match &self.job_def(name)["if"] {
            Value::Null => "success()".to_string(),
            Value::String(s) => s
                .trim()
                .strip_prefix("${{")
                .and_then(|s| s.strip_suffix("}}"))
                .unwrap_or(s)
                .to_string(),
            other => panic!("{name}: if {other}"),
        };
        let mut expr = Parser::parse(&text);
        if !has_status_call(&expr) {
            expr = Expr::And(
                Box::new(Expr::Call("success".into(), vec![])),
                Box::new(expr),
            );
        }
        let ctx = Ctx {
            contexts: json!({ "github": { "event": self.event }, "needs": self.needs_context(name) }),
            status: true,
        };
        truthy(&ctx.eval(&expr))
    }

    fn run_job(&mut self, name: &str) {
        assert!(!self.records.contains_key(name), "{name} ran twice");
        let job = self.job_def(name).clone();
        check_keys(
            &job,
            &[
                "name",
                "needs",
                "runs-on",
                "timeout-minutes",
                "permissions",
                "outputs",
                "env",
                "steps",
                "environment",
                "if",
            ],
            &format!("job {name}"),
        );
        if !self.condition(name) {
            self.records.insert(
                name.to_string(),
                JobRecord {
                    result: "skipped",
                    outputs: Map::new(),
                    steps: vec![],
                },
            );
            return;
        }
        let steps = job["steps"].as_array().expect("steps").clone();
        let compiles = steps
            .iter()
            .filter_map(|s| s["run"].as_str())
            .flat_map(str::lines)
            .any(|l| l.trim_start().starts_with("cargo "));
        let _target = compiles.then(|| TARGET_LOCK.lock().unwrap_or_else(|e| e.into_inner()));

        let root = self
            .dir
            .join("jobs")
            .join(self.attempt.to_string())
            .join(name);
        let (workspace, temp, files) = (root.join("work"), root.join("temp"), root.join("files"));
        for d in [&workspace, &temp, &files] {
            fs::create_dir_all(d).expect("job directories");
        }
        let mut env = self.runner_env(name, &job, &root);
        let base_path = env.get("PATH").cloned().unwrap_or_default();
        let github = json!({ "event": self.event });
        let runner = json!({ "temp": path_str(&temp) });
        let needs = self.needs_context(name);
        let top = Ctx {
            contexts: json!({ "github": github }),
            status: false,
        };
        for (k, v) in self.wf["env"].as_object().cloned().unwrap_or_default() {
            env.insert(k, interpolate(&v, &top));
        }
        let job_ctx = Ctx {
            contexts: json!({ "github": github, "needs": needs }),
            status: false,
        };
        for (k, v) in job["env"].as_object().cloned().unwrap_or_default() {
            env.insert(k, interpolate(&v, &job_ctx));
        }

        // Every step id, with no outputs until the step writes some.
        let mut step_outputs = Map::new();
        for step in &steps {
            if let Some(id) = step["id"].as_str() {
                step_outputs.insert(id.to_string(), json!({ "outputs": {} }));
            }
        }
        let deadline = Instant::now()
            + Duration::from_secs(60 * job["timeout-minutes"].as_u64().unwrap_or(360));
        let mut added_env: Vec<(String, String)> = Vec::new();
        let mut added_path: Vec<String> = Vec::new();
        let mut records = Vec::new();
        let mut failed = false;
        for (n, step) in steps.iter().enumerate() {
            check_keys(
                step,
                &[
                    "name",
                    "id",
                    "uses",
                    "with",
                    "run",
                    "env",
                    "working-directory",
                ],
                &format!("job {name}, step {}", n + 1),
            );
            let label = step_label(step);
            if failed {
                records.push(StepRecord {
                    name: label,
                    outcome: "skipped",
                    log: String::new(),
                    took: Duration::ZERO,
                });
                continue;
            }
            let ctx = Ctx {
                contexts: json!({
                    "github": github,
                    "needs": needs,
                    "steps": step_outputs,
                    "runner": runner,
                }),
                status: false,
            };
            let mut step_env = env.clone();
            step_env.extend(added_env.iter().cloned());
            for (k, v) in step["env"].as_object().cloned().unwrap_or_default() {
                step_env.insert(k, interpolate(&v, &ctx));
            }
            let path: Vec<String> = added_path
                .iter()
                .rev()
                .cloned()
                .chain([base_path.clone()])
                .collect();
            step_env.insert("PATH".into(), path.join(":"));
            let commands = [
                ("GITHUB_OUTPUT", "output"),
                ("GITHUB_ENV", "env"),
                ("GITHUB_PATH", "path"),
                ("GITHUB_STEP_SUMMARY", "summary"),
            ]
            .map(|(var, kind)| {
                let file = files.join(format!("{kind}-{n}"));
                fs::write(&file, "").expect("a step's command file");
                step_env.insert(var.into(), path_str(&file).into());
                file
            });
            let started = Instant::now();
            let outcome = match (step["uses"].as_str(), step["run"].as_str()) {
                (Some(uses), None) => {
                    let with: Map<String, Value> = step["with"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| {
                            let text = interpolate(&v, &ctx);
                            (k, Value::String(text))
                        })
                        .collect();
                    self.action(uses, &with, &workspace, &step_env, compiles)
                }
                (None, Some(script)) => {
                    let dir = match step["working-directory"].as_str() {
                        Some(d) => workspace.join(interpolate(&json!(d), &ctx)),
                        None => workspace.clone(),
                    };
                    run_script(script, &dir, &temp, n, &step_env, deadline)
                }
                _ => panic!("job {name}, step {label}: exactly one of uses: and run:"),
            };
            // File commands, read after the step as the runner does.
            let outputs = read_pairs(&commands[0]);
            if let Some(id) = step["id"].as_str() {
                step_outputs[id]["outputs"] = Value::Object(
                    outputs
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect(),
                );
            }
            added_env.extend(read_pairs(&commands[1]));
            added_path.extend(
                fs::read_to_string(&commands[2])
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            );
            let (outcome, log) = match outcome {
                Ok(log) => ("success", log),
                Err(log) => ("failure", log),
            };
            failed = outcome == "failure";
            records.push(StepRecord {
                name: label,
                outcome,
                log,
                took: started.elapsed(),
            });
        }
        // Job outputs, from whatever the steps wrote, even on failure.
        let ctx = Ctx {
            contexts: json!({ "github": github, "needs": needs, "steps": step_outputs, "runner": runner }),
            status: false,
        };
        let outputs = job["outputs"]
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(interpolate(&v, &ctx))))
            .collect();
        self.records.insert(
            name.to_string(),
            JobRecord {
                result: if failed { "failure" } else { "success" },
                outputs,
                steps: records,
            },
        );
    }

    /// What the runner puts in a job's environment before `env:`.
    fn runner_env(&self, name: &str, job: &Value, root: &Path) -> BTreeMap<String, String> {
        let (workspace, temp) = (root.join("work"), root.join("temp"));
        // No git configuration but what the job sets: no identity from
        // this machine's ~/.gitconfig (a runner has none).
        let gitconfig = root.join("gitconfig");
        fs::write(&gitconfig, "").expect("gitconfig");

        // The runner's environment.
        let mut env: BTreeMap<String, String> = KEPT_VARS
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let tag = &self.tag;
        for (k, v) in [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_EVENT_NAME", "release".into()),
            ("GITHUB_EVENT_PATH", path_str(&self.event_path).into()),
            ("GITHUB_REF", format!("refs/tags/{tag}")),
            ("GITHUB_REF_NAME", tag.clone()),
            ("GITHUB_REF_TYPE", "tag".into()),
            ("GITHUB_REPOSITORY", "o/r".into()),
            ("GITHUB_WORKFLOW", "CD".into()),
            ("GITHUB_RUN_ATTEMPT", self.attempt.to_string()),
            ("GITHUB_JOB", name.into()),
            ("GITHUB_WORKSPACE", path_str(&workspace).into()),
            ("RUNNER_TEMP", path_str(&temp).into()),
            ("RUNNER_OS", "Linux".into()),
            ("GIT_CONFIG_GLOBAL", path_str(&gitconfig).into()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            // This machine's stand-ins (see the file's header).
            ("XTASK_TOOLS_DIR", path_str(&harness::tools_dir()).into()),
            (
                "TWINE_REPOSITORY_URL",
                format!("{}/", self.fx.exchange.url()),
            ),
            ("XTASK_INDEX_URL", self.fx.index.simple_url()),
            ("XTASK_VERIFY_TIMEOUT", "20".into()),
        ] {
            env.insert(k.to_string(), v);
        }
        // GITHUB_ACTIONS=true as on GitHub, so the xtask masks, annotates
        // and (in the publish job) publishes the trusted way: only a job
        // with `id-token: write` gets the ID-token request variables, and
        // the token it gets names the job's `environment:`; the exchange
        // mints only for the trusted one. No job gets TWINE_PASSWORD.
        if job["permissions"]["id-token"] == "write" {
            let environment = job["environment"].as_str().unwrap_or_default();
            env.insert(
                "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
                format!(
                    "{}/id-token?api-version=2.0&environment={environment}&tag={tag}",
                    self.fx.exchange.url()
                ),
            );
            env.insert(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                REQUEST_TOKEN.into(),
            );
        }
        env
    }

    /// The actions cd.yml uses, each done the way it matters here; any
    /// other action is a test failure.
    fn action(
        &self,
        uses: &str,
        with: &Map<String, Value>,
        workspace: &Path,
        env: &BTreeMap<String, String>,
        compiles: bool,
    ) -> Result<String, String> {
        let action = uses.split('@').next().unwrap_or(uses);
        let get = |k: &str| with.get(k).and_then(Value::as_str).map(str::to_string);
        let keys = |allowed: &[&str]| {
            for k in with.keys() {
                assert!(
                    allowed.contains(&k.as_str()),
                    "{action}: this runner does not know `with.{k}`"
                );
            }
        };
        let under = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                workspace.join(p)
            }
        };
        match action {
            "actions/checkout" => {
                keys(&["ref", "fetch-depth", "path", "persist-credentials"]);
                let dest = workspace.join(get("path").unwrap_or_default());
                let reference = get("ref").expect("every checkout in cd.yml names its ref");
                let depth: u64 =
                    get("fetch-depth").map_or(1, |d| d.parse().expect("fetch-depth is a number"));
                let persist = get("persist-credentials").is_none_or(|p| p == "true");
                let log = self.checkout(&dest, &reference, depth, persist, env)?;
                if compiles {
                    fs::create_dir_all(cargo_target()).map_err(|e| e.to_string())?;
                    std::os::unix::fs::symlink(cargo_target(), dest.join("target"))
                        .map_err(|e| format!("linking target/: {e}"))?;
                }
                Ok(log)
            }
            "actions/setup-python" => {
                keys(&["python-version"]);
                Ok("(the machine's Python and the managed tools stand in)".into())
            }
            "actions/upload-artifact" => {
                keys(&[
                    "name",
                    "path",
                    "if-no-files-found",
                    "overwrite",
                    "retention-days",
                ]);
                let name = get("name").expect("an artifact name");
                let from = under(&get("path").expect("an artifact path"));
                let store = self.artifact(&name);
                if store.exists() {
                    if get("overwrite").as_deref() != Some("true") {
                        return Err(format!("an artifact named {name} exists already"));
                    }
                    fs::remove_dir_all(&store).map_err(|e| e.to_string())?;
                }
                let files = if from.is_file() {
                    let file = from.file_name().expect("a file name");
                    copy_plain(&from, &store.join(file))?;
                    1
                } else if from.is_dir() {
                    copy_tree(&from, &store)?
                } else {
                    0
                };
                if files == 0 {
                    let error = get("if-no-files-found").as_deref() == Some("error");
                    let message = format!("no files were found at {}", from.display());
                    return if error { Err(message) } else { Ok(message) };
                }
                Ok(format!("uploaded {files} file(s) as {name}"))
            }
            "actions/download-artifact" => {
                keys(&["name", "path"]);
                let name = get("name").expect("an artifact name");
                let store = self.artifact(&name);
                if !store.is_dir() {
                    return Err(format!("Unable to download artifact(s): {name} not found"));
                }
                let dest = under(&get("path").unwrap_or_default());
                let files = copy_tree(&store, &dest)?;
                Ok(format!("downloaded {files} file(s) of {name}"))
            }
            other => panic!("this runner does not stand in for the action {other}"),
        }
    }

    /// actions/checkout: a fresh repository fetching from the remote with
    /// the action's refspecs, then the ref checked out (a branch as a local
    /// branch tracking origin's, a commit detached).
    fn checkout(
        &self,
        dest: &Path,
        reference: &str,
        depth: u64,
        persist: bool,
        env: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        if dest.exists() {
            fs::remove_dir_all(dest).map_err(|e| e.to_string())?;
        }
        fs::create_dir_all(dest).map_err(|e| e.to_string())?;
        let url = format!("file://{}", path_str(&self.fx.sandbox.remote));
        let is_commit = reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit());
        let mut log = String::new();
        let mut git_step = |args: &[&str]| -> Result<(), String> {
            let out = Command::new("git")
                .args(args)
                .current_dir(dest)
                .env_clear()
                .envs(env)
                .output()
                .map_err(|e| e.to_string())?;
            log.push_str(&format!(
                "$ git {}\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
            if out.status.success() {
                Ok(())
            } else {
                Err(log.clone())
            }
        };
        git_step(&["init", "-q"])?;
        git_step(&["remote", "add", "origin", &url])?;
        if !persist {
            // No token on disk: a push from this checkout is refused.
            git_step(&[
                "config",
                "remote.origin.pushurl",
                "file:///no-credentials-persisted",
            ])?;
        }
        let branch_spec = format!("+refs/heads/{reference}:refs/remotes/origin/{reference}");
        let depth_arg = format!("--depth={depth}");
        if depth == 0 {
            git_step(&[
                "fetch",
                "-q",
                "--prune",
                "--no-recurse-submodules",
                "origin",
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ])?;
        } else if is_commit {
            git_step(&["fetch", "-q", "--no-tags", &depth_arg, "origin", reference])?;
        } else {
            git_step(&[
                "fetch",
                "-q",
                "--no-tags",
                &depth_arg,
                "origin",
                &branch_spec,
            ])?;
        }
        if is_commit {
            git_step(&["checkout", "-q", "--force", reference])?;
        } else {
            let start = format!("refs/remotes/origin/{reference}");
            git_step(&["checkout", "-q", "--force", "-B", reference, &start])?;
        }
        Ok(log)
    }
}

/// `CD_JOBS_SHOW_LOG=1` prints every job's log (with `--nocapture`).
impl Drop for Runner<'_> {
    fn drop(&mut self) {
        if std::env::var_os("CD_JOBS_SHOW_LOG").is_some() {
            println!("{}", self.summary());
        }
    }
}

/// Panics on a key this runner does not know how to honour.
fn check_keys(value: &Value, allowed: &[&str], what: &str) {
    for key in value.as_object().expect("a mapping").keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{what}: this runner does not know `{key}`; teach it before relying on it"
        );
    }
}

fn step_label(step: &Value) -> String {
    step["name"]
        .as_str()
        .or_else(|| step["uses"].as_str())
        .or_else(|| step["run"].as_str().and_then(|r| r.lines().next()))
        .unwrap_or("?")
        .to_string()
}

/// A `run:` step: the script in a file, run by
/// `bash --noprofile --norc -eo pipefail FILE` (the runner's `bash` shell)
/// in its own process group, so a timeout stops everything it started.
fn run_script(
    script: &str,
    dir: &Path,
    temp: &Path,
    n: usize,
    env: &BTreeMap<String, String>,
    deadline: Instant,
) -> Result<String, String> {
    let file = temp.join(format!("step-{n}.sh"));
    fs::write(&file, format!("{script}\n")).expect("writing the step's script");
    let log_path = temp.join(format!("step-{n}.log"));
    let log = fs::File::create(&log_path).expect("a step log");
    let mut child = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&file)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting bash in {}: {e}", dir.display()))?;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the step") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(text),
        Some(s) => Err(format!("{text}\n[{s}]")),
        None => Err(format!("{text}\n[the job's timeout-minutes ran out]")),
    }
}

/// `name=value` lines and `name<<DELIMITER` blocks of a file command.
fn read_pairs(file: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(file).unwrap_or_default();
    let mut pairs = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delimiter)) = line.split_once("<<") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            pairs.push((name.to_string(), body.join("\n")));
        } else {
            let (name, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("a file command line without `=`: {line}"));
            pairs.push((name.to_string(), value.to_string()));
        }
    }
    pairs
}

/// Copies a file as an artifact does: bytes only, no executable bit.
fn copy_plain(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to.parent().expect("a parent")).map_err(|e| e.to_string())?;
    fs::copy(from, to).map_err(|e| format!("copying {}: {e}", from.display()))?;
    fs::set_permissions(to, fs::Permissions::from_mode(0o644)).map_err(|e| e.to_string())
}

/// Copies a directory's files (recursively) as plain files; returns how many.
fn copy_tree(from: &Path, to: &Path) -> Result<usize, String> {
    let mut count = 0;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            count += copy_tree(&path, &dest)?;
        } else {
            copy_plain(&path, &dest)?;
            count += 1;
        }
    }
    Ok(count)
}

fn sha256_of(path: &Path) -> String {
    let out = harness::run_ok(Command::new("sha256sum").arg(path));
    out.split_whitespace()
        .next()
        .expect("sha256sum output")
        .to_string()
}

/// Appends a byte to a file: the artifact is no longer what was recorded.
fn tamper(path: &Path) {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("opening {} to tamper with it: {e}", path.display()));
    file.write_all(b"\n").expect("tampering");
}

// ---------------------------------------------------------------------------
// The tests.

#[test]
fn the_runner_reads_what_cd_uses_and_refuses_what_it_does_not_know() {
    let ctx = Ctx {
        contexts: json!({
            "github": {"event": {"release": {"tag_name": "v1.2.0"}}},
            "needs": {
                "a": {"result": "success", "outputs": {"x": "true"}},
                "b": {"result": "failure", "outputs": {}},
            },
            "steps": {"s": {"outputs": {"release-commit": "abc"}}},
        }),
        status: true,
    };
    let eval = |t: &str| ctx.eval(&Parser::parse(t));
    assert_eq!(eval("github.event.release.tag_name"), json!("v1.2.0"));
    assert_eq!(eval("steps.s.outputs['release-commit']"), json!("abc"));
    assert_eq!(eval("steps.s.outputs.missing"), Value::Null);
    assert_eq!(eval("needs.*.result"), json!(["success", "failure"]));
    assert_eq!(eval("needs.a.outputs.x != 'TRUE'"), json!(false));
    assert_eq!(eval("needs.b.outputs.x != 'true'"), json!(true));
    assert_eq!(
        eval("always() && (contains(needs.*.result, 'failure') || contains(needs.*.result, 'cancelled'))"),
        json!(true)
    );
    assert_eq!(eval("success()"), json!(false));
    assert_eq!(eval("!failure()"), json!(false));
    for unknown in [
        "needs.c.result",
        "steps.t.outputs.x",
        "runner.os",
        "env.TAG",
        "github.sha",
        "format('{0}', 1)",
        "needs.a.outputs.x < 'y'",
    ] {
        let refused = std::panic::catch_unwind(|| {
            ctx.eval(&Parser::parse(unknown));
        });
        assert!(refused.is_err(), "`{unknown}` should be refused");
    }
    let dir = harness::TempDir::new("cd-jobs-pairs");
    let pairs = dir.path().join("pairs");
    fs::write(&pairs, "a=1\nlong<<EOF\nx\ny=z\nEOF\nb=2=3\n").expect("writing");
    assert_eq!(
        read_pairs(&pairs),
        [("a", "1"), ("long", "x\ny=z"), ("b", "2=3")].map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[test]
fn cd_jobs_release_a_tag_as_written() {
    let fx = Fixture::new();
    let mut run = Runner::new(&fx);
    run.run_remaining();
    let all = run.summary();
    for job in ["xtask", "commits", "build", "publish", "docs"] {
        assert_eq!(run.result(job), "success", "{job}:\n{all}");
    }
    // Nothing failed, so revert's condition is false: skipped.
    assert_eq!(run.result("revert"), "skipped", "{all}");

    // The xtask the jobs ran is the one the xtask job compiled and recorded.
    let recorded = run.output("xtask", "sha256");
    assert_eq!(recorded.len(), 64, "{all}");
    assert_eq!(sha256_of(&run.artifact("xtask").join("xtask")), recorded);

    // root holds the changelog and version commits; the release commit
    // the commits job recorded has both.
    let tag = &fx.tag;
    let subjects = git(&fx.sandbox.remote, &["log", "-2", "--format=%s", "root"]);
    assert_eq!(
        subjects,
        format!(
            "Release {tag}: version {}\nRelease {tag}: changelog",
            fx.version
        ),
        "{all}"
    );
    let commit = run.output("commits", "commit");
    assert_eq!(commit, git(&fx.sandbox.remote, &["rev-parse", "root"]));
    let log = fx.remote_file(&commit, "CHANGELOG.md");
    assert!(log.contains(&format!("\n## {tag}\n")), "{log}");
    assert!(!log.contains("## Recent Changes"), "{log}");
    assert!(fx
        .remote_file(&commit, "pyproject.toml")
        .contains(&format!("version = \"{}\"", fx.version)));

    // The index lists the sdist and the wheel, with the sha256 the build
    // job recorded; they went up with the token the exchange minted.
    let expected: BTreeMap<String, String> = run
        .output("build", "sha256")
        .split(',')
        .map(|pair| {
            let (file, sha) = pair.split_once('=').expect("FILE=SHA256");
            (file.to_string(), sha.to_string())
        })
        .collect();
    let listed: BTreeMap<String, String> = fx
        .index
        .files()
        .into_iter()
        .map(|f| {
            let sha = sha256_of(&fx.index.packages.join(&f));
            (f, sha)
        })
        .collect();
    assert_eq!(listed, expected, "{all}");
    let names: Vec<&String> = listed.keys().collect();
    assert!(
        names.len() == 2
            && names
                .iter()
                .any(|n| n.ends_with(&format!("{}.tar.gz", fx.version)))
            && names.iter().any(|n| n.ends_with("-py3-none-any.whl")),
        "{names:?}"
    );
    let minted = format!(
        "Basic {}",
        stub::base64(format!("__token__:{MINTED}").as_bytes())
    );
    let uploads: Vec<_> = fx
        .exchange
        .seen()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/")
        .collect();
    assert_eq!(uploads.len(), 2, "{all}");
    assert!(uploads
        .iter()
        .all(|r| r.header("authorization") == Some(minted.as_str())));
    // The minted token is masked before it shows anywhere else.
    let publish = run.record("publish").log();
    assert!(
        publish.contains(&format!("::add-mask::{MINTED}")),
        "{publish}"
    );
    for job in run.records.values() {
        for line in job.log().lines().filter(|l| l.contains(MINTED)) {
            assert!(line.starts_with("::add-mask::"), "leaked: {line}");
        }
    }
    // The commits job validated without upload credentials, by design.
    let commits = run.record("commits").log();
    assert!(
        commits.contains("upload credentials: none in this job (by design)"),
        "{commits}"
    );

    // The docs branch has the series, named latest-release.
    let series = fx.version.rsplit_once('.').expect("X.Y.Z").0.to_string();
    assert_eq!(
        fx.sandbox.remote_docs_versions(),
        vec![(series, vec!["latest-release".to_string()])],
        "{all}"
    );
}

#[test]
fn a_tampered_xtask_binary_stops_the_job_before_it_runs() {
    let fx = Fixture::new();
    let mut run = Runner::new(&fx);
    run.run_through("xtask");
    assert_eq!(run.result("xtask"), "success", "{}", run.summary());
    let before = fx.remote_refs();

    tamper(&run.artifact("xtask").join("xtask"));
    run.run_remaining();
    let all = run.summary();

    // The commits job stops at the check: no xtask line ran after it.
    let commits = run.record("commits");
    assert_eq!(commits.result, "failure", "{all}");
    let failed = commits.failed_step().expect("a failed step");
    assert_eq!(
        failed.name, "Check the xtask against the xtask job's sha256",
        "{all}"
    );
    assert!(failed.log.contains("did NOT match"), "{all}");
    let after: Vec<&str> = commits
        .steps
        .iter()
        .skip_while(|s| s.outcome != "failure")
        .skip(1)
        .map(|s| s.outcome)
        .collect();
    assert!(
        !after.is_empty() && after.iter().all(|o| *o == "skipped"),
        "{all}"
    );
    for job in ["build", "publish", "docs"] {
        assert_eq!(run.result(job), "skipped", "{job}: {all}");
    }
    // revert's condition holds (a need failed, publishing never started),
    // and it refuses the same binary at its own check.
    let revert = run.record("revert");
    assert_eq!(revert.result, "failure", "{all}");
    assert_eq!(
        revert.failed_step().map(|s| s.name.as_str()),
        Some("Check the xtask against the xtask job's sha256"),
        "{all}"
    );
    assert_eq!(fx.remote_refs(), before, "the remote changed:\n{all}");
    assert!(fx.index.files().is_empty(), "{:?}", fx.index.files());
}

#[test]
fn a_tampered_dist_artifact_is_refused_before_publishing() {
    let fx = Fixture::new();
    let mut run = Runner::new(&fx);
    run.run_through("build");
    for job in ["xtask", "commits", "build"] {
        assert_eq!(run.result(job), "success", "{job}:\n{}", run.summary());
    }
    let tag = &fx.tag;
    assert!(fx
        .remote_file("root", "CHANGELOG.md")
        .contains(&format!("\n## {tag}\n")));
    let wheel = fs::read_dir(run.artifact("dist"))
        .expect("the dist artifact")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel in the dist artifact");
    tamper(&wheel);

    run.run_through("publish");
    let all = run.summary();
    let publish = run.record("publish");
    assert_eq!(publish.result, "failure", "{all}");
    let failed = publish.failed_step().expect("a failed step");
    assert_eq!(
        failed.name, "Check the files against the build job's sha256",
        "{all}"
    );
    assert!(
        failed
            .log
            .contains("::error::the received files differ from the build job's sha256"),
        "{all}"
    );
    assert_eq!(run.output("publish", "started"), "", "{all}");
    assert!(fx.index.files().is_empty(), "{:?}", fx.index.files());
    assert!(fx.exchange.seen().is_empty(), "nothing reached the index");

    // Publishing never started: revert's condition holds, docs is skipped.
    assert!(run.condition("revert"), "{all}");
    run.run_remaining();
    let all = run.summary();
    assert_eq!(run.result("docs"), "skipped", "{all}");
    assert_eq!(run.result("revert"), "success", "{all}");
    // The remote's changelog is the tagged one again: `## Recent Changes`.
    assert_eq!(
        fx.remote_file("root", "CHANGELOG.md"),
        fx.remote_file(tag, "CHANGELOG.md"),
        "{all}"
    );
    assert!(fx
        .remote_file("root", "CHANGELOG.md")
        .contains("\n## Recent Changes\n"));
    assert_eq!(
        git(&fx.sandbox.remote, &["log", "-1", "--format=%s", "root"]),
        format!("Revert the {tag} changelog heading: not published")
    );
    assert!(fx.index.files().is_empty());
}

// ---------------------------------------------------------------------------
// Re-runs and releases close together: what maintainers meet with GitHub's
// "Re-run all jobs" / "Re-run failed jobs" and with two tags at once.

/// The index's files (of every version) with the sha256 of their bytes.
fn index_files(fx: &Fixture) -> BTreeMap<String, String> {
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
fn recorded_files(run: &Runner) -> BTreeMap<String, String> {
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
fn uploads(fx: &Fixture) -> usize {
    fx.exchange
        .seen()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/")
        .count()
}

fn remote_rev(fx: &Fixture, rev: &str) -> String {
    git(&fx.sandbox.remote, &["rev-parse", rev])
}

/// Each job's result, in the workflow's order.
fn results(run: &Runner) -> Vec<(String, &'static str)> {
    run.order()
        .into_iter()
        .filter(|j| run.records.contains_key(j))
        .map(|j| {
            let r = run.result(&j);
            (j, r)
        })
        .collect()
}

fn assert_released(run: &Runner) {
    let all = run.summary();
    for job in ["xtask", "commits", "build", "publish", "docs"] {
        assert_eq!(run.result(job), "success", "{job}:\n{all}");
    }
    assert_eq!(run.result("revert"), "skipped", "{all}");
}

/// The log of one step of a job.
fn step_log(run: &Runner, job: &str, step: &str) -> String {
    run.record(job)
        .steps
        .iter()
        .find(|s| s.name == step)
        .unwrap_or_else(|| panic!("{job} has no step {step}:\n{}", run.summary()))
        .log
        .clone()
}

/// The maintainer's clone, up to date with the remote's root.
fn pull(fx: &Fixture) {
    git(
        &fx.sandbox.work,
        &["pull", "-q", "--ff-only", "origin", "root"],
    );
}

#[test]
fn rerunning_a_released_workflow_is_a_no_op_even_after_root_moved_on() {
    let fx = Fixture::new();
    let tag = fx.tag.clone();
    let mut run = Runner::new(&fx);
    run.run_remaining();
    assert_released(&run);
    let release_commit = run.output("commits", "commit");
    let files = recorded_files(&run);
    assert_eq!(index_files(&fx), files, "{}", run.summary());
    let (refs, sent) = (fx.remote_refs(), uploads(&fx));
    assert_eq!(sent, 2);
    let docs = remote_rev(&fx, "docs");

    // 1. "Re-run all jobs", same event: every job succeeds doing nothing.
    run.rerun_all();
    run.run_remaining();
    assert_released(&run);
    let all = run.summary();
    assert!(
        step_log(&run, "commits", "Validate").contains(&format!("{tag} is already released")),
        "{all}"
    );
    assert_eq!(run.output("commits", "commit"), release_commit, "{all}");
    // The same tagged source builds the same bytes.
    assert_eq!(recorded_files(&run), files, "{all}");
    assert!(
        step_log(&run, "publish", "Publish").contains("every file is already on the index"),
        "{all}"
    );
    // No commit on root, no tag, no docs commit: the docs job rebuilt the
    // series' pages, found them identical and pushed nothing.
    assert_eq!(fx.remote_refs(), refs, "the remote changed:\n{all}");
    assert_eq!(remote_rev(&fx, "docs"), docs);
    assert!(
        step_log(&run, "docs", "Deploy the docs").contains("unchanged: nothing to push"),
        "{all}"
    );
    assert_eq!(uploads(&fx), sent, "a re-run uploaded:\n{all}");
    assert_eq!(index_files(&fx), files);

    // 2. A pull request lands on root after the release: a changelog entry
    // and a code change. Re-running the release is still a no-op.
    pull(&fx);
    add_changelog_entry(&fx.sandbox.work, "A late entry merged after the release");
    let code = fx.sandbox.work.join("src/mindoff_dataport/__init__.py");
    let mut text = fs::read_to_string(&code).expect("reading __init__.py");
    text.push_str("\n# changed after the release\n");
    fs::write(&code, text).expect("writing __init__.py");
    fx.sandbox
        .commit_and_push("A change merged after the release");
    let merged = remote_rev(&fx, "root");
    let refs = fx.remote_refs();

    run.rerun_all();
    run.run_remaining();
    assert_released(&run);
    let all = run.summary();
    assert_eq!(run.output("commits", "commit"), release_commit, "{all}");
    assert_eq!(recorded_files(&run), files, "{all}");
    assert_eq!(fx.remote_refs(), refs, "the remote changed:\n{all}");
    assert_eq!(remote_rev(&fx, "root"), merged);
    assert_eq!(remote_rev(&fx, "docs"), docs, "{all}");
    assert_eq!(uploads(&fx), sent, "a re-run uploaded:\n{all}");
    assert_eq!(index_files(&fx), files);
    // The late entry stays under `## Recent Changes`, above the release.
    let log = fx.remote_file("root", "CHANGELOG.md");
    let recent = log
        .find("\n## Recent Changes\n")
        .expect("## Recent Changes");
    let entry = log
        .find("A late entry merged after the release")
        .expect("the late entry");
    let released = log.find(&format!("\n## {tag}\n")).expect("the release");
    assert!(recent < entry && entry < released, "{log}");
}

#[test]
fn publish_failing_midway_completes_with_rerun_failed_jobs() {
    let fx = Fixture::new();
    // The index takes the first file, then fails (503) on the second.
    fx.refuse_uploads_from.store(2, Ordering::SeqCst);
    let mut run = Runner::new(&fx);
    run.run_remaining();
    let all = run.summary();
    for job in ["xtask", "commits", "build"] {
        assert_eq!(run.result(job), "success", "{job}:\n{all}");
    }
    let publish = run.record("publish");
    assert_eq!(publish.result, "failure", "{all}");
    assert_eq!(
        publish.failed_step().map(|s| s.name.as_str()),
        Some("Publish"),
        "{all}"
    );
    assert_eq!(run.output("publish", "started"), "true", "{all}");
    // Published (one file accepted): never reverted; docs wait.
    assert_eq!(run.result("docs"), "skipped", "{all}");
    assert_eq!(run.result("revert"), "skipped", "{all}");
    let files = recorded_files(&run);
    let on_index = index_files(&fx);
    assert_eq!(on_index.len(), 1, "{all}");
    assert!(
        on_index.iter().all(|(f, sha)| files.get(f) == Some(sha)),
        "{on_index:?} vs {files:?}"
    );
    let failed = step_log(&run, "publish", "Publish");
    assert!(failed.contains("it is published, not reverted"), "{failed}");
    let release_commit = run.output("commits", "commit");
    let refs = fx.remote_refs();
    let sent = uploads(&fx);
    let first = (run.output("xtask", "sha256"), run.output("build", "sha256"));

    // The index recovers; "Re-run failed jobs": publish and what needs it,
    // with the xtask, commits and build jobs' outputs as they were.
    fx.refuse_uploads_from.store(usize::MAX, Ordering::SeqCst);
    run.rerun_failed();
    assert_eq!(
        results(&run),
        [
            ("xtask", "success"),
            ("commits", "success"),
            ("build", "success")
        ]
        .map(|(j, r)| (j.to_string(), r)),
        "only the failed job and its dependents run again"
    );
    run.run_remaining();
    assert_released(&run);
    let all = run.summary();
    assert_eq!(
        (run.output("xtask", "sha256"), run.output("build", "sha256")),
        first
    );
    assert!(
        step_log(&run, "publish", "Publish").contains("uploaded 1 file(s)"),
        "{all}"
    );
    // Both files once, with the recorded sha256; the re-run sent only the
    // missing one.
    assert_eq!(index_files(&fx), files, "{all}");
    assert_eq!(uploads(&fx), sent + 1, "{all}");
    // root: the release commits only, nothing reverted; docs deployed.
    let tag = &fx.tag;
    assert_eq!(remote_rev(&fx, "root"), release_commit);
    assert!(fx
        .remote_file("root", "CHANGELOG.md")
        .contains(&format!("\n## {tag}\n")));
    let series = fx.version.rsplit_once('.').expect("X.Y.Z").0.to_string();
    assert_eq!(
        fx.sandbox.remote_docs_versions(),
        vec![(series, vec!["latest-release".to_string()])],
        "{all}"
    );
    // Only the docs branch is new on the remote.
    let before: Vec<&str> = refs.lines().collect();
    let after = fx.remote_refs();
    let new: Vec<&str> = after.lines().filter(|l| !before.contains(l)).collect();
    assert!(
        new.len() == 1 && new[0].ends_with("refs/heads/docs"),
        "{new:?}\n{all}"
    );
}

/// A pre-receive hook on the bare remote that refuses, once, a push whose
/// new root tip is a release's version commit.
fn refuse_version_push_once(fx: &Fixture) -> PathBuf {
    let marker = fx.sandbox.dir.path().join("refuse-version-push");
    fs::write(&marker, "").expect("the hook's marker");
    let hook = fx.sandbox.remote.join("hooks").join("pre-receive");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\nwhile read old new ref; do\n  if [ -f '{m}' ] && [ \"$ref\" = refs/heads/root ] \
&& git log -1 --format=%s \"$new\" | grep -q ': version '; then\n    rm -f '{m}'\n    \
echo 'the test hook refuses this push' >&2\n    exit 1\n  fi\ndone\n",
            m = path_str(&marker)
        ),
    )
    .expect("writing the hook");
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).expect("chmod the hook");
    marker
}

#[test]
fn a_refused_version_push_is_reverted_and_a_full_rerun_releases() {
    let fx = Fixture::new();
    let tag = fx.tag.clone();
    let marker = refuse_version_push_once(&fx);
    let tagged = remote_rev(&fx, &format!("{tag}^{{commit}}"));
    let mut run = Runner::new(&fx);
    run.run_remaining();
    let all = run.summary();
    assert!(!marker.exists(), "the hook never refused:\n{all}");
    let commits = run.record("commits");
    assert_eq!(commits.result, "failure", "{all}");
    assert_eq!(
        commits.failed_step().map(|s| s.name.as_str()),
        Some("Version"),
        "{all}"
    );
    assert_eq!(run.output("commits", "commit"), "", "{all}");
    for job in ["build", "publish", "docs"] {
        assert_eq!(run.result(job), "skipped", "{job}:\n{all}");
    }
    // Publishing never started: revert runs and puts the heading back.
    assert_eq!(run.result("revert"), "success", "{all}");
    let subjects = git(
        &fx.sandbox.remote,
        &["log", "--format=%s", &format!("{tagged}..root")],
    );
    assert_eq!(
        subjects,
        format!("Revert the {tag} changelog heading: not published\nRelease {tag}: changelog"),
        "{all}"
    );
    for file in ["CHANGELOG.md", "pyproject.toml"] {
        assert_eq!(
            fx.remote_file("root", file),
            fx.remote_file(&tag, file),
            "{file} on root is not the tagged one:\n{all}"
        );
    }
    assert!(fx.index.files().is_empty(), "{:?}", fx.index.files());
    assert!(
        git(&fx.sandbox.remote, &["branch", "--list", "docs"]).is_empty(),
        "{all}"
    );

    // The fault is gone; "Re-run all jobs" releases cleanly.
    run.rerun_all();
    run.run_remaining();
    assert_released(&run);
    let all = run.summary();
    let subjects = git(
        &fx.sandbox.remote,
        &["log", "--format=%s", &format!("{tagged}..root")],
    );
    assert_eq!(
        subjects,
        format!(
            "Release {tag}: version {}\nRelease {tag}: changelog\n\
Revert the {tag} changelog heading: not published\nRelease {tag}: changelog",
            fx.version
        ),
        "{all}"
    );
    assert_eq!(run.output("commits", "commit"), remote_rev(&fx, "root"));
    assert_eq!(index_files(&fx), recorded_files(&run), "{all}");
    assert_eq!(uploads(&fx), 2, "{all}");
    let log = fx.remote_file("root", "CHANGELOG.md");
    assert!(log.contains(&format!("\n## {tag}\n")), "{log}");
    assert!(!log.contains("## Recent Changes"), "{log}");
}

/// Two runs, job by job: a's xtask, b's xtask, a's commits, b's commits, …
fn interleaved(a: &mut Runner, b: &mut Runner) {
    for job in a.order() {
        a.run_pending(&job);
        b.run_pending(&job);
    }
}

#[test]
fn two_tags_published_close_together_run_interleaved() {
    let fx = Fixture::new();
    let (a_tag, a_version) = (fx.tag.clone(), fx.version.clone());
    let series = a_version.rsplit_once('.').expect("X.Y.Z").0.to_string();
    let b_version = format!("{series}.1");
    let b_tag = format!("v{b_version}");
    // A pull request lands after a's tag; b is tagged on it, and both
    // GitHub Releases are published before either run reaches its commits.
    add_changelog_entry(&fx.sandbox.work, "Merged between the two tags");
    fx.sandbox
        .commit_and_push("Changelog: merged between the two tags");
    fx.sandbox.plain_tag(&b_tag);
    let mut a = Runner::for_tag(&fx, &a_tag);
    let mut b = Runner::for_tag(&fx, &b_tag);
    interleaved(&mut a, &mut b);
    let all = format!("{}\n{}", a.summary(), b.summary());

    // a validated first, but a newer tag exists: refused, in the log.
    let commits = a.record("commits");
    assert_eq!(commits.result, "failure", "{all}");
    assert_eq!(
        commits.failed_step().map(|s| s.name.as_str()),
        Some("Validate"),
        "{all}"
    );
    let refusal = step_log(&a, "commits", "Validate");
    assert!(
        refusal.contains(&format!("{a_tag} is not newer than every release: {b_tag}")),
        "{refusal}"
    );
    for job in ["build", "publish", "docs"] {
        assert_eq!(a.result(job), "skipped", "{job}:\n{all}");
    }
    // a's revert has nothing to undo and changes nothing.
    assert_eq!(a.result("revert"), "success", "{all}");
    let revert = step_log(&a, "revert", "Revert");
    assert!(
        revert.contains(&format!("nothing to revert: `root` has no `## {a_tag}`")),
        "{revert}"
    );

    // b is released, with its own files only.
    assert_released(&b);
    let files = recorded_files(&b);
    assert!(
        files.len() == 2 && files.keys().all(|f| f.contains(&b_version)),
        "{files:?}"
    );
    assert_eq!(index_files(&fx), files, "{all}");
    let log = fx.remote_file("root", "CHANGELOG.md");
    assert!(!log.contains(&format!("## {a_tag}")), "{log}");
    assert!(!log.contains("## Recent Changes"), "{log}");
    let section = &log[log.find(&format!("\n## {b_tag}\n")).expect("b's heading")..];
    for entry in [
        "Run cd.yml job by job in the tests",
        "Merged between the two tags",
    ] {
        assert!(section.contains(entry), "{log}");
    }
    assert_eq!(b.output("commits", "commit"), remote_rev(&fx, "root"));
    assert!(fx
        .remote_file("root", "pyproject.toml")
        .contains(&format!("version = \"{b_version}\"")));
    assert_eq!(
        fx.sandbox.remote_docs_versions(),
        vec![(series, vec!["latest-release".to_string()])],
        "{all}"
    );
}

#[test]
fn a_tag_pushed_while_an_earlier_release_runs_is_published_after_it() {
    let fx = Fixture::new();
    let (a_tag, a_version) = (fx.tag.clone(), fx.version.clone());
    let series = a_version.rsplit_once('.').expect("X.Y.Z").0.to_string();
    let b_version = format!("{series}.1");
    let b_tag = format!("v{b_version}");
    let mut a = Runner::for_tag(&fx, &a_tag);
    a.run_through("commits");
    assert_eq!(a.result("commits"), "success", "{}", a.summary());
    // Right after a's release commits, a pull request lands and b is
    // tagged on it and published; from there the runs go job by job.
    pull(&fx);
    add_changelog_entry(&fx.sandbox.work, "Merged while the earlier release ran");
    fx.sandbox
        .commit_and_push("Changelog: merged while the earlier release ran");
    fx.sandbox.plain_tag(&b_tag);
    let mut b = Runner::for_tag(&fx, &b_tag);
    interleaved(&mut a, &mut b);
    let all = format!("{}\n{}", a.summary(), b.summary());
    assert_released(&a);
    assert_released(&b);

    // Each version has its own files, with its own build's sha256, and a
    // went up before b.
    let (a_files, b_files) = (recorded_files(&a), recorded_files(&b));
    assert!(
        a_files.keys().all(|f| f.contains(&format!("-{a_version}")))
            && b_files.keys().all(|f| f.contains(&format!("-{b_version}"))),
        "{a_files:?} {b_files:?}"
    );
    let mut both = a_files.clone();
    both.extend(b_files.clone());
    assert_eq!(both.len(), 4);
    assert_eq!(index_files(&fx), both, "{all}");
    let sent: Vec<String> = fx
        .exchange
        .seen()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/")
        .map(|r| {
            let body = r.body_text();
            if body.contains(&format!("-{a_version}")) {
                a_version.clone()
            } else {
                b_version.clone()
            }
        })
        .collect();
    assert_eq!(
        sent,
        [&a_version, &a_version, &b_version, &b_version].map(|v| v.to_string()),
        "{all}"
    );

    // root: a's release commits, the merge, b's release commits; each
    // run recorded its own release commit.
    let subjects = git(
        &fx.sandbox.remote,
        &["log", "--format=%s", &format!("{a_tag}..root")],
    );
    assert_eq!(
        subjects,
        format!(
            "Release {b_tag}: version {b_version}\nRelease {b_tag}: changelog\n\
Changelog: merged while the earlier release ran\n\
Release {a_tag}: version {a_version}\nRelease {a_tag}: changelog"
        ),
        "{all}"
    );
    assert_eq!(b.output("commits", "commit"), remote_rev(&fx, "root"));
    assert_eq!(
        a.output("commits", "commit"),
        remote_rev(&fx, &format!("{b_tag}^{{commit}}~1"))
    );
    let log = fx.remote_file("root", "CHANGELOG.md");
    let (b_at, a_at) = (
        log.find(&format!("\n## {b_tag}\n")).expect("b's heading"),
        log.find(&format!("\n## {a_tag}\n")).expect("a's heading"),
    );
    let late = log
        .find("Merged while the earlier release ran")
        .expect("b's entry");
    assert!(b_at < late && late < a_at, "{log}");
    assert!(!log.contains("## Recent Changes"), "{log}");
    assert_eq!(
        fx.sandbox.remote_docs_versions(),
        vec![(series, vec!["latest-release".to_string()])],
        "{all}"
    );
}
