//! `cargo xtask changelog-add` and `cargo xtask lint-pr`: the pull-request
//! side of the changelog. Title, labels and number come from flags or,
//! with `--event`, from the GitHub event payload (`GITHUB_EVENT_PATH`).
//!
//! Everything from an event is untrusted: it is checked field by field,
//! quoted only through `github::untrusted`, and the changelog gets the
//! title as inert Markdown and a URL built from the number and the
//! repository. Only a pull request merged into the release branch gets an
//! entry.

use std::fs;

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use serde_json::Value;
use xshell::{cmd, Shell};

use crate::changelog::{self, Edit};
use crate::flags;
use crate::git::Git;
use crate::github::{self, bool_field, inert, shown, string_field, untrusted};
use crate::input::{read, BadInput};
use crate::pr_rules;
use crate::ui;

/// A pull request as the commands need it.
pub struct PullRequest {
    pub title: String,
    pub labels: Vec<String>,
    pub number: Option<u64>,
    /// `--url` as given, checked against the number and repository.
    pub url: Option<String>,
    /// `owner/name` as the event names it.
    pub repository: Option<String>,
    pub merge: Merge,
}

/// Whether the pull request was merged, as far as the source says.
#[derive(Debug, PartialEq, Eq)]
pub enum Merge {
    /// From flags: the caller vouches for it.
    Given,
    /// Merged into this branch.
    Into(String),
    /// Not merged: why, for the log.
    Not(String),
}

impl PullRequest {
    /// From `--title`, `--label`, `--pr`, `--url`, or with `--event` from
    /// the GitHub event payload.
    pub fn from_args(sh: &Shell, args: &flags::Parsed) -> Result<Option<PullRequest>> {
        if args.switch("event") {
            return PullRequest::from_event(sh);
        }
        let number = match args.value("pr") {
            Some(n) => Some(n.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                BadInput(format!(
                    "--pr {}: expected a pull-request number",
                    untrusted(n)
                ))
            })?),
            None => None,
        };
        Ok(Some(PullRequest {
            title: args.value("title").unwrap_or_default().to_string(),
            labels: args.values("label").to_vec(),
            number,
            url: args.value("url").map(str::to_string),
            repository: None,
            merge: Merge::Given,
        }))
    }

    /// From the GitHub event payload: a `pull_request` event, or a push to
    /// the release branch whose merged pull request the REST API names.
    /// `None`: a push with no merged pull request (a direct push).
    pub fn from_event(sh: &Shell) -> Result<Option<PullRequest>> {
        let event = github::payload(sh)?.ok_or_else(|| {
            BadInput("--event needs GITHUB_EVENT_PATH (set by GitHub Actions)".into())
        })?;
        let repository = match event.get("repository") {
            None => None,
            Some(r) => Some(
                string_field(r, "full_name", "repository.full_name")
                    .map_err(malformed)?
                    .to_string(),
            ),
        };
        if let Some(pull) = event.get("pull_request") {
            return Self::from_pull_request_event(&event, pull, repository).map(Some);
        }
        if event.get("after").is_none() {
            bail!(malformed(
                "it is neither a pull_request event (`pull_request`) nor a push (`after`)".into()
            ));
        }
        let sha = string_field(&event, "after", "after").map_err(malformed)?;
        if sha.len() != 40 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            bail!(malformed(format!(
                "`after` is `{}`, not a commit id (40 hex digits)",
                untrusted(sha)
            )));
        }
        let git_ref = string_field(&event, "ref", "ref").map_err(malformed)?;
        let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
            bail!(malformed(format!(
                "`ref` is `{}`, not a branch (refs/heads/...)",
                untrusted(git_ref)
            )));
        };
        let api = github::Api::from_env(sh, None)?.ok_or_else(|| {
            BadInput(
                "a push event needs GITHUB_TOKEN and GITHUB_REPOSITORY to find its pull request"
                    .into(),
            )
        })?;
        // An error here (404, 403, rate limit) loses the entry if passed
        // over: it stops the job instead.
        let pulls = api
            .pulls_for_commit(sha)
            .with_context(|| format!("finding the pull request merged as {sha}"))?;
        let mut merged = merged_into(&pulls, sha, branch)?;
        match merged.len() {
            0 => Ok(None),
            1 => {
                let (mut pr, _) = merged.remove(0);
                pr.repository = Some(api.repository.clone()).or(repository);
                pr.merge = Merge::Into(branch.to_string());
                Ok(Some(pr))
            }
            _ => {
                let list: Vec<String> = merged
                    .iter()
                    .map(|(p, _)| format!("#{}", p.number.unwrap_or_default()))
                    .collect();
                bail!(BadInput(format!(
                    "commit {sha} belongs to {} merged pull requests into `{}` ({}): add the \
right one by hand with `cargo xtask changelog-add --pr N --title ... --label ...`",
                    merged.len(),
                    untrusted(branch),
                    list.join(", ")
                )))
            }
        }
    }

    /// A `pull_request` event: the pull request, and whether it merged.
    fn from_pull_request_event(
        event: &Value,
        pull: &Value,
        repository: Option<String>,
    ) -> Result<PullRequest> {
        let action = string_field(event, "action", "action").map_err(malformed)?;
        let merge = match action {
            "closed" => {
                if bool_field(pull, "merged", "pull_request.merged").map_err(malformed)? {
                    Merge::Into(base_branch(pull, "pull_request").map_err(malformed)?)
                } else {
                    Merge::Not("the pull request was closed without merging".into())
                }
            }
            other => Merge::Not(format!(
                "the pull request event is `{}`, not a merge (`closed` with `merged: true`)",
                untrusted(other)
            )),
        };
        let mut pr = from_json(pull, "pull_request").map_err(malformed)?;
        pr.repository = repository;
        pr.merge = merge;
        Ok(pr)
    }
}

/// The pull requests merged into `branch` that contain commit `sha`, each
/// once, with whether `sha` is its merge commit.
fn merged_into(pulls: &[Value], sha: &str, branch: &str) -> Result<Vec<(PullRequest, bool)>> {
    let mut merged = Vec::new();
    for (n, pull) in pulls.iter().enumerate() {
        let what = format!("[{n}]");
        let pr = from_json(pull, &what).map_err(unexpected(sha))?;
        let is_merged = matches!(pull.get("merged_at"), Some(Value::String(_)));
        if is_merged && base_branch(pull, &what).map_err(unexpected(sha))? == branch {
            let exact = pull.get("merge_commit_sha").and_then(Value::as_str) == Some(sha);
            if !merged
                .iter()
                .any(|(p, _): &(PullRequest, bool)| p.number == pr.number)
            {
                merged.push((pr, exact));
            }
        }
    }
    // The pull request whose merge commit this is, when the API names
    // several that contain it.
    if merged.iter().filter(|(_, exact)| *exact).count() == 1 {
        merged.retain(|(_, exact)| *exact);
    }
    Ok(merged)
}

fn malformed(why: String) -> BadInput {
    BadInput(format!("the event payload (GITHUB_EVENT_PATH): {why}"))
}

/// The GitHub API answered something that is not a pull request: an
/// environment failure, not the caller's input.
fn unexpected(sha: &str) -> impl Fn(String) -> anyhow::Error + '_ {
    move |why| anyhow::anyhow!("the GitHub API's pull requests of {sha}: {why}")
}

/// The branch a pull request targets (`base.ref`).
fn base_branch(pull: &Value, what: &str) -> Result<String, String> {
    let base = pull.get("base").unwrap_or(&Value::Null);
    Ok(string_field(base, "ref", &format!("{what}.base.ref"))?.to_string())
}

/// Number, title and labels of a pull-request object, each checked: a
/// missing or mistyped field is bad input naming it.
fn from_json(pr: &Value, what: &str) -> Result<PullRequest, String> {
    if !pr.is_object() {
        return Err(format!("`{what}` is {}, not an object", shown(pr)));
    }
    let number = match pr.get("number") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n > 0) => n.as_u64(),
        Some(other) => {
            return Err(format!(
                "`{what}.number` is {}, not a pull-request number",
                shown(other)
            ))
        }
        None => return Err(format!("`{what}.number` is missing")),
    };
    let title = string_field(pr, "title", &format!("{what}.title"))?;
    let labels = match pr.get("labels") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(labels)) => labels
            .iter()
            .map(|l| string_field(l, "name", &format!("{what}.labels[].name")).map(str::to_string))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("`{what}.labels` is {}, not a list", shown(other))),
    };
    Ok(PullRequest {
        title: title.to_string(),
        labels,
        number,
        url: None,
        repository: None,
        merge: Merge::Given,
    })
}

/// Lints title and labels; every problem is printed (quoted inertly) and
/// the command fails when there is one.
pub fn lint(pr: &PullRequest) -> Result<()> {
    let problems = pr_rules::lint(&pr.title, &pr.labels);
    if problems.is_empty() {
        println!("pull request title and labels are fine");
        return Ok(());
    }
    for p in &problems {
        println!("  - {}", inert(p));
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
    /// `[tool.xtask]` changelog style; unset parts are read from the file.
    pub style: crate::settings::ChangelogStyle,
}

/// The pull request's page: built from the number and the repository
/// (GITHUB_REPOSITORY, else the event's, else `--url` checked to be
/// exactly such a page), on GITHUB_SERVER_URL (default github.com).
fn pull_url(sh: &Shell, pr: &PullRequest, number: u64) -> Result<String> {
    let server = sh
        .var("GITHUB_SERVER_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://github.com".into());
    let server = pr_rules::check_server(&server).map_err(BadInput)?;
    let known = sh
        .var("GITHUB_REPOSITORY")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| pr.repository.clone())
        .or_else(|| {
            cmd!(sh, "git remote get-url origin")
                .quiet()
                .ignore_stderr()
                .read()
                .ok()
                .and_then(|u| github::repository_from_url(&u))
        });
    let repository = match (&pr.url, known) {
        (Some(url), known) => {
            let named = pr_rules::repository_of_url(url, server, number)
                .map_err(|why| BadInput(format!("--url: {why}")))?;
            if let Some(known) = known.filter(|k| *k != named) {
                bail!(BadInput(format!(
                    "--url names `{named}`, but this repository is `{}`: pass the URL of \
pull request #{number} here",
                    untrusted(&known)
                )));
            }
            named
        }
        (None, Some(known)) => known,
        (None, None) => bail!(BadInput(format!(
            "the repository is unknown: set GITHUB_REPOSITORY=OWNER/NAME or pass --url \
{server}/OWNER/NAME/pull/{number}"
        ))),
    };
    Ok(pr_rules::pull_url(server, &repository, number).map_err(BadInput)?)
}

pub fn changelog_add(sh: &Shell, root: &Utf8Path, opts: AddOptions) -> Result<()> {
    let Some(pr) = &opts.pr else {
        println!("this push has no merged pull request: no changelog entry to add");
        return Ok(());
    };
    match &pr.merge {
        Merge::Given => {}
        Merge::Not(why) => {
            println!("{why}: not merged, so no changelog entry");
            return Ok(());
        }
        Merge::Into(base) if *base != opts.branch => {
            println!(
                "the pull request was merged into `{}`, not the release branch `{}`: no \
changelog entry",
                untrusted(base),
                opts.branch
            );
            return Ok(());
        }
        Merge::Into(_) => {}
    }
    let number = pr
        .number
        .ok_or_else(|| BadInput("the pull request number is missing: pass --pr N".into()))?;
    let title = pr_rules::title_text(&pr.title).map_err(|why| {
        BadInput(format!(
            "pull request #{number}'s title `{}`: {why} (pass --title)",
            untrusted(&pr.title)
        ))
    })?;
    let url = pull_url(sh, pr, number)?;
    let category = pr_rules::category(&pr.labels);
    let entry = pr_rules::entry(title, number, &url);
    let git = Git::new(sh);
    if opts.commit && !opts.dry_run {
        on_release_branch(sh, &git, &opts.branch)?;
        let dirty = git.dirty_files()?;
        if !dirty.is_empty() {
            bail!(BadInput(format!(
                "the working tree is not clean ({}): --commit commits only the changelog entry",
                dirty.join(", ")
            )));
        }
        follow_remote(&git, &opts.remote, &opts.branch)?;
    }
    let before = read(root, changelog::FILE)?;
    let after = match changelog::add_entry_with(&before, category, &entry, number, &opts.style)? {
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
    let path = root.join(changelog::FILE);
    fs::write(&path, &after).with_context(|| format!("writing {path}"))?;
    if opts.commit {
        git.commit(&[changelog::FILE], &message)?;
        let (remote, branch) = (&opts.remote, &opts.branch);
        git.push_with_retry(remote, branch, &[format!("{branch}:refs/heads/{branch}")])?;
        println!("committed and pushed: {message}");
    } else {
        println!("added under {category}: {}", inert(&entry));
    }
    Ok(())
}

/// `--commit` adds the entry to the remote's branch: a clone whose branch
/// is behind it (its remote-tracking ref stale, or missing) is brought up
/// to date first, so the entry is written on the remote's file and does
/// not conflict with entries added there since. A branch with commits of
/// its own is left as it is (the push rebases them).
fn follow_remote(git: &Git, remote: &str, branch: &str) -> Result<()> {
    if !git.remote_has_branch(remote, branch)? {
        return Ok(());
    }
    git.fetch_branch(remote, branch)?;
    let upstream = format!("refs/remotes/{remote}/{branch}");
    let local = format!("refs/heads/{branch}");
    if git.commit_of(&local)? == git.commit_of(&upstream)? || !git.is_ancestor(&local, &upstream)? {
        return Ok(());
    }
    git.fast_forward(&upstream)
        .with_context(|| format!("fast-forwarding {branch} to {remote}/{branch}"))?;
    println!(
        "`{branch}` was behind {remote}/{branch}: fast-forwarded to it before adding the entry"
    );
    Ok(())
}

/// `--commit` pushes the release branch: HEAD must be on it. When the
/// branch does not exist here, the project probably names it differently.
fn on_release_branch(sh: &Shell, git: &Git, branch: &str) -> Result<()> {
    let current = git.current_branch()?;
    if current.as_deref() == Some(branch) {
        return Ok(());
    }
    let listing = xshell::cmd!(sh, "git for-each-ref --format=%(refname:short) refs/heads/")
        .quiet()
        .read()
        .context("listing the local branches")?;
    let branches: Vec<&str> = listing.lines().collect();
    bail!(BadInput(branch_hint(branch, current.as_deref(), &branches)))
}

/// The refusal when HEAD is not on the release branch `branch`.
pub fn branch_hint(branch: &str, current: Option<&str>, branches: &[&str]) -> String {
    let here = current.map_or("no branch (detached)".to_string(), |b| {
        format!("`{}`", crate::input::clip(b))
    });
    if branches.contains(&branch) {
        return format!(
            "--commit commits to the release branch `{branch}`, but HEAD is on {here}: run `git switch {branch}`"
        );
    }
    let example = current.unwrap_or("main");
    format!(
        "--commit commits to the release branch `{branch}`, which does not exist in this clone \
(branches: {}): if this project releases from another branch, set `release-branch = \"{}\"` \
in [tool.xtask] of pyproject.toml, or pass --root-branch {}",
        if branches.is_empty() {
            "none".to_string()
        } else {
            branches
                .iter()
                .map(|b| crate::input::clip(b))
                .collect::<Vec<_>>()
                .join(", ")
        },
        crate::input::clip(example),
        crate::input::clip(example),
    )
}

#[cfg(test)]
mod branch_tests {
    use super::branch_hint;

    #[test]
    fn a_missing_release_branch_says_how_to_configure_another() {
        let m = branch_hint("root", Some("main"), &["main", "docs"]);
        assert!(
            m.contains("does not exist in this clone (branches: main, docs)"),
            "{m}"
        );
        assert!(
            m.contains("release-branch = \"main\"` in [tool.xtask]"),
            "{m}"
        );
        assert!(m.contains("--root-branch main"), "{m}");
        let m = branch_hint("root", Some("feature"), &["root", "feature"]);
        assert!(m.ends_with("run `git switch root`"), "{m}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_request_objects_are_checked_field_by_field() {
        let good = json!({"number": 5, "title": "✨ Add x", "labels": [{"name": "bug"}]});
        let pr = from_json(&good, "pull_request").expect("good");
        assert_eq!((pr.number, pr.title.as_str()), (Some(5), "✨ Add x"));
        assert_eq!(pr.labels, vec!["bug".to_string()]);
        for (bad, why) in [
            (json!({"title": "x"}), "`pull_request.number` is missing"),
            (
                json!({"number": "5", "title": "x"}),
                "`pull_request.number` is `5`",
            ),
            (
                json!({"number": 0, "title": "x"}),
                "not a pull-request number",
            ),
            (
                json!({"number": -1, "title": "x"}),
                "not a pull-request number",
            ),
            (json!({"number": 5}), "`pull_request.title` is missing"),
            (json!({"number": 5, "title": ["x"]}), "not a string"),
            (
                json!({"number": 5, "title": "x", "labels": "bug"}),
                "not a list",
            ),
            (
                json!({"number": 5, "title": "x", "labels": [{}]}),
                "labels[].name` is missing",
            ),
            (
                json!({"number": 5, "title": "x", "labels": [{"name": 1}]}),
                "not a string",
            ),
            (json!("x"), "not an object"),
        ] {
            let err = from_json(&bad, "pull_request")
                .err()
                .map(|e| format!("{e:#}"));
            let err = err.unwrap_or_default();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
