//! The release's commits on the release branch, shared by the changelog,
//! version and validate steps: planning the edits from the tagged files,
//! finding the release commit, and committing with re-planned pushes.

use std::fs;

use anyhow::{anyhow, bail, Context, Result};

use super::{indent, Release, PUSH_ATTEMPTS, RELEASE_COMMIT_SEARCH};
use crate::changelog::{self, Edit};
use crate::git::{Git, Push};
use crate::input::{clip, BadInput};
use crate::pyproject;
use crate::secrets;
use crate::ui;

impl Release<'_> {
    /// The commit where `## vX.Y.Z` and version X.Y.Z first stand together
    /// (the tag itself, or a commit after it on the branch), as long as the
    /// heading still stands at `upto` (a revert undoes it) and the commit
    /// is in `upto`'s history.
    pub(super) fn find_release_commit(
        &self,
        tag_commit: &str,
        upto: &str,
    ) -> Result<Option<String>> {
        let tag = self.tag();
        let released_at = |rev: &str| -> Result<bool> {
            let log = self.git.show_text(rev, changelog::FILE, changelog::FILE)?;
            let py = self.git.show_text(rev, pyproject::FILE, pyproject::FILE)?;
            Ok(match (log, py) {
                (Some(log), Some(py)) => {
                    changelog::section(&log, tag).is_some()
                        && pyproject::read_version(&py).is_ok_and(|v| v == tag.pep440())
                }
                _ => false,
            })
        };
        let still_there = self
            .git
            .show_text(upto, changelog::FILE, changelog::FILE)?
            .is_some_and(|log| changelog::section(&log, tag).is_some());
        if !still_there {
            return Ok(None);
        }
        // Only a commit `upto` still holds: a root rewound past the
        // release commit (a force-push) no longer has it, and the edits
        // must be made again there.
        let mut commits = Vec::new();
        if self.git.is_ancestor(tag_commit, upto)? {
            commits.push(tag_commit.to_string());
        }
        commits.extend(
            self.git
                // Only a commit that touches a release file can change
                // whether heading and version stand together.
                .first_parent_commits(tag_commit, upto, &[changelog::FILE, pyproject::FILE])?
                .into_iter()
                .take(RELEASE_COMMIT_SEARCH),
        );
        let mut found = None;
        let mut before = false;
        for commit in commits {
            let now = released_at(&commit)?;
            if now && !before {
                found = Some(commit);
            }
            before = now;
        }
        Ok(found)
    }

    pub(super) fn record_release_commit(&mut self, upto: &str) -> Result<Option<String>> {
        let tag_commit = self
            .git
            .commit_of(&Git::tag_ref(self.tag()))?
            .context("reading the tag")?;
        let found = self.find_release_commit(&tag_commit, upto)?;
        if let Some(commit) = &found {
            println!("    release commit: {commit}");
            self.output("release-commit", commit.clone());
        }
        Ok(found)
    }

    /// The release's edits of root (`base`), planned from the tagged
    /// files: the new CHANGELOG.md and pyproject.toml, `None` where
    /// nothing changes. Anything else that differs between the tag and
    /// root is refused: it would not be what is published.
    pub(super) fn plan_edits(
        &self,
        tag_commit: &str,
        base: &str,
    ) -> Result<(Option<String>, Option<String>)> {
        let tag = self.tag();
        let beyond: Vec<String> = self
            .git
            .changed_paths(tag_commit, base)?
            .into_iter()
            .filter(|p| p != changelog::FILE && p != pyproject::FILE)
            .collect();
        if !beyond.is_empty() {
            let shown: Vec<&str> = beyond.iter().take(10).map(String::as_str).collect();
            bail!(BadInput(format!(
                "`{}` has changes since {tag} beyond the release's own edits: {}{}. What is \
published must be the tagged source: tag the current commit as a new version instead",
                self.opts.branch,
                clip(&shown.join(", ")),
                if beyond.len() > 10 {
                    format!(" and {} more", beyond.len() - 10)
                } else {
                    String::new()
                }
            )));
        }
        let file_at = |rev: &str, file: &str, what: &str| -> Result<String> {
            let label = format!("{file} at {what}");
            self.git
                .show_text(rev, file, &label)?
                .ok_or_else(|| anyhow!(BadInput(format!("{label}: the file does not exist"))))
        };
        let tagged_py = file_at(tag_commit, pyproject::FILE, &tag.to_string())?;
        let root_py = file_at(base, pyproject::FILE, &self.opts.branch)?;
        let want = |text: &str| -> Result<String, BadInput> {
            Ok(match pyproject::sync_version(text, tag)? {
                Edit::Changed(t) => t,
                Edit::Unchanged => text.to_string(),
            })
        };
        let tagged_after = want(&tagged_py).map_err(|e| BadInput(format!("at {tag}, {}", e.0)))?;
        let root_after = want(&root_py)?;
        if tagged_after != root_after {
            let line = root_after
                .lines()
                .zip(tagged_after.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| root_after.lines().count().min(tagged_after.lines().count()));
            let text = root_after.lines().nth(line).unwrap_or("(end of file)");
            bail!(BadInput(format!(
                "{}:{}: differs from the tagged {} beyond the version (`{}`): the package \
would ship metadata {tag} does not have. Tag the current commit as a new version instead, \
or restore the file as tagged",
                pyproject::FILE,
                line + 1,
                pyproject::FILE,
                clip(text.trim_end())
            )));
        }
        let tagged_log = file_at(tag_commit, changelog::FILE, &tag.to_string())?;
        let root_log = file_at(base, changelog::FILE, &self.opts.branch)?;
        let log = match changelog::rotate_after_tag(&root_log, &tagged_log, tag)? {
            Edit::Changed(t) => Some(t),
            Edit::Unchanged => None,
        };
        let py = (root_after != root_py).then_some(root_after);
        Ok((log, py))
    }

    /// Commits one file's planned edit on top of the remote's branch and
    /// pushes it. A push that loses a race (whatever git's words for it)
    /// fetches and plans again from the remote's new state, a bounded
    /// number of times; nothing is rebased or forced. When the remote
    /// already holds the edit (another run made it), there is nothing to do.
    pub(super) fn commit_replanned(
        &mut self,
        message: &str,
        plan: impl Fn(&Self, &str, &str) -> Result<Option<(&'static str, String)>>,
    ) -> Result<Committed> {
        let tag_ref = Git::tag_ref(self.tag());
        let branch = self.opts.branch.clone();
        let remote = self.opts.remote.clone();
        check_on_branch(&self.git, &branch, &remote)?;
        for attempt in 1..=PUSH_ATTEMPTS {
            self.fetch()?;
            let base = self.base()?;
            let tag_commit = self.git.commit_of(&tag_ref)?.ok_or_else(|| {
                BadInput(format!(
                    "tag {} does not exist here: run the validate step first",
                    self.tag()
                ))
            })?;
            if attempt == 1 && !self.git.is_ancestor("HEAD", &base)? {
                bail!(BadInput(format!(
                    "`{branch}` has commits that {remote}/{branch} does not: push or drop them \
first (the release commits go on top of the remote's branch)"
                )));
            }
            if attempt > 1 {
                // The commit of the lost attempt is dropped here, whatever
                // happens next: the clone follows the remote, so the next
                // step or run starts from it.
                self.git.reset_keep(&base)?;
            }
            if let Some(commit) = self.find_release_commit(&tag_commit, &base)? {
                return Ok(Committed::Released(commit));
            }
            let Some((file, after)) = plan(self, &tag_commit, &base)? else {
                return Ok(Committed::Nothing);
            };
            let before = self.git.show_text(&base, file, file)?.unwrap_or_default();
            ui::print_diff(file, &before, &after);
            if self.opts.dry_run {
                ui::would(&format!(
                    "write {file}, run `git commit -m \"{message}\" -- {file}`"
                ));
                ui::would(&format!(
                    "run `git push --atomic {remote} {branch}:refs/heads/{branch}`"
                ));
                return Ok(Committed::Planned);
            }
            self.git.reset_keep(&base)?;
            let path = self.root.join(file);
            fs::write(&path, &after).with_context(|| format!("writing {path}"))?;
            self.git.commit(&[file], message)?;
            let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
            match self.git.push_once(&remote, &[refspec])? {
                Push::Done => return Ok(Committed::Pushed),
                Push::Race(report) => {
                    println!(
                        "    {remote}/{branch} moved or was being updated (attempt {attempt} of \
{PUSH_ATTEMPTS}): fetching and planning again\n{}",
                        indent(&secrets::redact(&report))
                    );
                }
                Push::Failed(report) => {
                    // Leave the clone as the remote is: the next run starts clean.
                    let _ = self.git.reset_keep(&base);
                    bail!(
                        "git push to {remote} failed (not a race; nothing was pushed):\n{}",
                        indent(&secrets::redact(&report))
                    );
                }
            }
        }
        if let Ok(base) = self.base() {
            let _ = self.git.reset_keep(&base);
        }
        bail!(
            "{remote}/{branch} kept moving: {PUSH_ATTEMPTS} pushes lost their race. Re-run \
`cargo xtask release {}`",
            self.tag()
        )
    }
}

/// What a commit step ended in.
pub(super) enum Committed {
    /// The remote's branch needs no edit.
    Nothing,
    /// The release commit is already on the branch.
    Released(String),
    Pushed,
    Planned,
}

/// HEAD must be the release branch. When that branch does not exist at
/// all, the likely cause is a project whose release branch has another
/// name: say how to configure it.
pub fn check_on_branch(git: &Git, branch: &str, remote: &str) -> Result<()> {
    match git.current_branch()? {
        Some(b) if b == branch => Ok(()),
        other => {
            let here = other.map_or("no branch (detached)".to_string(), |b| {
                format!("`{}`", clip(&b))
            });
            let exists = git.branch_exists(branch)?
                || git
                    .commit_of(&format!("refs/remotes/{remote}/{branch}"))?
                    .is_some();
            if exists {
                bail!(BadInput(format!(
                    "a release runs on `{branch}`, but HEAD is on {here}: run `git switch {branch}`"
                )))
            }
            bail!(BadInput(format!(
                "a release runs on the release branch, `{branch}`, which does not exist here \
or as {remote}/{branch} (HEAD is on {here}). If this project releases from another branch, \
set `release-branch = \"NAME\"` under [tool.xtask] in pyproject.toml, or pass \
--root-branch NAME"
            )))
        }
    }
}
