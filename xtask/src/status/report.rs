//! The status report, as text for people and as JSON for scripts.

use serde_json::{json, Value};

use super::{short, Assessment, Facts};
use crate::version::Tag;

/// The machine report; its keys are a contract with scripts and tests.
pub(super) fn json(facts: &Facts, a: &Assessment) -> Value {
    let tag_commit = a.newest_tag.as_ref().and_then(|t| commit_of(facts, t));
    json!({
        "newest_tag": a.newest_tag.as_ref().map(Tag::to_string),
        "tag_commit": tag_commit,
        "pyproject_version": facts.pyproject_version,
        "recent_changes_entries": facts.recent_entries,
        "index_versions": facts.index.as_ref().map(|l| l.iter().filter(|x| x.complete).map(|x| x.version.to_string()).collect::<Vec<_>>()),
        "index": facts.index.as_ref().map(|l| l.iter().map(|x| json!({"version": x.version.to_string(), "yanked": x.yanked, "complete": x.complete})).collect::<Vec<_>>()),
        "rolled_back": a.rolled_back.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "next_release": a.next_release.as_ref().map(Tag::to_string),
        "docs": facts.docs.as_ref().map(|d| d.iter().map(|v| json!({"version": v.name, "aliases": v.aliases})).collect::<Vec<_>>()),
        "docs_default": facts.docs_default,
        "unpushed_commits": facts.unpushed,
        "files_from": facts.files_from,
        "index_source": facts.index_source,
        "consistent": a.findings.is_empty(),
        "findings": a.findings.iter().map(|f| json!({"problem": f.problem, "fix": f.fix})).collect::<Vec<_>>(),
    })
}

fn commit_of(f: &Facts, tag: &Tag) -> Option<String> {
    f.remote_tags
        .iter()
        .flatten()
        .chain(&f.local_tags)
        .find(|t| t.tag == *tag)
        .map(|t| t.commit.clone())
}

/// The human report: the state read, then the findings with their fixes.
pub(super) fn print(f: &Facts, a: &Assessment) {
    let tag = a
        .newest_tag
        .as_ref()
        .map_or("(none)".to_string(), Tag::to_string);
    let commit = a
        .newest_tag
        .as_ref()
        .and_then(|t| commit_of(f, t))
        .map_or(String::new(), |c| format!(" at {}", short(&c)));
    println!("newest tag:        {tag}{commit}");
    println!(
        "release files:     {}",
        f.files_from
            .as_deref()
            .unwrap_or("this clone's working tree")
    );
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
    let indexed = match (&f.index, &f.index_error) {
        (Some(l), _) => l
            .iter()
            .max_by(|x, y| x.version.cmp(&y.version))
            .map_or("(no version)".to_string(), |x| {
                format!("{}{}", x.version, if x.yanked { " (yanked)" } else { "" })
            }),
        (None, Some(_)) => "(unreadable)".into(),
        (None, None) => "(not checked)".into(),
    };
    if let Some(source) = &f.index_source {
        println!("index:             {source}");
    }
    println!("index newest:      {indexed}");
    if let Some(next) = &a.next_release {
        let spent: Vec<String> = a.rolled_back.iter().map(ToString::to_string).collect();
        println!(
            "release state:     rolled back{}, next release {next}",
            if spent.is_empty() {
                String::new()
            } else {
                format!(" ({})", spent.join(", "))
            }
        );
    }
    let docs = match &f.docs {
        None => "(unreadable)".to_string(),
        Some(d) if d.is_empty() => "(none)".to_string(),
        Some(d) => d
            .iter()
            .map(|v| {
                if v.aliases.is_empty() {
                    v.name.clone()
                } else {
                    format!("{} [{}]", v.name, v.aliases.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    println!("docs versions:     {docs}");
    println!(
        "docs default:      {}",
        f.docs_default.as_deref().unwrap_or("(none)")
    );
    println!("unpushed commits:  {}", f.unpushed);
    println!(
        "\nstatus reads files only: `cargo xtask preflight` builds the package and the docs, \
and tells what else a release would refuse"
    );
    if a.findings.is_empty() {
        println!("\nconsistent: nothing to fix");
    } else {
        println!("\ninconsistent:");
        for item in &a.findings {
            println!("  - {}\n      fix: {}", item.problem, item.fix);
        }
    }
}
