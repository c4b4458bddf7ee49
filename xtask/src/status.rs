//! `cargo xtask status`: is the project in a consistent release state?
//! Reads the remote (tags and branches, without changing a local tag),
//! the package index, the repository's files and the docs branch, and
//! reasons from the index outward: every version the index lists is
//! matched against the tags and the changelog. Every inconsistency is
//! named with the fix that moves the state forward, never backwards. A
//! remote or index that cannot be read is a finding too, with git's or
//! the server's own reason; `--json` always prints a report.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use camino::Utf8Path;
use serde_json::json;
use xshell::{cmd, Shell};

use crate::changelog;
use crate::docs::{self, Branches};
use crate::docs_versions::{self as versions, DocsVersion, LATEST};
use crate::git::Git;
use crate::index::{self, IndexConfig, IndexFile};
use crate::input::clip;
use crate::preflight_rules::{self as rules, Problem};
use crate::pyproject;
use crate::read;
use crate::version::Tag;

/// One inconsistency and what fixes it: a command when one can, else the
/// manual step.
#[derive(Debug, PartialEq, Eq)]
pub struct Finding {
    pub problem: String,
    pub fix: String,
}

/// A release tag as git holds it: the tag object and the commit it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRef {
    pub tag: Tag,
    pub object: String,
    pub commit: String,
}

/// One version the index lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub version: semver::Version,
    /// Every listed file of it carries the yank flag.
    pub yanked: bool,
    /// An sdist and a wheel are listed.
    pub complete: bool,
}

/// What status reads; the decisions over it are pure (`assess`).
#[derive(Debug, Default)]
pub struct Facts {
    pub branches: Option<Branches>,
    pub project: String,
    pub local_tags: Vec<TagRef>,
    /// `None` when the remote could not be read (`remote_error` says why).
    pub remote_tags: Option<Vec<TagRef>>,
    pub remote_heads: Vec<String>,
    pub remote_error: Option<String>,
    pub pyproject_version: Option<String>,
    pub recent_entries: Option<usize>,
    /// The `## vX.Y.Z` headings of CHANGELOG.md.
    pub headings: Vec<Tag>,
    /// A project file that could not be read, with the reason.
    pub file_errors: Vec<String>,
    /// `None` when the index could not be read (`index_error` says why).
    pub index: Option<Vec<Listed>>,
    pub index_error: Option<String>,
    pub upload_url: Option<String>,
    /// Which index and which credentials source (never the secret).
    pub index_source: Option<String>,
    /// `None` when the docs branch could not be read.
    pub docs: Option<Vec<DocsVersion>>,
    pub docs_default: Option<String>,
    /// The docs site's breaks of its own conventions, with their fixes.
    pub docs_site: Vec<(String, String)>,
    pub unpushed: usize,
    /// Where CHANGELOG.md and pyproject.toml were read: the remote's
    /// release branch (`None`: this clone's working tree).
    pub files_from: Option<String>,
    /// What the release files refuse without a build (a version-less
    /// pyproject.toml, release tooling in the sdist).
    pub release_files: Vec<Problem>,
    /// The newest tag, and why its release would be refused before
    /// anything is uploaded, when its files tell.
    pub tag_refusal: Option<(Tag, String)>,
    /// Where the newest tag's release edits stood on the release branch.
    pub release_edits: Option<ReleaseEdits>,
}

/// The first commits, from the tag along the release branch, where the
/// tag's `## vX.Y.Z` heading stood, and where it stood with the version:
/// once made, the release steps never make them again (a finished release
/// re-runs as a no-op), so a later hand edit is undone by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseEdits {
    pub tag: Tag,
    pub heading_at: Option<String>,
    pub released_at: Option<String>,
}

/// The findings and the release state they were read from.
#[derive(Debug, Default)]
pub struct Assessment {
    pub findings: Vec<Finding>,
    /// The newest release tag that stands (on the remote when it answered).
    pub newest_tag: Option<Tag>,
    /// Versions on the index whose files are all yanked and whose tag is gone.
    pub rolled_back: Vec<semver::Version>,
    /// After a rollback: the version the next release must have.
    pub next_release: Option<Tag>,
}

fn tag_of(v: &semver::Version) -> Option<Tag> {
    Tag::parse(&format!("v{v}")).ok()
}

fn short(oid: &str) -> &str {
    &oid[..oid.len().min(10)]
}

/// The `## vX.Y.Z` headings of a changelog.
pub fn release_headings(text: &str) -> Vec<Tag> {
    text.lines()
        .filter_map(|l| l.trim_start_matches('\u{feff}').strip_prefix("## "))
        .filter_map(|h| Tag::from_git(h.trim()))
        .collect()
}

pub fn assess(f: &Facts) -> Assessment {
    let default_branches = Branches {
        remote: "origin".into(),
        root: "root".into(),
        docs: "docs".into(),
    };
    let b = f.branches.as_ref().unwrap_or(&default_branches);
    let remote = &b.remote;
    // Flags a printed command needs to act on the same remote and branches.
    let flags = |root: bool, docs: bool| {
        let mut s = String::new();
        if b.remote != "origin" {
            s.push_str(&format!(" --remote {}", b.remote));
        }
        if root && b.root != "root" {
            s.push_str(&format!(" --root-branch {}", b.root));
        }
        if docs && b.docs != "docs" {
            s.push_str(&format!(" --docs-branch {}", b.docs));
        }
        s
    };
    let mut out = Vec::new();
    let mut add = |problem: String, fix: String| out.push(Finding { problem, fix });

    if let Some(error) = &f.remote_error {
        add(
            format!("the remote `{remote}` could not be read: {error}"),
            format!("make `{remote}` reachable (`git ls-remote {remote}` shows git's reason), then run `cargo xtask status` again"),
        );
    }
    if let Some(error) = &f.index_error {
        add(
            format!("the package index could not be read: {error}"),
            "check TWINE_REPOSITORY_URL / XTASK_INDEX_URL and the network, then run `cargo xtask status` again".into(),
        );
    }
    for error in &f.file_errors {
        add(
            error.clone(),
            "restore the file from git (`git checkout -- <file>`) or fix it by hand".into(),
        );
    }
    if f.remote_tags.is_some() && !f.remote_heads.contains(&b.root) {
        let others: Vec<&String> = f.remote_heads.iter().filter(|h| **h != b.docs).collect();
        let name = match others.as_slice() {
            [one] => one.as_str(),
            _ => "<branch>",
        };
        add(
            format!(
                "`{remote}` has no release branch `{}` (its branches: {})",
                b.root,
                if f.remote_heads.is_empty() { "none".to_string() } else { f.remote_heads.join(", ") }
            ),
            format!("name the release branch: `release-branch = \"{name}\"` in [tool.xtask] of pyproject.toml, or pass --root-branch {name}"),
        );
    }

    // The tags that stand: the remote's when it answered.
    let standing: Vec<Tag> = match &f.remote_tags {
        Some(remote_tags) => remote_tags.iter().map(|t| t.tag.clone()).collect(),
        None => f.local_tags.iter().map(|t| t.tag.clone()).collect(),
    };
    let standing_set: BTreeSet<&Tag> = standing.iter().collect();
    let stands = |t: &Tag| standing_set.contains(t);
    let newest_tag = standing.iter().max().cloned();
    let by_version: BTreeMap<&semver::Version, &Listed> =
        f.index.iter().flatten().map(|l| (&l.version, l)).collect();
    let on_index = |v: &semver::Version| by_version.get(v).copied();

    // This clone against the remote.
    if let Some(remote_tags) = &f.remote_tags {
        let theirs: BTreeMap<&Tag, &TagRef> = remote_tags.iter().map(|t| (&t.tag, t)).collect();
        for mine in &f.local_tags {
            let tag = &mine.tag;
            match theirs.get(tag) {
                None => {
                    let why = match on_index(tag.version_ref()) {
                        Some(l) if l.yanked => {
                            format!("deleted there: {} was rolled back", tag.pep440())
                        }
                        // Not yanked: a rollback waiting for its yank looks
                        // the same as a tag lost by accident.
                        Some(_) => format!(
                            "deleted there, while {v} is still installable from the index: a \
rollback that waits for its yank, or a lost tag; if {v} should stand, restore it with `git push \
{remote} refs/tags/{tag}` instead",
                            v = tag.pep440()
                        ),
                        None => "never pushed, or deleted there".into(),
                    };
                    add(
                        format!("tag {tag} is in this clone but not on `{remote}` ({why}); a `git push --tags` would bring it back"),
                        format!("git tag -d {tag}"),
                    );
                }
                Some(t) if t.object != mine.object => add(
                    format!(
                        "tag {tag} here (at {}) differs from `{remote}`'s (at {})",
                        short(&mine.commit),
                        short(&t.commit)
                    ),
                    format!("git fetch --force {remote} refs/tags/{tag}:refs/tags/{tag}"),
                ),
                Some(_) => {}
            }
        }
    }

    // From the index outward.
    let mut rolled_back = Vec::new();
    let mut next_release = None;
    let oldest_heading = f.headings.iter().min();
    if let Some(listed) = &f.index {
        let newest_listed = listed.iter().map(|l| &l.version).max();
        let newest_live = listed
            .iter()
            .filter(|l| !l.yanked)
            .map(|l| &l.version)
            .max();
        for l in listed {
            let Some(tag) = tag_of(&l.version) else {
                continue;
            };
            let v = &l.version;
            let manage = f
                .upload_url
                .as_deref()
                .map(|u| index::manage_url(u, &f.project, &v.to_string()))
                .unwrap_or_else(|| "the index's page of the release".into());
            match (stands(&tag), l.yanked) {
                (false, true) => rolled_back.push(v.clone()),
                (false, false) => {
                    let above = newest_tag.as_ref().is_none_or(|t| v > t.version_ref());
                    if above && Some(v) == newest_live {
                        add(
                            format!(
                                "{v} is on the index above the newest tag ({}) and has no tag {tag}: a rollback whose yank is pending, or a release whose tag was lost; the fix shows where to yank it and waits until the index shows it yanked",
                                newest_tag.as_ref().map_or("none".into(), Tag::to_string)
                            ),
                            format!("cargo xtask release-rollback {tag} --yes --wait{}", flags(false, false)),
                        );
                    } else {
                        add(
                            format!("{v} is on the index but has no tag {tag}"),
                            format!("yank {v} by hand at {manage} (the upload API cannot yank); if it is a good release whose tag was lost, tag its release commit instead: `git tag -a {tag} -m \"Release {tag}\" <commit>` and `git push {remote} refs/tags/{tag}`"),
                        );
                    }
                }
                (true, true) if Some(v) == newest_listed => add(
                    format!("{v}, the newest version on the index, is yanked but its tag {tag} stands: the rollback is not finished"),
                    format!("cargo xtask release-rollback {tag} --delete-tag --yes{}", flags(false, false)),
                ),
                (true, true) => {}
                (true, false) => {
                    if !f.headings.contains(&tag) && oldest_heading.is_some_and(|o| tag > *o) {
                        add(
                            format!("{v} is on the index but CHANGELOG.md has no `## {tag}` section"),
                            if newest_tag.as_ref() == Some(&tag) {
                                restore_heading(f, &tag, &flags(true, false))
                            } else {
                                format!("add a `## {tag}` section with its entries to CHANGELOG.md by hand")
                            },
                        );
                    }
                }
            }
        }
        // The newest version on the index is rolled back: say what comes next.
        if let Some(top) = newest_listed
            .filter(|v| rolled_back.contains(v) || on_index(v).is_some_and(|l| l.yanked))
        {
            let spent = standing
                .iter()
                .map(Tag::version_ref)
                .chain(Some(top))
                .max()
                .unwrap_or(top);
            next_release = tag_of(spent).map(|t| t.next_patch());
        }
    }

    // The newest tag and the files of the release branch.
    if let Some(tag) = &newest_tag {
        let listed = on_index(tag.version_ref());
        let above_index = f
            .index
            .as_ref()
            .is_some_and(|l| l.iter().all(|x| x.version < *tag.version_ref()));
        let refused = f
            .tag_refusal
            .as_ref()
            .filter(|(t, _)| t == tag && listed.is_none());
        if let (Some((_, why)), true) = (refused, f.index.is_some() && above_index) {
            // Never on the index: the tag may be retired and tagged again.
            add(
                format!("{tag} is tagged, but its release is refused before anything reaches the index: {why}"),
                format!("cargo xtask release-rollback {tag} --delete-tag --yes{}", flags(false, false)),
            );
        } else if f.index.is_some()
            && listed.is_none_or(|l| !l.complete && !l.yanked)
            && (above_index || listed.is_some())
        {
            add(
                format!("{tag} is tagged but not (completely) on the index"),
                format!("cargo xtask release {tag}{}", flags(true, false)),
            );
        }
        if f.index.is_none() && !f.headings.contains(tag) && f.file_errors.is_empty() {
            add(
                format!("CHANGELOG.md has no `## {tag}` section"),
                restore_heading(f, tag, &flags(true, false)),
            );
        }
        // Only ever forward: pyproject.toml behind the newest live release.
        let live = f.index.as_ref().map_or(f.headings.contains(tag), |_| {
            listed.is_some_and(|l| !l.yanked)
        });
        let behind = f
            .pyproject_version
            .as_deref()
            .and_then(|p| semver::Version::parse(p).ok())
            .is_some_and(|p| p < *tag.version_ref());
        if live && behind {
            let made = f
                .release_edits
                .as_ref()
                .filter(|e| e.tag == *tag)
                .and_then(|e| e.released_at.as_deref());
            add(
                format!(
                    "pyproject.toml says {} but {tag} is released",
                    f.pyproject_version.as_deref().unwrap_or("?")
                ),
                match made {
                    // The release commit was made: the step would find the
                    // release done and change nothing.
                    Some(commit) => format!(
                        "set `version = \"{}\"` under [project] in pyproject.toml (as the release commit {} has it), then commit and push it to `{}`",
                        tag.pep440(),
                        short(commit),
                        b.root
                    ),
                    None => format!(
                        "cargo xtask release {tag} --step version{}",
                        flags(true, false)
                    ),
                },
            );
        }
    }
    for p in &f.release_files {
        let at = p.at.as_ref().map_or(String::new(), |a| format!("{a}: "));
        add(format!("{at}{}", p.what), p.fix.clone());
    }
    for (problem, fix) in &f.docs_site {
        add(problem.clone(), fix.clone());
    }

    docs_findings(f, &standing, &flags(true, true), &mut add);

    if f.unpushed > 0 {
        add(
            format!("{} release-branch commit(s) are not pushed", f.unpushed),
            format!("git push {remote} {}", b.root),
        );
    }
    Assessment {
        findings: out,
        newest_tag,
        rolled_back,
        next_release,
    }
}

/// The fix for a missing `## vX.Y.Z` section of the newest tag: the
/// changelog step while it never stood on the branch, else the section
/// restored by hand from the first commit that had it.
fn restore_heading(f: &Facts, tag: &Tag, flags: &str) -> String {
    let root = f.branches.as_ref().map_or("root", |b| b.root.as_str());
    match f
        .release_edits
        .as_ref()
        .filter(|e| e.tag == *tag)
        .and_then(|e| e.heading_at.as_deref())
    {
        Some(commit) => format!(
            "put the `## {tag}` section back into CHANGELOG.md above the previous release, as \
`git show {}:CHANGELOG.md` has it, then commit and push it to `{root}`",
            short(commit)
        ),
        None => format!("cargo xtask release {tag} --step changelog{flags}"),
    }
}

/// Every released, non-yanked series has docs; `latest-release` and the
/// site default name the newest series; one spelling per series.
fn docs_findings(f: &Facts, standing: &[Tag], flags: &str, add: &mut impl FnMut(String, String)) {
    let Some(docs) = &f.docs else { return };
    // Released series: what the index serves, else what is tagged.
    let mut released: BTreeMap<crate::version::Series, Option<Tag>> = BTreeMap::new();
    match &f.index {
        Some(listed) => {
            for l in listed.iter().filter(|l| !l.yanked) {
                let Some(tag) = tag_of(&l.version) else {
                    continue;
                };
                let entry = released.entry(tag.series()).or_default();
                if standing.contains(&tag) && entry.as_ref().is_none_or(|t| *t < tag) {
                    *entry = Some(tag);
                }
            }
        }
        None => {
            for tag in standing {
                let entry = released.entry(tag.series()).or_default();
                if entry.as_ref().is_none_or(|t| t < tag) {
                    *entry = Some(tag.clone());
                }
            }
        }
    }
    for (series, tag) in released.iter().rev() {
        match (versions::spelling(docs, *series), tag) {
            (Err(e), _) => add(
                e.0,
                "keep one spelling: `mike delete --branch docs --push <the other>`".into(),
            ),
            (Ok(None), Some(tag)) => add(
                format!("series {series} is released ({tag}) but has no docs"),
                format!("cargo xtask docs-deploy {tag}{flags}"),
            ),
            // Untagged: the index finding above says what to do first.
            (Ok(None), None) | (Ok(Some(_)), _) => {}
        }
    }
    let Some(newest) = versions::newest(docs) else {
        return;
    };
    let holder = docs.iter().find(|v| v.aliases.iter().any(|a| a == LATEST));
    match holder {
        Some(v) if v.series() == Some(newest) => {}
        Some(v) => add(
            format!(
                "`{LATEST}` is on {} but the newest docs series is {newest}",
                v.name
            ),
            format!("cargo xtask docs-deploy {newest}{flags}"),
        ),
        None => add(
            format!("no docs version holds `{LATEST}`"),
            format!("cargo xtask docs-deploy {newest}{flags}"),
        ),
    }
    // Two spellings of a series not reported above.
    let mut seen = BTreeSet::new();
    for s in docs.iter().filter_map(DocsVersion::series) {
        if !seen.insert(s) && !released.contains_key(&s) {
            add(
                format!("series {s} has two spellings on the docs branch"),
                "keep one spelling: `mike delete --branch docs --push <the other>`".into(),
            );
        }
    }
    if f.docs_default.as_deref() != Some(LATEST) {
        add(
            format!(
                "the site default is {}, not `{LATEST}`",
                f.docs_default.as_deref().unwrap_or("unset")
            ),
            format!("cargo xtask docs-deploy {newest}{flags}"),
        );
    }
}

pub struct Options {
    pub json: bool,
    pub branches: Branches,
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let facts = gather(sh, root, &opts.branches);
    let a = assess(&facts);
    let found = &a.findings;
    if opts.json {
        let tag_commit = a.newest_tag.as_ref().and_then(|t| commit_of(&facts, t));
        let report = json!({
            "newest_tag": a.newest_tag.as_ref().map(Tag::to_string),
            "tag_commit": tag_commit,
            "pyproject_version": facts.pyproject_version,
            "recent_changes_entries": facts.recent_entries,
            "index_versions": facts.index.as_ref().map(|l| l.iter().filter(|x| x.complete).map(|x| x.version.to_string()).collect::<Vec<_>>()),
            "index": facts.index.as_ref().map(|l| l.iter().map(|x| json!({"version": x.version.to_string(), "yanked": x.yanked, "complete": x.complete})).collect::<Vec<_>>()),
            "rolled_back": a.rolled_back.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "next_release": a.next_release.as_ref().map(Tag::to_string),
            "docs": facts.docs.as_ref().map(|d| d.iter().map(|v| json!({"version": v.name, "aliases": v.aliases})).collect::<Vec<_>>()),
            "docs_default": facts.docs_default,
            "unpushed_commits": facts.unpushed,
            "files_from": facts.files_from,
            "index_source": facts.index_source,
            "consistent": found.is_empty(),
            "findings": found.iter().map(|f| json!({"problem": f.problem, "fix": f.fix})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&facts, &a);
    }
    if found.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} inconsistenc{} found",
            found.len(),
            if found.len() == 1 { "y" } else { "ies" }
        )
    }
}

fn commit_of(f: &Facts, tag: &Tag) -> Option<String> {
    f.remote_tags
        .iter()
        .flatten()
        .chain(&f.local_tags)
        .find(|t| t.tag == *tag)
        .map(|t| t.commit.clone())
}

fn print_report(f: &Facts, a: &Assessment) {
    let tag = a
        .newest_tag
        .as_ref()
        .map_or("(none)".to_string(), Tag::to_string);
    let commit = a
        .newest_tag
        .as_ref()
        .and_then(|t| commit_of(f, t))
        .map_or(String::new(), |c| format!(" at {}", short(&c)));
    println!("newest tag:        {tag}{commit}");
    println!(
        "release files:     {}",
        f.files_from
            .as_deref()
            .unwrap_or("this clone's working tree")
    );
    println!(
        "pyproject.toml:    {}",
        f.pyproject_version.as_deref().unwrap_or("(unreadable)")
    );
    println!(
        "Recent Changes:    {}",
        f.recent_entries
            .map_or("(no section)".to_string(), |n| format!(
                "{n} entr{}",
                if n == 1 { "y" } else { "ies" }
            ))
    );
    let indexed = match (&f.index, &f.index_error) {
        (Some(l), _) => l
            .iter()
            .max_by(|x, y| x.version.cmp(&y.version))
            .map_or("(no version)".to_string(), |x| {
                format!("{}{}", x.version, if x.yanked { " (yanked)" } else { "" })
            }),
        (None, Some(_)) => "(unreadable)".into(),
        (None, None) => "(not checked)".into(),
    };
    if let Some(source) = &f.index_source {
        println!("index:             {source}");
    }
    println!("index newest:      {indexed}");
    if let Some(next) = &a.next_release {
        let spent: Vec<String> = a.rolled_back.iter().map(ToString::to_string).collect();
        println!(
            "release state:     rolled back{}, next release {next}",
            if spent.is_empty() {
                String::new()
            } else {
                format!(" ({})", spent.join(", "))
            }
        );
    }
    let docs = match &f.docs {
        None => "(unreadable)".to_string(),
        Some(d) if d.is_empty() => "(none)".to_string(),
        Some(d) => d
            .iter()
            .map(|v| {
                if v.aliases.is_empty() {
                    v.name.clone()
                } else {
                    format!("{} [{}]", v.name, v.aliases.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    println!("docs versions:     {docs}");
    println!(
        "docs default:      {}",
        f.docs_default.as_deref().unwrap_or("(none)")
    );
    println!("unpushed commits:  {}", f.unpushed);
    println!(
        "\nstatus reads files only: `cargo xtask preflight` builds the package and the docs, \
and tells what else a release would refuse"
    );
    if a.findings.is_empty() {
        println!("\nconsistent: nothing to fix");
    } else {
        println!("\ninconsistent:");
        for item in &a.findings {
            println!("  - {}\n      fix: {}", item.problem, item.fix);
        }
    }
}

/// Git's own words when a call fails: its stderr, trimmed and clipped.
fn git_reason(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    clip(&lines.join(" / "))
}

/// Release tags from `for-each-ref` or `ls-remote` lines.
fn parse_local_tags(text: &str) -> Vec<TagRef> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let tag = Tag::from_git(parts.next()?)?;
            let object = parts.next()?.to_string();
            let commit = parts.next().unwrap_or(&object).to_string();
            Some(TagRef {
                tag,
                object,
                commit,
            })
        })
        .collect()
}

/// `(tags, heads)` from `git ls-remote` output; an annotated tag's
/// `^{}` line names its commit.
fn parse_ls_remote(text: &str) -> (Vec<TagRef>, Vec<String>) {
    let mut tags: BTreeMap<Tag, TagRef> = BTreeMap::new();
    let mut heads = Vec::new();
    for line in text.lines() {
        let Some((oid, name)) = line.split_once('\t') else {
            continue;
        };
        if let Some(head) = name.strip_prefix("refs/heads/") {
            heads.push(head.to_string());
        } else if let Some(name) = name.strip_prefix("refs/tags/") {
            let (name, peeled) = match name.strip_suffix("^{}") {
                Some(n) => (n, true),
                None => (name, false),
            };
            let Some(tag) = Tag::from_git(name) else {
                continue;
            };
            let entry = tags.entry(tag.clone()).or_insert_with(|| TagRef {
                tag,
                object: oid.into(),
                commit: oid.into(),
            });
            if peeled {
                entry.commit = oid.into();
            } else {
                entry.object = oid.into();
            }
        }
    }
    (tags.into_values().collect(), heads)
}

/// Index listing as versions with their yank and completeness state.
fn listed_versions(project: &str, files: &[IndexFile]) -> Vec<Listed> {
    let normalized = index::normalize(project);
    let complete = index::complete_versions(project, files);
    let mut by_version: BTreeMap<semver::Version, bool> = BTreeMap::new();
    for file in files {
        let Some((name, version)) = index::file_version(&file.filename) else {
            continue;
        };
        let Ok(v) = semver::Version::parse(&version) else {
            continue;
        };
        if name == normalized {
            *by_version.entry(v).or_insert(true) &= file.yanked;
        }
    }
    by_version
        .into_iter()
        .map(|(version, yanked)| Listed {
            complete: complete.contains(&version),
            version,
            yanked,
        })
        .collect()
}

/// Reads everything, never failing: what cannot be read is recorded with
/// its reason and becomes a finding.
/// The newest release tag that stands: the remote's when it answered.
fn newest_standing(facts: &Facts) -> Option<&TagRef> {
    let standing = match &facts.remote_tags {
        Some(tags) => tags,
        None => &facts.local_tags,
    };
    standing.iter().max_by(|a, b| a.tag.cmp(&b.tag))
}

/// Where the newest tag's heading, and its heading with its version, first
/// stood from the tag along the release branch (`root_rev`).
fn newest_release_edits(git: &Git, facts: &Facts, root_rev: &str) -> Option<ReleaseEdits> {
    let newest = newest_standing(facts)?;
    let tag = &newest.tag;
    let mut commits = vec![newest.commit.clone()];
    if git.is_ancestor(&newest.commit, root_rev).ok()? {
        let paths = [changelog::FILE, pyproject::FILE];
        commits.extend(
            git.first_parent_commits(&newest.commit, root_rev, &paths)
                .ok()?,
        );
    }
    let mut edits = ReleaseEdits {
        tag: tag.clone(),
        heading_at: None,
        released_at: None,
    };
    for commit in commits.iter().take(500) {
        let read = |file: &str| git.show_text(commit, file, file).ok().flatten();
        let heading = read(changelog::FILE).is_some_and(|l| changelog::section(&l, tag).is_some());
        if !heading {
            continue;
        }
        edits.heading_at.get_or_insert_with(|| commit.clone());
        let version = read(pyproject::FILE).and_then(|p| pyproject::read_version(&p).ok());
        if version.as_deref() == Some(tag.pep440().as_str()) {
            edits.released_at = Some(commit.clone());
            break;
        }
    }
    Some(edits)
}

/// The newest tag that stands, and why its release would be refused,
/// read from its files and the release branch's (`root_rev`).
fn newest_tag_refusal(
    git: &Git,
    facts: &Facts,
    root_rev: &str,
    (root_py, root_log): &(String, String),
) -> Option<(Tag, String)> {
    let newest = newest_standing(facts)?;
    let rev = &newest.commit;
    let read = |file: &str| git.show_text(rev, file, file).ok().flatten();
    let (py, log) = (read(pyproject::FILE)?, read(changelog::FILE)?);
    let top_level = git.top_level(rev).ok()?;
    let changed = git.changed_paths(rev, root_rev).ok()?;
    let source = rules::TaggedSource {
        pyproject: &py,
        changelog: &log,
        top_level: &top_level,
        root_pyproject: root_py,
        root_changelog: root_log,
        changed: &changed,
    };
    rules::pending_tag_refusal(&newest.tag, &source).map(|why| (newest.tag.clone(), why))
}

fn gather(sh: &Shell, root: &Utf8Path, b: &Branches) -> Facts {
    let git = Git::new(sh);
    let mut facts = Facts {
        branches: Some(b.clone()),
        ..Facts::default()
    };
    let remote = &b.remote;

    // The remote in one read (no local tag is touched), then the branches
    // status needs, fetched into their remote-tracking refs.
    let listing = cmd!(sh, "git ls-remote --end-of-options {remote}")
        .env("GIT_TERMINAL_PROMPT", "0")
        .quiet()
        .ignore_status()
        .output();
    match listing {
        Ok(out) if out.status.success() => {
            let (tags, heads) = parse_ls_remote(&String::from_utf8_lossy(&out.stdout));
            facts.remote_tags = Some(tags);
            facts.remote_heads = heads;
        }
        Ok(out) => facts.remote_error = Some(git_reason(&out.stderr)),
        Err(e) => facts.remote_error = Some(format!("running git: {e}")),
    }
    let wanted: Vec<String> = [&b.root, &b.docs]
        .into_iter()
        .filter(|h| facts.remote_heads.contains(h))
        .map(|h| format!("+refs/heads/{h}:refs/remotes/{remote}/{h}"))
        .collect();
    if !wanted.is_empty() {
        let refspecs = &wanted;
        let fetched = cmd!(
            sh,
            "git fetch --quiet --no-tags --end-of-options {remote} {refspecs...}"
        )
        .env("GIT_TERMINAL_PROMPT", "0")
        .quiet()
        .ignore_status()
        .output();
        let refused = match fetched {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(git_reason(&out.stderr)),
            Err(e) => Some(format!("running git: {e}")),
        };
        if let Some(why) = refused {
            facts.remote_error = Some(format!("fetching {} refused: {why}", wanted.join(" ")));
            facts.remote_tags = None;
        }
    }

    if let Ok(out) = cmd!(
        sh,
        "git for-each-ref --format=%(refname:strip=2)%20%(objectname)%20%(*objectname) refs/tags"
    )
    .quiet()
    .read()
    {
        facts.local_tags = parse_local_tags(&out);
    }

    // The release files as the remote's branch holds them (just fetched):
    // a clone that is behind, or on another branch, would report stale
    // files, and the fixes (which act on the remote) would not converge.
    let root_fetched = facts.remote_error.is_none() && facts.remote_heads.contains(&b.root);
    let remote_root = format!("refs/remotes/{remote}/{}", b.root);
    let read_release_file = |file: &str| -> Result<String> {
        if !root_fetched {
            return read(root, file);
        }
        let label = format!("{file} on {remote}/{}", b.root);
        git.show_text(&remote_root, file, &label)?
            .with_context(|| format!("{label}: the file does not exist"))
    };
    if root_fetched {
        facts.files_from = Some(format!("{remote}/{}", b.root));
    }
    match read_release_file(changelog::FILE) {
        Ok(log) => {
            facts.recent_entries = changelog::recent_entries(&log);
            facts.headings = release_headings(&log);
        }
        Err(e) => facts.file_errors.push(format!("{e:#}")),
    }
    let files_rev = if root_fetched {
        remote_root.as_str()
    } else {
        "HEAD"
    };
    let top_level = git.top_level(files_rev).unwrap_or_default();
    let mut root_files = (String::new(), String::new());
    match read_release_file(pyproject::FILE) {
        Ok(text) => {
            facts.pyproject_version = pyproject::read_version(&text).ok();
            match pyproject::read_name(&text) {
                Ok(name) => {
                    facts.project = name;
                    facts.release_files.extend(rules::pyproject_problem(&text));
                }
                Err(e) => facts.file_errors.push(format!("{e:#}")),
            }
            facts
                .release_files
                .extend(rules::sdist_problem(&text, &top_level));
            root_files.0 = text;
        }
        Err(e) => facts.file_errors.push(format!("{e:#}")),
    }
    if let Ok(log) = read_release_file(changelog::FILE) {
        root_files.1 = log;
    }
    facts.tag_refusal = newest_tag_refusal(&git, &facts, files_rev, &root_files);
    facts.release_edits = newest_release_edits(&git, &facts, files_rev);
    if !facts.project.is_empty() {
        match IndexConfig::from_env(sh, root) {
            Ok(config) => {
                match config.fetch(&facts.project) {
                    Ok(files) => facts.index = Some(listed_versions(&facts.project, &files)),
                    Err(e) => facts.index_error = Some(clip(&format!("{e:#}"))),
                }
                facts.index_source = Some(config.describe(sh));
                facts.upload_url = Some(config.upload_url);
            }
            Err(e) => facts.index_error = Some(clip(&format!("{e:#}"))),
        }
    }

    if facts.remote_error.is_none() {
        if facts.remote_heads.contains(&b.docs) {
            match docs::read_docs(&git, b, false) {
                Ok(state) => {
                    facts.docs_site =
                        versions::site_problems(&state.versions, &state.aliases, &b.docs);
                    facts.docs = Some(state.versions);
                    facts.docs_default = state.default;
                }
                Err(e) => facts.file_errors.push(format!(
                    "the docs branch {remote}/{} could not be read: {e:#}",
                    b.docs
                )),
            }
        } else {
            facts.docs = Some(Vec::new());
        }
    }

    if facts.remote_heads.contains(&b.root) {
        let range = format!("refs/remotes/{remote}/{0}..refs/heads/{0}", b.root);
        facts.unpushed = cmd!(sh, "git rev-list --count --end-of-options {range}")
            .quiet()
            .ignore_stderr()
            .read()
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).expect("version")
    }

    fn tag(s: &str) -> Tag {
        Tag::parse(s).expect("tag")
    }

    fn tagref(s: &str, oid: &str) -> TagRef {
        TagRef {
            tag: tag(s),
            object: oid.into(),
            commit: oid.into(),
        }
    }

    fn listed(s: &str, yanked: bool) -> Listed {
        Listed {
            version: v(s),
            yanked,
            complete: true,
        }
    }

    /// A version with some of its files on the index.
    fn partial(s: &str) -> Listed {
        Listed {
            complete: false,
            ..listed(s, false)
        }
    }

    fn dv(name: &str, aliases: &[&str]) -> DocsVersion {
        DocsVersion::plain(name, aliases)
    }

    /// v0.6.0 and v0.7.0 released, tagged here and on the remote, with docs.
    fn consistent() -> Facts {
        let tags = vec![tagref("v0.6.0", "a6"), tagref("v0.7.0", "a7")];
        Facts {
            branches: None,
            project: "mindoff-dataport".into(),
            local_tags: tags.clone(),
            remote_tags: Some(tags),
            remote_heads: vec!["root".into(), "docs".into()],
            pyproject_version: Some("0.7.0".into()),
            headings: vec![tag("v0.7.0"), tag("v0.6.0")],
            index: Some(vec![listed("0.6.0", false), listed("0.7.0", false)]),
            upload_url: Some("http://127.0.0.1:1/".into()),
            docs: Some(vec![dv("0.7", &[LATEST]), dv("0.6", &[])]),
            docs_default: Some(LATEST.into()),
            ..Facts::default()
        }
    }

    fn findings(f: &Facts) -> Vec<Finding> {
        assess(f).findings
    }

    /// After `release-rollback v0.7.0 --delete-tag` and the yank.
    fn rolled_back() -> Facts {
        let mut f = consistent();
        f.local_tags.pop();
        f.remote_tags.as_mut().map(Vec::pop);
        f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", true)]);
        f.docs = Some(vec![dv("0.7", &[LATEST]), dv("0.6", &[])]);
        f
    }

    #[test]
    fn each_inconsistency_names_its_fix() {
        assert_eq!(findings(&consistent()), vec![]);
        type Change = fn(&mut Facts);
        let cases: Vec<(Change, &str, &str)> = vec![
            (
                |f| f.index = Some(vec![listed("0.6.0", false)]),
                "v0.7.0 is tagged but not (completely) on the index",
                "cargo xtask release v0.7.0",
            ),
            (
                |f| {
                    f.index = Some(vec![listed("0.6.0", false)]);
                    f.tag_refusal = Some((tag("v0.7.0"), "at v0.7.0, the sdist would ship".into()));
                },
                "v0.7.0 is tagged, but its release is refused before anything reaches the index: at v0.7.0, the sdist would ship",
                "cargo xtask release-rollback v0.7.0 --delete-tag --yes",
            ),
            (
                // Files on the index: the version is not retired, it resumes.
                |f| {
                    f.index = Some(vec![listed("0.6.0", false), partial("0.7.0")]);
                    f.tag_refusal = Some((tag("v0.7.0"), "moved".into()));
                },
                "v0.7.0 is tagged but not (completely) on the index",
                "cargo xtask release v0.7.0",
            ),
            (
                |f| {
                    f.release_files = vec![Problem::new(
                        "the sdist would ship the release tooling (xtask)",
                        Some("pyproject.toml:1".into()),
                        "exclude it",
                    )]
                },
                "pyproject.toml:1: the sdist would ship the release tooling (xtask)",
                "exclude it",
            ),
            (
                // The release commit was made: the step would change nothing.
                |f| {
                    f.pyproject_version = Some("0.6.9".into());
                    f.release_edits = Some(ReleaseEdits {
                        tag: tag("v0.7.0"),
                        heading_at: Some("c7c7c7c7c7c7".into()),
                        released_at: Some("c7c7c7c7c7c7".into()),
                    });
                },
                "pyproject.toml says 0.6.9 but v0.7.0 is released",
                "set `version = \"0.7.0\"` under [project] in pyproject.toml (as the release commit c7c7c7c7c7 has it), then commit and push it to `root`",
            ),
            (
                |f| {
                    f.headings = vec![tag("v0.6.0")];
                    f.release_edits = Some(ReleaseEdits {
                        tag: tag("v0.7.0"),
                        heading_at: Some("c7c7c7c7c7c7".into()),
                        released_at: None,
                    });
                },
                "0.7.0 is on the index but CHANGELOG.md has no `## v0.7.0` section",
                "put the `## v0.7.0` section back into CHANGELOG.md above the previous release, as `git show c7c7c7c7c7:CHANGELOG.md` has it",
            ),
            (
                |f| f.pyproject_version = Some("0.6.9".into()),
                "pyproject.toml says 0.6.9 but v0.7.0 is released",
                "cargo xtask release v0.7.0 --step version",
            ),
            (
                |f| f.headings = vec![tag("v0.6.0")],
                "0.7.0 is on the index but CHANGELOG.md has no `## v0.7.0` section",
                "cargo xtask release v0.7.0 --step changelog",
            ),
            (
                |f| f.docs = Some(vec![dv("0.7", &[]), dv("0.6", &[LATEST])]),
                "`latest-release` is on 0.6",
                "cargo xtask docs-deploy 0.7",
            ),
            (
                |f| f.docs = Some(vec![dv("0.7", &[LATEST])]),
                "series 0.6 is released (v0.6.0) but has no docs",
                "cargo xtask docs-deploy v0.6.0",
            ),
            (
                |f| f.docs.as_mut().expect("docs").push(dv("v0.6", &[])),
                "0.6",
                "mike delete",
            ),
            (|f| f.docs_default = None, "site default", "cargo xtask docs-deploy 0.7"),
            (|f| f.unpushed = 2, "not pushed", "git push origin root"),
            (
                |f| {
                    f.index = None;
                    f.index_error = Some("refused".into())
                },
                "the package index could not be read: refused",
                "TWINE_REPOSITORY_URL",
            ),
            (
                |f| {
                    f.remote_tags = None;
                    f.remote_error = Some("fatal: unable to access".into())
                },
                "the remote `origin` could not be read: fatal: unable to access",
                "git ls-remote origin",
            ),
            (
                |f| f.index.as_mut().expect("index").insert(1, listed("0.6.5", false)),
                "0.6.5 is on the index but has no tag v0.6.5",
                "yank 0.6.5 by hand at http://127.0.0.1:1/manage/project/mindoff-dataport/release/0.6.5/",
            ),
            (
                |f| f.index.as_mut().expect("index").push(listed("0.8.0", false)),
                "0.8.0 is on the index above the newest tag (v0.7.0) and has no tag v0.8.0",
                "cargo xtask release-rollback v0.8.0 --yes --wait",
            ),
            (
                |f| f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", true)]),
                "0.7.0, the newest version on the index, is yanked but its tag v0.7.0 stands",
                "cargo xtask release-rollback v0.7.0 --delete-tag --yes",
            ),
            (
                |f| f.local_tags[1] = tagref("v0.7.0", "other"),
                "tag v0.7.0 here (at other) differs from `origin`'s (at a7)",
                "git fetch --force origin refs/tags/v0.7.0:refs/tags/v0.7.0",
            ),
            (
                |f| {
                    f.remote_tags.as_mut().map(Vec::pop);
                    f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", true)]);
                },
                "tag v0.7.0 is in this clone but not on `origin` (deleted there: 0.7.0 was rolled back)",
                "git tag -d v0.7.0",
            ),
            (
                |f| {
                    f.remote_tags.as_mut().map(Vec::pop);
                    f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", false)]);
                },
                "(deleted there, while 0.7.0 is still installable from the index: a rollback that \
waits for its yank, or a lost tag; if 0.7.0 should stand, restore it with `git push origin \
refs/tags/v0.7.0` instead)",
                "git tag -d v0.7.0",
            ),
            (
                |f| f.remote_heads = vec!["main".into(), "docs".into()],
                "`origin` has no release branch `root` (its branches: main, docs)",
                "`release-branch = \"main\"` in [tool.xtask] of pyproject.toml, or pass --root-branch main",
            ),
        ];
        for (change, problem, fix) in cases {
            let mut facts = consistent();
            change(&mut facts);
            let found = findings(&facts);
            assert!(
                found
                    .iter()
                    .any(|f| f.problem.contains(problem) && f.fix.contains(fix)),
                "{problem} / {fix} not in {found:#?}"
            );
        }
    }

    #[test]
    fn a_rollback_is_reported_as_spent_never_as_a_downgrade() {
        let a = assess(&rolled_back());
        assert_eq!(a.findings, vec![]);
        assert_eq!(a.rolled_back, vec![v("0.7.0")]);
        assert_eq!(a.next_release, Some(tag("v0.7.1")));
        assert_eq!(a.newest_tag, Some(tag("v0.6.0")));
        // No fix ever names a version below what pyproject.toml says.
        let mut f = rolled_back();
        f.pyproject_version = Some("0.7.0".into());
        for x in findings(&f) {
            assert!(!x.fix.contains("v0.6.0 --step version"), "{x:?}");
        }
    }

    #[test]
    fn all_released_series_need_docs_and_flags_follow_the_settings() {
        let mut f = consistent();
        f.docs = Some(vec![dv("0.7", &[LATEST])]);
        f.branches = Some(Branches {
            remote: "upstream".into(),
            root: "main".into(),
            docs: "gh-pages".into(),
        });
        f.remote_heads = vec!["main".into(), "gh-pages".into()];
        let fixes: Vec<String> = findings(&f).into_iter().map(|x| x.fix).collect();
        assert_eq!(
            fixes,
            ["cargo xtask docs-deploy v0.6.0 --remote upstream --root-branch main --docs-branch gh-pages"]
        );
    }

    #[test]
    fn git_listings_are_parsed() {
        let (tags, heads) = parse_ls_remote(
            "c1\trefs/heads/root\nt7\trefs/tags/v0.7.0\nc7\trefs/tags/v0.7.0^{}\nc6\trefs/tags/v0.6.0\nx\trefs/tags/nightly\n",
        );
        assert_eq!(heads, ["root"]);
        assert_eq!(
            tags,
            vec![
                tagref("v0.6.0", "c6"),
                TagRef {
                    tag: tag("v0.7.0"),
                    object: "t7".into(),
                    commit: "c7".into()
                }
            ]
        );
        assert_eq!(
            parse_local_tags("v0.7.0 t7 c7\nv0.6.0 c6 \nfoo x y\n"),
            vec![
                TagRef {
                    tag: tag("v0.7.0"),
                    object: "t7".into(),
                    commit: "c7".into()
                },
                tagref("v0.6.0", "c6")
            ]
        );
        assert_eq!(
            release_headings("\u{feff}## v0.7.0\r\n## Recent Changes\n### v0.1.0\n## v0.6.0  \n"),
            vec![tag("v0.7.0"), tag("v0.6.0")]
        );
    }
}
