//! GitHub integration on the real binary: the CD steps with a release
//! event payload, Actions output and annotations, the REST API (releases,
//! pull requests, rate limits, 404s) and verify over HTTPS, against a stub
//! GitHub server on 127.0.0.1 and the real pypiserver. Trusted publishing
//! is in trusted_publishing.rs.

mod harness;
mod stub;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use harness::{git, ix, output, text, with_index, Index, Sandbox, PASSWORD};
use stub::{Reply, Stub};

fn event_file(dir: &Path, action: &str, draft: bool, tag: &str, title: &str) -> PathBuf {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = dir.join(format!("event-{n}.json"));
    let event = serde_json::json!({
        "action": action,
        "release": {"draft": draft, "tag_name": tag, "name": title, "prerelease": false}
    });
    fs::write(&path, event.to_string()).expect("writing the event");
    path
}

#[test]
fn the_cd_steps_run_with_a_release_event_and_write_actions_output() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let dir = sandbox.dir.path();
    let event = event_file(dir, "published", false, "v0.7.0", "v0.7.0");
    let (summary, outputs) = (dir.join("summary.md"), dir.join("outputs.txt"));
    for step in [
        "validate",
        "changelog",
        "version",
        "build",
        "check",
        "publish",
        "verify",
    ] {
        let mut cmd = with_index(
            sandbox.xtask(&["release", "v0.7.0", "--step", step]),
            &index,
            PASSWORD,
        );
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &outputs);
        let out = output(cmd);
        let all = text(&out);
        assert!(out.status.success(), "{step}: {all}");
        assert!(
            all.contains(&format!("::group::{step}")) && all.contains("::endgroup::"),
            "{all}"
        );
        if step == "validate" {
            assert!(
                all.contains("is published with title `v0.7.0` (event payload)"),
                "{all}"
            );
        }
    }
    let summary = fs::read_to_string(&summary).expect("summary written");
    assert!(
        summary.contains("| step | time | outcome |") && summary.contains("| publish |"),
        "{summary}"
    );
    assert_eq!(index.files().len(), 2);

    // The full pipeline writes the step outputs.
    let mut cmd = with_index(sandbox.xtask(&["release", "v0.7.0"]), &index, PASSWORD);
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_OUTPUT", &outputs);
    let out = output(cmd);
    assert!(out.status.success(), "{}", text(&out));
    let written = fs::read_to_string(&outputs).expect("outputs written");
    assert!(
        written.contains("version=0.7.0\ntag=v0.7.0\nreleased=true\n"),
        "{written}"
    );
}

#[test]
fn release_events_that_break_the_rules_are_refused() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.7.0");
    let dir = sandbox.dir.path();
    for (action, draft, tag, title, message) in [
        (
            "published",
            true,
            "v0.7.0",
            "v0.7.0",
            "the release is a draft",
        ),
        (
            "published",
            false,
            "v0.7.0",
            "v0.7.0 ",
            "title is `v0.7.0 `",
        ),
        (
            "published",
            false,
            "v0.7.0",
            "Release v0.7.0",
            "must be exactly `v0.7.0`",
        ),
        (
            "published",
            false,
            "v0.7.1",
            "v0.7.1",
            "for tag `v0.7.1`, not v0.7.0",
        ),
        ("created", false, "v0.7.0", "v0.7.0", "not `published`"),
    ] {
        let event = event_file(dir, action, draft, tag, title);
        let mut cmd = sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]);
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_PATH", &event);
        let out = output(cmd);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{title:?}: {all}");
        assert!(all.contains(message), "{title:?}: {all}");
        assert!(
            all.contains("::error::validate:"),
            "annotation missing: {all}"
        );
    }
}

#[test]
fn a_changelog_refusal_is_annotated_on_its_file_and_line() {
    let sandbox = Sandbox::new();
    let path = sandbox.work.join("CHANGELOG.md");
    let log = fs::read_to_string(&path).expect("read");
    let (head, rest) = log.split_once("## v0.6.0").expect("has v0.6.0");
    let head: String = head
        .lines()
        .filter(|l| !l.starts_with("- "))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&path, format!("{head}## v0.6.0{rest}")).expect("write");
    sandbox.commit_and_push("Empty the recent changes");
    sandbox.plain_tag("v0.7.0");
    let mut cmd = sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]);
    cmd.env("GITHUB_ACTIONS", "true");
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("::error file=CHANGELOG.md,line=3::"),
        "{}",
        text(&out)
    );
}

/// A stub of the GitHub REST API for `o/r` holding at most one release.
fn github_stub(
    existing: Option<serde_json::Value>,
) -> (Stub, Arc<Mutex<Option<serde_json::Value>>>) {
    let state = Arc::new(Mutex::new(existing));
    let shared = state.clone();
    let stub = Stub::start(move |req| {
        if req.header("authorization") != Some("Bearer gh-test-token") {
            return Reply::Json(401, r#"{"message":"Bad credentials"}"#.into());
        }
        let mut release = shared.lock().expect("state");
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", p) if p.starts_with("/repos/o/r/releases/tags/") => match &*release {
                Some(r) if p.ends_with(r["tag_name"].as_str().unwrap_or("?")) => {
                    Reply::Json(200, r.to_string())
                }
                _ => Reply::Json(404, r#"{"message":"Not Found"}"#.into()),
            },
            ("GET", "/repos/o/r/releases?per_page=100&page=1") => Reply::Json(
                200,
                serde_json::Value::Array(release.iter().cloned().collect()).to_string(),
            ),
            ("POST", "/repos/o/r/releases") => {
                let mut body: serde_json::Value =
                    serde_json::from_slice(&req.body).expect("JSON body");
                body["html_url"] = "https://github.invalid/o/r/releases/1".into();
                *release = Some(body.clone());
                Reply::Json(201, body.to_string())
            }
            _ => Reply::Json(404, r#"{"message":"Not Found"}"#.into()),
        }
    });
    (stub, state)
}

fn with_github(mut cmd: Command, stub: &Stub) -> Command {
    cmd.env("GITHUB_API_URL", stub.url())
        .env("GITHUB_TOKEN", "gh-test-token")
        .env("GITHUB_REPOSITORY", "o/r");
    cmd
}

#[test]
fn tag_publishes_the_github_release_once_with_the_changelog_section() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let (stub, state) = github_stub(None);
    let out = output(with_github(
        ix(&index, &sandbox, &["tag", "v0.7.0", "--github-release"]),
        &stub,
    ));
    assert!(out.status.success(), "{}", text(&out));
    let release = state
        .lock()
        .expect("state")
        .clone()
        .expect("a release was created");
    assert_eq!(release["name"], "v0.7.0");
    assert_eq!(release["tag_name"], "v0.7.0");
    assert_eq!(release["draft"], false);
    let body = release["body"].as_str().unwrap_or_default();
    assert!(
        body.starts_with("### Enhancements\n\n- ⚡ Build and publish releases"),
        "{body}"
    );
    assert!(!body.contains("## v0.6.0"), "{body}");

    // Idempotent: a re-run accepts the existing release; the REST check passes.
    let out = output(with_github(
        ix(&index, &sandbox, &["tag", "v0.7.0", "--github-release"]),
        &stub,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("already published in o/r"),
        "{}",
        text(&out)
    );
    let posts = stub.seen().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1);
    let out = output(with_github(
        ix(
            &index,
            &sandbox,
            &["release", "v0.7.0", "--step", "validate"],
        ),
        &stub,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("(GitHub API)"), "{}", text(&out));

    // A wrong title is reported, not changed; the CD check refuses it.
    state.lock().expect("state").as_mut().expect("release")["name"] = "Release v0.7.0".into();
    let out = output(with_github(
        ix(&index, &sandbox, &["tag", "v0.7.0", "--github-release"]),
        &stub,
    ));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("is titled `Release v0.7.0`, not `v0.7.0`"),
        "{}",
        text(&out)
    );
    let out = output(with_github(
        ix(
            &index,
            &sandbox,
            &["release", "v0.7.0", "--step", "validate"],
        ),
        &stub,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(stub.seen().iter().filter(|r| r.method == "POST").count(), 1);
}

#[test]
fn without_a_release_on_github_the_rest_check_refuses() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let (stub, _) = github_stub(None);
    let out = output(with_github(
        ix(
            &index,
            &sandbox,
            &["release", "v0.7.0", "--step", "validate"],
        ),
        &stub,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no GitHub Release exists for v0.7.0 in o/r"),
        "{}",
        text(&out)
    );
    // Without a token the check is skipped, and says so.
    let out = output(ix(
        &index,
        &sandbox,
        &["release", "v0.7.0", "--step", "validate"],
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("GitHub Release check skipped"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_push_event_files_the_merged_pull_request_found_through_the_api() {
    let sandbox = Sandbox::new();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let stub = Stub::start(move |req| {
        if req.path == format!("/repos/o/r/commits/{sha}/pulls") {
            Reply::Json(
                200,
                format!(
                    r#"[{{"number":90,"title":"✨ Add XLSX export","html_url":"https://github.com/o/r/pull/90","merge_commit_sha":"{sha}","merged_at":"2026-11-25T00:00:00Z","base":{{"ref":"root"}},"labels":[{{"name":"feature"}}]}}]"#
                ),
            )
        } else {
            Reply::Json(200, "[]".into())
        }
    });
    let dir = sandbox.dir.path();
    let push = dir.join("push.json");
    fs::write(
        &push,
        format!(r#"{{"after":"{sha}","ref":"refs/heads/root"}}"#),
    )
    .expect("event");
    let mut cmd = with_github(
        sandbox.xtask(&["changelog-add", "--event", "--commit"]),
        &stub,
    );
    cmd.env("GITHUB_EVENT_PATH", &push);
    let out = output(cmd);
    assert!(out.status.success(), "{}", text(&out));
    let log = git(&sandbox.remote, &["show", "root:CHANGELOG.md"]);
    assert!(
        log.contains(
            "### Features\n\n- ✨ Add XLSX export ([#90](https://github.com/o/r/pull/90))\n"
        ),
        "{log}"
    );

    // A direct push (no pull request) adds nothing.
    let direct = dir.join("direct.json");
    fs::write(
        &direct,
        r#"{"after":"fedcba9876543210fedcba9876543210fedcba98","ref":"refs/heads/root"}"#,
    )
    .expect("event");
    let mut cmd = with_github(
        sandbox.xtask(&["changelog-add", "--event", "--commit"]),
        &stub,
    );
    cmd.env("GITHUB_EVENT_PATH", &direct);
    let out = output(cmd);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("no merged pull request"),
        "{}",
        text(&out)
    );
}

/// `changelog-add --commit` in a clone behind the remote (another run
/// pushed an entry since): the entry is written on the remote's file,
/// not on the stale one, so it does not conflict and nothing is lost.
#[test]
fn changelog_add_commit_in_a_clone_behind_the_remote_adds_to_the_remotes_file() {
    let sandbox = Sandbox::new();
    let other = sandbox.clone_as("other");
    let add = |dir: &Path, pr: &str, title: &str| {
        let url = format!("https://github.com/o/r/pull/{pr}");
        let args = [
            "changelog-add",
            "--label",
            "bug",
            "--title",
            title,
            "--pr",
            pr,
            "--url",
            &url,
            "--commit",
        ];
        output(harness::xtask_in(dir, &args))
    };
    let first = add(&other, "91", "🔧 Fix the first thing");
    assert!(first.status.success(), "{}", text(&first));
    let out = add(&sandbox.work, "92", "🔧 Fix the second thing");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("fast-forwarded"), "{}", text(&out));
    let log = git(&sandbox.remote, &["show", "root:CHANGELOG.md"]);
    assert!(log.contains("Fix the first thing ([#91]"), "{log}");
    assert!(log.contains("Fix the second thing ([#92]"), "{log}");
    assert_eq!(
        git(&sandbox.work, &["rev-parse", "root"]),
        git(&sandbox.remote, &["rev-parse", "root"])
    );
    assert!(git(&sandbox.work, &["status", "--porcelain"]).is_empty());
}

/// A GitHub stub whose first `limited` answers to the release lookup are
/// the given rate-limit answer; later ones find the published release.
fn rate_limited_stub(limited: usize, status: u16, headers: Vec<(String, String)>) -> Stub {
    let count = Arc::new(Mutex::new(0usize));
    Stub::start(move |req| {
        if req.path != "/repos/o/r/releases/tags/v0.7.0" {
            return Reply::Json(404, r#"{"message":"Not Found"}"#.into());
        }
        let mut n = count.lock().expect("count");
        *n += 1;
        if *n <= limited {
            let message = if status == 403 && headers.iter().all(|(k, _)| k != "retry-after") {
                "API rate limit exceeded for installation ID 1."
            } else {
                "You have exceeded a secondary rate limit."
            };
            return Reply::JsonWith(
                status,
                headers.clone(),
                serde_json::json!({ "message": message }).to_string(),
            );
        }
        Reply::Json(
            200,
            r#"{"id":5,"tag_name":"v0.7.0","name":"v0.7.0","draft":false,"prerelease":false}"#
                .into(),
        )
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn header(name: &str, value: impl ToString) -> (String, String) {
    (name.to_string(), value.to_string())
}

#[test]
fn rate_limits_are_waited_out_within_the_bound() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    for (name, status, headers) in [
        (
            "secondary, retry-after",
            403,
            vec![
                header("retry-after", 1),
                header("x-ratelimit-remaining", 4000),
            ],
        ),
        ("429, retry-after", 429, vec![header("retry-after", 1)]),
        (
            "primary, until the reset",
            403,
            vec![
                header("x-ratelimit-remaining", 0),
                header("x-ratelimit-reset", now() + 1),
            ],
        ),
    ] {
        let stub = rate_limited_stub(1, status, headers);
        let mut cmd = with_github(
            ix(
                &index,
                &sandbox,
                &["release", "v0.7.0", "--step", "validate"],
            ),
            &stub,
        );
        cmd.env("XTASK_GITHUB_RATE_WAIT", "10s");
        let started = std::time::Instant::now();
        let out = output(cmd);
        let all = text(&out);
        assert!(out.status.success(), "{name}: {all}");
        assert!(
            all.contains("rate limit") && all.contains("waiting"),
            "{name}: {all}"
        );
        assert!(all.contains("(GitHub API)"), "{name}: {all}");
        assert_eq!(stub.seen().len(), 2, "{name}: one wait, one retry");
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(900),
            "{name}: no wait"
        );
    }
}

#[test]
fn a_rate_limit_beyond_the_bound_fails_at_once_naming_the_limit_and_the_time() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.7.0");
    let reset = now() + 3600;
    for (status, headers, expected) in [
        (
            403,
            vec![
                header("x-ratelimit-remaining", 0),
                header("x-ratelimit-reset", reset),
            ],
            "primary rate limit",
        ),
        (
            429,
            vec![header("retry-after", 600)],
            "secondary rate limit",
        ),
    ] {
        let stub = rate_limited_stub(usize::MAX, status, headers);
        let mut cmd = with_github(
            sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
            &stub,
        );
        cmd.env("XTASK_GITHUB_RATE_WAIT", "2s");
        let started = std::time::Instant::now();
        let out = output(cmd);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(all.contains(expected), "{all}");
        assert!(all.contains(&format!("({status}")), "{all}");
        assert!(all.contains(" UTC"), "the reset time is named: {all}");
        assert!(all.contains("XTASK_GITHUB_RATE_WAIT"), "{all}");
        assert!(!all.contains("check GITHUB_TOKEN"), "{all}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "it waited anyway"
        );
        assert_eq!(stub.seen().len(), 1);
    }
    // The bound itself is read strictly.
    let stub = rate_limited_stub(0, 200, vec![]);
    let mut cmd = with_github(
        sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
        &stub,
    );
    cmd.env("XTASK_GITHUB_RATE_WAIT", "5 minutes");
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("XTASK_GITHUB_RATE_WAIT=`5 minutes` is not a duration"));
}

#[test]
fn rest_calls_name_the_api_version_and_the_client() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let stub = rate_limited_stub(0, 200, vec![]);
    let out = output(with_github(
        ix(
            &index,
            &sandbox,
            &["release", "v0.7.0", "--step", "validate"],
        ),
        &stub,
    ));
    assert!(out.status.success(), "{}", text(&out));
    let seen = stub.seen();
    let request = seen.first().expect("one call");
    assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(
        request.header("accept"),
        Some("application/vnd.github+json")
    );
    let agent = request.header("user-agent").unwrap_or_default();
    assert!(agent.starts_with("mindoff-dataport-xtask/"), "{agent}");
}

#[test]
fn a_404_is_read_as_not_visible_unless_the_release_list_proves_absence() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.7.0");
    // A token that cannot see the repository: 404 everywhere.
    let blind = Stub::start(|_| Reply::Json(404, r#"{"message":"Not Found"}"#.into()));
    let out = output(with_github(
        sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
        &blind,
    ));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("not visible with this token"), "{all}");
    assert!(!all.contains("no GitHub Release exists"), "{all}");
    // A token that sees the list: the release is absent (bad input, exit 2).
    let (stub, _) = github_stub(None);
    let out = output(with_github(
        sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
        &stub,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no GitHub Release exists for v0.7.0 in o/r"));
    // A draft is found through the list, and refused as a draft.
    let (stub, _) = github_stub(Some(serde_json::json!({
        "id": 9, "tag_name": "v0.7.0", "name": "v0.7.0", "draft": true, "prerelease": false
    })));
    let out = output(with_github(
        sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
        &stub,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("draft"), "{}", text(&out));
}

#[test]
fn a_token_without_a_known_repository_names_the_missing_setting() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.7.0");
    let mut cmd = sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]);
    cmd.env("GITHUB_TOKEN", "gh-test-token")
        .env("GITHUB_API_URL", "http://127.0.0.1:9");
    let out = output(cmd);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("GITHUB_TOKEN is set but the repository is unknown: set GITHUB_REPOSITORY"),
        "{all}"
    );
    assert!(!all.contains("no GITHUB_TOKEN"), "{all}");
    // A plain-http API URL would carry the token in clear.
    let mut cmd = sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]);
    cmd.env("GITHUB_TOKEN", "gh-test-token")
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_API_URL", "http://api.example.invalid");
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("would send GITHUB_TOKEN without TLS"));
}

#[test]
fn a_404_on_the_pull_request_lookup_is_an_error_naming_the_permission() {
    let sandbox = Sandbox::new();
    let before = git(&sandbox.remote, &["rev-parse", "root"]);
    let stub = Stub::start(|_| Reply::Json(404, r#"{"message":"Not Found"}"#.into()));
    let push = sandbox.dir.path().join("push.json");
    fs::write(
        &push,
        r#"{"after":"0123456789abcdef0123456789abcdef01234567","ref":"refs/heads/root"}"#,
    )
    .expect("event");
    let mut cmd = with_github(
        sandbox.xtask(&["changelog-add", "--event", "--commit"]),
        &stub,
    );
    cmd.env("GITHUB_EVENT_PATH", &push);
    let out = output(cmd);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("`pull-requests: read`"), "{all}");
    assert!(!all.contains("no merged pull request"), "{all}");
    assert_eq!(git(&sandbox.remote, &["rev-parse", "root"]), before);
}

/// pypiserver behind TLS under a CA made for the test: twine uploads with
/// that CA in REQUESTS_CA_BUNDLE, and the xtask's verify trusts the same
/// bundle whichever variable names it.
#[test]
fn verify_over_https_trusts_the_bundle_twine_and_pip_use() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let certs = sandbox.dir.path().join("tls");
    fs::create_dir_all(&certs).expect("mkdir");
    let proxy = stub::TlsProxy::start(index.port, &certs);
    sandbox.plain_tag("v0.7.0");
    let https = |cmd: Command| {
        let mut cmd = with_index(cmd, &index, PASSWORD);
        cmd.env(
            "TWINE_REPOSITORY_URL",
            format!("https://localhost:{}/", proxy.port),
        )
        .env_remove("XTASK_INDEX_URL")
        .env_remove("SSL_CERT_FILE")
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("PIP_CERT")
        .env_remove("CURL_CA_BUNDLE");
        cmd
    };
    let mut cmd = https(sandbox.xtask(&["release", "v0.7.0"]));
    cmd.env("REQUESTS_CA_BUNDLE", &proxy.ca);
    let out = output(cmd);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(index.files().len(), 2);

    for var in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT"] {
        let mut cmd = https(sandbox.xtask(&["release", "v0.7.0", "--step", "verify"]));
        cmd.env(var, &proxy.ca);
        let out = output(cmd);
        assert!(out.status.success(), "{var}: {}", text(&out));
    }
    // Without the bundle: refused, with what to set.
    let out = output(https(
        sandbox.xtask(&["release", "v0.7.0", "--step", "verify"]),
    ));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("certificate is not trusted"), "{all}");
    assert!(
        all.contains("SSL_CERT_FILE, REQUESTS_CA_BUNDLE, PIP_CERT"),
        "{all}"
    );
    // A bundle variable naming no certificate is bad input naming it.
    let bogus = certs.join("server.ext");
    let mut cmd = https(sandbox.xtask(&["release", "v0.7.0", "--step", "verify"]));
    cmd.env("SSL_CERT_FILE", &bogus);
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("SSL_CERT_FILE="), "{}", text(&out));
    assert!(
        text(&out).contains("holds no PEM certificate"),
        "{}",
        text(&out)
    );
}
