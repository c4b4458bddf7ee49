//! `cargo xtask tag` and `cargo xtask release` on real components: a
//! sandbox clone with a bare remote, a real pypiserver, the managed tools.

mod harness;

use std::fs;
use std::path::Path;
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

#[test]
fn tag_then_release_publishes_the_tagged_commit() {
    let sandbox = Sandbox::new();
    let index = Index::start();

    let out = output(with_index(
        sandbox.xtask(&["tag", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
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
    let already_released = |command: &str| {
        let out = output(with_index(
            sandbox.xtask(&[command, "v0.7.0"]),
            &index,
            PASSWORD,
        ));
        assert!(out.status.success(), "{command}: {}", text(&out));
        assert!(text(&out).contains("already released"), "{}", text(&out));
    };
    already_released("release");
    already_released("tag");

    // Later code and changelog commits on root: a CD re-run of the tag,
    // whole or step by step, still says "already released" and pushes nothing.
    fs::write(
        sandbox.work.join("src/mindoff_dataport/later.py"),
        "X = 1\n",
    )
    .expect("write");
    harness::add_changelog_entry(&sandbox.work, "🧹 Later work");
    sandbox.commit_and_push("Later work on root");
    let root_before = git(&sandbox.remote, &["rev-parse", "root"]);
    for step in [
        None,
        Some("validate"),
        Some("changelog"),
        Some("version"),
        Some("publish"),
    ] {
        let mut args = vec!["release", "v0.7.0"];
        args.extend(step.map(|s| ["--step", s]).into_iter().flatten());
        let out = output(with_index(sandbox.xtask(&args), &index, PASSWORD));
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        if step.is_none() {
            assert!(text(&out).contains("already released"), "{}", text(&out));
            assert!(
                text(&out).contains(&format!("release commit: {tagged}")),
                "{}",
                text(&out)
            );
        }
    }
    assert_eq!(git(&sandbox.remote, &["rev-parse", "root"]), root_before);

    // Nor does it matter where this clone stands: a detached HEAD with an
    // edited file re-runs the finished release as a no-op too.
    git(&sandbox.work, &["checkout", "-q", "--detach", "HEAD~1"]);
    fs::write(sandbox.work.join("scratch.txt"), "local notes\n").expect("write");
    already_released("release");
    assert_eq!(git(&sandbox.remote, &["rev-parse", "root"]), root_before);
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

/// A source that does not build, or whose build fails `twine check`, is
/// refused by the preflight of `tag` and of `release`: exit 2, nothing
/// changed, nothing pushed or uploaded.
#[test]
fn a_source_that_does_not_build_is_refused_before_any_change() {
    let index = Index::start();
    fn broken_readme(sandbox: &Sandbox) {
        edit(
            sandbox,
            "pyproject.toml",
            "readme = \"README.md\"",
            "readme = \"MISSING.md\"",
        );
    }
    fn broken_markup(sandbox: &Sandbox) {
        edit(
            sandbox,
            "pyproject.toml",
            "readme = \"README.md\"",
            "readme = { file = \"README.rst\", content-type = \"text/x-rst\" }",
        );
        fs::write(
            sandbox.work.join("README.rst"),
            "Broken\n=====\n\n`unclosed\n\n.. image::\n",
        )
        .expect("write");
    }
    type Breaker = fn(&Sandbox);
    let cases: [(Breaker, &str); 2] = [
        (broken_readme, "does not build"),
        (broken_markup, "fails its checks"),
    ];
    for (breaks, message) in cases {
        let sandbox = Sandbox::new();
        breaks(&sandbox);
        sandbox.commit_and_push("Break the package");
        let before = snapshot(&sandbox, &index);
        expect_exit(&sandbox, &index, &["tag", "v0.7.0"], 2, message);
        assert_eq!(snapshot(&sandbox, &index), before, "tag changed something");
        sandbox.plain_tag("v0.7.0");
        let before = snapshot(&sandbox, &index);
        expect_exit(&sandbox, &index, &["release", "v0.7.0"], 2, message);
        assert_eq!(
            snapshot(&sandbox, &index),
            before,
            "release changed something"
        );
    }
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
        "v0.6.9 is not newer than every release: v0.7.0 is a tag",
    );
    // A release branch that does not exist: say how to configure another.
    let all = expect_exit(
        &sandbox,
        &index,
        &["release", "v0.7.0", "--root-branch", "main"],
        2,
        "release-branch = \"NAME\"",
    );
    assert!(all.contains("--root-branch NAME"), "{all}");
    expect_exit(
        &sandbox,
        &index,
        &["tag", "v0.7.1", "--root-branch", "main"],
        2,
        "[tool.xtask]",
    );
    // --github-release without a token is refused before anything is pushed.
    expect_exit(
        &sandbox,
        &index,
        &["tag", "v0.7.1", "--github-release"],
        2,
        "--github-release needs GITHUB_TOKEN",
    );
    // Malformed --expect-sha256 and --step values.
    expect_exit(
        &sandbox,
        &index,
        &[
            "release",
            "v0.7.0",
            "--step",
            "publish",
            "--expect-sha256",
            "x",
        ],
        2,
        "--expect-sha256",
    );
    // A huge tag is not echoed back whole.
    let huge = format!("v{}.0.0", "9".repeat(100_000));
    let all = expect_exit(
        &sandbox,
        &index,
        &["release", &huge],
        2,
        "expected a release tag",
    );
    assert!(all.len() < 2_000, "{} bytes echoed", all.len());
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
    let out = output(with_index(
        sandbox.xtask(&["tag", "v0.7.1", "--dry-run"]),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(snapshot(&sandbox, &index), before);
}

/// The CD workflow's way: one step per process. The build job records
/// the files' sha256 as a step output; the publish job checks what it
/// received against it before uploading anything.
#[test]
fn steps_run_one_at_a_time_as_the_cd_workflow_does() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let outputs = sandbox.dir.path().join("github-output");
    let step = |args: &[&str]| {
        let mut all = vec!["release", "v0.7.0", "--step"];
        all.extend_from_slice(args);
        let mut cmd = with_index(sandbox.xtask(&all), &index, PASSWORD);
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &outputs);
        output(cmd)
    };
    for name in ["validate", "changelog", "version"] {
        let out = step(&[name]);
        assert!(out.status.success(), "{name}: {}", text(&out));
    }
    let out = step(&["build", "--dist", "received"]);
    assert!(out.status.success(), "build: {}", text(&out));
    let recorded = fs::read_to_string(&outputs).expect("outputs");
    let release_commit = git(&sandbox.remote, &["rev-parse", "root"]);
    assert!(
        recorded.contains(&format!("release-commit={release_commit}\n")),
        "{recorded}"
    );
    let sha256 = recorded
        .lines()
        .find_map(|l| l.strip_prefix("sha256="))
        .expect("a sha256 output")
        .to_string();
    assert!(
        sha256.contains("mindoff_dataport-0.7.0.tar.gz="),
        "{sha256}"
    );
    let out = step(&["check", "--dist", "received"]);
    assert!(out.status.success(), "check: {}", text(&out));

    // Files that are not the build's are refused before any upload.
    let wrong = sha256
        .split(',')
        .map(|pair| {
            let (name, sha) = pair.split_once('=').expect("pair");
            format!(
                "{name}={}",
                if name.ends_with(".whl") {
                    "0".repeat(64)
                } else {
                    sha.to_string()
                }
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let out = step(&["publish", "--dist", "received", "--expect-sha256", &wrong]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("not the ones the build recorded"),
        "{}",
        text(&out)
    );
    assert!(index.files().is_empty());

    for name in ["publish", "verify"] {
        let out = step(&[name, "--dist", "received", "--expect-sha256", &sha256]);
        assert!(out.status.success(), "{name}: {}", text(&out));
    }
    assert_eq!(index.files().len(), 2);
    assert!(fs::read_to_string(&outputs)
        .expect("outputs")
        .contains("uploaded=true"));
    let out = step(&["revert"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("not reverting"), "{}", text(&out));
    let out = output(sandbox.xtask(&["release", "v0.7.0", "--step", "deploy"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// The first push the remote receives loses a race to `other`'s HEAD:
/// a pre-receive hook moves `root` there first, so git refuses the push
/// ("cannot lock ref" / "atomic transaction failed").
fn lose_the_first_push_to(sandbox: &Sandbox, other: &Path) {
    git(other, &["push", "-q", "origin", "HEAD:refs/pending/other"]);
    let hook = sandbox.remote.join("hooks/pre-receive");
    fs::write(
        &hook,
        "#!/bin/sh\ncat >/dev/null\nif [ ! -e \"$GIT_DIR/raced\" ]; then\n  touch \"$GIT_DIR/raced\"\n  \
unset GIT_QUARANTINE_PATH\n  git update-ref refs/heads/root \"$(git rev-parse refs/pending/other)\"\nfi\nexit 0\n",
    )
    .expect("write hook");
    run_ok(Command::new("chmod").args(["+x", harness::path_str(&hook)]));
}

/// `release v0.7.0`, which must succeed after planning again.
fn release_replanned(sandbox: &Sandbox, index: &Index) {
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        index,
        PASSWORD,
    ));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("fetching and planning again"), "{all}");
}

/// The remote's branch moves while the release pushes (a pull request's
/// changelog entry lands): git refuses the push with "cannot lock ref" /
/// "atomic transaction failed". The release fetches and plans again from
/// the remote's state: the late entry stays under `## Recent Changes`,
/// unreleased, and is not in the published sdist.
#[test]
fn a_push_that_loses_a_race_replans_from_the_remote() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let other = sandbox.clone_as("other");
    harness::add_changelog_entry(&other, "🧹 Late entry ([#99](https://x/99))");
    git(&other, &["commit", "-qam", "Late entry"]);
    lose_the_first_push_to(&sandbox, &other);
    release_replanned(&sandbox, &index);
    let log = git(&sandbox.remote, &["log", "--format=%s", "-3", "root"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "Release v0.7.0: version 0.7.0",
            "Release v0.7.0: changelog",
            "Late entry"
        ]
    );
    let changelog = remote_file(&sandbox, "root", "CHANGELOG.md");
    let (recent, released) = changelog.split_once("## v0.7.0").expect("released heading");
    assert!(
        recent.contains("## Recent Changes") && recent.contains("Late entry"),
        "{changelog}"
    );
    assert!(!released.contains("Late entry"), "{changelog}");
    let sdist = index.packages.join("mindoff_dataport-0.7.0.tar.gz");
    let shipped = run_ok(Command::new("tar").args([
        "-xzOf",
        harness::path_str(&sdist),
        "mindoff_dataport-0.7.0/CHANGELOG.md",
    ]));
    assert!(
        shipped.contains("## v0.7.0") && !shipped.contains("Late entry"),
        "{shipped}"
    );
}

/// Another run of the same release wins the race for the changelog commit:
/// the loser's own commit is dropped, its clone follows the remote, and
/// the version step (and any later run) starts from there.
#[test]
fn a_push_lost_to_the_same_release_commit_leaves_the_clone_on_the_remote() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let other = sandbox.clone_as("other");
    let log = fs::read_to_string(other.join("CHANGELOG.md")).expect("changelog");
    fs::write(
        other.join("CHANGELOG.md"),
        log.replacen("## Recent Changes", "## v0.7.0", 1),
    )
    .expect("write");
    git(&other, &["commit", "-qam", "Release v0.7.0: changelog"]);
    lose_the_first_push_to(&sandbox, &other);
    release_replanned(&sandbox, &index);
    let subjects = git(&sandbox.remote, &["log", "--format=%s", "v0.7.0..root"]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        ["Release v0.7.0: version 0.7.0", "Release v0.7.0: changelog"]
    );
    assert_eq!(
        git(&sandbox.work, &["rev-parse", "root"]),
        git(&sandbox.remote, &["rev-parse", "root"]),
        "the clone follows the remote"
    );
    assert_eq!(index.files().len(), 2, "{:?}", index.files());
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

/// An unreachable index is found by the preflight, before the first
/// commit: exit 1, nothing pushed, and the re-run simply runs.
#[test]
fn an_unreachable_index_stops_the_release_before_any_change() {
    let sandbox = Sandbox::new();
    let mut index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let url = index.url();
    index.stop();
    let before = snapshot(&sandbox, &index);
    for command in ["release", "tag"] {
        let version = if command == "tag" { "v0.7.1" } else { "v0.7.0" };
        let out = output(with_index(
            sandbox.xtask(&[command, version]),
            &index,
            PASSWORD,
        ));
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(all.contains(&url), "{all}");
        assert_eq!(
            snapshot(&sandbox, &index),
            before,
            "{command} changed something"
        );
    }
    assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("## Recent Changes"));
}

/// The bad-input corpus of release files: `tag` and `release` both refuse
/// each with exit 2, naming the file (and line or byte), and change
/// nothing in the clone, on the remote or on the index.
#[test]
fn malformed_release_files_exit_2_and_change_nothing() {
    type Breaker = fn(&str) -> Vec<u8>;
    let cases: &[(&str, Breaker, &str)] = &[
        (
            "CHANGELOG.md",
            |t| {
                t.replacen("## Recent Changes", "## Upcoming", 1)
                    .into_bytes()
            },
            "no `## Recent Changes` section",
        ),
        (
            "CHANGELOG.md",
            |t| {
                let (head, rest) = t.split_once("## v0.6.0").expect("has v0.6.0");
                let head: String = head
                    .lines()
                    .filter(|l| !l.starts_with("- "))
                    .map(|l| format!("{l}\n"))
                    .collect();
                format!("{head}Nothing yet.\n\n## v0.6.0{rest}").into_bytes()
            },
            "has no entries",
        ),
        (
            "CHANGELOG.md",
            |t| {
                let at = t.find("### Enhancements").expect("a category");
                let mut bytes = t.as_bytes().to_vec();
                bytes.insert(at, 0xff);
                bytes
            },
            "not valid UTF-8",
        ),
        ("CHANGELOG.md", |_| Vec::new(), "CHANGELOG.md"),
        (
            "pyproject.toml",
            |t| {
                t.replacen("version = \"0.6.0\"", "dynamic = [\"version\"]", 1)
                    .into_bytes()
            },
            "dynamic = [\"version\"]",
        ),
        (
            "pyproject.toml",
            |t| {
                t.replacen("version = \"0.6.0\"", "version = 6", 1)
                    .into_bytes()
            },
            "must be a string",
        ),
        (
            "pyproject.toml",
            |t| t.replacen("[project]", "[project", 1).into_bytes(),
            "not valid TOML",
        ),
        (
            "pyproject.toml",
            |t| format!("\u{feff}{t}").into_bytes(),
            "byte-order mark",
        ),
        (
            "pyproject.toml",
            |t| {
                t.replacen("name = \"mindoff-dataport\"\n", "", 1)
                    .into_bytes()
            },
            "[project] has no `name`",
        ),
        (
            "pyproject.toml",
            |t| {
                t.replace("[project]", "[tool.other]")
                    .replace("[project.", "[tool.other.")
                    .into_bytes()
            },
            "has no [project] table",
        ),
    ];
    let index = Index::start();
    for (file, breaks, message) in cases {
        let sandbox = Sandbox::new();
        let path = sandbox.work.join(file);
        let broken = breaks(&fs::read_to_string(&path).expect("read"));
        if broken.is_empty() {
            fs::remove_file(&path).expect("remove");
        } else {
            fs::write(&path, broken).expect("write");
        }
        sandbox.commit_and_push("Break a release file");
        for args in [&["tag", "v0.7.0"][..], &["release", "v0.7.0"]] {
            if args[0] == "release" {
                sandbox.plain_tag("v0.7.0");
            }
            let before = snapshot(&sandbox, &index);
            let out = output(with_index(sandbox.xtask(args), &index, PASSWORD));
            let all = text(&out);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{file} {message}: {args:?}: {all}"
            );
            assert!(
                all.contains(message) && all.contains(file),
                "{args:?} should say {message:?}: {all}"
            );
            assert_eq!(
                snapshot(&sandbox, &index),
                before,
                "{args:?} changed something"
            );
        }
    }
}

/// An unreleased tag from a clone that is not on root: refused before any
/// change, naming the branch to switch to, even though the same clone
/// re-runs a finished release as a no-op.
#[test]
fn release_from_a_detached_head_is_refused_until_released() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    git(&sandbox.work, &["checkout", "-q", "--detach", "HEAD"]);
    let root_before = git(&sandbox.remote, &["rev-parse", "root"]);
    let out = output(with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("git switch root"), "{}", text(&out));
    assert_eq!(git(&sandbox.remote, &["rev-parse", "root"]), root_before);
    assert!(index.files().is_empty(), "{:?}", index.files());
}

/// `COMMAND v0.7.0 --dry-run` refuses (exit 2, saying `needle`) without
/// moving any ref of the clone, and the real run refuses the same way;
/// neither changes the working tree, the remote or the index.
fn refused_alike_with_and_without_dry_run(
    sandbox: &Sandbox,
    index: &Index,
    command: &str,
    needle: &str,
) {
    let refs_before = git(&sandbox.work, &["for-each-ref"]);
    let tree_before = git(&sandbox.work, &["status", "--porcelain", "--ignored"]);
    let remote_before = git(&sandbox.remote, &["for-each-ref"]);
    let index_before = index.files();
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec![command, "v0.7.0"];
        args.extend_from_slice(extra);
        let out = output(with_index(sandbox.xtask(&args), index, PASSWORD));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(needle), "{args:?}: {}", text(&out));
        if !extra.is_empty() {
            assert_eq!(git(&sandbox.work, &["for-each-ref"]), refs_before);
        }
        assert_eq!(
            git(&sandbox.work, &["status", "--porcelain", "--ignored"]),
            tree_before,
            "{args:?}"
        );
        assert_eq!(git(&sandbox.remote, &["for-each-ref"]), remote_before);
        assert_eq!(index.files(), index_before);
    }
}

/// `tag --dry-run` in a clone whose view of the remote is stale (another
/// clone pushed since the last fetch) refuses as the real run will,
/// without moving any ref to find out.
#[test]
fn tag_dry_run_in_a_stale_clone_refuses_like_the_real_run() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let other = sandbox.clone_as("other");
    harness::add_changelog_entry(&other, "🧹 Pushed from elsewhere");
    git(&other, &["commit", "-qam", "Elsewhere"]);
    git(&other, &["push", "-q", "origin", "root"]);
    refused_alike_with_and_without_dry_run(&sandbox, &index, "tag", "not in sync");
}

/// `release --dry-run` plans from the remote's branch as it is now, as the
/// real run will (here: code pushed after the tag, which refuses), and
/// leaves every ref of the clone as it was.
#[test]
fn release_dry_run_plans_from_the_remote_as_it_is_now() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let other = sandbox.clone_as("other");
    fs::write(other.join("src/mindoff_dataport/later.py"), "X = 1\n").expect("write");
    git(&other, &["add", "."]);
    git(&other, &["commit", "-qm", "Code after the tag"]);
    git(&other, &["push", "-q", "origin", "root"]);
    refused_alike_with_and_without_dry_run(&sandbox, &index, "release", "has changes since v0.7.0");
    assert!(index.files().is_empty());
}

/// A release branch that exists here (a local branch, a stale tracking
/// ref) but not on the remote is bad input for every command that reads
/// it from the remote: exit 2 naming the branch, the remote, its branches
/// and the setting, and nothing changed; so is the same name set as
/// `release-branch` in [tool.xtask].
#[test]
fn a_release_branch_missing_on_the_remote_is_bad_input() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    git(&sandbox.work, &["branch", "main"]);
    let head = git(&sandbox.work, &["rev-parse", "HEAD"]);
    git(
        &sandbox.work,
        &["update-ref", "refs/remotes/origin/main", &head],
    );
    let refs = || {
        format!(
            "{}\n{}",
            git(&sandbox.work, &["for-each-ref"]),
            git(&sandbox.remote, &["for-each-ref"])
        )
    };
    let before = refs();
    let expected = [
        "the release branch `main` does not exist on origin",
        "its branches: root",
        "--root-branch NAME",
        "release-branch = \"NAME\"",
        "nothing was changed",
    ];
    for args in [
        &["release", "v0.7.0", "--root-branch", "main"][..],
        &[
            "release",
            "v0.7.0",
            "--root-branch",
            "main",
            "--step",
            "validate",
        ],
        &["tag", "v0.7.0", "--root-branch", "main"],
        &["tag", "v0.7.0", "--root-branch", "main", "--dry-run"],
    ] {
        let all = expect_exit(&sandbox, &index, args, 2, expected[0]);
        for needle in expected {
            assert!(all.contains(needle), "{args:?}: {needle:?} not in {all}");
        }
        assert!(!all.contains("fatal:"), "{args:?}: {all}");
    }
    // The same name as the project's setting.
    let py = sandbox.work.join("pyproject.toml");
    let text_before = fs::read_to_string(&py).expect("read");
    fs::write(
        &py,
        format!("{text_before}\n[tool.xtask]\nrelease-branch = \"main\"\n"),
    )
    .expect("write");
    expect_exit(&sandbox, &index, &["release", "v0.7.0"], 2, expected[0]);
    fs::write(&py, text_before).expect("restore");
    assert_eq!(refs(), before);
    assert!(index.files().is_empty());
}
