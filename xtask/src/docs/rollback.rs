//! `cargo xtask docs-rollback SERIES`: a series (and versions.json)
//! restored to its state before its last deploy, or `--to` a commit of the
//! docs branch, as a new commit on top (never a force-push). Rolling back
//! what a rollback already undid is a no-op.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use super::guard::guard_docs_branch;
use super::push::{push_docs, reset_local_branch, retry_when_moved, Attempt};
use super::restore::commit_restored;
use super::rollback_plan::{
    after_rollback, deleted_by_rollback, last_deploy, parse_series_log, plan_rollback,
    restored_paths, rollback_message, undid, RollbackPlan, SeriesCommit,
};
use super::show::{dry_run_banner, print_versions, short};
use super::site::{read_ref, read_remote, DocsState, DRY_RUN_REF};
use super::worktree::prune_worktrees;
use crate::docs_versions::{self as versions, DocsVersion, VERSIONS_FILE};
use crate::git::{Git, PrivateRefs};
use crate::input::{clip, BadInput, CLIP};
use crate::settings::Branches;
use crate::ui;
use crate::version::{Series, Tag};

pub struct RollbackOptions {
    pub series: String,
    pub to: Option<String>,
    pub dry_run: bool,
    pub branches: Branches,
}

pub fn rollback(sh: &Shell, root: &Utf8Path, opts: RollbackOptions) -> Result<()> {
    prune_worktrees(sh, root);
    let series = check_arguments(&opts)?;
    if opts.dry_run {
        dry_run_banner();
    }
    let _private = PrivateRefs {
        sh,
        refs: vec![DRY_RUN_REF],
    };
    retry_when_moved(
        &opts.branches,
        "planning the rollback again",
        "rollback",
        |_| rollback_once(sh, &opts, series),
    )
}

/// The series, and a `--to` that cannot be taken for an option.
fn check_arguments(opts: &RollbackOptions) -> Result<Series> {
    if opts.series.chars().count() > CLIP {
        bail!(BadInput(format!(
            "invalid docs series `{}`: expected X.Y or vX.Y (e.g. 0.7)",
            clip(&opts.series)
        )));
    }
    let series = Series::parse(&opts.series)?;
    if let Some(rev) = &opts.to {
        if rev.is_empty() || rev.starts_with('-') || rev.chars().any(char::is_control) {
            bail!(BadInput(format!(
                "--to `{}` is not a commit: expected a commit of the docs branch (see `git log \
{}/{}`)",
                clip(rev),
                opts.branches.remote,
                opts.branches.docs
            )));
        }
    }
    Ok(series)
}

/// What one rollback writes, planned from the site read.
struct Restore {
    /// The series as the site spells it.
    name: String,
    /// The deploy undone (recorded in the commit message).
    undo: String,
    /// The docs commit whose state is restored (`None`: a deletion).
    target: Option<String>,
    /// The paths taken from `target`: the series and the aliases it keeps.
    paths: Vec<String>,
    after: Vec<DocsVersion>,
    message: String,
}

/// One planned rollback; `BranchMoved` when the push lost a race.
fn rollback_once(sh: &Shell, opts: &RollbackOptions, series: Series) -> Result<Attempt> {
    let b = &opts.branches;
    let (state, _) = read_remote(sh, b, &read_ref(b, opts.dry_run), opts.dry_run)?;
    let Some(head) = state.commit.clone() else {
        bail!(BadInput(format!(
            "{}/{} does not exist: nothing to roll back",
            b.remote, b.docs
        )));
    };
    guard_docs_branch(sh, b, Some(&head))?;
    let Some(name) = versions::spelling(&state.versions, series)? else {
        return missing_series(sh, opts, series, &head);
    };
    let Some(restore) = plan_restore(sh, opts, &state, &head, name)? else {
        return Ok(Attempt::Finished);
    };
    print_plan(b, &restore, &state);
    if opts.dry_run {
        ui::would(&format!(
            "commit the restored {}/ and {VERSIONS_FILE} on top of {} and push it to {}/{} (no \
force)",
            restore.name,
            short(&head),
            b.remote,
            b.docs
        ));
        return Ok(Attempt::Finished);
    }
    commit_and_push(sh, b, &head, &restore)
}

/// A series not on the site: nothing to do when a rollback deleted it
/// (rolling back again is a no-op), else bad input.
fn missing_series(
    sh: &Shell,
    opts: &RollbackOptions,
    series: Series,
    head: &str,
) -> Result<Attempt> {
    if opts.to.is_none() {
        for name in [series.to_string(), format!("v{series}")] {
            let history = series_history(sh, head, &name)?;
            if let Some((deploy, by)) = deleted_by_rollback(&history) {
                println!(
                    "{name}: its only deploy {} was rolled back already by {} (the series was \
deleted): nothing to do",
                    short(&deploy),
                    short(&by)
                );
                return Ok(Attempt::Finished);
            }
        }
    }
    let b = &opts.branches;
    bail!(BadInput(format!(
        "series {series} is not on {}/{}: `cargo xtask docs-list` shows what is",
        b.remote, b.docs
    )))
}

/// The deploy undone and the state restored; `None` (said so) when the
/// last deploy was rolled back already.
fn plan_restore(
    sh: &Shell,
    opts: &RollbackOptions,
    state: &DocsState,
    head: &str,
    name: String,
) -> Result<Option<Restore>> {
    let git = Git::new(sh);
    let history = series_history(sh, head, &name)?;
    let (undo, target) = match &opts.to {
        None => match plan_rollback(&name, &history)? {
            RollbackPlan::AlreadyUndone { deploy, by } => {
                println!(
                    "{name}: its last deploy {} was rolled back already by {}: nothing to do \
(pass --to a docs commit to go further back)",
                    short(&deploy),
                    short(&by)
                );
                return Ok(None);
            }
            RollbackPlan::Restore { undo, to } => {
                let to = match to {
                    Some(parent) if entry_at(&git, &parent, &name)?.is_some() => Some(parent),
                    _ => None,
                };
                (undo, to)
            }
        },
        Some(rev) => (
            last_deploy(&history, head),
            check_to(sh, &opts.branches, rev, head, &name, &history)?,
        ),
    };
    let target_entry = match &target {
        Some(t) => entry_at(&git, t, &name)?,
        None => None,
    };
    let after = after_rollback(
        &state.versions,
        target_entry.as_ref(),
        &name,
        state.default.as_deref(),
    )?;
    let current = state.versions.iter().find(|v| v.name == name);
    Ok(Some(Restore {
        paths: restored_paths(&name, current, target_entry.as_ref()),
        message: rollback_message(&name, &undo, target.as_deref()),
        name,
        undo,
        target,
        after,
    }))
}

/// The series's entry in versions.json at `rev`, if it has one.
fn entry_at(git: &Git, rev: &str, name: &str) -> Result<Option<DocsVersion>> {
    Ok(match git.show(rev, VERSIONS_FILE)? {
        Some(json) => versions::parse(&json)?.into_iter().find(|v| v.name == name),
        None => None,
    })
}

fn print_plan(b: &Branches, restore: &Restore, state: &DocsState) {
    let (name, undo) = (&restore.name, &restore.undo);
    match &restore.target {
        Some(t) => println!(
            "==> plan: restore {name} on {}/{} to its state at {} (undoing {})",
            b.remote,
            b.docs,
            short(t),
            short(undo)
        ),
        None => println!(
            "==> plan: delete {name} from {}/{}: this is a deletion, it did not exist before \
its only deploy {}",
            b.remote,
            b.docs,
            short(undo)
        ),
    }
    print_versions(&restore.after, state.default.as_deref());
}

fn commit_and_push(sh: &Shell, b: &Branches, head: &str, restore: &Restore) -> Result<Attempt> {
    let name = &restore.name;
    let Some(new) = commit_restored(
        sh,
        head,
        restore.target.as_deref(),
        &restore.paths,
        &restore.after,
        &restore.message,
    )?
    else {
        println!("{name} is already in that state: nothing to commit");
        return Ok(Attempt::Finished);
    };
    reset_local_branch(sh, b, Some(&new))?;
    if !push_docs(sh, b, &new)? {
        return Ok(Attempt::BranchMoved);
    }
    println!(
        "rolled back {name} on {}/{}: {}",
        b.remote,
        b.docs,
        restore.message.lines().next().unwrap_or_default()
    );
    Ok(Attempt::Finished)
}

/// The commits of `head`'s history that changed `name/`, newest first.
fn series_history(sh: &Shell, head: &str, name: &str) -> Result<Vec<SeriesCommit>> {
    let format = "--format=%H%x1f%P%x1f%B%x1e";
    let out = cmd!(sh, "git log {format} {head} -- {name}")
        .quiet()
        .read()
        .with_context(|| format!("reading the deploys of {name}"))?;
    Ok(parse_series_log(&out))
}

/// Checks `--to REV`: a commit of the docs branch's history where the
/// series existed, or, for a series deployed once, a state before that
/// deploy (`None`: a deletion).
fn check_to(
    sh: &Shell,
    b: &Branches,
    rev: &str,
    head: &str,
    name: &str,
    history: &[SeriesCommit],
) -> Result<Option<String>> {
    let git = Git::new(sh);
    let shown = clip(rev);
    let docs = format!("{}/{}", b.remote, b.docs);
    // A release tag names a release-branch commit, never a docs state.
    let is_tag =
        Tag::from_git(rev).is_some() && git.commit_of(&format!("refs/tags/{rev}"))?.is_some();
    let Some(commit) = git.commit_of(rev)? else {
        bail!(BadInput(format!(
            "--to {shown} is not a commit of this repository: expected a commit of {docs} \
(see `git log {docs}`)"
        )));
    };
    if is_tag || !git.is_ancestor(&commit, head)? {
        let what = if is_tag {
            "a release tag".to_string()
        } else if rev == b.root {
            "the release branch".to_string()
        } else {
            "not in its history".to_string()
        };
        bail!(BadInput(format!(
            "--to {shown} is not a commit of {docs} ({what}): a rollback restores a state of \
the docs branch itself; pick one from `git log --oneline {docs} -- {name}`"
        )));
    }
    if entry_at(&git, &commit, name)?.is_some() {
        return Ok(Some(commit));
    }
    if before_only_deploy(&git, &commit, history)? {
        return Ok(None);
    }
    bail!(BadInput(format!(
        "{name} does not exist at --to {shown} ({}): pick a commit of {docs} where it did, from \
`git log --oneline {docs} -- {name}`",
        short(&commit)
    )))
}

/// Whether `commit` is a state before the one deploy of a series deployed
/// once (rolling back to it deletes the series).
fn before_only_deploy(git: &Git, commit: &str, history: &[SeriesCommit]) -> Result<bool> {
    let deploys: Vec<&SeriesCommit> = history
        .iter()
        .filter(|c| undid(&c.message).is_none())
        .collect();
    if let [only] = deploys.as_slice() {
        if only.commit != commit && git.is_ancestor(commit, &only.commit)? {
            return Ok(true);
        }
    }
    Ok(false)
}
