//! `cargo xtask docs-deploy`, `docs-list` and `docs-rollback` with real
//! mike and real git: a sandbox clone whose origin is a bare repository.

mod harness;

use std::fs;
use std::path::Path;

use harness::{git, output, text, Sandbox};

const PAGE: &str = "src/mindoff_dataport/docs/index.md";

fn ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = output(sandbox.xtask(args));
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    text(&out)
}

/// Runs the xtask expecting bad input (exit 2); returns its output.
fn refused(sandbox: &Sandbox, args: &[&str], message: &str) -> String {
    let out = output(sandbox.xtask(args));
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    assert!(text(&out).contains(message), "{args:?}: {}", text(&out));
    text(&out)
}

/// Release tags on the clone's HEAD (local tags count as released).
fn tags(sandbox: &Sandbox, tags: &[&str]) {
    for tag in tags {
        git(&sandbox.work, &["tag", tag]);
    }
}

/// The remote docs branch's versions.json as `(version, aliases)` pairs.
fn remote_versions(sandbox: &Sandbox) -> Vec<(String, Vec<String>)> {
    sandbox.remote_docs_versions()
}

fn versions(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    pairs
        .iter()
        .map(|(v, a)| (v.to_string(), a.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn remote_page(sandbox: &Sandbox, version: &str) -> String {
    git(
        &sandbox.remote,
        &["show", &format!("docs:{version}/index.html")],
    )
}

/// Every ref of the remote and the clone, and the clone's status.
fn snapshot(sandbox: &Sandbox) -> String {
    format!(
        "{}\n{}\n{}",
        git(&sandbox.remote, &["for-each-ref"]),
        git(&sandbox.work, &["for-each-ref"]),
        git(&sandbox.work, &["status", "--porcelain"])
    )
}

/// A second clone of the remote, on `root`, with an identity.
fn other_clone(sandbox: &Sandbox) -> std::path::PathBuf {
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
    git(&other, &["checkout", "-q", "root"]);
    for (key, value) in [
        ("user.name", "Other"),
        ("user.email", "other@example.invalid"),
    ] {
        git(&other, &["config", key, value]);
    }
    other
}

fn xtask_in(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = sandbox.xtask(args);
    cmd.current_dir(dir);
    output(cmd)
}

#[test]
fn latest_release_stays_on_the_newest_series() {
    let sandbox = Sandbox::new();
    tags(&sandbox, &["v0.7.0", "v1.0.0"]);
    sandbox.write_docs_page("first 0.7");
    ok(&sandbox, &["docs-deploy", "0.7"]);
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("0.7", &["latest-release"])])
    );
    ok(&sandbox, &["docs-deploy", "1.0"]);
    sandbox.write_docs_page("second 0.7");
    let out = ok(&sandbox, &["docs-deploy", "v0.7"]);
    assert!(
        out.contains("`latest-release` stays on 1.0, the newest released series"),
        "{out}"
    );
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("1.0", &["latest-release"]), ("0.7", &[])])
    );
    assert!(remote_page(&sandbox, "0.7").contains("second 0.7"));
    let index = git(&sandbox.remote, &["show", "docs:index.html"]);
    assert!(index.contains("latest-release/"), "{index}");
    // An empty site's aliases follow the setting: redirect pages by default.
    let mode = git(&sandbox.remote, &["ls-tree", "docs", "latest-release"]);
    assert!(mode.starts_with("040000 tree"), "{mode}");
    // The remote is exactly what was pushed; the tracking ref agrees.
    assert_eq!(
        git(&sandbox.remote, &["rev-parse", "docs"]),
        git(&sandbox.work, &["rev-parse", "origin/docs"])
    );

    let list = ok(&sandbox, &["docs-list"]);
    let one = list.find("1.0  [latest-release]").expect("1.0 listed");
    let seven = list.find("    0.7\n").expect("0.7 listed");
    assert!(one < seven, "newest first:\n{list}");
    assert!(list.contains("default: latest-release"), "{list}");
}

/// The real site: series spelled `vX.Y`, a symlink alias (mike's default),
/// a CNAME file. New series, an older series and a redeploy keep all three.
#[test]
fn a_raw_mike_site_keeps_its_spelling_alias_type_and_files() {
    let sandbox = Sandbox::new();
    let seed = |args: &[&str]| {
        let mut all = vec![
            "deploy",
            "--branch",
            "docs",
            "--push",
            "--alias-type",
            "symlink",
        ];
        all.extend_from_slice(args);
        sandbox.raw_mike(&all);
    };
    seed(&["v0.6"]);
    seed(&["--update-aliases", "v1.0", "latest-release"]);
    sandbox.raw_mike(&[
        "set-default",
        "--branch",
        "docs",
        "--push",
        "latest-release",
    ]);
    // A CNAME committed on the docs branch, as GitHub Pages adds it.
    let pages = sandbox.dir.path().join("pages");
    git(
        &sandbox.work,
        &["worktree", "add", "-q", harness::path_str(&pages), "docs"],
    );
    fs::write(pages.join("CNAME"), "docs.example.invalid\n").expect("write CNAME");
    git(&pages, &["add", "CNAME"]);
    git(&pages, &["commit", "-qm", "CNAME"]);
    git(&pages, &["push", "-q", "origin", "docs"]);
    git(
        &sandbox.work,
        &["worktree", "remove", harness::path_str(&pages)],
    );
    tags(&sandbox, &["v0.6.0", "v0.8.0", "v1.0.0", "v1.1.0"]);

    let out = ok(&sandbox, &["docs-deploy", "1.1"]);
    assert!(out.contains("deploy v1.1 to origin/docs"), "{out}");
    ok(&sandbox, &["docs-deploy", "0.8"]);
    sandbox.write_docs_page("fixed 0.6");
    ok(&sandbox, &["docs-deploy", "0.6"]);

    assert_eq!(
        remote_versions(&sandbox),
        versions(&[
            ("v1.1", &["latest-release"]),
            ("v1.0", &[]),
            ("v0.8", &[]),
            ("v0.6", &[]),
        ])
    );
    assert!(remote_page(&sandbox, "v0.6").contains("fixed 0.6"));
    let alias = git(&sandbox.remote, &["ls-tree", "docs", "latest-release"]);
    assert!(alias.starts_with("120000 blob"), "a symlink: {alias}");
    assert_eq!(
        git(&sandbox.remote, &["show", "docs:latest-release"]),
        "v1.1"
    );
    assert_eq!(
        git(&sandbox.remote, &["show", "docs:CNAME"]),
        "docs.example.invalid"
    );
    let list = ok(&sandbox, &["docs-list"]);
    assert!(!list.contains("problem:"), "{list}");
}

/// The GitHub UI flow: the tag is on the branch's head, and the release
/// pipeline rotates the heading and bumps the version after it.
#[test]
fn a_tag_deploys_its_release_commit() {
    let sandbox = Sandbox::new();
    sandbox.write_docs_page("as tagged");
    sandbox.plain_tag("v0.7.0");
    let edit = |file: &str, from: &str, to: &str| {
        let path = sandbox.work.join(file);
        let old = fs::read_to_string(&path).expect("read");
        assert!(old.contains(from), "{file} has no {from:?}");
        fs::write(&path, old.replacen(from, to, 1)).expect("write");
    };
    edit("CHANGELOG.md", "## Recent Changes", "## v0.7.0");
    sandbox.commit_and_push("Release v0.7.0: changelog");
    edit(
        "pyproject.toml",
        "version = \"0.6.0\"",
        "version = \"0.7.0\"",
    );
    sandbox.commit_and_push("Release v0.7.0: version");
    let release_commit = git(&sandbox.work, &["rev-parse", "HEAD"]);
    // Later work on the release branch is not in the release's docs.
    edit(
        "CHANGELOG.md",
        "## v0.7.0",
        "## Recent Changes\n\n### Fixes\n\n- later fix\n\n## v0.7.0",
    );
    sandbox.write_docs_page("after the release");

    let out = ok(&sandbox, &["docs-deploy", "v0.7.0"]);
    assert!(
        out.contains(&format!("release commit {}", &release_commit[..10])),
        "{out}"
    );
    let notes = git(
        &sandbox.remote,
        &["show", "docs:0.7/release-notes/index.html"],
    );
    assert!(notes.contains("v0.7.0"), "{notes}");
    assert!(
        !notes.contains("Recent Changes") && !notes.contains("later fix"),
        "{notes}"
    );
    let page = remote_page(&sandbox, "0.7");
    assert!(
        page.contains("as tagged") && !page.contains("after the release"),
        "{page}"
    );
    // The temporary worktree is gone.
    assert!(!git(&sandbox.work, &["worktree", "list"]).contains("xtask-worktrees"));
}

#[test]
fn rolling_back_twice_never_puts_the_bad_deploy_back() {
    let sandbox = Sandbox::new();
    tags(&sandbox, &["v0.6.0", "v0.7.0"]);
    sandbox.write_docs_page("good");
    ok(&sandbox, &["docs-deploy", "0.7"]);
    ok(&sandbox, &["docs-deploy", "0.6"]);
    let good_tree = git(&sandbox.remote, &["rev-parse", "docs:0.7"]);
    let good_versions = git(&sandbox.remote, &["show", "docs:versions.json"]);
    sandbox.write_docs_page("bad");
    ok(&sandbox, &["docs-deploy", "0.7"]);
    assert!(remote_page(&sandbox, "0.7").contains("bad"));
    let bad = git(&sandbox.remote, &["rev-parse", "docs"]);

    let out = ok(&sandbox, &["docs-rollback", "0.7"]);
    assert!(out.contains("rolled back 0.7"), "{out}");
    assert_eq!(git(&sandbox.remote, &["rev-parse", "docs:0.7"]), good_tree);
    assert_eq!(
        git(&sandbox.remote, &["show", "docs:versions.json"]),
        good_versions
    );
    // A new commit on top, recording the deploy it undid.
    assert_eq!(git(&sandbox.remote, &["rev-parse", "docs^"]), bad);
    let message = git(&sandbox.remote, &["log", "-1", "--format=%B", "docs"]);
    assert!(
        message.contains(&format!("Xtask-Rollback-Undid: {bad}")),
        "{message}"
    );
    let after_first = git(&sandbox.remote, &["rev-parse", "docs"]);

    let out = ok(&sandbox, &["docs-rollback", "0.7"]);
    assert!(out.contains("rolled back already"), "{out}");
    assert_eq!(git(&sandbox.remote, &["rev-parse", "docs"]), after_first);
    assert_eq!(git(&sandbox.remote, &["rev-parse", "docs:0.7"]), good_tree);
    assert_eq!(git(&sandbox.work, &["status", "--porcelain"]), "");
}

#[test]
fn rollback_targets_are_docs_commits_where_the_series_existed() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.7.0");
    tags(&sandbox, &["v0.5.0"]);
    ok(&sandbox, &["docs-deploy", "0.7"]);
    let first = git(&sandbox.remote, &["rev-parse", "docs"]);
    ok(&sandbox, &["docs-deploy", "0.6"]);
    ok(&sandbox, &["docs-deploy", "0.5"]);
    let release_root = git(&sandbox.work, &["rev-list", "--max-parents=0", "root"]);
    let before = snapshot(&sandbox);
    for (to, why) in [
        ("root", "the release branch"),
        ("v0.7.0", "a release tag"),
        (release_root.as_str(), "not in its history"),
        ("--upload-pack=x", "is not a commit"),
    ] {
        refused(&sandbox, &["docs-rollback", "0.6", "--to", to], why);
        assert_eq!(snapshot(&sandbox), before, "--to {to}");
    }
    // A docs commit where the series did not exist: refused, except for a
    // series deployed once, where the plan says it is a deletion.
    let out = ok(
        &sandbox,
        &["docs-rollback", "0.6", "--to", &first, "--dry-run"],
    );
    assert!(out.contains("this is a deletion"), "{out}");
    assert!(out.contains("dry run: nothing will be changed"), "{out}");
    assert_eq!(snapshot(&sandbox), before);
    // `--to` an earlier docs commit where 0.7 existed restores it.
    ok(&sandbox, &["docs-rollback", "0.7", "--to", &first]);
    assert_eq!(
        git(&sandbox.remote, &["rev-parse", "docs:0.7"]),
        git(&sandbox.remote, &["rev-parse", &format!("{first}:0.7")])
    );
}

#[test]
fn rollback_that_would_orphan_latest_release_is_refused() {
    let sandbox = Sandbox::new();
    tags(&sandbox, &["v0.7.0"]);
    ok(&sandbox, &["docs-deploy", "0.7"]);
    let before = snapshot(&sandbox);
    refused(
        &sandbox,
        &["docs-rollback", "0.7"],
        "`latest-release` names it",
    );
    assert_eq!(snapshot(&sandbox), before);
}

#[test]
fn concurrent_deploys_from_two_clones_both_land() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.5.0");
    for t in ["v0.6.0", "v0.7.0"] {
        sandbox.plain_tag(t);
    }
    ok(&sandbox, &["docs-deploy", "0.5"]);
    let other = other_clone(&sandbox);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| xtask_in(&sandbox, &sandbox.work, &["docs-deploy", "0.6"]));
        let b = s.spawn(|| xtask_in(&sandbox, &other, &["docs-deploy", "0.7"]));
        (a.join().expect("thread"), b.join().expect("thread"))
    });
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    let names: Vec<String> = remote_versions(&sandbox)
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert_eq!(names, ["0.7", "0.6", "0.5"]);
    assert_eq!(
        remote_versions(&sandbox)[0],
        ("0.7".to_string(), vec!["latest-release".to_string()])
    );
}

/// A push lands on the remote between the first deploy and its
/// set-default: the whole plan is made again on top, default included.
#[test]
fn a_push_landing_before_the_set_default_is_retried() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.5.0");
    let other = other_clone(&sandbox);
    // The other clone has a deploy ready; a hook pushes it just before ours.
    let mike = harness::tools().join("mike");
    let path = format!(
        "{}:{}",
        harness::tools().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    harness::run_ok(
        std::process::Command::new(&mike)
            .args(["deploy", "--branch", "docs", "0.4"])
            .current_dir(&other)
            .env("PATH", &path),
    );
    let mark = sandbox.dir.path().join("hook-ran");
    let hook = sandbox.work.join(".git/hooks/pre-push");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n\
[ -e '{mark}' ] && exit 0\ntouch '{mark}'\ngit -C '{other}' push -q origin docs\n",
            mark = mark.display(),
            other = other.display()
        ),
    )
    .expect("write hook");
    harness::run_ok(std::process::Command::new("chmod").args(["+x", harness::path_str(&hook)]));

    let out = ok(&sandbox, &["docs-deploy", "0.5"]);
    assert!(out.contains("moved meanwhile"), "{out}");
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("0.5", &["latest-release"]), ("0.4", &[])])
    );
    let index = git(&sandbox.remote, &["show", "docs:index.html"]);
    assert!(index.contains("latest-release/"), "{index}");
}

#[test]
fn a_deleted_remote_branch_is_recreated_from_the_plan_only() {
    let sandbox = Sandbox::new();
    tags(&sandbox, &["v0.7.0", "v1.0.0"]);
    ok(&sandbox, &["docs-deploy", "0.7"]);
    ok(&sandbox, &["docs-deploy", "1.0"]);
    let old = git(&sandbox.remote, &["rev-parse", "docs"]);
    git(&sandbox.remote, &["branch", "-D", "docs"]);
    // The clone still has a local `docs` and `origin/docs`: stale.
    assert_eq!(git(&sandbox.work, &["rev-parse", "origin/docs"]), old);

    let out = ok(&sandbox, &["docs-deploy", "1.0"]);
    assert!(out.contains("pruned the stale tracking ref"), "{out}");
    assert!(out.contains("no such branch yet"), "{out}");
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("1.0", &["latest-release"])])
    );
    let new = git(&sandbox.remote, &["rev-parse", "docs"]);
    let resurrected = std::process::Command::new("git")
        .args(["merge-base", "--is-ancestor", &old, &new])
        .current_dir(&sandbox.remote)
        .status()
        .expect("git");
    assert!(!resurrected.success(), "the deleted history came back");
    assert_eq!(git(&sandbox.work, &["rev-parse", "origin/docs"]), new);
}

#[test]
fn an_unreleased_series_is_refused_unless_asked_and_takes_nothing() {
    let sandbox = Sandbox::new();
    // pyproject.toml's version (0.6.0) makes 0.6 released.
    ok(&sandbox, &["docs-deploy", "0.6"]);
    let before = snapshot(&sandbox);
    let index = git(&sandbox.remote, &["show", "docs:index.html"]);
    refused(
        &sandbox,
        &["docs-deploy", "99.0"],
        "series 99.0 is not released",
    );
    assert_eq!(snapshot(&sandbox), before);

    let out = ok(&sandbox, &["docs-deploy", "99.0", "--unreleased"]);
    assert!(out.contains("marked unreleased"), "{out}");
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("99.0", &[]), ("0.6", &["latest-release"])])
    );
    assert_eq!(git(&sandbox.remote, &["show", "docs:index.html"]), index);
    // A later deploy leaves latest-release on the released series.
    ok(&sandbox, &["docs-deploy", "0.6"]);
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("99.0", &[]), ("0.6", &["latest-release"])])
    );
}

#[test]
fn a_wrong_latest_release_is_repaired_and_said_so() {
    let sandbox = Sandbox::new();
    tags(&sandbox, &["v0.7.0", "v1.0.0"]);
    ok(&sandbox, &["docs-deploy", "0.7"]);
    ok(&sandbox, &["docs-deploy", "1.0"]);
    sandbox.raw_mike(&[
        "alias",
        "--branch",
        "docs",
        "--push",
        "--alias-type",
        "redirect",
        "--update-aliases",
        "0.7",
        "latest-release",
    ]);
    git(&sandbox.work, &["fetch", "-q", "origin"]);
    let out = ok(&sandbox, &["docs-deploy", "0.7"]);
    assert!(
        out.contains("`latest-release` is on 0.7, not on the newest released series 1.0"),
        "{out}"
    );
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("1.0", &["latest-release"]), ("0.7", &[])])
    );
    let page = git(&sandbox.remote, &["show", "docs:latest-release/index.html"]);
    assert!(page.contains("../1.0/"), "{page}");
}

#[test]
fn a_dry_run_plans_from_the_remote_as_it_is_now() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.7.0");
    sandbox.plain_tag("v1.0.0");
    ok(&sandbox, &["docs-deploy", "0.7"]);
    let other = other_clone(&sandbox);
    let out = xtask_in(&sandbox, &other, &["docs-deploy", "1.0"]);
    assert!(out.status.success(), "{}", text(&out));
    let before = snapshot(&sandbox);
    let out = ok(&sandbox, &["docs-deploy", "0.7", "--dry-run"]);
    assert!(out.contains("dry run: nothing will be changed"), "{out}");
    assert!(out.contains("1.0  [latest-release]"), "{out}");
    assert!(out.contains("would run `mike deploy"), "{out}");
    assert_eq!(snapshot(&sandbox), before);
}

#[test]
fn the_docs_branch_must_be_a_mike_site_of_its_own() {
    let sandbox = Sandbox::new();
    let before = snapshot(&sandbox);
    refused(
        &sandbox,
        &["docs-deploy", "0.6", "--docs-branch", "root"],
        "both `root`",
    );
    refused(
        &sandbox,
        &["docs-deploy", "0.6", "--docs-branch", ""],
        "it is empty",
    );
    assert_eq!(snapshot(&sandbox), before);
    // A branch holding the project, on the remote.
    git(&sandbox.work, &["push", "-q", "origin", "root:feature"]);
    let before = snapshot(&sandbox);
    refused(
        &sandbox,
        &["docs-deploy", "0.6", "--docs-branch", "feature"],
        "origin/feature is not a mike docs site (it holds pyproject.toml",
    );
    assert_eq!(snapshot(&sandbox), before);
    // A local branch holding anything else is never moved.
    git(&sandbox.work, &["branch", "notes", "root"]);
    refused(
        &sandbox,
        &["docs-deploy", "0.6", "--docs-branch", "notes"],
        "the local branch `notes` is not a mike docs site",
    );
    // The branch checked out here.
    git(&sandbox.work, &["checkout", "-q", "-b", "pages"]);
    refused(
        &sandbox,
        &[
            "docs-deploy",
            "0.6",
            "--from-tree",
            "--docs-branch",
            "pages",
        ],
        "is the branch checked out here",
    );
    assert_eq!(git(&sandbox.work, &["status", "--porcelain"]), "");
}

#[test]
fn bad_input_and_dry_run_change_nothing() {
    let sandbox = Sandbox::new();
    tags(&sandbox, &["v0.7.0", "v1.0.0"]);
    ok(&sandbox, &["docs-deploy", "0.7"]);
    ok(&sandbox, &["docs-deploy", "0.6"]);
    let before = snapshot(&sandbox);
    let long = "9".repeat(10_000);
    for (args, message) in [
        (
            &["docs-deploy", "latest"][..],
            "invalid docs series `latest`",
        ),
        (&["docs-deploy", "1"], "invalid docs series `1`"),
        (&["docs-deploy", "0.7.x"], "`x` is not a number"),
        (&["docs-deploy", "v9.9.9"], "tag v9.9.9 does not exist"),
        (&["docs-deploy", "v0.7.0-rc1"], "expected a release tag"),
        (&["docs-deploy", &long], "more characters"),
        (&["docs-rollback", &long], "more characters"),
        (
            &["docs-rollback", "0.9"],
            "series 0.9 is not on origin/docs",
        ),
        (
            &["docs-rollback", "0.7", "--to", "nope"],
            "--to nope is not a commit",
        ),
    ] {
        let out = refused(&sandbox, args, message);
        assert!(
            out.len() < 2_000,
            "{args:?} echoed too much: {} bytes",
            out.len()
        );
    }
    let out = ok(&sandbox, &["docs-deploy", "1.0", "--dry-run"]);
    assert!(
        out.contains("would run `mike deploy") && out.contains("\"version\": \"1.0\""),
        "{out}"
    );
    let out = ok(&sandbox, &["docs-rollback", "0.6", "--dry-run"]);
    assert!(out.contains("delete 0.6 from origin/docs"), "{out}");
    assert_eq!(snapshot(&sandbox), before);

    fs::write(sandbox.work.join(PAGE), "dirty\n").expect("write");
    refused(&sandbox, &["docs-deploy", "0.7"], "not clean");
    git(&sandbox.work, &["checkout", "--", PAGE]);
    assert_eq!(snapshot(&sandbox), before);
}

#[test]
fn stale_xtask_worktrees_are_pruned() {
    let sandbox = Sandbox::new();
    // What an interrupted tag deploy leaves: a registered worktree named
    // after a process that is gone.
    let stale = sandbox
        .work
        .join("target/xtask-worktrees/docs-build-999999999");
    git(
        &sandbox.work,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            harness::path_str(&stale),
            "HEAD",
        ],
    );
    ok(&sandbox, &["docs-list"]);
    assert!(!git(&sandbox.work, &["worktree", "list"]).contains("xtask-worktrees"));
    assert!(!stale.exists());
}

/// A series deployed once and rolled back is deleted; rolling it back
/// again used to be refused (exit 2, "not on origin/docs"), breaking the
/// promise that a rollback is idempotent. It is now a no-op that says so.
#[test]
fn rolling_back_a_deleted_series_again_is_a_no_op() {
    let sandbox = Sandbox::new();
    tags(&sandbox, &["v0.6.0", "v0.7.0"]);
    ok(&sandbox, &["docs-deploy", "0.7"]);
    ok(&sandbox, &["docs-deploy", "0.6"]);
    let out = ok(&sandbox, &["docs-rollback", "0.6"]);
    assert!(out.contains("this is a deletion"), "{out}");
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("0.7", &["latest-release"])])
    );
    let before = snapshot(&sandbox);
    let out = ok(&sandbox, &["docs-rollback", "0.6"]);
    assert!(out.contains("rolled back already"), "{out}");
    assert_eq!(snapshot(&sandbox), before);
    // A series that was never there is still refused.
    refused(&sandbox, &["docs-rollback", "0.5"], "series 0.5 is not on");
}

/// A site made by raw mike where `0.8` is an alias of 0.7: deploying
/// series 0.8 is refused before mike runs (mike would move the alias and
/// replace its page), and the docs branch stays as it was.
#[test]
fn an_alias_named_like_the_series_is_refused_before_mike_runs() {
    let sandbox = Sandbox::new();
    sandbox.raw_mike(&[
        "deploy",
        "--branch",
        "docs",
        "--push",
        "--update-aliases",
        "0.7",
        "latest-release",
        "0.8",
    ]);
    tags(&sandbox, &["v0.7.0", "v0.8.0"]);
    let before = snapshot(&sandbox);
    for args in [
        &["docs-deploy", "0.8"][..],
        &["docs-deploy", "0.8", "--dry-run"],
    ] {
        refused(
            &sandbox,
            args,
            "`0.8` is an alias of 0.7 on the docs branch, not a version",
        );
    }
    assert_eq!(snapshot(&sandbox), before);
    // mike keeps aliases as a set: their order in the file is its own.
    let mut site = remote_versions(&sandbox);
    site[0].1.sort();
    assert_eq!(site, versions(&[("0.7", &["0.8", "latest-release"])]));
}
