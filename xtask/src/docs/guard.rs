//! The guard every docs command passes before mike runs: the docs branch
//! holds mike's output only, and the xtask may move its local branch.

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use crate::docs_versions as versions;
use crate::git::Git;
use crate::input::{clip, BadInput};
use crate::settings::Branches;

/// The docs branch holds mike's output only: refuse the branch checked out
/// here or in another worktree, and a remote or local branch of that name
/// holding anything else (the xtask moves the local one).
pub(super) fn guard_docs_branch(sh: &Shell, b: &Branches, remote_tip: Option<&str>) -> Result<()> {
    let git = Git::new(sh);
    refuse_checked_out(sh, &git, b)?;
    let name = clip(&b.docs);
    let local = git.commit_of(&format!("refs/heads/{}", b.docs))?;
    for (place, commit) in [
        (
            format!("{}/{name}", clip(&b.remote)),
            remote_tip.map(str::to_string),
        ),
        (format!("the local branch `{name}`"), local),
    ] {
        let Some(commit) = commit else { continue };
        let top = git.show(&commit, "")?.unwrap_or_default();
        let names: Vec<&str> = top.lines().skip(2).filter(|l| !l.is_empty()).collect();
        if let Some(why) = versions::not_a_site(&names) {
            bail!(BadInput(format!(
                "{place} is not a mike docs site ({why}): the docs branch holds generated output \
only; name the docs branch with --docs-branch (or `docs-branch` in [tool.xtask])"
            )));
        }
    }
    Ok(())
}

/// mike commits to the docs branch: it cannot be checked out anywhere.
fn refuse_checked_out(sh: &Shell, git: &Git, b: &Branches) -> Result<()> {
    let docs = &b.docs;
    let name = clip(docs);
    if git.current_branch()?.as_deref() == Some(docs.as_str()) {
        bail!(BadInput(format!(
            "the docs branch `{name}` is the branch checked out here: it holds generated output \
only; switch to the release branch `{}` (or name another docs branch with --docs-branch)",
            clip(&b.root)
        )));
    }
    let worktrees = cmd!(sh, "git worktree list --porcelain")
        .quiet()
        .read()
        .context("listing the worktrees")?;
    let checked_out = format!("branch refs/heads/{docs}");
    if worktrees.lines().any(|l| l == checked_out) {
        bail!(BadInput(format!(
            "the docs branch `{name}` is checked out in another worktree (`git worktree list`): \
mike cannot commit to it; switch that worktree to another branch"
        )));
    }
    Ok(())
}
