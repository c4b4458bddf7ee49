//! The changelog step: `## Recent Changes` becomes `## vX.Y.Z` on the
//! release branch, committed and pushed (re-planned when a push loses a race).

use anyhow::Result;

use super::commits::Committed;
use super::{short, Release};
use crate::changelog;
use crate::git::Git;

impl Release<'_> {
    pub(super) fn changelog(&mut self) -> Result<String> {
        let tag = self.tag().clone();
        let message = format!("Release {tag}: changelog");
        let outcome = self.commit_replanned(&message, |r, tag_commit, base| {
            Ok(r.plan_edits(tag_commit, base)?
                .0
                .map(|after| (changelog::FILE, after)))
        })?;
        if let Committed::Released(commit) = &outcome {
            let tag_commit = self.git.commit_of(&Git::tag_ref(&tag))?;
            if tag_commit.as_deref() != Some(commit.as_str()) {
                self.made_by_earlier_run = Some(commit.clone());
            }
        }
        Ok(match outcome {
            Committed::Nothing => format!("`## {tag}` is already in place"),
            Committed::Released(commit) => format!("already released at {}", short(&commit)),
            Committed::Pushed => format!("`## {}` is now `## {tag}`", changelog::RECENT),
            Committed::Planned => "planned".into(),
        })
    }
}
