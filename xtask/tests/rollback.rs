//! `cargo xtask release-rollback` against the stub GitHub API, the real
//! pypiserver and the bare remote.

mod harness;
mod stub;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use harness::{git, output, run_ok, text, with_index, Index, Sandbox, PASSWORD};
use stub::{Reply, Stub};

fn with_env(cmd: Command, index: &Index, github: &Stub) -> Command {
    let mut cmd = with_index(cmd, index, PASSWORD);
    cmd.env("GITHUB_API_URL", github.url())
        .env("GITHUB_TOKEN", "gh-test-token")
        .env("GITHUB_REPOSITORY", "o/r")
        .stdin(Stdio::null());
    cmd
}

/// A GitHub stub holding release 5 for v0.7.0 until it is deleted.
fn github() -> (Stub, Arc<AtomicUsize>) {
    let deletes = Arc::new(AtomicUsize::new(0));
    let seen = deletes.clone();
    let stub = Stub::start(move |req| match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/repos/o/r/releases/tags/v0.7.0") if seen.load(Ordering::SeqCst) == 0 => {
            Reply::Json(
                200,
                r#"{"id":5,"tag_name":"v0.7.0","name":"v0.7.0","draft":false}"#.into(),
            )
        }
        // The release list proves a by-tag 404 means "absent".
        ("GET", "/repos/o/r/releases?per_page=100") => Reply::Json(
            200,
            if seen.load(Ordering::SeqCst) == 0 {
                r#"[{"id":5,"tag_name":"v0.7.0","name":"v0.7.0","draft":false}]"#.into()
            } else {
                "[]".into()
            },
        ),
        ("DELETE", "/repos/o/r/releases/5") => {
            seen.fetch_add(1, Ordering::SeqCst);
            Reply::Json(204, String::new())
        }
        _ => Reply::Json(404, r#"{"message":"Not Found"}"#.into()),
    });
    (stub, deletes)
}

/// Tagged, released and on the index: the state a rollback starts from.
fn released() -> (Sandbox, Index) {
    let sandbox = Sandbox::new();
    let index = Index::start();
    run_ok(&mut sandbox.xtask(&["tag", "v0.7.0"]));
    run_ok(&mut with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    (sandbox, index)
}

fn refs(sandbox: &Sandbox) -> String {
    format!(
        "{}\n{}",
        git(&sandbox.work, &["for-each-ref"]),
        git(&sandbox.remote, &["for-each-ref"])
    )
}

#[test]
fn dry_run_and_an_unconfirmed_rollback_change_nothing() {
    let (sandbox, index) = released();
    let (stub, deletes) = github();
    let before = refs(&sandbox);
    let out = output(with_env(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--dry-run"]),
        &index,
        &stub,
    ));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("delete `v0.7.0` (id 5) in o/r"), "{all}");
    assert!(
        all.contains("/manage/project/mindoff-dataport/release/0.7.0/"),
        "{all}"
    );
    let out = output(with_env(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag"]),
        &index,
        &stub,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("confirm with --yes"), "{}", text(&out));
    assert_eq!(deletes.load(Ordering::SeqCst), 0);
    assert_eq!(refs(&sandbox), before);
    assert_eq!(index.files().len(), 2);
}

#[test]
fn rollback_deletes_the_release_and_tag_and_names_the_next_patch() {
    let (sandbox, index) = released();
    let (stub, deletes) = github();
    let out = output(with_env(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"]),
        &index,
        &stub,
    ));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
    assert!(git(&sandbox.work, &["tag", "--list", "v0.7.0"]).is_empty());
    assert!(git(&sandbox.remote, &["tag", "--list", "v0.7.0"]).is_empty());
    assert!(
        all.contains("immutable releases reserves a released tag name"),
        "{all}"
    );
    assert!(
        all.contains("yanking is manual: open http://127.0.0.1:"),
        "{all}"
    );
    assert!(all.contains("cargo xtask tag v0.7.1"), "{all}");
    // Re-running finds nothing left to delete.
    let out = output(with_env(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"]),
        &index,
        &stub,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("none for v0.7.0 in o/r"),
        "{}",
        text(&out)
    );
    assert_eq!(deletes.load(Ordering::SeqCst), 1);
}

#[test]
fn wait_polls_the_index_until_the_version_is_yanked() {
    let (sandbox, index) = released();
    let (stub, _) = github();
    // pypiserver cannot yank: a stub simple index shows the yank (PEP 592)
    // from its third answer on.
    let polls = Arc::new(AtomicUsize::new(0));
    let count = polls.clone();
    let simple = Stub::start(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst);
        let yanked = if n >= 2 {
            " data-yanked=\"broken build\""
        } else {
            ""
        };
        Reply::Json(200, format!(
            "<html><body><a href=\"/p/mindoff_dataport-0.7.0.tar.gz#sha256=aa\"{yanked}>mindoff_dataport-0.7.0.tar.gz</a>\
<a href=\"/p/mindoff_dataport-0.7.0-py3-none-any.whl#sha256=bb\"{yanked}>mindoff_dataport-0.7.0-py3-none-any.whl</a></body></html>"
        ))
    });
    let mut cmd = with_env(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--yes", "--wait"]),
        &index,
        &stub,
    );
    cmd.env("XTASK_INDEX_URL", format!("{}/simple/", simple.url()))
        .env("XTASK_YANK_TIMEOUT", "60");
    let out = output(cmd);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0.7.0 is yanked"), "{}", text(&out));
    assert!(polls.load(Ordering::SeqCst) >= 3);
}
