//! The release commit of a tag: the first commit, from the tag on along the
//! release branch, where `CHANGELOG.md` has `## vX.Y.Z` and
//! `pyproject.toml` has version X.Y.Z. A tag made before the release edits
//! (a GitHub Release created in the UI tags the branch's head, and CD then
//! rotates the heading and bumps the version) has it after the tag; a tag
//! made by `cargo xtask tag` is on it. A release's docs are built from it.

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use crate::changelog;
use crate::git::Git;
use crate::pyproject;
use crate::version::Tag;

/// Whether a commit with these files is `tag`'s release commit.
pub fn is_release_commit(tag: &Tag, changelog: Option<&str>, pyproject: Option<&str>) -> bool {
    changelog.is_some_and(|text| changelog::section(text, tag).is_some())
        && pyproject
            .is_some_and(|text| pyproject::read_version(text).is_ok_and(|v| v == tag.pep440()))
}

/// The first release commit among `candidates` (oldest first), reading each
/// one's files with `read(commit, path)`.
pub fn first_release_commit<'a>(
    tag: &Tag,
    candidates: &'a [String],
    mut read: impl FnMut(&str, &str) -> Result<Option<String>>,
) -> Result<Option<&'a String>> {
    for commit in candidates {
        let log = read(commit, changelog::FILE)?;
        let project = read(commit, pyproject::FILE)?;
        if is_release_commit(tag, log.as_deref(), project.as_deref()) {
            return Ok(Some(commit));
        }
    }
    Ok(None)
}

/// `tag`'s release commit: the tag's own commit, else the first descendant
/// of it on `branch_ref` (the remote's release branch, read by the caller)
/// where both edits stand. `None` when no such commit exists.
pub fn find(sh: &Shell, tag: &Tag, branch_ref: Option<&str>) -> Result<Option<String>> {
    let git = Git::new(sh);
    let Some(tagged) = git.commit_of(&Git::tag_ref(tag))? else {
        return Ok(None);
    };
    let mut candidates = vec![tagged.clone()];
    if let Some(branch) = branch_ref {
        let range = format!("{tagged}..{branch}");
        let after = cmd!(sh, "git rev-list --reverse --ancestry-path {range} --")
            .quiet()
            .read()
            .with_context(|| format!("listing the commits from {tag} to {branch}"))?;
        candidates.extend(after.lines().map(str::to_string));
    }
    Ok(first_release_commit(tag, &candidates, |c, p| git.show(c, p))?.cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(t: &str) -> Tag {
        Tag::parse(t).expect("tag")
    }

    const PYPROJECT_07: &str = "[project]\nname = \"x\"\nversion = \"0.7.0\"\n";
    const PYPROJECT_06: &str = "[project]\nname = \"x\"\nversion = \"0.6.0\"\n";
    const ROTATED: &str = "<h1>Release Notes</h1>\n\n## v0.7.0\n\n### Fixes\n\n- a\n";
    const RECENT: &str = "<h1>Release Notes</h1>\n\n## Recent Changes\n\n### Fixes\n\n- a\n";

    #[test]
    fn both_edits_make_a_release_commit() {
        let t = tag("v0.7.0");
        assert!(is_release_commit(&t, Some(ROTATED), Some(PYPROJECT_07)));
        assert!(!is_release_commit(&t, Some(RECENT), Some(PYPROJECT_07)));
        assert!(!is_release_commit(&t, Some(ROTATED), Some(PYPROJECT_06)));
        assert!(!is_release_commit(&t, None, Some(PYPROJECT_07)));
        assert!(!is_release_commit(&t, Some(ROTATED), None));
        assert!(!is_release_commit(&t, Some(ROTATED), Some("not toml [")));
        assert!(!is_release_commit(
            &tag("v0.7.1"),
            Some(ROTATED),
            Some(PYPROJECT_07)
        ));
    }

    #[test]
    fn the_first_commit_with_both_edits_wins() {
        let t = tag("v0.7.0");
        // The UI flow: tag on the old tree, then the heading, then the
        // version, then later work that keeps both.
        let files = |c: &str| match c {
            "tag" => (RECENT, PYPROJECT_06),
            "heading" => (ROTATED, PYPROJECT_06),
            "version" => (ROTATED, PYPROJECT_07),
            _ => (ROTATED, PYPROJECT_07),
        };
        let candidates: Vec<String> = ["tag", "heading", "version", "later"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let read = |c: &str, p: &str| {
            let (log, project) = files(c);
            Ok(Some(
                if p == changelog::FILE { log } else { project }.to_string(),
            ))
        };
        let found = first_release_commit(&t, &candidates, read).expect("reads");
        assert_eq!(found.map(String::as_str), Some("version"));
        // Tagged on the release commit itself (`cargo xtask tag`).
        let found = first_release_commit(&t, &candidates[2..], read).expect("reads");
        assert_eq!(found.map(String::as_str), Some("version"));
        // Never released: nothing found.
        let found = first_release_commit(&t, &candidates[..2], read).expect("reads");
        assert_eq!(found, None);
    }
}
