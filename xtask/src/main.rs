//! `cargo xtask`: the release and docs tooling of mindoff-dataport.
//!
//! This file only dispatches. Each command lives in its own module; pure
//! values, text edits and decisions live in modules of their own.

mod artifacts;
mod bounded;
mod changelog;
mod docs;
mod docs_versions;
mod flags;
mod git;
mod github;
mod http;
mod index;
mod input;
mod pr;
mod pr_rules;
mod preflight;
mod preflight_rules;
mod pypirc;
mod pyproject;
mod rehearse;
mod release;
mod release_commit;
mod release_rollback;
mod release_rules;
mod secrets;
mod settings;
mod simple_index;
mod status;
mod tagged_build;
mod tagging;
mod testing;
mod tools;
mod ui;
mod version;

use std::process::ExitCode;

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use input::BadInput;

fn main() -> ExitCode {
    // Before anything else (one thread yet): the Actions ID-token request
    // leaves the environment, so no child process inherits it.
    github::capture_token_request();
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
            // The message may quote a caller's or an event's text.
            eprintln!(
                "error: {}",
                github::inert(&secrets::redact(&format!("{err:#}")))
            );
            if input::is_bad_input(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(args: flags::Parsed) -> Result<()> {
    let sh = Shell::new().context("starting the command runner")?;
    secrets::register_env(&sh);
    let root = project_root(&sh)?;
    sh.change_dir(&root);
    let settings = checked_settings(&sh, &root, &args)?;
    let upload_timeout = index_environment(&sh, &root, &args)?;
    // `release --require-release-event`: read by github::check_release.
    if args.switch("require-release-event") {
        sh.set_var(github::REQUIRE_RELEASE_EVENT, "true");
    }
    dispatch(&sh, &root, &args, settings, upload_timeout)
}

/// Settings in one place: [tool.xtask], then flags; every name checked
/// before any git call.
fn checked_settings(
    sh: &Shell,
    root: &Utf8Path,
    args: &flags::Parsed,
) -> Result<settings::Settings> {
    let pyproject = std::fs::read_to_string(root.join(pyproject::FILE)).ok();
    let settings = settings::resolve(
        pyproject.as_deref(),
        &settings::Overrides {
            remote: args.value("remote").map(str::to_string),
            root_branch: args.value("root-branch").map(str::to_string),
            docs_branch: args.value("docs-branch").map(str::to_string),
        },
    )?;
    if takes(args, "remote") {
        settings::require_remote(sh, &settings.branches.remote)?;
    }
    // A release branch named explicitly (flag or setting) must exist on the
    // remote; the default `root` missing is the commands' own finding (with
    // how to configure another).
    let named_root = args.value("root-branch").is_some()
        || settings.branches.root != settings::Settings::default().branches.root;
    if takes(args, "root-branch") && named_root {
        settings::require_branch(sh, &settings.branches.remote, &settings.branches.root)?;
    }
    // These read the history between tags and the release branch.
    if ["release", "tag", "status", "preflight"].contains(&args.command) {
        git::Git::new(sh).require_full_history(args.command, &settings.branches.remote)?;
    }
    Ok(settings)
}

/// The command declares this flag.
fn takes(args: &flags::Parsed, flag: &str) -> bool {
    flags::find(args.command).is_some_and(|c| c.flags.iter().any(|f| f.name == flag))
}

/// Twine's environment from the flags, and how long an upload may take.
fn index_environment(
    sh: &Shell,
    root: &Utf8Path,
    args: &flags::Parsed,
) -> Result<std::time::Duration> {
    // The index as twine chooses it: flags stand for twine's variables,
    // which the twine run here reads too.
    for (flag, var) in [
        ("repository", "TWINE_REPOSITORY"),
        ("repository-url", "TWINE_REPOSITORY_URL"),
        ("config-file", index::CONFIG_FILE_VAR),
    ] {
        if let Some(value) = args.value(flag) {
            sh.set_var(var, value);
        }
    }
    secrets::register_env(sh);
    bound_git_transfers(sh);
    // An unknown repository or unreadable config file is bad input before
    // anything else is read or changed.
    if takes(args, "repository") {
        index::IndexConfig::from_env(sh, root)?;
    }
    let upload_timeout = args
        .value("upload-timeout")
        .map(str::to_string)
        .or_else(|| sh.var("XTASK_UPLOAD_TIMEOUT").ok());
    match upload_timeout {
        Some(value) => Ok(release_rules::parse_timeout("--upload-timeout", &value)?),
        None => Ok(release::UPLOAD_TIMEOUT),
    }
}

/// Each command with the options it takes.
fn dispatch(
    sh: &Shell,
    root: &Utf8Path,
    args: &flags::Parsed,
    settings: settings::Settings,
    upload_timeout: std::time::Duration,
) -> Result<()> {
    let b = settings.branches.clone();
    match args.command {
        "changelog-add" => pr::changelog_add(
            sh,
            root,
            pr::AddOptions {
                pr: pr::PullRequest::from_args(sh, args)?,
                commit: args.switch("commit"),
                dry_run: args.switch("dry-run"),
                remote: b.remote.clone(),
                branch: b.root.clone(),
                style: settings.changelog,
            },
        ),
        "lint-pr" => match pr::PullRequest::from_args(sh, args)? {
            Some(pull) => pr::lint(&pull),
            None => Err(BadInput("lint-pr needs a pull_request event or --title".into()).into()),
        },
        "docs-deploy" => docs::deploy(
            sh,
            root,
            docs::DeployOptions {
                target: args.positionals[0].clone(),
                dry_run: args.switch("dry-run"),
                from_tree: args.switch("from-tree"),
                unreleased: args.switch("unreleased"),
                branches: b.clone(),
                alias_type: settings.alias_type,
                spelling: settings.docs_spelling,
            },
        ),
        "docs-list" => docs::list(sh, root, &b),
        "release-rollback" => release_rollback::run(
            sh,
            root,
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
            sh,
            root,
            status::Options {
                json: args.switch("json"),
                branches: b.clone(),
            },
        ),
        "docs-rollback" => docs::rollback(
            sh,
            root,
            docs::RollbackOptions {
                series: args.positionals[0].clone(),
                to: args.value("to").map(str::to_string),
                dry_run: args.switch("dry-run"),
                branches: b.clone(),
            },
        ),
        "tools" => tools::run(sh, root, args.values("group"), args.switch("reinstall")),
        "test" => testing::run(sh, root, &args.positionals),
        "release" => release::run(sh, root, release_options(args, &b, upload_timeout)?),
        "rehearse" => rehearse::run(sh, root, rehearse_options(args, &settings, upload_timeout)?),
        "preflight" => preflight::run(
            sh,
            root,
            preflight::Options {
                tag: args
                    .positionals
                    .first()
                    .map(|t| version::Tag::parse(t))
                    .transpose()?,
                remote: b.remote.clone(),
            },
        ),
        "tag" => tagging::run(
            sh,
            root,
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

fn release_options(
    args: &flags::Parsed,
    b: &settings::Branches,
    upload_timeout: std::time::Duration,
) -> Result<release::Options> {
    Ok(release::Options {
        tag: version::Tag::parse(&args.positionals[0])?,
        step: args
            .value("step")
            .map(release::Step::from_arg)
            .transpose()?,
        dry_run: args.switch("dry-run"),
        remote: b.remote.clone(),
        branch: b.root.clone(),
        dist: args.value("dist").map(Utf8PathBuf::from),
        expect_sha256: args
            .value("expect-sha256")
            .map(release_rules::parse_sha_list)
            .transpose()?,
        upload_timeout,
    })
}

fn rehearse_options(
    args: &flags::Parsed,
    settings: &settings::Settings,
    upload_timeout: std::time::Duration,
) -> Result<rehearse::Options> {
    Ok(rehearse::Options {
        tag: args
            .positionals
            .first()
            .map(|t| version::Tag::parse(t))
            .transpose()?,
        keep: args.switch("keep"),
        port: args.value("port").map(rehearse::parse_port).transpose()?,
        find_links: args.value("find-links").map(Utf8PathBuf::from),
        upload_timeout,
        branches: settings.branches.clone(),
        style: settings.changelog,
    })
}

/// A git transfer that stalls (an HTTP remote that stops answering) ends
/// instead of waiting forever: below 1 byte/s for 60 s, unless the caller
/// set these already.
fn bound_git_transfers(sh: &Shell) {
    for (var, value) in [
        ("GIT_HTTP_LOW_SPEED_LIMIT", "1"),
        ("GIT_HTTP_LOW_SPEED_TIME", "60"),
    ] {
        if sh.var(var).is_err() {
            sh.set_var(var, value);
        }
    }
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
