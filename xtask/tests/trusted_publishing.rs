//! Trusted publishing on the real binary: the ID token requested from
//! the Actions runtime exchanged for an upload token (minted, masked, and
//! the only credential twine sees), the exchange refused or missing, the
//! job without `id-token: write`, the exchange over HTTPS or to this
//! machine only, and no child process seeing the token request; against
//! a stub OIDC exchange in front of the real pypiserver.

mod harness;
mod stub;

use std::fs;
use std::process::Command;

use harness::{git, ix, output, text, Index, Sandbox, PASSWORD, USER};
use stub::{Reply, Stub};

const MINTED: &str = "pypi-minted-token-0123456789";
/// The JWT payload of the ID token the stub issues: the claims a
/// maintainer compares with the trusted publisher.
const CLAIMS: &str = r#"{"sub":"repo:o/r:environment:pypi","repository":"o/r","repository_owner":"o","workflow_ref":"o/r/.github/workflows/cd.yml@refs/tags/v0.7.0","job_workflow_ref":"o/r/.github/workflows/cd.yml@refs/tags/v0.7.0","ref":"refs/tags/v0.7.0","environment":"pypi","event_name":"release"}"#;
const AUDIENCE: &str = "local index&x=1";

/// The ID token: header.payload.signature, base64url without padding.
fn id_token() -> String {
    let b64url = |b: &[u8]| {
        stub::base64(b)
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    };
    format!(
        "{}.{}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk",
        b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64url(CLAIMS.as_bytes())
    )
}

/// How the stub index answers the two trusted-publishing calls.
#[derive(Clone, Copy)]
enum Exchange {
    Mints,
    NoAudience,
    Refuses(u16),
}

/// The trusted-publishing exchange in front of the real pypiserver: OIDC
/// paths are answered here, everything else is forwarded, and an upload is
/// let through only with the minted token (swapped for real credentials).
fn exchange_stub(index: &Index, exchange: Exchange) -> Stub {
    let port = index.port;
    let upstream_auth = format!(
        "Basic {}",
        stub::base64(format!("{USER}:{PASSWORD}").as_bytes())
    );
    let minted_auth = format!(
        "Basic {}",
        stub::base64(format!("__token__:{MINTED}").as_bytes())
    );
    let token = id_token();
    Stub::start(move |req| {
        match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/_/oidc/audience") => match exchange {
            Exchange::NoAudience => Reply::Json(404, r#"{"message":"Not Found"}"#.into()),
            _ => Reply::Json(200, serde_json::json!({ "audience": AUDIENCE }).to_string()),
        },
        ("GET", p) if p.starts_with("/id-token") => {
            // The audience arrives percent-encoded, as one query value.
            if req.header("authorization") != Some("bearer actions-request-token")
                || !p.ends_with("&audience=local%20index%26x%3D1")
            {
                return Reply::Json(403, r#"{"message":"bad request token or audience"}"#.into());
            }
            Reply::Json(200, serde_json::json!({ "value": token }).to_string())
        }
        ("POST", "/_/oidc/mint-token") => match exchange {
            Exchange::Mints if req.body_text().contains(&token) => Reply::Json(200, format!(r#"{{"token":"{MINTED}"}}"#)),
            Exchange::Refuses(422) => Reply::Json(422, r#"{"message":"Token request failed","errors":[{"code":"invalid-publisher","description":"valid token, but no corresponding publisher (Publisher with matching claims was not found)"}]}"#.into()),
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
    let stub = exchange_stub(&index, Exchange::Mints);
    sandbox.plain_tag("v0.7.0");
    // In Actions, where `::add-mask::` means something.
    let mut cmd = trusted(&sandbox, &stub, &index);
    cmd.env("GITHUB_ACTIONS", "true");
    let out = output(cmd);
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
    for secret in [MINTED.to_string(), id_token()] {
        for line in all.lines().filter(|l| l.contains(secret.as_str())) {
            assert!(line.starts_with("::add-mask::"), "{secret} leaked: {line}");
        }
    }
}

#[test]
fn a_refused_token_exchange_shows_its_description_and_the_token_claims() {
    for (status, message) in [
        (422, "no corresponding publisher"),
        (403, "Trusted publishing is disabled"),
    ] {
        let sandbox = Sandbox::new();
        let index = Index::start();
        let stub = exchange_stub(&index, Exchange::Refuses(status));
        sandbox.plain_tag("v0.7.0");
        let out = output(trusted(&sandbox, &stub, &index));
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains(&format!("({status})")) && all.contains(message),
            "{all}"
        );
        // What the maintainer compares with the trusted publisher's settings.
        for claim in [
            "  repository: o/r",
            "  workflow_ref: o/r/.github/workflows/cd.yml@refs/tags/v0.7.0",
            "  job_workflow_ref: o/r/.github/workflows/cd.yml@refs/tags/v0.7.0",
            "  ref: refs/tags/v0.7.0",
            "  environment: pypi",
        ] {
            assert!(all.lines().any(|l| l == claim), "{claim:?} missing: {all}");
        }
        // The token itself, or any of its parts, never.
        let token = id_token();
        for part in token.split('.').chain([token.as_str()]) {
            assert!(!all.contains(part), "token part {part} shown: {all}");
        }
        assert!(!all.contains("actions-request-token"), "{all}");
        assert!(index.files().is_empty());
        // The version is not on the index, so the heading was reverted.
        assert!(git(&sandbox.remote, &["show", "root:CHANGELOG.md"]).contains("## Recent Changes"));
    }
}

#[test]
fn an_index_without_trusted_publishing_says_so() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let stub = exchange_stub(&index, Exchange::NoAudience);
    sandbox.plain_tag("v0.7.0");
    let out = output(trusted(&sandbox, &stub, &index));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("offers no trusted publishing"), "{all}");
    assert!(all.contains("/_/oidc/audience answered 404"), "{all}");
    // Nothing was asked of Actions, nothing reached the index.
    assert!(!stub.seen().iter().any(|r| r.path.starts_with("/id-token")));
    assert!(index.files().is_empty());
}

#[test]
fn a_job_without_id_token_permission_is_named_before_twine_runs() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let mut cmd = sandbox.xtask(&["release", "v0.7.0"]);
    cmd.env("GITHUB_ACTIONS", "true")
        .env("TWINE_REPOSITORY_URL", index.url())
        .env("XTASK_INDEX_URL", index.simple_url())
        .env("XTASK_VERIFY_TIMEOUT", "20");
    let out = output(cmd);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("`permissions: id-token: write`"), "{all}");
    assert!(
        all.contains("ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        "{all}"
    );
    // twine never ran: its own complaint is not there.
    assert!(!all.contains("Credential not found"), "{all}");
    assert!(index.files().is_empty());
}

#[test]
fn the_token_exchange_goes_over_https_or_to_this_machine_only() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let stub = exchange_stub(&index, Exchange::Mints);
    sandbox.plain_tag("v0.7.0");
    let mut cmd = trusted(&sandbox, &stub, &index);
    // Loopback too, but not a name this machine is known by: refused.
    cmd.env(
        "TWINE_REPOSITORY_URL",
        format!("http://127.0.0.2:{}/", stub.port),
    );
    let out = output(cmd);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("sends credentials over https only"), "{all}");
    assert!(all.contains("`http://127.0.0.2:"), "{all}");
    assert!(
        stub.seen().is_empty(),
        "nothing may be sent: {:?}",
        stub.seen().len()
    );
    assert!(index.files().is_empty());
}

#[test]
fn no_child_process_sees_the_actions_token_request() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    // A `git` first on PATH that records its environment, then runs git.
    let bin = sandbox.dir.path().join("spy");
    fs::create_dir_all(&bin).expect("mkdir");
    let log = sandbox.dir.path().join("git-env.log");
    let real_git = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .expect("which git")
            .stdout,
    )
    .expect("utf-8");
    let spy = bin.join("git");
    fs::write(
        &spy,
        format!(
            "#!/bin/sh\nenv >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real_git.trim()
        ),
    )
    .expect("spy");
    Command::new("chmod")
        .args(["+x", spy.to_str().expect("utf-8")])
        .status()
        .expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = ix(
        &index,
        &sandbox,
        &["release", "v0.7.0", "--step", "validate"],
    );
    cmd.env("PATH", path)
        .env("XTASK_SPY_MARKER", "seen")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://127.0.0.1:9/id-token",
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "actions-request-token");
    let out = output(cmd);
    assert!(out.status.success(), "{}", text(&out));
    let seen = fs::read_to_string(&log).expect("git ran through the spy");
    assert!(seen.contains("XTASK_SPY_MARKER=seen"), "{seen}");
    assert!(!seen.contains("ACTIONS_ID_TOKEN_REQUEST"), "leaked: {seen}");
    assert!(!seen.contains("actions-request-token"), "leaked: {seen}");
}
