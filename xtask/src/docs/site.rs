//! Reading the docs site: the remote docs branch as `ls-remote` reports
//! it (the truth, whatever the tracking ref says) and the site at one of
//! its commits (versions.json, the default, each alias and its type).

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::docs_versions::{self as versions, AliasKind, DocsVersion, VERSIONS_FILE};
use crate::git::Git;
use crate::settings::Branches;
use crate::version::Tag;

/// Where a dry run reads the remote docs branch: never a ref the user has.
pub(super) const DRY_RUN_REF: &str = "refs/xtask/dry-run/docs";

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

/// The ref a command reads the remote docs branch into: its tracking ref,
/// or in a dry run a private ref, so a dry run moves no ref of the user's.
pub(super) fn read_ref(b: &Branches, dry_run: bool) -> String {
    if dry_run {
        DRY_RUN_REF.to_string()
    } else {
        b.docs_ref()
    }
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
    let aliases = read_alias_kinds(git, &commit, &versions)?;
    Ok(DocsState {
        commit: Some(commit),
        versions,
        default,
        aliases,
    })
}

/// How mike made each alias listed in versions.json that exists at `commit`.
fn read_alias_kinds(
    git: &Git,
    commit: &str,
    versions: &[DocsVersion],
) -> Result<Vec<(String, AliasKind)>> {
    let mut aliases = Vec::new();
    for alias in versions.iter().flat_map(|v| &v.aliases) {
        let Some(shown) = git.show(commit, alias)? else {
            continue;
        };
        let index = if shown.starts_with("tree ") {
            git.show(commit, &format!("{alias}/index.html"))?
        } else {
            None
        };
        aliases.push((
            alias.clone(),
            AliasKind::from_tree(&shown, index.as_deref()),
        ));
    }
    Ok(aliases)
}

/// What `git ls-remote` says: the docs branch's commit and the release tags.
pub(super) struct RemoteHeads {
    pub(super) docs: Option<String>,
    tags: Vec<Tag>,
}

pub(super) fn ls_remote(sh: &Shell, b: &Branches) -> Result<RemoteHeads> {
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
pub(super) fn read_remote(
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
            if !dry_run {
                prune_stale_tracking_ref(sh, &git, b)?;
            }
            None
        }
    };
    Ok((read_state(&git, commit, b)?, heads.tags))
}

fn prune_stale_tracking_ref(sh: &Shell, git: &Git, b: &Branches) -> Result<()> {
    if git.commit_of(&b.docs_ref())?.is_some() {
        let stale = b.docs_ref();
        cmd!(sh, "git update-ref -d {stale}").quiet().run()?;
        println!(
            "    {}/{} is gone from the remote: pruned the stale tracking ref",
            b.remote, b.docs
        );
    }
    Ok(())
}
