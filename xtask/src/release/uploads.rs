//! What publish, verify and revert share about the index: where the
//! version stands there, and the clone's record that twine delivered a file.

use std::fs;

use anyhow::{anyhow, bail, Context, Result};
use camino::Utf8PathBuf;
use xshell::cmd;

use super::Release;
use crate::index::{self, IndexFile, LocalFile, Publication};
use crate::input::BadInput;

impl Release<'_> {
    /// Where the version stands on the index against the local files.
    /// Different files under this version, or a yanked version, are
    /// refused: a published version is never replaced or re-published.
    pub(super) fn publication(&mut self, local: &[LocalFile]) -> Result<Publication> {
        let listed = self.listing()?;
        self.judge(local, &listed)
    }

    pub(super) fn judge(&self, local: &[LocalFile], listed: &[IndexFile]) -> Result<Publication> {
        let tag = self.tag();
        let version = tag.pep440();
        let files = index::version_files(&self.project, &version, listed);
        if files.iter().any(|f| f.yanked) {
            bail!(BadInput(format!(
                "{} {version} is yanked on the index: it was rolled back and is never \
published again. Release the next patch: `cargo xtask tag {}`",
                self.project,
                tag.next_patch()
            )));
        }
        index::compare(&self.project, &version, local, listed).map_err(|conflict| {
            anyhow!(BadInput(format!(
                "{} {version} is already on the index with different files ({conflict}); \
nothing was uploaded. A published version cannot be replaced: release the next patch, \
`cargo xtask tag {}`",
                self.project,
                tag.next_patch()
            )))
        })
    }

    /// Twine accepted a file: the version is published, for good. Recorded
    /// in the clone so a later `--step revert` knows it even while the
    /// index does not list the file yet.
    pub(super) fn mark_uploaded(&mut self) -> Result<()> {
        self.uploaded = true;
        self.output("uploaded", "true".into());
        let marker = self.uploaded_marker()?;
        fs::write(&marker, "uploaded\n").with_context(|| format!("writing {marker}"))
    }

    pub(super) fn uploaded_marker(&self) -> Result<Utf8PathBuf> {
        let sh = self.sh;
        let git_dir = cmd!(sh, "git rev-parse --absolute-git-dir")
            .quiet()
            .read()
            .context("locating the .git directory")?;
        Ok(Utf8PathBuf::from(git_dir).join(format!("xtask-uploaded-{}", self.tag())))
    }
}
