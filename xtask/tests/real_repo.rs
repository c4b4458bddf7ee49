//! The xtask adopted in a faithful stand-in of the real mindoff-dataport
//! repository, with that repository's own conventions: an HTML `<h1>`
//! changelog title, `## vX.Y.Z` headings, groups with no blank line after
//! `###`, newest entries first, no `## Recent Changes` right after a
//! release; plain tags made in the GitHub UI before the CD's release
//! commits; a runtime dependency; no `__version__`; an sdist exclude list;
//! a docs branch seeded by raw mike (`v1.0` with a symlink
//! `latest-release`, `v0.6`) holding a `CNAME`; no `/target` in
//! `.gitignore`.
//!
//! The fixture is built once per test binary and cloned per test.

mod harness;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use harness::{
    copy_project_paths, free_port, git, output, path_str, remote_file, run_ok, text, tools,
    with_index, Index, Sandbox, TempDir, PASSWORD,
};

const PR_URL: &str = "https://github.com/mindoffwork/mindoff-dataport/pull";
const TITLE: &str = "<h1 align=\"center\">Release Notes</h1>";
const CNAME: &str = "dataport.mindoff.work\n";

/// The released history: tag, then groups of `(pull request, entry title)`
/// listed newest first, as the real file lists them.
type Release = (
    &'static str,
    &'static [(&'static str, &'static [(u32, &'static str)])],
);
const RELEASES: &[Release] = &[
    (
        "v0.1.0",
        &[("Features", &[(2, "✨ Add the Table record container")])],
    ),
    (
        "v0.2.0",
        &[
            (
                "Features",
                &[(6, "✨ Add the CSV writer"), (5, "✨ Add the JSON writer")],
            ),
            ("Documentation", &[(4, "📝 Add the installation page")]),
        ],
    ),
    (
        "v0.6.0",
        &[
            ("Fixes", &[(19, "🔧 Fix the row length check")]),
            ("Enhancements", &[(17, "⚡ Stream large tables")]),
        ],
    ),
    (
        "v1.0.0",
        &[
            (
                "Features",
                &[
                    (41, "✨ Add the spreadsheet reader"),
                    (40, "✨ Add the PDF export"),
                ],
            ),
            ("Internal", &[(38, "🧹 Split the writers module")]),
        ],
    ),
    (
        "v1.0.1",
        &[
            (
                "Fixes",
                &[
                    (58, "🔧 Fix empty cells in spreadsheets"),
                    (55, "🔧 Fix PDF page breaks"),
                ],
            ),
            ("Miscellaneous", &[(52, "🗂 Update the issue templates")]),
        ],
    ),
];

/// Tooling paths the adoption adds to the sdist exclude list.
const TOOLING_EXCLUDES: &str =
    "  \"/xtask\",\n  \"/.cargo\",\n  \"/target\",\n  \"/tools\",\n  \"/Cargo.toml\",\n  \"/Cargo.lock\",\n";

fn entry(pr: u32, title: &str) -> String {
    format!("- {title} ([#{pr}]({PR_URL}/{pr}))")
}

/// A section body in the real file's style: no blank line after `###`.
fn groups(release: &Release) -> String {
    release
        .1
        .iter()
        .map(|(group, entries)| {
            let lines: Vec<String> = entries.iter().map(|(pr, t)| entry(*pr, t)).collect();
            format!("### {group}\n{}\n", lines.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// CHANGELOG.md with `upcoming` under `## Recent Changes` (or none) above
/// the released sections, newest first.
fn changelog(upcoming: Option<&Release>, released: &[Release]) -> String {
    let mut out = format!("{TITLE}\n\n");
    if let Some(r) = upcoming {
        out.push_str(&format!("## Recent Changes\n\n{}\n", groups(r)));
    }
    for r in released.iter().rev() {
        out.push_str(&format!("## {}\n\n{}\n", r.0, groups(r)));
    }
    out.trim_end().to_string() + "\n"
}

fn set_version(pyproject: &str, version: &str) -> String {
    pyproject
        .lines()
        .map(|l| {
            if l.starts_with("version = ") {
                format!("version = \"{version}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn python() -> PathBuf {
    tools().join("python")
}

fn mike(dir: &Path, args: &[&str]) {
    let bin = tools();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run_ok(
        Command::new(bin.join("mike"))
            .args(args)
            .current_dir(dir)
            .env("PATH", path),
    );
}

struct Fixture {
    /// The stand-in's bare repository: `root`, `docs`, tags.
    bare: PathBuf,
    /// The sdist and wheel of v1.0.1 as the old CD published them.
    released: Vec<PathBuf>,
    /// A folder with the runtime dependency's wheel.
    wheels: PathBuf,
}

/// Builds the stand-in once per test binary.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    // Fixtures of earlier runs whose process is gone.
    for e in fs::read_dir(base).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("real-repo-fixture-") {
            if !Path::new("/proc").join(pid).exists() {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = base.join(format!("real-repo-fixture-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let seed = dir.join("seed");
    copy_dir(&fixtures().join("real-repo"), &seed);
    git(&seed, &["init", "-q", "-b", "root"]);
    git(&seed, &["config", "user.name", "Test Maintainer"]);
    git(
        &seed,
        &["config", "user.email", "maintainer@example.invalid"],
    );
    let template = fs::read_to_string(seed.join("pyproject.toml")).expect("pyproject");

    // Each release as the real flow made it: entries merged, a plain tag
    // from the GitHub UI, then the CD's heading and version commits.
    let mut previous = "0.0.0".to_string();
    for (i, release) in RELEASES.iter().enumerate() {
        let version = &release.0[1..];
        fs::write(
            seed.join("CHANGELOG.md"),
            changelog(Some(release), &RELEASES[..i]),
        )
        .expect("write");
        fs::write(
            seed.join("pyproject.toml"),
            set_version(&template, &previous),
        )
        .expect("write");
        git(&seed, &["add", "-A"]);
        git(
            &seed,
            &[
                "commit",
                "-qm",
                &format!("Merge the pull requests of {}", release.0),
            ],
        );
        git(&seed, &["tag", release.0]);
        fs::write(seed.join("CHANGELOG.md"), changelog(None, &RELEASES[..=i])).expect("write");
        git(
            &seed,
            &[
                "commit",
                "-qam",
                &format!("Update CHANGELOG.md for {}", release.0),
            ],
        );
        fs::write(seed.join("pyproject.toml"), set_version(&template, version)).expect("write");
        git(
            &seed,
            &["commit", "-qam", &format!("Bump version to {version}")],
        );
        previous = version.to_string();
    }

    // What the index holds: v1.0.1, built from the CD's last commit.
    let dist = dir.join("released");
    run_ok(
        Command::new(python())
            .args(["-m", "build", "--no-isolation", "--outdir", path_str(&dist)])
            .arg(&seed)
            .env("SOURCE_DATE_EPOCH", "1700000000"),
    );
    let mut released: Vec<PathBuf> = fs::read_dir(&dist)
        .expect("dist")
        .map(|e| e.expect("entry").path())
        .collect();
    released.sort();
    assert_eq!(released.len(), 2, "{released:?}");

    // The docs branch as raw mike made it, plus the custom domain.
    mike(&seed, &["deploy", "--branch", "docs", "v0.6"]);
    mike(
        &seed,
        &[
            "deploy",
            "--branch",
            "docs",
            "--update-aliases",
            "--alias-type",
            "symlink",
            "v1.0",
            "latest-release",
        ],
    );
    mike(
        &seed,
        &["set-default", "--branch", "docs", "latest-release"],
    );
    let docs_tree = dir.join("docs-tree");
    git(
        &seed,
        &["worktree", "add", "-q", path_str(&docs_tree), "docs"],
    );
    fs::write(docs_tree.join("CNAME"), CNAME).expect("CNAME");
    git(&docs_tree, &["add", "CNAME"]);
    git(&docs_tree, &["commit", "-qm", "Add CNAME"]);
    git(&seed, &["worktree", "remove", path_str(&docs_tree)]);

    adopt(&seed);

    let bare = dir.join("fixture.git");
    git(
        &dir,
        &["clone", "-q", "--bare", path_str(&seed), path_str(&bare)],
    );

    let dep = dir.join("dep");
    copy_dir(&fixtures().join("dep"), &dep);
    let wheels = dir.join("wheels");
    run_ok(
        Command::new(python())
            .args(["-m", "build", "--wheel", "--no-isolation", "--outdir"])
            .arg(&wheels)
            .arg(&dep),
    );
    Fixture {
        bare,
        released,
        wheels,
    }
}

/// The adoption guide's steps: copy the tooling, exclude it from the sdist,
/// replace the old CD workflow. `.gitignore` keeps no `/target`.
fn adopt(seed: &Path) {
    copy_project_paths(
        seed,
        &[
            "xtask",
            ".cargo",
            "Cargo.toml",
            "Cargo.lock",
            "tools",
            ".github/workflows/cd.yml",
            ".github/workflows/changelog.yml",
        ],
        &["xtask/tests/fixtures/"],
    );
    let path = seed.join("pyproject.toml");
    let py = fs::read_to_string(&path).expect("pyproject");
    let py = py.replacen(
        "exclude = [\n",
        &format!("exclude = [\n{TOOLING_EXCLUDES}"),
        1,
    );
    fs::write(&path, py).expect("write");
    git(seed, &["add", "-A"]);
    git(seed, &["commit", "-qm", "Adopt cargo xtask"]);
}

/// A fresh clone of the stand-in whose origin is its own bare copy.
fn clone() -> Sandbox {
    let f = fixture();
    let dir = TempDir::new("real-repo");
    let remote = dir.path().join("remote.git");
    let work = dir.path().join("work");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            path_str(&f.bare),
            path_str(&remote),
        ],
    );
    git(
        dir.path(),
        &["clone", "-q", path_str(&remote), path_str(&work)],
    );
    git(&work, &["config", "user.name", "Test Maintainer"]);
    git(
        &work,
        &["config", "user.email", "maintainer@example.invalid"],
    );
    Sandbox { dir, work, remote }
}

/// A pypiserver holding what the real index holds: v1.0.1 and the runtime
/// dependency.
fn index() -> Index {
    let f = fixture();
    let index = Index::start();
    for file in f.released.iter().chain(wheels(f).iter()) {
        let name = file.file_name().expect("file name");
        fs::copy(file, index.packages.join(name)).expect("copy to the index");
    }
    index
}

fn wheels(f: &Fixture) -> Vec<PathBuf> {
    fs::read_dir(&f.wheels)
        .expect("wheels")
        .map(|e| e.expect("entry").path())
        .collect()
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

fn read(sandbox: &Sandbox, file: &str) -> String {
    fs::read_to_string(sandbox.work.join(file)).expect("read")
}

fn clean(sandbox: &Sandbox) {
    let status = git(&sandbox.work, &["status", "--porcelain"]);
    assert!(status.is_empty(), "the tree is dirty:\n{status}");
}

fn add_entry(sandbox: &Sandbox, label: &str, title: &str, pr: u32, commit: bool) -> String {
    let pr_s = pr.to_string();
    let url = format!("{PR_URL}/{pr}");
    let mut args = vec![
        "changelog-add",
        "--label",
        label,
        "--title",
        title,
        "--pr",
        &pr_s,
        "--url",
        &url,
    ];
    if commit {
        args.push("--commit");
    }
    ok(output(sandbox.xtask(&args)))
}

/// `(version, aliases)` pairs of the remote docs branch.
fn docs_versions(sandbox: &Sandbox) -> Vec<(String, Vec<String>)> {
    sandbox.remote_docs_versions()
}

#[test]
fn the_fixture_has_the_real_conventions() {
    let sandbox = clone();
    let log = read(&sandbox, "CHANGELOG.md");
    assert!(log.starts_with(&format!(
        "{TITLE}\n\n## v1.0.1\n\n### Fixes\n- 🔧 Fix empty"
    )));
    assert!(!log.contains("## Recent Changes"));
    // Tags were made before the release commits.
    let tagged = git(&sandbox.work, &["show", "v1.0.1:pyproject.toml"]);
    assert!(tagged.contains("version = \"1.0.0\""), "{tagged}");
    assert!(read(&sandbox, "pyproject.toml").contains("version = \"1.0.1\""));
    let tags = git(&sandbox.work, &["tag", "--list"]);
    assert_eq!(tags.lines().count(), RELEASES.len(), "{tags}");
    let mode = git(&sandbox.remote, &["ls-tree", "docs", "latest-release"]);
    assert!(mode.starts_with("120000"), "a symlink alias: {mode}");
    assert_eq!(remote_file(&sandbox, "docs", "CNAME"), CNAME.trim_end());
    assert!(!read(&sandbox, ".gitignore").contains("target"));
    assert!(!read(&sandbox, "src/mindoff_dataport/__init__.py").contains("__version__ ="));
}

#[test]
fn status_right_after_adoption() {
    let sandbox = clone();
    let index = index();
    let out = output(with_index(sandbox.xtask(&["status"]), &index, PASSWORD));
    let all = text(&out);
    for line in ["v1.0.1", "1.0.1", "v1.0", "latest-release"] {
        assert!(all.contains(line), "{line}: {all}");
    }
    // h15 (status) decides the verdict on tags made before the release
    // commits; the real repository right after adoption is consistent.
    assert!(out.status.success(), "{all}");
    clean(&sandbox);
}

#[test]
fn changelog_add_follows_the_files_own_style() {
    let sandbox = clone();
    let before = read(&sandbox, "CHANGELOG.md");
    add_entry(&sandbox, "bug", "🔧 Fix merged cells", 60, false);
    add_entry(&sandbox, "bug", "🔧 Fix date cells", 61, false);
    // #62's title quotes a link to #63: #63 does not count as present.
    add_entry(&sandbox, "feature", "✨ Add parser ([#63](x)", 62, false);
    let out = add_entry(
        &sandbox,
        "documentation",
        "📝 Document the reader",
        63,
        false,
    );
    assert!(!out.contains("already has an entry"), "{out}");
    let after = read(&sandbox, "CHANGELOG.md");
    let expected_recent = format!(
        "{TITLE}\n\n## Recent Changes\n\n### Fixes\n{}\n{}\n\n### Features\n{}\n\n### Documentation\n{}\n\n## v1.0.1\n",
        entry(61, "🔧 Fix date cells"),
        entry(60, "🔧 Fix merged cells"),
        // The title is inert Markdown: its link syntax is escaped.
        entry(62, "✨ Add parser \\(\\[#63\\]\\(x\\)"),
        entry(63, "📝 Document the reader"),
    );
    assert!(after.starts_with(&expected_recent), "{after}");
    // Everything below is untouched.
    assert!(after.ends_with(&before[TITLE.len() + 2..]), "{after}");
    let again = add_entry(&sandbox, "bug", "🔧 Fix merged cells", 60, false);
    assert!(again.contains("already has an entry"), "{again}");

    // --commit pushes the entry to the remote's root.
    git(&sandbox.work, &["checkout", "-q", "--", "CHANGELOG.md"]);
    add_entry(&sandbox, "internal", "🧹 Tidy the readers", 64, true);
    let pushed = remote_file(&sandbox, "root", "CHANGELOG.md");
    assert!(
        pushed.contains(&format!(
            "## Recent Changes\n\n### Internal\n{}\n\n## v1.0.1",
            entry(64, "🧹 Tidy the readers")
        )),
        "{pushed}"
    );
    clean(&sandbox);
}

#[test]
fn changelog_add_names_the_setting_for_another_release_branch() {
    let sandbox = clone();
    git(&sandbox.work, &["branch", "-q", "-m", "root", "main"]);
    let out = output(sandbox.xtask(&[
        "changelog-add",
        "--label",
        "bug",
        "--title",
        "🔧 Fix x",
        "--pr",
        "70",
        "--url",
        "https://github.com/o/r/pull/70",
        "--commit",
    ]));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("release-branch = \"main\""), "{all}");
    assert!(!read(&sandbox, "CHANGELOG.md").contains("#70"));
}

/// The real flow: a plain tag from the GitHub UI on root's HEAD, then the
/// CD pipeline's `release` and `docs-deploy` (release commits after the
/// tag), then `docs-list` and `status`.
#[test]
fn release_after_a_plain_tag_then_docs_and_status() {
    let sandbox = clone();
    let index = index();
    add_entry(&sandbox, "bug", "🔧 Fix merged cells", 60, true);
    git(&sandbox.work, &["tag", "v1.0.2"]);
    git(&sandbox.work, &["push", "-q", "origin", "v1.0.2"]);

    let out = ok(output(with_index(
        sandbox.xtask(&["release", "v1.0.2"]),
        &index,
        PASSWORD,
    )));
    // The check step lists both artifacts; the sdist ships .github/ (the
    // project's choice, reported) and no tooling.
    assert!(out.contains("mindoff_dataport-1.0.2.tar.gz: "), "{out}");
    assert!(out.contains(" files, "), "{out}");
    assert!(out.contains(".github/ ("), "{out}");
    for tooling in [
        "xtask/ (",
        ".cargo/ (",
        "tools/ (",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        assert!(!out.contains(tooling), "{tooling}: {out}");
    }
    let files = index.files();
    for f in [
        "mindoff_dataport-1.0.2-py3-none-any.whl",
        "mindoff_dataport-1.0.2.tar.gz",
    ] {
        assert!(files.contains(&f.to_string()), "{files:?}");
    }
    let log = remote_file(&sandbox, "root", "CHANGELOG.md");
    assert!(
        log.starts_with(&format!(
            "{TITLE}\n\n## v1.0.2\n\n### Fixes\n{}\n\n## v1.0.1",
            entry(60, "🔧 Fix merged cells")
        )),
        "{log}"
    );
    assert!(remote_file(&sandbox, "root", "pyproject.toml").contains("version = \"1.0.2\""));

    // Docs: the site's `v` spelling, its symlink alias and CNAME are kept.
    ok(output(sandbox.xtask(&["docs-deploy", "v1.0.2"])));
    let versions = docs_versions(&sandbox);
    assert_eq!(
        versions,
        vec![
            ("v1.0".to_string(), vec!["latest-release".to_string()]),
            ("v0.6".to_string(), vec![])
        ]
    );
    assert_eq!(remote_file(&sandbox, "docs", "CNAME"), CNAME.trim_end());

    let list = ok(output(sandbox.xtask(&["docs-list"])));
    assert!(
        list.contains("v1.0") && list.contains("latest-release"),
        "{list}"
    );
    assert!(!list.contains(" 1.0 "), "{list}");

    let status = output(with_index(sandbox.xtask(&["status"]), &index, PASSWORD));
    assert!(status.status.success(), "{}", text(&status));
    clean(&sandbox);
    // The alias keeps its type; the docs are built from the release
    // commit, not from the tag that predates it (the docs integrity issue).
    let mode = git(&sandbox.remote, &["ls-tree", "docs", "latest-release"]);
    assert!(mode.starts_with("120000"), "still a symlink: {mode}");
    let page = remote_file(&sandbox, "docs", "v1.0/release-notes/index.html");
    assert!(
        page.contains("v1.0.2"),
        "the v1.0 docs show the release's heading"
    );
}

/// The maintainer's side: `cargo xtask tag` makes the release commit and
/// tag; the pipeline then has nothing to edit.
#[test]
fn tag_then_release_keep_the_files_style() {
    let sandbox = clone();
    let index = index();
    add_entry(&sandbox, "feature", "✨ Add the ODS reader", 60, true);
    add_entry(&sandbox, "feature", "✨ Add the XLSX writer", 61, true);
    ok(output(with_index(
        sandbox.xtask(&["tag", "v1.1.0"]),
        &index,
        PASSWORD,
    )));
    let tagged = remote_file(&sandbox, "v1.1.0", "CHANGELOG.md");
    assert!(
        tagged.starts_with(&format!(
            "{TITLE}\n\n## v1.1.0\n\n### Features\n{}\n{}\n\n## v1.0.1",
            entry(61, "✨ Add the XLSX writer"),
            entry(60, "✨ Add the ODS reader")
        )),
        "{tagged}"
    );
    assert!(remote_file(&sandbox, "v1.1.0", "pyproject.toml").contains("version = \"1.1.0\""));
    ok(output(with_index(
        sandbox.xtask(&["release", "v1.1.0"]),
        &index,
        PASSWORD,
    )));
    assert!(index
        .files()
        .contains(&"mindoff_dataport-1.1.0.tar.gz".to_string()));
    // The tag still names the release commit: nothing was edited after it.
    assert_eq!(
        git(&sandbox.remote, &["rev-parse", "v1.1.0^{commit}"]),
        git(&sandbox.remote, &["rev-parse", "root"])
    );
    ok(output(sandbox.xtask(&["docs-deploy", "v1.1.0"])));
    assert_eq!(remote_file(&sandbox, "docs", "CNAME"), CNAME.trim_end());
    clean(&sandbox);
    // A new series takes the site's `v` spelling, and the alias keeps its
    // type (the docs integrity issue).
    assert_eq!(
        docs_versions(&sandbox),
        vec![
            ("v1.1".to_string(), vec!["latest-release".to_string()]),
            ("v1.0".to_string(), vec![]),
            ("v0.6".to_string(), vec![])
        ]
    );
    let mode = git(&sandbox.remote, &["ls-tree", "docs", "latest-release"]);
    assert!(mode.starts_with("120000"), "still a symlink: {mode}");
}

#[test]
fn tooling_in_the_sdist_is_refused_before_upload() {
    let sandbox = clone();
    let index = index();
    // The repository as it was before the adoption guide's exclude step.
    let path = sandbox.work.join("pyproject.toml");
    let py = fs::read_to_string(&path).expect("read");
    fs::write(&path, py.replace(TOOLING_EXCLUDES, "")).expect("write");
    sandbox.commit_and_push("Drop the tooling excludes");
    add_entry(&sandbox, "bug", "🔧 Fix merged cells", 60, true);
    // The GitHub UI's plain tag: the pipeline's check step must refuse.
    git(&sandbox.work, &["tag", "v1.0.2"]);
    git(&sandbox.work, &["push", "-q", "origin", "v1.0.2"]);
    let before = index.files();
    let out = output(with_index(
        sandbox.xtask(&["release", "v1.0.2"]),
        &index,
        PASSWORD,
    ));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("release tooling"), "{all}");
    assert!(all.contains("xtask/"), "{all}");
    assert!(
        all.contains("[tool.hatch.build.targets.sdist] exclude = [\"/xtask\", \"/.cargo\", \"/tools\", \"/Cargo.toml\", \"/Cargo.lock\"]"),
        "{all}"
    );
    assert!(all.contains("Nothing was uploaded"), "{all}");
    assert_eq!(index.files(), before, "nothing was uploaded");
}

fn rehearse(sandbox: &Sandbox, index: &Index, extra: &[&str], pip_index: &str) -> String {
    let port = free_port().to_string();
    let mut args = vec!["rehearse", "--port", &port];
    args.extend(extra);
    let mut cmd = sandbox.xtask(&args);
    cmd.env("PIP_INDEX_URL", pip_index)
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_FIND_LINKS");
    let _ = index;
    let out = ok(output(cmd));
    assert!(out.contains(&format!("127.0.0.1:{port}")), "{out}");
    out
}

/// Right after a release: no `## Recent Changes`, a runtime dependency,
/// no `__version__`. The sandbox's own remote and index stay untouched.
#[test]
fn rehearse_right_after_a_release_with_dependencies_from_pips_index() {
    let sandbox = clone();
    let index = index();
    let refs = git(&sandbox.remote, &["for-each-ref"]);
    let files = index.files();
    let out = rehearse(&sandbox, &index, &[], &index.simple_url());
    assert!(out.contains("marked entry"), "{out}");
    assert!(
        out.contains("mindoff-dataport 1.0.2 (importlib.metadata)"),
        "{out}"
    );
    assert!(!out.contains("publish it as a GitHub Release"), "{out}");
    assert!(!out.contains("\\n") && !out.contains("\\'"), "{out}");
    assert!(out.contains("v1.0"), "the rehearsal's docs: {out}");
    assert_eq!(git(&sandbox.remote, &["for-each-ref"]), refs);
    assert_eq!(index.files(), files);
    clean(&sandbox);
}

#[test]
fn rehearse_offline_with_a_wheel_folder() {
    let sandbox = clone();
    let index = index();
    let wheels = fixture().wheels.clone();
    // pip's configured index is unreachable: only the folder can serve.
    let out = rehearse(
        &sandbox,
        &index,
        &["--find-links", path_str(&wheels)],
        "http://127.0.0.1:9/simple/",
    );
    assert!(
        out.contains("mindoff-dataport 1.0.2 (importlib.metadata)"),
        "{out}"
    );
    clean(&sandbox);
    let bad = output(sandbox.xtask(&["rehearse", "--port", "0"]));
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let bad = output(sandbox.xtask(&["rehearse", "--find-links", "/nonexistent/wheels"]));
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    // A busy port is bad input naming it, before anything is cloned.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port().to_string();
    let bad = output(sandbox.xtask(&["rehearse", "--port", &port]));
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains(&format!(
            "--port {port}: 127.0.0.1:{port} is already in use"
        )),
        "{}",
        text(&bad)
    );
    assert!(!text(&bad).contains("==> clone"), "{}", text(&bad));
}

/// Every pull request of the project's released history passes the title
/// and label lint with the label its changelog group stands for: the lint
/// asks for the project's own conventions, no stricter ones (`🗂` without
/// U+FE0F, the `other` label for Miscellaneous).
#[test]
fn lint_pr_passes_every_pull_request_of_the_history() {
    let sandbox = clone();
    for (_, release_groups) in RELEASES {
        for (group, entries) in release_groups.iter() {
            let label = match *group {
                "Fixes" => "bug",
                "Features" => "feature",
                "Enhancements" => "enhancement",
                "Documentation" => "documentation",
                "Internal" => "internal",
                _ => "other",
            };
            for (_, title) in entries.iter() {
                ok(output(
                    sandbox.xtask(&["lint-pr", "--title", title, "--label", label]),
                ));
            }
        }
    }
}
