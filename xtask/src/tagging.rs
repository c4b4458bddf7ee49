//! `cargo xtask tag vX.Y.Z`: the maintainer's side of a release.
//!
//! The same preflight as `release` first (tag ordering against every known
//! release, including the index; the release files; a build and check of
//! exactly what will be tagged; the GitHub Release's preconditions), so a
//! pushed tag is always releasable. Then one release commit on `root`
//! (changelog heading + version), the annotated tag on it, and one atomic
//! push of both. The CD pipeline then finds nothing to edit and builds
//! exactly the tagged commit.

use std::fs;

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::changelog::{self, Edit};
use crate::git::{Git, Push};
use crate::github;
use crate::index::{self, IndexConfig, Publication};
use crate::input::{clip, read, BadInput};
use crate::preflight;
use crate::pyproject;
use crate::release::{check_on_branch, known_versions};
use crate::release_rules::{self, Standing};
use crate::tagged_build;
use crate::tools::{Group, Tools};
use crate::ui::{self, Steps};
use crate::version::Tag;

pub struct Options {
    pub tag: Tag,
    pub github_release: bool,
    pub dry_run: bool,
    pub remote: String,
    pub branch: String,
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = tag(sh, root, &opts, &mut steps);
    steps.summary();
    result
}

/// The index's files of the project, and its versions with their yank flag.
type Listing = (Vec<index::IndexFile>, Vec<(String, bool)>);

/// What the checks found.
enum State {
    /// Tag and release commit are pushed already.
    Tagged,
    /// Tagged, pushed, and every file is on the index: nothing to publish.
    Released,
    /// New: these edits make the release commit.
    New(Vec<(&'static str, String, String)>),
}

fn tag(sh: &Shell, root: &Utf8Path, opts: &Options, steps: &mut Steps) -> Result<()> {
    let tag = &opts.tag;
    let mut state = State::Tagged;
    steps.run("checks", || {
        let (outcome, s) = checks(sh, root, opts)?;
        state = s;
        Ok(outcome)
    })?;
    let edits = match state {
        State::Released => {
            println!("{tag} is tagged and already released: nothing to do");
            return Ok(());
        }
        State::Tagged => None,
        State::New(edits) => Some(edits),
    };
    if let Some(edits) = &edits {
        commit_tag_and_push(sh, root, opts, edits, steps)?;
    }
    if opts.github_release {
        steps.run("GitHub Release", || publish_github_release(sh, root, opts))?;
    }
    if !opts.dry_run {
        println!(
            "tagged {tag}: publish it as a GitHub Release titled exactly `{tag}` to run the CD pipeline"
        );
    }
    Ok(())
}

/// The preflight: every check that has no side effect, before the commit.
fn checks(sh: &Shell, root: &Utf8Path, opts: &Options) -> Result<(String, State)> {
    let git = Git::new(sh);
    let Options {
        tag,
        dry_run,
        remote,
        branch,
        ..
    } = opts;
    let upstream = format!("{remote}/{branch}");
    check_on_branch(&git, branch, remote)?;
    check_clean(&git)?;
    // Read the remote before anything: the release files parse, and the
    // GitHub Release can be made, or nothing is pushed.
    // A dry run asks the remote where the branch stands without fetching,
    // so it refuses a stale clone as the real run will.
    let remote_head = if *dry_run {
        println!("    dry run: checking against {remote} as it is now, without fetching");
        git.remote_branch_head(remote, branch)?
    } else {
        git.fetch_branch(remote, branch)?;
        git.commit_of(&upstream)?
    };
    let remote_tags = git.remote_tags(remote)?;
    let head = git.commit_of("HEAD")?.context("reading HEAD")?;
    let project = pyproject::read_name(&read(root, pyproject::FILE)?)?;
    let config = IndexConfig::from_env(sh, root)?;
    println!("    index: {}", config.describe(sh));
    let read_index = || -> Result<Listing> {
        let listed = config.fetch(&project).with_context(|| {
            format!(
                "reading the package index {} (a tag is only made for a version the index \
does not have; XTASK_INDEX_URL sets where to read it)",
                config.simple_base
            )
        })?;
        let versions = index::listed_versions(&project, &listed);
        Ok((listed, versions))
    };
    check_github_release(sh, opts)?;

    let name = tag.to_string();
    let local = git.commit_of(&Git::tag_ref(tag))?;
    let on_remote = remote_tags
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| c.clone());
    if local.is_some() || on_remote.is_some() {
        let existing = local.or(on_remote.clone()).unwrap_or_default();
        let pushed = remote_head.as_deref() == Some(&head);
        let on_remote = on_remote.as_deref();
        return existing_tag(
            &git,
            root,
            opts,
            &existing,
            on_remote,
            &head,
            pushed,
            &read_index,
        )
        .and_then(|(listed, versions)| {
            already_tagged(sh, root, &git, tag, &project, &head, &listed, &versions)
        });
    }
    check_in_sync(remote_head.as_deref(), &head, opts)?;

    // Ordering against tags and the changelog, the release files, then the
    // index and every known version.
    let log = read(root, changelog::FILE)?;
    let local_tags = git.release_tags()?;
    let early = known_versions(&local_tags, &remote_tags, &[], &log, tag, false);
    release_rules::check_order(tag, &early)?;
    let (_, versions) = read_index()?;
    let known = known_versions(&local_tags, &remote_tags, &versions, &log, tag, false);
    if release_rules::check_order(tag, &known)? == Standing::OnIndex {
        bail!(BadInput(format!(
            "{project} {} is already on the package index: a version is published once. \
Tag the next patch: `cargo xtask tag {}`",
            tag.pep440(),
            release_rules::next_release(tag, &known)
        )));
    }
    // The preflight of exactly what the tag will hold (the release files,
    // the build with its checks, the docs built strictly), as `cargo xtask
    // preflight` runs it. No sha256 here: the release build takes its
    // timestamp from the tag's commit, which does not exist yet.
    let report = preflight::check_revision(sh, root, &git, &head, tag)?;
    preflight::refused_tag(&report, tag)?;
    for c in &report.checked {
        println!("    {c}");
    }
    // The preflight proved both edits can be made.
    let edits = planned_edits(root, &log, tag)?;
    Ok((
        format!("{tag} is new and builds; {} file(s) to edit", edits.len()),
        State::New(edits),
    ))
}

/// `--github-release` can make the Release, or nothing is pushed.
fn check_github_release(sh: &Shell, opts: &Options) -> Result<()> {
    let remote = &opts.remote;
    if opts.github_release
        && github::Api::from_env(sh, remote_url(sh, remote).as_deref())?.is_none()
    {
        bail!(BadInput(
            "--github-release needs GITHUB_TOKEN and the repository (GITHUB_REPOSITORY, or a \
GitHub URL as the remote): set them, or tag without --github-release; nothing was pushed"
                .into()
        ));
    }
    Ok(())
}

fn check_clean(git: &Git) -> Result<()> {
    let dirty = git.dirty_files()?;
    if !dirty.is_empty() {
        bail!(BadInput(format!(
            "the working tree is not clean ({}): commit or stash these changes first",
            clip(&dirty.join(", "))
        )));
    }
    Ok(())
}

/// The tag exists: a re-run of a finished tag goes on to the index (the
/// listing is returned), anything else is refused.
#[allow(clippy::too_many_arguments)]
fn existing_tag(
    git: &Git,
    root: &Utf8Path,
    opts: &Options,
    existing: &str,
    on_remote: Option<&str>,
    head: &str,
    pushed: bool,
    read_index: &dyn Fn() -> Result<Listing>,
) -> Result<Listing> {
    let Options { tag, remote, .. } = opts;
    let log = read(root, changelog::FILE)?;
    let released = changelog::section(&log, tag).is_some();
    if git.remote_rollback(remote, tag)?.is_some() {
        bail!(BadInput(format!(
            "{tag} was rolled back (`release-rollback` recorded it as {} on {remote}): \
the version is spent and is never published again. Tag the next patch: `cargo xtask tag {}`",
            Git::rollback_ref(tag),
            release_rules::next_release(tag, &[])
        )));
    }
    if existing == head && on_remote == Some(head) && released && pushed {
        return read_index();
    }
    bail!(BadInput(format!(
        "tag {tag} already exists (at {}): releases are immutable, tag the next \
version, e.g. `cargo xtask tag {}`",
        &existing[..existing.len().min(10)],
        release_rules::next_release(tag, &[])
    )));
}

/// The release commit lands on top of the published branch.
fn check_in_sync(remote_head: Option<&str>, head: &str, opts: &Options) -> Result<()> {
    let Options { remote, branch, .. } = opts;
    let upstream = format!("{remote}/{branch}");
    match remote_head {
        Some(remote_head) if remote_head == head => Ok(()),
        Some(_) => bail!(BadInput(format!(
            "`{branch}` is not in sync with {upstream}: pull (or push) first so the \
release commit lands on top of the published branch"
        ))),
        None => bail!(BadInput(format!(
            "{upstream} is unknown: push `{branch}` to {remote} first"
        ))),
    }
}

/// The release commit's edits: (file, before, after) of each file it changes.
fn planned_edits(
    root: &Utf8Path,
    log: &str,
    tag: &Tag,
) -> Result<Vec<(&'static str, String, String)>> {
    let mut edits: Vec<(&'static str, String, String)> = Vec::new();
    let at = |file: &'static str| move |e: BadInput| github::located(file, "", e);
    if let Edit::Changed(after) = changelog::rotate(log, tag).map_err(at(changelog::FILE))? {
        edits.push((changelog::FILE, log.to_string(), after));
    }
    let py = read(root, pyproject::FILE)?;
    if let Edit::Changed(after) = pyproject::sync_version(&py, tag).map_err(at(pyproject::FILE))? {
        edits.push((pyproject::FILE, py, after));
    }
    Ok(edits)
}

/// The tag exists and is pushed with its release commit: a re-run. If the
/// index has the version, it must be exactly this tag's build (and not
/// yanked): a rolled-back version is never offered for publishing again.
#[allow(clippy::too_many_arguments)]
fn already_tagged(
    sh: &Shell,
    root: &Utf8Path,
    git: &Git,
    tag: &Tag,
    project: &str,
    head: &str,
    listed: &[index::IndexFile],
    versions: &[(String, bool)],
) -> Result<(String, State)> {
    let next = tag.next_patch();
    match versions.iter().find(|(v, _)| *v == tag.pep440()) {
        None => Ok((
            format!("{tag} already tags HEAD and is pushed"),
            State::Tagged,
        )),
        Some((_, true)) => bail!(BadInput(format!(
            "{project} {} is yanked on the package index: it was rolled back and is never \
published again. Tag the next patch: `cargo xtask tag {next}`",
            tag.pep440()
        ))),
        Some((_, false)) => {
            let python = Tools::ensure_group(sh, root, Group::Release)?.python();
            let built = tagged_build::build_revision(sh, &python, git, head, tag, project)?;
            match index::compare(project, &tag.pep440(), &built.files, listed) {
                Ok(Publication::Complete) => Ok((
                    format!("{tag} is tagged and every file is on the index"),
                    State::Released,
                )),
                Ok(_) => Ok((
                    format!("{tag} is tagged and partly on the index: `cargo xtask release {tag}` resumes it"),
                    State::Tagged,
                )),
                Err(conflict) => bail!(BadInput(format!(
                    "{project} {} is on the index with other files than {tag} builds \
({conflict}): tag the next patch, `cargo xtask tag {next}`",
                    tag.pep440()
                ))),
            }
        }
    }
}

fn remote_url(sh: &Shell, remote: &str) -> Option<String> {
    cmd!(sh, "git remote get-url --end-of-options {remote}")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
}

/// The GitHub Release titled exactly the tag, with that version's
/// changelog section as notes. An existing one with the right title is
/// accepted; a wrong title is reported, not changed.
fn publish_github_release(sh: &Shell, root: &Utf8Path, opts: &Options) -> Result<String> {
    let tag = &opts.tag;
    let api =
        github::Api::from_env(sh, remote_url(sh, &opts.remote).as_deref())?.ok_or_else(|| {
            BadInput(
                "--github-release needs GITHUB_TOKEN and the repository (GITHUB_REPOSITORY, or a \
GitHub URL as the remote)"
                    .into(),
            )
        })?;
    let notes = changelog::section(&read(root, changelog::FILE)?, tag).unwrap_or_default();
    if let Some(existing) = api.release_for_tag(tag)? {
        let title = existing["name"].as_str().unwrap_or_default();
        if title != tag.to_string() {
            bail!(
                "the GitHub Release for {tag} in {} is titled `{}`, not `{tag}`: fix the title \
on GitHub (the CD pipeline refuses it)",
                api.repository,
                clip(title)
            );
        }
        return Ok(format!("already published in {}", api.repository));
    }
    if opts.dry_run {
        ui::would(&format!(
            "create the GitHub Release `{tag}` in {} with {} line(s) of notes",
            api.repository,
            notes.lines().count()
        ));
        return Ok("planned".into());
    }
    let created = api.create_release(tag, &notes)?;
    Ok(format!(
        "published {}",
        created["html_url"].as_str().unwrap_or(&api.repository)
    ))
}

fn commit_tag_and_push(
    sh: &Shell,
    root: &Utf8Path,
    opts: &Options,
    edits: &[(&str, String, String)],
    steps: &mut Steps,
) -> Result<()> {
    let git = Git::new(sh);
    steps.run("release commit", || release_commit(&git, root, opts, edits))?;
    steps.run("tag and push", || tag_and_push(sh, &git, opts, edits))?;
    Ok(())
}

/// The release commit of the edits (none: HEAD is tagged as it is).
fn release_commit(
    git: &Git,
    root: &Utf8Path,
    opts: &Options,
    edits: &[(&str, String, String)],
) -> Result<String> {
    let Options { tag, dry_run, .. } = opts;
    if edits.is_empty() {
        return Ok("nothing to edit: tagging HEAD".into());
    }
    for (file, before, after) in edits {
        ui::print_diff(file, before, after);
    }
    let files: Vec<&str> = edits.iter().map(|(f, _, _)| *f).collect();
    let message = format!("Release {tag}");
    if *dry_run {
        ui::would(&format!(
            "write and commit {} as \"{message}\"",
            files.join(", ")
        ));
        return Ok("planned".into());
    }
    for (file, _, after) in edits {
        let path = root.join(file);
        fs::write(&path, after).with_context(|| format!("writing {path}"))?;
    }
    git.commit(&files, &message)?;
    Ok(format!("committed {}", files.join(", ")))
}

/// The annotated tag and one atomic push of branch and tag; a failed push
/// is undone here, unless an identical run won the race.
fn tag_and_push(
    sh: &Shell,
    git: &Git,
    opts: &Options,
    edits: &[(&str, String, String)],
) -> Result<String> {
    let Options {
        tag,
        dry_run,
        remote,
        branch,
        ..
    } = opts;
    let tag_ref = Git::tag_ref(tag);
    let message = format!("Release {tag}");
    let refs = [
        format!("refs/heads/{branch}:refs/heads/{branch}"),
        format!("{tag_ref}:{tag_ref}"),
    ];
    if *dry_run {
        ui::would(&format!("run `git tag -a {tag} -m \"{message}\"`"));
        ui::would(&format!(
            "run `git push --atomic {remote} {}`",
            refs.join(" ")
        ));
        return Ok("planned".into());
    }
    let name = tag.to_string();
    cmd!(sh, "git tag -a {name} -m {message}")
        .quiet()
        .run()
        .with_context(|| format!("creating the annotated tag {tag}"))?;
    let ours = git.tree_of(&tag_ref)?;
    let pushed = git.push_once(remote, &refs)?;
    if pushed == Push::Done {
        return Ok(format!("pushed {branch} and {tag} to {remote}"));
    }
    // Leave the clone as it was: the next attempt starts clean.
    let _ = cmd!(sh, "git tag -d {name}")
        .quiet()
        .ignore_status()
        .ignore_stdout()
        .run();
    if !edits.is_empty() {
        let _ = git.reset_keep("HEAD~1");
    }
    let report = match pushed {
        Push::Race(report) | Push::Failed(report) => report,
        Push::Done => String::new(),
    };
    // Lost a race to an identical `tag` run: the same release is done.
    let theirs = git
        .remote_tags(remote)?
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, commit)| commit);
    if let Some(commit) = theirs {
        git.fetch_branch(remote, branch)?;
        let _ = git.fetch_tag(remote, tag);
        let same_tree = git.tree_of(&commit)?;
        if same_tree.is_some() && same_tree == ours {
            let _ = git.reset_keep(&format!("refs/remotes/{remote}/{branch}"));
            return Ok(format!(
                "another run pushed the same release of {tag} first ({}): nothing to do",
                &commit[..commit.len().min(10)]
            ));
        }
    }
    bail!(
        "pushing {branch} and {tag} to {remote} failed (nothing was pushed; the local \
commit and tag were undone): pull, then run `cargo xtask tag {tag}` again\n{}",
        crate::secrets::redact(&report)
    )
}
