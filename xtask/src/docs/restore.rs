//! Writing a docs commit without mike: some paths as they were at an
//! earlier commit and a given versions.json, on top of the branch, for a
//! rollback and for the versions.json repair mike needs before it runs.

use std::fs;

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::docs_versions::{self as versions, DocsVersion, VERSIONS_FILE};

/// Commits `head` with `paths` as they were at `target` (removed when
/// `None`) and `versions.json` as `after`, through a private index: the
/// user's checkout and index are never touched. `None`: nothing changes.
pub(super) fn commit_restored(
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
    let result = write_restored(sh, &index, head, target, paths, after, message)
        .context("writing the rollback commit");
    let _ = fs::remove_file(&index);
    result
}

/// `commit_restored` in the private index file `index`.
fn write_restored(
    sh: &Shell,
    index: &str,
    head: &str,
    target: Option<&str>,
    paths: &[String],
    after: &[DocsVersion],
    message: &str,
) -> Result<Option<String>> {
    let git = |args: &[&str]| {
        cmd!(sh, "git {args...}")
            .env("GIT_INDEX_FILE", index)
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
}
