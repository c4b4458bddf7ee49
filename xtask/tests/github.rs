//! GitHub integration on the real binary: the CD steps with a release
//! event payload, Actions output, the REST API and trusted publishing,
//! against a stub GitHub/OIDC server on 127.0.0.1 and the real pypiserver.

mod harness;
mod stub;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use harness::{git, output, text, with_index, Index, Sandbox, PASSWORD, USER};
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
    let (stub, state) = github_stub(None);
    let out = output(with_github(
        sandbox.xtask(&["tag", "v0.7.0", "--github-release"]),
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
        sandbox.xtask(&["tag", "v0.7.0", "--github-release"]),
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
        sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
        &stub,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("(GitHub API)"), "{}", text(&out));

    // A wrong title is reported, not changed; the CD check refuses it.
    state.lock().expect("state").as_mut().expect("release")["name"] = "Release v0.7.0".into();
    let out = output(with_github(
        sandbox.xtask(&["tag", "v0.7.0", "--github-release"]),
        &stub,
    ));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("is titled `Release v0.7.0`, not `v0.7.0`"),
        "{}",
        text(&out)
    );
    let out = output(with_github(
        sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
        &stub,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(stub.seen().iter().filter(|r| r.method == "POST").count(), 1);
}

#[test]
fn without_a_release_on_github_the_rest_check_refuses() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.7.0");
    let (stub, _) = github_stub(None);
    let out = output(with_github(
        sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
        &stub,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no GitHub Release exists for v0.7.0 in o/r"),
        "{}",
        text(&out)
    );
    // Without a token the check is skipped, and says so.
    let out = output(sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("GitHub Release check skipped"),
        "{}",
        text(&out)
    );
}

const MINTED: &str = "pypi-minted-token-0123456789";
const ID_TOKEN: &str = "oidc-id-token-abcdef";

/// The trusted-publishing exchange in front of the real pypiserver: OIDC
/// paths are answered here, everything else is forwarded, and an upload is
/// let through only with the minted token (swapped for real credentials).
fn exchange_stub(index: &Index, mint_status: u16) -> Stub {
    let port = index.port;
    let upstream_auth = format!(
        "Basic {}",
        stub::base64(format!("{USER}:{PASSWORD}").as_bytes())
    );
    let minted_auth = format!(
        "Basic {}",
        stub::base64(format!("__token__:{MINTED}").as_bytes())
    );
    Stub::start(move |req| {
        match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/_/oidc/audience") => Reply::Json(200, r#"{"audience":"local-index"}"#.into()),
        ("GET", p) if p.starts_with("/id-token") => {
            if req.header("authorization") != Some("bearer actions-request-token")
                || !p.contains("audience=local-index")
            {
                return Reply::Json(403, r#"{"message":"bad request token"}"#.into());
            }
            Reply::Json(200, format!(r#"{{"value":"{ID_TOKEN}"}}"#))
        }
        ("POST", "/_/oidc/mint-token") => match mint_status {
            200 if req.body_text().contains(ID_TOKEN) => Reply::Json(200, format!(r#"{{"token":"{MINTED}"}}"#)),
            422 => Reply::Json(422, r#"{"message":"Token request failed","errors":[{"code":"invalid-publisher","description":"valid token, but no corresponding publisher (Publisher with matching claims was not found)"}]}"#.into()),
            _ => Reply::Json(403, r#"{"message":"Trusted publishing is disabled"}"#.into()),
        },
        ("POST", _) => Reply::Forward {
            port,
            authorization: (req.header("authorization") == Some(minted_auth.as_str())).then(|| upstream_auth.clone()),
        },
        _ => Reply::Forward { port, authorization: None },
    }
    })
}

fn trusted(sandbox: &Sandbox, stub: &Stub, index: &Index) -> Command {
    let mut cmd = sandbox.xtask(&["release", "v0.7.0"]);
    cmd.env("TWINE_REPOSITORY_URL", format!("{}/", stub.url()))
        .env("XTASK_INDEX_URL", index.simple_url())
        .env("XTASK_VERIFY_TIMEOUT", "20")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/id-token?api-version=2.0", stub.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "actions-request-token");
    cmd
}

#[test]
fn trusted_publishing_uploads_with_the_minted_token_and_masks_it() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let stub = exchange_stub(&index, 200);
    sandbox.plain_tag("v0.7.0");
    let out = output(trusted(&sandbox, &stub, &index));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert_eq!(index.files().len(), 2);
    // The minted token is the one that reached the upload.
    let uploads: Vec<_> = stub
        .seen()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/")
        .collect();
    assert_eq!(uploads.len(), 2, "two files uploaded through the exchange");
    let minted_auth = format!(
        "Basic {}",
        stub::base64(format!("__token__:{MINTED}").as_bytes())
    );
    assert!(uploads
        .iter()
        .all(|r| r.header("authorization") == Some(minted_auth.as_str())));
    // Masked before anything else shows it; nowhere else in the output.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout
        .lines()
        .position(|l| l.contains(MINTED))
        .expect("mask line");
    assert_eq!(
        stdout.lines().nth(first),
        Some(format!("::add-mask::{MINTED}").as_str())
    );
    for secret in [MINTED, ID_TOKEN] {
        for line in all.lines().filter(|l| l.contains(secret)) {
            assert!(line.starts_with("::add-mask::"), "{secret} leaked: {line}");
        }
    }
}

#[test]
fn a_refused_token_exchange_shows_its_description() {
    for (status, message) in [
        (422, "no corresponding publisher"),
        (403, "Trusted publishing is disabled"),
    ] {
        let sandbox = Sandbox::new();
        let index = Index::start();
        let stub = exchange_stub(&index, status);
        sandbox.plain_tag("v0.7.0");
        let out = output(trusted(&sandbox, &stub, &index));
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains(&format!("({status})")) && all.contains(message),
            "{all}"
        );
        assert!(index.files().is_empty());
        // The version is not on the index, so the heading was reverted.
        assert!(git(&sandbox.remote, &["show", "root:CHANGELOG.md"]).contains("## Recent Changes"));
    }
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
