//! The build step: the tagged source plus the release edits, built in a
//! temporary place (or the preflight's build reused) and copied to dist.

use std::fs;

use anyhow::{Context, Result};

use super::Release;
use crate::git::Git;
use crate::input::BadInput;
use crate::release_rules;
use crate::tagged_build::{self, Built};
use crate::ui;

impl Release<'_> {
    pub(super) fn build(&mut self) -> Result<String> {
        let dist = self.dist();
        let tag = self.tag().clone();
        if self.opts.dry_run {
            ui::would(&format!(
                "build {tag}'s tree with the release edits in a temporary directory \
(`python -m build --no-isolation`, SOURCE_DATE_EPOCH of the tag's commit), into {dist}"
            ));
            return Ok("planned".into());
        }
        let built = match self.preflight.take() {
            Some(built) => built,
            None => {
                let tag_commit = self
                    .git
                    .commit_of(&Git::tag_ref(&tag))?
                    .ok_or_else(|| BadInput(format!("tag {tag} does not exist here")))?;
                let python = self.python()?;
                let scratch = tagged_build::Scratch::new("build")?;
                let tree = tagged_build::prepare_tree(&self.git, &tag_commit, &tag, &scratch)?;
                let out = scratch.path().join("dist");
                let epoch = self.git.commit_time(&tag_commit)?;
                tagged_build::build(self.sh, &python, &tree, &out, &epoch)
                    .context("building the sdist and wheel of the tagged source")?;
                let files = tagged_build::dist_files(&out, &self.project, &tag)?;
                Built {
                    _scratch: scratch,
                    out,
                    files,
                }
            }
        };
        if dist.exists() {
            fs::remove_dir_all(&dist).with_context(|| format!("cleaning {dist}"))?;
        }
        fs::create_dir_all(&dist).with_context(|| format!("creating {dist}"))?;
        for f in &built.files {
            fs::copy(built.out.join(&f.filename), dist.join(&f.filename))
                .with_context(|| format!("copying {} to {dist}", f.filename))?;
            println!("    {}  sha256 {}", f.filename, f.sha256);
        }
        self.output("sha256", release_rules::format_sha_list(&built.files));
        let count = built.files.len();
        // Keep it for the check step: the same bytes were checked already.
        self.preflight = Some(built);
        Ok(format!("{count} files in {dist}"))
    }
}
