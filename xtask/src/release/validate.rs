//! The validate step, the preflight: every check without a side effect
//! (inputs, ordering against every known release, the tagged source's
//! build and check, the index, credentials) before the first commit.

use anyhow::{anyhow, bail, Context, Result};
use xshell::cmd;

use super::{check_on_branch, short, Release, Verdict};
use crate::changelog;
use crate::git::Git;
use crate::github;
use crate::index::{self, IndexFile, Publication};
use crate::input::{clip, BadInput};
use crate::pyproject;
use crate::release_rules::{self, Known, Source};
use crate::tagged_build::{self, Built};
use crate::version::Tag;

impl Release<'_> {
    pub(super) fn validate(&mut self) -> Result<String> {
        let tag = self.tag().clone();
        // Refusals about where this clone and root stand wait until the
        // index has been asked: a finished release is a no-op whatever
        // happened here or on root since.
        let mut standing = self.where_the_clone_stands()?;
        if self.opts.dry_run {
            println!(
                "    dry run: planning from {}'s branch as it is now (read into a private ref)",
                self.opts.remote
            );
        }
        self.fetch()?;
        let remote_tags = self.git.remote_tags(&self.opts.remote)?;
        let tag_commit = self.resolve_tag(&remote_tags)?;
        let base = self.base()?;
        if standing.is_none() && !self.git.is_ancestor(&tag_commit, &base)? {
            standing = Some(anyhow::Error::new(BadInput(format!(
                "tag {tag} ({}) is not on {}/{}: a release must be tagged on `{}`",
                short(&tag_commit),
                self.opts.remote,
                self.opts.branch,
                self.opts.branch
            ))));
        }
        if let Some(refusal) = standing {
            return match self.finished(&tag_commit, &base)? {
                Some(done) => Ok(self.conclude_released(done)),
                None => Err(refusal),
            };
        }

        // Cheap refusals first: the GitHub Release, the tagged release files.
        let origin_url = self.remote_url();
        let github = github::check_release(self.sh, &tag, origin_url.as_deref())?;
        println!("    {github}");
        // Ordering against the tag's own changelog first: it names the next
        // version where the rotation would only say "not newer".
        let own_heading = self.heading_is_own(&tag_commit)?;
        let tagged_log = self
            .git
            .show_text(&tag_commit, changelog::FILE, changelog::FILE)?
            .unwrap_or_default();
        let early = known_versions(&[], &[], &[], &tagged_log, &tag, own_heading);
        release_rules::check_order(&tag, &early)?;
        self.check_tagged_files(&tag_commit)?;
        // The build runs while the remaining checks do.
        let python = self.python()?;
        let mut pending = Some(tagged_build::start_build(
            self.sh,
            &python,
            &self.git,
            &tag_commit,
            &tag,
        )?);

        // The index: the source of truth for "released".
        let listed = self.listing()?;
        let versions = index::listed_versions(&self.project, &listed);
        if let Some(done) = self.resume_listed(&mut pending, &listed, &versions, &base)? {
            return Ok(self.conclude_released(done));
        }

        // Newer than every release known anywhere.
        // The remote's changelog, not the local file: another run may have
        // released meanwhile.
        let root_log = self
            .git
            .show_text(&base, changelog::FILE, changelog::FILE)?
            .unwrap_or_default();
        let known = known_versions(
            &self.git.release_tags()?,
            &remote_tags,
            &versions,
            &root_log,
            &tag,
            own_heading,
        );
        release_rules::check_order(&tag, &known)?;

        self.report_root_edits(&tag_commit, &base)?;
        self.check_upload_credentials()?;

        if self.preflight.is_none() {
            let built = self.finish_build(pending.take())?;
            self.preflight = Some(built);
        }
        self.output("version", tag.pep440());
        self.output("tag", tag.to_string());
        self.output("released", "false".into());
        Ok(format!(
            "{tag} at {} builds and passes its checks",
            short(&tag_commit)
        ))
    }

    /// The rest of the pipeline has nothing to do.
    fn conclude_released(&mut self, outcome: String) -> String {
        self.verdict = Verdict::AlreadyReleased;
        outcome
    }

    /// Why this clone cannot start a release (not on the release branch,
    /// or a working tree that is not clean), if it cannot.
    fn where_the_clone_stands(&self) -> Result<Option<anyhow::Error>> {
        let mut standing = check_on_branch(&self.git, &self.opts.branch, &self.opts.remote).err();
        if standing.is_none() {
            let dirty = self.git.dirty_files()?;
            if !dirty.is_empty() {
                standing = Some(anyhow::Error::new(BadInput(format!(
                    "the working tree is not clean ({}): commit or stash these changes first",
                    clip(&dirty.join(", "))
                ))));
            }
        }
        Ok(standing)
    }

    /// When the index lists the version: `Some` if every file is there
    /// with the tagged source's sha256 (the release is finished); a
    /// partial listing is resumed (its build kept for later steps); other
    /// files under the version are refused. A yanked version is left to
    /// the ordering check.
    fn resume_listed(
        &mut self,
        pending: &mut Option<tagged_build::PendingBuild>,
        listed: &[IndexFile],
        versions: &[(String, bool)],
        base: &str,
    ) -> Result<Option<String>> {
        let tag = self.tag().clone();
        let version = tag.pep440();
        let this = versions.iter().find(|(v, _)| *v == version);
        if let Some((_, true)) = this {
            // Spent: checked with the other known versions.
        } else if this.is_some() {
            let built = self.finish_build(pending.take())?;
            match index::compare(&self.project, &version, &built.files, listed) {
                Ok(Publication::Complete) => {
                    return self.already_released(built, base).map(Some);
                }
                Ok(_) => println!("    resuming {tag}: the index lists part of it, with the tagged source's sha256"),
                Err(conflict) => bail!(BadInput(format!(
                    "{} {version} is on the index with other files than the tagged source \
builds ({conflict}): the tag was moved or re-created after the upload. A published version \
is never replaced: release the next patch, `cargo xtask tag {}`",
                    self.project,
                    tag.next_patch()
                ))),
            }
            self.preflight = Some(built);
        }
        Ok(None)
    }

    /// Root may differ from the tag only by the release's own edits.
    fn report_root_edits(&self, tag_commit: &str, base: &str) -> Result<()> {
        match self.find_release_commit(tag_commit, base)? {
            Some(commit) => println!(
                "    the release commit is already on {}: {}",
                self.opts.branch,
                short(&commit)
            ),
            None => {
                let (log, py) = self.plan_edits(tag_commit, base)?;
                let count = [log.is_some(), py.is_some()].iter().filter(|b| **b).count();
                println!(
                    "    the tag's tree and {} agree apart from the release edits ({count} file(s) to edit)",
                    self.opts.branch
                );
            }
        }
        Ok(())
    }

    fn check_upload_credentials(&mut self) -> Result<()> {
        let config = self.index_config()?;
        if config.has_upload_credentials(self.sh) {
            return Ok(());
        }
        let in_actions = self.sh.var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        if in_actions && self.running_alone("validate") {
            // The CD workflow is split by privilege: the job that
            // validates and commits holds no upload credential; the
            // publish job checks its own before uploading.
            println!(
                "    upload credentials: none in this job (by design); the publish job \
checks its own before any upload"
            );
        } else if in_actions {
            bail!(
                "no upload credentials for {}: this GitHub Actions job has no TWINE_PASSWORD \
and no ID-token request variables ({}), so trusted publishing cannot start: give the publishing \
job `permissions: id-token: write`, or set TWINE_USERNAME and TWINE_PASSWORD",
                config.upload_url,
                github::TOKEN_REQUEST_VARS.join(", ")
            );
        } else {
            bail!(
                "no upload credentials for {}: set TWINE_USERNAME and TWINE_PASSWORD (or \
credentials in TWINE_REPOSITORY_URL), or run in GitHub Actions with `id-token: write` for \
trusted publishing",
                config.upload_url
            );
        }
        Ok(())
    }

    pub(super) fn remote_url(&self) -> Option<String> {
        let sh = self.sh;
        let remote = &self.opts.remote;
        cmd!(sh, "git remote get-url --end-of-options {remote}")
            .quiet()
            .ignore_stderr()
            .read()
            .ok()
    }

    /// The commit the tag names: the local tag, else the remote's (fetched).
    /// A local tag that differs from the remote's is refused: the remote's
    /// is what the CD releases.
    pub(super) fn resolve_tag(&self, remote_tags: &[(String, String)]) -> Result<String> {
        let tag = self.tag();
        let name = tag.to_string();
        let local = self.git.commit_of(&Git::tag_ref(tag))?;
        let remote = remote_tags
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c.clone());
        match (local, remote) {
            (Some(l), Some(r)) if l != r => bail!(BadInput(format!(
                "tag {tag} here ({}) is not the remote's {tag} ({}): the remote's is the \
one to release. Delete the local tag (`git tag -d {tag}`) and re-run",
                short(&l),
                short(&r)
            ))),
            (Some(l), _) => Ok(l),
            (None, Some(r)) => {
                if self.opts.dry_run {
                    bail!(BadInput(format!(
                        "tag {tag} is on {} but not here: fetch it first (`git fetch {} tag {tag}`), \
then dry-run again",
                        self.opts.remote, self.opts.remote
                    )));
                }
                self.git.fetch_tag(&self.opts.remote, tag)?;
                Ok(r)
            }
            (None, None) => bail!(BadInput(format!(
                "tag {tag} does not exist here or on {}: create it with `cargo xtask tag {tag}` \
(or `git tag -a {tag} -m \"Release {tag}\"` and push it)",
                self.opts.remote
            ))),
        }
    }

    /// The tag's own release files parse and take the release edits.
    pub(super) fn check_tagged_files(&self, tag_commit: &str) -> Result<()> {
        let tag = self.tag();
        let prefix = format!("at {tag}, ");
        let prefix = prefix.as_str();
        let at = |file: &'static str| move |e: BadInput| github::located(file, prefix, e);
        let file = |name: &str| -> Result<String> {
            self.git
                .show_text(tag_commit, name, name)
                .map_err(|e| e.context(format!("at {tag}")))?
                .ok_or_else(|| anyhow!(BadInput(format!("at {tag}, {name} does not exist"))))
        };
        let py = file(pyproject::FILE)?;
        pyproject::read_name(&py).map_err(at(pyproject::FILE))?;
        pyproject::sync_version(&py, tag).map_err(at(pyproject::FILE))?;
        changelog::rotate(&file(changelog::FILE)?, tag).map_err(at(changelog::FILE))?;
        Ok(())
    }

    /// Whether a `## vX.Y.Z` heading on root is this release's own: it
    /// arrived after the tag (the changelog step wrote it), or the tagged
    /// commit itself introduced it (`cargo xtask tag`'s release commit).
    pub(super) fn heading_is_own(&self, tag_commit: &str) -> Result<bool> {
        let tag = self.tag();
        let has = |rev: &str| -> Result<bool> {
            Ok(self
                .git
                .show_text(rev, changelog::FILE, changelog::FILE)?
                .is_some_and(|log| changelog::section(&log, tag).is_some()))
        };
        if !has(tag_commit)? {
            return Ok(true);
        }
        match self.git.commit_of(&format!("{tag_commit}^"))? {
            Some(parent) => Ok(!has(&parent)?),
            None => Ok(false),
        }
    }

    pub(super) fn finish_build(
        &mut self,
        pending: Option<tagged_build::PendingBuild>,
    ) -> Result<Built> {
        let pending = pending.context("the preflight build was not started")?;
        let python = self.python()?;
        let built = pending.finish(self.sh, &python, &self.project)?;
        for f in &built.files {
            println!("    {}  sha256 {}", f.filename, f.sha256);
        }
        Ok(built)
    }

    /// `Some` (and the step's outputs) when the index lists every file of
    /// the tag's version with the sha256 of the tagged source: the release
    /// is finished. Asked only before refusing a clone or root that no
    /// longer stands where a release would start; an unreadable index
    /// answers `None`, so that refusal stands.
    pub(super) fn finished(&mut self, tag_commit: &str, base: &str) -> Result<Option<String>> {
        let version = self.tag().pep440();
        let Ok(listed) = self.listing() else {
            return Ok(None);
        };
        let versions = index::listed_versions(&self.project, &listed);
        if !versions.iter().any(|(v, yanked)| *v == version && !*yanked) {
            return Ok(None);
        }
        let python = self.python()?;
        let tag = self.tag().clone();
        let pending = tagged_build::start_build(self.sh, &python, &self.git, tag_commit, &tag)?;
        let built = self.finish_build(Some(pending))?;
        match index::compare(&self.project, &version, &built.files, &listed) {
            Ok(Publication::Complete) => self.already_released(built, base).map(Some),
            _ => Ok(None),
        }
    }

    pub(super) fn already_released(&mut self, built: Built, base: &str) -> Result<String> {
        let tag = self.tag().clone();
        println!(
            "    {tag} is already released: every file is on the index with the sha256 of the \
tagged source"
        );
        self.record_release_commit(base)?;
        self.output("version", tag.pep440());
        self.output("tag", tag.to_string());
        self.output("released", "true".into());
        self.preflight = Some(built);
        Ok(format!("{tag} is already released: nothing to do"))
    }
}

/// Every version known anywhere except the tag itself as a tag: tags here
/// and on the remote, the index (yanked ones marked), and released
/// changelog headings (this release's own heading excluded).
pub fn known_versions(
    local_tags: &[Tag],
    remote_tags: &[(String, String)],
    index_versions: &[(String, bool)],
    changelog: &str,
    tag: &Tag,
    own_heading: bool,
) -> Vec<Known> {
    let mut known: Vec<Known> = Vec::new();
    known.extend(
        local_tags
            .iter()
            .filter(|t| *t != tag)
            .map(|t| Known::new(t.to_string(), Source::LocalTag)),
    );
    known.extend(
        remote_tags
            .iter()
            .filter_map(|(name, _)| Tag::from_git(name))
            .filter(|t| t != tag)
            .map(|t| Known::new(t.to_string(), Source::RemoteTag)),
    );
    known.extend(index_versions.iter().map(|(v, yanked)| {
        Known::new(
            v.clone(),
            if *yanked {
                Source::Yanked
            } else {
                Source::Index
            },
        )
    }));
    known.extend(
        changelog::release_headings(changelog)
            .into_iter()
            .filter(|t| !(own_heading && t == tag))
            .map(|t| Known::new(t.to_string(), Source::Changelog)),
    );
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_versions_leave_out_the_tag_itself_and_its_own_heading() {
        let tag = Tag::parse("v0.7.0").expect("tag");
        let log = "## v0.7.0\n- a\n## v0.6.0\n- b\n";
        let known = known_versions(
            &[tag.clone(), Tag::parse("v0.6.0").expect("tag")],
            &[("v0.7.0".into(), "c".into()), ("other".into(), "d".into())],
            &[("0.6.0".into(), false), ("0.5.0".into(), true)],
            log,
            &tag,
            true,
        );
        let names: Vec<String> = known.iter().map(|k| k.version.clone()).collect();
        assert_eq!(names, ["v0.6.0", "0.6.0", "0.5.0", "v0.6.0"]);
        let known = known_versions(&[], &[], &[], log, &tag, false);
        assert_eq!(known.len(), 2);
    }
}
