//! `cargo xtask docs-deploy`, `docs-list` and `docs-rollback`: versioned
//! docs with mike on the docs branch, with the rules mike does not enforce:
//! the site's own spelling and alias type, only released series,
//! `latest-release` on the newest one, the remote exactly as planned, and
//! no history rewrite.
//!
//! Every command reads the remote docs branch first (`ls-remote` is the
//! truth; a stale tracking ref is pruned), plans from it, and lets mike
//! commit on the local docs branch without pushing; the xtask pushes the
//! result once and checks that the remote holds exactly that commit.

use std::fs;

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::docs_versions::{
    self as versions, AliasKind, DeployInput, DocsVersion, Mark, RollbackPlan, SeriesCommit,
    LATEST, UNRELEASED, VERSIONS_FILE,
};
use crate::git::{Git, PrivateRefs};
use crate::github;
use crate::input::{clip, CLIP};
use crate::pyproject;
use crate::release_commit;
use crate::settings::{AliasType, SeriesSpelling};
use crate::tools::{Group, Tools};
use crate::ui::{self, Steps};
use crate::version::{Series, Tag};
use crate::BadInput;

const PUSH_ATTEMPTS: usize = 3;
/// Where a dry run reads the remote docs branch: never a ref the user has.
const DRY_RUN_REF: &str = "refs/xtask/dry-run/docs";
/// Where the remote release branch is read to find a release commit.
const RELEASE_REF: &str = "refs/xtask/release-branch";

pub use crate::settings::Branches;

/// What a SERIES argument names: a series built from the working tree, or
/// a release whose release commit is built.
enum Source {
    Tree(Series),
    Tag(Tag),
}

impl Source {
    fn parse(input: &str) -> Result<Source, BadInput> {
        if input.chars().count() > CLIP {
            return Err(BadInput(format!(
                "invalid docs series `{}`: expected X.Y, vX.Y, X.Y.Z or a tag vX.Y.Z (e.g. 0.7 \
or v0.7.3)",
                clip(input)
            )));
        }
        // `vX.Y.Z` is a tag; `X.Y`, `vX.Y` and `X.Y.Z` name a series.
        if input.starts_with('v') && input.matches('.').count() == 2 {
            return Tag::parse(input).map(Source::Tag);
        }
        Series::parse(input).map(Source::Tree)
    }

    fn series(&self) -> Series {
        match self {
            Source::Tree(s) => *s,
            Source::Tag(t) => t.series(),
        }
    }
}

/// The docs site at one commit of the docs branch.
#[derive(Clone, Debug, Default)]
pub struct DocsState {
    pub commit: Option<String>,
    pub versions: Vec<DocsVersion>,
    pub default: Option<String>,
    /// Each alias path and how mike made it.
    pub aliases: Vec<(String, AliasKind)>,
}

/// The remote docs branch (fetched into its tracking ref), for `status`.
pub fn read_docs(git: &Git, branches: &Branches, fetch: bool) -> Result<DocsState> {
    let docs_ref = branches.docs_ref();
    if fetch {
        if !git.remote_has_branch(&branches.remote, &branches.docs)? {
            return Ok(DocsState::default());
        }
        git.fetch_branch(&branches.remote, &branches.docs)?;
    }
    let commit = git.commit_of(&docs_ref)?;
    read_state(git, commit, branches)
}

/// The site at `commit` (`None`: no docs branch).
fn read_state(git: &Git, commit: Option<String>, b: &Branches) -> Result<DocsState> {
    let Some(commit) = commit else {
        return Ok(DocsState::default());
    };
    let versions = match git.show(&commit, VERSIONS_FILE)? {
        Some(json) => {
            versions::parse(&json).with_context(|| format!("on {}/{}", b.remote, b.docs))?
        }
        None => Vec::new(),
    };
    let default = git
        .show(&commit, "index.html")?
        .and_then(|html| versions::default_target(&html));
    let mut aliases = Vec::new();
    for alias in versions.iter().flat_map(|v| &v.aliases) {
        let Some(shown) = git.show(&commit, alias)? else {
            continue;
        };
        let index = if shown.starts_with("tree ") {
            git.show(&commit, &format!("{alias}/index.html"))?
        } else {
            None
        };
        aliases.push((
            alias.clone(),
            AliasKind::from_tree(&shown, index.as_deref()),
        ));
    }
    Ok(DocsState {
        commit: Some(commit),
        versions,
        default,
        aliases,
    })
}

/// What `git ls-remote` says: the docs branch's commit and the release tags.
struct RemoteHeads {
    docs: Option<String>,
    tags: Vec<Tag>,
}

fn ls_remote(sh: &Shell, b: &Branches) -> Result<RemoteHeads> {
    let (remote, head) = (&b.remote, format!("refs/heads/{}", b.docs));
    let out = cmd!(
        sh,
        "git ls-remote --end-of-options {remote} {head} refs/tags/v*"
    )
    .quiet()
    .read()
    .with_context(|| format!("asking {remote} for its {} branch and tags", b.docs))?;
    let mut heads = RemoteHeads {
        docs: None,
        tags: Vec::new(),
    };
    for line in out.lines() {
        let Some((commit, name)) = line.split_once('\t') else {
            continue;
        };
        if name == head {
            heads.docs = Some(commit.to_string());
        } else if let Some(tag) = name.strip_prefix("refs/tags/").and_then(Tag::from_git) {
            heads.tags.push(tag);
        }
    }
    Ok(heads)
}

/// Reads the remote docs branch into `into` (its tracking ref, or a private
/// ref in a dry run) and returns the site there and the remote's release
/// tags. A tracking ref the remote no longer backs is pruned (not in a dry
/// run), so nothing can build on deleted history.
fn read_remote(
    sh: &Shell,
    b: &Branches,
    into: &str,
    dry_run: bool,
) -> Result<(DocsState, Vec<Tag>)> {
    let git = Git::new(sh);
    let heads = ls_remote(sh, b)?;
    let commit = match &heads.docs {
        Some(tip) => {
            let spec = format!("{tip}^{{commit}}");
            let have = cmd!(sh, "git cat-file -e {spec}")
                .quiet()
                .ignore_stderr()
                .run()
                .is_ok();
            if have {
                cmd!(sh, "git update-ref {into} {tip}").quiet().run()?;
            } else {
                git.fetch_into(&b.remote, &b.docs, into)?;
            }
            git.commit_of(into)?
        }
        None => {
            if !dry_run && git.commit_of(&b.docs_ref())?.is_some() {
                let stale = b.docs_ref();
                cmd!(sh, "git update-ref -d {stale}").quiet().run()?;
                println!(
                    "    {}/{} is gone from the remote: pruned the stale tracking ref",
                    b.remote, b.docs
                );
            }
            None
        }
    };
    Ok((read_state(&git, commit, b)?, heads.tags))
}

/// Removes temporary worktrees an interrupted run left under
/// `target/xtask-worktrees` (named `<what>-<pid>`, the pid no longer running).
fn prune_worktrees(sh: &Shell, root: &Utf8Path) {
    let dir = root.join("target").join("xtask-worktrees");
    if let Ok(entries) = fs::read_dir(&dir) {
        let proc_fs = std::path::Path::new("/proc/self").exists();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
            let alive = match pid {
                Some(pid) => proc_fs && std::path::Path::new(&format!("/proc/{pid}")).exists(),
                None => false,
            };
            if alive && pid != Some(std::process::id()) {
                continue;
            }
            let path = dir.join(&name);
            let _ = cmd!(sh, "git worktree remove --force {path}")
                .quiet()
                .ignore_status()
                .ignore_stderr()
                .run();
            let _ = fs::remove_dir_all(&path);
        }
    }
    let _ = cmd!(sh, "git worktree prune")
        .quiet()
        .ignore_status()
        .ignore_stderr()
        .run();
}

/// The docs branch holds mike's output only: refuse the branch checked out
/// here or in another worktree, and a remote or local branch of that name
/// holding anything else (the xtask moves the local one).
fn guard_docs_branch(sh: &Shell, b: &Branches, remote_tip: Option<&str>) -> Result<()> {
    let git = Git::new(sh);
    let docs = &b.docs;
    let name = clip(docs);
    if git.current_branch()?.as_deref() == Some(docs.as_str()) {
        bail!(BadInput(format!(
            "the docs branch `{name}` is the branch checked out here: it holds generated output \
only; switch to the release branch `{}` (or name another docs branch with --docs-branch)",
            clip(&b.root)
        )));
    }
    let worktrees = cmd!(sh, "git worktree list --porcelain")
        .quiet()
        .read()
        .context("listing the worktrees")?;
    let checked_out = format!("branch refs/heads/{docs}");
    if worktrees.lines().any(|l| l == checked_out) {
        bail!(BadInput(format!(
            "the docs branch `{name}` is checked out in another worktree (`git worktree list`): \
mike cannot commit to it; switch that worktree to another branch"
        )));
    }
    let local = git.commit_of(&format!("refs/heads/{docs}"))?;
    for (place, commit) in [
        (
            format!("{}/{name}", clip(&b.remote)),
            remote_tip.map(str::to_string),
        ),
        (format!("the local branch `{name}`"), local),
    ] {
        let Some(commit) = commit else { continue };
        let top = git.show(&commit, "")?.unwrap_or_default();
        let names: Vec<&str> = top.lines().skip(2).filter(|l| !l.is_empty()).collect();
        if let Some(why) = versions::not_a_site(&names) {
            bail!(BadInput(format!(
                "{place} is not a mike docs site ({why}): the docs branch holds generated output \
only; name the docs branch with --docs-branch (or `docs-branch` in [tool.xtask])"
            )));
        }
    }
    Ok(())
}

/// Pushes `new` as the remote docs branch (no force). `Ok(false)`: the
/// push was refused because the branch moved (re-plan and try again). After
/// a push, the remote must hold exactly `new`.
fn push_docs(sh: &Shell, b: &Branches, new: &str) -> Result<bool> {
    let (remote, docs) = (&b.remote, &b.docs);
    let refspec = format!("{new}:refs/heads/{docs}");
    let out = cmd!(
        sh,
        "git push --porcelain --end-of-options {remote} {refspec}"
    )
    .quiet()
    .ignore_status()
    .output()
    .with_context(|| format!("pushing {docs} to {remote}"))?;
    if !out.status.success() {
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if report.contains("[rejected]")
            || report.contains("non-fast-forward")
            || report.contains("fetch first")
            || report.contains("cannot lock ref")
        {
            return Ok(false);
        }
        bail!("git push {remote} {docs} failed:\n{}", report.trim_end());
    }
    let landed = ls_remote(sh, b)?.docs;
    if landed.as_deref() != Some(new) {
        bail!(
            "pushed {} to {remote}/{docs}, but the remote now has {}: run the command again to \
plan from what the remote holds",
            short(new),
            landed
                .as_deref()
                .map_or("no such branch".to_string(), short)
        );
    }
    let tracking = b.docs_ref();
    cmd!(sh, "git update-ref {tracking} {new}").quiet().run()?;
    Ok(true)
}

/// Points the local docs branch at the planned base (or removes it, for a
/// branch that does not exist yet), so mike commits on exactly that.
fn reset_local_branch(sh: &Shell, b: &Branches, base: Option<&str>) -> Result<()> {
    let git = Git::new(sh);
    let local = format!("refs/heads/{}", b.docs);
    if let Some(was) = git.commit_of(&local)? {
        let behind = match base {
            Some(base) => git.is_ancestor(&was, base)?,
            None => false,
        };
        if !behind {
            println!(
                "    note: the local branch `{}` was at {}, which {}/{} does not hold: it now \
follows the remote (the old commit stays in `git reflog {}`)",
                b.docs,
                short(&was),
                b.remote,
                b.docs,
                b.docs
            );
        }
    }
    match base {
        Some(commit) => cmd!(sh, "git update-ref {local} {commit}").quiet().run()?,
        None => cmd!(sh, "git update-ref -d {local}")
            .quiet()
            .ignore_status()
            .ignore_stderr()
            .run()?,
    }
    Ok(())
}

fn short(commit: &str) -> String {
    commit[..commit.len().min(10)].to_string()
}

fn print_versions(list: &[DocsVersion], default: Option<&str>) {
    if list.is_empty() {
        println!("    (no docs versions)");
    }
    for v in list {
        let aliases = if v.aliases.is_empty() {
            String::new()
        } else {
            format!("  [{}]", v.aliases.join(", "))
        };
        let title = if v.title == v.name {
            String::new()
        } else {
            format!("  \"{}\"", v.title)
        };
        let unreleased = if v.marked_unreleased() {
            "  (unreleased)"
        } else {
            ""
        };
        println!("    {}{title}{aliases}{unreleased}", v.name);
    }
    println!("    default: {}", default.unwrap_or("(none)"));
}

fn dry_run_banner() {
    println!("dry run: nothing will be changed (the remote is read, not written)");
}

/// A temporary detached worktree, removed on drop.
struct Worktree<'a> {
    sh: &'a Shell,
    path: Utf8PathBuf,
}

impl<'a> Worktree<'a> {
    fn add(sh: &'a Shell, root: &Utf8Path, name: &str, rev: &str) -> Result<Worktree<'a>> {
        let path = root
            .join("target")
            .join("xtask-worktrees")
            .join(format!("{name}-{}", std::process::id()));
        if path.exists() {
            fs::remove_dir_all(&path).with_context(|| format!("removing {path}"))?;
        }
        cmd!(sh, "git worktree add --quiet --detach {path} {rev}")
            .quiet()
            .run()
            .with_context(|| format!("checking out {rev} in a temporary worktree"))?;
        Ok(Worktree { sh, path })
    }
}

impl Drop for Worktree<'_> {
    fn drop(&mut self) {
        let (sh, path) = (self.sh, &self.path);
        let _ = cmd!(sh, "git worktree remove --force {path}")
            .quiet()
            .ignore_status()
            .ignore_stderr()
            .run();
        let _ = cmd!(sh, "git worktree prune").quiet().ignore_status().run();
    }
}

/// The series known released: release tags here and on the remote, and
/// the working tree's `pyproject.toml` version.
fn released_series(git: &Git, root: &Utf8Path, remote_tags: &[Tag]) -> Result<Vec<Series>> {
    let mut tags = git.release_tags()?;
    tags.extend_from_slice(remote_tags);
    let project = fs::read_to_string(root.join(pyproject::FILE))
        .ok()
        .and_then(|text| pyproject::read_version(&text).ok());
    Ok(versions::released_series(&tags, project.as_deref()))
}

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

/// What the checks found, for the deploy itself.
struct Checked {
    state: DocsState,
    released: Vec<Series>,
    build_rev: Option<String>,
}

fn check_deploy(
    sh: &Shell,
    root: &Utf8Path,
    opts: &DeployOptions,
    source: &Source,
    read_ref: &str,
) -> Result<(String, Checked)> {
    let git = Git::new(sh);
    let b = &opts.branches;
    let series = source.series();
    if let Source::Tree(_) = source {
        let dirty = git.dirty_files()?;
        if !dirty.is_empty() {
            bail!(BadInput(format!(
                "the working tree is not clean ({}): commit or stash first, so the docs match \
a commit",
                clip(&dirty.join(", "))
            )));
        }
        let branch = git.current_branch()?;
        if !opts.from_tree && branch.as_deref() != Some(b.root.as_str()) {
            bail!(BadInput(format!(
                "docs deploy from the working tree runs on `{}` (HEAD is on {}): switch to it, \
name a tag (`cargo xtask docs-deploy vX.Y.Z`), or pass --from-tree",
                clip(&b.root),
                branch.map_or("no branch".into(), |b| format!("`{}`", clip(&b)))
            )));
        }
    }
    if let Source::Tag(tag) = source {
        // The release commit is found along the history after the tag.
        git.require_full_history(&format!("docs-deploy {tag}"), &b.remote)?;
        if git.commit_of(&Git::tag_ref(tag))?.is_none() {
            bail!(BadInput(format!(
                "tag {tag} does not exist here: fetch tags (`git fetch --tags {}`) or name a \
series such as {series}",
                clip(&b.remote)
            )));
        }
    }
    let (state, remote_tags) = read_remote(sh, b, read_ref, opts.dry_run)?;
    guard_docs_branch(sh, b, state.commit.as_deref())?;
    let released = released_series(&git, root, &remote_tags)?;
    if !opts.unreleased && !versions::is_released(series, &released) {
        bail!(BadInput(format!(
            "series {series} is not released: no release tag v{series}.N here or on {} and \
pyproject.toml's version is not in it; release it first, or pass --unreleased to deploy it \
without `{LATEST}` or the site default",
            clip(&b.remote)
        )));
    }
    let (what, build_rev) = match source {
        Source::Tree(_) => (format!("series {series} from the working tree"), None),
        Source::Tag(tag) => {
            let branch = release_branch_ref(sh, b)?;
            let found = release_commit::find(sh, tag, branch.as_deref())?;
            let _ = cmd!(sh, "git update-ref -d {RELEASE_REF}")
                .quiet()
                .ignore_status()
                .ignore_stderr()
                .run();
            match found {
                Some(commit) => (
                    format!(
                        "series {series} from {tag}'s release commit {}",
                        short(&commit)
                    ),
                    Some(commit),
                ),
                None => {
                    let tagged = git.commit_of(&Git::tag_ref(tag))?;
                    println!(
                        "    warning: no commit from {tag} on {}/{} has `## {tag}` in CHANGELOG.md \
and version {} in pyproject.toml: building the tag's own tree",
                        b.remote,
                        b.root,
                        tag.pep440()
                    );
                    (format!("series {series} from the tree of {tag}"), tagged)
                }
            }
        }
    };
    Ok((
        what,
        Checked {
            state,
            released,
            build_rev,
        },
    ))
}

/// The remote's release branch, read into a private ref (else the local
/// tracking ref or branch), to find a release commit after its tag.
fn release_branch_ref(sh: &Shell, b: &Branches) -> Result<Option<String>> {
    let git = Git::new(sh);
    let fetched = git.fetch_into(&b.remote, &b.root, RELEASE_REF).is_ok();
    if fetched {
        return Ok(Some(RELEASE_REF.to_string()));
    }
    for candidate in [
        format!("refs/remotes/{}/{}", b.remote, b.root),
        format!("refs/heads/{}", b.root),
    ] {
        if git.commit_of(&candidate)?.is_some() {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

fn deploy_steps(
    sh: &Shell,
    root: &Utf8Path,
    opts: &DeployOptions,
    source: &Source,
    steps: &mut Steps,
) -> Result<()> {
    let git = Git::new(sh);
    let b = &opts.branches;
    let series = source.series();
    let read_ref = if opts.dry_run {
        DRY_RUN_REF.to_string()
    } else {
        b.docs_ref()
    };
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
    let build_dir = worktree.as_ref().map_or(root, |w| w.path.as_path());
    let (remote, docs) = (&b.remote, &b.docs);

    for attempt in 1..=PUSH_ATTEMPTS {
        if attempt > 1 {
            checked.state = read_remote(sh, b, &read_ref, opts.dry_run)?.0;
            guard_docs_branch(sh, b, checked.state.commit.as_deref())?;
        }
        let state = &checked.state;
        let plan = versions::plan_deploy(
            &state.versions,
            &DeployInput {
                series,
                released: !opts.unreleased || versions::is_released(series, &checked.released),
                released_series: &checked.released,
                empty_spelling: opts.spelling,
                default: state.default.as_deref(),
            },
        )?;
        let kind =
            versions::site_alias_kind(&state.aliases, AliasKind::from_setting(opts.alias_type));
        println!(
            "==> plan: deploy {} to {remote}/{docs}{}",
            plan.name,
            match &state.commit {
                Some(c) => format!(" (now at {})", short(c)),
                None => " (no such branch yet: it is created holding only what is listed below)"
                    .to_string(),
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
            kind.as_mike(),
            if state.aliases.is_empty() {
                format!(
                    "the setting for a site without aliases: {}",
                    opts.alias_type.as_mike()
                )
            } else {
                "the type the site's aliases have".to_string()
            }
        );
        let default_after = if plan.set_default {
            Some(LATEST)
        } else {
            state.default.as_deref()
        };
        print_versions(&plan.after, default_after);

        let mut deploy_args: Vec<String> = vec![
            "deploy".into(),
            "--ignore-remote-status".into(),
            "--remote".into(),
            remote.clone(),
            "--branch".into(),
            docs.clone(),
            "--alias-type".into(),
            kind.as_mike().into(),
        ];
        match plan.mark {
            Mark::Set => deploy_args.extend(["--prop-set".into(), format!("{UNRELEASED}=true")]),
            Mark::Clear => deploy_args.extend(["--prop-delete".into(), UNRELEASED.into()]),
            Mark::Keep => {}
        }
        deploy_args.push("--update-aliases".into());
        deploy_args.push(plan.name.clone());
        if plan.latest {
            deploy_args.push(LATEST.into());
        }
        let repair_args: Option<Vec<String>> = plan.repair.as_ref().map(|target| {
            vec![
                "alias".into(),
                "--ignore-remote-status".into(),
                "--remote".into(),
                remote.clone(),
                "--branch".into(),
                docs.clone(),
                "--alias-type".into(),
                kind.as_mike().into(),
                "--update-aliases".into(),
                target.clone(),
                LATEST.into(),
            ]
        });
        let default_args: Option<Vec<String>> = plan.set_default.then(|| {
            vec![
                "set-default".into(),
                "--ignore-remote-status".into(),
                "--remote".into(),
                remote.clone(),
                "--branch".into(),
                docs.clone(),
                LATEST.into(),
            ]
        });

        if opts.dry_run {
            if versions::unique_aliases(&state.versions).is_some() {
                ui::would(&format!(
                    "commit a versions.json on {docs} that lists each alias on one version \
only (mike refuses to read one alias on two versions)"
                ));
            }
            ui::would(&format!(
                "run `mike {}` in {build_dir}",
                deploy_args.join(" ")
            ));
            for args in repair_args.iter().chain(&default_args) {
                ui::would(&format!("run `mike {}`", args.join(" ")));
            }
            ui::would(&format!(
                "push the result to {remote}/{docs} (no force) and check the remote holds it"
            ));
            println!(
                "    versions.json after:\n{}",
                versions::render(&plan.after)
            );
            return Ok(());
        }

        let tools = tools.as_ref().context("the managed tools are installed")?;
        let (mike, path) = (tools.bin("mike"), tools.path_env());
        let base = state.commit.clone();
        reset_local_branch(sh, b, base.as_deref())?;
        // mike refuses to read a versions.json that lists one alias on two
        // versions: keep each on one holder first (the plan then moves
        // `latest-release` where it belongs).
        if let (Some(head), Some(fixed)) = (&base, versions::unique_aliases(&state.versions)) {
            steps.run("repair versions.json", || {
                let message = "Keep each docs alias on one version in versions.json";
                if let Some(new) = commit_restored(sh, head, None, &[], &fixed, message)
                    .context("repairing versions.json before mike runs")?
                {
                    let local = format!("refs/heads/{docs}");
                    cmd!(sh, "git update-ref {local} {new}").quiet().run()?;
                }
                Ok("each alias listed on one version only".to_string())
            })?;
        }
        let mike_run = |args: &[String], dir: &Utf8Path| -> Result<()> {
            let _dir = sh.push_dir(dir);
            cmd!(sh, "{mike} {args...}")
                .env("PATH", &path)
                .run()
                .with_context(|| format!("mike {}", args.first().map_or("", String::as_str)))
        };
        steps.run(&format!("mike deploy {}", plan.name), || {
            mike_run(&deploy_args, build_dir)?;
            let now = git.commit_of(&format!("refs/heads/{docs}"))?;
            Ok(if now == base {
                format!("{} built; nothing changed", plan.name)
            } else {
                format!("{} built and committed", plan.name)
            })
        })?;
        if let Some(args) = &repair_args {
            steps.run(&format!("repair {LATEST}"), || {
                mike_run(args, build_dir)?;
                Ok(plan.latest_note())
            })?;
        }
        if let Some(args) = &default_args {
            steps.run("mike set-default", || {
                mike_run(args, build_dir)?;
                Ok(format!("site default is {LATEST}"))
            })?;
        }
        let Some(new) = git.commit_of(&format!("refs/heads/{docs}"))? else {
            bail!("mike left no {docs} branch");
        };
        if Some(&new) == base.as_ref() {
            println!("{} unchanged: nothing to push", plan.name);
            return Ok(());
        }
        let landed = steps.run_value(&format!("push {remote}/{docs}"), || {
            let landed = push_docs(sh, b, &new)?;
            Ok((
                if landed {
                    format!("{remote}/{docs} is {}", short(&new))
                } else {
                    "refused: the branch moved meanwhile".to_string()
                },
                landed,
            ))
        })?;
        if landed {
            println!(
                "{} pushed to {remote}/{docs}; {}",
                plan.name,
                plan.latest_note()
            );
            return Ok(());
        }
        if attempt < PUSH_ATTEMPTS {
            eprintln!(
                "    {remote}/{docs} moved meanwhile: planning and deploying again on top \
(attempt {attempt})"
            );
        }
    }
    // The local branch is left as mike made it; the remote is unchanged.
    bail!(
        "{remote}/{docs} kept moving: {PUSH_ATTEMPTS} pushes were refused; nothing was forced, \
run the command again"
    )
}

pub fn list(sh: &Shell, root: &Utf8Path, branches: &Branches) -> Result<()> {
    prune_worktrees(sh, root);
    let (state, _) = read_remote(sh, branches, &branches.docs_ref(), false)?;
    println!(
        "docs versions on {}/{} (newest first):",
        branches.remote, branches.docs
    );
    let mut sorted = state.versions.clone();
    versions::sort_newest_first(&mut sorted);
    print_versions(&sorted, state.default.as_deref());
    for (problem, fix) in versions::site_problems(&state.versions, &state.aliases, &branches.docs) {
        println!("    problem: {problem}\n      fix: {fix}");
    }
    Ok(())
}

pub struct RollbackOptions {
    pub series: String,
    pub to: Option<String>,
    pub dry_run: bool,
    pub branches: Branches,
}

pub fn rollback(sh: &Shell, root: &Utf8Path, opts: RollbackOptions) -> Result<()> {
    prune_worktrees(sh, root);
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
    if opts.dry_run {
        dry_run_banner();
    }
    let _private = PrivateRefs {
        sh,
        refs: vec![DRY_RUN_REF],
    };
    for attempt in 1..=PUSH_ATTEMPTS {
        match rollback_once(sh, &opts, series)? {
            Some(()) => return Ok(()),
            None if attempt < PUSH_ATTEMPTS => eprintln!(
                "    {}/{} moved meanwhile: planning the rollback again (attempt {attempt})",
                opts.branches.remote, opts.branches.docs
            ),
            None => {}
        }
    }
    bail!(
        "{}/{} kept moving: {PUSH_ATTEMPTS} pushes were refused; nothing was forced, run the \
rollback again",
        opts.branches.remote,
        opts.branches.docs
    )
}

/// One planned rollback; `Ok(None)` when the push lost a race.
fn rollback_once(sh: &Shell, opts: &RollbackOptions, series: Series) -> Result<Option<()>> {
    let git = Git::new(sh);
    let b = &opts.branches;
    let read_ref = if opts.dry_run {
        DRY_RUN_REF.to_string()
    } else {
        b.docs_ref()
    };
    let (state, _) = read_remote(sh, b, &read_ref, opts.dry_run)?;
    let Some(head) = state.commit.clone() else {
        bail!(BadInput(format!(
            "{}/{} does not exist: nothing to roll back",
            b.remote, b.docs
        )));
    };
    guard_docs_branch(sh, b, Some(&head))?;
    let Some(name) = versions::spelling(&state.versions, series)? else {
        // Gone because a rollback deleted it: rolling back again is a no-op.
        if opts.to.is_none() {
            for name in [series.to_string(), format!("v{series}")] {
                let history = series_history(sh, &head, &name)?;
                if let Some((deploy, by)) = versions::deleted_by_rollback(&history) {
                    println!(
                        "{name}: its only deploy {} was rolled back already by {} (the series \
was deleted): nothing to do",
                        short(&deploy),
                        short(&by)
                    );
                    return Ok(Some(()));
                }
            }
        }
        bail!(BadInput(format!(
            "series {series} is not on {}/{}: `cargo xtask docs-list` shows what is",
            b.remote, b.docs
        )));
    };
    let history = series_history(sh, &head, &name)?;
    let exists_at = |rev: &str| -> Result<Option<DocsVersion>> {
        Ok(match git.show(rev, VERSIONS_FILE)? {
            Some(json) => versions::parse(&json)?.into_iter().find(|v| v.name == name),
            None => None,
        })
    };
    // The deploy undone (recorded in the commit) and the state restored.
    let (undo, target) = match &opts.to {
        None => match versions::plan_rollback(&name, &history)? {
            RollbackPlan::AlreadyUndone { deploy, by } => {
                println!(
                    "{name}: its last deploy {} was rolled back already by {}: nothing to do \
(pass --to a docs commit to go further back)",
                    short(&deploy),
                    short(&by)
                );
                return Ok(Some(()));
            }
            RollbackPlan::Restore { undo, to } => {
                let to = match to {
                    Some(parent) if exists_at(&parent)?.is_some() => Some(parent),
                    _ => None,
                };
                (undo, to)
            }
        },
        Some(rev) => {
            let undo = history
                .iter()
                .find(|c| versions::undid(&c.message).is_none())
                .map(|c| c.commit.clone())
                .unwrap_or_else(|| head.clone());
            (undo, check_to(sh, b, rev, &head, &name, &history)?)
        }
    };
    let target_entry = match &target {
        Some(t) => exists_at(t)?,
        None => None,
    };
    let after = versions::after_rollback(
        &state.versions,
        target_entry.as_ref(),
        &name,
        state.default.as_deref(),
    )?;
    match &target {
        Some(t) => println!(
            "==> plan: restore {name} on {}/{} to its state at {} (undoing {})",
            b.remote,
            b.docs,
            short(t),
            short(&undo)
        ),
        None => println!(
            "==> plan: delete {name} from {}/{}: this is a deletion, it did not exist before \
its only deploy {}",
            b.remote,
            b.docs,
            short(&undo)
        ),
    }
    print_versions(&after, state.default.as_deref());
    if opts.dry_run {
        ui::would(&format!(
            "commit the restored {name}/ and {VERSIONS_FILE} on top of {} and push it to {}/{} \
(no force)",
            short(&head),
            b.remote,
            b.docs
        ));
        return Ok(Some(()));
    }

    // Aliases the series keeps: restored from the target where it held them
    // there too, else left as they are.
    let current = state.versions.iter().find(|v| v.name == name);
    let mut paths = vec![name.clone()];
    match (&target_entry, current) {
        (Some(t), Some(c)) => {
            paths.extend(c.aliases.iter().filter(|a| t.aliases.contains(a)).cloned())
        }
        (None, Some(c)) => paths.extend(c.aliases.iter().cloned()),
        _ => {}
    }
    let message = versions::rollback_message(&name, &undo, target.as_deref());
    let Some(new) = commit_restored(sh, &head, target.as_deref(), &paths, &after, &message)? else {
        println!("{name} is already in that state: nothing to commit");
        return Ok(Some(()));
    };
    reset_local_branch(sh, b, Some(&new))?;
    if !push_docs(sh, b, &new)? {
        return Ok(None);
    }
    println!(
        "rolled back {name} on {}/{}: {}",
        b.remote,
        b.docs,
        message.lines().next().unwrap_or_default()
    );
    Ok(Some(()))
}

/// The commits of `head`'s history that changed `name/`, newest first.
fn series_history(sh: &Shell, head: &str, name: &str) -> Result<Vec<SeriesCommit>> {
    let format = "--format=%H%x1f%P%x1f%B%x1e";
    let out = cmd!(sh, "git log {format} {head} -- {name}")
        .quiet()
        .read()
        .with_context(|| format!("reading the deploys of {name}"))?;
    Ok(out
        .split('\x1e')
        .filter_map(|record| {
            let mut fields = record.trim_start_matches('\n').splitn(3, '\x1f');
            let commit = fields.next()?.trim().to_string();
            if commit.is_empty() {
                return None;
            }
            let parent = fields
                .next()
                .and_then(|p| p.split_whitespace().next())
                .map(str::to_string);
            Some(SeriesCommit {
                commit,
                parent,
                message: fields.next().unwrap_or_default().to_string(),
            })
        })
        .collect())
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
    let there = git
        .show(&commit, VERSIONS_FILE)?
        .map(|json| versions::parse(&json))
        .transpose()?
        .is_some_and(|list| list.iter().any(|v| v.name == name));
    if there {
        return Ok(Some(commit));
    }
    let deploys: Vec<&SeriesCommit> = history
        .iter()
        .filter(|c| versions::undid(&c.message).is_none())
        .collect();
    if let [only] = deploys.as_slice() {
        if only.commit != commit && git.is_ancestor(&commit, &only.commit)? {
            return Ok(None);
        }
    }
    bail!(BadInput(format!(
        "{name} does not exist at --to {shown} ({}): pick a commit of {docs} where it did, from \
`git log --oneline {docs} -- {name}`",
        short(&commit)
    )))
}

/// Commits `head` with `paths` as they were at `target` (removed when
/// `None`) and `versions.json` as `after`, through a private index: the
/// user's checkout and index are never touched. `None`: nothing changes.
fn commit_restored(
    sh: &Shell,
    head: &str,
    target: Option<&str>,
    paths: &[String],
    after: &[DocsVersion],
    message: &str,
) -> Result<Option<String>> {
    let index = cmd!(sh, "git rev-parse --git-path xtask-rollback-index")
        .quiet()
        .read()
        .context("locating the git directory")?;
    let index = format!("{index}-{}", std::process::id());
    let result = (|| -> Result<Option<String>> {
        let git = |args: &[&str]| {
            cmd!(sh, "git {args...}")
                .env("GIT_INDEX_FILE", &index)
                .quiet()
        };
        git(&["read-tree", head]).run()?;
        if !paths.is_empty() {
            let mut rm = vec!["rm", "-r", "-q", "--cached", "--ignore-unmatch", "--"];
            rm.extend(paths.iter().map(String::as_str));
            git(&rm).run()?;
        }
        if let Some(t) = target {
            let mut ls = vec!["ls-tree", "-r", "--full-tree", t, "--"];
            ls.extend(paths.iter().map(String::as_str));
            let entries = git(&ls).read()?;
            if !entries.is_empty() {
                git(&["update-index", "--index-info"])
                    .stdin(format!("{entries}\n"))
                    .run()?;
            }
        }
        let json = format!("{}\n", versions::render(after));
        let blob = git(&["hash-object", "-w", "--stdin"]).stdin(json).read()?;
        let info = format!("100644,{blob},{VERSIONS_FILE}");
        git(&["update-index", "--add", "--cacheinfo", &info]).run()?;
        let tree = git(&["write-tree"]).read()?;
        let head_tree = format!("{head}^{{tree}}");
        if git(&["rev-parse", &head_tree]).read()? == tree {
            return Ok(None);
        }
        let new = git(&["commit-tree", &tree, "-p", head, "-m", message]).read()?;
        Ok(Some(new))
    })()
    .context("writing the rollback commit");
    let _ = fs::remove_file(&index);
    result
}
