//! `cargo xtask release-rollback vX.Y.Z`: the guide's release rollback,
//! step by step. Only the newest release can be rolled back. Delete the
//! GitHub Release; with `--delete-tag`, the tag (here and on the remote);
//! check the index, where yanking is a manual step (the upload API has
//! none), and with `--wait` poll until the index shows the version yanked.
//! It says which case applies: a version the index never received may be
//! tagged again; one the index lists is spent, the next release is the
//! next patch.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::changelog;
use crate::git::Git;
use crate::github;
use crate::index::{self, IndexConfig, IndexFile};
use crate::input::clip;
use crate::input::{read, BadInput};
use crate::pyproject;
use crate::ui::{self, Steps};
use crate::version::Tag;

pub struct Options {
    pub tag: Tag,
    pub delete_tag: bool,
    pub yes: bool,
    pub wait: bool,
    pub dry_run: bool,
    pub remote: String,
}

/// Default bound of `--wait`, in seconds.
const YANK_TIMEOUT: u64 = 900;
const POLL: Duration = Duration::from_secs(2);

/// Which rollback this is, decided before anything changes.
#[derive(Debug, PartialEq, Eq)]
pub enum Case {
    /// No file of the version is on the index: the tag may be reused.
    NeverIndexed,
    /// The index lists the version (yanked or not): it is spent.
    Indexed { next: Tag },
}

/// What the index says about one version: `(version, every file yanked)`.
pub type Listed = (semver::Version, bool);

/// Whether `tag` may be rolled back, and which case applies. Refused (bad
/// input) when the version was never released (no tag, no GitHub Release,
/// no file on the index), or when a newer release exists (a newer tag, or
/// a newer version the index serves).
pub fn scope(
    tag: &Tag,
    tags: &[Tag],
    listed: &[Listed],
    has_release: bool,
    manage: &str,
) -> Result<Case, BadInput> {
    let version = tag.version_ref();
    let on_index = listed.iter().any(|(v, _)| v == version);
    if !on_index && !tags.contains(tag) && !has_release {
        return Err(BadInput(format!(
            "{tag} was never released: no tag {tag} here or on the remote, no GitHub Release, \
no file of {} on the index; nothing to roll back (`cargo xtask status` lists what is released)",
            tag.pep440()
        )));
    }
    let newer_tag = tags.iter().filter(|t| *t > tag).max();
    let newer_live = listed
        .iter()
        .filter(|(v, yanked)| v > version && !yanked)
        .map(|(v, _)| v)
        .max();
    let newer = match (newer_tag, newer_live) {
        (Some(t), Some(v)) if v > t.version_ref() => Some(format!("{v} on the index")),
        (Some(t), _) => Some(format!("tag {t}")),
        (None, Some(v)) => Some(format!("{v} on the index")),
        (None, None) => None,
    };
    if let Some(newer) = newer {
        return Err(BadInput(format!(
            "{tag} is not the newest release ({newer} is newer): versions are linear, only the \
newest release is rolled back. Instead: to stop new installs of {}, yank it by hand at {manage}; \
to ship a fix, release the version after the newest (`cargo xtask status` names it), or roll \
back the newer release first",
            tag.pep440()
        )));
    }
    if !on_index {
        return Ok(Case::NeverIndexed);
    }
    let highest = listed
        .iter()
        .map(|(v, _)| v)
        .chain(tags.iter().map(Tag::version_ref))
        .max()
        .unwrap_or(version);
    let spent = Tag::parse(&format!("v{highest}")).unwrap_or_else(|_| tag.clone());
    Ok(Case::Indexed {
        next: spent.next_patch(),
    })
}

/// `XTASK_YANK_TIMEOUT`: whole seconds (`900`), or with a unit (`5s`,
/// `2m`, `1h`); anything else is refused rather than guessed.
pub fn parse_timeout(text: &str) -> Result<Duration, BadInput> {
    let bad = || {
        BadInput(format!(
            "XTASK_YANK_TIMEOUT is `{}`: expected whole seconds such as `900`, or a number with \
a unit: `5s`, `2m`, `1h` (at most 24h)",
            clip(text)
        ))
    };
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(bad()),
    };
    let seconds = n
        .checked_mul(scale)
        .filter(|s| *s <= 86_400)
        .ok_or_else(bad)?;
    Ok(Duration::from_secs(seconds))
}

/// What one look at the index showed.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// Every listed file of the version carries the yank flag (PEP 592).
    Yanked,
    /// Files of the version are listed, `live` of them not yanked.
    Live { files: usize, live: usize },
    /// The page lists no file of the version (or answered `status`).
    Missing { status: u16 },
    /// No usable answer: an HTTP error, a timeout, an unparsable page.
    Failed(String),
}

impl Seen {
    pub fn of(project: &str, version: &str, listed: &[IndexFile], status: u16) -> Seen {
        let files = index::version_files(project, version, listed);
        let live = files.iter().filter(|f| !f.yanked).count();
        match (files.len(), live) {
            (0, _) => Seen::Missing { status },
            (_, 0) => Seen::Yanked,
            (files, live) => Seen::Live { files, live },
        }
    }

    fn describe(&self, version: &str) -> String {
        match self {
            Seen::Yanked => format!("{version} is yanked"),
            Seen::Live { files, live } => {
                format!("{live} of {files} file(s) of {version} not yanked")
            }
            Seen::Missing { status: 200 } => format!("the page lists no file of {version}"),
            Seen::Missing { status } => format!("the project page answered {status}"),
            Seen::Failed(why) => why.clone(),
        }
    }
}

/// The GitHub side, read before the plan.
enum Github {
    NoToken,
    Absent {
        api: github::Api,
    },
    Present {
        api: github::Api,
        id: u64,
        name: String,
    },
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let tag = &opts.tag;
    let remote = &opts.remote;
    let git = Git::new(sh);
    let project = pyproject::read_name(&read(root, pyproject::FILE)?)?;
    let version = tag.pep440();
    // Settings first: a bad one refuses before any call.
    let timeout = match sh.var("XTASK_YANK_TIMEOUT").ok().filter(|_| opts.wait) {
        Some(text) => parse_timeout(text.trim())?,
        None => Duration::from_secs(YANK_TIMEOUT),
    };

    // Read everything, decide, then show the plan.
    let local_tags = git.release_tags()?;
    let remote_tags = remote_release_tags(sh, remote)?;
    let local_tag = local_tags.contains(tag);
    let remote_tag = remote_tags.contains(tag);
    let config = IndexConfig::from_env(sh, root)?;
    let listing = config.fetch(&project).context(
        "reading the package index: the rollback needs to know whether the version reached it",
    )?;
    let manage = index::manage_url(&config.upload_url, &project, &version);
    let github = github_state(sh, remote, tag)?;
    let mut tags = local_tags;
    tags.extend(remote_tags);
    tags.sort();
    tags.dedup();
    let case = scope(
        tag,
        &tags,
        &listed_versions(&project, &listing),
        matches!(github, Github::Present { .. }),
        &manage,
    )?;

    print_scope(sh, &config, &case, tag);
    print_github_step(&github, tag);
    print_tag_step(&opts, local_tag, remote_tag, &github);
    // A version the index received stays spent even while its tag stands:
    // the remote keeps a record `tag` reads.
    let record = match &case {
        Case::Indexed { .. } => rollback_record(&git, remote, tag)?,
        Case::NeverIndexed => None,
    };
    print_record(record.as_ref(), remote, tag);
    let seen = Seen::of(&project, &version, &listing, 200);
    print_index_step(&seen, &project, &version, &manage, opts.wait);
    if opts.dry_run {
        ui::would("apply the steps above");
        return Ok(());
    }
    if !opts.yes {
        confirm(tag)?;
    }

    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = (|| -> Result<()> {
        if let Github::Present { api, id, .. } = &github {
            steps.run("delete the GitHub Release", || {
                delete_github_release(api, *id)
            })?;
        }
        if let Some(Record {
            commit,
            exists: false,
        }) = &record
        {
            steps.run("record the rollback", || {
                record_rollback(sh, &git, remote, tag, commit)
            })?;
        }
        if opts.delete_tag && (local_tag || remote_tag) {
            steps.run("delete the tag", || {
                delete_tag(sh, &opts, local_tag, remote_tag, &github)
            })?;
        }
        if opts.wait {
            match seen {
                Seen::Live { .. } => steps.run("wait for the yank", || {
                    wait_for_yank(&config, &project, tag, &manage, timeout)
                })?,
                _ => println!(
                    "    --wait: nothing to wait for ({})",
                    seen.describe(&version)
                ),
            }
        }
        Ok(())
    })();
    steps.summary();
    result?;
    print_next(root, &case, &opts);
    Ok(())
}

fn print_scope(sh: &Shell, config: &IndexConfig, case: &Case, tag: &Tag) {
    let version = tag.pep440();
    println!("release rollback of {tag}:");
    println!("  index: {}", config.describe(sh));
    match case {
        Case::Indexed { next } => {
            println!("  {version} is on the index: the next release is {next}")
        }
        Case::NeverIndexed => {
            println!("  {version} never reached the index: the tag may be reused")
        }
    }
}

fn print_github_step(github: &Github, tag: &Tag) {
    match github {
        Github::NoToken => println!("  1. GitHub Release: not checked (no GITHUB_TOKEN): delete it by hand on the repository's Releases page first"),
        Github::Present { api, id, name } => println!(
            "  1. GitHub Release `{}` (id {id}) in {}: DELETE /repos/{}/releases/{id}",
            clip(name),
            api.repository,
            api.repository
        ),
        Github::Absent { api } => println!(
            "  1. GitHub Release: none for {tag} in {} (its release list proves it)",
            api.repository
        ),
    }
}

fn print_tag_step(opts: &Options, local_tag: bool, remote_tag: bool, github: &Github) {
    let (tag, remote) = (&opts.tag, &opts.remote);
    let delete_remote = format!(":{}", Git::tag_ref(tag));
    match (opts.delete_tag, local_tag || remote_tag) {
        (false, true) => println!("  2. tag: kept (pass --delete-tag to delete it)"),
        (false, false) => println!("  2. tag: {tag} exists neither here nor on {remote}"),
        (true, false) => println!("  2. tag: {tag} exists neither here nor on {remote}"),
        (true, true) => {
            println!("  2. tag:");
            if local_tag {
                println!("     git tag -d {tag}");
            }
            if remote_tag {
                println!("     git push --quiet --end-of-options {remote} {delete_remote}");
            }
            if matches!(github, Github::Present { .. }) {
                println!("     note: a repository with immutable releases reserves a released tag name for good");
            }
        }
    }
}

fn print_record(record: Option<&Record>, remote: &str, tag: &Tag) {
    let version = tag.pep440();
    if let Some(Record { commit, exists }) = record {
        let name = Git::rollback_ref(tag);
        if *exists {
            println!("  record: {name} on {remote} already marks {version} as spent");
        } else {
            println!(
                "  record: git push --quiet --end-of-options {remote} {commit}:{name} \
(marks {version} as spent for `cargo xtask tag`)"
            );
        }
    }
}

fn print_index_step(seen: &Seen, project: &str, version: &str, manage: &str, wait: bool) {
    match seen {
        Seen::Missing { .. } | Seen::Failed(_) => {
            println!("  3. index: {project} {version} is not on the index")
        }
        Seen::Yanked => println!("  3. index: {project} {version} is already yanked"),
        Seen::Live { .. } => println!(
            "  3. index: {project} {version} is live; yanking is manual: open {manage}, choose Yank and give the reason{}",
            if wait { "; then wait until the index shows it yanked" } else { "" }
        ),
    }
}

/// The GitHub Release deleted, as its release list proves.
fn delete_github_release(api: &github::Api, id: u64) -> Result<String> {
    api.delete_release(id).with_context(|| {
        format!(
            "GitHub still lists release {id}: the tag was not touched. Delete the \
Release on the repository's Releases page (or give the token contents: write), then run this again"
        )
    })?;
    // A 404 from the delete may mean "not visible with this
    // token": only the release list proves it is gone.
    match api.releases()? {
        list if list.iter().any(|r| r["id"].as_u64() == Some(id)) => bail!(
            "GitHub still lists release {id} of {} after the DELETE: the token may \
not be allowed to delete it (it needs contents: write); the tag was not touched. Delete the \
Release on the repository's Releases page, then run this again",
            api.repository
        ),
        _ => Ok(format!("deleted release {id}")),
    }
}

/// The rollback recorded on the remote, at the tag's commit.
fn record_rollback(sh: &Shell, git: &Git, remote: &str, tag: &Tag, commit: &str) -> Result<String> {
    if git.commit_of(commit)?.is_none() {
        // The tag is only on the remote: its commit is fetched
        // (into FETCH_HEAD alone) so it can be pointed at.
        let tag_ref = Git::tag_ref(tag);
        cmd!(
            sh,
            "git fetch --quiet --no-tags --end-of-options {remote} {tag_ref}"
        )
        .quiet()
        .run()
        .with_context(|| format!("fetching {tag} from {remote}"))?;
    }
    let refspec = format!("{commit}:{}", Git::rollback_ref(tag));
    cmd!(sh, "git push --quiet --end-of-options {remote} {refspec}")
        .quiet()
        .run()
        .with_context(|| {
            format!(
                "recording the rollback of {tag} on {remote} (the GitHub Release step \
is done; run this again to finish)"
            )
        })?;
    Ok(format!("{} on {remote}", Git::rollback_ref(tag)))
}

fn delete_tag(
    sh: &Shell,
    opts: &Options,
    local_tag: bool,
    remote_tag: bool,
    github: &Github,
) -> Result<String> {
    let (tag, remote) = (&opts.tag, &opts.remote);
    let delete_remote = format!(":{}", Git::tag_ref(tag));
    let name = tag.to_string();
    if local_tag {
        cmd!(sh, "git tag -d {name}")
            .quiet()
            .ignore_stdout()
            .run()?;
    }
    if remote_tag {
        let refused = cmd!(
            sh,
            "git push --quiet --end-of-options {remote} {delete_remote}"
        )
        .quiet()
        .ignore_status()
        .output()
        .with_context(|| format!("deleting {tag} on {remote}"))?;
        if !refused.status.success() {
            bail!(
                "{remote} refused to delete the tag {tag} ({}). Done: {}. Not done: \
{tag} still stands on {remote}{}. A tag protection rule or a pre-receive hook refuses it: once \
the remote allows the deletion, run this rollback again; it converges, finding {} and deleting \
only the remote tag",
                git_reason(&refused.stderr),
                done_before_tag(github, local_tag, tag),
                if opts.wait {
                    "; the yank was not waited for"
                } else {
                    ""
                },
                match github {
                    Github::Present { .. } => "the GitHub Release gone",
                    _ => "nothing else left to do",
                }
            );
        }
    }
    Ok(format!("{tag} deleted"))
}

/// What comes after the rollback: the next version, or the tag again.
fn print_next(root: &Utf8Path, case: &Case, opts: &Options) {
    let tag = &opts.tag;
    let version = tag.pep440();
    match (case, opts.delete_tag) {
        (Case::Indexed { next }, _) => println!(
            "\nnext: {version} is spent. Fix on root (with its changelog entry under `## Recent Changes`), then cut {next} with `cargo xtask tag {next}` and publish it as a GitHub Release titled `{next}`"
        ),
        // The release commit (`## vX.Y.Z`) is still on root: `tag` would
        // count that heading as a release, so it is reverted first.
        (Case::NeverIndexed, true) if heading_stands(root, tag) => println!(
            "\nnext: {version} never reached the index, so {tag} may be tagged again. CHANGELOG.md \
still has `## {tag}`: first put `## {}` back with `cargo xtask release {tag} --step revert`, \
then fix on root, then `cargo xtask tag {tag}`",
            changelog::RECENT
        ),
        (Case::NeverIndexed, true) => println!(
            "\nnext: {version} never reached the index, so {tag} may be tagged again: fix on root, then `cargo xtask tag {tag}`"
        ),
        (Case::NeverIndexed, false) => println!(
            "\nnext: {tag} still stands; to tag the fix as {tag}, run this again with --delete-tag, then `cargo xtask tag {tag}`"
        ),
    }
}

/// The remote's record that a version was rolled back.
struct Record {
    /// The commit the record points at: the tag's.
    commit: String,
    /// Already on the remote (a re-run).
    exists: bool,
}

/// The record to push (or found): `None` when no tag of the version is
/// left to point it at (the index alone then says the version is spent).
fn rollback_record(git: &Git, remote: &str, tag: &Tag) -> Result<Option<Record>> {
    if let Some(commit) = git.remote_rollback(remote, tag)? {
        return Ok(Some(Record {
            commit,
            exists: true,
        }));
    }
    // The local tag's commit when there is one; the remote is asked only
    // for a tag that exists there alone.
    let commit = match git.commit_of(&Git::tag_ref(tag))? {
        Some(commit) => Some(commit),
        None => {
            let name = tag.to_string();
            git.remote_tags(remote)?
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, c)| c)
        }
    };
    Ok(commit.map(|commit| Record {
        commit,
        exists: false,
    }))
}

/// What a rollback had done when the remote refused the tag deletion.
fn done_before_tag(github: &Github, local_tag: bool, tag: &Tag) -> String {
    let mut done = Vec::new();
    match github {
        Github::Present { id, api, .. } => done.push(format!(
            "the GitHub Release {id} in {} is deleted",
            api.repository
        )),
        Github::Absent { .. } => done.push("there was no GitHub Release to delete".into()),
        Github::NoToken => done.push("the GitHub Release was not checked (no GITHUB_TOKEN)".into()),
    }
    if local_tag {
        done.push(format!("the local tag {tag} is deleted"));
    }
    done.join(", ")
}

/// git's own reason for a refused push: its `error:`/`remote:` lines, one line.
fn git_reason(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let all: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let told: Vec<&str> = all
        .iter()
        .copied()
        .filter(|l| l.starts_with("remote:") || l.starts_with('!'))
        .collect();
    let lines = if told.is_empty() { all } else { told };
    clip(&crate::secrets::redact(&lines.join("; ")))
}

/// Whether this clone's CHANGELOG.md has the tag's `## vX.Y.Z` section.
fn heading_stands(root: &Utf8Path, tag: &Tag) -> bool {
    read(root, changelog::FILE).is_ok_and(|log| changelog::section(&log, tag).is_some())
}

/// Every version the index lists, with whether all its files are yanked.
fn listed_versions(project: &str, listing: &[IndexFile]) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    for file in listing {
        let Some((name, version)) = index::file_version(&file.filename) else {
            continue;
        };
        let Ok(v) = semver::Version::parse(&version) else {
            continue;
        };
        if name != index::normalize(project) || out.iter().any(|(x, _)| *x == v) {
            continue;
        }
        let yanked = Seen::of(project, &version, listing, 200) == Seen::Yanked;
        out.push((v, yanked));
    }
    out
}

/// The remote's release tags (a read, no fetch).
fn remote_release_tags(sh: &Shell, remote: &str) -> Result<Vec<Tag>> {
    let out = cmd!(sh, "git ls-remote --tags --refs --end-of-options {remote}")
        .quiet()
        .read()
        .with_context(|| format!("listing the tags on {remote}"))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once("refs/tags/"))
        .filter_map(|(_, name)| Tag::from_git(name.trim()))
        .collect())
}

/// The GitHub Release of the tag. A 404 from the lookup proves nothing:
/// the release list must answer and not hold the tag.
fn github_state(sh: &Shell, remote: &str, tag: &Tag) -> Result<Github> {
    if sh.var("GITHUB_TOKEN").map_or(true, |t| t.is_empty()) {
        return Ok(Github::NoToken);
    }
    let origin = cmd!(sh, "git remote get-url --end-of-options {remote}")
        .quiet()
        .ignore_stderr()
        .read()
        .ok();
    let Some(api) = github::Api::from_env(sh, origin.as_deref())? else {
        bail!(BadInput(format!(
            "GITHUB_TOKEN is set but the repository is unknown: set GITHUB_REPOSITORY to \
owner/name (the URL of `{remote}`, {}, is not a GitHub URL)",
            clip(origin.as_deref().unwrap_or("unreadable"))
        )));
    };
    // A 404 from the lookup counts as "absent" only when the release list
    // answers and lacks the tag (the API client checks that).
    let found = api
        .release_for_tag(tag)
        .context("Nothing was changed: the GitHub Release of the tag could not be read")?;
    Ok(match found {
        Some(release) => Github::Present {
            id: release["id"]
                .as_u64()
                .context("the GitHub Release has no id")?,
            name: release["name"].as_str().unwrap_or("?").to_string(),
            api,
        },
        None => Github::Absent { api },
    })
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

/// Polls until the index lists every file of the version as yanked. Any
/// other answer (live files, no files, 404, 5xx, a timeout) is looked at
/// again until the budget is spent, then reported as last seen.
fn wait_for_yank(
    config: &IndexConfig,
    project: &str,
    tag: &Tag,
    manage: &str,
    budget: Duration,
) -> Result<String> {
    let version = tag.pep440();
    let start = Instant::now();
    let url = format!(
        "{}/{}/",
        config.simple_base.trim_end_matches('/'),
        index::normalize(project)
    );
    println!(
        "    waiting up to {} s until {url} shows {version} yanked (yank it at {manage})",
        budget.as_secs()
    );
    loop {
        let left = budget.saturating_sub(start.elapsed());
        let seen = look(
            config,
            &url,
            project,
            &version,
            left.max(Duration::from_secs(1)),
        );
        if seen == Seen::Yanked {
            return Ok(format!("{version} is yanked"));
        }
        let left = budget.saturating_sub(start.elapsed());
        if left.is_zero() {
            bail!(
                "{version} is not shown yanked after {} s; last seen: {}. Yank it at {manage}, \
then run `cargo xtask release-rollback {tag} --yes --wait` again",
                budget.as_secs(),
                seen.describe(&version)
            );
        }
        std::thread::sleep(POLL.min(left));
    }
}

/// One look at the project page, bounded by `timeout`: the one agent (its
/// trusted certificates) and the index URL's credentials, as every read.
fn look(config: &IndexConfig, url: &str, project: &str, version: &str, timeout: Duration) -> Seen {
    let agent = match crate::http::agent() {
        Ok(agent) => agent,
        Err(e) => return Seen::Failed(format!("{e:#}")),
    };
    let mut request = agent
        .get(url)
        .config()
        .timeout_global(Some(timeout))
        .build()
        .header(
            "Accept",
            "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1",
        );
    if let Some(auth) = config.read_authorization() {
        request = request.header("Authorization", &auth);
    }
    let answer = request.call();
    let mut response = match answer {
        Ok(r) => r,
        Err(e) => return Seen::Failed(format!("no answer from {url}: {e}")),
    };
    let status = response.status().as_u16();
    if status == 404 {
        return Seen::Missing { status };
    }
    if status != 200 {
        return Seen::Failed(format!("the index answered {status} for {url}"));
    }
    match response.body_mut().read_to_string() {
        Ok(body) => match index::parse_project_page(&body) {
            Ok(listed) => Seen::of(project, version, &listed, status),
            Err(e) => Seen::Failed(format!("{url}: {e:#}")),
        },
        Err(e) => Seen::Failed(format!("reading {url}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> Tag {
        Tag::parse(s).expect("tag")
    }

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).expect("version")
    }

    #[test]
    fn the_case_and_the_next_release() {
        let t = tag("v0.7.0");
        let tags = [tag("v0.6.0"), tag("v0.7.0")];
        assert_eq!(
            scope(
                &t,
                &tags,
                &[(v("0.6.0"), false), (v("0.7.0"), false)],
                true,
                "M"
            ),
            Ok(Case::Indexed {
                next: tag("v0.7.1")
            })
        );
        // Already yanked and untagged (a re-run): still spent.
        assert_eq!(
            scope(&t, &[tag("v0.6.0")], &[(v("0.7.0"), true)], false, "M"),
            Ok(Case::Indexed {
                next: tag("v0.7.1")
            })
        );
        assert_eq!(
            scope(&t, &tags, &[(v("0.6.0"), false)], true, "M"),
            Ok(Case::NeverIndexed)
        );
        // A GitHub Release alone is something to roll back.
        assert_eq!(scope(&t, &[], &[], true, "M"), Ok(Case::NeverIndexed));
        // A newer version that was itself rolled back (yanked) is spent too.
        assert_eq!(
            scope(
                &t,
                &tags,
                &[(v("0.7.0"), false), (v("0.7.1"), true)],
                false,
                "M"
            ),
            Ok(Case::Indexed {
                next: tag("v0.7.2")
            })
        );
    }

    #[test]
    fn refusals_say_what_to_do_instead() {
        let t = tag("v0.6.0");
        let err = scope(&t, &[], &[(v("0.5.0"), false)], false, "M").expect_err("never released");
        assert!(err.0.contains("never released"), "{err}");
        for (tags, listed) in [
            (vec![tag("v0.6.0"), tag("v0.7.0")], vec![]),
            (
                vec![tag("v0.6.0")],
                vec![(v("0.6.0"), false), (v("0.8.0"), false)],
            ),
        ] {
            let err = scope(&t, &tags, &listed, true, "M").expect_err("not newest");
            assert!(err.0.contains("not the newest release"), "{err}");
            assert!(err.0.contains("yank it by hand at M"), "{err}");
        }
    }

    #[test]
    fn timeouts_are_parsed_strictly() {
        for (text, secs) in [("900", 900), ("5s", 5), ("2m", 120), ("1h", 3600), ("0", 0)] {
            assert_eq!(parse_timeout(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for bad in [
            "",
            "5 s",
            "-5",
            "1.5m",
            "5ms",
            "m",
            "05",
            "9999999999999999999999",
            "25h",
            "5S",
            " 5",
        ] {
            assert!(parse_timeout(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn yanked_needs_every_file_flagged() {
        let file = |name: &str, yanked| IndexFile {
            filename: name.into(),
            sha256: None,
            yanked,
        };
        let sdist = "mindoff_dataport-0.7.0.tar.gz";
        let wheel = "mindoff_dataport-0.7.0-py3-none-any.whl";
        let of = |l: &[IndexFile], s| Seen::of("mindoff-dataport", "0.7.0", l, s);
        assert_eq!(of(&[], 404), Seen::Missing { status: 404 });
        assert_eq!(
            of(&[file("mindoff_dataport-0.7.1.tar.gz", true)], 200),
            Seen::Missing { status: 200 }
        );
        assert_eq!(
            of(&[file(sdist, true), file(wheel, false)], 200),
            Seen::Live { files: 2, live: 1 }
        );
        assert_eq!(
            of(&[file(sdist, true), file(wheel, true)], 200),
            Seen::Yanked
        );
    }
}
