//! Thin layer over the `git` command line. Every argument goes through
//! xshell as one argument, never through a shell.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::input::{clip, BadInput};
use crate::version::Tag;

pub struct Git<'a> {
    sh: &'a Shell,
}

impl<'a> Git<'a> {
    pub fn new(sh: &'a Shell) -> Git<'a> {
        Git { sh }
    }

    pub fn current_branch(&self) -> Result<Option<String>> {
        let sh = self.sh;
        let out = cmd!(sh, "git symbolic-ref --quiet --short HEAD")
            .quiet()
            .ignore_status()
            .output()
            .context("reading the current branch")?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
    }

    /// `git status --porcelain` lines: empty when the tree is clean.
    pub fn dirty_files(&self) -> Result<Vec<String>> {
        let sh = self.sh;
        let out = cmd!(sh, "git status --porcelain --untracked-files=normal")
            .quiet()
            .read()
            .context("checking that the working tree is clean")?;
        Ok(out.lines().map(str::to_string).collect())
    }

    /// The commit a ref points at, or `None` when it does not exist.
    pub fn commit_of(&self, rev: &str) -> Result<Option<String>> {
        self.resolve(&format!("{rev}^{{commit}}"))
            .with_context(|| format!("resolving {rev}"))
    }

    /// The object a revision spec names, or `None` when there is none.
    fn resolve(&self, spec: &str) -> Result<Option<String>> {
        let sh = self.sh;
        let out = cmd!(sh, "git rev-parse --quiet --verify {spec}")
            .quiet()
            .ignore_status()
            .output()?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
    }

    /// Refuses a shallow clone (`git clone --depth N`, or actions/checkout
    /// without `fetch-depth: 0`): `command` reads the history between tags
    /// and the release branch, which such a clone lacks, so every answer
    /// it gave would be wrong (a tag "not on root", a release "already
    /// made", commits "not pushed").
    pub fn require_full_history(&self, command: &str, remote: &str) -> Result<()> {
        let sh = self.sh;
        let shallow = cmd!(sh, "git rev-parse --is-shallow-repository")
            .quiet()
            .read()
            .context("checking whether this clone is shallow")?;
        if shallow.trim() == "true" {
            bail!(BadInput(format!(
                "this clone is shallow (made with `git clone --depth`, or by actions/checkout \
without `fetch-depth: 0`): `{command}` reads the history of the tags and the release branch, \
which a shallow clone lacks. Fetch the whole history first (`git fetch --unshallow --tags {}`; \
in a workflow, `fetch-depth: 0` on actions/checkout), then run it again",
                clip(remote)
            )));
        }
        Ok(())
    }

    pub fn tag_ref(tag: &Tag) -> String {
        format!("refs/tags/{tag}")
    }

    /// Every local tag that is a release tag `vX.Y.Z`.
    pub fn release_tags(&self) -> Result<Vec<Tag>> {
        let sh = self.sh;
        let out = cmd!(sh, "git tag --list v*")
            .quiet()
            .read()
            .context("listing release tags")?;
        let mut tags: Vec<Tag> = out.lines().filter_map(Tag::from_git).collect();
        tags.sort();
        Ok(tags)
    }

    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool> {
        let sh = self.sh;
        let out = cmd!(sh, "git merge-base --is-ancestor {ancestor} {descendant}")
            .quiet()
            .ignore_status()
            .output()
            .with_context(|| format!("checking whether {ancestor} is in {descendant}"))?;
        Ok(out.status.success())
    }

    /// Paths that differ between two revisions.
    pub fn changed_paths(&self, from: &str, to: &str) -> Result<Vec<String>> {
        let sh = self.sh;
        let out = cmd!(sh, "git diff --name-only {from} {to}")
            .quiet()
            .read()
            .with_context(|| format!("listing files changed between {from} and {to}"))?;
        Ok(out.lines().map(str::to_string).collect())
    }

    /// Seconds since the epoch of a commit, for reproducible builds.
    pub fn commit_time(&self, rev: &str) -> Result<String> {
        let sh = self.sh;
        cmd!(sh, "git log -1 --format=%ct {rev}")
            .quiet()
            .read()
            .with_context(|| format!("reading the commit time of {rev}"))
    }

    pub fn fetch(&self, remote: &str, branch: &str) -> Result<()> {
        let sh = self.sh;
        let refspec = format!("+refs/heads/{branch}:refs/remotes/{remote}/{branch}");
        cmd!(
            sh,
            "git fetch --quiet --tags --end-of-options {remote} {refspec}"
        )
        .quiet()
        .run()
        .with_context(|| format!("fetching {branch} and tags from {remote}"))
    }

    /// Commits the given paths (and only them).
    pub fn commit(&self, paths: &[&str], message: &str) -> Result<()> {
        let sh = self.sh;
        cmd!(sh, "git commit --quiet -m {message} -- {paths...}")
            .run()
            .with_context(|| format!("committing {}", paths.join(", ")))
    }

    /// Pushes `refs` atomically. On a non-fast-forward of `branch`, fetches,
    /// rebases the local commits onto the remote and tries again, a bounded
    /// number of times. Never forces.
    pub fn push_with_retry(&self, remote: &str, branch: &str, refs: &[String]) -> Result<()> {
        const ATTEMPTS: usize = 3;
        let sh = self.sh;
        for attempt in 1..=ATTEMPTS {
            let out = cmd!(
                sh,
                "git push --atomic --porcelain --end-of-options {remote} {refs...}"
            )
            .ignore_status()
            .output()
            .with_context(|| format!("pushing to {remote}"))?;
            if out.status.success() {
                return Ok(());
            }
            let report = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if !is_push_race(&report) || attempt == ATTEMPTS {
                bail!(
                    "git push to {remote} failed (attempt {attempt} of {ATTEMPTS}):\n{}",
                    report.trim_end()
                );
            }
            eprintln!("    {remote}/{branch} moved: fetching and rebasing (attempt {attempt})");
            self.fetch(remote, branch)?;
            let upstream = format!("{remote}/{branch}");
            if let Err(err) = cmd!(sh, "git rebase --quiet {upstream}").quiet().run() {
                let _ = cmd!(sh, "git rebase --abort").quiet().ignore_status().run();
                return Err(err).with_context(|| {
                    format!(
                        "rebasing the local commits onto {upstream} (conflict): nothing was \
pushed and the local commits are kept; run `git pull --rebase {remote} {branch}`, resolve the \
conflict, then `git push {remote} {branch}`"
                    )
                });
            }
        }
        unreachable!("the loop returns or bails on its last attempt")
    }

    /// Moves the checked-out branch forward to `upstream` (never merges).
    pub fn fast_forward(&self, upstream: &str) -> Result<()> {
        let sh = self.sh;
        cmd!(sh, "git merge --ff-only --quiet {upstream}")
            .quiet()
            .run()
            .with_context(|| format!("fast-forwarding to {upstream}"))
    }

    /// Whether `remote` has `branch`.
    pub fn remote_has_branch(&self, remote: &str, branch: &str) -> Result<bool> {
        Ok(self.remote_branch_head(remote, branch)?.is_some())
    }

    /// The commit `branch` stands at on `remote` now, asked without
    /// fetching (no local ref moves: what a dry run may do).
    pub fn remote_branch_head(&self, remote: &str, branch: &str) -> Result<Option<String>> {
        let sh = self.sh;
        let head = format!("refs/heads/{branch}");
        let out = cmd!(sh, "git ls-remote --heads --end-of-options {remote} {head}")
            .quiet()
            .read()
            .with_context(|| format!("asking {remote} for {branch}"))?;
        Ok(out
            .lines()
            .find_map(|l| l.split_once('\t').filter(|(_, r)| *r == head))
            .map(|(commit, _)| commit.to_string()))
    }

    /// Fetches one branch into its remote-tracking ref (no tags).
    pub fn fetch_branch(&self, remote: &str, branch: &str) -> Result<()> {
        let sh = self.sh;
        let refspec = format!("+refs/heads/{branch}:refs/remotes/{remote}/{branch}");
        cmd!(sh, "git fetch --quiet --end-of-options {remote} {refspec}")
            .quiet()
            .run()
            .with_context(|| format!("fetching {branch} from {remote}"))
    }

    /// Fetches one branch into a private ref of the xtask's own
    /// (`refs/xtask/…`), moving no ref of the user's: `--refmap=` keeps git
    /// from updating the remote-tracking ref on the way.
    pub fn fetch_into(&self, remote: &str, branch: &str, into: &str) -> Result<()> {
        let sh = self.sh;
        let refspec = format!("+refs/heads/{branch}:{into}");
        cmd!(
            sh,
            "git fetch --quiet --no-tags --refmap= --end-of-options {remote} {refspec}"
        )
        .quiet()
        .ignore_stderr()
        .run()
        .with_context(|| format!("fetching {branch} from {remote}"))
    }

    /// A file's content at a revision, `None` when it is not there.
    pub fn show(&self, rev: &str, path: &str) -> Result<Option<String>> {
        let sh = self.sh;
        let spec = format!("{rev}:{path}");
        let out = cmd!(sh, "git show {spec}")
            .quiet()
            .ignore_status()
            .ignore_stderr()
            .output()
            .with_context(|| format!("reading {spec}"))?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
    }
    /// A file's bytes at a revision as text: `None` when it is not there,
    /// bad input naming `label`, line and byte when it is not UTF-8.
    pub fn show_text(&self, rev: &str, path: &str, label: &str) -> Result<Option<String>> {
        let sh = self.sh;
        let spec = format!("{rev}:{path}");
        let out = cmd!(sh, "git cat-file blob {spec}")
            .quiet()
            .ignore_status()
            .ignore_stderr()
            .output()
            .with_context(|| format!("reading {spec}"))?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(Some(crate::input::utf8(label, out.stdout)?))
    }

    /// The remote's tags, name and commit (annotated tags peeled), read
    /// without fetching anything.
    pub fn remote_tags(&self, remote: &str) -> Result<Vec<(String, String)>> {
        let sh = self.sh;
        let out = cmd!(sh, "git ls-remote --tags --end-of-options {remote}")
            .quiet()
            .ignore_stderr()
            .output()
            .with_context(|| format!("listing the tags on {remote}"))?;
        if !out.status.success() {
            bail!(
                "cannot list the tags on {remote} (git ls-remote failed): check the remote's URL \
and your access to it"
            );
        }
        Ok(parse_ls_remote_tags(&String::from_utf8_lossy(&out.stdout)))
    }

    /// The ref `release-rollback` leaves on the remote for a version the
    /// index received: the version is spent even while its tag stays.
    pub fn rollback_ref(tag: &Tag) -> String {
        format!("refs/xtask/rollbacks/{tag}")
    }

    /// The commit the remote's rollback record of `tag` points at, if any.
    pub fn remote_rollback(&self, remote: &str, tag: &Tag) -> Result<Option<String>> {
        let sh = self.sh;
        let name = Git::rollback_ref(tag);
        let out = cmd!(sh, "git ls-remote --end-of-options {remote} {name}")
            .quiet()
            .ignore_stderr()
            .read()
            .with_context(|| format!("reading {name} on {remote}"))?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .find(|(_, r)| r.trim() == name)
            .map(|(commit, _)| commit.to_string()))
    }

    /// Fetches one tag from the remote into the same local tag, which must
    /// not exist yet (an existing one is never overwritten).
    pub fn fetch_tag(&self, remote: &str, tag: &Tag) -> Result<()> {
        let sh = self.sh;
        let refspec = format!("{0}:{0}", Git::tag_ref(tag));
        cmd!(
            sh,
            "git fetch --quiet --no-tags --end-of-options {remote} {refspec}"
        )
        .quiet()
        .run()
        .with_context(|| format!("fetching the tag {tag} from {remote}"))
    }

    /// The tree a revision points at, `None` when it does not exist.
    pub fn tree_of(&self, rev: &str) -> Result<Option<String>> {
        self.resolve(&format!("{rev}^{{tree}}"))
            .with_context(|| format!("resolving the tree of {rev}"))
    }

    /// Whether a local branch exists.
    pub fn branch_exists(&self, branch: &str) -> Result<bool> {
        Ok(self.commit_of(&format!("refs/heads/{branch}"))?.is_some())
    }

    /// The first-parent commits after `from` up to `to` that change one of
    /// `paths` (any commit when empty), oldest first.
    pub fn first_parent_commits(
        &self,
        from: &str,
        to: &str,
        paths: &[&str],
    ) -> Result<Vec<String>> {
        let sh = self.sh;
        let range = format!("{from}..{to}");
        let out = cmd!(
            sh,
            "git rev-list --reverse --first-parent {range} -- {paths...}"
        )
        .quiet()
        .read()
        .with_context(|| format!("listing the commits {range}"))?;
        Ok(out.lines().map(str::to_string).collect())
    }

    /// Writes the tree of `rev` to `dest` through a scratch index file, so
    /// neither the clone's index nor its working tree is touched.
    pub fn export_tree(&self, rev: &str, dest: &Utf8Path, scratch_index: &Utf8Path) -> Result<()> {
        let sh = self.sh;
        let tree = format!("{rev}^{{tree}}");
        let prefix = format!("{}/", dest.as_str().trim_end_matches('/'));
        cmd!(sh, "git read-tree {tree}")
            .env("GIT_INDEX_FILE", scratch_index)
            .quiet()
            .run()
            .with_context(|| format!("reading the tree of {rev}"))?;
        cmd!(sh, "git checkout-index --all --force --prefix={prefix}")
            .env("GIT_INDEX_FILE", scratch_index)
            .quiet()
            .run()
            .with_context(|| format!("writing the tree of {rev} to {dest}"))
    }

    /// The names at the top of `rev`'s tree.
    pub fn top_level(&self, rev: &str) -> Result<Vec<String>> {
        let sh = self.sh;
        let tree = format!("{rev}^{{tree}}");
        let out = cmd!(sh, "git ls-tree --name-only {tree}")
            .quiet()
            .read()
            .with_context(|| format!("listing the tree of {rev}"))?;
        Ok(out.lines().map(str::to_string).collect())
    }

    /// One atomic push of `refs`, never forced.
    pub fn push_once(&self, remote: &str, refs: &[String]) -> Result<Push> {
        let sh = self.sh;
        let out = cmd!(
            sh,
            "git push --atomic --porcelain --end-of-options {remote} {refs...}"
        )
        .quiet()
        .ignore_status()
        .output()
        .with_context(|| format!("pushing to {remote}"))?;
        if out.status.success() {
            return Ok(Push::Done);
        }
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .trim_end()
        .to_string();
        Ok(if is_push_race(&report) {
            Push::Race(report)
        } else {
            Push::Failed(report)
        })
    }

    /// Moves the current branch to `rev`, keeping nothing of the
    /// working tree's own (it is clean when this runs).
    pub fn reset_keep(&self, rev: &str) -> Result<()> {
        let sh = self.sh;
        cmd!(sh, "git reset --quiet --keep {rev} --")
            .quiet()
            .run()
            .with_context(|| format!("moving the branch to {rev}"))
    }
}

/// What one push ended in.
#[derive(Debug, PartialEq, Eq)]
pub enum Push {
    Done,
    /// The remote moved or another push held its refs: fetch and re-plan.
    Race(String),
    /// Refused for another reason (permissions, hooks, network).
    Failed(String),
}

/// Whether a failed push lost a race with another push: the remote moved
/// (non-fast-forward, fetch first, stale info) or its refs were being
/// updated at the same moment (cannot lock ref, atomic transaction failed).
pub fn is_push_race(report: &str) -> bool {
    const SIGNS: &[&str] = &[
        "non-fast-forward",
        "fetch first",
        "stale info",
        "cannot lock ref",
        "atomic transaction failed",
        "failed to update ref",
        "incorrect old value",
        "[rejected]",
        "atomic push failed",
    ];
    let lower = report.to_ascii_lowercase();
    SIGNS.iter().any(|s| lower.contains(s))
}

/// `git ls-remote --tags` output as (tag name, commit), annotated tags
/// peeled to their commit.
pub fn parse_ls_remote_tags(text: &str) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let Some((sha, name)) = line.split_once('\t') else {
            continue;
        };
        let Some(name) = name.strip_prefix("refs/tags/") else {
            continue;
        };
        match name.strip_suffix("^{}") {
            Some(base) => match tags.iter_mut().find(|(n, _)| n == base) {
                Some(entry) => entry.1 = sha.to_string(),
                None => tags.push((base.to_string(), sha.to_string())),
            },
            None => {
                if !tags.iter().any(|(n, _)| n == name) {
                    tags.push((name.to_string(), sha.to_string()));
                }
            }
        }
    }
    tags
}

/// Private refs, deleted when dropped (a dry run moves no ref of the user's).
pub struct PrivateRefs<'a> {
    pub sh: &'a Shell,
    pub refs: Vec<&'static str>,
}

impl Drop for PrivateRefs<'_> {
    fn drop(&mut self) {
        let sh = self.sh;
        for r in &self.refs {
            let _ = cmd!(sh, "git update-ref -d {r}")
                .quiet()
                .ignore_status()
                .ignore_stderr()
                .run();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_races_are_recognised() {
        for race in [
            " ! [rejected]        root -> root (non-fast-forward)",
            " ! [rejected]        root -> root (fetch first)",
            " ! [rejected]        root -> root (stale info)",
            "error: cannot lock ref 'refs/heads/root': is at 1 but expected 2",
            " ! [remote rejected] root -> root (atomic transaction failed)",
            "remote: error: failed to update ref",
        ] {
            assert!(is_push_race(race), "{race}");
        }
        for other in [
            " ! [remote rejected] root -> root (protected branch hook declined)",
            "fatal: could not read from remote repository",
            "fatal: Authentication failed",
        ] {
            assert!(!is_push_race(other), "{other}");
        }
    }

    #[test]
    fn ls_remote_tags_are_peeled() {
        let text = "aaa\trefs/tags/v0.6.0\nbbb\trefs/tags/v0.6.0^{}\nccc\trefs/tags/light\n";
        assert_eq!(
            parse_ls_remote_tags(text),
            [
                ("v0.6.0".to_string(), "bbb".to_string()),
                ("light".to_string(), "ccc".to_string())
            ]
        );
    }
}
