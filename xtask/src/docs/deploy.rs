//! `cargo xtask docs-deploy SERIES`: checks, then for each attempt a plan
//! from the remote docs branch, mike run on a local branch set to exactly
//! that state, and one push of the result (planned again on top when the
//! branch moved meanwhile). A dry run prints the plan and the mike calls.

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use super::deploy_checks::{check_deploy, Checked, RELEASE_REF};
use super::deploy_plan::{plan_attempt, Planned, Source};
use super::guard::guard_docs_branch;
use super::push::{push_docs, reset_local_branch, retry_when_moved, Attempt};
use super::restore::commit_restored;
use super::show::{dry_run_banner, print_versions, short};
use super::site::{read_ref, read_remote, DocsState, DRY_RUN_REF};
use super::worktree::{prune_worktrees, Worktree};
use crate::docs_versions::{self as versions, DocsVersion, Mark, LATEST};
use crate::git::{Git, PrivateRefs};
use crate::github;
use crate::settings::{AliasType, Branches, SeriesSpelling};
use crate::tools::{Group, Tools};
use crate::ui::{self, Steps};
use crate::version::Series;

pub struct DeployOptions {
    pub target: String,
    pub dry_run: bool,
    pub from_tree: bool,
    pub unreleased: bool,
    pub branches: Branches,
    /// The alias type and spelling of an empty site.
    pub alias_type: AliasType,
    pub spelling: SeriesSpelling,
}

pub fn deploy(sh: &Shell, root: &Utf8Path, opts: DeployOptions) -> Result<()> {
    prune_worktrees(sh, root);
    let source = Source::parse(&opts.target)?;
    if opts.dry_run {
        dry_run_banner();
    }
    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = deploy_steps(sh, root, &opts, &source, &mut steps);
    steps.summary();
    result
}

/// What every attempt of one deploy shares.
struct Deploying<'a> {
    sh: &'a Shell,
    opts: &'a DeployOptions,
    /// The managed tools (none in a dry run, which runs no mike).
    tools: Option<&'a Tools>,
    /// Where mike builds: the working tree or the release commit's worktree.
    build_dir: &'a Utf8Path,
}

fn deploy_steps(
    sh: &Shell,
    root: &Utf8Path,
    opts: &DeployOptions,
    source: &Source,
    steps: &mut Steps,
) -> Result<()> {
    let b = &opts.branches;
    let series = source.series();
    let read_ref = read_ref(b, opts.dry_run);
    let _private = PrivateRefs {
        sh,
        refs: vec![DRY_RUN_REF, RELEASE_REF],
    };
    let mut checked =
        steps.run_value("checks", || check_deploy(sh, root, opts, source, &read_ref))?;
    let tools = if opts.dry_run {
        None
    } else {
        Some(Tools::ensure_group(sh, root, Group::Docs)?)
    };
    let worktree = match &checked.build_rev {
        Some(commit) if !opts.dry_run => Some(Worktree::add(sh, root, "docs-build", commit)?),
        _ => None,
    };
    let deploying = Deploying {
        sh,
        opts,
        tools: tools.as_ref(),
        build_dir: worktree.as_ref().map_or(root, |w| w.path.as_path()),
    };
    retry_when_moved(
        b,
        "planning and deploying again on top",
        "command",
        |attempt| {
            if attempt > 1 {
                checked.state = read_remote(sh, b, &read_ref, opts.dry_run)?.0;
                guard_docs_branch(sh, b, checked.state.commit.as_deref())?;
            }
            deploy_once(&deploying, &checked, series, steps)
        },
    )
}

/// Plans from the site read and carries the plan out (or, in a dry run,
/// prints what carrying it out would do).
fn deploy_once(
    ctx: &Deploying,
    checked: &Checked,
    series: Series,
    steps: &mut Steps,
) -> Result<Attempt> {
    let state = &checked.state;
    let planned = plan_attempt(state, ctx.opts, series, &checked.released)?;
    print_plan(ctx.opts, state, &planned);
    if ctx.opts.dry_run {
        print_dry_run(ctx, &planned);
        return Ok(Attempt::Finished);
    }
    run_planned(ctx, state, &planned, steps)
}

fn print_plan(opts: &DeployOptions, state: &DocsState, planned: &Planned) {
    let (remote, docs) = (&opts.branches.remote, &opts.branches.docs);
    let plan = &planned.plan;
    println!(
        "==> plan: deploy {} to {remote}/{docs}{}",
        plan.name,
        match &state.commit {
            Some(c) => format!(" (now at {})", short(c)),
            None =>
                " (no such branch yet: it is created holding only what is listed below)".to_string(),
        }
    );
    println!("    {}", plan.latest_note());
    if plan.mark == Mark::Set {
        println!(
            "    {} is marked unreleased: it gets no `{LATEST}` until it is released",
            plan.name
        );
    }
    println!(
        "    aliases are {}s ({})",
        planned.kind.as_mike(),
        if state.aliases.is_empty() {
            format!(
                "the setting for a site without aliases: {}",
                opts.alias_type.as_mike()
            )
        } else {
            "the type the site's aliases have".to_string()
        }
    );
    print_versions(&plan.after, planned.default_after(state));
}

fn print_dry_run(ctx: &Deploying, planned: &Planned) {
    let (remote, docs) = (&ctx.opts.branches.remote, &ctx.opts.branches.docs);
    if planned.repaired_versions.is_some() {
        ui::would(&format!(
            "commit a versions.json on {docs} that lists each alias on one version only (mike \
refuses to read one alias on two versions)"
        ));
    }
    let calls = &planned.calls;
    ui::would(&format!(
        "run `mike {}` in {}",
        calls.deploy.join(" "),
        ctx.build_dir
    ));
    for args in calls.repair.iter().chain(&calls.set_default) {
        ui::would(&format!("run `mike {}`", args.join(" ")));
    }
    ui::would(&format!(
        "push the result to {remote}/{docs} (no force) and check the remote holds it"
    ));
    println!(
        "    versions.json after:\n{}",
        versions::render(&planned.plan.after)
    );
}

/// mike commits on the local branch set to the state planned from; the
/// result is pushed once.
fn run_planned(
    ctx: &Deploying,
    state: &DocsState,
    planned: &Planned,
    steps: &mut Steps,
) -> Result<Attempt> {
    let (sh, b) = (ctx.sh, &ctx.opts.branches);
    let docs = &b.docs;
    let tools = ctx.tools.context("the managed tools are installed")?;
    let base = state.commit.clone();
    reset_local_branch(sh, b, base.as_deref())?;
    // mike refuses to read a versions.json that lists one alias on two
    // versions: keep each on one holder first (the plan then moves
    // `latest-release` where it belongs).
    if let (Some(head), Some(fixed)) = (&base, &planned.repaired_versions) {
        repair_versions_json(sh, docs, head, fixed, steps)?;
    }
    run_mike(ctx, tools, planned, &base, steps)?;
    let Some(new) = Git::new(sh).commit_of(&format!("refs/heads/{docs}"))? else {
        bail!("mike left no {docs} branch");
    };
    if Some(&new) == base.as_ref() {
        println!("{} unchanged: nothing to push", planned.plan.name);
        return Ok(Attempt::Finished);
    }
    push_deployed(sh, b, planned, &new, steps)
}

fn repair_versions_json(
    sh: &Shell,
    docs: &str,
    head: &str,
    fixed: &[DocsVersion],
    steps: &mut Steps,
) -> Result<()> {
    steps.run("repair versions.json", || {
        let message = "Keep each docs alias on one version in versions.json";
        if let Some(new) = commit_restored(sh, head, None, &[], fixed, message)
            .context("repairing versions.json before mike runs")?
        {
            let local = format!("refs/heads/{docs}");
            cmd!(sh, "git update-ref {local} {new}").quiet().run()?;
        }
        Ok("each alias listed on one version only".to_string())
    })
}

/// The planned mike calls, each a step, in the build directory.
fn run_mike(
    ctx: &Deploying,
    tools: &Tools,
    planned: &Planned,
    base: &Option<String>,
    steps: &mut Steps,
) -> Result<()> {
    let sh = ctx.sh;
    let git = Git::new(sh);
    let (plan, calls) = (&planned.plan, &planned.calls);
    let local = format!("refs/heads/{}", ctx.opts.branches.docs);
    let (mike, path) = (tools.bin("mike"), tools.path_env());
    let mike_run = |args: &[String]| -> Result<()> {
        let _dir = sh.push_dir(ctx.build_dir);
        cmd!(sh, "{mike} {args...}")
            .env("PATH", &path)
            .run()
            .with_context(|| format!("mike {}", args.first().map_or("", String::as_str)))
    };
    steps.run(&format!("mike deploy {}", plan.name), || {
        mike_run(&calls.deploy)?;
        let now = git.commit_of(&local)?;
        Ok(if now == *base {
            format!("{} built; nothing changed", plan.name)
        } else {
            format!("{} built and committed", plan.name)
        })
    })?;
    if let Some(args) = &calls.repair {
        steps.run(&format!("repair {LATEST}"), || {
            mike_run(args)?;
            Ok(plan.latest_note())
        })?;
    }
    if let Some(args) = &calls.set_default {
        steps.run("mike set-default", || {
            mike_run(args)?;
            Ok(format!("site default is {LATEST}"))
        })?;
    }
    Ok(())
}

/// Pushes the deployed commit; `BranchMoved` when the remote moved first.
fn push_deployed(
    sh: &Shell,
    b: &Branches,
    planned: &Planned,
    new: &str,
    steps: &mut Steps,
) -> Result<Attempt> {
    let (remote, docs) = (&b.remote, &b.docs);
    let landed = steps.run_value(&format!("push {remote}/{docs}"), || {
        let landed = push_docs(sh, b, new)?;
        Ok((
            if landed {
                format!("{remote}/{docs} is {}", short(new))
            } else {
                "refused: the branch moved meanwhile".to_string()
            },
            landed,
        ))
    })?;
    if !landed {
        return Ok(Attempt::BranchMoved);
    }
    println!(
        "{} pushed to {remote}/{docs}; {}",
        planned.plan.name,
        planned.plan.latest_note()
    );
    Ok(Attempt::Finished)
}
