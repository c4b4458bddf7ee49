//! `cargo xtask preflight [vX.Y.Z]`: everything the next `tag`, `release`
//! and `docs-deploy` would refuse, found on HEAD before anything is tagged.
//! It reads the tags here and on the remote and the package index (the
//! version's place among every release), checks the release files, builds
//! the sdist and wheel once in a temporary directory with the release's
//! edits (the artifact audit and `twine check --strict`), and builds the
//! docs strictly. It changes nothing anywhere. `tag` runs the same checks
//! of the revision it is about to tag ([`check_revision`]).

use anyhow::{Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::changelog::{self, Edit};
use crate::git::Git;
use crate::index::{self, IndexConfig};
use crate::input::BadInput;
use crate::preflight_rules::{self as rules, Problem};
use crate::pyproject;
use crate::release::known_versions;
use crate::release_rules::{self, Standing};
use crate::secrets;
use crate::tagged_build::{self, Scratch};
use crate::tools::{Group, Tools};
use crate::version::Tag;

pub struct Options {
    /// The version to check; default: the next release.
    pub tag: Option<Tag>,
    pub remote: String,
}

/// What was checked, and every problem found.
#[derive(Default)]
pub struct Report {
    pub checked: Vec<String>,
    pub problems: Vec<Problem>,
}

impl Report {
    fn problem(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// Prints the problems (or what was checked) and refuses when there
    /// are problems: bad input, nothing changed.
    pub fn conclude(&self, command: &str, nothing_changed: &str) -> Result<()> {
        if self.problems.is_empty() {
            for c in &self.checked {
                println!("  ok: {c}");
            }
            return Ok(());
        }
        let lines: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("  - {}", p.line()))
            .collect();
        Err(BadInput(format!(
            "{command} found {} problem(s); {nothing_changed}:\n{}",
            self.problems.len(),
            secrets::redact(&lines.join("\n"))
        ))
        .into())
    }
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let git = Git::new(sh);
    let head = git.commit_of("HEAD")?.context("reading HEAD")?;
    let mut report = Report::default();
    let py = read_at(&git, &head, pyproject::FILE)?;
    let log = read_at(&git, &head, changelog::FILE)?;
    let project = pyproject::read_name(&py).ok();
    println!(
        "preflight of HEAD ({}) on {}",
        &head[..head.len().min(10)],
        git.current_branch()?
            .unwrap_or_else(|| "no branch (detached)".into())
    );
    let dirty = git.dirty_files()?;
    if !dirty.is_empty() {
        println!(
            "  note: {} uncommitted change(s) are not checked (HEAD is; `tag` refuses a dirty tree)",
            dirty.len()
        );
    }

    // Every release known anywhere, then the version's place among them.
    let local_tags = git.release_tags()?;
    let remote_tags = match git.remote_tags(&opts.remote) {
        Ok(tags) => tags,
        Err(e) => {
            report.problem(Problem::new(
                format!("the tags on `{}` could not be read: {e:#}", opts.remote),
                None,
                format!("make `{}` reachable, then run this again", opts.remote),
            ));
            Vec::new()
        }
    };
    let versions = match &project {
        Some(project) => read_index(sh, root, project, &mut report)?,
        None => Vec::new(),
    };
    let tag = match &opts.tag {
        Some(tag) => tag.clone(),
        None => next_tag(&py, &log, &local_tags, &remote_tags, &versions),
    };
    println!("  would release {tag}");
    let known = known_versions(&local_tags, &remote_tags, &versions, &log, &tag, false);
    match release_rules::check_order(&tag, &known) {
        Ok(Standing::New) => report
            .checked
            .push(format!("{tag} is newer than every release known")),
        Ok(Standing::OnIndex) => report.problem(Problem::new(
            format!("{} is already on the package index", tag.pep440()),
            None,
            format!(
                "release the next version: `cargo xtask tag {}`",
                release_rules::next_release(&tag, &known)
            ),
        )),
        Err(BadInput(why)) => report.problem(Problem::new(why, None, "")),
    }
    if git
        .remote_rollback(&opts.remote, &tag)
        .ok()
        .flatten()
        .is_some()
    {
        report.problem(Problem::new(
            format!(
                "{tag} was rolled back (recorded as {})",
                Git::rollback_ref(&tag)
            ),
            None,
            format!(
                "release the next patch: `cargo xtask tag {}`",
                tag.next_patch()
            ),
        ));
    }
    let content = check_revision(sh, root, &git, &head, &tag)?;
    report.checked.extend(content.checked);
    report.problems.extend(content.problems);
    report.conclude("preflight", "nothing was changed")?;
    println!("preflight: {tag} can be tagged from HEAD: `cargo xtask tag {tag}`");
    Ok(())
}

/// The version the next release would have: `pyproject.toml`'s when it is
/// newer than every release, else the patch after the newest.
fn next_tag(
    py: &str,
    log: &str,
    local: &[Tag],
    remote: &[(String, String)],
    versions: &[(String, bool)],
) -> Tag {
    let declared = pyproject::read_version(py)
        .ok()
        .and_then(|v| Tag::parse(&format!("v{v}")).ok())
        .unwrap_or_else(|| Tag::parse("v0.0.0").expect("a valid tag"));
    let known = known_versions(local, remote, versions, log, &declared, false);
    match release_rules::check_order(&declared, &known) {
        Ok(Standing::New) => declared,
        _ => release_rules::next_release(&declared, &known),
    }
}

fn read_index(
    sh: &Shell,
    root: &Utf8Path,
    project: &str,
    report: &mut Report,
) -> Result<Vec<(String, bool)>> {
    let config = IndexConfig::from_env(sh, root)?;
    println!("  index: {}", config.describe(sh));
    match config.fetch(project) {
        Ok(listed) => {
            report
                .checked
                .push(format!("the package index {} answers", config.simple_base));
            Ok(index::listed_versions(project, &listed))
        }
        Err(e) => {
            report.problem(Problem::new(
                format!(
                    "the package index {} could not be read: {e:#}",
                    config.simple_base
                ),
                None,
                "check the network and XTASK_INDEX_URL / TWINE_REPOSITORY_URL, then run this again",
            ));
            Ok(Vec::new())
        }
    }
}

fn read_at(git: &Git, rev: &str, file: &str) -> Result<String> {
    git.show_text(rev, file, file)?
        .with_context(|| format!("{file} does not exist at {rev}"))
        .map_err(|e| BadInput(format!("{e:#}: a release needs it")).into())
}

/// What the revision holds, as the release of `tag` will use it: the
/// release files, the build with the release's edits (artifact audit and
/// `twine check --strict`), and the docs built strictly from that tree.
pub fn check_revision(
    sh: &Shell,
    root: &Utf8Path,
    git: &Git,
    rev: &str,
    tag: &Tag,
) -> Result<Report> {
    let mut report = Report::default();
    let py = read_at(git, rev, pyproject::FILE)?;
    let log = read_at(git, rev, changelog::FILE)?;
    let static_problems = release_file_problems(&py, &log, &git.top_level(rev)?, tag);
    let editable = static_problems.is_empty();
    report.problems.extend(static_problems);
    if !editable {
        // The release edits cannot be made: nothing to build yet.
        return Ok(report);
    }
    report
        .checked
        .push("CHANGELOG.md and pyproject.toml take the release edits".into());
    let project = pyproject::read_name(&py)?;
    let python = Tools::ensure_group(sh, root, Group::Release)?.python();
    let pending = tagged_build::start_build(sh, &python, git, rev, tag)?;
    if let Some(tree) = pending.tree() {
        build_docs(sh, root, &tree, &mut report)?;
    }
    match pending.finish(sh, &python, &project) {
        Ok(built) => {
            for f in &built.files {
                report.checked.push(format!(
                    "{} builds and passes its checks (contents, twine check --strict)",
                    f.filename
                ));
            }
        }
        Err(e) if crate::input::is_bad_input(&e) => {
            report.problem(Problem::new(format!("{e:#}"), None, ""))
        }
        Err(e) => return Err(e),
    }
    Ok(report)
}

/// Everything wrong with the release files that needs no build: the
/// project's name and version, tooling in the sdist, and the release edits
/// themselves (whose refusals name their file, line and fix).
fn release_file_problems(py: &str, log: &str, top: &[String], tag: &Tag) -> Vec<Problem> {
    let mut out: Vec<Problem> = rules::pyproject_problem(py).into_iter().collect();
    out.extend(rules::sdist_problem(py, top));
    let refused = |e: BadInput| Problem::new(e.0, None, "");
    if let Err(e) = changelog::rotate(log, tag) {
        out.push(refused(e));
    }
    if out.iter().all(|p| p.at.as_deref() != Some(pyproject::FILE)) {
        if let Err(e) = pyproject::sync_version(py, tag).map(|_: Edit| ()) {
            out.push(refused(e));
        }
    }
    out
}

/// `mkdocs build --strict` of `tree` into a scratch directory, as
/// `docs-deploy` will build it; every warning is a problem.
fn build_docs(sh: &Shell, root: &Utf8Path, tree: &Utf8Path, report: &mut Report) -> Result<()> {
    let config = tree.join("mkdocs.yml");
    let Ok(yml) = std::fs::read_to_string(&config) else {
        report
            .checked
            .push("no mkdocs.yml: no docs to build".into());
        return Ok(());
    };
    let tools = Tools::ensure_group(sh, root, Group::Docs)?;
    let (mkdocs, path) = (tools.bin("mkdocs"), tools.path_env());
    let site = Scratch::new("preflight-site")?;
    let out_dir = site.path().join("site");
    let _dir = sh.push_dir(tree);
    let out = cmd!(
        sh,
        "{mkdocs} build --strict --config-file {config} --site-dir {out_dir}"
    )
    .env("PATH", &path)
    .quiet()
    .ignore_status()
    .output()
    .context("running mkdocs build --strict")?;
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let docs_dir = docs_dir(&yml);
    let page = |name: &str| std::fs::read_to_string(tree.join(&docs_dir).join(name)).ok();
    let mut problems = rules::mkdocs_problems(&output, &yml, &docs_dir, &page);
    if problems.is_empty() && !out.status.success() {
        let tail: Vec<&str> = output.lines().rev().take(8).collect();
        problems.push(Problem::new(
            format!(
                "the docs do not build: mkdocs build --strict failed: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ),
            Some("mkdocs.yml".into()),
            "fix what MkDocs names, so `docs-deploy` can build the release's docs",
        ));
    }
    if problems.is_empty() {
        report
            .checked
            .push("the docs build with mkdocs build --strict".into());
    }
    report.problems.extend(problems);
    Ok(())
}

/// `docs_dir` of mkdocs.yml (MkDocs's default `docs`).
fn docs_dir(yml: &str) -> String {
    yml.lines()
        .find_map(|l| l.strip_prefix("docs_dir:"))
        .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "docs".into())
}

/// A refused preflight of `tag`: the command's own message.
pub fn refused_tag(report: &Report, tag: &Tag) -> Result<()> {
    report.conclude(
        &format!("the preflight of {tag}"),
        "nothing was tagged, committed or pushed (`cargo xtask preflight` checks again)",
    )
}
