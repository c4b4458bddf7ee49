//! `cargo xtask release vX.Y.Z`: the CD pipeline.
//!
//! validate → changelog → version → build → check → publish → verify.
//! `validate` is the preflight: everything that can fail without a side
//! effect (inputs, ordering against every known release, the tagged
//! source's build and check, the index, credentials) runs before the first
//! commit. What is built is always the tag's tree plus the release's own
//! edits; root only receives those edits. On a failure after the changelog
//! step the heading is reverted, but never once a file of the version
//! reached the index. Each step also runs alone (`--step`); every step
//! converges when re-run, and pushes that lose a race re-plan from the
//! remote's state.

use std::fs;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::bounded;
use crate::changelog::{self, Edit};
use crate::git::{self, Git, Push};
use crate::github;
use crate::index::{self, IndexConfig, IndexFile, LocalFile, Publication};
use crate::input::{clip, read, BadInput};
use crate::pyproject;
use crate::release_rules::{self, Known, Source, Upload};
use crate::secrets;
use crate::tagged_build::{self, Built, COLUMNS};
use crate::tools::{Group, Tools};
use crate::ui::{self, Steps};
use crate::version::Tag;

/// The pipeline's steps; `Revert` runs only on failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Validate,
    Changelog,
    Version,
    Build,
    Check,
    Publish,
    Verify,
    Revert,
}

impl Step {
    /// Every step but `Revert`, in order.
    pub const PIPELINE: &'static [Step] = match Step::ALL.split_last() {
        Some((_, pipeline)) => pipeline,
        None => &[],
    };
    const ALL: [Step; 8] = [
        Step::Validate,
        Step::Changelog,
        Step::Version,
        Step::Build,
        Step::Check,
        Step::Publish,
        Step::Verify,
        Step::Revert,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Validate => "validate",
            Step::Changelog => "changelog",
            Step::Version => "version",
            Step::Build => "build",
            Step::Check => "check",
            Step::Publish => "publish",
            Step::Verify => "verify",
            Step::Revert => "revert",
        }
    }

    pub fn parse(name: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.name() == name)
    }

    /// `--step NAME`, or bad input listing the names.
    pub fn from_arg(name: &str) -> Result<Step, BadInput> {
        Step::parse(name).ok_or_else(|| {
            BadInput(format!(
                "unknown step `{}`: expected one of {}",
                clip(name),
                Step::ALL.map(Step::name).join(", ")
            ))
        })
    }
}

/// For the workflow test in `flags`: a `--step` name the binary accepts.
#[cfg(test)]
pub fn is_step(name: &str) -> bool {
    Step::parse(name).is_some()
}

/// How many times a push that lost a race is re-planned and retried.
const PUSH_ATTEMPTS: usize = 5;
/// Where a dry run reads the remote's release branch.
const DRY_RUN_REF: &str = "refs/xtask/dry-run/release-branch";
/// How far past the tag the release commit is looked for.
const RELEASE_COMMIT_SEARCH: usize = 500;

pub struct Options {
    pub tag: Tag,
    pub step: Option<Step>,
    pub dry_run: bool,
    pub remote: String,
    pub branch: String,
    /// Where the build writes and check, publish and verify read (default `dist`).
    pub dist: Option<Utf8PathBuf>,
    /// The build's sha256 record: publish and verify refuse other files.
    pub expect_sha256: Option<Vec<LocalFile>>,
    /// How long one `twine upload` may take before it is stopped.
    pub upload_timeout: std::time::Duration,
}

/// The default bound of one `twine upload` (`--upload-timeout`,
/// `XTASK_UPLOAD_TIMEOUT`): far above an upload of this package's size.
pub const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

struct Release<'a> {
    sh: &'a Shell,
    root: &'a Utf8Path,
    git: Git<'a>,
    opts: Options,
    tools: Option<Tools>,
    index: Option<IndexConfig>,
    project: String,
    /// The preflight's build, reused by the build and check steps of a
    /// whole-pipeline run.
    preflight: Option<Built>,
    /// Twine accepted, or found already there, a file of this version.
    uploaded: bool,
    /// The release commit, when an earlier run of the pipeline made it
    /// (after the tag): that run may have uploaded files the index does
    /// not list yet, so this run never reverts on its own.
    made_by_earlier_run: Option<String>,
    outputs: Vec<(&'static str, String)>,
}

/// What the preflight concluded.
enum Verdict {
    /// Every file is on the index with the tagged source's sha256.
    AlreadyReleased,
    Proceed,
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let pyproject_text = read(root, pyproject::FILE)?;
    let project = pyproject::read_name(&pyproject_text)?;
    let mut release = Release {
        sh,
        root,
        git: Git::new(sh),
        opts,
        tools: None,
        index: None,
        project,
        preflight: None,
        uploaded: false,
        made_by_earlier_run: None,
        outputs: Vec::new(),
    };
    let _lock = if release.opts.dry_run {
        None
    } else {
        Some(ReleaseLock::acquire(sh)?)
    };
    let _private = release.opts.dry_run.then(|| git::PrivateRefs {
        sh,
        refs: vec![DRY_RUN_REF],
    });
    if release.opts.dry_run {
        println!("dry run: nothing will be changed, pushed or uploaded");
    }
    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = match release.opts.step {
        Some(step) => release.run_step(&mut steps, step).map(|_| ()),
        None => release.run_all(&mut steps),
    };
    steps.summary();
    let outputs: Vec<(&str, &str)> = release
        .outputs
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    if let Err(err) = steps.actions().outputs(&outputs) {
        eprintln!("warning: could not write the step outputs: {err:#}");
    }
    result
}

impl Release<'_> {
    fn tag(&self) -> &Tag {
        &self.opts.tag
    }

    fn output(&mut self, key: &'static str, value: String) {
        self.outputs.retain(|(k, _)| *k != key);
        self.outputs.push((key, value));
    }

    fn run_step(&mut self, steps: &mut Steps, step: Step) -> Result<Verdict> {
        let mut verdict = Verdict::Proceed;
        steps.run(step.name(), || match step {
            Step::Validate => self.validate().map(|(outcome, v)| {
                verdict = v;
                outcome
            }),
            Step::Changelog => self.changelog(),
            Step::Version => self.version(),
            Step::Build => self.build(),
            Step::Check => self.check(),
            Step::Publish => self.publish(),
            Step::Verify => self.verify(),
            Step::Revert => self.revert(),
        })?;
        Ok(verdict)
    }

    fn run_all(&mut self, steps: &mut Steps) -> Result<()> {
        if let Verdict::AlreadyReleased = self.run_step(steps, Step::Validate)? {
            return Ok(());
        }
        for step in &Step::PIPELINE[1..] {
            if let Err(err) = self.run_step(steps, *step) {
                if self.opts.dry_run {
                    return Err(err);
                }
                eprintln!(
                    "error in {}: {}",
                    step.name(),
                    secrets::redact(&format!("{err:#}"))
                );
                if self.uploaded {
                    // Published means published: never revert, resume.
                    return Err(err.context(format!(
                        "release {tag} stopped at the {} step after uploading: not reverted. \
Resume with `cargo xtask release {tag}`",
                        step.name(),
                        tag = self.tag()
                    )));
                }
                if let Some(commit) = &self.made_by_earlier_run {
                    return Err(err.context(format!(
                        "release {tag} failed at the {} step: not reverted. Its release commit \
{} was made by an earlier run, whose upload may have reached the index without being listed \
yet (the index is the only record, and it can list late). Fix the fault and resume with \
`cargo xtask release {tag}`; only if no run ever uploaded {tag}, `cargo xtask release {tag} \
--step revert`",
                        step.name(),
                        short(commit),
                        tag = self.tag()
                    )));
                }
                if let Err(revert_err) = self.run_step(steps, Step::Revert) {
                    eprintln!("revert: {}", secrets::redact(&format!("{revert_err:#}")));
                }
                return Err(err.context(format!(
                    "release {} failed at the {} step",
                    self.tag(),
                    step.name()
                )));
            }
        }
        if !self.opts.dry_run {
            println!("released {}", self.tag());
            self.output("version", self.tag().pep440());
            self.output("tag", self.tag().to_string());
            self.output("released", "true".into());
        }
        Ok(())
    }

    fn tools(&mut self) -> Result<&Tools> {
        if self.tools.is_none() {
            self.tools = Some(Tools::ensure_group(self.sh, self.root, Group::Release)?);
        }
        self.tools.as_ref().context("the managed tools")
    }

    fn python(&mut self) -> Result<Utf8PathBuf> {
        Ok(self.tools()?.python())
    }

    fn dist(&self) -> Utf8PathBuf {
        match &self.opts.dist {
            Some(dir) if dir.is_absolute() => dir.clone(),
            Some(dir) => self.root.join(dir),
            None => self.root.join("dist"),
        }
    }

    /// Read once per run: verify polls the index, and without
    /// `TWINE_REPOSITORY_URL` each read would start a Python process.
    fn index_config(&mut self) -> Result<IndexConfig> {
        if let Some(config) = &self.index {
            return Ok(config.clone());
        }
        let config = IndexConfig::from_env(self.sh, self.root)?;
        self.index = Some(config.clone());
        Ok(config)
    }

    fn listing(&mut self) -> Result<Vec<IndexFile>> {
        let config = self.index_config()?;
        config.fetch(&self.project).with_context(|| {
            format!(
                "reading the package index {} (is it reachable? XTASK_INDEX_URL sets where \
to read it)",
                config.simple_base
            )
        })
    }

    /// The ref holding the remote's release branch: its remote-tracking
    /// ref (as of the last fetch); in a dry run, the private ref `fetch`
    /// just read it into (no ref of the user's moves).
    fn upstream(&self) -> String {
        if self.opts.dry_run {
            return DRY_RUN_REF.to_string();
        }
        format!("refs/remotes/{}/{}", self.opts.remote, self.opts.branch)
    }

    /// Where plans start: the remote's branch, or HEAD when it is unknown
    /// (a dry run before any fetch).
    fn base(&self) -> Result<String> {
        let upstream = self.upstream();
        match self.git.commit_of(&upstream)? {
            Some(commit) => Ok(commit),
            None if self.opts.dry_run => self.git.commit_of("HEAD")?.context("reading HEAD"),
            None => bail!(BadInput(format!(
                "{}/{} is unknown: push `{}` to {} first",
                self.opts.remote, self.opts.branch, self.opts.branch, self.opts.remote
            ))),
        }
    }

    fn fetch(&self) -> Result<()> {
        let (remote, branch) = (&self.opts.remote, &self.opts.branch);
        if self.opts.dry_run {
            return self.git.fetch_into(remote, branch, DRY_RUN_REF);
        }
        self.git.fetch_branch(remote, branch)
    }

    // ---- validate: the preflight ------------------------------------------

    fn validate(&mut self) -> Result<(String, Verdict)> {
        let tag = self.tag().clone();
        let version = tag.pep440();
        // Refusals about where this clone and root stand wait until the
        // index has been asked: a finished release is a no-op whatever
        // happened here or on root since.
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
                Some(done) => Ok((done, Verdict::AlreadyReleased)),
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
        let this = versions.iter().find(|(v, _)| *v == version);
        if let Some((_, true)) = this {
            // Spent: checked with the other known versions below.
        } else if this.is_some() {
            let built = self.finish_build(pending.take())?;
            match index::compare(&self.project, &version, &built.files, &listed) {
                Ok(Publication::Complete) => {
                    return Ok((self.already_released(built, &base)?, Verdict::AlreadyReleased));
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

        // Root may differ from the tag only by the release's own edits.
        match self.find_release_commit(&tag_commit, &base)? {
            Some(commit) => println!(
                "    the release commit is already on {}: {}",
                self.opts.branch,
                short(&commit)
            ),
            None => {
                let (log, py) = self.plan_edits(&tag_commit, &base)?;
                let count = [log.is_some(), py.is_some()].iter().filter(|b| **b).count();
                println!(
                    "    the tag's tree and {} agree apart from the release edits ({count} file(s) to edit)",
                    self.opts.branch
                );
            }
        }

        let config = self.index_config()?;
        if !config.has_upload_credentials(self.sh) {
            let in_actions = self.sh.var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
            if in_actions && self.opts.step == Some(Step::Validate) {
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
        }

        if self.preflight.is_none() {
            let built = self.finish_build(pending.take())?;
            self.preflight = Some(built);
        }
        self.output("version", version);
        self.output("tag", tag.to_string());
        self.output("released", "false".into());
        Ok((
            format!(
                "{tag} at {} builds and passes its checks",
                short(&tag_commit)
            ),
            Verdict::Proceed,
        ))
    }

    fn remote_url(&self) -> Option<String> {
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
    fn resolve_tag(&self, remote_tags: &[(String, String)]) -> Result<String> {
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
    fn check_tagged_files(&self, tag_commit: &str) -> Result<()> {
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
    fn heading_is_own(&self, tag_commit: &str) -> Result<bool> {
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

    fn finish_build(&mut self, pending: Option<tagged_build::PendingBuild>) -> Result<Built> {
        let pending = pending.context("the preflight build was not started")?;
        let python = self.python()?;
        let built = pending.finish(self.sh, &python, &self.project)?;
        for f in &built.files {
            println!("    {}  sha256 {}", f.filename, f.sha256);
        }
        Ok(built)
    }

    // ---- the release commit(s) on root -----------------------------------

    /// The commit where `## vX.Y.Z` and version X.Y.Z first stand together
    /// (the tag itself, or a commit after it on the branch), as long as the
    /// heading still stands at `upto` (a revert undoes it) and the commit
    /// is in `upto`'s history.
    fn find_release_commit(&self, tag_commit: &str, upto: &str) -> Result<Option<String>> {
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

    /// `Some` (and the step's outputs) when the index lists every file of
    /// the tag's version with the sha256 of the tagged source: the release
    /// is finished. Asked only before refusing a clone or root that no
    /// longer stands where a release would start; an unreadable index
    /// answers `None`, so that refusal stands.
    fn finished(&mut self, tag_commit: &str, base: &str) -> Result<Option<String>> {
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

    fn already_released(&mut self, built: Built, base: &str) -> Result<String> {
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

    fn record_release_commit(&mut self, upto: &str) -> Result<Option<String>> {
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
    fn plan_edits(&self, tag_commit: &str, base: &str) -> Result<(Option<String>, Option<String>)> {
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

    // ---- changelog and version -------------------------------------------

    fn changelog(&mut self) -> Result<String> {
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

    fn version(&mut self) -> Result<String> {
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

    /// Commits one file's planned edit on top of the remote's branch and
    /// pushes it. A push that loses a race (whatever git's words for it)
    /// fetches and plans again from the remote's new state, a bounded
    /// number of times; nothing is rebased or forced. When the remote
    /// already holds the edit (another run made it), there is nothing to do.
    fn commit_replanned(
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

    // ---- build and check ------------------------------------------------

    fn build(&mut self) -> Result<String> {
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

    /// The files in the dist directory, checked against `--expect-sha256`.
    fn built_files(&self) -> Result<Vec<LocalFile>> {
        let files = tagged_build::dist_files(&self.dist(), &self.project, self.tag())?;
        if let Some(expected) = &self.opts.expect_sha256 {
            let differences = release_rules::sha_differences(expected, &files);
            if !differences.is_empty() {
                bail!(
                    "the files in {} are not the ones the build recorded ({}): refusing to \
publish them. Re-run the build job",
                    self.dist(),
                    differences.join("; ")
                );
            }
        }
        Ok(files)
    }

    fn check(&mut self) -> Result<String> {
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

    // ---- publish and verify ---------------------------------------------

    /// Where the version stands on the index against the local files.
    /// Different files under this version, or a yanked version, are
    /// refused: a published version is never replaced or re-published.
    fn publication(&mut self, local: &[LocalFile]) -> Result<Publication> {
        let listed = self.listing()?;
        self.judge(local, &listed)
    }

    fn judge(&self, local: &[LocalFile], listed: &[IndexFile]) -> Result<Publication> {
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

    fn publish(&mut self) -> Result<String> {
        if self.opts.dry_run {
            let config = self.index_config()?;
            let present = self.listing().map(|listed| {
                index::version_files(&self.project, &self.tag().pep440(), &listed).len()
            });
            ui::would(&format!(
                "upload the built files not already on {} with `python -m twine upload` \
(the index lists {} file(s) of this version now)",
                config.describe(self.sh),
                present.map_or("an unknown number of".to_string(), |n| n.to_string())
            ));
            return Ok("planned".into());
        }
        let local = self.built_files()?;
        let state = self.publication(&local)?;
        let to_upload: Vec<LocalFile> = match &state {
            Publication::Complete => {
                self.uploaded = true;
                self.output("uploaded", "true".into());
                return Ok("every file is already on the index".into());
            }
            Publication::Absent => local.clone(),
            Publication::Partial { missing, .. } => {
                self.uploaded = true;
                local
                    .iter()
                    .filter(|f| missing.contains(&f.filename))
                    .cloned()
                    .collect()
            }
        };
        let config = self.index_config()?;
        let url = config.upload_url.clone();
        // Twine reads the config file's section and the keyring itself;
        // trusted publishing is the last resort, as in twine.
        let credentials = match config.twine_credentials(self.sh) {
            Some(pair) => Some(pair),
            None if matches!(
                config.login(self.sh),
                index::Login::ConfigFile | index::Login::Keyring
            ) =>
            {
                None
            }
            None => github::mint_index_token(self.sh, &url)?.map(|t| ("__token__".to_string(), t)),
        };
        if let Some((user, secret)) = &credentials {
            secrets::register_login(user, secret);
        }
        let python = self.python()?;
        let dist = self.dist();
        let mut accepted = 0;
        let mut existing = 0;
        let mut remaining: Vec<String> = to_upload.iter().map(|f| f.filename.clone()).collect();
        // One twine run for the files, again for those after one the index
        // already had. Twine stops at the first failure, so which files it
        // delivered is known even when a later one fails: then the version
        // is published, never reverted.
        while !remaining.is_empty() {
            let paths: Vec<Utf8PathBuf> = remaining.iter().map(|f| dist.join(f)).collect();
            let sh = self.sh;
            // The repository as chosen (a URL, or a named section of the
            // config file, whose credentials and keyring twine reads).
            let repository = config.twine_args();
            let mut upload = cmd!(
                sh,
                "{python} -m twine --no-color upload --verbose --non-interactive --disable-progress-bar {repository...} {paths...}"
            )
            .env("COLUMNS", COLUMNS)
            .quiet()
            .ignore_status();
            upload = match &config.named {
                None => upload.env("TWINE_REPOSITORY_URL", &url),
                Some(_) => upload.env_remove("TWINE_REPOSITORY_URL"),
            };
            if let Some((user, password)) = &credentials {
                upload = upload
                    .env("TWINE_USERNAME", user)
                    .env("TWINE_PASSWORD", password);
            }
            let limit = self.opts.upload_timeout;
            let out = match bounded::run(upload.into(), limit, "twine upload")? {
                bounded::Ended::Finished(out) => out,
                bounded::Ended::TimedOut { stdout, stderr } => {
                    let said = format!(
                        "{}{}",
                        String::from_utf8_lossy(&stdout),
                        String::from_utf8_lossy(&stderr)
                    );
                    for line in secrets::redact(&said)
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                    {
                        println!("    | {}", line.trim_end());
                    }
                    // Twine may have sent a file whose answer never came:
                    // the version counts as published and is never reverted.
                    self.mark_uploaded()?;
                    bail!(
                        "the upload timed out after {} s ({url} accepted the connection but did \
not answer); nothing is known about the files: the version may be partly published, so it is \
never reverted. Re-run `cargo xtask release {}` once the index answers: it verifies what \
arrived and uploads what is missing (--upload-timeout SECONDS or XTASK_UPLOAD_TIMEOUT sets the \
limit)",
                        limit.as_secs(),
                        self.tag()
                    );
                }
            };
            // Read as twine wrote it (a secret that is also ordinary text,
            // such as the version, must not hide which file was sent);
            // only what is printed is redacted.
            let raw_report = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let report = secrets::redact(&raw_report);
            // `--verbose` is what shows the index's own reason (an index
            // may say "already exists" only in the body); its INFO lines
            // are shown when the upload fails.
            for line in report
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty())
                .filter(|l| !out.status.success() || !l.starts_with("INFO"))
            {
                println!("    | {line}");
            }
            let (delivered, stop) =
                release_rules::read_upload(&remaining, out.status.success(), &raw_report);
            accepted += delivered.len();
            if !delivered.is_empty() {
                self.mark_uploaded()?;
            }
            match stop {
                None => break,
                Some((file, Upload::AlreadyThere)) => {
                    existing += 1;
                    self.mark_uploaded()?;
                    let at = remaining.iter().position(|f| *f == file).unwrap_or(0);
                    remaining.drain(..=at);
                }
                Some((file, _)) => {
                    let hint = release_rules::upload_failure_hint(&raw_report);
                    let which = if file.is_empty() {
                        "twine upload".to_string()
                    } else {
                        format!("twine upload of {file}")
                    };
                    bail!(
                        "{which} to {url} failed{hint}{}",
                        if self.uploaded {
                            format!(
                                ". Other files of {} are on the index: it is published, not \
reverted; resume with `cargo xtask release {}`",
                                self.tag(),
                                self.tag()
                            )
                        } else {
                            String::new()
                        }
                    );
                }
            }
        }
        if existing == to_upload.len() {
            return Ok(format!(
                "the index already had all {existing} file(s): another run published them \
first; verify checks their sha256"
            ));
        }
        Ok(format!(
            "uploaded {accepted} file(s) to {url}{}",
            if existing > 0 {
                format!(" ({existing} already there)")
            } else {
                String::new()
            }
        ))
    }

    /// Twine accepted a file: the version is published, for good. Recorded
    /// in the clone so a later `--step revert` knows it even while the
    /// index does not list the file yet.
    fn mark_uploaded(&mut self) -> Result<()> {
        self.uploaded = true;
        self.output("uploaded", "true".into());
        let marker = self.uploaded_marker()?;
        fs::write(&marker, "uploaded\n").with_context(|| format!("writing {marker}"))
    }

    fn uploaded_marker(&self) -> Result<Utf8PathBuf> {
        let sh = self.sh;
        let git_dir = cmd!(sh, "git rev-parse --absolute-git-dir")
            .quiet()
            .read()
            .context("locating the .git directory")?;
        Ok(Utf8PathBuf::from(git_dir).join(format!("xtask-uploaded-{}", self.tag())))
    }

    fn verify(&mut self) -> Result<String> {
        if self.opts.dry_run {
            ui::would("poll the index until every built file is listed with its sha256");
            return Ok("planned".into());
        }
        let local = self.built_files()?;
        let timeout = match self.sh.var("XTASK_VERIFY_TIMEOUT") {
            Ok(value) => release_rules::parse_timeout("XTASK_VERIFY_TIMEOUT", &value)?,
            Err(_) => Duration::from_secs(120),
        };
        let uploaded = self.uploaded || self.uploaded_marker()?.exists();
        let start = Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            // A failed read is retried within the bound: the index may be
            // briefly unavailable right after an upload.
            let last = match self.publication(&local) {
                Ok(Publication::Complete) => {
                    return Ok(format!(
                        "{} file(s) listed with matching sha256",
                        local.len()
                    ))
                }
                Ok(Publication::Absent) => "no file of the version listed".to_string(),
                Ok(Publication::Partial { missing, .. }) => {
                    format!("not listed yet: {}", missing.join(", "))
                }
                Err(err) if input_refusal(&err) => return Err(err),
                Err(err) => format!("{err:#}"),
            };
            if start.elapsed() >= timeout {
                let tag = self.tag();
                if uploaded {
                    bail!(
                        "{tag} was uploaded, not yet listed: after {} the index still shows \
{last}. It is published (not reverted); resume with `cargo xtask release {tag}` (or \
`--step verify`) once the index lists it",
                        ui::seconds(start.elapsed())
                    );
                }
                bail!(
                    "after {} the index does not list {tag} ({last}): publish it first \
(`cargo xtask release {tag}`)",
                    ui::seconds(start.elapsed())
                );
            }
            std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    // ---- revert -----------------------------------------------------------

    fn revert(&mut self) -> Result<String> {
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
    fn commit_replanned_revert(&mut self, message: &str) -> Result<Committed> {
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

/// What a commit step ended in.
enum Committed {
    /// The remote's branch needs no edit.
    Nothing,
    /// The release commit is already on the branch.
    Released(String),
    Pushed,
    Planned,
}

/// Whether an error is the caller's input (exit 2), not a passing fault.
fn input_refusal(err: &anyhow::Error) -> bool {
    crate::input::is_bad_input(err)
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

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `.git/xtask-release.lock`: one release at a time per clone. A lock left
/// by a process that no longer runs is taken over.
struct ReleaseLock {
    path: Utf8PathBuf,
}

impl ReleaseLock {
    fn acquire(sh: &Shell) -> Result<ReleaseLock> {
        let git_dir = cmd!(sh, "git rev-parse --absolute-git-dir")
            .quiet()
            .read()
            .context("locating the .git directory")?;
        let path = Utf8PathBuf::from(git_dir).join("xtask-release.lock");
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    use std::io::Write;
                    write!(file, "{}", std::process::id())
                        .with_context(|| format!("writing {path}"))?;
                    return Ok(ReleaseLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = fs::read_to_string(&path).unwrap_or_default();
                    let pid = pid.trim();
                    let alive = !pid.is_empty()
                        && pid.chars().all(|c| c.is_ascii_digit())
                        && Utf8Path::new("/proc").join(pid).exists();
                    if alive {
                        bail!(
                            "another release is running in this clone (pid {pid}, lock {path}): \
wait for it to finish"
                        );
                    }
                    eprintln!(
                        "removing a stale release lock left by pid {:?} ({path})",
                        clip(pid)
                    );
                    fs::remove_file(&path).with_context(|| format!("removing {path}"))?;
                }
                Err(e) => return Err(e).with_context(|| format!("creating {path}")),
            }
        }
        bail!("could not take the release lock {path}")
    }
}

impl Drop for ReleaseLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip_their_names() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.name()), Some(step));
        }
        assert!(is_step("verify") && is_step("revert") && !is_step("deploy"));
        assert_eq!(Step::PIPELINE.first(), Some(&Step::Validate));
        assert_eq!(Step::PIPELINE.last(), Some(&Step::Verify));
        assert!(!Step::PIPELINE.contains(&Step::Revert));
        let err = Step::from_arg("deploy")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains("validate, changelog"), "{err}");
    }

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
