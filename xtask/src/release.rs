//! `cargo xtask release vX.Y.Z`: the CD pipeline.
//!
//! validate → changelog → version → build → check → publish → verify, and
//! on a failure after the changelog step, revert the heading while the
//! version is not on the index. Each step also runs alone (`--step`), as
//! the CD workflow does; every step converges when re-run.

use std::fs;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::changelog::{self, Edit};
use crate::git::Git;
use crate::github;
use crate::index::{self, IndexConfig, LocalFile, Publication};
use crate::pyproject;
use crate::tools::{Group, Tools};
use crate::ui::{self, Steps};
use crate::version::Tag;
use crate::{read, BadInput};

/// The pipeline's steps in order; `revert` runs only on failure.
const PIPELINE: [&str; 7] = [
    "validate",
    "changelog",
    "version",
    "build",
    "check",
    "publish",
    "verify",
];
const REVERT: &str = "revert";

pub fn is_step(name: &str) -> bool {
    PIPELINE.contains(&name) || name == REVERT
}

/// Files the release itself edits: the only ones allowed to differ between
/// the tag and `root`.
const RELEASE_FILES: [&str; 2] = [changelog::FILE, pyproject::FILE];

pub struct Options {
    pub tag: Tag,
    pub step: Option<String>,
    pub dry_run: bool,
    pub remote: String,
    pub branch: String,
}

struct Release<'a> {
    sh: &'a Shell,
    root: &'a Utf8Path,
    git: Git<'a>,
    opts: Options,
    tools: Option<Tools>,
    index: Option<IndexConfig>,
    project: String,
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    if let Some(step) = &opts.step {
        if !is_step(step) {
            bail!(BadInput(format!(
                "unknown step `{step}`: expected one of {}, {REVERT}",
                PIPELINE.join(", ")
            )));
        }
    }
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
    };
    let _lock = if release.opts.dry_run {
        None
    } else {
        Some(ReleaseLock::acquire(sh)?)
    };
    if release.opts.dry_run {
        println!("dry run: nothing will be changed, pushed or uploaded");
    }
    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = match release.opts.step.clone() {
        Some(step) => release.run_step(&mut steps, &step),
        None => release.run_all(&mut steps),
    };
    steps.summary();
    result
}

impl Release<'_> {
    fn tag(&self) -> &Tag {
        &self.opts.tag
    }

    fn run_step(&mut self, steps: &mut Steps, step: &str) -> Result<()> {
        steps.run(step, || match step {
            "validate" => self.validate(),
            "changelog" => self.changelog(),
            "version" => self.version(),
            "build" => self.build().map(|files| format!("{} files", files.len())),
            "check" => self.check(),
            "publish" => self.publish(),
            "verify" => self.verify(),
            "revert" => self.revert(),
            other => unreachable!("step `{other}` was checked against PIPELINE"),
        })
    }

    fn run_all(&mut self, steps: &mut Steps) -> Result<()> {
        let (validate, rest) = PIPELINE.split_first().expect("the pipeline has steps");
        self.run_step(steps, validate)?;
        if !self.opts.dry_run && self.already_released()? {
            println!("{} is already released: nothing to do", self.tag());
            self.write_outputs(steps)?;
            return Ok(());
        }
        for &step in rest {
            if let Err(err) = self.run_step(steps, step) {
                if self.opts.dry_run {
                    return Err(err);
                }
                eprintln!("error in {step}: {err:#}");
                if let Err(revert_err) = self.run_step(steps, REVERT) {
                    eprintln!("revert: {revert_err:#}");
                }
                return Err(
                    err.context(format!("release {} failed at the {step} step", self.tag()))
                );
            }
        }
        println!("released {}", self.tag());
        self.write_outputs(steps)
    }

    /// `version`, `tag` and `released` for later workflow steps.
    fn write_outputs(&self, steps: &Steps) -> Result<()> {
        let (tag, version) = (self.tag().to_string(), self.tag().pep440());
        steps
            .actions()
            .outputs(&[("version", &version), ("tag", &tag), ("released", "true")])
    }

    fn tools(&mut self) -> Result<&Tools> {
        if self.tools.is_none() {
            self.tools = Some(Tools::ensure_group(self.sh, self.root, Group::Release)?);
        }
        Ok(self.tools.as_ref().expect("set just above"))
    }

    fn dist(&self) -> Utf8PathBuf {
        self.root.join("dist")
    }

    // ---- validate -------------------------------------------------------

    fn validate(&mut self) -> Result<String> {
        let tag = self.tag().clone();
        let branch = &self.opts.branch;
        match self.git.current_branch()? {
            Some(b) if b == *branch => {}
            other => bail!(BadInput(format!(
                "a release runs on `{branch}`, but HEAD is on {}: run `git switch {branch}`",
                other.map_or("no branch (detached)".to_string(), |b| format!("`{b}`"))
            ))),
        }
        let dirty = self.git.dirty_files()?;
        if !dirty.is_empty() {
            bail!(BadInput(format!(
                "the working tree is not clean ({}): commit or stash these changes first",
                dirty.join(", ")
            )));
        }
        if self.opts.dry_run {
            println!("    not fetching in a dry run: checking against local refs");
        } else {
            self.git.fetch(&self.opts.remote, branch)?;
        }
        let tag_ref = Git::tag_ref(&tag);
        let Some(tag_commit) = self.git.commit_of(&tag_ref)? else {
            bail!(BadInput(format!(
                "tag {tag} does not exist here or on {}: create it with `cargo xtask tag {tag}` \
(or `git tag -a {tag} -m \"Release {tag}\"` and push it)",
                self.opts.remote
            )));
        };
        if !self.git.is_ancestor(&tag_ref, "HEAD")? {
            bail!(BadInput(format!(
                "tag {tag} ({}) is not on `{branch}`: a release must be tagged on `{branch}`",
                short(&tag_commit)
            )));
        }
        if let Some(newer) = self.git.release_tags()?.into_iter().rfind(|t| *t > tag) {
            bail!(BadInput(format!(
                "{newer} is newer than {tag}: versions are linear, so only a tag newer than \
every released tag can be released"
            )));
        }
        self.ensure_tagged_source()?;
        // Refuse bad release files now, before anything is changed.
        changelog::rotate(&read(self.root, changelog::FILE)?, &tag)?;
        pyproject::sync_version(&read(self.root, pyproject::FILE)?, &tag)?;
        let sh = self.sh;
        let remote = &self.opts.remote;
        let origin_url = cmd!(sh, "git remote get-url {remote}")
            .quiet()
            .ignore_stderr()
            .read()
            .ok();
        let github = github::check_release(sh, &tag, origin_url.as_deref())?;
        println!("    {github}");
        Ok(format!("{tag} at {}", short(&tag_commit)))
    }

    /// The index already lists an sdist and a wheel of this version, and
    /// the repository is in its released state.
    fn already_released(&mut self) -> Result<bool> {
        let tag = self.tag().clone();
        let log = read(self.root, changelog::FILE)?;
        let version = pyproject::read_version(&read(self.root, pyproject::FILE)?)?;
        if changelog::rotate(&log, &tag)? != Edit::Unchanged || version != tag.pep440() {
            return Ok(false);
        }
        let config = self.index_config()?;
        let listed = index::fetch(&config.simple_base, &self.project)?;
        let files = index::version_files(&self.project, &tag.pep440(), &listed);
        let sdist = files.iter().any(|f| f.filename.ends_with(".tar.gz"));
        let wheel = files.iter().any(|f| f.filename.ends_with(".whl"));
        Ok(sdist && wheel)
    }

    // ---- changelog and version -------------------------------------------

    fn changelog(&mut self) -> Result<String> {
        let tag = self.tag().clone();
        let before = read(self.root, changelog::FILE)?;
        match changelog::rotate(&before, &tag)? {
            Edit::Unchanged => Ok(format!("already has `## {tag}`")),
            Edit::Changed(after) => {
                let message = format!("Release {tag}: changelog");
                self.commit_and_push(changelog::FILE, &before, &after, &message)?;
                Ok(format!("`## {}` is now `## {tag}`", changelog::RECENT))
            }
        }
    }

    fn version(&mut self) -> Result<String> {
        let tag = self.tag().clone();
        let before = read(self.root, pyproject::FILE)?;
        match pyproject::sync_version(&before, &tag)? {
            Edit::Unchanged => Ok(format!("already {}", tag.pep440())),
            Edit::Changed(after) => {
                let message = format!("Release {tag}: version {}", tag.pep440());
                self.commit_and_push(pyproject::FILE, &before, &after, &message)?;
                Ok(format!("set to {}", tag.pep440()))
            }
        }
    }

    fn commit_and_push(&self, file: &str, before: &str, after: &str, message: &str) -> Result<()> {
        let branch = &self.opts.branch;
        let remote = &self.opts.remote;
        ui::print_diff(file, before, after);
        if self.opts.dry_run {
            ui::would(&format!(
                "write {file}, run `git commit -m \"{message}\" -- {file}`"
            ));
            ui::would(&format!(
                "run `git push --atomic {remote} {branch}:refs/heads/{branch}`"
            ));
            return Ok(());
        }
        let path = self.root.join(file);
        fs::write(&path, after).with_context(|| format!("writing {path}"))?;
        self.git.commit(&[file], message)?;
        self.git
            .push_with_retry(remote, branch, &[format!("{branch}:refs/heads/{branch}")])?;
        // A rebase onto a moved remote may have brought in other changes.
        self.ensure_tagged_source()
    }

    /// Since the tag, only the release files may differ: what is published
    /// is the tagged source.
    fn ensure_tagged_source(&self) -> Result<()> {
        let tag = self.tag();
        let beyond: Vec<String> = self
            .git
            .changed_paths(&Git::tag_ref(tag), "HEAD")?
            .into_iter()
            .filter(|p| !RELEASE_FILES.contains(&p.as_str()))
            .collect();
        if !beyond.is_empty() {
            bail!(BadInput(format!(
                "`{}` has changes since {tag} beyond {}: {}. What is published must be \
the tagged source: tag the current commit as a new version instead",
                self.opts.branch,
                RELEASE_FILES.join(" and "),
                beyond.join(", ")
            )));
        }
        Ok(())
    }

    // ---- build and check ------------------------------------------------

    fn build(&mut self) -> Result<Vec<LocalFile>> {
        let dist = self.dist();
        let tag_ref = Git::tag_ref(self.tag());
        // Reproducible archives: the same tree always gives the same sha256.
        let epoch = self.git.commit_time(&tag_ref)?;
        if self.opts.dry_run {
            ui::would(&format!(
                "remove {dist}, run `python -m build --no-isolation --outdir {dist}` \
with SOURCE_DATE_EPOCH={epoch}"
            ));
            return Ok(Vec::new());
        }
        if dist.exists() {
            fs::remove_dir_all(&dist).with_context(|| format!("cleaning {dist}"))?;
        }
        let python = self.tools()?.python();
        let sh = self.sh;
        // The backend is pinned and hash-locked in the managed tools, so an
        // isolated build environment would only re-download the same thing.
        cmd!(sh, "{python} -m build --no-isolation --outdir {dist} .")
            .env("SOURCE_DATE_EPOCH", &epoch)
            .run()
            .context("building the sdist and wheel (python -m build)")?;
        let files = self.built_files()?;
        for f in &files {
            println!("    {}  sha256 {}", f.filename, f.sha256);
        }
        Ok(files)
    }

    /// The files in `dist/` with their sha256, checked to be this version.
    fn built_files(&self) -> Result<Vec<LocalFile>> {
        let dist = self.dist();
        let version = self.tag().pep440();
        let mut files = Vec::new();
        let entries = fs::read_dir(&dist)
            .with_context(|| format!("reading {dist}: run the build step first"))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {dist}"))?;
            let filename = entry.file_name().to_string_lossy().into_owned();
            if filename.starts_with('.') {
                continue;
            }
            match index::file_version(&filename) {
                Some((name, v)) if name == index::normalize(&self.project) && v == version => {}
                _ => bail!(
                    "{dist}/{filename} is not a {version} distribution of {}: \
run the build step for this tag again",
                    self.project
                ),
            }
            let bytes = fs::read(entry.path()).with_context(|| format!("reading {filename}"))?;
            files.push(LocalFile {
                filename,
                sha256: sha256_hex(&bytes),
            });
        }
        if files.is_empty() {
            bail!("{dist} holds no distributions: run the build step first");
        }
        files.sort_by(|a, b| a.filename.cmp(&b.filename));
        Ok(files)
    }

    fn check(&mut self) -> Result<String> {
        let dist = self.dist();
        if self.opts.dry_run {
            ui::would(&format!("run `python -m twine check --strict {dist}/*`"));
            return Ok("planned".into());
        }
        let paths: Vec<Utf8PathBuf> = self
            .built_files()?
            .iter()
            .map(|f| dist.join(&f.filename))
            .collect();
        let count = paths.len();
        let python = self.tools()?.python();
        let sh = self.sh;
        cmd!(sh, "{python} -m twine --no-color check --strict {paths...}")
            .run()
            .context("checking the distributions' metadata (twine check --strict): fix the README or metadata it names")?;
        Ok(format!("{count} files pass"))
    }

    // ---- publish and verify ---------------------------------------------

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

    fn publication(&mut self, local: &[LocalFile]) -> Result<(IndexConfig, Publication)> {
        let config = self.index_config()?;
        let listed = index::fetch(&config.simple_base, &self.project)?;
        let version = self.tag().pep440();
        let state =
            index::compare(&self.project, &version, local, &listed).map_err(|conflict| {
                anyhow::anyhow!(
                    "{} {version} is already on the index with different files ({conflict}); \
nothing was uploaded. A published version cannot be replaced: release the next patch, \
`cargo xtask tag {}`",
                    self.project,
                    self.tag().next_patch()
                )
            })?;
        Ok((config, state))
    }

    fn publish(&mut self) -> Result<String> {
        if self.opts.dry_run {
            let config = self.index_config()?;
            let listed = index::fetch(&config.simple_base, &self.project)?;
            let present = index::version_files(&self.project, &self.tag().pep440(), &listed);
            ui::would(&format!(
                "upload the built files not already on {} with `python -m twine upload` \
(the index lists {} file(s) of this version now)",
                config.upload_url,
                present.len()
            ));
            return Ok("planned".into());
        }
        let local = self.built_files()?;
        let (config, state) = self.publication(&local)?;
        let to_upload: Vec<&LocalFile> = match &state {
            Publication::Complete => return Ok("every file is already on the index".into()),
            Publication::Absent => local.iter().collect(),
            Publication::Partial { missing, .. } => local
                .iter()
                .filter(|f| missing.contains(&f.filename))
                .collect(),
        };
        let dist = self.dist();
        let paths: Vec<Utf8PathBuf> = to_upload.iter().map(|f| dist.join(&f.filename)).collect();
        let count = paths.len();
        let python = self.tools()?.python();
        let sh = self.sh;
        let url = &config.upload_url;
        // Credentials reach twine by environment only: TWINE_USERNAME and
        // TWINE_PASSWORD, or a token minted by trusted publishing.
        let password = sh.var("TWINE_PASSWORD").ok().filter(|p| !p.is_empty());
        let minted = match password {
            Some(_) => None,
            None => github::mint_index_token(sh, url)?,
        };
        let mut upload = cmd!(
            sh,
            "{python} -m twine --no-color upload --non-interactive --disable-progress-bar --repository-url {url} {paths...}"
        )
        .ignore_status();
        if let Some(token) = &minted {
            upload = upload
                .env("TWINE_USERNAME", "__token__")
                .env("TWINE_PASSWORD", token);
        }
        let out = upload.output().context("running twine upload")?;
        let secret = minted.or(password).unwrap_or_default();
        let report = redact(
            &format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            &secret,
        );
        for line in report.lines().filter(|l| !l.trim().is_empty()) {
            println!("    | {line}");
        }
        if !out.status.success() {
            let hint = if report.contains("403") || report.contains("401") {
                ": the index refused the credentials; check TWINE_USERNAME and TWINE_PASSWORD \
(or the trusted publisher)"
            } else if report.contains("Connection refused") || report.contains("ConnectionError") {
                ": the index could not be reached"
            } else {
                ""
            };
            bail!("twine upload to {url} failed{hint}");
        }
        Ok(format!("uploaded {count} file(s) to {url}"))
    }

    fn verify(&mut self) -> Result<String> {
        if self.opts.dry_run {
            ui::would("poll the index until every built file is listed with its sha256");
            return Ok("planned".into());
        }
        let local = self.built_files()?;
        let timeout = Duration::from_secs(
            self.sh
                .var("XTASK_VERIFY_TIMEOUT")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(120),
        );
        let start = Instant::now();
        let mut pause = Duration::from_millis(250);
        loop {
            let (_, state) = self.publication(&local)?;
            match state {
                Publication::Complete => {
                    return Ok(format!(
                        "{} file(s) listed with matching sha256",
                        local.len()
                    ))
                }
                state if start.elapsed() >= timeout => bail!(
                    "after {} the index still does not list every file: {state:?}; \
re-run `cargo xtask release {} --step verify` later",
                    ui::seconds(start.elapsed()),
                    self.tag()
                ),
                _ => {}
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    // ---- revert -----------------------------------------------------------

    fn revert(&mut self) -> Result<String> {
        let tag = self.tag().clone();
        let config = self.index_config()?;
        let listed = index::fetch(&config.simple_base, &self.project)
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
        let before = read(self.root, changelog::FILE)?;
        match changelog::revert(&before, &tag)? {
            Edit::Unchanged => Ok(format!(
                "nothing to revert: `## {}` is in place",
                changelog::RECENT
            )),
            Edit::Changed(after) => {
                let message = format!("Revert the {tag} changelog heading: not published");
                self.commit_and_push(changelog::FILE, &before, &after, &message)?;
                Ok(format!("`## {tag}` is `## {}` again", changelog::RECENT))
            }
        }
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes a secret from text that is about to be printed.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.len() < 4 {
        return text.to_string();
    }
    text.replace(secret, "***")
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
                    let alive = !pid.is_empty() && Utf8Path::new("/proc").join(pid).exists();
                    if alive {
                        bail!(
                            "another release is running in this clone (pid {pid}, lock {path}): \
wait for it to finish"
                        );
                    }
                    eprintln!("removing a stale release lock left by pid {pid:?} ({path})");
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
    fn sha256_known_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("pw=hunter22 ok", "hunter22"), "pw=*** ok");
        assert_eq!(redact("short x", "x"), "short x");
    }
}
