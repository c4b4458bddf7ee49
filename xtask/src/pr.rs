//! `cargo xtask changelog-add` and `cargo xtask lint-pr`: the pull-request
//! side of the changelog. Title, labels, number and URL come from flags or,
//! with `--event`, from the GitHub event payload (`GITHUB_EVENT_PATH`).

use std::fs;

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::Shell;

use crate::changelog::{self, Edit};
use crate::flags;
use crate::git::Git;
use crate::github;
use crate::pr_rules;
use crate::{read, ui, BadInput};

/// A pull request as the commands need it.
pub struct PullRequest {
    pub title: String,
    pub labels: Vec<String>,
    pub number: Option<u64>,
    pub url: Option<String>,
}

impl PullRequest {
    /// From `--title`, `--label`, `--pr`, `--url`, or with `--event` from
    /// the GitHub event payload.
    pub fn from_args(sh: &Shell, args: &flags::Parsed) -> Result<Option<PullRequest>> {
        if args.switch("event") {
            return PullRequest::from_event(sh);
        }
        let number = match args.value("pr") {
            Some(n) => Some(
                n.parse::<u64>()
                    .map_err(|_| BadInput(format!("--pr {n}: expected a pull-request number")))?,
            ),
            None => None,
        };
        Ok(Some(PullRequest {
            title: args.value("title").unwrap_or_default().to_string(),
            labels: args.values("label").to_vec(),
            number,
            url: args.value("url").map(str::to_string),
        }))
    }

    /// From the GitHub event payload: a `pull_request` event, or a push to
    /// the release branch, whose merged pull request is asked of the REST
    /// API. `None`: a push with no pull request (a direct push).
    pub fn from_event(sh: &Shell) -> Result<Option<PullRequest>> {
        let path = sh.var("GITHUB_EVENT_PATH").map_err(|_| {
            BadInput("--event needs GITHUB_EVENT_PATH (set by GitHub Actions)".into())
        })?;
        let text = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let event: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?;
        if event["pull_request"].is_object() {
            return Ok(Some(PullRequest::from_json(&event["pull_request"])));
        }
        let Some(sha) = event["after"].as_str() else {
            bail!(BadInput(format!(
                "{path} is neither a pull_request nor a push event"
            )));
        };
        let api = github::Api::from_env(sh, None)?.ok_or_else(|| {
            BadInput(
                "a push event needs GITHUB_TOKEN and GITHUB_REPOSITORY to find its pull request"
                    .into(),
            )
        })?;
        let pulls = api.pulls_for_commit(sha)?;
        let merged = pulls
            .iter()
            .find(|p| p["merge_commit_sha"].as_str() == Some(sha))
            .or_else(|| pulls.iter().find(|p| !p["merged_at"].is_null()));
        Ok(merged.map(PullRequest::from_json))
    }

    fn from_json(pr: &serde_json::Value) -> PullRequest {
        PullRequest {
            title: pr["title"].as_str().unwrap_or_default().to_string(),
            labels: pr["labels"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .filter_map(|l| l["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            number: pr["number"].as_u64(),
            url: pr["html_url"].as_str().map(str::to_string),
        }
    }
}

pub fn lint(pr: &PullRequest) -> Result<()> {
    let problems = pr_rules::lint(&pr.title, &pr.labels);
    if problems.is_empty() {
        println!("pull request title and labels are fine");
        return Ok(());
    }
    for p in &problems {
        println!("  - {p}");
    }
    bail!(
        "the pull request does not follow the project's rules ({} problem(s) above)",
        problems.len()
    )
}

pub struct AddOptions {
    /// `None`: the push had no pull request; nothing to add.
    pub pr: Option<PullRequest>,
    pub commit: bool,
    pub dry_run: bool,
    pub remote: String,
    pub branch: String,
}

pub fn changelog_add(sh: &Shell, root: &Utf8Path, opts: AddOptions) -> Result<()> {
    let Some(pr) = &opts.pr else {
        println!("this push has no merged pull request: no changelog entry to add");
        return Ok(());
    };
    let number = pr
        .number
        .ok_or_else(|| BadInput("the pull request number is missing: pass --pr N".into()))?;
    let url = pr
        .url
        .as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .ok_or_else(|| {
            BadInput("the pull request URL is missing or not http(s): pass --url URL".into())
        })?;
    let title = pr.title.trim();
    if title.is_empty() || title.contains(['\n', '\r']) {
        bail!(BadInput(
            "the pull request title must be one non-empty line: pass --title".into()
        ));
    }
    let category = pr_rules::category(&pr.labels);
    let entry = format!("- {title} ([#{number}]({url}))");
    let before = read(root, changelog::FILE)?;
    let after = match changelog::add_entry(&before, category, &entry, number)? {
        Edit::Unchanged => {
            println!(
                "#{number} already has an entry in {}: nothing to do",
                changelog::FILE
            );
            return Ok(());
        }
        Edit::Changed(after) => after,
    };
    ui::print_diff(changelog::FILE, &before, &after);
    let message = format!("Changelog: #{number} under {category}");
    if opts.dry_run {
        ui::would(&format!("write {}", changelog::FILE));
        if opts.commit {
            ui::would(&format!(
                "commit \"{message}\" and push {} to {}",
                opts.branch, opts.remote
            ));
        }
        return Ok(());
    }
    let git = Git::new(sh);
    if opts.commit {
        let dirty = git.dirty_files()?;
        if !dirty.is_empty() {
            bail!(BadInput(format!(
                "the working tree is not clean ({}): --commit commits only the changelog entry",
                dirty.join(", ")
            )));
        }
    }
    let path = root.join(changelog::FILE);
    fs::write(&path, &after).with_context(|| format!("writing {path}"))?;
    if opts.commit {
        git.commit(&[changelog::FILE], &message)?;
        let (remote, branch) = (&opts.remote, &opts.branch);
        git.push_with_retry(remote, branch, &[format!("{branch}:refs/heads/{branch}")])?;
        println!("committed and pushed: {message}");
    } else {
        println!("added under {category}: {entry}");
    }
    Ok(())
}
