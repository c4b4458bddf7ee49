//! `cargo xtask status` on real sandboxes: bare remote, pypiserver, docs
//! branch. Consistent after a release; each inconsistency named with its fix.

mod harness;

use std::process::Output;

use harness::{git, run_ok, text, with_index, Index, Sandbox, PASSWORD};

fn status(sandbox: &Sandbox, index: &Index) -> Output {
    with_index(sandbox.xtask(&["status"]), index, PASSWORD)
        .output()
        .expect("xtask status")
}

#[test]
fn status_is_consistent_after_a_release_and_names_each_inconsistency() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    run_ok(&mut sandbox.xtask(&["tag", "v0.7.0"]));
    run_ok(&mut with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    run_ok(&mut sandbox.xtask(&["docs-deploy", "v0.7.0"]));

    let out = status(&sandbox, &index);
    assert!(out.status.success(), "{}", text(&out));
    let all = text(&out);
    for line in [
        "newest tag:        v0.7.0",
        "pyproject.toml:    0.7.0",
        "index newest:      0.7.0",
        "0.7 [latest-release]",
        "consistent: nothing to fix",
    ] {
        assert!(all.contains(line), "{line}: {all}");
    }
    let json = with_index(sandbox.xtask(&["status", "--json"]), &index, PASSWORD)
        .output()
        .expect("json");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert_eq!(report["consistent"], true);
    assert_eq!(report["index_versions"][0], "0.7.0");

    // Docs: an older series steals the alias, and a second spelling appears.
    sandbox.raw_mike(&[
        "deploy",
        "--branch",
        "docs",
        "--push",
        "--update-aliases",
        "0.6",
        "latest-release",
    ]);
    sandbox.raw_mike(&["deploy", "--branch", "docs", "--push", "v0.7"]);
    // The repository: a new tag that is not released, and an unpushed commit.
    git(
        &sandbox.work,
        &["tag", "-a", "v0.7.1", "-m", "Release v0.7.1"],
    );
    git(
        &sandbox.work,
        &["commit", "-q", "--allow-empty", "-m", "Local only"],
    );

    let out = status(&sandbox, &index);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    for (problem, fix) in [
        (
            "v0.7.1 is tagged but not (completely) on the index",
            "fix: cargo xtask release v0.7.1",
        ),
        (
            "CHANGELOG.md has no `## v0.7.1` section",
            "fix: cargo xtask release v0.7.1 --step changelog",
        ),
        ("series 0.7 under 2 spellings", "mike delete"),
        (
            "`latest-release` is on 0.6 but the newest docs series is 0.7",
            "fix: cargo xtask docs-deploy 0.7",
        ),
        ("1 release-branch commit(s) are not pushed", "fix: git push"),
    ] {
        assert!(
            all.contains(problem) && all.contains(fix),
            "{problem} / {fix}:\n{all}"
        );
    }
}

#[test]
fn a_version_mismatch_and_an_unreachable_index_are_reported() {
    let sandbox = Sandbox::new();
    let mut index = Index::start();
    run_ok(&mut sandbox.xtask(&["tag", "v0.7.0"]));
    run_ok(&mut with_index(
        sandbox.xtask(&["release", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    let path = sandbox.work.join("pyproject.toml");
    let text_before = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text_before.replace("version = \"0.7.0\"", "version = \"0.6.9\""),
    )
    .expect("write");
    sandbox.commit_and_push("Wrong version by hand");
    index.stop();
    let out = status(&sandbox, &index);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("pyproject.toml says 0.6.9 but v0.7.0 is released"),
        "{all}"
    );
    assert!(
        all.contains("fix: cargo xtask release v0.7.0 --step version"),
        "{all}"
    );
    assert!(all.contains("the package index could not be read"), "{all}");
}
