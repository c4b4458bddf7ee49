//! `cargo xtask tag` and `cargo xtask release` on real components: a
//! sandbox clone with a bare remote, a real pypiserver, the managed tools.

mod harness;

use std::fs;
use std::process::Command;

use harness::{git, output, run_ok, text, with_index, Index, Sandbox, PASSWORD};

fn remote_file(sandbox: &Sandbox, rev: &str, file: &str) -> String {
    git(&sandbox.remote, &["show", &format!("{rev}:{file}")])
}

/// Everything a command could change: refs and files of the clone, refs of
/// the remote, files on the index.
fn snapshot(sandbox: &Sandbox, index: &Index) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{:?}",
        git(&sandbox.work, &["for-each-ref"]),
        git(&sandbox.work, &["status", "--porcelain", "--ignored"]),
        git(&sandbox.work, &["stash", "list"]),
        git(&sandbox.remote, &["for-each-ref"]),
        index.files()
    )
}

/// Runs the xtask (index configured) and asserts its exit code and that
/// its output names `needle`; returns the output.
fn expect_exit(sandbox: &Sandbox, index: &Index, args: &[&str], code: i32, needle: &str) -> String {
    let out = output(with_index(sandbox.xtask(args), index, PASSWORD));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {all}");
    assert!(
        all.contains(needle),
        "{args:?} should say {needle:?}: {all}"
    );
    all
}

/// Replaces text in a file of the sandbox's clone (the first occurrence).
fn edit(sandbox: &Sandbox, file: &str, from: &str, to: &str) {
    let path = sandbox.work.join(file);
    let text = fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} lacks {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

/// Releases v0.7.0 expecting a failure at `step`, then checks the state the
/// guide promises: the heading is back on the remote, nothing is indexed.
fn assert_fails_at_and_reverts(sandbox: &Sandbox, index: &Index, step: &str) {
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        index,
        PASSWORD,
    ));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains(&format!("failed at the {step} step")), "{all}");
    assert!(remote_file(sandbox, "root", "CHANGELOG.md").contains("## Recent Changes"));
    assert!(index.files().is_empty());
}

#[test]
fn tag_then_release_publishes_the_tagged_commit() {
    let sandbox = Sandbox::new();
    let index = Index::start();

    let out = output(sandbox.xtask(&["tag", "v0.7.0"]));
    assert!(out.status.success(), "{}", text(&out));
    let tagged = git(&sandbox.remote, &["rev-parse", "v0.7.0^{commit}"]);
    assert_eq!(tagged, git(&sandbox.remote, &["rev-parse", "root"]));
    assert_eq!(git(&sandbox.remote, &["cat-file", "-t", "v0.7.0"]), "tag");
    assert!(remote_file(&sandbox, "v0.7.0", "CHANGELOG.md").contains("\n## v0.7.0\n"));
    assert!(remote_file(&sandbox, "v0.7.0", "pyproject.toml").contains("version = \"0.7.0\""));

    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains(PASSWORD), "the password leaked:\n{all}");
    for step in [
        "validate",
        "changelog",
        "version",
        "build",
        "check",
        "publish",
        "verify",
    ] {
        assert!(
            all.contains(&format!("==> {step}")),
            "no {step} header:\n{all}"
        );
    }
    // Nothing left to edit: the CD built exactly the tagged commit.
    assert_eq!(git(&sandbox.remote, &["rev-parse", "root"]), tagged);
    assert_eq!(
        index.files(),
        [
            "mindoff_dataport-0.7.0-py3-none-any.whl",
            "mindoff_dataport-0.7.0.tar.gz"
        ]
    );
    let (_venv, python) = harness::install_from_index(&index, "mindoff-dataport==0.7.0");
    let version = run_ok(
        Command::new(python).args(["-c", "import mindoff_dataport as m; print(m.__version__)"]),
    );
    assert_eq!(version, "0.7.0");

    // A finished release re-runs as a no-op; so does the tag.
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already released"), "{}", text(&out));
    let out = output(sandbox.xtask(&["tag", "v0.7.0"]));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn release_of_a_plain_tag_rotates_the_changelog_and_syncs_the_version() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");

    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    let log = git(&sandbox.remote, &["log", "--format=%s", "-3", "root"]);
    assert_eq!(
        log.lines().take(2).collect::<Vec<_>>(),
        ["Release v0.7.0: version 0.7.0", "Release v0.7.0: changelog"]
    );
    let changelog = remote_file(&sandbox, "root", "CHANGELOG.md");
    assert!(changelog.contains("\n## v0.7.0\n") && !changelog.contains("## Recent Changes"));
    assert_eq!(index.files().len(), 2);
}

#[test]
fn a_refused_upload_reverts_the_heading_and_a_rerun_converges() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let before = remote_file(&sandbox, "root", "CHANGELOG.md");

    let wrong = "wrong-password-123";
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        wrong,
    ));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("refused the credentials"), "{all}");
    assert!(!all.contains(wrong), "the password leaked:\n{all}");
    assert!(!all.contains("Traceback"), "{all}");
    assert!(index.files().is_empty());
    // Consistent state: the heading is back, on the remote too.
    assert_eq!(remote_file(&sandbox, "root", "CHANGELOG.md"), before);
    assert!(git(&sandbox.remote, &["log", "-1", "--format=%s", "root"])
        .starts_with("Revert the v0.7.0 changelog heading"));

    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(index.files().len(), 2);
    assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("\n## v0.7.0\n"));
}

#[test]
fn a_build_failure_reverts_the_heading() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    edit(
        &sandbox,
        "pyproject.toml",
        "readme = \"README.md\"",
        "readme = \"MISSING.md\"",
    );
    sandbox.commit_and_push("Break the readme path");
    sandbox.plain_tag("v0.7.0");
    assert_fails_at_and_reverts(&sandbox, &index, "build");
}

#[test]
fn a_twine_check_failure_reverts_the_heading() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    edit(
        &sandbox,
        "pyproject.toml",
        "readme = \"README.md\"",
        "readme = { file = \"README.rst\", content-type = \"text/x-rst\" }",
    );
    fs::write(
        sandbox.work.join("README.rst"),
        "Broken\n=====\n\n`unclosed\n\n.. image::\n",
    )
    .expect("write");
    sandbox.commit_and_push("Broken README markup");
    sandbox.plain_tag("v0.7.0");
    assert_fails_at_and_reverts(&sandbox, &index, "check");
}

#[test]
fn bad_tags_exit_2_and_change_nothing() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let before = snapshot(&sandbox, &index);
    for bad in [
        "0.7.0",
        "v0.7",
        "v0.7.0-rc1",
        "v0.7.0 ",
        "v07.0.0",
        "v0.7.0+b",
        "latest",
        "v1.2.3;id",
    ] {
        for command in ["release", "tag"] {
            let out = output(with_index(sandbox.xtask(&[command, bad]), &index, PASSWORD));
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command} {bad:?}: {}",
                text(&out)
            );
            assert!(
                text(&out).contains("expected a release tag vX.Y.Z"),
                "{}",
                text(&out)
            );
        }
    }
    // Well-formed but refused: unknown tag, older than a released tag.
    expect_exit(
        &sandbox,
        &index,
        &["release", "v0.8.0"],
        2,
        "tag v0.8.0 does not exist",
    );
    expect_exit(
        &sandbox,
        &index,
        &["tag", "v0.6.9"],
        2,
        "v0.7.0 is newer than v0.6.9",
    );
    assert_eq!(snapshot(&sandbox, &index), before);
}

#[test]
fn untagged_changes_since_the_tag_are_refused_before_any_change() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    fs::write(
        sandbox.work.join("src/mindoff_dataport/extra.py"),
        "X = 1\n",
    )
    .expect("write");
    sandbox.commit_and_push("Untagged change");
    let before = snapshot(&sandbox, &index);
    expect_exit(
        &sandbox,
        &index,
        &["release", "v0.7.0"],
        2,
        "src/mindoff_dataport/extra.py",
    );
    assert_eq!(snapshot(&sandbox, &index), before);
}

#[test]
fn dry_run_changes_nothing() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let before = snapshot(&sandbox, &index);
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0", "--dry-run"]),
        &index,
        PASSWORD,
    ));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("-## Recent Changes") && all.contains("+## v0.7.0"),
        "{all}"
    );
    assert!(all.contains("+version = \"0.7.0\""), "{all}");
    assert!(all.contains("would run `git push"), "{all}");
    let out = output(sandbox.xtask(&["tag", "v0.7.1", "--dry-run"]));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(snapshot(&sandbox, &index), before);
}

#[test]
fn steps_run_one_at_a_time_as_the_cd_workflow_does() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    for step in [
        "validate",
        "changelog",
        "version",
        "build",
        "check",
        "publish",
        "verify",
    ] {
        let out = output(with_index(
            sandbox.xtask(&["release", "v0.7.0", "--step", step]),
            &index,
            PASSWORD,
        ));
        assert!(out.status.success(), "{step}: {}", text(&out));
    }
    assert_eq!(index.files().len(), 2);
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0", "--step", "revert"]),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("not reverting"), "{}", text(&out));
    let out = output(sandbox.xtask(&["release", "v0.7.0", "--step", "deploy"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_push_rejected_because_the_remote_moved_is_rebased_and_retried() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    // Another maintainer pushes to root first (a release file only).
    let other = sandbox.dir.path().join("other");
    git(
        sandbox.dir.path(),
        &[
            "clone",
            "-q",
            harness::path_str(&sandbox.remote),
            harness::path_str(&other),
        ],
    );
    let py = fs::read_to_string(other.join("pyproject.toml")).expect("read");
    fs::write(
        other.join("pyproject.toml"),
        format!("{py}# pinned by a maintainer\n"),
    )
    .expect("write");
    git(&other, &["commit", "-qam", "Note in pyproject"]);
    git(&other, &["push", "-q", "origin", "root"]);

    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("moved: fetching and rebasing"), "{all}");
    let log = git(&sandbox.remote, &["log", "--format=%s", "-3", "root"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "Release v0.7.0: version 0.7.0",
            "Release v0.7.0: changelog",
            "Note in pyproject"
        ]
    );
    assert_eq!(index.files().len(), 2);
}

#[test]
fn a_partly_published_release_resumes_with_the_missing_files() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    for step in ["changelog", "version", "build"] {
        let out = output(with_index(
            sandbox.xtask(&["release", "v0.7.0", "--step", step]),
            &index,
            PASSWORD,
        ));
        assert!(out.status.success(), "{step}: {}", text(&out));
    }
    // Only the wheel reached the index.
    let wheel = sandbox
        .work
        .join("dist/mindoff_dataport-0.7.0-py3-none-any.whl");
    let out = harness::twine_upload(&index, &[wheel], PASSWORD);
    assert!(out.status.success(), "{}", text(&out));
    // Revert refuses: the version is partly published.
    let refusal = expect_exit(
        &sandbox,
        &index,
        &["release", "v0.7.0", "--step", "revert"],
        1,
        "missing mindoff_dataport-0.7.0.tar.gz",
    );
    assert!(
        refusal.contains("Resume with `cargo xtask release v0.7.0`"),
        "{refusal}"
    );

    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("uploaded 1 file(s)"), "{}", text(&out));
    assert_eq!(index.files().len(), 2);
}

#[test]
fn a_running_release_holds_the_lock_and_a_stale_lock_is_taken_over() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let lock = sandbox.work.join(".git/xtask-release.lock");

    fs::write(&lock, std::process::id().to_string()).expect("write lock");
    expect_exit(
        &sandbox,
        &index,
        &["release", "v0.7.0", "--step", "validate"],
        1,
        "another release is running",
    );

    let mut dead = Command::new("true").spawn().expect("spawn");
    let dead_pid = dead.id();
    dead.wait().expect("wait");
    fs::write(&lock, dead_pid.to_string()).expect("write lock");
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0", "--step", "validate"]),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("stale release lock"), "{}", text(&out));
    assert!(!lock.exists(), "the lock is released at exit");
}

#[test]
fn a_stopped_index_leaves_a_consistent_state_and_a_rerun_converges() {
    let sandbox = Sandbox::new();
    let mut index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let url = index.url();
    index.stop();
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains(&url), "{all}");
    // The index state is unknown, so nothing is reverted: re-running resumes.
    assert!(all.contains("not reverting while it is unknown"), "{all}");
    assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("\n## v0.7.0\n"));
    assert!(git(&sandbox.work, &["status", "--porcelain"]).is_empty());
}

#[test]
fn malformed_release_files_exit_2_and_change_nothing() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "CHANGELOG.md",
            "## Recent Changes",
            "## Upcoming",
            "no `## Recent Changes` section",
        ),
        (
            "CHANGELOG.md",
            "- ⚡ Build",
            "Nothing yet. Build",
            "has no entries",
        ),
        (
            "pyproject.toml",
            "version = \"0.6.0\"",
            "dynamic = [\"version\"]",
            "dynamic = [\"version\"]",
        ),
        (
            "pyproject.toml",
            "version = \"0.6.0\"",
            "version = 6",
            "must be a string",
        ),
        ("pyproject.toml", "[project]", "[project", "not valid TOML"),
    ];
    for (file, from, to, message) in cases {
        let sandbox = Sandbox::new();
        let index = Index::start();
        let path = sandbox.work.join(file);
        let original = fs::read_to_string(&path).expect("read");
        // Break every matching entry line, not just the first.
        let broken = if *from == "- ⚡ Build" {
            let (head, rest) = original.split_once("## v0.6.0").expect("has v0.6.0");
            let head: String = head
                .lines()
                .filter(|l| !l.starts_with("- "))
                .map(|l| format!("{l}\n"))
                .collect();
            format!("{head}{to}\n\n## v0.6.0{rest}")
        } else {
            original.replacen(from, to, 1)
        };
        fs::write(&path, broken).expect("write");
        sandbox.commit_and_push("Break a release file");
        for args in [&["tag", "v0.7.0"][..], &["release", "v0.7.0"]] {
            if args[0] == "release" {
                sandbox.plain_tag("v0.7.0");
            }
            let before = snapshot(&sandbox, &index);
            let out = output(with_index(sandbox.xtask(args), &index, PASSWORD));
            let all = text(&out);
            assert_eq!(out.status.code(), Some(2), "{file} {to}: {args:?}: {all}");
            assert!(
                all.contains(message) && all.contains(file),
                "{args:?}: {all}"
            );
            assert_eq!(
                snapshot(&sandbox, &index),
                before,
                "{args:?} changed something"
            );
        }
    }
}
