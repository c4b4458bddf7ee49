//! `cargo xtask status`: is the project in a consistent release state?
//! Reads the repository, the remote, the package index and the docs
//! branch, and names every inconsistency with the command that fixes it.

use anyhow::Result;
use camino::Utf8Path;
use serde_json::json;
use xshell::{cmd, Shell};

use crate::changelog;
use crate::docs::{self, Branches};
use crate::docs_versions::{self as versions, LATEST};
use crate::git::Git;
use crate::index::{self, IndexConfig};
use crate::pyproject;
use crate::read;
use crate::version::Tag;

/// One inconsistency and the command that fixes it.
#[derive(Debug, PartialEq, Eq)]
pub struct Finding {
    pub problem: String,
    pub fix: String,
}

/// What status reads; the decisions over it are pure (`findings`).
#[derive(Debug, Default)]
pub struct Facts {
    pub newest_tag: Option<Tag>,
    pub tag_commit: Option<String>,
    pub pyproject_version: Option<String>,
    pub recent_entries: Option<usize>,
    pub released_heading: bool,
    /// Versions the index lists with an sdist and a wheel, newest last.
    pub index_versions: Option<Vec<semver::Version>>,
    pub index_error: Option<String>,
    pub docs: Vec<versions::DocsVersion>,
    pub docs_default: Option<String>,
    /// The docs site's breaks of its own conventions, with their fixes.
    pub docs_site: Vec<(String, String)>,
    pub unpushed: usize,
}

pub fn findings(f: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |problem: String, fix: String| out.push(Finding { problem, fix });
    if let Some(error) = &f.index_error {
        add(
            format!("the package index could not be read: {error}"),
            "check TWINE_REPOSITORY_URL / XTASK_INDEX_URL and the network".into(),
        );
    }
    if let Some(tag) = &f.newest_tag {
        if let Some(indexed) = &f.index_versions {
            if !indexed.contains(tag.version_ref()) {
                add(
                    format!("{tag} is tagged but not (completely) on the index"),
                    format!("cargo xtask release {tag}"),
                );
            }
        }
        if f.pyproject_version
            .as_deref()
            .is_some_and(|v| v != tag.pep440())
            && f.released_heading
        {
            add(
                format!(
                    "pyproject.toml says {} but {tag} is released",
                    f.pyproject_version.as_deref().unwrap_or("?")
                ),
                format!("cargo xtask release {tag} --step version"),
            );
        }
        if !f.released_heading {
            add(
                format!("CHANGELOG.md has no `## {tag}` section"),
                format!("cargo xtask release {tag} --step changelog"),
            );
        }
        let series = tag.series();
        match versions::spelling(&f.docs, series) {
            Err(e) => add(
                e.0,
                "keep one spelling: `mike delete --branch docs --push <the other>`".into(),
            ),
            Ok(None) => add(
                format!("series {series} of {tag} has no docs"),
                format!("cargo xtask docs-deploy {tag}"),
            ),
            Ok(Some(_)) => {}
        }
    }
    if let Some(newest) = versions::newest(&f.docs) {
        let holder = f
            .docs
            .iter()
            .find(|v| v.aliases.iter().any(|a| a == LATEST));
        match holder {
            Some(v) if v.series() == Some(newest) => {}
            Some(v) => add(
                format!(
                    "`{LATEST}` is on {} but the newest docs series is {newest}",
                    v.name
                ),
                format!("cargo xtask docs-deploy {newest}"),
            ),
            None => add(
                format!("no docs version holds `{LATEST}`"),
                format!("cargo xtask docs-deploy {newest}"),
            ),
        }
        // Two spellings of any series, not only the newest tag's.
        let mut seen = std::collections::BTreeSet::new();
        for s in f.docs.iter().filter_map(versions::DocsVersion::series) {
            if !seen.insert(s) && f.newest_tag.as_ref().map(Tag::series) != Some(s) {
                add(
                    format!("series {s} has two spellings on the docs branch"),
                    "keep one spelling: `mike delete --branch docs --push <the other>`".into(),
                );
            }
        }
        if f.docs_default.as_deref() != Some(LATEST) {
            add(
                format!(
                    "the site default is {}, not `{LATEST}`",
                    f.docs_default.as_deref().unwrap_or("unset")
                ),
                format!("cargo xtask docs-deploy {newest}"),
            );
        }
    }
    for (problem, fix) in &f.docs_site {
        add(problem.clone(), fix.clone());
    }
    if f.unpushed > 0 {
        add(
            format!("{} release-branch commit(s) are not pushed", f.unpushed),
            "git push".into(),
        );
    }
    out
}

pub struct Options {
    pub json: bool,
    pub branches: Branches,
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let facts = gather(sh, root, &opts.branches)?;
    let found = findings(&facts);
    if opts.json {
        let report = json!({
            "newest_tag": facts.newest_tag.as_ref().map(Tag::to_string),
            "tag_commit": facts.tag_commit,
            "pyproject_version": facts.pyproject_version,
            "recent_changes_entries": facts.recent_entries,
            "index_versions": facts.index_versions.as_ref().map(|v| v.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
            "docs": facts.docs.iter().map(|v| json!({"version": v.name, "aliases": v.aliases})).collect::<Vec<_>>(),
            "docs_default": facts.docs_default,
            "unpushed_commits": facts.unpushed,
            "consistent": found.is_empty(),
            "findings": found.iter().map(|f| json!({"problem": f.problem, "fix": f.fix})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&facts, &found);
    }
    if found.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} inconsistenc{} found",
            found.len(),
            if found.len() == 1 { "y" } else { "ies" }
        )
    }
}

fn print_report(f: &Facts, found: &[Finding]) {
    let tag = f
        .newest_tag
        .as_ref()
        .map_or("(none)".to_string(), Tag::to_string);
    let commit = f
        .tag_commit
        .as_deref()
        .map_or(String::new(), |c| format!(" at {}", &c[..c.len().min(10)]));
    println!("newest tag:        {tag}{commit}");
    println!(
        "pyproject.toml:    {}",
        f.pyproject_version.as_deref().unwrap_or("(unreadable)")
    );
    println!(
        "Recent Changes:    {}",
        f.recent_entries
            .map_or("(no section)".to_string(), |n| format!(
                "{n} entr{}",
                if n == 1 { "y" } else { "ies" }
            ))
    );
    let indexed = match (&f.index_versions, &f.index_error) {
        (Some(v), _) => v
            .last()
            .map_or("(no complete version)".to_string(), |x| x.to_string()),
        (None, Some(_)) => "(unreadable)".into(),
        (None, None) => "(not checked)".into(),
    };
    println!("index newest:      {indexed}");
    let docs: Vec<String> = f
        .docs
        .iter()
        .map(|v| {
            if v.aliases.is_empty() {
                v.name.clone()
            } else {
                format!("{} [{}]", v.name, v.aliases.join(", "))
            }
        })
        .collect();
    println!(
        "docs versions:     {}",
        if docs.is_empty() {
            "(none)".into()
        } else {
            docs.join(", ")
        }
    );
    println!(
        "docs default:      {}",
        f.docs_default.as_deref().unwrap_or("(none)")
    );
    println!("unpushed commits:  {}", f.unpushed);
    if found.is_empty() {
        println!("\nconsistent: nothing to fix");
    } else {
        println!("\ninconsistent:");
        for item in found {
            println!("  - {}\n      fix: {}", item.problem, item.fix);
        }
    }
}

fn gather(sh: &Shell, root: &Utf8Path, b: &Branches) -> Result<Facts> {
    let git = Git::new(sh);
    git.fetch(&b.remote, &b.root)?;
    let mut facts = Facts {
        newest_tag: git.release_tags()?.pop(),
        ..Facts::default()
    };
    if let Some(tag) = &facts.newest_tag {
        facts.tag_commit = git.commit_of(&Git::tag_ref(tag))?;
    }
    let log = read(root, changelog::FILE)?;
    facts.recent_entries = changelog::recent_entries(&log);
    facts.released_heading = facts
        .newest_tag
        .as_ref()
        .is_some_and(|t| changelog::section(&log, t).is_some());
    facts.pyproject_version = pyproject::read_version(&read(root, pyproject::FILE)?).ok();
    let project = pyproject::read_name(&read(root, pyproject::FILE)?)?;
    match IndexConfig::from_env(sh, root).and_then(|c| index::fetch(&c.simple_base, &project)) {
        Ok(listed) => facts.index_versions = Some(index::complete_versions(&project, &listed)),
        Err(e) => facts.index_error = Some(format!("{e:#}")),
    }
    let state = docs::read_docs(&git, b, true)?;
    facts.docs_site = versions::site_problems(&state.versions, &state.aliases, &b.docs);
    facts.docs = state.versions;
    facts.docs_default = state.default;
    let range = format!("{}/{}..{}", b.remote, b.root, b.root);
    facts.unpushed = cmd!(sh, "git rev-list --count {range}")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs_versions::DocsVersion;

    fn v(name: &str, aliases: &[&str]) -> DocsVersion {
        DocsVersion::plain(name, aliases)
    }

    fn consistent() -> Facts {
        Facts {
            newest_tag: Tag::parse("v0.7.0").ok(),
            tag_commit: Some("abc".into()),
            pyproject_version: Some("0.7.0".into()),
            recent_entries: None,
            released_heading: true,
            index_versions: Some(vec![semver::Version::new(0, 7, 0)]),
            index_error: None,
            docs: vec![v("0.7", &[LATEST]), v("0.6", &[])],
            docs_default: Some(LATEST.into()),
            docs_site: Vec::new(),
            unpushed: 0,
        }
    }

    fn fixes(f: &Facts) -> Vec<String> {
        findings(f).into_iter().map(|x| x.fix).collect()
    }

    #[test]
    fn each_inconsistency_names_its_fix() {
        assert!(findings(&consistent()).is_empty());
        type Change = fn(&mut Facts);
        let cases: Vec<(Change, &str)> = vec![
            (
                |f| f.index_versions = Some(vec![]),
                "cargo xtask release v0.7.0",
            ),
            (
                |f| f.pyproject_version = Some("0.6.0".into()),
                "cargo xtask release v0.7.0 --step version",
            ),
            (
                |f| f.released_heading = false,
                "cargo xtask release v0.7.0 --step changelog",
            ),
            (
                |f| f.docs = vec![v("0.7", &[]), v("0.6", &[LATEST])],
                "cargo xtask docs-deploy 0.7",
            ),
            (
                |f| f.docs = vec![v("0.6", &[LATEST])],
                "cargo xtask docs-deploy v0.7.0",
            ),
            (|f| f.docs.push(v("v0.6", &[])), "mike delete"),
            (|f| f.docs.push(v("v0.7", &[])), "mike delete"),
            (|f| f.docs_default = None, "cargo xtask docs-deploy 0.7"),
            (|f| f.unpushed = 2, "git push"),
            (
                |f| {
                    f.index_versions = None;
                    f.index_error = Some("refused".into())
                },
                "TWINE_REPOSITORY_URL",
            ),
        ];
        for (change, fix) in cases {
            let mut facts = consistent();
            change(&mut facts);
            let found = fixes(&facts);
            assert!(
                found.iter().any(|f| f.contains(fix)),
                "{fix} not in {found:?}"
            );
        }
    }
}
