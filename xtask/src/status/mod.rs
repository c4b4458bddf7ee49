//! `cargo xtask status`: is the project in a consistent release state?
//! Reads the remote (tags and branches, without changing a local tag),
//! the package index, the repository's files and the docs branch, and
//! reasons from the index outward: every version the index lists is
//! matched against the tags and the changelog. Every inconsistency is
//! named with the fix that moves the state forward, never backwards. A
//! remote or index that cannot be read is a finding too, with git's or
//! the server's own reason; `--json` always prints a report.

mod findings;
mod gather;
mod report;

use anyhow::Result;
use camino::Utf8Path;
use xshell::Shell;

use crate::docs::Branches;
use crate::docs_versions::DocsVersion;
use crate::preflight_rules::Problem;
use crate::version::Tag;

use findings::assess;
use gather::gather;

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

pub struct Options {
    pub json: bool,
    pub branches: Branches,
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let facts = gather(sh, root, &opts.branches);
    let a = assess(&facts);
    let found = &a.findings;
    if opts.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report::json(&facts, &a))?
        );
    } else {
        report::print(&facts, &a);
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
