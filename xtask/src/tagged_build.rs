//! What is published is the tagged source: a revision's tree exported to a
//! scratch directory (the clone's index and working tree untouched), with
//! only the release's own edits applied (the version value in
//! `pyproject.toml`, the heading rotation in `CHANGELOG.md`), built with the
//! managed tools and checked. `release` builds the tag this way; `tag`
//! builds the commit it is about to tag, so a pushed tag always builds.

use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::changelog::{self, Edit};
use crate::git::Git;
use crate::index::{self, LocalFile};
use crate::input::BadInput;
use crate::pyproject;
use crate::secrets;
use crate::version::Tag;

/// Wide enough that twine's and rich's output is never wrapped mid-path.
pub const COLUMNS: &str = "200";

/// A directory under the system's temporary directory, removed on drop.
pub struct Scratch {
    path: Utf8PathBuf,
}

impl Scratch {
    pub fn new(label: &str) -> Result<Scratch> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = Utf8PathBuf::from_path_buf(std::env::temp_dir())
            .map_err(|p| anyhow::anyhow!("the temporary directory {p:?} is not UTF-8"))?;
        let path = base.join(format!("xtask-{label}-{}-{n}", std::process::id()));
        if path.exists() {
            fs::remove_dir_all(&path).with_context(|| format!("clearing {path}"))?;
        }
        fs::create_dir_all(&path).with_context(|| format!("creating {path}"))?;
        Ok(Scratch { path })
    }

    pub fn path(&self) -> &Utf8Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A build of a revision's tree with the release's edits.
pub struct Built {
    /// Holds the tree and the output until dropped.
    pub _scratch: Scratch,
    pub out: Utf8PathBuf,
    pub files: Vec<LocalFile>,
}

/// `rev`'s tree in `scratch/tree`, with `pyproject.toml`'s version set to
/// the tag and `## Recent Changes` renamed to `## vX.Y.Z` (no-ops when the
/// tree already has them). Bad release files are bad input naming `rev`.
pub fn prepare_tree(git: &Git, rev: &str, tag: &Tag, scratch: &Scratch) -> Result<Utf8PathBuf> {
    let tree = scratch.path().join("tree");
    git.export_tree(rev, &tree, &scratch.path().join("index"))?;
    let at = |e: anyhow::Error| e.context(format!("in the tree of {rev}"));
    let py = crate::input::read(&tree, pyproject::FILE).map_err(at)?;
    pyproject::read_name(&py).map_err(|e| at(e.into()))?;
    if let Edit::Changed(after) = pyproject::sync_version(&py, tag).map_err(|e| at(e.into()))? {
        write(&tree, pyproject::FILE, &after)?;
    }
    let log = crate::input::read(&tree, changelog::FILE).map_err(at)?;
    if let Edit::Changed(after) = changelog::rotate(&log, tag).map_err(|e| at(e.into()))? {
        write(&tree, changelog::FILE, &after)?;
    }
    Ok(tree)
}

fn write(tree: &Utf8Path, file: &str, text: &str) -> Result<()> {
    let path = tree.join(file);
    fs::write(&path, text).with_context(|| format!("writing {path}"))
}

/// Builds `rev` with the release's edits into a scratch directory and
/// checks the result; a failure is bad input (the source does not build),
/// reported with the tool's own output.
pub fn build_revision(
    sh: &Shell,
    python: &Utf8Path,
    git: &Git,
    rev: &str,
    tag: &Tag,
    project: &str,
) -> Result<Built> {
    start_build(sh, python, git, rev, tag)?.finish(sh, python, project)
}

/// A build running in the background while the other checks run.
pub struct PendingBuild {
    scratch: Option<Scratch>,
    out: Utf8PathBuf,
    log: Utf8PathBuf,
    child: Option<std::process::Child>,
    rev: String,
    tag: Tag,
}

/// Prepares `rev`'s tree with the release's edits and starts its build.
pub fn start_build(
    sh: &Shell,
    python: &Utf8Path,
    git: &Git,
    rev: &str,
    tag: &Tag,
) -> Result<PendingBuild> {
    let scratch = Scratch::new("build")?;
    let tree = prepare_tree(git, rev, tag, &scratch)?;
    let out = scratch.path().join("dist");
    let log = scratch.path().join("build.log");
    let epoch = git.commit_time(rev)?;
    let file = fs::File::create(&log).with_context(|| format!("creating {log}"))?;
    let err = file.try_clone().with_context(|| format!("opening {log}"))?;
    // The backend is pinned and hash-locked in the managed tools, so an
    // isolated build environment would only re-download the same thing.
    let mut command: std::process::Command =
        cmd!(sh, "{python} -m build --no-isolation --outdir {out} {tree}")
            .env("SOURCE_DATE_EPOCH", &epoch)
            .into();
    let child = command
        .stdout(file)
        .stderr(err)
        .spawn()
        .context("starting python -m build")?;
    Ok(PendingBuild {
        scratch: Some(scratch),
        out,
        log,
        child: Some(child),
        rev: rev.to_string(),
        tag: tag.clone(),
    })
}

impl PendingBuild {
    /// The prepared tree being built (the revision with the release edits).
    pub fn tree(&self) -> Option<Utf8PathBuf> {
        self.scratch.as_ref().map(|s| s.path().join("tree"))
    }

    /// Waits for the build, then checks the files.
    pub fn finish(mut self, sh: &Shell, python: &Utf8Path, project: &str) -> Result<Built> {
        let (rev, tag) = (self.rev.clone(), self.tag.clone());
        let status = match self.child.take() {
            Some(mut child) => child.wait().context("waiting for python -m build")?,
            None => bail!("the build of {rev} was not started"),
        };
        if !status.success() {
            let output = fs::read_to_string(&self.log).unwrap_or_default();
            bail!(BadInput(format!(
                "the source at {rev} with the {tag} edits does not build: python -m build \
failed:\n{}",
                tail(&output, b"")
            )));
        }
        let files = dist_files(&self.out, project, &tag)?;
        check(sh, python, &self.out, &files).map_err(|e| {
            anyhow::Error::new(BadInput(format!(
                "the {tag} build of {rev} fails its checks: {e:#}"
            )))
        })?;
        let scratch = self.scratch.take().context("the build's directory")?;
        Ok(Built {
            _scratch: scratch,
            out: self.out.clone(),
            files,
        })
    }
}

impl Drop for PendingBuild {
    fn drop(&mut self) {
        // Abandoned (another check refused first): stop it, by its own id.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `python -m build` of `tree` into `out` (emptied first), reproducible:
/// the same tree and epoch always give the same sha256.
pub fn build(
    sh: &Shell,
    python: &Utf8Path,
    tree: &Utf8Path,
    out: &Utf8Path,
    epoch: &str,
) -> Result<()> {
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("cleaning {out}"))?;
    }
    let result = cmd!(sh, "{python} -m build --no-isolation --outdir {out} {tree}")
        .env("SOURCE_DATE_EPOCH", epoch)
        .quiet()
        .ignore_status()
        .output()
        .context("running python -m build")?;
    if !result.status.success() {
        bail!(
            "python -m build failed:\n{}",
            tail(&String::from_utf8_lossy(&result.stderr), &result.stdout)
        );
    }
    Ok(())
}

/// The last lines of a tool's output, redacted, for an error message.
fn tail(stderr: &str, stdout: &[u8]) -> String {
    let all = format!("{}{stderr}", String::from_utf8_lossy(stdout));
    let lines: Vec<&str> = all.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(15);
    secrets::redact(&lines[from..].join("\n"))
}

/// The distributions in `dir` with their sha256, each checked to be
/// `project` at the tag's version.
pub fn dist_files(dir: &Utf8Path, project: &str, tag: &Tag) -> Result<Vec<LocalFile>> {
    let version = tag.pep440();
    let mut files = Vec::new();
    let entries =
        fs::read_dir(dir).with_context(|| format!("reading {dir}: run the build step first"))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {dir}"))?;
        let filename = entry.file_name().to_string_lossy().into_owned();
        if filename.starts_with('.') {
            continue;
        }
        match index::file_version(&filename) {
            Some((name, v)) if name == index::normalize(project) && v == version => {}
            _ => bail!(
                "{dir}/{} is not a {version} distribution of {project}: run the build step \
for this tag again",
                crate::input::clip(&filename)
            ),
        }
        let bytes = fs::read(entry.path()).with_context(|| format!("reading {filename}"))?;
        files.push(LocalFile {
            filename,
            sha256: index::sha256_hex(&bytes),
        });
    }
    if files.is_empty() {
        bail!("{dir} holds no distributions: run the build step first");
    }
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(files)
}

/// Every check of the built files, in one place: their contents (no
/// tooling, nothing git ignores) and `twine check --strict` (metadata and
/// README rendering).
pub fn check(sh: &Shell, python: &Utf8Path, dir: &Utf8Path, files: &[LocalFile]) -> Result<()> {
    // Contents first: tooling or ignored files refuse before any upload.
    let root = Utf8PathBuf::try_from(sh.current_dir()).context("the project directory")?;
    let names: Vec<String> = files.iter().map(|f| f.filename.clone()).collect();
    crate::artifacts::check(sh, &root, dir, &names)?;
    let paths: Vec<Utf8PathBuf> = files.iter().map(|f| dir.join(&f.filename)).collect();
    let result = cmd!(sh, "{python} -m twine --no-color check --strict {paths...}")
        .env("COLUMNS", COLUMNS)
        .quiet()
        .ignore_status()
        .output()
        .context("running twine check")?;
    if !result.status.success() {
        bail!(
            "twine check --strict failed (fix the README or metadata it names):\n{}",
            tail(&String::from_utf8_lossy(&result.stderr), &result.stdout)
        );
    }
    Ok(())
}
