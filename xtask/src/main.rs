//! `cargo xtask`: the release and docs tooling of mindoff-dataport.
//!
//! This file only dispatches. Each command lives in its own module; pure
//! values, text edits and decisions live in modules of their own.

mod changelog;
mod docs;
mod docs_versions;
mod flags;
mod git;
mod github;
mod index;
mod pr;
mod pr_rules;
mod pyproject;
mod rehearse;
mod release;
mod release_rollback;
mod status;
mod tagging;
mod testing;
mod tools;
mod ui;
mod version;

use std::fmt;
use std::process::ExitCode;

use anyhow::{Context, Result};
use camino::Utf8PathBuf;
use xshell::{cmd, Shell};

/// A refusal caused by the caller's input: exit code 2, nothing changed.
#[derive(Debug, PartialEq, Eq)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

fn main() -> ExitCode {
    let invocation = match flags::parse(std::env::args_os().skip(1)) {
        Ok(invocation) => invocation,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let parsed = match invocation {
        flags::Invocation::Help(text) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        flags::Invocation::Run(parsed) => parsed,
    };
    match run(parsed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(args: flags::Parsed) -> Result<()> {
    let sh = Shell::new().context("starting the command runner")?;
    let root = project_root(&sh)?;
    sh.change_dir(&root);
    // The remote and branch options, with their defaults, in one place.
    let b = docs::Branches {
        remote: args.value("remote").unwrap_or("origin").to_string(),
        root: args.value("root-branch").unwrap_or("root").to_string(),
        docs: args.value("docs-branch").unwrap_or("docs").to_string(),
    };
    match args.command {
        "changelog-add" => pr::changelog_add(
            &sh,
            &root,
            pr::AddOptions {
                pr: pr::PullRequest::from_args(&sh, &args)?,
                commit: args.switch("commit"),
                dry_run: args.switch("dry-run"),
                remote: b.remote.clone(),
                branch: b.root.clone(),
            },
        ),
        "lint-pr" => match pr::PullRequest::from_args(&sh, &args)? {
            Some(pull) => pr::lint(&pull),
            None => Err(BadInput("lint-pr needs a pull_request event or --title".into()).into()),
        },
        "docs-deploy" => docs::deploy(
            &sh,
            &root,
            docs::DeployOptions {
                target: args.positionals[0].clone(),
                dry_run: args.switch("dry-run"),
                from_tree: args.switch("from-tree"),
                branches: b.clone(),
            },
        ),
        "docs-list" => docs::list(&sh, &b),
        "release-rollback" => release_rollback::run(
            &sh,
            &root,
            release_rollback::Options {
                tag: version::Tag::parse(&args.positionals[0])?,
                delete_tag: args.switch("delete-tag"),
                yes: args.switch("yes"),
                wait: args.switch("wait"),
                dry_run: args.switch("dry-run"),
                remote: b.remote.clone(),
            },
        ),
        "status" => status::run(
            &sh,
            &root,
            status::Options {
                json: args.switch("json"),
                branches: b.clone(),
            },
        ),
        "docs-rollback" => docs::rollback(
            &sh,
            &root,
            docs::RollbackOptions {
                series: args.positionals[0].clone(),
                to: args.value("to").map(str::to_string),
                dry_run: args.switch("dry-run"),
                branches: b.clone(),
            },
        ),
        "tools" => tools::run(&sh, &root, args.values("group"), args.switch("reinstall")),
        "test" => testing::run(&sh, &root, &args.positionals),
        "release" => release::run(
            &sh,
            &root,
            release::Options {
                tag: version::Tag::parse(&args.positionals[0])?,
                step: args.value("step").map(str::to_string),
                dry_run: args.switch("dry-run"),
                remote: b.remote.clone(),
                branch: b.root.clone(),
            },
        ),
        "rehearse" => rehearse::run(
            &sh,
            &root,
            rehearse::Options {
                tag: args
                    .positionals
                    .first()
                    .map(|t| version::Tag::parse(t))
                    .transpose()?,
                keep: args.switch("keep"),
            },
        ),
        "tag" => tagging::run(
            &sh,
            &root,
            tagging::Options {
                tag: version::Tag::parse(&args.positionals[0])?,
                github_release: args.switch("github-release"),
                dry_run: args.switch("dry-run"),
                remote: b.remote.clone(),
                branch: b.root.clone(),
            },
        ),
        other => unreachable!("command `{other}` is in the table but not dispatched"),
    }
}

/// Reads a file of the project, saying which one failed.
pub fn read(root: &camino::Utf8Path, file: &str) -> Result<String> {
    let path = root.join(file);
    std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))
}

/// The git top level of the current directory, so every command works on
/// any clone of the repository.
fn project_root(sh: &Shell) -> Result<Utf8PathBuf> {
    let top = cmd!(sh, "git rev-parse --show-toplevel")
        .quiet()
        .ignore_stderr()
        .read()
        .map_err(|_| {
            BadInput(
                "not inside a git repository: run cargo xtask from a clone of mindoff-dataport"
                    .into(),
            )
        })?;
    Ok(Utf8PathBuf::from(top))
}
