//! cd.yml re-run and run close together (see cd/mod.rs for the runner):
//! "Re-run all jobs" of a released tag is a no-op even after root moved
//! on, and two tags published close together (interleaved, or one pushed
//! while the other runs) both release.

mod cd;
mod harness;
mod stub;

use std::fs;

use cd::runner::Runner;
use cd::{
    assert_released, index_files, pull, recorded_files, remote_rev, step_log, uploads, Fixture,
};
use harness::{add_changelog_entry, git};

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
