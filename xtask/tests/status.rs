//! `cargo xtask status` on real sandboxes: bare remote, a second clone, a
//! yank-capable stub index. Each finding is constructed and asserted in
//! text and JSON with its exit code, and each printed fix is run until
//! the state converges.

mod harness;
mod stub_index;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use harness::{free_port, git, output, path_str, run_ok, says, text, Sandbox, TempDir};
use stub_index::{with_stub, YankIndex};

fn status_in(sandbox: &Sandbox, dir: &Path, index: &YankIndex, extra: &[&str]) -> Output {
    let mut args = vec!["status"];
    args.extend(extra);
    let mut cmd = with_stub(sandbox.xtask(&args), index);
    cmd.current_dir(dir);
    output(cmd)
}

/// `(problem, fix)` pairs of a `status --json` report, which must parse.
fn findings(out: &Output) -> Vec<(String, String)> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json is not JSON ({e}):\n{}", text(out)));
    assert_eq!(report["consistent"], out.status.success(), "{}", text(out));
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["problem"].as_str().unwrap_or_default().to_string(),
                f["fix"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Runs one printed fix as printed: `cargo xtask ...` with the built
/// binary, `git ...` with git, and the manual yank on the stub index.
fn apply(sandbox: &Sandbox, dir: &Path, index: &YankIndex, problem: &str, fix: &str) {
    let words: Vec<&str> = fix.split_whitespace().collect();
    match words.as_slice() {
        ["cargo", "xtask", rest @ ..] => {
            if rest.contains(&"--wait") {
                // The maintainer yanks while the command waits.
                let version = rest[1].trim_start_matches('v');
                index.yank_from_poll(version, index.polls() + 2);
            }
            let mut cmd = with_stub(sandbox.xtask(rest), index);
            cmd.current_dir(dir);
            run_ok(&mut cmd);
        }
        ["git", rest @ ..] => {
            git(dir, rest);
        }
        ["yank", version, "by", "hand", ..] => index.yank(version),
        _ => panic!("`{fix}` (for `{problem}`) is neither a command nor a yank"),
    }
}

/// Runs every printed fix, round after round, until status is consistent;
/// the number of findings falls every round.
fn converge(sandbox: &Sandbox, dir: &Path, index: &YankIndex) {
    let mut last = usize::MAX;
    for _ in 0..4 {
        let out = status_in(sandbox, dir, index, &["--json"]);
        let found = findings(&out);
        if found.is_empty() {
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
            let out = status_in(sandbox, dir, index, &[]);
            assert!(
                text(&out).contains("consistent: nothing to fix"),
                "{}",
                text(&out)
            );
            return;
        }
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(found.len() < last, "no progress: {found:#?}");
        last = found.len();
        for (problem, fix) in &found {
            apply(sandbox, dir, index, problem, fix);
        }
    }
    panic!("status did not converge");
}

/// A docs branch made by hand (as mike leaves it), pushed to the remote.
fn docs_branch(sandbox: &Sandbox, versions: &str) {
    let dir = TempDir::new("docs-branch");
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "docs"]);
    std::fs::write(repo.join("versions.json"), versions).expect("versions.json");
    std::fs::write(
        repo.join("index.html"),
        "<!DOCTYPE html><meta http-equiv=\"refresh\" content=\"0; url=latest-release/\">\n",
    )
    .expect("index.html");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "Docs by hand"]);
    git(repo, &["push", "-q", path_str(&sandbox.remote), "docs"]);
}

#[test]
fn index_outward_findings_converge_when_each_fix_is_run() {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.6.0");
    git(
        &sandbox.work,
        &["commit", "-q", "--allow-empty", "-m", "Work for 0.7"],
    );
    git(&sandbox.work, &["push", "-q", "origin", "root"]);
    sandbox.plain_tag("v0.7.0");
    let index = YankIndex::start(false);
    for v in ["0.6.0", "0.6.5", "0.7.0", "0.8.0"] {
        index.publish(v);
    }
    let out = status_in(&sandbox, &sandbox.work, &index, &[]);
    says(
        &out,
        1,
        &[
            "index newest:      0.8.0",
            "0.6.5 is on the index but has no tag v0.6.5",
            "fix: yank 0.6.5 by hand at http://127.0.0.1:",
            "0.8.0 is on the index above the newest tag (v0.7.0) and has no tag v0.8.0",
            "fix: cargo xtask release-rollback v0.8.0 --yes --wait",
            "0.7.0 is on the index but CHANGELOG.md has no `## v0.7.0` section",
            "fix: cargo xtask release v0.7.0 --step changelog",
            "pyproject.toml says 0.6.0 but v0.7.0 is released",
            "fix: cargo xtask release v0.7.0 --step version",
            "series 0.7 is released (v0.7.0) but has no docs",
            "fix: cargo xtask docs-deploy v0.7.0",
            "series 0.6 is released (v0.6.0) but has no docs",
            "fix: cargo xtask docs-deploy v0.6.0",
        ],
    );
    let json = status_in(&sandbox, &sandbox.work, &index, &["--json"]);
    assert_eq!(json.status.code(), Some(1));
    assert_eq!(findings(&json).len(), 6, "{}", text(&json));
    converge(&sandbox, &sandbox.work, &index);
    // The rolled-back 0.8.0 is spent: the next release is its next patch.
    says(
        &status_in(&sandbox, &sandbox.work, &index, &[]),
        0,
        &["release state:     rolled back (0.6.5, 0.8.0), next release v0.8.1"],
    );
}

/// A sandbox whose 0.6.0 and 0.7.0 are tagged and on the (yank-capable)
/// index.
fn released_0_6_and_0_7() -> (Sandbox, YankIndex) {
    let sandbox = Sandbox::new();
    let index = YankIndex::start(true);
    index.publish("0.6.0");
    sandbox.plain_tag("v0.6.0");
    run_ok(&mut with_stub(sandbox.xtask(&["tag", "v0.7.0"]), &index));
    index.publish("0.7.0");
    (sandbox, index)
}

#[test]
fn after_a_rollback_status_never_advises_a_downgrade_and_clones_converge() {
    let (sandbox, index) = released_0_6_and_0_7();
    docs_branch(
        &sandbox,
        r#"[{"version":"0.7","title":"0.7","aliases":["latest-release"]},{"version":"0.6","title":"0.6","aliases":[]}]"#,
    );
    let other = sandbox.dir.path().join("other");
    git(
        sandbox.dir.path(),
        &["clone", "-q", path_str(&sandbox.remote), path_str(&other)],
    );
    says(
        &status_in(&sandbox, &sandbox.work, &index, &[]),
        0,
        &["consistent"],
    );

    // 0.7.0 yanked while its tag stands: the rollback is not finished.
    index.yank("0.7.0");
    let out = status_in(&sandbox, &sandbox.work, &index, &[]);
    says(
        &out,
        1,
        &[
            "index newest:      0.7.0 (yanked)",
            "0.7.0, the newest version on the index, is yanked but its tag v0.7.0 stands",
            "fix: cargo xtask release-rollback v0.7.0 --delete-tag --yes",
        ],
    );
    converge(&sandbox, &sandbox.work, &index);
    // Rolled back: spent, next patch; pyproject.toml's 0.7.0 is no reason
    // to go back to 0.6.0.
    let out = status_in(&sandbox, &sandbox.work, &index, &[]);
    says(
        &out,
        0,
        &[
            "newest tag:        v0.6.0",
            "pyproject.toml:    0.7.0",
            "release state:     rolled back (0.7.0), next release v0.7.1",
        ],
    );
    assert!(!text(&out).contains("--step version"), "{}", text(&out));
    let json = status_in(&sandbox, &sandbox.work, &index, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["next_release"], "v0.7.1");
    assert_eq!(report["rolled_back"][0], "0.7.0");

    // Another clone still holds the deleted tag, and a v0.6.0 of its own.
    git(&other, &["tag", "-d", "v0.6.0"]);
    git(
        &other,
        &["tag", "-a", "v0.6.0", "-m", "Release v0.6.0", "HEAD"],
    );
    let out = status_in(&sandbox, &other, &index, &[]);
    says(
        &out,
        1,
        &[
            "tag v0.7.0 is in this clone but not on `origin` (deleted there: 0.7.0 was rolled back)",
            "fix: git tag -d v0.7.0",
            "tag v0.6.0 here (at",
            "fix: git fetch --force origin refs/tags/v0.6.0:refs/tags/v0.6.0",
        ],
    );
    converge(&sandbox, &other, &index);
    assert_eq!(
        git(&other, &["rev-parse", "v0.6.0^{commit}"]),
        git(&sandbox.remote, &["rev-parse", "v0.6.0^{commit}"])
    );
}

#[test]
fn an_unreachable_remote_or_index_and_a_missing_branch_are_findings() {
    let sandbox = Sandbox::new();
    let remote = path_str(&sandbox.remote).to_string();
    git(
        &sandbox.work,
        &["remote", "set-url", "origin", "/nonexistent/remote.git"],
    );
    let closed = format!("http://127.0.0.1:{}/", free_port());
    let run = |extra: &[&str]| {
        let mut args = vec!["status"];
        args.extend(extra);
        let mut cmd = sandbox.xtask(&args);
        cmd.env("TWINE_REPOSITORY_URL", &closed)
            .stdin(Stdio::null());
        output(cmd)
    };
    says(
        &run(&[]),
        1,
        &[
            "the remote `origin` could not be read: ",
            "does not appear to be a git repository",
            "fix: make `origin` reachable (`git ls-remote origin` shows git's reason)",
            "the package index could not be read",
        ],
    );
    let json = run(&["--json"]);
    assert_eq!(json.status.code(), Some(1));
    let found = findings(&json);
    assert!(
        found
            .iter()
            .any(|(p, _)| p.contains("does not appear to be a git repository")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(p, _)| p.contains("package index")),
        "{found:?}"
    );

    // A remote whose release branch is called `main`.
    git(&sandbox.work, &["remote", "set-url", "origin", &remote]);
    git(&sandbox.remote, &["branch", "-m", "root", "main"]);
    let index = YankIndex::start(false);
    let out = status_in(&sandbox, &sandbox.work, &index, &[]);
    says(
        &out,
        1,
        &[
            "`origin` has no release branch `root` (its branches: main)",
            "`release-branch = \"main\"` in [tool.xtask] of pyproject.toml, or pass --root-branch main",
        ],
    );
    assert!(!text(&out).contains("fatal:"), "{}", text(&out));
    says(
        &status_in(&sandbox, &sandbox.work, &index, &["--root-branch", "main"]),
        0,
        &["consistent: nothing to fix"],
    );
}

/// `latest-release` listed on two versions in versions.json (a hand edit,
/// an old mike without `--update-aliases`): the site serves it from one
/// only, so the selector lies. Status reports it with the docs-deploy that
/// leaves it on the newest series alone, and converges once that ran.
#[test]
fn an_alias_listed_on_two_docs_versions_is_found_and_repaired() {
    let (sandbox, index) = released_0_6_and_0_7();
    docs_branch(
        &sandbox,
        r#"[{"version":"0.7","title":"0.7","aliases":["latest-release"]},{"version":"0.6","title":"0.6","aliases":["latest-release"]}]"#,
    );
    let out = status_in(&sandbox, &sandbox.work, &index, &[]);
    says(
        &out,
        1,
        &[
            "alias `latest-release` is listed on more than one docs version (0.7, 0.6)",
            "fix: cargo xtask docs-deploy 0.7",
        ],
    );
    let out = output(with_stub(sandbox.xtask(&["docs-list"]), &index));
    says(&out, 0, &["problem: alias `latest-release` is listed"]);
    converge(&sandbox, &sandbox.work, &index);
    assert_eq!(
        sandbox.remote_docs_versions(),
        vec![
            ("0.7".to_string(), vec!["latest-release".to_string()]),
            ("0.6".to_string(), vec![]),
        ]
    );
}

/// A clone made before the release (behind `origin/root`): status reads
/// the release files as the remote's branch holds them. It used to read
/// the stale working tree and advise `release --step changelog` and
/// `--step version`, which are no-ops there, so it never converged.
#[test]
fn a_clone_behind_the_remote_reports_the_remote_files() {
    let sandbox = Sandbox::new();
    let index = YankIndex::start(true);
    index.publish("0.6.0");
    sandbox.plain_tag("v0.6.0");
    let stale = sandbox.dir.path().join("stale");
    git(
        sandbox.dir.path(),
        &["clone", "-q", path_str(&sandbox.remote), path_str(&stale)],
    );
    run_ok(&mut with_stub(sandbox.xtask(&["tag", "v0.7.0"]), &index));
    index.publish("0.7.0");
    docs_branch(
        &sandbox,
        r#"[{"version":"0.7","title":"0.7","aliases":["latest-release"]},{"version":"0.6","title":"0.6","aliases":[]}]"#,
    );
    let out = status_in(&sandbox, &stale, &index, &[]);
    says(
        &out,
        0,
        &[
            "release files:     origin/root",
            "pyproject.toml:    0.7.0",
            "consistent: nothing to fix",
        ],
    );
    assert!(!text(&out).contains("--step"), "{}", text(&out));
    // The clone itself was not moved.
    assert!(git(&stale, &["status", "-sb"]).contains("behind"));
}

/// A private index (listing needs the password), its credentials given as
/// userinfo in XTASK_INDEX_URL: `status` and `release-rollback` read it
/// with them, as `release` does, instead of being refused and reporting
/// the index unreadable.
#[test]
fn a_private_index_is_read_with_the_index_url_credentials() {
    let sandbox = Sandbox::new();
    let index = harness::Index::start_private();
    sandbox.plain_tag("v0.7.0");
    let private = |cmd: &mut Command| {
        cmd.env("TWINE_REPOSITORY_URL", index.url())
            .env("TWINE_USERNAME", harness::USER)
            .env("TWINE_PASSWORD", harness::PASSWORD)
            .env(
                "XTASK_INDEX_URL",
                format!(
                    "http://{}:{}@127.0.0.1:{}/simple/",
                    harness::USER,
                    harness::PASSWORD,
                    index.port
                ),
            )
            .env("XTASK_VERIFY_TIMEOUT", "20")
            .stdin(Stdio::null());
    };
    let mut release = sandbox.xtask(&["release", "v0.7.0"]);
    private(&mut release);
    says(&output(release), 0, &["released v0.7.0"]);
    run_ok(
        Command::new("git")
            .args(["pull", "-q"])
            .current_dir(&sandbox.work),
    );
    let mut status = sandbox.xtask(&["status"]);
    private(&mut status);
    let out = output(status);
    let all = text(&out);
    assert!(all.contains("index newest:      0.7.0"), "{all}");
    assert!(!all.contains(harness::PASSWORD), "{all}");
    let mut rollback = sandbox.xtask(&["release-rollback", "v0.7.0", "--dry-run"]);
    private(&mut rollback);
    let out = output(rollback);
    let all = text(&out);
    assert!(!all.contains("reading the package index"), "{all}");
    assert!(all.contains("0.7.0 is on the index"), "{all}");
}

/// 0.6.0 tagged by hand, v0.7.0 made by `tag` (its release commit on
/// root), both on the stub index, docs for both: consistent.
fn released_by_tag() -> (Sandbox, YankIndex) {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.6.0");
    let index = YankIndex::start(false);
    index.publish("0.6.0");
    run_ok(&mut with_stub(sandbox.xtask(&["tag", "v0.7.0"]), &index));
    index.publish("0.7.0");
    docs_branch(
        &sandbox,
        r#"[{"version":"0.7","title":"0.7","aliases":["latest-release"]},{"version":"0.6","title":"0.6","aliases":[]}]"#,
    );
    says(
        &status_in(&sandbox, &sandbox.work, &index, &[]),
        0,
        &["consistent: nothing to fix"],
    );
    (sandbox, index)
}

fn edit_and_push(sandbox: &Sandbox, file: &str, edit: impl Fn(&str) -> String, message: &str) {
    let path = sandbox.work.join(file);
    let before = std::fs::read_to_string(&path).expect("read");
    let after = edit(&before);
    assert_ne!(before, after, "{message}: nothing changed");
    std::fs::write(&path, after).expect("write");
    sandbox.commit_and_push(message);
}

/// After a release, pyproject.toml set back by hand: the release step
/// would find the release done and change nothing, so the fix is the one
/// manual edit, and once made, the finding is gone.
#[test]
fn a_version_set_back_after_a_release_is_fixed_by_the_printed_edit() {
    let (sandbox, index) = released_by_tag();
    let set = |v: &'static str| {
        move |text: &str| {
            let at = text.find("version = \"").expect("version") + "version = \"".len();
            let end = at + text[at..].find('"').expect("quote");
            format!("{}{v}{}", &text[..at], &text[end..])
        }
    };
    edit_and_push(
        &sandbox,
        "pyproject.toml",
        set("0.6.0"),
        "Set the version back",
    );
    let out = status_in(&sandbox, &sandbox.work, &index, &[]);
    says(
        &out,
        1,
        &[
            "pyproject.toml says 0.6.0 but v0.7.0 is released",
            "fix: set `version = \"0.7.0\"` under [project] in pyproject.toml (as the release commit",
            "then commit and push it to `root`",
        ],
    );
    assert!(!text(&out).contains("--step version"), "{}", text(&out));
    // The printed step would not converge: the release is done.
    let step = output(with_stub(
        sandbox.xtask(&["release", "v0.7.0", "--step", "version"]),
        &index,
    ));
    assert!(text(&step).contains("already released"), "{}", text(&step));
    // The printed edit does.
    edit_and_push(
        &sandbox,
        "pyproject.toml",
        set("0.7.0"),
        "Version 0.7.0 again",
    );
    says(
        &status_in(&sandbox, &sandbox.work, &index, &[]),
        0,
        &["consistent: nothing to fix"],
    );
}

/// After a release, its `## vX.Y.Z` section deleted by hand: the fix names
/// the commit that has it, and putting it back from there converges.
#[test]
fn a_released_section_deleted_after_a_release_is_fixed_by_the_printed_edit() {
    let (sandbox, index) = released_by_tag();
    let section = |log: &str| {
        let start = log.find("## v0.7.0").expect("the section");
        let end = start + log[start..].find("## v0.6.0").expect("the next section");
        (start, end)
    };
    edit_and_push(
        &sandbox,
        "CHANGELOG.md",
        |log| {
            let (start, end) = section(log);
            format!("{}{}", &log[..start], &log[end..])
        },
        "Delete the released section",
    );
    let json = status_in(&sandbox, &sandbox.work, &index, &["--json"]);
    let found = findings(&json);
    assert_eq!(found.len(), 1, "{found:?}");
    let (problem, fix) = &found[0];
    assert_eq!(
        problem,
        "0.7.0 is on the index but CHANGELOG.md has no `## v0.7.0` section"
    );
    assert!(!fix.contains("--step changelog"), "{fix}");
    // `git show C:CHANGELOG.md`, as printed.
    let shown = fix
        .split('`')
        .find(|part| part.starts_with("git show "))
        .unwrap_or_else(|| panic!("no git show in {fix}"));
    let words: Vec<&str> = shown.split_whitespace().collect();
    let old = git(&sandbox.work, &words[1..]);
    edit_and_push(
        &sandbox,
        "CHANGELOG.md",
        |log| {
            let at = log.find("## v0.6.0").expect("the previous release");
            let (start, end) = section(&old);
            format!("{}{}{}", &log[..at], &old[start..end], &log[at..])
        },
        "Put the released section back",
    );
    says(
        &status_in(&sandbox, &sandbox.work, &index, &[]),
        0,
        &["consistent: nothing to fix"],
    );
}
