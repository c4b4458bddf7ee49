//! `cargo xtask tag vX.Y.Z`: the maintainer's side of a release.
//!
//! One release commit on `root` (changelog heading + version), the
//! annotated tag on it, and one atomic push of both. The CD pipeline then
//! finds nothing to edit and builds exactly the tagged commit.

use std::fs;

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::changelog::{self, Edit};
use crate::git::Git;
use crate::github;
use crate::pyproject;
use crate::ui::{self, Steps};
use crate::version::Tag;
use crate::{read, BadInput};

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

fn tag(sh: &Shell, root: &Utf8Path, opts: &Options, steps: &mut Steps) -> Result<()> {
    let git = Git::new(sh);
    let Options {
        tag,
        github_release,
        dry_run,
        remote,
        branch,
    } = opts;
    let tag_ref = Git::tag_ref(tag);
    let upstream = format!("{remote}/{branch}");
    let mut edits: Vec<(&str, String, String)> = Vec::new();
    let mut already_tagged = false;

    steps.run("checks", || {
        match git.current_branch()? {
            Some(b) if b == *branch => {}
            _ => bail!(BadInput(format!(
                "tag releases from `{branch}`: run `git switch {branch}` first"
            ))),
        }
        let dirty = git.dirty_files()?;
        if !dirty.is_empty() {
            bail!(BadInput(format!(
                "the working tree is not clean ({}): commit or stash these changes first",
                dirty.join(", ")
            )));
        }
        if *dry_run {
            println!("    not fetching in a dry run: checking against local refs");
        } else {
            git.fetch(remote, branch)?;
        }
        let head = git.commit_of("HEAD")?.context("reading HEAD")?;
        if let Some(existing) = git.commit_of(&tag_ref)? {
            let released =
                changelog::rotate(&read(root, changelog::FILE)?, tag)? == Edit::Unchanged;
            if existing == head && released && git.commit_of(&upstream)?.as_deref() == Some(&head) {
                already_tagged = true;
                return Ok(format!("{tag} already tags {branch} and is pushed"));
            }
            bail!(BadInput(format!(
                "tag {tag} already exists (at {}): releases are immutable, tag the next \
version, e.g. `cargo xtask tag {}`",
                &existing[..existing.len().min(10)],
                tag.next_patch()
            )));
        }
        match git.commit_of(&upstream)? {
            Some(remote_head) if remote_head == head => {}
            Some(_) => bail!(BadInput(format!(
                "`{branch}` is not in sync with {upstream}: pull (or push) first so the \
release commit lands on top of the published branch"
            ))),
            None => bail!(BadInput(format!(
                "{upstream} is unknown: push `{branch}` to {remote} first"
            ))),
        }
        if let Some(newer) = git.release_tags()?.into_iter().rfind(|t| t > tag) {
            bail!(BadInput(format!(
                "{newer} is newer than {tag}: versions are linear, tag a version after {newer}"
            )));
        }
        let log = read(root, changelog::FILE)?;
        if let Edit::Changed(after) = changelog::rotate(&log, tag)? {
            edits.push((changelog::FILE, log, after));
        }
        let py = read(root, pyproject::FILE)?;
        if let Edit::Changed(after) = pyproject::sync_version(&py, tag)? {
            edits.push((pyproject::FILE, py, after));
        }
        Ok(format!("{tag} is new; {} file(s) to edit", edits.len()))
    })?;
    if !already_tagged {
        commit_tag_and_push(sh, root, opts, &edits, steps)?;
    }
    if *github_release {
        steps.run("GitHub Release", || publish_github_release(sh, root, opts))?;
    }
    if !*dry_run {
        println!(
            "tagged {tag}: publish it as a GitHub Release titled exactly `{tag}` to run the CD pipeline"
        );
    }
    Ok(())
}

/// The GitHub Release titled exactly the tag, with that version's
/// changelog section as notes. An existing one with the right title is
/// accepted; a wrong title is reported, not changed.
fn publish_github_release(sh: &Shell, root: &Utf8Path, opts: &Options) -> Result<String> {
    let tag = &opts.tag;
    let remote = &opts.remote;
    let origin = cmd!(sh, "git remote get-url {remote}")
        .quiet()
        .ignore_stderr()
        .read()
        .ok();
    let api = github::Api::from_env(sh, origin.as_deref())?.ok_or_else(|| {
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
                title.escape_debug()
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
    let Options {
        tag,
        dry_run,
        remote,
        branch,
        ..
    } = opts;
    let tag_ref = Git::tag_ref(tag);

    steps.run("release commit", || {
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
    })?;

    steps.run("tag and push", || {
        let message = format!("Release {tag}");
        let refs = [
            format!("{branch}:refs/heads/{branch}"),
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
            .run()
            .with_context(|| format!("creating the annotated tag {tag}"))?;
        if let Err(err) = cmd!(sh, "git push --atomic --quiet {remote} {refs...}").run() {
            // Leave the clone as it was: the next attempt starts clean.
            let _ = cmd!(sh, "git tag -d {name}").quiet().ignore_status().run();
            if !edits.is_empty() {
                let _ = cmd!(sh, "git reset --quiet --keep HEAD~1")
                    .quiet()
                    .ignore_status()
                    .run();
            }
            return Err(err).context(format!(
                "pushing {branch} and {tag} to {remote} (nothing was pushed; the local \
commit and tag were undone): pull, then run `cargo xtask tag {tag}` again"
            ));
        }
        Ok(format!("pushed {branch} and {tag} to {remote}"))
    })?;
    Ok(())
}
