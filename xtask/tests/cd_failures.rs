//! cd.yml when a job fails midway (see cd/mod.rs for the runner): the
//! index failing during publish completes with "Re-run failed jobs", and
//! a refused version push is reverted and a full re-run releases.

mod cd;
mod harness;
mod stub;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use cd::runner::Runner;
use cd::{
    assert_released, index_files, recorded_files, remote_rev, results, step_log, uploads, Fixture,
};
use harness::{git, path_str};

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
