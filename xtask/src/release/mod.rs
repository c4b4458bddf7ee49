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
//!
//! This file holds the context every step shares and the driver; each step
//! is a file of its own, listed once in [`STEPS`].

mod build;
mod changelog;
mod check;
mod commits;
mod lock;
mod publish;
mod revert;
mod uploads;
mod validate;
mod verify;
mod version;

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::Shell;

use crate::git::{self, Git};
use crate::github;
use crate::index::{IndexConfig, IndexFile, LocalFile};
use crate::input::{clip, read, BadInput};
use crate::pyproject;
use crate::release_rules;
use crate::secrets;
use crate::tagged_build::{self, Built};
use crate::tools::{Group, Tools};
use crate::ui::Steps;
use crate::version::Tag;

pub use commits::check_on_branch;
pub use validate::known_versions;

/// One step of the pipeline: its `--step` name and what it runs (the
/// step's one-line outcome).
pub struct Step {
    pub name: &'static str,
    run: fn(&mut Release<'_>) -> Result<String>,
}

/// Every step, in pipeline order. The last, `revert`, runs only on failure.
const STEPS: &[Step] = &[
    Step {
        name: "validate",
        run: |r| r.validate(),
    },
    Step {
        name: "changelog",
        run: |r| r.changelog(),
    },
    Step {
        name: "version",
        run: |r| r.version(),
    },
    Step {
        name: "build",
        run: |r| r.build(),
    },
    Step {
        name: "check",
        run: |r| r.check(),
    },
    Step {
        name: "publish",
        run: |r| r.publish(),
    },
    Step {
        name: "verify",
        run: |r| r.verify(),
    },
    Step {
        name: "revert",
        run: |r| r.revert(),
    },
];

impl Step {
    /// Every step but the last (`revert`), in order.
    const PIPELINE: &'static [Step] = match STEPS.split_last() {
        Some((_, pipeline)) => pipeline,
        None => &[],
    };
    const REVERT: &'static Step = match STEPS.split_last() {
        Some((revert, _)) => revert,
        None => panic!("the step list is empty"),
    };

    pub fn parse(name: &str) -> Option<&'static Step> {
        STEPS.iter().find(|s| s.name == name)
    }

    /// `--step NAME`, or bad input listing the names.
    pub fn from_arg(name: &str) -> Result<&'static Step, BadInput> {
        Step::parse(name).ok_or_else(|| {
            BadInput(format!(
                "unknown step `{}`: expected one of {}",
                clip(name),
                STEPS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            ))
        })
    }
}

/// The `--step` flag's help in `flags`, naming the steps of [`STEPS`].
pub const STEP_FLAG_HELP: &str = match std::str::from_utf8(&STEP_FLAG_HELP_BYTES) {
    Ok(text) => text,
    Err(_) => panic!("step names are UTF-8"),
};

const STEP_FLAG_HELP_START: &str = "run one step alone: ";
const STEP_NAME_SEPARATOR: &str = ", ";

// A const string joined from the table: flags' command list is a const.
const STEP_FLAG_HELP_BYTES: [u8; STEP_FLAG_HELP_LEN] = {
    let mut out = [0; STEP_FLAG_HELP_LEN];
    let mut at = put(&mut out, 0, STEP_FLAG_HELP_START);
    let mut i = 0;
    while i < STEPS.len() {
        if i > 0 {
            at = put(&mut out, at, STEP_NAME_SEPARATOR);
        }
        at = put(&mut out, at, STEPS[i].name);
        i += 1;
    }
    out
};

const STEP_FLAG_HELP_LEN: usize = {
    let mut len = STEP_FLAG_HELP_START.len();
    let mut i = 0;
    while i < STEPS.len() {
        if i > 0 {
            len += STEP_NAME_SEPARATOR.len();
        }
        len += STEPS[i].name.len();
        i += 1;
    }
    len
};

/// Copies `text` into `out` at `at`; returns where it ends.
const fn put<const N: usize>(out: &mut [u8; N], at: usize, text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        out[at + i] = bytes[i];
        i += 1;
    }
    at + bytes.len()
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
    pub step: Option<&'static Step>,
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
    /// What validate concluded; the rest of the pipeline runs only on
    /// `Proceed`.
    verdict: Verdict,
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
        verdict: Verdict::Proceed,
        uploaded: false,
        made_by_earlier_run: None,
        outputs: Vec::new(),
    };
    let _lock = if release.opts.dry_run {
        None
    } else {
        Some(lock::ReleaseLock::acquire(sh)?)
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
        Some(step) => release.run_step(&mut steps, step),
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

    /// Whether this run is `--step NAME` alone.
    fn running_alone(&self, name: &str) -> bool {
        self.opts.step.is_some_and(|s| s.name == name)
    }

    fn run_step(&mut self, steps: &mut Steps, step: &Step) -> Result<()> {
        steps.run(step.name, || (step.run)(self))
    }

    fn run_all(&mut self, steps: &mut Steps) -> Result<()> {
        let (validate, rest) = Step::PIPELINE
            .split_first()
            .context("the pipeline has no steps")?;
        self.run_step(steps, validate)?;
        if let Verdict::AlreadyReleased = self.verdict {
            return Ok(());
        }
        for step in rest {
            if let Err(err) = self.run_step(steps, step) {
                return Err(self.after_failure(steps, step, err));
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

    /// A step of the pipeline failed: revert, unless the version may be
    /// published (then the way to resume), and say which step stopped it.
    fn after_failure(
        &mut self,
        steps: &mut Steps,
        step: &Step,
        err: anyhow::Error,
    ) -> anyhow::Error {
        if self.opts.dry_run {
            return err;
        }
        eprintln!(
            "error in {}: {}",
            step.name,
            secrets::redact(&format!("{err:#}"))
        );
        if self.uploaded {
            // Published means published: never revert, resume.
            return err.context(format!(
                "release {tag} stopped at the {} step after uploading: not reverted. \
Resume with `cargo xtask release {tag}`",
                step.name,
                tag = self.tag()
            ));
        }
        if let Some(commit) = &self.made_by_earlier_run {
            return err.context(format!(
                "release {tag} failed at the {} step: not reverted. Its release commit \
{} was made by an earlier run, whose upload may have reached the index without being listed \
yet (the index is the only record, and it can list late). Fix the fault and resume with \
`cargo xtask release {tag}`; only if no run ever uploaded {tag}, `cargo xtask release {tag} \
--step revert`",
                step.name,
                short(commit),
                tag = self.tag()
            ));
        }
        if let Err(revert_err) = self.run_step(steps, Step::REVERT) {
            eprintln!("revert: {}", secrets::redact(&format!("{revert_err:#}")));
        }
        err.context(format!(
            "release {} failed at the {} step",
            self.tag(),
            step.name
        ))
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
}

/// Whether an error is the caller's input (exit 2), not a passing fault.
fn input_refusal(err: &anyhow::Error) -> bool {
    crate::input::is_bad_input(err)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip_their_names() {
        for step in STEPS {
            assert_eq!(Step::parse(step.name).map(|s| s.name), Some(step.name));
        }
        assert!(is_step("verify") && is_step("revert") && !is_step("deploy"));
        assert_eq!(Step::PIPELINE.first().map(|s| s.name), Some("validate"));
        assert_eq!(Step::PIPELINE.last().map(|s| s.name), Some("verify"));
        assert_eq!(Step::REVERT.name, "revert");
        assert!(!Step::PIPELINE.iter().any(|s| s.name == "revert"));
        let err = Step::from_arg("deploy")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains("validate, changelog"), "{err}");
        assert_eq!(
            STEP_FLAG_HELP,
            "run one step alone: validate, changelog, version, build, check, publish, verify, revert"
        );
    }
}
