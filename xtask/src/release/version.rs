//! The version step: `[project].version` in pyproject.toml set to the
//! tag's version, committed and pushed only if it differed; then the
//! release commit is recorded for later steps and for docs-deploy.

use anyhow::Result;

use super::commits::Committed;
use super::{short, Release};
use crate::pyproject;

impl Release<'_> {
    pub(super) fn version(&mut self) -> Result<String> {
        let tag = self.tag().clone();
        let message = format!("Release {tag}: version {}", tag.pep440());
        let outcome = self.commit_replanned(&message, |r, tag_commit, base| {
            Ok(r.plan_edits(tag_commit, base)?
                .1
                .map(|after| (pyproject::FILE, after)))
        })?;
        if !self.opts.dry_run {
            let base = self.base()?;
            self.record_release_commit(&base)?;
        }
        Ok(match outcome {
            Committed::Nothing => format!("already {}", tag.pep440()),
            Committed::Released(commit) => format!("already released at {}", short(&commit)),
            Committed::Pushed => format!("set to {}", tag.pep440()),
            Committed::Planned => "planned".into(),
        })
    }
}
