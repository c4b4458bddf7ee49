//! Moving the docs branch: the local branch set to the planned base before
//! mike commits on it, and the one push of the result (never forced),
//! planned again from the remote when the branch moved meanwhile.

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

use super::show::short;
use super::site::ls_remote;
use crate::git::Git;
use crate::settings::Branches;

/// How many times a command plans and pushes before it gives up on a
/// docs branch that keeps moving.
pub(super) const PUSH_ATTEMPTS: usize = 3;

/// How one planned attempt ended.
pub(super) enum Attempt {
    /// Pushed, or nothing (more) to push.
    Finished,
    /// The push was refused because the remote branch moved: plan again.
    BranchMoved,
}

/// Runs `attempt` (given its number) until it finishes, at most
/// `PUSH_ATTEMPTS` times; `again` says what the next attempt does and
/// `rerun` what the user runs again once every push was refused.
pub(super) fn retry_when_moved(
    b: &Branches,
    again: &str,
    rerun: &str,
    mut attempt: impl FnMut(usize) -> Result<Attempt>,
) -> Result<()> {
    for number in 1..=PUSH_ATTEMPTS {
        if let Attempt::Finished = attempt(number)? {
            return Ok(());
        }
        if number < PUSH_ATTEMPTS {
            eprintln!(
                "    {}/{} moved meanwhile: {again} (attempt {number})",
                b.remote, b.docs
            );
        }
    }
    bail!(
        "{}/{} kept moving: {PUSH_ATTEMPTS} pushes were refused; nothing was forced, run the \
{rerun} again",
        b.remote,
        b.docs
    )
}

/// Pushes `new` as the remote docs branch (no force). `Ok(false)`: the
/// push was refused because the branch moved (re-plan and try again). After
/// a push, the remote must hold exactly `new`.
pub(super) fn push_docs(sh: &Shell, b: &Branches, new: &str) -> Result<bool> {
    let (remote, docs) = (&b.remote, &b.docs);
    let refspec = format!("{new}:refs/heads/{docs}");
    let out = cmd!(
        sh,
        "git push --porcelain --end-of-options {remote} {refspec}"
    )
    .quiet()
    .ignore_status()
    .output()
    .with_context(|| format!("pushing {docs} to {remote}"))?;
    if !out.status.success() {
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if is_push_race(&report) {
            return Ok(false);
        }
        bail!("git push {remote} {docs} failed:\n{}", report.trim_end());
    }
    let landed = ls_remote(sh, b)?.docs;
    if landed.as_deref() != Some(new) {
        bail!(
            "pushed {} to {remote}/{docs}, but the remote now has {}: run the command again to \
plan from what the remote holds",
            short(new),
            landed
                .as_deref()
                .map_or("no such branch".to_string(), short)
        );
    }
    let tracking = b.docs_ref();
    cmd!(sh, "git update-ref {tracking} {new}").quiet().run()?;
    Ok(true)
}

/// Whether git's report of a failed push says the branch moved (a race to
/// plan again for), not that the push is impossible.
fn is_push_race(report: &str) -> bool {
    report.contains("[rejected]")
        || report.contains("non-fast-forward")
        || report.contains("fetch first")
        || report.contains("cannot lock ref")
}

/// Points the local docs branch at the planned base (or removes it, for a
/// branch that does not exist yet), so mike commits on exactly that.
pub(super) fn reset_local_branch(sh: &Shell, b: &Branches, base: Option<&str>) -> Result<()> {
    let git = Git::new(sh);
    let local = format!("refs/heads/{}", b.docs);
    if let Some(was) = git.commit_of(&local)? {
        let behind = match base {
            Some(base) => git.is_ancestor(&was, base)?,
            None => false,
        };
        if !behind {
            println!(
                "    note: the local branch `{}` was at {}, which {}/{} does not hold: it now \
follows the remote (the old commit stays in `git reflog {}`)",
                b.docs,
                short(&was),
                b.remote,
                b.docs,
                b.docs
            );
        }
    }
    match base {
        Some(commit) => cmd!(sh, "git update-ref {local} {commit}").quiet().run()?,
        None => cmd!(sh, "git update-ref -d {local}")
            .quiet()
            .ignore_status()
            .ignore_stderr()
            .run()?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_branch_is_a_race_and_a_refused_remote_is_not() {
        assert!(is_push_race(
            " ! [rejected]        abc:refs/heads/docs (fetch first)"
        ));
        assert!(is_push_race("error: cannot lock ref 'refs/heads/docs'"));
        assert!(!is_push_race(
            "fatal: could not read from remote repository"
        ));
    }
}
