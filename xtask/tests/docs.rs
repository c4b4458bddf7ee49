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

/// The remote docs branch's versions.json as `(version, aliases)` pairs.
fn remote_versions(sandbox: &Sandbox) -> Vec<(String, Vec<String>)> {
    let json = git(&sandbox.remote, &["show", "docs:versions.json"]);
    let list: serde_json::Value = serde_json::from_str(&json).expect("versions.json is JSON");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| {
            let aliases = v["aliases"]
                .as_array()
                .expect("aliases")
                .iter()
                .map(|a| a.as_str().unwrap_or_default().to_string())
                .collect();
            (
                v["version"].as_str().unwrap_or_default().to_string(),
                aliases,
            )
        })
        .collect()
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

#[test]
fn latest_release_stays_on_the_newest_series() {
    let sandbox = Sandbox::new();
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
        out.contains("`latest-release` stays on the newer series"),
        "{out}"
    );
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("1.0", &["latest-release"]), ("0.7", &[])])
    );
    assert!(remote_page(&sandbox, "0.7").contains("second 0.7"));
    let index = git(&sandbox.remote, &["show", "docs:index.html"]);
    assert!(index.contains("latest-release/"), "{index}");
    // Aliases are redirect pages, not symlinks.
    let mode = git(&sandbox.remote, &["ls-tree", "docs", "latest-release"]);
    assert!(mode.starts_with("040000 tree"), "{mode}");

    let list = ok(&sandbox, &["docs-list"]);
    let one = list.find("1.0  [latest-release]").expect("1.0 listed");
    let seven = list.find("    0.7\n").expect("0.7 listed");
    assert!(one < seven, "newest first:\n{list}");
    assert!(list.contains("default: latest-release"), "{list}");
}

#[test]
fn an_existing_v_spelling_is_reused() {
    let sandbox = Sandbox::new();
    sandbox.raw_mike(&["deploy", "--branch", "docs", "--push", "v0.7"]);
    sandbox.raw_mike(&[
        "deploy",
        "--branch",
        "docs",
        "--push",
        "--update-aliases",
        "v1.0",
        "latest-release",
    ]);
    sandbox.raw_mike(&[
        "set-default",
        "--branch",
        "docs",
        "--push",
        "latest-release",
    ]);
    sandbox.write_docs_page("fixed v0.7");
    ok(&sandbox, &["docs-deploy", "0.7"]);
    assert_eq!(
        remote_versions(&sandbox),
        versions(&[("v1.0", &["latest-release"]), ("v0.7", &[])])
    );
    assert!(remote_page(&sandbox, "v0.7").contains("fixed v0.7"));
}

#[test]
fn a_tag_deploys_the_tagged_tree() {
    let sandbox = Sandbox::new();
    sandbox.write_docs_page("as tagged");
    git(
        &sandbox.work,
        &["tag", "-a", "v0.7.3", "-m", "Release v0.7.3"],
    );
    sandbox.write_docs_page("newer content");
    ok(&sandbox, &["docs-deploy", "v0.7.3"]);
    let page = remote_page(&sandbox, "0.7");
    assert!(
        page.contains("as tagged") && !page.contains("newer content"),
        "{page}"
    );
    // The temporary worktree is gone.
    assert!(!git(&sandbox.work, &["worktree", "list"]).contains("xtask-worktrees"));
}

#[test]
fn rollback_restores_the_previous_tree_and_versions() {
    let sandbox = Sandbox::new();
    sandbox.write_docs_page("good");
    ok(&sandbox, &["docs-deploy", "0.7"]);
    ok(&sandbox, &["docs-deploy", "0.6"]);
    let good_tree = git(&sandbox.remote, &["rev-parse", "docs:0.7"]);
    let good_versions = git(&sandbox.remote, &["show", "docs:versions.json"]);
    sandbox.write_docs_page("bad");
    ok(&sandbox, &["docs-deploy", "0.7"]);
    assert!(remote_page(&sandbox, "0.7").contains("bad"));
    let before = git(&sandbox.remote, &["rev-parse", "docs"]);

    let out = ok(&sandbox, &["docs-rollback", "0.7"]);
    assert!(out.contains("rolled back 0.7"), "{out}");
    assert_eq!(git(&sandbox.remote, &["rev-parse", "docs:0.7"]), good_tree);
    assert_eq!(
        git(&sandbox.remote, &["show", "docs:versions.json"]),
        good_versions
    );
    // A new commit on top: no history rewrite.
    assert_eq!(git(&sandbox.remote, &["rev-parse", "docs^"]), before);
}

#[test]
fn rollback_that_would_orphan_latest_release_is_refused() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["docs-deploy", "0.7"]);
    let before = git(&sandbox.remote, &["rev-parse", "docs"]);
    let out = output(sandbox.xtask(&["docs-rollback", "0.7"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`latest-release` pointing at nothing"),
        "{}",
        text(&out)
    );
    assert_eq!(git(&sandbox.remote, &["rev-parse", "docs"]), before);
}

#[test]
fn concurrent_deploys_from_two_clones_both_land() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["docs-deploy", "0.5"]);
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
    let run = |dir: &Path, series: &str| {
        let mut cmd = sandbox.xtask(&["docs-deploy", series]);
        cmd.current_dir(dir);
        output(cmd)
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run(&sandbox.work, "0.6"));
        let b = s.spawn(|| run(&other, "0.7"));
        (a.join().expect("thread"), b.join().expect("thread"))
    });
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    // Both built from the same docs commit; the later push was refused and
    // redeployed on top.
    assert!(
        text(&a).contains("moved meanwhile") || text(&b).contains("moved meanwhile"),
        "no deploy had to retry:\n{}\n{}",
        text(&a),
        text(&b)
    );
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

#[test]
fn bad_input_and_dry_run_change_nothing() {
    let sandbox = Sandbox::new();
    ok(&sandbox, &["docs-deploy", "0.7"]);
    ok(&sandbox, &["docs-deploy", "0.6"]);
    let refs = || {
        format!(
            "{}\n{}",
            git(&sandbox.remote, &["for-each-ref"]),
            git(&sandbox.work, &["for-each-ref"])
        )
    };
    let before = refs();
    for (args, code, message) in [
        (
            &["docs-deploy", "latest"][..],
            2,
            "invalid docs series `latest`",
        ),
        (&["docs-deploy", "1"], 2, "invalid docs series `1`"),
        (&["docs-deploy", "0.7.x"], 2, "`x` is not a number"),
        (&["docs-deploy", "v9.9.9"], 2, "tag v9.9.9 does not exist"),
        (&["docs-deploy", "v0.7.0-rc1"], 2, "expected a release tag"),
        (
            &["docs-rollback", "0.9"],
            2,
            "series 0.9 is not on origin/docs",
        ),
        (
            &["docs-rollback", "0.7", "--to", "nope"],
            2,
            "--to nope is not a commit",
        ),
    ] {
        let out = output(sandbox.xtask(args));
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(message), "{args:?}: {}", text(&out));
    }
    let out = ok(&sandbox, &["docs-deploy", "1.0", "--dry-run"]);
    assert!(
        out.contains("would run `mike deploy") && out.contains("\"version\": \"1.0\""),
        "{out}"
    );
    let out = ok(&sandbox, &["docs-rollback", "0.6", "--dry-run"]);
    assert!(out.contains("restore 0.6 on origin/docs to "), "{out}");
    assert!(
        !out.contains("    0.6"),
        "0.6 did not exist before its deploy:\n{out}"
    );
    assert_eq!(refs(), before);

    fs::write(sandbox.work.join(PAGE), "dirty\n").expect("write");
    let out = output(sandbox.xtask(&["docs-deploy", "0.7"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not clean"), "{}", text(&out));
    assert_eq!(refs(), before);
}
