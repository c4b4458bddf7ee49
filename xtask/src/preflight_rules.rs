//! Pure decisions of the preflight: what a release would refuse, read from
//! the release files' text alone (no build), and MkDocs's strict-mode
//! warnings turned into located problems. `status` shows the static ones;
//! `preflight` (and `tag`, which runs it) shows them all.

use toml_edit::{Document, Item};

use crate::artifacts::TOOLING;
use crate::changelog;
use crate::pyproject;

/// One thing a release would refuse: what, where (`file:line` when there
/// is one), and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub at: Option<String>,
    pub fix: String,
}

impl Problem {
    pub fn new(what: impl Into<String>, at: Option<String>, fix: impl Into<String>) -> Problem {
        Problem {
            what: what.into(),
            at,
            fix: fix.into(),
        }
    }

    /// One line: `file:line: what; fix: ...` (a refusal that names its own
    /// fix has none apart).
    pub fn line(&self) -> String {
        let at = self.at.as_ref().map_or(String::new(), |a| format!("{a}: "));
        match self.fix.as_str() {
            "" => format!("{at}{}", self.what),
            fix => format!("{at}{}; fix: {fix}", self.what),
        }
    }
}

/// `pyproject.toml` is readable and names the project and its version.
pub fn pyproject_problem(text: &str) -> Option<Problem> {
    let fix = "give [project] a literal `name` and `version = \"X.Y.Z\"` (the release edits the \
version in place)";
    pyproject::read_name(text)
        .and_then(|_| pyproject::read_version(text))
        .err()
        .map(|e| Problem::new(e.0, Some(pyproject::FILE.into()), fix))
}

/// The release tooling the sdist would carry, decided from hatchling's
/// settings in `pyproject.toml` (`only-include`, `include`, `exclude`, for
/// the sdist target or the whole build) and the repository's top-level
/// tracked paths. `None` for another build backend: only a build tells.
pub fn sdist_tooling(text: &str, top_level: &[String]) -> Option<Vec<String>> {
    let doc = text.parse::<Document<String>>().ok()?;
    let backend = doc
        .get("build-system")
        .and_then(|b| b.get("build-backend"))
        .and_then(Item::as_str)?;
    if !backend.starts_with("hatchling") {
        return None;
    }
    let hatch_build = doc
        .get("tool")
        .and_then(|t| t.get("hatch"))
        .and_then(|h| h.get("build"));
    let sdist = hatch_build
        .and_then(|b| b.get("targets"))
        .and_then(|t| t.get("sdist"));
    // A target's own option replaces the build-wide one.
    let option = |key: &str| -> Option<Vec<String>> {
        let item = sdist
            .and_then(|s| s.get(key))
            .or_else(|| hatch_build.and_then(|b| b.get(key)))?;
        Some(
            item.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    let only_include = option("only-include");
    let include = option("include");
    let exclude = option("exclude").unwrap_or_default();
    let present: Vec<&str> = TOOLING
        .iter()
        .map(|t| t.trim_end_matches('/'))
        .filter(|t| top_level.iter().any(|p| p == t))
        .collect();
    let shipped = present
        .into_iter()
        .filter(|t| {
            let included = match (&only_include, &include) {
                (Some(only), _) => only.iter().any(|p| reaches(p, t)),
                (None, Some(include)) => include.iter().any(|p| reaches(p, t)),
                (None, None) => true,
            };
            included && !exclude.iter().any(|p| covers(p, t))
        })
        .map(str::to_string)
        .collect();
    Some(shipped)
}

/// The problem for tooling the sdist would carry.
pub fn sdist_problem(text: &str, top_level: &[String]) -> Option<Problem> {
    let shipped = sdist_tooling(text, top_level)?;
    if shipped.is_empty() {
        return None;
    }
    let quoted: Vec<String> = shipped.iter().map(|t| format!("\"/{t}\"")).collect();
    let at = line_containing(text, "[tool.hatch.build.targets.sdist]")
        .or_else(|| line_containing(text, "[build-system]"))
        .map(|l| format!("{}:{l}", pyproject::FILE));
    Some(Problem::new(
        format!(
            "the sdist would ship the release tooling ({}): the release's artifact check refuses it",
            shipped.join(", ")
        ),
        at,
        format!(
            "exclude it in pyproject.toml: `[tool.hatch.build.targets.sdist] exclude = [{}]`, or \
list what ships with `include = [...]`",
            quoted.join(", ")
        ),
    ))
}

/// A tag's tree and the release branch, as read without a build.
pub struct TaggedSource<'a> {
    pub pyproject: &'a str,
    pub changelog: &'a str,
    pub top_level: &'a [String],
    /// The release branch's `pyproject.toml` and `CHANGELOG.md`.
    pub root_pyproject: &'a str,
    pub root_changelog: &'a str,
    /// Paths that differ between the tag and the release branch.
    pub changed: &'a [String],
}

/// Why the release of a tag that the index has not seen would be refused
/// before anything is uploaded, as far as its files tell: its tree does
/// not take the release edits or ships the tooling, or the release branch
/// moved beyond the release's own edits (what is published is the tagged
/// source). `None` when nothing static stands in the way.
pub fn pending_tag_refusal(tag: &crate::version::Tag, s: &TaggedSource) -> Option<String> {
    if let Some(p) = pyproject_problem(s.pyproject) {
        return Some(format!("at {tag}, {}", p.what));
    }
    if let Some(p) = sdist_problem(s.pyproject, s.top_level) {
        return Some(format!("at {tag}, {}", p.what));
    }
    if let Err(e) = changelog::rotate(s.changelog, tag) {
        return Some(format!("at {tag}, {}", e.0));
    }
    // A release commit already on the branch: the release resumes from it.
    if changelog::section(s.root_changelog, tag).is_some() {
        return None;
    }
    let beyond: Vec<&String> = s
        .changed
        .iter()
        .filter(|p| *p != changelog::FILE && *p != pyproject::FILE)
        .collect();
    if !beyond.is_empty() {
        let shown: Vec<&str> = beyond.iter().take(5).map(|p| p.as_str()).collect();
        return Some(format!(
            "the release branch has changes since {tag} beyond the release's own edits ({}{})",
            shown.join(", "),
            if beyond.len() > 5 { ", …" } else { "" }
        ));
    }
    let synced = |text: &str| match pyproject::sync_version(text, tag) {
        Ok(changelog::Edit::Changed(after)) => Some(after),
        Ok(changelog::Edit::Unchanged) => Some(text.to_string()),
        Err(_) => None,
    };
    if synced(s.pyproject) != synced(s.root_pyproject) {
        return Some(format!(
            "the release branch's {} differs from the tagged one beyond the version",
            pyproject::FILE
        ));
    }
    changelog::rotate_after_tag(s.root_changelog, s.changelog, tag)
        .err()
        .map(|e| e.0)
}

/// An include pattern selects `top` or something inside it.
fn reaches(pattern: &str, top: &str) -> bool {
    let p = pattern.trim().trim_start_matches('/').trim_end_matches('/');
    if p.is_empty() || p == "." || p == "*" || p == "**" {
        return true;
    }
    let first = p.split('/').next().unwrap_or(p);
    glob(first, top) || (!pattern.trim().starts_with('/') && glob(p, top))
}

/// An exclude pattern removes `top` as a whole (anchored or not).
fn covers(pattern: &str, top: &str) -> bool {
    let p = pattern.trim().trim_start_matches('/').trim_end_matches('/');
    let p = p.strip_prefix("**/").unwrap_or(p);
    !p.is_empty() && !p.contains('/') && glob(p, top)
}

/// `*` and `?` within one path component, as gitignore patterns use them.
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// 1-based number of the first line holding `needle`.
pub fn line_containing(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// MkDocs's strict-mode output as problems: each `WARNING`/`ERROR` line,
/// located in `mkdocs.yml` (nav) or the page it names, with the line that
/// mentions what is missing. `page` reads a page of the docs directory.
pub fn mkdocs_problems(
    output: &str,
    mkdocs_yml: &str,
    docs_dir: &str,
    page: &dyn Fn(&str) -> Option<String>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for line in output.lines() {
        let Some(message) = line
            .strip_prefix("WARNING")
            .or_else(|| line.strip_prefix("ERROR"))
        else {
            continue;
        };
        let message = message.trim_start_matches([' ', '-']).trim();
        if message.is_empty() || message.starts_with("Aborted") {
            continue;
        }
        let quoted = quoted_names(message);
        let at = if message.contains("'nav'") {
            let line = quoted.iter().find_map(|q| line_containing(mkdocs_yml, q));
            Some(line.map_or("mkdocs.yml".into(), |l| format!("mkdocs.yml:{l}")))
        } else if let Some(rest) = message.strip_prefix("Doc file '") {
            let file = rest.split('\'').next().unwrap_or_default();
            let target = quoted.get(1).cloned().unwrap_or_default();
            let line = page(file).and_then(|text| {
                let needle = target.rsplit('/').next().unwrap_or(&target).to_string();
                (!needle.is_empty())
                    .then(|| line_containing(&text, &needle))
                    .flatten()
            });
            Some(match line {
                Some(l) => format!("{docs_dir}/{file}:{l}"),
                None => format!("{docs_dir}/{file}"),
            })
        } else {
            None
        };
        out.push(Problem::new(
            format!("the docs do not build strictly: {}", plain(message)),
            at,
            "fix the page or mkdocs.yml as MkDocs says (`mkdocs build --strict` shows it), so \
`docs-deploy` can build the release's docs",
        ));
    }
    out
}

/// A tool's message as one line of at most 300 characters, quotes kept.
fn plain(message: &str) -> String {
    let text: String = message.chars().filter(|c| !c.is_control()).collect();
    match text.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The `'...'` names in a MkDocs message, in order.
fn quoted_names(message: &str) -> Vec<String> {
    message
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests;
