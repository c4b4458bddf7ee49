//! `cargo xtask tag` and `cargo xtask release` on real components: a
//! sandbox clone with a bare remote, a real pypiserver, the managed tools.
//! The release path: tag then release, a refused upload and its re-run,
//! the CD workflow's one step per process, pushes that lose a race, a
//! partly published release resumed, the release lock. What tag and
//! release refuse before any change is in release_refusals.rs.

mod harness;

use std::fs;
use std::path::Path;
use std::process::Command;

use harness::{
    expect_exit, git, output, remote_file, run_ok, text, with_index, Index, Sandbox, PASSWORD,
};

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
