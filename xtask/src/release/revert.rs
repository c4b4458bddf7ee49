//! The revert step: put `## Recent Changes` back on the release branch,
//! only while no file of the version was ever accepted by the index.

use std::fs;

use anyhow::{bail, Context, Result};

use super::commits::{check_on_branch, Committed};
use super::{indent, Release, PUSH_ATTEMPTS};
use crate::changelog::{self, Edit};
use crate::git::Push;
use crate::index;
use crate::input::BadInput;
use crate::secrets;
use crate::ui;

impl Release<'_> {
    pub(super) fn revert(&mut self) -> Result<String> {
        let tag = self.tag().clone();
        let listed = self
            .listing()
            .context("reading the index before reverting (not reverting while it is unknown)")?;
        let on_index: Vec<String> = index::version_files(&self.project, &tag.pep440(), &listed)
            .iter()
            .map(|f| f.filename.clone())
            .collect();
        if !on_index.is_empty() {
            let missing: Vec<String> = self
                .built_files()
                .unwrap_or_default()
                .into_iter()
                .map(|f| f.filename)
                .filter(|f| !on_index.contains(f))
                .collect();
            if missing.is_empty() {
                return Ok(format!(
                    "not reverting: {tag} is on the index ({})",
                    on_index.join(", ")
                ));
            }
            bail!(
                "not reverting: {tag} is partly on the index (has {}; missing {}). \
Resume with `cargo xtask release {tag}`",
                on_index.join(", "),
                missing.join(", ")
            );
        }
        let marker = self.uploaded_marker()?;
        if self.uploaded || marker.exists() {
            bail!(
                "not reverting: twine delivered files of {tag} to the index (recorded in \
{marker}), so it is published, though not listed yet. Resume with `cargo xtask release {tag}`"
            );
        }
        let message = format!("Revert the {tag} changelog heading: not published");
        let outcome = self.commit_replanned_revert(&message)?;
        Ok(match outcome {
            Committed::Pushed => format!("`## {tag}` is `## {}` again", changelog::RECENT),
            Committed::Planned => "planned".into(),
            _ => format!(
                "nothing to revert: `{}` has no `## {tag}`",
                self.opts.branch
            ),
        })
    }

    /// The revert's commit, re-planned like the release commits, but
    /// wanted even when the release commit exists (that is what it undoes).
    pub(super) fn commit_replanned_revert(&mut self, message: &str) -> Result<Committed> {
        let branch = self.opts.branch.clone();
        let remote = self.opts.remote.clone();
        check_on_branch(&self.git, &branch, &remote)?;
        for attempt in 1..=PUSH_ATTEMPTS {
            self.fetch()?;
            let base = self.base()?;
            if attempt == 1 && !self.git.is_ancestor("HEAD", &base)? {
                bail!(BadInput(format!(
                    "`{branch}` has commits that {remote}/{branch} does not: push or drop them \
first"
                )));
            }
            if attempt > 1 {
                // As in `commit_replanned`: drop the lost attempt's commit.
                self.git.reset_keep(&base)?;
            }
            let before = self
                .git
                .show_text(&base, changelog::FILE, changelog::FILE)?
                .unwrap_or_default();
            if changelog::section(&before, self.tag()).is_none() {
                // The release never put its heading on root (it stopped
                // before its changelog step, e.g. validate refused the
                // tag): nothing of it to revert, whatever else is there.
                return Ok(Committed::Nothing);
            }
            let after = match changelog::revert(&before, self.tag())? {
                Edit::Unchanged => return Ok(Committed::Nothing),
                Edit::Changed(after) => after,
            };
            ui::print_diff(changelog::FILE, &before, &after);
            if self.opts.dry_run {
                ui::would(&format!("commit and push \"{message}\""));
                return Ok(Committed::Planned);
            }
            self.git.reset_keep(&base)?;
            let path = self.root.join(changelog::FILE);
            fs::write(&path, &after).with_context(|| format!("writing {path}"))?;
            self.git.commit(&[changelog::FILE], message)?;
            let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
            match self.git.push_once(&remote, &[refspec])? {
                Push::Done => return Ok(Committed::Pushed),
                Push::Race(_) => println!(
                    "    {remote}/{branch} moved (attempt {attempt} of {PUSH_ATTEMPTS}): planning again"
                ),
                Push::Failed(report) => {
                    let _ = self.git.reset_keep(&base);
                    bail!(
                        "git push to {remote} failed:\n{}",
                        indent(&secrets::redact(&report))
                    );
                }
            }
        }
        bail!(
            "{remote}/{branch} kept moving: re-run `cargo xtask release {} --step revert`",
            self.tag()
        )
    }
}
