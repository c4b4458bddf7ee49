//! The check step: `twine check --strict` of the files in dist, unless
//! the preflight already checked these very bytes.

use anyhow::Result;

use super::Release;
use crate::tagged_build;
use crate::ui;

impl Release<'_> {
    pub(super) fn check(&mut self) -> Result<String> {
        let dist = self.dist();
        if self.opts.dry_run {
            ui::would(&format!("run `python -m twine check --strict {dist}/*`"));
            return Ok("planned".into());
        }
        let files = self.built_files()?;
        if let Some(built) = &self.preflight {
            if built.files == files {
                return Ok(format!(
                    "{} files pass (checked in the preflight)",
                    files.len()
                ));
            }
        }
        let python = self.python()?;
        tagged_build::check(self.sh, &python, &dist, &files)?;
        Ok(format!("{} files pass", files.len()))
    }
}
