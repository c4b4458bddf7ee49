//! `cargo xtask release-rollback vX.Y.Z`: the guide's release rollback,
//! step by step. Delete the GitHub Release; with `--delete-tag`, the tag
//! (here and on the remote); check the index, where yanking is a manual
//! step (the upload API has none), and with `--wait` poll until it shows
//! the version yanked; finally name the corrected release's tag.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::git::Git;
use crate::github;
use crate::index::{self, IndexConfig};
use crate::pyproject;
use crate::ui::{self, Steps};
use crate::version::Tag;
use crate::{read, BadInput};

pub struct Options {
    pub tag: Tag,
    pub delete_tag: bool,
    pub yes: bool,
    pub wait: bool,
    pub dry_run: bool,
    pub remote: String,
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let tag = &opts.tag;
    let remote = &opts.remote;
    let git = Git::new(sh);
    let project = pyproject::read_name(&read(root, pyproject::FILE)?)?;
    let version = tag.pep440();

    // Read everything first, then show the plan.
    let origin = cmd!(sh, "git remote get-url {remote}")
        .quiet()
        .ignore_stderr()
        .read()
        .ok();
    let api = github::Api::from_env(sh, origin.as_deref())?;
    let release = match &api {
        Some(api) => api.release_for_tag(tag)?,
        None => None,
    };
    let tag_ref = Git::tag_ref(tag);
    let local_tag = git.commit_of(&tag_ref)?.is_some();
    let remote_tag = !cmd!(sh, "git ls-remote --tags {remote} {tag_ref}")
        .quiet()
        .read()
        .with_context(|| format!("asking {remote} for {tag}"))?
        .trim()
        .is_empty();
    let config = IndexConfig::from_env(sh, root)?;
    let listed = index::fetch(&config.simple_base, &project)?;
    let files = index::version_files(&project, &version, &listed);
    let manage = index::manage_url(&config.upload_url, &project, &version);

    println!("release rollback of {tag}:");
    match (&api, &release) {
        (None, _) => println!("  1. GitHub Release: no GITHUB_TOKEN; delete it by hand on the repository's Releases page"),
        (Some(api), Some(r)) => println!("  1. GitHub Release: delete `{}` (id {}) in {}", r["name"].as_str().unwrap_or("?"), r["id"], api.repository),
        (Some(api), None) => println!("  1. GitHub Release: none for {tag} in {} (already deleted)", api.repository),
    }
    match (opts.delete_tag, local_tag || remote_tag) {
        (false, _) => println!("  2. tag: kept (pass --delete-tag to delete it)"),
        (true, false) => println!("  2. tag: {tag} exists neither here nor on {remote}"),
        (true, true) => {
            println!(
                "  2. tag: delete {tag} here{} and on {remote}{}",
                if local_tag { "" } else { " (absent)" },
                if remote_tag { "" } else { " (absent)" }
            );
            println!("     warning: a repository with immutable releases reserves a released tag name for good; cut the corrected release as the next patch, not under this tag");
        }
    }
    let yanked = !files.is_empty() && files.iter().all(|f| f.yanked);
    match (files.is_empty(), yanked) {
        (true, _) => println!("  3. index: {project} {version} is not on the index"),
        (false, true) => println!("  3. index: {project} {version} is already yanked"),
        (false, false) => println!("  3. index: {project} {version} is live; yanking is manual: open {manage}, choose Yank and give the reason"),
    }
    if opts.dry_run {
        ui::would("apply the steps above");
        return Ok(());
    }
    if !opts.yes {
        confirm(tag)?;
    }

    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = (|| -> Result<()> {
        if let (Some(api), Some(r)) = (&api, &release) {
            let id = r["id"].as_u64().context("the GitHub Release has no id")?;
            steps.run("delete the GitHub Release", || {
                api.delete_release(id)?;
                Ok(format!("deleted release {id}"))
            })?;
        }
        if opts.delete_tag && (local_tag || remote_tag) {
            steps.run("delete the tag", || {
                let name = tag.to_string();
                if local_tag {
                    cmd!(sh, "git tag -d {name}").quiet().run()?;
                }
                if remote_tag {
                    cmd!(sh, "git push --quiet {remote} --delete {tag_ref}")
                        .run()
                        .with_context(|| format!("deleting {tag} on {remote}"))?;
                }
                Ok(format!("{tag} deleted"))
            })?;
        }
        if opts.wait && !files.is_empty() && !yanked {
            steps.run("wait for the yank", || {
                wait_for_yank(&config, &project, &version, &manage)
            })?;
        }
        Ok(())
    })();
    steps.summary();
    result?;
    let next = tag.next_patch();
    println!("\nnext: fix on root, then cut the corrected release with `cargo xtask tag {next}` and publish it as a GitHub Release titled `{next}`");
    Ok(())
}

fn confirm(tag: &Tag) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(BadInput(format!("release-rollback of {tag} changes GitHub and the remote: confirm with --yes (no terminal to ask)")));
    }
    print!("proceed with the rollback of {tag}? [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        bail!(BadInput("rollback not confirmed: nothing changed".into()));
    }
    Ok(())
}

fn wait_for_yank(
    config: &IndexConfig,
    project: &str,
    version: &str,
    manage: &str,
) -> Result<String> {
    let limit = std::env::var("XTASK_YANK_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(900);
    let deadline = Instant::now() + Duration::from_secs(limit);
    println!("    waiting until the index shows {version} yanked (yank it at {manage})");
    loop {
        let listed = index::fetch(&config.simple_base, project)?;
        let files = index::version_files(project, version, &listed);
        if files.is_empty() || files.iter().all(|f| f.yanked) {
            return Ok(format!("{version} is yanked"));
        }
        if Instant::now() > deadline {
            bail!("{version} is still not yanked after {limit} s: yank it at {manage}, then run this again with --wait");
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}
