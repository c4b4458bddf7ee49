//! What `cargo xtask tag` and `cargo xtask release` refuse before any
//! change, on real components (a sandbox clone with a bare remote, a real
//! pypiserver, the managed tools): a source that does not build, bad
//! tags, untagged changes, an unreachable index, malformed release files,
//! a detached HEAD, a stale clone, a release branch missing on the remote;
//! and dry runs, which change nothing and refuse alike.

mod harness;

use std::fs;

use harness::{expect_exit, git, output, remote_file, text, with_index, Index, Sandbox, PASSWORD};

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

/// Replaces text in a file of the sandbox's clone (the first occurrence).
fn edit(sandbox: &Sandbox, file: &str, from: &str, to: &str) {
    let path = sandbox.work.join(file);
    let text = fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} lacks {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).expect("write");
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
