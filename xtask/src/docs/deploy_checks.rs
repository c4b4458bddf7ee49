//! The checks step of `docs-deploy`: the source is what the docs may be
//! built from (a clean release branch, or a tag here), the remote site is
//! read and guarded, the series is released, and a tag's release commit is
//! found to build from.

use std::fs;

use anyhow::{bail, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use super::deploy::DeployOptions;
use super::deploy_plan::{check_released, Source};
use super::guard::guard_docs_branch;
use super::show::short;
use super::site::{read_remote, DocsState};
use crate::docs_versions as versions;
use crate::git::Git;
use crate::input::{clip, BadInput};
use crate::pyproject;
use crate::release_commit;
use crate::settings::Branches;
use crate::version::{Series, Tag};

/// Where the remote release branch is read to find a release commit.
pub(super) const RELEASE_REF: &str = "refs/xtask/release-branch";

/// What the checks found, for the deploy itself.
pub(super) struct Checked {
    pub(super) state: DocsState,
    pub(super) released: Vec<Series>,
    pub(super) build_rev: Option<String>,
}

/// Runs the checks; the string says what is deployed, for the step's line.
pub(super) fn check_deploy(
    sh: &Shell,
    root: &Utf8Path,
    opts: &DeployOptions,
    source: &Source,
    read_ref: &str,
) -> Result<(String, Checked)> {
    let git = Git::new(sh);
    let b = &opts.branches;
    let series = source.series();
    match source {
        Source::Tree(_) => check_working_tree(&git, opts)?,
        Source::Tag(tag) => check_tag_here(&git, b, tag, series)?,
    }
    let (state, remote_tags) = read_remote(sh, b, read_ref, opts.dry_run)?;
    guard_docs_branch(sh, b, state.commit.as_deref())?;
    let released = released_series(&git, root, &remote_tags)?;
    check_released(series, &released, opts.unreleased, &b.remote)?;
    let (what, build_rev) = match source {
        Source::Tree(_) => (format!("series {series} from the working tree"), None),
        Source::Tag(tag) => release_commit_of(sh, &git, b, tag)?,
    };
    Ok((
        what,
        Checked {
            state,
            released,
            build_rev,
        },
    ))
}

/// Docs from the working tree match a commit of the release branch (or,
/// with --from-tree, any commit).
fn check_working_tree(git: &Git, opts: &DeployOptions) -> Result<()> {
    let b = &opts.branches;
    let dirty = git.dirty_files()?;
    if !dirty.is_empty() {
        bail!(BadInput(format!(
            "the working tree is not clean ({}): commit or stash first, so the docs match a \
commit",
            clip(&dirty.join(", "))
        )));
    }
    let branch = git.current_branch()?;
    if !opts.from_tree && branch.as_deref() != Some(b.root.as_str()) {
        bail!(BadInput(format!(
            "docs deploy from the working tree runs on `{}` (HEAD is on {}): switch to it, name \
a tag (`cargo xtask docs-deploy vX.Y.Z`), or pass --from-tree",
            clip(&b.root),
            branch.map_or("no branch".into(), |b| format!("`{}`", clip(&b)))
        )));
    }
    Ok(())
}

fn check_tag_here(git: &Git, b: &Branches, tag: &Tag, series: Series) -> Result<()> {
    // The release commit is found along the history after the tag.
    git.require_full_history(&format!("docs-deploy {tag}"), &b.remote)?;
    if git.commit_of(&Git::tag_ref(tag))?.is_none() {
        bail!(BadInput(format!(
            "tag {tag} does not exist here: fetch tags (`git fetch --tags {}`) or name a series \
such as {series}",
            clip(&b.remote)
        )));
    }
    Ok(())
}

/// The series known released: release tags here and on the remote, and
/// the working tree's `pyproject.toml` version.
fn released_series(git: &Git, root: &Utf8Path, remote_tags: &[Tag]) -> Result<Vec<Series>> {
    let mut tags = git.release_tags()?;
    tags.extend_from_slice(remote_tags);
    let project = fs::read_to_string(root.join(pyproject::FILE))
        .ok()
        .and_then(|text| pyproject::read_version(&text).ok());
    Ok(versions::released_series(&tags, project.as_deref()))
}

/// The commit a tag's docs are built from, and what that is: its release
/// commit, else (with a warning) the tag's own tree.
fn release_commit_of(
    sh: &Shell,
    git: &Git,
    b: &Branches,
    tag: &Tag,
) -> Result<(String, Option<String>)> {
    let series = tag.series();
    let branch = release_branch_ref(sh, b)?;
    let found = release_commit::find(sh, tag, branch.as_deref())?;
    let _ = cmd!(sh, "git update-ref -d {RELEASE_REF}")
        .quiet()
        .ignore_status()
        .ignore_stderr()
        .run();
    Ok(match found {
        Some(commit) => (
            format!(
                "series {series} from {tag}'s release commit {}",
                short(&commit)
            ),
            Some(commit),
        ),
        None => {
            let tagged = git.commit_of(&Git::tag_ref(tag))?;
            println!(
                "    warning: no commit from {tag} on {}/{} has `## {tag}` in CHANGELOG.md and \
version {} in pyproject.toml: building the tag's own tree",
                b.remote,
                b.root,
                tag.pep440()
            );
            (format!("series {series} from the tree of {tag}"), tagged)
        }
    })
}

/// The remote's release branch, read into a private ref (else the local
/// tracking ref or branch), to find a release commit after its tag.
fn release_branch_ref(sh: &Shell, b: &Branches) -> Result<Option<String>> {
    let git = Git::new(sh);
    let fetched = git.fetch_into(&b.remote, &b.root, RELEASE_REF).is_ok();
    if fetched {
        return Ok(Some(RELEASE_REF.to_string()));
    }
    for candidate in [
        format!("refs/remotes/{}/{}", b.remote, b.root),
        format!("refs/heads/{}", b.root),
    ] {
        if git.commit_of(&candidate)?.is_some() {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}
