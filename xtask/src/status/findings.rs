//! The decisions of status, pure over the gathered `Facts`: each finding
//! is one function that names an inconsistency and the fix that moves the
//! state forward. `assess` lists them in the order they are reported.

use std::collections::{BTreeMap, BTreeSet};

use super::{short, tag_of, Assessment, Facts, Finding, Listed, TagRef};
use crate::docs::Branches;
use crate::docs_versions::{self as versions, DocsVersion, LATEST};
use crate::index;
use crate::version::{Series, Tag};

/// What the findings share: the branches the fixes act on, the tags that
/// stand, and the index by version.
pub(super) struct Reading<'a> {
    f: &'a Facts,
    b: Branches,
    /// The tags that stand: the remote's when it answered.
    standing: Vec<Tag>,
    newest_tag: Option<Tag>,
    by_version: BTreeMap<&'a semver::Version, &'a Listed>,
}

impl<'a> Reading<'a> {
    pub(super) fn new(f: &'a Facts) -> Self {
        let b = f.branches.clone().unwrap_or_else(|| Branches {
            remote: "origin".into(),
            root: "root".into(),
            docs: "docs".into(),
        });
        let standing: Vec<Tag> = match &f.remote_tags {
            Some(remote_tags) => remote_tags.iter().map(|t| t.tag.clone()).collect(),
            None => f.local_tags.iter().map(|t| t.tag.clone()).collect(),
        };
        let newest_tag = standing.iter().max().cloned();
        let by_version = f.index.iter().flatten().map(|l| (&l.version, l)).collect();
        Reading {
            f,
            b,
            standing,
            newest_tag,
            by_version,
        }
    }

    fn stands(&self, tag: &Tag) -> bool {
        self.standing.contains(tag)
    }

    fn on_index(&self, v: &semver::Version) -> Option<&'a Listed> {
        self.by_version.get(v).copied()
    }

    /// Flags a printed command needs to act on the same remote and branches.
    fn flags(&self, root: bool, docs: bool) -> String {
        let b = &self.b;
        let mut s = String::new();
        if b.remote != "origin" {
            s.push_str(&format!(" --remote {}", b.remote));
        }
        if root && b.root != "root" {
            s.push_str(&format!(" --root-branch {}", b.root));
        }
        if docs && b.docs != "docs" {
            s.push_str(&format!(" --docs-branch {}", b.docs));
        }
        s
    }
}

fn finding(problem: String, fix: String) -> Finding {
    Finding { problem, fix }
}

pub fn assess(f: &Facts) -> Assessment {
    let r = Reading::new(f);
    let mut findings = Vec::new();
    findings.extend(remote_unreadable(&r));
    findings.extend(index_unreadable(&r));
    findings.extend(unreadable_files(&r));
    findings.extend(missing_release_branch(&r));
    // This clone against the remote.
    findings.extend(tags_unlike_remote(&r));
    // From the index outward.
    findings.extend(index_versions(&r));
    // The newest tag and the files of the release branch.
    findings.extend(pending_tag(&r));
    findings.extend(changelog_section_missing(&r));
    findings.extend(pyproject_behind(&r));
    findings.extend(release_file_problems(&r));
    findings.extend(docs_site_problems(&r));
    findings.extend(series_without_docs(&r));
    findings.extend(latest_alias_misplaced(&r));
    findings.extend(series_spelled_twice(&r));
    findings.extend(site_default_not_latest(&r));
    findings.extend(unpushed_commits(&r));
    let rolled_back = rolled_back(&r);
    let next_release = next_release(&r, &rolled_back);
    Assessment {
        findings,
        newest_tag: r.newest_tag,
        rolled_back,
        next_release,
    }
}

fn remote_unreadable(r: &Reading) -> Option<Finding> {
    let remote = &r.b.remote;
    let error = r.f.remote_error.as_ref()?;
    Some(finding(
        format!("the remote `{remote}` could not be read: {error}"),
        format!("make `{remote}` reachable (`git ls-remote {remote}` shows git's reason), then run `cargo xtask status` again"),
    ))
}

fn index_unreadable(r: &Reading) -> Option<Finding> {
    let error = r.f.index_error.as_ref()?;
    Some(finding(
        format!("the package index could not be read: {error}"),
        "check TWINE_REPOSITORY_URL / XTASK_INDEX_URL and the network, then run `cargo xtask status` again".into(),
    ))
}

fn unreadable_files(r: &Reading) -> Vec<Finding> {
    r.f.file_errors
        .iter()
        .map(|error| {
            finding(
                error.clone(),
                "restore the file from git (`git checkout -- <file>`) or fix it by hand".into(),
            )
        })
        .collect()
}

fn missing_release_branch(r: &Reading) -> Option<Finding> {
    let (f, b) = (r.f, &r.b);
    if f.remote_tags.is_none() || f.remote_heads.contains(&b.root) {
        return None;
    }
    let others: Vec<&String> = f.remote_heads.iter().filter(|h| **h != b.docs).collect();
    let name = match others.as_slice() {
        [one] => one.as_str(),
        _ => "<branch>",
    };
    Some(finding(
        format!(
            "`{}` has no release branch `{}` (its branches: {})",
            b.remote,
            b.root,
            if f.remote_heads.is_empty() { "none".to_string() } else { f.remote_heads.join(", ") }
        ),
        format!("name the release branch: `release-branch = \"{name}\"` in [tool.xtask] of pyproject.toml, or pass --root-branch {name}"),
    ))
}

/// Each tag of this clone that the remote lacks or holds differently, in
/// the clone's order.
fn tags_unlike_remote(r: &Reading) -> Vec<Finding> {
    let Some(remote_tags) = &r.f.remote_tags else {
        return Vec::new();
    };
    let theirs: BTreeMap<&Tag, &TagRef> = remote_tags.iter().map(|t| (&t.tag, t)).collect();
    r.f.local_tags
        .iter()
        .filter_map(|mine| match theirs.get(&mine.tag) {
            None => Some(tag_missing_on_remote(r, &mine.tag)),
            Some(t) => tag_differing_from_remote(r, mine, t),
        })
        .collect()
}

fn tag_missing_on_remote(r: &Reading, tag: &Tag) -> Finding {
    let remote = &r.b.remote;
    let why = match r.on_index(tag.version_ref()) {
        Some(l) if l.yanked => format!("deleted there: {} was rolled back", tag.pep440()),
        // Not yanked: a rollback waiting for its yank looks the same as a
        // tag lost by accident.
        Some(_) => format!(
            "deleted there, while {v} is still installable from the index: a \
rollback that waits for its yank, or a lost tag; if {v} should stand, restore it with `git push \
{remote} refs/tags/{tag}` instead",
            v = tag.pep440()
        ),
        None => "never pushed, or deleted there".into(),
    };
    finding(
        format!("tag {tag} is in this clone but not on `{remote}` ({why}); a `git push --tags` would bring it back"),
        format!("git tag -d {tag}"),
    )
}

fn tag_differing_from_remote(r: &Reading, mine: &TagRef, theirs: &TagRef) -> Option<Finding> {
    if theirs.object == mine.object {
        return None;
    }
    let (tag, remote) = (&mine.tag, &r.b.remote);
    Some(finding(
        format!(
            "tag {tag} here (at {}) differs from `{remote}`'s (at {})",
            short(&mine.commit),
            short(&theirs.commit)
        ),
        format!("git fetch --force {remote} refs/tags/{tag}:refs/tags/{tag}"),
    ))
}

/// Each version the index lists, matched against the tags and the
/// changelog, in the index's order.
fn index_versions(r: &Reading) -> Vec<Finding> {
    r.f.index
        .iter()
        .flatten()
        .filter_map(|l| {
            let tag = tag_of(&l.version)?;
            match (r.stands(&tag), l.yanked) {
                (false, true) => None,
                (false, false) => Some(index_version_without_tag(r, l, &tag)),
                (true, true) => unfinished_rollback(r, l, &tag),
                (true, false) => indexed_without_changelog_section(r, l, &tag),
            }
        })
        .collect()
}

fn newest_listed<'a>(r: &Reading<'a>) -> Option<&'a semver::Version> {
    r.f.index.iter().flatten().map(|l| &l.version).max()
}

fn index_version_without_tag(r: &Reading, l: &Listed, tag: &Tag) -> Finding {
    let (f, v, newest_tag) = (r.f, &l.version, &r.newest_tag);
    let newest_live = f
        .index
        .iter()
        .flatten()
        .filter(|l| !l.yanked)
        .map(|l| &l.version)
        .max();
    let above = newest_tag.as_ref().is_none_or(|t| v > t.version_ref());
    if above && Some(v) == newest_live {
        return finding(
            format!(
                "{v} is on the index above the newest tag ({}) and has no tag {tag}: a rollback whose yank is pending, or a release whose tag was lost; the fix shows where to yank it and waits until the index shows it yanked",
                newest_tag.as_ref().map_or("none".into(), Tag::to_string)
            ),
            format!("cargo xtask release-rollback {tag} --yes --wait{}", r.flags(false, false)),
        );
    }
    let manage = f
        .upload_url
        .as_deref()
        .map(|u| index::manage_url(u, &f.project, &v.to_string()))
        .unwrap_or_else(|| "the index's page of the release".into());
    let remote = &r.b.remote;
    finding(
        format!("{v} is on the index but has no tag {tag}"),
        format!("yank {v} by hand at {manage} (the upload API cannot yank); if it is a good release whose tag was lost, tag its release commit instead: `git tag -a {tag} -m \"Release {tag}\" <commit>` and `git push {remote} refs/tags/{tag}`"),
    )
}

fn unfinished_rollback(r: &Reading, l: &Listed, tag: &Tag) -> Option<Finding> {
    let v = &l.version;
    (Some(v) == newest_listed(r)).then(|| finding(
        format!("{v}, the newest version on the index, is yanked but its tag {tag} stands: the rollback is not finished"),
        format!("cargo xtask release-rollback {tag} --delete-tag --yes{}", r.flags(false, false)),
    ))
}

fn indexed_without_changelog_section(r: &Reading, l: &Listed, tag: &Tag) -> Option<Finding> {
    let f = r.f;
    let oldest_heading = f.headings.iter().min();
    if f.headings.contains(tag) || oldest_heading.is_none_or(|o| tag <= o) {
        return None;
    }
    Some(finding(
        format!(
            "{} is on the index but CHANGELOG.md has no `## {tag}` section",
            l.version
        ),
        if r.newest_tag.as_ref() == Some(tag) {
            restore_heading(f, tag, &r.flags(true, false))
        } else {
            format!("add a `## {tag}` section with its entries to CHANGELOG.md by hand")
        },
    ))
}

/// Versions on the index whose files are all yanked and whose tag is gone.
fn rolled_back(r: &Reading) -> Vec<semver::Version> {
    r.f.index
        .iter()
        .flatten()
        .filter(|l| l.yanked && tag_of(&l.version).is_some_and(|t| !r.stands(&t)))
        .map(|l| l.version.clone())
        .collect()
}

/// The newest version on the index is rolled back: the next release is
/// the patch after every version spent.
fn next_release(r: &Reading, rolled_back: &[semver::Version]) -> Option<Tag> {
    let top = newest_listed(r)
        .filter(|v| rolled_back.contains(v) || r.on_index(v).is_some_and(|l| l.yanked))?;
    let spent = r
        .standing
        .iter()
        .map(Tag::version_ref)
        .chain(Some(top))
        .max()
        .unwrap_or(top);
    tag_of(spent).map(|t| t.next_patch())
}

/// Every listed version is below the newest tag.
fn above_index(r: &Reading, tag: &Tag) -> bool {
    r.f.index
        .as_ref()
        .is_some_and(|l| l.iter().all(|x| x.version < *tag.version_ref()))
}

/// The newest tag not (completely) released: refused before the index
/// (the tag may be retired and tagged again), else to be released.
fn pending_tag(r: &Reading) -> Option<Finding> {
    let tag = r.newest_tag.as_ref()?;
    refused_tag(r, tag).or_else(|| tag_not_on_index(r, tag))
}

fn refused_tag(r: &Reading, tag: &Tag) -> Option<Finding> {
    let listed = r.on_index(tag.version_ref());
    let (_, why) =
        r.f.tag_refusal
            .as_ref()
            .filter(|(t, _)| t == tag && listed.is_none())?;
    (r.f.index.is_some() && above_index(r, tag)).then(|| finding(
        format!("{tag} is tagged, but its release is refused before anything reaches the index: {why}"),
        format!("cargo xtask release-rollback {tag} --delete-tag --yes{}", r.flags(false, false)),
    ))
}

fn tag_not_on_index(r: &Reading, tag: &Tag) -> Option<Finding> {
    let listed = r.on_index(tag.version_ref());
    let pending = r.f.index.is_some()
        && listed.is_none_or(|l| !l.complete && !l.yanked)
        && (above_index(r, tag) || listed.is_some());
    pending.then(|| {
        finding(
            format!("{tag} is tagged but not (completely) on the index"),
            format!("cargo xtask release {tag}{}", r.flags(true, false)),
        )
    })
}

/// Without the index, the newest tag's section is checked on its own.
fn changelog_section_missing(r: &Reading) -> Option<Finding> {
    let (f, tag) = (r.f, r.newest_tag.as_ref()?);
    (f.index.is_none() && !f.headings.contains(tag) && f.file_errors.is_empty()).then(|| {
        finding(
            format!("CHANGELOG.md has no `## {tag}` section"),
            restore_heading(f, tag, &r.flags(true, false)),
        )
    })
}

/// Only ever forward: pyproject.toml behind the newest live release.
fn pyproject_behind(r: &Reading) -> Option<Finding> {
    let (f, tag) = (r.f, r.newest_tag.as_ref()?);
    let listed = r.on_index(tag.version_ref());
    let live = f.index.as_ref().map_or(f.headings.contains(tag), |_| {
        listed.is_some_and(|l| !l.yanked)
    });
    let behind = f
        .pyproject_version
        .as_deref()
        .and_then(|p| semver::Version::parse(p).ok())
        .is_some_and(|p| p < *tag.version_ref());
    if !(live && behind) {
        return None;
    }
    let made = f
        .release_edits
        .as_ref()
        .filter(|e| e.tag == *tag)
        .and_then(|e| e.released_at.as_deref());
    Some(finding(
        format!(
            "pyproject.toml says {} but {tag} is released",
            f.pyproject_version.as_deref().unwrap_or("?")
        ),
        match made {
            // The release commit was made: the step would find the release
            // done and change nothing.
            Some(commit) => format!(
                "set `version = \"{}\"` under [project] in pyproject.toml (as the release commit {} has it), then commit and push it to `{}`",
                tag.pep440(),
                short(commit),
                r.b.root
            ),
            None => format!("cargo xtask release {tag} --step version{}", r.flags(true, false)),
        },
    ))
}

fn release_file_problems(r: &Reading) -> Vec<Finding> {
    r.f.release_files
        .iter()
        .map(|p| {
            let at = p.at.as_ref().map_or(String::new(), |a| format!("{a}: "));
            finding(format!("{at}{}", p.what), p.fix.clone())
        })
        .collect()
}

fn docs_site_problems(r: &Reading) -> Vec<Finding> {
    r.f.docs_site
        .iter()
        .map(|(problem, fix)| finding(problem.clone(), fix.clone()))
        .collect()
}

/// The fix for a missing `## vX.Y.Z` section of the newest tag: the
/// changelog step while it never stood on the branch, else the section
/// restored by hand from the first commit that had it.
fn restore_heading(f: &Facts, tag: &Tag, flags: &str) -> String {
    let root = f.branches.as_ref().map_or("root", |b| b.root.as_str());
    match f
        .release_edits
        .as_ref()
        .filter(|e| e.tag == *tag)
        .and_then(|e| e.heading_at.as_deref())
    {
        Some(commit) => format!(
            "put the `## {tag}` section back into CHANGELOG.md above the previous release, as \
`git show {}:CHANGELOG.md` has it, then commit and push it to `{root}`",
            short(commit)
        ),
        None => format!("cargo xtask release {tag} --step changelog{flags}"),
    }
}

/// Released series, each with its newest standing tag: what the index
/// serves, else what is tagged.
fn released_series(r: &Reading) -> BTreeMap<Series, Option<Tag>> {
    let mut released: BTreeMap<Series, Option<Tag>> = BTreeMap::new();
    match &r.f.index {
        Some(listed) => {
            for l in listed.iter().filter(|l| !l.yanked) {
                let Some(tag) = tag_of(&l.version) else {
                    continue;
                };
                let entry = released.entry(tag.series()).or_default();
                if r.stands(&tag) && entry.as_ref().is_none_or(|t| *t < tag) {
                    *entry = Some(tag);
                }
            }
        }
        None => {
            for tag in &r.standing {
                let entry = released.entry(tag.series()).or_default();
                if entry.as_ref().is_none_or(|t| t < tag) {
                    *entry = Some(tag.clone());
                }
            }
        }
    }
    released
}

const ONE_SPELLING: &str = "keep one spelling: `mike delete --branch docs --push <the other>`";

/// Every released, non-yanked series has docs, in one spelling; newest
/// series first.
fn series_without_docs(r: &Reading) -> Vec<Finding> {
    let Some(docs) = &r.f.docs else {
        return Vec::new();
    };
    let flags = r.flags(true, true);
    released_series(r)
        .iter()
        .rev()
        .filter_map(
            |(series, tag)| match (versions::spelling(docs, *series), tag) {
                (Err(e), _) => Some(finding(e.0, ONE_SPELLING.into())),
                (Ok(None), Some(tag)) => Some(finding(
                    format!("series {series} is released ({tag}) but has no docs"),
                    format!("cargo xtask docs-deploy {tag}{flags}"),
                )),
                // Untagged: the index finding says what to do first.
                (Ok(None), None) | (Ok(Some(_)), _) => None,
            },
        )
        .collect()
}

/// The docs versions and their newest series, when there is one.
fn docs_with_newest<'a>(r: &Reading<'a>) -> Option<(&'a [DocsVersion], Series)> {
    let docs = r.f.docs.as_deref()?;
    Some((docs, versions::newest(docs)?))
}

/// `latest-release` names the newest series.
fn latest_alias_misplaced(r: &Reading) -> Option<Finding> {
    let (docs, newest) = docs_with_newest(r)?;
    let fix = format!("cargo xtask docs-deploy {newest}{}", r.flags(true, true));
    match docs.iter().find(|v| v.aliases.iter().any(|a| a == LATEST)) {
        Some(v) if v.series() == Some(newest) => None,
        Some(v) => Some(finding(
            format!(
                "`{LATEST}` is on {} but the newest docs series is {newest}",
                v.name
            ),
            fix,
        )),
        None => Some(finding(format!("no docs version holds `{LATEST}`"), fix)),
    }
}

/// Two spellings of a series that `series_without_docs` did not report.
fn series_spelled_twice(r: &Reading) -> Vec<Finding> {
    let Some((docs, _)) = docs_with_newest(r) else {
        return Vec::new();
    };
    let released = released_series(r);
    let mut seen = BTreeSet::new();
    docs.iter()
        .filter_map(DocsVersion::series)
        .filter(|s| !seen.insert(*s) && !released.contains_key(s))
        .map(|s| {
            finding(
                format!("series {s} has two spellings on the docs branch"),
                ONE_SPELLING.into(),
            )
        })
        .collect()
}

fn site_default_not_latest(r: &Reading) -> Option<Finding> {
    let (_, newest) = docs_with_newest(r)?;
    let default = r.f.docs_default.as_deref();
    (default != Some(LATEST)).then(|| {
        finding(
            format!(
                "the site default is {}, not `{LATEST}`",
                default.unwrap_or("unset")
            ),
            format!("cargo xtask docs-deploy {newest}{}", r.flags(true, true)),
        )
    })
}

fn unpushed_commits(r: &Reading) -> Option<Finding> {
    (r.f.unpushed > 0).then(|| {
        finding(
            format!("{} release-branch commit(s) are not pushed", r.f.unpushed),
            format!("git push {} {}", r.b.remote, r.b.root),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight_rules::Problem;
    use crate::status::ReleaseEdits;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).expect("version")
    }

    pub(super) fn tag(s: &str) -> Tag {
        Tag::parse(s).expect("tag")
    }

    pub(super) fn tagref(s: &str, oid: &str) -> TagRef {
        TagRef {
            tag: tag(s),
            object: oid.into(),
            commit: oid.into(),
        }
    }

    fn listed(s: &str, yanked: bool) -> Listed {
        Listed {
            version: v(s),
            yanked,
            complete: true,
        }
    }

    /// A version with some of its files on the index.
    fn partial(s: &str) -> Listed {
        Listed {
            complete: false,
            ..listed(s, false)
        }
    }

    pub(super) fn dv(name: &str, aliases: &[&str]) -> DocsVersion {
        DocsVersion::plain(name, aliases)
    }

    /// v0.6.0 and v0.7.0 released, tagged here and on the remote, with docs.
    fn consistent() -> Facts {
        let tags = vec![tagref("v0.6.0", "a6"), tagref("v0.7.0", "a7")];
        Facts {
            branches: None,
            project: "mindoff-dataport".into(),
            local_tags: tags.clone(),
            remote_tags: Some(tags),
            remote_heads: vec!["root".into(), "docs".into()],
            pyproject_version: Some("0.7.0".into()),
            headings: vec![tag("v0.7.0"), tag("v0.6.0")],
            index: Some(vec![listed("0.6.0", false), listed("0.7.0", false)]),
            upload_url: Some("http://127.0.0.1:1/".into()),
            docs: Some(vec![dv("0.7", &[LATEST]), dv("0.6", &[])]),
            docs_default: Some(LATEST.into()),
            ..Facts::default()
        }
    }

    fn findings(f: &Facts) -> Vec<Finding> {
        assess(f).findings
    }

    /// After `release-rollback v0.7.0 --delete-tag` and the yank.
    fn rolled_back() -> Facts {
        let mut f = consistent();
        f.local_tags.pop();
        f.remote_tags.as_mut().map(Vec::pop);
        f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", true)]);
        f.docs = Some(vec![dv("0.7", &[LATEST]), dv("0.6", &[])]);
        f
    }

    #[test]
    fn each_inconsistency_names_its_fix() {
        assert_eq!(findings(&consistent()), vec![]);
        type Change = fn(&mut Facts);
        let cases: Vec<(Change, &str, &str)> = vec![
            (
                |f| f.index = Some(vec![listed("0.6.0", false)]),
                "v0.7.0 is tagged but not (completely) on the index",
                "cargo xtask release v0.7.0",
            ),
            (
                |f| {
                    f.index = Some(vec![listed("0.6.0", false)]);
                    f.tag_refusal = Some((tag("v0.7.0"), "at v0.7.0, the sdist would ship".into()));
                },
                "v0.7.0 is tagged, but its release is refused before anything reaches the index: at v0.7.0, the sdist would ship",
                "cargo xtask release-rollback v0.7.0 --delete-tag --yes",
            ),
            (
                // Files on the index: the version is not retired, it resumes.
                |f| {
                    f.index = Some(vec![listed("0.6.0", false), partial("0.7.0")]);
                    f.tag_refusal = Some((tag("v0.7.0"), "moved".into()));
                },
                "v0.7.0 is tagged but not (completely) on the index",
                "cargo xtask release v0.7.0",
            ),
            (
                |f| {
                    f.release_files = vec![Problem::new(
                        "the sdist would ship the release tooling (xtask)",
                        Some("pyproject.toml:1".into()),
                        "exclude it",
                    )]
                },
                "pyproject.toml:1: the sdist would ship the release tooling (xtask)",
                "exclude it",
            ),
            (
                // The release commit was made: the step would change nothing.
                |f| {
                    f.pyproject_version = Some("0.6.9".into());
                    f.release_edits = Some(ReleaseEdits {
                        tag: tag("v0.7.0"),
                        heading_at: Some("c7c7c7c7c7c7".into()),
                        released_at: Some("c7c7c7c7c7c7".into()),
                    });
                },
                "pyproject.toml says 0.6.9 but v0.7.0 is released",
                "set `version = \"0.7.0\"` under [project] in pyproject.toml (as the release commit c7c7c7c7c7 has it), then commit and push it to `root`",
            ),
            (
                |f| {
                    f.headings = vec![tag("v0.6.0")];
                    f.release_edits = Some(ReleaseEdits {
                        tag: tag("v0.7.0"),
                        heading_at: Some("c7c7c7c7c7c7".into()),
                        released_at: None,
                    });
                },
                "0.7.0 is on the index but CHANGELOG.md has no `## v0.7.0` section",
                "put the `## v0.7.0` section back into CHANGELOG.md above the previous release, as `git show c7c7c7c7c7:CHANGELOG.md` has it",
            ),
            (
                |f| f.pyproject_version = Some("0.6.9".into()),
                "pyproject.toml says 0.6.9 but v0.7.0 is released",
                "cargo xtask release v0.7.0 --step version",
            ),
            (
                |f| f.headings = vec![tag("v0.6.0")],
                "0.7.0 is on the index but CHANGELOG.md has no `## v0.7.0` section",
                "cargo xtask release v0.7.0 --step changelog",
            ),
            (
                |f| f.docs = Some(vec![dv("0.7", &[]), dv("0.6", &[LATEST])]),
                "`latest-release` is on 0.6",
                "cargo xtask docs-deploy 0.7",
            ),
            (
                |f| f.docs = Some(vec![dv("0.7", &[LATEST])]),
                "series 0.6 is released (v0.6.0) but has no docs",
                "cargo xtask docs-deploy v0.6.0",
            ),
            (
                |f| f.docs.as_mut().expect("docs").push(dv("v0.6", &[])),
                "0.6",
                "mike delete",
            ),
            (|f| f.docs_default = None, "site default", "cargo xtask docs-deploy 0.7"),
            (|f| f.unpushed = 2, "not pushed", "git push origin root"),
            (
                |f| {
                    f.index = None;
                    f.index_error = Some("refused".into())
                },
                "the package index could not be read: refused",
                "TWINE_REPOSITORY_URL",
            ),
            (
                |f| {
                    f.remote_tags = None;
                    f.remote_error = Some("fatal: unable to access".into())
                },
                "the remote `origin` could not be read: fatal: unable to access",
                "git ls-remote origin",
            ),
            (
                |f| f.index.as_mut().expect("index").insert(1, listed("0.6.5", false)),
                "0.6.5 is on the index but has no tag v0.6.5",
                "yank 0.6.5 by hand at http://127.0.0.1:1/manage/project/mindoff-dataport/release/0.6.5/",
            ),
            (
                |f| f.index.as_mut().expect("index").push(listed("0.8.0", false)),
                "0.8.0 is on the index above the newest tag (v0.7.0) and has no tag v0.8.0",
                "cargo xtask release-rollback v0.8.0 --yes --wait",
            ),
            (
                |f| f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", true)]),
                "0.7.0, the newest version on the index, is yanked but its tag v0.7.0 stands",
                "cargo xtask release-rollback v0.7.0 --delete-tag --yes",
            ),
            (
                |f| f.local_tags[1] = tagref("v0.7.0", "other"),
                "tag v0.7.0 here (at other) differs from `origin`'s (at a7)",
                "git fetch --force origin refs/tags/v0.7.0:refs/tags/v0.7.0",
            ),
            (
                |f| {
                    f.remote_tags.as_mut().map(Vec::pop);
                    f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", true)]);
                },
                "tag v0.7.0 is in this clone but not on `origin` (deleted there: 0.7.0 was rolled back)",
                "git tag -d v0.7.0",
            ),
            (
                |f| {
                    f.remote_tags.as_mut().map(Vec::pop);
                    f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", false)]);
                },
                "(deleted there, while 0.7.0 is still installable from the index: a rollback that \
waits for its yank, or a lost tag; if 0.7.0 should stand, restore it with `git push origin \
refs/tags/v0.7.0` instead)",
                "git tag -d v0.7.0",
            ),
            (
                |f| f.remote_heads = vec!["main".into(), "docs".into()],
                "`origin` has no release branch `root` (its branches: main, docs)",
                "`release-branch = \"main\"` in [tool.xtask] of pyproject.toml, or pass --root-branch main",
            ),
        ];
        for (change, problem, fix) in cases {
            let mut facts = consistent();
            change(&mut facts);
            let found = findings(&facts);
            assert!(
                found
                    .iter()
                    .any(|f| f.problem.contains(problem) && f.fix.contains(fix)),
                "{problem} / {fix} not in {found:#?}"
            );
        }
    }

    #[test]
    fn a_rollback_is_reported_as_spent_never_as_a_downgrade() {
        let a = assess(&rolled_back());
        assert_eq!(a.findings, vec![]);
        assert_eq!(a.rolled_back, vec![v("0.7.0")]);
        assert_eq!(a.next_release, Some(tag("v0.7.1")));
        assert_eq!(a.newest_tag, Some(tag("v0.6.0")));
        // No fix ever names a version below what pyproject.toml says.
        let mut f = rolled_back();
        f.pyproject_version = Some("0.7.0".into());
        for x in findings(&f) {
            assert!(!x.fix.contains("v0.6.0 --step version"), "{x:?}");
        }
    }

    #[test]
    fn all_released_series_need_docs_and_flags_follow_the_settings() {
        let mut f = consistent();
        f.docs = Some(vec![dv("0.7", &[LATEST])]);
        f.branches = Some(Branches {
            remote: "upstream".into(),
            root: "main".into(),
            docs: "gh-pages".into(),
        });
        f.remote_heads = vec!["main".into(), "gh-pages".into()];
        let fixes: Vec<String> = findings(&f).into_iter().map(|x| x.fix).collect();
        assert_eq!(
            fixes,
            ["cargo xtask docs-deploy v0.6.0 --remote upstream --root-branch main --docs-branch gh-pages"]
        );
    }
}

/// One table per finding: the consistent facts find nothing, each change
/// finds exactly its problem and fix.
#[cfg(test)]
mod finding_tables {
    use super::tests::{dv, tag, tagref};
    use super::*;
    use crate::preflight_rules::Problem;

    type Change = fn(&mut Facts);

    fn listed(s: &str, yanked: bool) -> Listed {
        Listed {
            version: semver::Version::parse(s).expect("version"),
            yanked,
            complete: true,
        }
    }

    /// v0.6.0 and v0.7.0 released, tagged here and on the remote, with docs.
    fn consistent() -> Facts {
        let tags = vec![tagref("v0.6.0", "a6"), tagref("v0.7.0", "a7")];
        Facts {
            project: "mindoff-dataport".into(),
            local_tags: tags.clone(),
            remote_tags: Some(tags),
            remote_heads: vec!["root".into(), "docs".into()],
            pyproject_version: Some("0.7.0".into()),
            headings: vec![tag("v0.7.0"), tag("v0.6.0")],
            index: Some(vec![listed("0.6.0", false), listed("0.7.0", false)]),
            upload_url: Some("http://127.0.0.1:1/".into()),
            docs: Some(vec![dv("0.7", &[LATEST]), dv("0.6", &[])]),
            docs_default: Some(LATEST.into()),
            ..Facts::default()
        }
    }

    /// Checks one finding against its table: unchanged facts find nothing.
    fn check<T: IntoIterator<Item = Finding>>(
        find: fn(&Reading) -> T,
        table: &[(Change, &[(&str, &str)])],
    ) {
        assert_eq!(find(&Reading::new(&consistent())).into_iter().count(), 0);
        for (change, expected) in table {
            let mut f = consistent();
            change(&mut f);
            let found: Vec<(String, String)> = find(&Reading::new(&f))
                .into_iter()
                .map(|x| (x.problem, x.fix))
                .collect();
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(p, x)| (p.to_string(), x.to_string()))
                .collect();
            assert_eq!(found, expected);
        }
    }

    #[test]
    fn unreadable_sources() {
        check(remote_unreadable, &[(
            |f| f.remote_error = Some("refused".into()),
            &[("the remote `origin` could not be read: refused", "make `origin` reachable (`git ls-remote origin` shows git's reason), then run `cargo xtask status` again")],
        )]);
        check(index_unreadable, &[(
            |f| f.index_error = Some("refused".into()),
            &[("the package index could not be read: refused", "check TWINE_REPOSITORY_URL / XTASK_INDEX_URL and the network, then run `cargo xtask status` again")],
        )]);
        check(
            unreadable_files,
            &[(
                |f| f.file_errors = vec!["CHANGELOG.md: gone".into()],
                &[(
                    "CHANGELOG.md: gone",
                    "restore the file from git (`git checkout -- <file>`) or fix it by hand",
                )],
            )],
        );
    }

    #[test]
    fn missing_release_branch_names_the_candidate() {
        check(missing_release_branch, &[
            (
                |f| f.remote_heads = vec!["main".into(), "docs".into()],
                &[("`origin` has no release branch `root` (its branches: main, docs)", "name the release branch: `release-branch = \"main\"` in [tool.xtask] of pyproject.toml, or pass --root-branch main")],
            ),
            (
                |f| f.remote_heads = vec![],
                &[("`origin` has no release branch `root` (its branches: none)", "name the release branch: `release-branch = \"<branch>\"` in [tool.xtask] of pyproject.toml, or pass --root-branch <branch>")],
            ),
            // An unread remote says nothing about its branches.
            (|f| {
                f.remote_tags = None;
                f.remote_heads = vec![];
            }, &[]),
        ]);
    }

    #[test]
    fn tags_unlike_remote_in_the_clones_order() {
        check(tags_unlike_remote, &[
            (
                |f| {
                    f.local_tags[0] = tagref("v0.6.0", "other");
                    f.remote_tags.as_mut().map(Vec::pop);
                },
                &[
                    ("tag v0.6.0 here (at other) differs from `origin`'s (at a6)", "git fetch --force origin refs/tags/v0.6.0:refs/tags/v0.6.0"),
                    ("tag v0.7.0 is in this clone but not on `origin` (deleted there, while 0.7.0 is still installable from the index: a rollback that waits for its yank, or a lost tag; if 0.7.0 should stand, restore it with `git push origin refs/tags/v0.7.0` instead); a `git push --tags` would bring it back", "git tag -d v0.7.0"),
                ],
            ),
            (
                |f| {
                    f.local_tags.push(tagref("v0.8.0", "a8"));
                },
                &[("tag v0.8.0 is in this clone but not on `origin` (never pushed, or deleted there); a `git push --tags` would bring it back", "git tag -d v0.8.0")],
            ),
        ]);
    }

    #[test]
    fn index_versions_in_the_index_order() {
        check(index_versions, &[
            (
                |f| f.index.as_mut().expect("index").insert(1, listed("0.6.5", false)),
                &[("0.6.5 is on the index but has no tag v0.6.5", "yank 0.6.5 by hand at http://127.0.0.1:1/manage/project/mindoff-dataport/release/0.6.5/ (the upload API cannot yank); if it is a good release whose tag was lost, tag its release commit instead: `git tag -a v0.6.5 -m \"Release v0.6.5\" <commit>` and `git push origin refs/tags/v0.6.5`")],
            ),
            (
                |f| f.index.as_mut().expect("index").push(listed("0.8.0", false)),
                &[("0.8.0 is on the index above the newest tag (v0.7.0) and has no tag v0.8.0: a rollback whose yank is pending, or a release whose tag was lost; the fix shows where to yank it and waits until the index shows it yanked", "cargo xtask release-rollback v0.8.0 --yes --wait")],
            ),
            (
                |f| f.index = Some(vec![listed("0.6.0", false), listed("0.7.0", true)]),
                &[("0.7.0, the newest version on the index, is yanked but its tag v0.7.0 stands: the rollback is not finished", "cargo xtask release-rollback v0.7.0 --delete-tag --yes")],
            ),
            (
                |f| f.headings = vec![tag("v0.6.0")],
                &[("0.7.0 is on the index but CHANGELOG.md has no `## v0.7.0` section", "cargo xtask release v0.7.0 --step changelog")],
            ),
        ]);
    }

    #[test]
    fn pending_tag_is_refused_or_released() {
        check(pending_tag, &[
            (
                |f| f.index = Some(vec![listed("0.6.0", false)]),
                &[("v0.7.0 is tagged but not (completely) on the index", "cargo xtask release v0.7.0")],
            ),
            (
                |f| {
                    f.index = Some(vec![listed("0.6.0", false)]);
                    f.tag_refusal = Some((tag("v0.7.0"), "moved".into()));
                },
                &[("v0.7.0 is tagged, but its release is refused before anything reaches the index: moved", "cargo xtask release-rollback v0.7.0 --delete-tag --yes")],
            ),
        ]);
    }

    #[test]
    fn release_files_against_the_newest_tag() {
        check(
            changelog_section_missing,
            &[(
                |f| {
                    f.index = None;
                    f.headings = vec![tag("v0.6.0")];
                },
                &[(
                    "CHANGELOG.md has no `## v0.7.0` section",
                    "cargo xtask release v0.7.0 --step changelog",
                )],
            )],
        );
        check(
            pyproject_behind,
            &[(
                |f| f.pyproject_version = Some("0.6.9".into()),
                &[(
                    "pyproject.toml says 0.6.9 but v0.7.0 is released",
                    "cargo xtask release v0.7.0 --step version",
                )],
            )],
        );
        check(
            release_file_problems,
            &[(
                |f| {
                    f.release_files = vec![Problem::new(
                        "no version",
                        Some("pyproject.toml:3".into()),
                        "add it",
                    )]
                },
                &[("pyproject.toml:3: no version", "add it")],
            )],
        );
        check(
            docs_site_problems,
            &[(
                |f| f.docs_site = vec![("odd".into(), "fix it".into())],
                &[("odd", "fix it")],
            )],
        );
        check(
            unpushed_commits,
            &[(
                |f| f.unpushed = 2,
                &[(
                    "2 release-branch commit(s) are not pushed",
                    "git push origin root",
                )],
            )],
        );
    }

    #[test]
    fn docs_follow_the_released_series() {
        check(
            series_without_docs,
            &[(
                |f| f.docs = Some(vec![dv("0.7", &[LATEST])]),
                &[(
                    "series 0.6 is released (v0.6.0) but has no docs",
                    "cargo xtask docs-deploy v0.6.0",
                )],
            )],
        );
        check(
            latest_alias_misplaced,
            &[
                (
                    |f| f.docs = Some(vec![dv("0.7", &[]), dv("0.6", &[LATEST])]),
                    &[(
                        "`latest-release` is on 0.6 but the newest docs series is 0.7",
                        "cargo xtask docs-deploy 0.7",
                    )],
                ),
                (
                    |f| f.docs = Some(vec![dv("0.7", &[]), dv("0.6", &[])]),
                    &[(
                        "no docs version holds `latest-release`",
                        "cargo xtask docs-deploy 0.7",
                    )],
                ),
            ],
        );
        check(
            series_spelled_twice,
            &[(
                |f| {
                    f.index = Some(vec![listed("0.7.0", false)]);
                    f.docs.as_mut().expect("docs").push(dv("v0.6", &[]));
                },
                &[(
                    "series 0.6 has two spellings on the docs branch",
                    ONE_SPELLING,
                )],
            )],
        );
        check(
            site_default_not_latest,
            &[(
                |f| f.docs_default = None,
                &[(
                    "the site default is unset, not `latest-release`",
                    "cargo xtask docs-deploy 0.7",
                )],
            )],
        );
    }
}
