//! `cargo xtask docs-list`: the versions on the remote docs branch, newest
//! first, and every problem the site has with the command that fixes it.

use anyhow::Result;
use camino::Utf8Path;
use xshell::Shell;

use super::show::print_versions;
use super::site::read_remote;
use super::worktree::prune_worktrees;
use crate::docs_versions as versions;
use crate::settings::Branches;

pub fn list(sh: &Shell, root: &Utf8Path, branches: &Branches) -> Result<()> {
    prune_worktrees(sh, root);
    let (state, _) = read_remote(sh, branches, &branches.docs_ref(), false)?;
    println!(
        "docs versions on {}/{} (newest first):",
        branches.remote, branches.docs
    );
    let mut sorted = state.versions.clone();
    versions::sort_newest_first(&mut sorted);
    print_versions(&sorted, state.default.as_deref());
    for (problem, fix) in versions::site_problems(&state.versions, &state.aliases, &branches.docs) {
        println!("    problem: {problem}\n      fix: {fix}");
    }
    Ok(())
}
