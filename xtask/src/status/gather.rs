//! What status reads: the remote's listing, the release files, the
//! package index, the docs branch and the unpushed commits. Nothing here
//! fails: what cannot be read is recorded with its reason in `Facts`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use super::{release_headings, Facts, Listed, ReleaseEdits, TagRef};
use crate::changelog;
use crate::docs::{self, Branches};
use crate::docs_versions as versions;
use crate::git::Git;
use crate::index::{self, IndexConfig, IndexFile};
use crate::input::{clip, read};
use crate::preflight_rules as rules;
use crate::pyproject;
use crate::version::Tag;

/// Reads everything, never failing: what cannot be read is recorded with
/// its reason and becomes a finding.
pub(super) fn gather(sh: &Shell, root: &Utf8Path, b: &Branches) -> Facts {
    let git = Git::new(sh);
    let mut facts = Facts {
        branches: Some(b.clone()),
        ..Facts::default()
    };
    read_remote(sh, b, &mut facts);
    read_local_tags(sh, &mut facts);
    read_release_files(&git, root, b, &mut facts);
    read_index(sh, root, &mut facts);
    read_docs_branch(&git, b, &mut facts);
    facts.unpushed = count_unpushed(sh, b, &facts);
    facts
}

/// The remote in one read (no local tag is touched), then the branches
/// status needs, fetched into their remote-tracking refs.
fn read_remote(sh: &Shell, b: &Branches, facts: &mut Facts) {
    let remote = &b.remote;
    let listing = cmd!(sh, "git ls-remote --end-of-options {remote}")
        .env("GIT_TERMINAL_PROMPT", "0")
        .quiet()
        .ignore_status()
        .output();
    match listing {
        Ok(out) if out.status.success() => {
            let (tags, heads) = parse_ls_remote(&String::from_utf8_lossy(&out.stdout));
            facts.remote_tags = Some(tags);
            facts.remote_heads = heads;
        }
        Ok(out) => facts.remote_error = Some(git_reason(&out.stderr)),
        Err(e) => facts.remote_error = Some(format!("running git: {e}")),
    }
    let wanted: Vec<String> = [&b.root, &b.docs]
        .into_iter()
        .filter(|h| facts.remote_heads.contains(h))
        .map(|h| format!("+refs/heads/{h}:refs/remotes/{remote}/{h}"))
        .collect();
    if !wanted.is_empty() {
        let refspecs = &wanted;
        let fetched = cmd!(
            sh,
            "git fetch --quiet --no-tags --end-of-options {remote} {refspecs...}"
        )
        .env("GIT_TERMINAL_PROMPT", "0")
        .quiet()
        .ignore_status()
        .output();
        let refused = match fetched {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(git_reason(&out.stderr)),
            Err(e) => Some(format!("running git: {e}")),
        };
        if let Some(why) = refused {
            facts.remote_error = Some(format!("fetching {} refused: {why}", wanted.join(" ")));
            facts.remote_tags = None;
        }
    }
}

fn read_local_tags(sh: &Shell, facts: &mut Facts) {
    if let Ok(out) = cmd!(
        sh,
        "git for-each-ref --format=%(refname:strip=2)%20%(objectname)%20%(*objectname) refs/tags"
    )
    .quiet()
    .read()
    {
        facts.local_tags = parse_local_tags(&out);
    }
}

/// CHANGELOG.md and pyproject.toml, what they refuse, and what the newest
/// tag's files tell.
///
/// The release files are read as the remote's branch holds them (just
/// fetched): a clone that is behind, or on another branch, would report
/// stale files, and the fixes (which act on the remote) would not converge.
fn read_release_files(git: &Git, root: &Utf8Path, b: &Branches, facts: &mut Facts) {
    let remote = &b.remote;
    let root_fetched = facts.remote_error.is_none() && facts.remote_heads.contains(&b.root);
    let remote_root = format!("refs/remotes/{remote}/{}", b.root);
    let read_release_file = |file: &str| -> Result<String> {
        if !root_fetched {
            return read(root, file);
        }
        let label = format!("{file} on {remote}/{}", b.root);
        git.show_text(&remote_root, file, &label)?
            .with_context(|| format!("{label}: the file does not exist"))
    };
    if root_fetched {
        facts.files_from = Some(format!("{remote}/{}", b.root));
    }
    match read_release_file(changelog::FILE) {
        Ok(log) => {
            facts.recent_entries = changelog::recent_entries(&log);
            facts.headings = release_headings(&log);
        }
        Err(e) => facts.file_errors.push(format!("{e:#}")),
    }
    let files_rev = if root_fetched {
        remote_root.as_str()
    } else {
        "HEAD"
    };
    let top_level = git.top_level(files_rev).unwrap_or_default();
    let mut root_files = (String::new(), String::new());
    match read_release_file(pyproject::FILE) {
        Ok(text) => {
            facts.pyproject_version = pyproject::read_version(&text).ok();
            match pyproject::read_name(&text) {
                Ok(name) => {
                    facts.project = name;
                    facts.release_files.extend(rules::pyproject_problem(&text));
                }
                Err(e) => facts.file_errors.push(format!("{e:#}")),
            }
            facts
                .release_files
                .extend(rules::sdist_problem(&text, &top_level));
            root_files.0 = text;
        }
        Err(e) => facts.file_errors.push(format!("{e:#}")),
    }
    if let Ok(log) = read_release_file(changelog::FILE) {
        root_files.1 = log;
    }
    facts.tag_refusal = newest_tag_refusal(git, facts, files_rev, &root_files);
    facts.release_edits = newest_release_edits(git, facts, files_rev);
}

fn read_index(sh: &Shell, root: &Utf8Path, facts: &mut Facts) {
    if facts.project.is_empty() {
        return;
    }
    match IndexConfig::from_env(sh, root) {
        Ok(config) => {
            match config.fetch(&facts.project) {
                Ok(files) => facts.index = Some(listed_versions(&facts.project, &files)),
                Err(e) => facts.index_error = Some(clip(&format!("{e:#}"))),
            }
            facts.index_source = Some(config.describe(sh));
            facts.upload_url = Some(config.upload_url);
        }
        Err(e) => facts.index_error = Some(clip(&format!("{e:#}"))),
    }
}

fn read_docs_branch(git: &Git, b: &Branches, facts: &mut Facts) {
    if facts.remote_error.is_some() {
        return;
    }
    if !facts.remote_heads.contains(&b.docs) {
        facts.docs = Some(Vec::new());
        return;
    }
    match docs::read_docs(git, b, false) {
        Ok(state) => {
            facts.docs_site = versions::site_problems(&state.versions, &state.aliases, &b.docs);
            facts.docs = Some(state.versions);
            facts.docs_default = state.default;
        }
        Err(e) => facts.file_errors.push(format!(
            "the docs branch {}/{} could not be read: {e:#}",
            b.remote, b.docs
        )),
    }
}

/// Release-branch commits here that the remote's branch lacks.
fn count_unpushed(sh: &Shell, b: &Branches, facts: &Facts) -> usize {
    if !facts.remote_heads.contains(&b.root) {
        return 0;
    }
    let remote = &b.remote;
    let range = format!("refs/remotes/{remote}/{0}..refs/heads/{0}", b.root);
    cmd!(sh, "git rev-list --count --end-of-options {range}")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Git's own words when a call fails: its stderr, trimmed and clipped.
fn git_reason(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    clip(&lines.join(" / "))
}

/// Release tags from `for-each-ref` or `ls-remote` lines.
fn parse_local_tags(text: &str) -> Vec<TagRef> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let tag = Tag::from_git(parts.next()?)?;
            let object = parts.next()?.to_string();
            let commit = parts.next().unwrap_or(&object).to_string();
            Some(TagRef {
                tag,
                object,
                commit,
            })
        })
        .collect()
}

/// `(tags, heads)` from `git ls-remote` output; an annotated tag's
/// `^{}` line names its commit.
fn parse_ls_remote(text: &str) -> (Vec<TagRef>, Vec<String>) {
    let mut tags: BTreeMap<Tag, TagRef> = BTreeMap::new();
    let mut heads = Vec::new();
    for line in text.lines() {
        let Some((oid, name)) = line.split_once('\t') else {
            continue;
        };
        if let Some(head) = name.strip_prefix("refs/heads/") {
            heads.push(head.to_string());
        } else if let Some(name) = name.strip_prefix("refs/tags/") {
            let (name, peeled) = match name.strip_suffix("^{}") {
                Some(n) => (n, true),
                None => (name, false),
            };
            let Some(tag) = Tag::from_git(name) else {
                continue;
            };
            let entry = tags.entry(tag.clone()).or_insert_with(|| TagRef {
                tag,
                object: oid.into(),
                commit: oid.into(),
            });
            if peeled {
                entry.commit = oid.into();
            } else {
                entry.object = oid.into();
            }
        }
    }
    (tags.into_values().collect(), heads)
}

/// Index listing as versions with their yank and completeness state.
fn listed_versions(project: &str, files: &[IndexFile]) -> Vec<Listed> {
    let normalized = index::normalize(project);
    let complete = index::complete_versions(project, files);
    let mut by_version: BTreeMap<semver::Version, bool> = BTreeMap::new();
    for file in files {
        let Some((name, version)) = index::file_version(&file.filename) else {
            continue;
        };
        let Ok(v) = semver::Version::parse(&version) else {
            continue;
        };
        if name == normalized {
            *by_version.entry(v).or_insert(true) &= file.yanked;
        }
    }
    by_version
        .into_iter()
        .map(|(version, yanked)| Listed {
            complete: complete.contains(&version),
            version,
            yanked,
        })
        .collect()
}

/// The newest release tag that stands: the remote's when it answered.
fn newest_standing(facts: &Facts) -> Option<&TagRef> {
    let standing = match &facts.remote_tags {
        Some(tags) => tags,
        None => &facts.local_tags,
    };
    standing.iter().max_by(|a, b| a.tag.cmp(&b.tag))
}

/// Where the newest tag's heading, and its heading with its version, first
/// stood from the tag along the release branch (`root_rev`).
fn newest_release_edits(git: &Git, facts: &Facts, root_rev: &str) -> Option<ReleaseEdits> {
    let newest = newest_standing(facts)?;
    let tag = &newest.tag;
    let mut commits = vec![newest.commit.clone()];
    if git.is_ancestor(&newest.commit, root_rev).ok()? {
        let paths = [changelog::FILE, pyproject::FILE];
        commits.extend(
            git.first_parent_commits(&newest.commit, root_rev, &paths)
                .ok()?,
        );
    }
    let mut edits = ReleaseEdits {
        tag: tag.clone(),
        heading_at: None,
        released_at: None,
    };
    for commit in commits.iter().take(500) {
        let read = |file: &str| git.show_text(commit, file, file).ok().flatten();
        let heading = read(changelog::FILE).is_some_and(|l| changelog::section(&l, tag).is_some());
        if !heading {
            continue;
        }
        edits.heading_at.get_or_insert_with(|| commit.clone());
        let version = read(pyproject::FILE).and_then(|p| pyproject::read_version(&p).ok());
        if version.as_deref() == Some(tag.pep440().as_str()) {
            edits.released_at = Some(commit.clone());
            break;
        }
    }
    Some(edits)
}

/// The newest tag that stands, and why its release would be refused,
/// read from its files and the release branch's (`root_rev`).
fn newest_tag_refusal(
    git: &Git,
    facts: &Facts,
    root_rev: &str,
    (root_py, root_log): &(String, String),
) -> Option<(Tag, String)> {
    let newest = newest_standing(facts)?;
    let rev = &newest.commit;
    let read = |file: &str| git.show_text(rev, file, file).ok().flatten();
    let (py, log) = (read(pyproject::FILE)?, read(changelog::FILE)?);
    let top_level = git.top_level(rev).ok()?;
    let changed = git.changed_paths(rev, root_rev).ok()?;
    let source = rules::TaggedSource {
        pyproject: &py,
        changelog: &log,
        top_level: &top_level,
        root_pyproject: root_py,
        root_changelog: root_log,
        changed: &changed,
    };
    rules::pending_tag_refusal(&newest.tag, &source).map(|why| (newest.tag.clone(), why))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> Tag {
        Tag::parse(s).expect("tag")
    }

    fn tagref(s: &str, oid: &str) -> TagRef {
        TagRef {
            tag: tag(s),
            object: oid.into(),
            commit: oid.into(),
        }
    }

    #[test]
    fn git_listings_are_parsed() {
        let (tags, heads) = parse_ls_remote(
            "c1\trefs/heads/root\nt7\trefs/tags/v0.7.0\nc7\trefs/tags/v0.7.0^{}\nc6\trefs/tags/v0.6.0\nx\trefs/tags/nightly\n",
        );
        assert_eq!(heads, ["root"]);
        assert_eq!(
            tags,
            vec![
                tagref("v0.6.0", "c6"),
                TagRef {
                    tag: tag("v0.7.0"),
                    object: "t7".into(),
                    commit: "c7".into()
                }
            ]
        );
        assert_eq!(
            parse_local_tags("v0.7.0 t7 c7\nv0.6.0 c6 \nfoo x y\n"),
            vec![
                TagRef {
                    tag: tag("v0.7.0"),
                    object: "t7".into(),
                    commit: "c7".into()
                },
                tagref("v0.6.0", "c6")
            ]
        );
        assert_eq!(
            release_headings("\u{feff}## v0.7.0\r\n## Recent Changes\n### v0.1.0\n## v0.6.0  \n"),
            vec![tag("v0.7.0"), tag("v0.6.0")]
        );
    }
}
