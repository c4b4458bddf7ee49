//! `cargo xtask docs-deploy`, `docs-list` and `docs-rollback`: versioned
//! docs with mike on the `docs` branch, with the rules mike does not
//! enforce (one spelling per series, `latest-release` on the newest
//! series, the site default set once, no history rewrite).

use std::fs;

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::docs_versions::{self as versions, DocsVersion, LATEST, VERSIONS_FILE};
use crate::git::Git;
use crate::github;
use crate::tools::{Group, Tools};
use crate::ui::{self, Steps};
use crate::version::{Series, Tag};
use crate::BadInput;

/// mike 2 defaults to symlinks, which some static hosts do not serve:
/// aliases are small redirect pages instead.
const ALIAS_TYPE: &str = "redirect";
const PUSH_ATTEMPTS: usize = 3;

#[derive(Clone)]
pub struct Branches {
    pub remote: String,
    pub root: String,
    pub docs: String,
}

impl Branches {
    pub fn docs_ref(&self) -> String {
        format!("refs/remotes/{}/{}", self.remote, self.docs)
    }
}

/// What a SERIES argument names: a series built from the working tree, or
/// a tag whose tree is built.
enum Source {
    Tree(Series),
    Tag(Tag),
}

impl Source {
    fn parse(input: &str) -> Result<Source, BadInput> {
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

/// The versions on the remote docs branch (fetched), and its commit.
pub struct DocsState {
    pub commit: Option<String>,
    pub versions: Vec<DocsVersion>,
    pub default: Option<String>,
}

pub fn read_docs(git: &Git, branches: &Branches, fetch: bool) -> Result<DocsState> {
    let docs_ref = branches.docs_ref();
    if fetch {
        if git.remote_has_branch(&branches.remote, &branches.docs)? {
            git.fetch_branch(&branches.remote, &branches.docs)?;
        } else {
            return Ok(DocsState {
                commit: None,
                versions: Vec::new(),
                default: None,
            });
        }
    }
    let Some(commit) = git.commit_of(&docs_ref)? else {
        return Ok(DocsState {
            commit: None,
            versions: Vec::new(),
            default: None,
        });
    };
    let versions = match git.show(&commit, VERSIONS_FILE)? {
        Some(json) => versions::parse(&json)
            .with_context(|| format!("on {}/{}", branches.remote, branches.docs))?,
        None => Vec::new(),
    };
    let default = git
        .show(&commit, "index.html")?
        .and_then(|html| versions::default_target(&html));
    Ok(DocsState {
        commit: Some(commit),
        versions,
        default,
    })
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
        println!("    {}{title}{aliases}", v.name);
    }
    println!("    default: {}", default.unwrap_or("(none)"));
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

pub struct DeployOptions {
    pub target: String,
    pub dry_run: bool,
    pub from_tree: bool,
    pub branches: Branches,
}

pub fn deploy(sh: &Shell, root: &Utf8Path, opts: DeployOptions) -> Result<()> {
    let source = Source::parse(&opts.target)?;
    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = deploy_steps(sh, root, &opts, &source, &mut steps);
    steps.summary();
    result
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

    let build_rev = steps.run_value("checks", || {
        let dirty = git.dirty_files()?;
        if !dirty.is_empty() {
            bail!(BadInput(format!(
                "the working tree is not clean ({}): commit or stash first, so the docs match \
a commit",
                dirty.join(", ")
            )));
        }
        match source {
            Source::Tag(tag) => {
                let tag_ref = Git::tag_ref(tag);
                let Some(commit) = git.commit_of(&tag_ref)? else {
                    bail!(BadInput(format!(
                        "tag {tag} does not exist: fetch tags (`git fetch --tags`) or name a \
series such as {series}"
                    )));
                };
                Ok((
                    format!("series {series} from the tree of {tag}"),
                    Some(commit),
                ))
            }
            Source::Tree(_) => {
                let branch = git.current_branch()?;
                if !opts.from_tree && branch.as_deref() != Some(b.root.as_str()) {
                    bail!(BadInput(format!(
                        "docs deploy from the working tree runs on `{}` (HEAD is on {}): \
switch to it, name a tag (`cargo xtask docs-deploy vX.Y.Z`), or pass --from-tree",
                        b.root,
                        branch.map_or("no branch".into(), |b| format!("`{b}`"))
                    )));
                }
                Ok((format!("series {series} from the working tree"), None))
            }
        }
    })?;

    let tools = if opts.dry_run {
        None
    } else {
        Some(Tools::ensure_group(sh, root, Group::Docs)?)
    };
    let worktree = match &build_rev {
        Some(commit) if !opts.dry_run => Some(Worktree::add(sh, root, "docs-build", commit)?),
        _ => None,
    };
    let build_dir = worktree.as_ref().map_or(root, |w| w.path.as_path());

    for attempt in 1..=PUSH_ATTEMPTS {
        let state = read_docs(&git, b, !opts.dry_run)?;
        let plan = versions::plan_deploy(&state.versions, series)?;
        let after = versions::after_deploy(&state.versions, &plan);
        let set_default = state.default.as_deref() != Some(LATEST);
        println!(
            "==> plan: deploy {} to {}/{}{}",
            plan.name,
            b.remote,
            b.docs,
            if plan.latest {
                format!(", `{LATEST}` on it")
            } else {
                format!(", `{LATEST}` stays on the newer series")
            }
        );
        print_versions(
            &after,
            Some(LATEST)
                .filter(|_| set_default)
                .or(state.default.as_deref()),
        );
        let alias: Vec<&str> = if plan.latest {
            vec!["--update-aliases", &plan.name, LATEST]
        } else {
            vec![&plan.name]
        };
        if opts.dry_run {
            ui::would(&format!(
                "run `mike deploy --remote {} --branch {} --push --alias-type {ALIAS_TYPE} {}` in {build_dir}",
                b.remote,
                b.docs,
                alias.join(" ")
            ));
            if set_default {
                ui::would(&format!(
                    "run `mike set-default --remote {} --branch {} --push {LATEST}`",
                    b.remote, b.docs
                ));
            }
            println!("    versions.json after:\n{}", versions::render(&after));
            return Ok(());
        }
        let tools = tools.as_ref().expect("installed unless dry run");
        let (mike, path) = (tools.bin("mike"), tools.path_env());
        // mike refuses to commit on a local branch that is behind the remote
        // one; the docs branch holds generated output only, so follow it.
        match &state.commit {
            Some(commit) => {
                let local = format!("refs/heads/{}", b.docs);
                cmd!(sh, "git update-ref {local} {commit}").quiet().run()?;
            }
            None => {
                let local = format!("refs/heads/{}", b.docs);
                cmd!(sh, "git update-ref -d {local}")
                    .quiet()
                    .ignore_status()
                    .ignore_stderr()
                    .run()?;
            }
        }
        let (remote, docs) = (&b.remote, &b.docs);
        let deployed = steps.run(&format!("mike deploy {}", plan.name), || {
            let _dir = sh.push_dir(build_dir);
            cmd!(sh, "{mike} deploy --remote {remote} --branch {docs} --push --alias-type {ALIAS_TYPE} {alias...}")
                .env("PATH", &path)
                .run()
                .context("mike deploy")?;
            Ok(if git.commit_of(&b.docs_ref())? == state.commit {
                format!("{} unchanged: nothing to push", plan.name)
            } else {
                format!("{} pushed to {remote}/{docs}", plan.name)
            })
        });
        if let Err(err) = deployed {
            let moved = read_docs(&git, b, true)?.commit != state.commit;
            if moved && attempt < PUSH_ATTEMPTS {
                eprintln!("    {remote}/{docs} moved meanwhile: deploying again on top (attempt {attempt})");
                continue;
            }
            return Err(err);
        }
        if set_default && versions::resolves(&after, LATEST) {
            steps.run("mike set-default", || {
                cmd!(
                    sh,
                    "{mike} set-default --remote {remote} --branch {docs} --push {LATEST}"
                )
                .run()
                .context("mike set-default")?;
                Ok(format!("site default is {LATEST}"))
            })?;
        }
        return Ok(());
    }
    unreachable!("the loop returns on its last attempt")
}

pub fn list(sh: &Shell, branches: &Branches) -> Result<()> {
    let git = Git::new(sh);
    let state = read_docs(&git, branches, true)?;
    println!(
        "docs versions on {}/{} (newest first):",
        branches.remote, branches.docs
    );
    let mut sorted = state.versions.clone();
    versions::sort_newest_first(&mut sorted);
    print_versions(&sorted, state.default.as_deref());
    Ok(())
}

pub struct RollbackOptions {
    pub series: String,
    pub to: Option<String>,
    pub dry_run: bool,
    pub branches: Branches,
}

pub fn rollback(sh: &Shell, root: &Utf8Path, opts: RollbackOptions) -> Result<()> {
    let series = Series::parse(&opts.series)?;
    let git = Git::new(sh);
    let b = &opts.branches;
    let state = read_docs(&git, b, !opts.dry_run)?;
    let Some(head) = state.commit.clone() else {
        bail!(BadInput(format!(
            "{}/{} does not exist: nothing to roll back",
            b.remote, b.docs
        )));
    };
    let Some(name) = versions::spelling(&state.versions, series)? else {
        bail!(BadInput(format!(
            "series {series} is not on {}/{}: `cargo xtask docs-list` shows what is",
            b.remote, b.docs
        )));
    };
    let target =
        match &opts.to {
            Some(rev) => Some(git.commit_of(rev)?.ok_or_else(|| {
                BadInput(format!("--to {rev} is not a commit of this repository"))
            })?),
            None => {
                let path = format!("{name}/");
                let last = cmd!(sh, "git log -1 --format=%H {head} -- {path}")
                    .quiet()
                    .read()
                    .context("finding the last deploy of the series")?;
                git.commit_of(&format!("{last}^"))?
            }
        };
    let target_versions = match &target {
        Some(rev) => match git.show(rev, VERSIONS_FILE)? {
            Some(json) => versions::parse(&json)?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let target_entry = target_versions.iter().find(|v| v.name == name);
    let after = versions::after_rollback(
        &state.versions,
        target_entry,
        &name,
        state.default.as_deref(),
    )?;
    let short = |c: &str| c[..c.len().min(10)].to_string();
    println!(
        "==> plan: restore {name} on {}/{} to {}",
        b.remote,
        b.docs,
        target
            .as_deref()
            .map_or("its absence (before its first deploy)".to_string(), short)
    );
    print_versions(&after, state.default.as_deref());
    if opts.dry_run {
        ui::would(&format!(
            "commit the restored {name}/ and {VERSIONS_FILE} on {} and push it (no force)",
            b.docs
        ));
        return Ok(());
    }

    // Paths the series owns: its directory and the aliases it holds now or after.
    let mut paths = vec![name.clone()];
    for v in state
        .versions
        .iter()
        .chain(after.iter())
        .filter(|v| v.name == name)
    {
        for a in &v.aliases {
            if !paths.contains(a) {
                paths.push(a.clone());
            }
        }
    }
    let tree = Worktree::add(sh, root, "docs-rollback", &head)?;
    let _dir = sh.push_dir(&tree.path);
    let owned = paths.clone();
    cmd!(sh, "git rm -r -q --ignore-unmatch -- {owned...}")
        .quiet()
        .run()?;
    let kept: Vec<&String> = paths
        .iter()
        .filter(|p| {
            **p == name
                || after
                    .iter()
                    .any(|v| v.name == name && v.aliases.contains(p))
        })
        .collect();
    if let Some(rev) = &target {
        for path in kept {
            let spec = format!("{rev}:{path}");
            if cmd!(sh, "git cat-file -e {spec}")
                .quiet()
                .ignore_stderr()
                .run()
                .is_ok()
            {
                cmd!(sh, "git checkout {rev} -- {path}").quiet().run()?;
            }
        }
    }
    match &target {
        Some(rev) if after == target_versions => {
            cmd!(sh, "git checkout {rev} -- {VERSIONS_FILE}")
                .quiet()
                .run()?;
        }
        _ => {
            fs::write(tree.path.join(VERSIONS_FILE), versions::render(&after))
                .context("writing versions.json")?;
            cmd!(sh, "git add {VERSIONS_FILE}").quiet().run()?;
        }
    }
    if cmd!(sh, "git diff --cached --quiet").quiet().run().is_ok() {
        println!("{name} is already in that state: nothing to commit");
        return Ok(());
    }
    let message = format!(
        "Roll back docs {name} to {}",
        target
            .as_deref()
            .map_or("before its first deploy".to_string(), short)
    );
    cmd!(sh, "git commit --quiet -m {message}").run()?;
    let (remote, docs) = (&b.remote, &b.docs);
    let refspec = format!("HEAD:refs/heads/{docs}");
    cmd!(sh, "git push --quiet {remote} {refspec}").run().with_context(|| {
        format!("pushing the rollback to {remote}/{docs} (refused: it moved meanwhile; run the rollback again)")
    })?;
    println!("rolled back {name}: {message}");
    Ok(())
}
