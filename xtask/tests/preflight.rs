//! `cargo xtask preflight` and the same checks inside `tag`, on real
//! sandboxes: real git with a bare remote, the real build, `twine check`,
//! MkDocs, and pypiserver on loopback. A refusal exits 2 and leaves the
//! clone, the remote and the index as they were.

mod harness;

use std::fs;
use std::process::Output;

use harness::{git, output, says, text, with_index, Index, Sandbox, PASSWORD};

/// Everything a refusal must leave alone: refs here and on the remote, the
/// working tree and the index's files.
fn state(sandbox: &Sandbox, index: &Index) -> String {
    format!(
        "{}\n{}\n{}\n{:?}",
        git(&sandbox.work, &["for-each-ref"]),
        git(&sandbox.remote, &["for-each-ref"]),
        git(&sandbox.work, &["status", "--porcelain", "--ignored=no"]),
        index.files()
    )
}

fn run(sandbox: &Sandbox, index: &Index, args: &[&str]) -> Output {
    output(with_index(sandbox.xtask(args), index, PASSWORD))
}

/// Replaces text in a tracked file of the clone, commits and pushes it.
fn change(sandbox: &Sandbox, file: &str, from: &str, to: &str) {
    let path = sandbox.work.join(file);
    let text = fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{file} lacks {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).expect("write");
    sandbox.commit_and_push(&format!("Change {file}"));
}

/// Both the preflight and the tag refuse the same way, and change nothing.
fn refused_before_the_tag(sandbox: &Sandbox, index: &Index, tag: &str, needles: &[&str]) {
    let before = state(sandbox, index);
    says(&run(sandbox, index, &["preflight"]), 2, needles);
    assert_eq!(state(sandbox, index), before, "preflight changed something");
    let tagged = run(sandbox, index, &["tag", tag]);
    says(&tagged, 2, needles);
    says(&tagged, 2, &["nothing was tagged, committed or pushed"]);
    assert_eq!(
        state(sandbox, index),
        before,
        "a refused tag changed something"
    );
}

#[test]
fn a_releasable_head_passes_and_says_what_was_checked() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let before = state(&sandbox, &index);
    let out = run(&sandbox, &index, &["preflight"]);
    says(
        &out,
        0,
        &[
            // pyproject.toml says 0.6.0, which CHANGELOG.md released: the next patch.
            "would release v0.6.1",
            "ok: v0.6.1 is newer than every release known",
            "ok: the package index http://127.0.0.1:",
            "ok: CHANGELOG.md and pyproject.toml take the release edits",
            "ok: mindoff_dataport-0.6.1.tar.gz builds and passes its checks",
            "ok: mindoff_dataport-0.6.1-py3-none-any.whl builds and passes its checks",
            "ok: the docs build with mkdocs build --strict",
            "`cargo xtask tag v0.6.1`",
        ],
    );
    assert_eq!(state(&sandbox, &index), before);
    // A version named explicitly, and one that is not newer.
    says(
        &run(&sandbox, &index, &["preflight", "v0.7.0"]),
        0,
        &["would release v0.7.0"],
    );
    says(
        &run(&sandbox, &index, &["preflight", "v0.5.9"]),
        2,
        &["v0.5.9 is not newer than every release: v0.6.0 is"],
    );
    assert_eq!(state(&sandbox, &index), before);
}

/// A nav entry naming a page that does not exist: found before the tag,
/// located in mkdocs.yml, and the tag refuses with nothing pushed.
#[test]
fn a_broken_docs_nav_is_refused_before_anything_is_tagged() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    change(
        &sandbox,
        "mkdocs.yml",
        "  - Adopting cargo xtask: adopting-xtask.md\n",
        "  - Adopting cargo xtask: adopting-xtask.md\n  - Gone: gone-page.md\n",
    );
    let line = fs::read_to_string(sandbox.work.join("mkdocs.yml"))
        .expect("read")
        .lines()
        .position(|l| l.contains("gone-page.md"))
        .expect("the line")
        + 1;
    refused_before_the_tag(
        &sandbox,
        &index,
        "v0.7.0",
        &[
            &format!("mkdocs.yml:{line}: the docs do not build strictly"),
            "'gone-page.md'",
            "docs-deploy",
        ],
    );
}

/// A docs-only breakage: a page links to a page that does not exist.
#[test]
fn a_broken_docs_link_is_refused_before_anything_is_tagged() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let page = "src/mindoff_dataport/docs/installation.md";
    let path = sandbox.work.join(page);
    let text = fs::read_to_string(&path).expect("read");
    fs::write(
        &path,
        format!("{text}\nSee [the missing page](missing-page.md).\n"),
    )
    .expect("write");
    sandbox.commit_and_push("Docs: link a page that does not exist");
    let line = fs::read_to_string(&path)
        .expect("read")
        .lines()
        .position(|l| l.contains("missing-page.md"))
        .expect("the line")
        + 1;
    refused_before_the_tag(
        &sandbox,
        &index,
        "v0.7.0",
        &[
            &format!("{page}:{line}: the docs do not build strictly"),
            "'missing-page.md'",
        ],
    );
}

/// A repository that adopted the tooling without the sdist settings (the
/// adoption guide's first steps): the sdist would carry `xtask/` and the
/// Cargo files. Found before the tag, with the line and the exclude.
#[test]
fn release_tooling_in_the_sdist_is_refused_before_anything_is_tagged() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let py = fs::read_to_string(sandbox.work.join("pyproject.toml")).expect("read");
    let start = py
        .find("[tool.hatch.build.targets.sdist]")
        .expect("the sdist table");
    let end = py[start..].find("\n\n").map_or(py.len(), |e| start + e + 1);
    fs::write(
        sandbox.work.join("pyproject.toml"),
        format!("{}{}", &py[..start], &py[end..]),
    )
    .expect("write");
    sandbox.commit_and_push("Adopt the release tooling (steps 1-2)");
    refused_before_the_tag(
        &sandbox,
        &index,
        "v0.7.0",
        &[
            "pyproject.toml:1: the sdist would ship the release tooling (xtask, .cargo, tools, Cargo.toml, Cargo.lock)",
            "exclude = [\"/xtask\", \"/.cargo\", \"/tools\", \"/Cargo.toml\", \"/Cargo.lock\"]",
        ],
    );
}

/// An empty `## Recent Changes`: the changelog's own refusal, with its line.
#[test]
fn an_empty_recent_changes_is_refused_before_anything_is_tagged() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let path = sandbox.work.join("CHANGELOG.md");
    let log = fs::read_to_string(&path).expect("read");
    let start = log.find("## Recent Changes\n").expect("section") + "## Recent Changes\n".len();
    let end = log.find("## v0.6.0").expect("release");
    fs::write(&path, format!("{}\n{}", &log[..start], &log[end..])).expect("write");
    sandbox.commit_and_push("Empty the recent changes");
    refused_before_the_tag(
        &sandbox,
        &index,
        "v0.7.0",
        &["CHANGELOG.md:3: `## Recent Changes` has no entries"],
    );
}

/// Every problem is listed, not only the first, and an unreadable index is
/// one of them.
#[test]
fn every_problem_is_listed_at_once() {
    let sandbox = Sandbox::new();
    let mut index = Index::start();
    change(
        &sandbox,
        "mkdocs.yml",
        "  - Adopting cargo xtask: adopting-xtask.md\n",
        "  - Adopting cargo xtask: adopting-xtask.md\n  - Gone: gone-page.md\n",
    );
    index.stop();
    let out = run(&sandbox, &index, &["preflight", "v0.7.0"]);
    says(
        &out,
        2,
        &[
            "preflight found 2 problem(s); nothing was changed",
            "the package index http://127.0.0.1:",
            "could not be read",
            "'gone-page.md'",
        ],
    );
}

/// Removes the sdist settings, as a repository that copied the tooling in
/// (the adoption guide's steps 1-2) has them; returns the text removed.
fn drop_sdist_settings(sandbox: &Sandbox) -> String {
    let path = sandbox.work.join("pyproject.toml");
    let py = fs::read_to_string(&path).expect("read");
    let start = py
        .find("[tool.hatch.build.targets.sdist]")
        .expect("the sdist table");
    let end = py[start..].find("\n\n").map_or(py.len(), |e| start + e + 1);
    fs::write(&path, format!("{}{}", &py[..start], &py[end..])).expect("write");
    py[start..end].to_string()
}

/// The `fix:` lines of a status report, in order.
fn printed_fixes(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fix: "))
        .map(str::to_string)
        .collect()
}

/// The three steps, followed as a maintainer would: status sees
/// the tooling in the sdist before any tag; a plain tag's release is
/// refused; after the printed fix, status names the tag as refused and
/// prints the one command that retires it; following status literally
/// ends in "consistent", and the same version is then tagged and released.
#[test]
fn a_refused_plain_tag_is_retired_by_what_status_prints() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let removed = drop_sdist_settings(&sandbox);
    sandbox.commit_and_push("Adopt the release tooling (steps 1-2)");
    let status = || run(&sandbox, &index, &["status"]);
    says(
        &status(),
        1,
        &[
            "pyproject.toml:1: the sdist would ship the release tooling",
            "fix: exclude it in pyproject.toml",
            "`cargo xtask preflight` builds",
        ],
    );

    // The GitHub UI flow: a plain tag, then the release, refused before
    // anything reaches the index.
    sandbox.plain_tag("v0.7.0");
    says(
        &run(&sandbox, &index, &["release", "v0.7.0"]),
        2,
        &["must not ship"],
    );
    assert!(index.files().is_empty());

    // The printed fix, in a new commit.
    let path = sandbox.work.join("pyproject.toml");
    let py = fs::read_to_string(&path).expect("read");
    fs::write(&path, format!("{py}\n{removed}")).expect("write");
    sandbox.commit_and_push("Keep the release tooling out of the sdist");

    let out = status();
    says(
        &out,
        1,
        &[
            "v0.7.0 is tagged, but its release is refused before anything reaches the index",
            "fix: cargo xtask release-rollback v0.7.0 --delete-tag --yes",
        ],
    );
    assert!(
        !text(&out).contains("fix: cargo xtask release v0.7.0\n"),
        "{}",
        text(&out)
    );
    // Follow every printed command literally until status is clean.
    for _ in 0..3 {
        let out = status();
        if out.status.success() {
            break;
        }
        for fix in printed_fixes(&out) {
            let words: Vec<&str> = fix.split_whitespace().collect();
            let ["cargo", "xtask", rest @ ..] = words.as_slice() else {
                panic!("`{fix}` is not a command:\n{}", text(&out));
            };
            says(&run(&sandbox, &index, rest), 0, &[]);
        }
    }
    says(&status(), 0, &["consistent: nothing to fix"]);
    // The version never reached the index: it is tagged again, and ships.
    says(
        &run(&sandbox, &index, &["preflight", "v0.7.0"]),
        0,
        &["would release v0.7.0"],
    );
    says(
        &run(&sandbox, &index, &["tag", "v0.7.0"]),
        0,
        &["tagged v0.7.0"],
    );
    says(&run(&sandbox, &index, &["release", "v0.7.0"]), 0, &[]);
    assert_eq!(index.files().len(), 2);
    says(
        &status(),
        1,
        &["series 0.7 is released (v0.7.0) but has no docs"],
    );
}
