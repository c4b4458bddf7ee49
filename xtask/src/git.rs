//! Thin layer over the `git` command line. Every argument goes through
//! xshell as one argument, never through a shell.

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

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
        let sh = self.sh;
        let spec = format!("{rev}^{{commit}}");
        let out = cmd!(sh, "git rev-parse --quiet --verify {spec}")
            .quiet()
            .ignore_status()
            .output()
            .with_context(|| format!("resolving {rev}"))?;
        Ok(out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()))
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
            let rejected = report.contains("[rejected]")
                || report.contains("non-fast-forward")
                || report.contains("fetch first");
            if !rejected || attempt == ATTEMPTS {
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
                        "rebasing the release commits onto {upstream} (conflict): \
the local commits are kept; resolve by hand, then re-run"
                    )
                });
            }
        }
        unreachable!("the loop returns or bails on its last attempt")
    }

    /// Whether `remote` has `branch`.
    pub fn remote_has_branch(&self, remote: &str, branch: &str) -> Result<bool> {
        let sh = self.sh;
        let head = format!("refs/heads/{branch}");
        let out = cmd!(sh, "git ls-remote --heads --end-of-options {remote} {head}")
            .quiet()
            .read()
            .with_context(|| format!("asking {remote} for {branch}"))?;
        Ok(!out.trim().is_empty())
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
}
