//! Pure text edits of `CHANGELOG.md`: rotate `## Recent Changes` to a
//! release heading, and revert that (merging entries that arrived
//! meanwhile).
//!
//! Every edit keeps line endings (LF, CRLF or the old Mac CR), a
//! byte-order mark, and every byte outside the lines it changes. Entries
//! are filed in the file's own style ([`Style`]): whether a blank line
//! follows a `###` heading and whether a group lists its newest entry first
//! are read from the file, unless `[tool.xtask]` says otherwise.

use crate::input::{clip, BadInput};
use crate::settings::ChangelogStyle;
use crate::version::Tag;

pub const FILE: &str = "CHANGELOG.md";
pub const RECENT: &str = "Recent Changes";
const BOM: &str = "\u{feff}";

/// The outcome of a text edit.
#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    Changed(String),
    Unchanged,
}

/// One line with its line ending, if any.
#[derive(Clone, Copy)]
struct Line<'a> {
    full: &'a str,
}

impl<'a> Line<'a> {
    fn content(&self) -> &'a str {
        self.full.trim_end_matches(['\n', '\r'])
    }

    fn h2(&self) -> Option<&'a str> {
        self.content().strip_prefix("## ").map(str::trim)
    }

    fn h3(&self) -> Option<&'a str> {
        self.content().strip_prefix("### ").map(str::trim)
    }

    fn is_blank(&self) -> bool {
        self.content().trim().is_empty()
    }

    fn is_entry(&self) -> bool {
        let t = self.content().trim_start();
        ["- ", "* ", "+ "].iter().any(|p| t.starts_with(p))
    }

    /// The pull request of an entry: the number in its own trailing link
    /// `([#N](url))`, never a `#N` quoted in its title.
    fn pr(&self) -> Option<u64> {
        if !self.is_entry() {
            return None;
        }
        let text = self.content().trim_end().strip_suffix("))")?;
        let at = text.rfind("([#")?;
        let (number, url) = text[at + 3..].split_once("](")?;
        if url.is_empty() || url.contains(char::is_whitespace) {
            return None;
        }
        number.parse().ok()
    }
}

/// Splits after each line ending: `\r\n`, `\n`, or a lone `\r`.
fn split_lines(text: &str) -> Vec<Line<'_>> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\n' => Some(i + 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => Some(i + 2),
            b'\r' => Some(i + 1),
            _ => None,
        };
        match end {
            Some(end) => {
                lines.push(Line {
                    full: &text[start..end],
                });
                start = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if start < text.len() {
        lines.push(Line {
            full: &text[start..],
        });
    }
    lines
}

/// Whether text ends with an empty line (two line endings in a row).
fn ends_blank(text: &str) -> bool {
    ["\n\n", "\n\r\n", "\r\r"].iter().any(|e| text.ends_with(e))
}

fn ends_line(text: &str) -> bool {
    text.ends_with(['\n', '\r'])
}

/// How the file files its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// A blank line between a `###` heading and its first entry.
    pub blank_after_heading: bool,
    /// A group lists its newest entry (highest pull-request number) first.
    pub newest_first: bool,
}

impl Style {
    /// The file's own style, where `overrides` does not fix it. With no
    /// evidence either way, the house style: a blank line, oldest first.
    pub fn of(text: &str, overrides: &ChangelogStyle) -> Style {
        let doc = Doc::parse(text);
        let (mut blank, mut tight, mut newer_first, mut older_first) = (0, 0, 0, 0);
        for (i, line) in doc.lines.iter().enumerate() {
            if line.h3().is_some() {
                match doc.lines.get(i + 1) {
                    Some(next) if next.is_blank() => blank += 1,
                    Some(next) if next.is_entry() => tight += 1,
                    _ => {}
                }
            }
            if let (Some(a), Some(b)) = (line.pr(), doc.lines.get(i + 1).and_then(Line::pr)) {
                match a.cmp(&b) {
                    std::cmp::Ordering::Greater => newer_first += 1,
                    std::cmp::Ordering::Less => older_first += 1,
                    std::cmp::Ordering::Equal => {}
                }
            }
        }
        Style {
            blank_after_heading: overrides.blank_after_heading.unwrap_or(blank >= tight),
            newest_first: overrides.newest_first.unwrap_or(newer_first > older_first),
        }
    }
}

/// The text split into lines, with the BOM and the dominant line ending.
struct Doc<'a> {
    bom: &'a str,
    lines: Vec<Line<'a>>,
    eol: &'static str,
}

impl<'a> Doc<'a> {
    fn parse(text: &'a str) -> Doc<'a> {
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (BOM, rest),
            None => ("", text),
        };
        let lines = split_lines(body);
        let count = |eol: &str| lines.iter().filter(|l| l.full.ends_with(eol)).count();
        let (crlf, lf) = (count("\r\n"), count("\n"));
        let cr = lines.len() - lines.iter().filter(|l| !ends_line(l.full)).count() - lf;
        let eol = if crlf * 2 > lines.len() {
            "\r\n"
        } else if cr > lf {
            "\r"
        } else {
            "\n"
        };
        Doc { bom, lines, eol }
    }

    /// Indexes of every `## NAME` heading.
    fn h2_indexes(&self, name: &str) -> Vec<usize> {
        (0..self.lines.len())
            .filter(|&i| self.lines[i].h2() == Some(name))
            .collect()
    }

    /// The first heading that was probably meant as `## Recent Changes`:
    /// another case or level, no space after the hashes, or Keep a
    /// Changelog's `[Unreleased]`.
    fn near_recent(&self) -> Option<(usize, &'a str)> {
        self.lines.iter().enumerate().find_map(|(i, line)| {
            let text = line.content().trim();
            let name = text.strip_prefix('#')?.trim_start_matches('#').trim();
            let name = name.trim_start_matches('[').trim_end_matches(']');
            (name.eq_ignore_ascii_case(RECENT) || name.eq_ignore_ascii_case("unreleased"))
                .then_some((i, text))
        })
    }

    /// The line index after the section whose heading is at `start`.
    fn section_end(&self, start: usize) -> usize {
        (start + 1..self.lines.len())
            .find(|&i| self.lines[i].h2().is_some())
            .unwrap_or(self.lines.len())
    }

    /// The edited file: the BOM (if any) and the lines.
    fn assemble(&self, parts: &[&str]) -> String {
        format!("{}{}", self.bom, join(parts, self.eol))
    }

    fn heading(&self, at: usize, name: &str) -> String {
        let line = self.lines[at].full;
        let eol = &line[line.trim_end_matches(['\n', '\r']).len()..];
        format!("## {name}{eol}")
    }
}

fn one_heading(doc: &Doc, name: &str) -> Result<Option<usize>, BadInput> {
    match doc.h2_indexes(name).as_slice() {
        [] => Ok(None),
        [at] => Ok(Some(*at)),
        [first, second, ..] => Err(BadInput(format!(
            "{FILE} has `## {name}` twice (lines {} and {}): keep one section per heading",
            first + 1,
            second + 1
        ))),
    }
}

/// Joins lines, adding a line ending where a line that lacked one (the
/// file's last) is followed by more text.
fn join(parts: &[&str], eol: &str) -> String {
    let mut out = String::new();
    for part in parts.iter().filter(|p| !p.is_empty()) {
        if !out.is_empty() && !ends_line(&out) {
            out.push_str(eol);
        }
        out.push_str(part);
    }
    out
}

/// `## Recent Changes` becomes `## vX.Y.Z`. Unchanged when this tag's
/// heading already exists (a re-run, or `cargo xtask tag` did it).
pub fn rotate(text: &str, tag: &Tag) -> Result<Edit, BadInput> {
    let doc = Doc::parse(text);
    let name = tag.to_string();
    if one_heading(&doc, &name)?.is_some() {
        return Ok(Edit::Unchanged);
    }
    let recent = one_heading(&doc, RECENT)?.ok_or_else(|| {
        let near = doc
            .near_recent()
            .map(|(at, text)| {
                format!(
                    " (line {} reads `{}`: the heading must be exactly `## {RECENT}`)",
                    at + 1,
                    clip(text)
                )
            })
            .unwrap_or_default();
        BadInput(format!(
            "{FILE} has no `## {RECENT}` section to release as {tag}{near}: add the release's \
entries under a `## {RECENT}` heading above the previous release"
        ))
    })?;
    let end = doc.section_end(recent);
    if !doc.lines[recent + 1..end].iter().any(Line::is_entry) {
        return Err(BadInput(format!(
            "{FILE}:{}: `## {RECENT}` has no entries, so there is nothing to release as {tag}: \
add at least one `- ...` entry under it",
            recent + 1
        )));
    }
    if let Some(newer) = released_headings(&doc).find(|t| t >= tag) {
        return Err(BadInput(format!(
            "{FILE} already has a section for {newer}, which is not older than {tag}: \
releases are linear, so tag a version newer than {newer}"
        )));
    }
    let heading = doc.heading(recent, &name);
    let mut parts: Vec<&str> = doc.lines[..recent].iter().map(|l| l.full).collect();
    parts.push(&heading);
    parts.extend(doc.lines[recent + 1..].iter().map(|l| l.full));
    Ok(Edit::Changed(doc.assemble(&parts)))
}

fn released_headings<'d>(doc: &'d Doc) -> impl Iterator<Item = Tag> + 'd {
    doc.lines
        .iter()
        .filter_map(|l| l.h2())
        .filter_map(Tag::from_git)
}

/// A section body split into its text before the first `###` and its
/// `### Category` groups.
struct Body<'a> {
    preamble: Vec<Line<'a>>,
    groups: Vec<(Line<'a>, Vec<Line<'a>>)>,
}

impl<'a> Body<'a> {
    fn parse(lines: &[Line<'a>]) -> Body<'a> {
        let mut body = Body {
            preamble: Vec::new(),
            groups: Vec::new(),
        };
        for line in lines {
            match (line.h3(), body.groups.last_mut()) {
                (Some(_), _) => body.groups.push((*line, Vec::new())),
                (None, Some((_, group))) => group.push(*line),
                (None, None) => body.preamble.push(*line),
            }
        }
        body
    }

    /// Adds `other`'s content, which is newer: entries of a known category
    /// go to that category's top (newest first) or end, unknown categories
    /// are appended. Nothing is dropped.
    fn absorb(&mut self, other: Body<'a>, newest_first: bool) {
        insert_before_trailing_blanks(&mut self.preamble, content_lines(&other.preamble));
        for (heading, lines) in other.groups {
            let title = heading.h3();
            match self.groups.iter_mut().find(|(h, _)| h.h3() == title) {
                Some((_, group)) if newest_first => {
                    let at = group
                        .iter()
                        .position(|l| !l.is_blank())
                        .unwrap_or(group.len());
                    group.splice(at..at, content_lines(&lines));
                }
                Some((_, group)) => insert_before_trailing_blanks(group, content_lines(&lines)),
                None => self.groups.push((heading, lines)),
            }
        }
    }

    fn render(&self, eol: &str) -> String {
        let mut out = join(
            &self.preamble.iter().map(|l| l.full).collect::<Vec<_>>(),
            eol,
        );
        for (heading, lines) in &self.groups {
            // Keep the format's blank line between groups.
            let separated = out.trim().is_empty() || ends_blank(&out);
            if !separated {
                if !ends_line(&out) {
                    out.push_str(eol);
                }
                out.push_str(eol);
            }
            let mut parts = vec![out.as_str(), heading.full];
            parts.extend(lines.iter().map(|l| l.full));
            out = join(&parts, eol);
        }
        out
    }
}

fn content_lines<'a>(lines: &[Line<'a>]) -> Vec<Line<'a>> {
    lines.iter().filter(|l| !l.is_blank()).copied().collect()
}

fn insert_before_trailing_blanks<'a>(target: &mut Vec<Line<'a>>, new: Vec<Line<'a>>) {
    let at = target
        .iter()
        .rposition(|l| !l.is_blank())
        .map_or(0, |i| i + 1);
    target.splice(at..at, new);
}

/// Undoes `rotate`: `## vX.Y.Z` becomes `## Recent Changes` again. When a
/// new `## Recent Changes` appeared above it meanwhile, both sections merge
/// into one, in the file's own style. Unchanged when there is nothing to
/// revert.
pub fn revert(text: &str, tag: &Tag) -> Result<Edit, BadInput> {
    revert_with(text, tag, &ChangelogStyle::default())
}

/// [`revert`] with the `[tool.xtask]` style overrides.
pub fn revert_with(text: &str, tag: &Tag, overrides: &ChangelogStyle) -> Result<Edit, BadInput> {
    let style = Style::of(text, overrides);
    let doc = Doc::parse(text);
    let Some(release) = one_heading(&doc, &tag.to_string())? else {
        return match one_heading(&doc, RECENT)? {
            Some(_) => Ok(Edit::Unchanged),
            None => Err(BadInput(format!(
                "{FILE} has neither `## {tag}` nor `## {RECENT}`: nothing to revert"
            ))),
        };
    };
    let release_end = doc.section_end(release);
    let all = |range: std::ops::Range<usize>| -> Vec<&str> {
        doc.lines[range].iter().map(|l| l.full).collect()
    };
    let heading = doc.heading(release, RECENT);
    let mut parts: Vec<&str> = Vec::new();
    match one_heading(&doc, RECENT)? {
        None => {
            parts.extend(all(0..release));
            parts.push(&heading);
            parts.extend(all(release + 1..doc.lines.len()));
            Ok(Edit::Changed(doc.assemble(&parts)))
        }
        Some(recent) if doc.section_end(recent) == release => {
            let mut merged = Body::parse(&doc.lines[release + 1..release_end]);
            merged.absorb(
                Body::parse(&doc.lines[recent + 1..release]),
                style.newest_first,
            );
            let body = merged.render(doc.eol);
            parts.extend(all(0..recent));
            parts.push(&heading);
            parts.push(&body);
            parts.extend(all(release_end..doc.lines.len()));
            Ok(Edit::Changed(doc.assemble(&parts)))
        }
        Some(recent) => Err(BadInput(format!(
            "{FILE}:{}: `## {RECENT}` is not directly above `## {tag}` (line {}): \
merge the sections by hand, then re-run",
            recent + 1,
            release + 1
        ))),
    }
}

/// Adds `entry` (a whole `- ...` line) under `### {category}` in
/// `## Recent Changes`, in the file's own style, creating the category, or
/// the section under the title and above the newest release, when missing.
/// Unchanged when an entry's own trailing link `([#N](url))` already names
/// this pull request.
// Kept for callers that have no settings at hand (tests, other commands).
#[allow(dead_code)]
pub fn add_entry(text: &str, category: &str, entry: &str, pr: u64) -> Result<Edit, BadInput> {
    add_entry_with(text, category, entry, pr, &ChangelogStyle::default())
}

/// [`add_entry`] with the `[tool.xtask]` style overrides.
pub fn add_entry_with(
    text: &str,
    category: &str,
    entry: &str,
    pr: u64,
    overrides: &ChangelogStyle,
) -> Result<Edit, BadInput> {
    let doc = Doc::parse(text);
    if doc.lines.iter().any(|l| l.pr() == Some(pr)) {
        return Ok(Edit::Unchanged);
    }
    let style = Style::of(text, overrides);
    let eol = doc.eol;
    let gap = if style.blank_after_heading { eol } else { "" };
    let addition = format!("### {category}{eol}{gap}{entry}{eol}{eol}");
    let added = Doc::parse(&addition);
    let all = |range: std::ops::Range<usize>| -> Vec<&str> {
        doc.lines[range].iter().map(|l| l.full).collect()
    };
    let mut parts: Vec<&str> = Vec::new();
    match one_heading(&doc, RECENT)? {
        Some(recent) => {
            let end = doc.section_end(recent);
            let mut body = Body::parse(&doc.lines[recent + 1..end]);
            if body.groups.is_empty() && body.preamble.iter().all(Line::is_blank) {
                body.preamble.truncate(1);
            }
            body.absorb(Body::parse(&added.lines), style.newest_first);
            let mut rendered = body.render(eol);
            if end < doc.lines.len() && !ends_blank(&rendered) {
                rendered.push_str(eol);
            }
            let heading = doc.lines[recent].full;
            parts.extend(all(0..recent));
            parts.push(heading);
            parts.push(&rendered);
            parts.extend(all(end..doc.lines.len()));
            Ok(Edit::Changed(doc.assemble(&parts)))
        }
        None => {
            // Above the newest release (releases are listed newest first),
            // else above the first section, else at the end.
            let h2s: Vec<usize> = (0..doc.lines.len())
                .filter(|&i| doc.lines[i].h2().is_some())
                .collect();
            let at = h2s
                .iter()
                .copied()
                .find(|&i| doc.lines[i].h2().and_then(Tag::from_git).is_some())
                .or(h2s.first().copied())
                .unwrap_or(doc.lines.len());
            // The same gap under `## Recent Changes` as under that heading.
            let h2_gap = match doc.lines.get(at + 1) {
                Some(next) if !next.is_blank() => "",
                _ => eol,
            };
            let before = if at == 0 || doc.lines[at - 1].is_blank() {
                ""
            } else {
                eol
            };
            let section = format!("{before}## {RECENT}{eol}{h2_gap}{addition}");
            parts.extend(all(0..at));
            parts.push(&section);
            parts.extend(all(at..doc.lines.len()));
            Ok(Edit::Changed(doc.assemble(&parts)))
        }
    }
}

/// How many entries `## Recent Changes` holds, `None` when it is missing.
pub fn recent_entries(text: &str) -> Option<usize> {
    let doc = Doc::parse(text);
    let at = *doc.h2_indexes(RECENT).first()?;
    let end = doc.section_end(at);
    Some(
        doc.lines[at + 1..end]
            .iter()
            .filter(|l| l.is_entry())
            .count(),
    )
}

/// The body of `## vX.Y.Z`, without surrounding blank lines: the GitHub
/// Release notes for that tag.
pub fn section(text: &str, tag: &Tag) -> Option<String> {
    let doc = Doc::parse(text);
    let at = *doc.h2_indexes(&tag.to_string()).first()?;
    let end = doc.section_end(at);
    let body: String = doc.lines[at + 1..end].iter().map(|l| l.full).collect();
    Some(body.trim().replace("\r\n", "\n").replace('\r', "\n"))
}

/// The release edit of root's `CHANGELOG.md` for a tag that may predate
/// it (the GitHub flow tags root before the release commits): `## vX.Y.Z`
/// gets exactly the tagged section, and entries that reached root after
/// the tag stay under a fresh `## Recent Changes` above it, unreleased.
/// Apart from `## Recent Changes`, the result must equal the tagged file
/// after its own rotation; any other difference is refused.
pub fn rotate_after_tag(root: &str, tagged: &str, tag: &Tag) -> Result<Edit, BadInput> {
    let name = tag.to_string();
    let tag_after = match rotate(tagged, tag) {
        Ok(Edit::Changed(text)) => text,
        Ok(Edit::Unchanged) => tagged.to_string(),
        Err(e) => return Err(BadInput(format!("at {tag}, {}", e.0))),
    };
    let tdoc = Doc::parse(&tag_after);
    let Some(release) = one_heading(&tdoc, &name)? else {
        return Err(BadInput(format!(
            "at {tag}, {FILE} has no `## {name}` after rotation"
        )));
    };
    let section: Vec<&str> = tdoc.lines[release..tdoc.section_end(release)]
        .iter()
        .map(|l| l.full)
        .collect();
    let released: Vec<&str> = tdoc.lines[release..tdoc.section_end(release)]
        .iter()
        .filter(|l| l.is_entry())
        .map(|l| l.content().trim())
        .collect();

    let rdoc = Doc::parse(root);
    let result = if one_heading(&rdoc, &name)?.is_some() {
        root.to_string()
    } else {
        let recent = one_heading(&rdoc, RECENT)?.ok_or_else(|| {
            BadInput(format!(
                "{FILE} has neither `## {RECENT}` nor `## {name}`: the entries {tag} releases \
must stay under `## {RECENT}` until the release"
            ))
        })?;
        let end = rdoc.section_end(recent);
        let leftover = unreleased_entries(&rdoc.lines[recent + 1..end], &released);
        let all = |range: std::ops::Range<usize>| -> Vec<&str> {
            rdoc.lines[range].iter().map(|l| l.full).collect()
        };
        let mut parts = all(0..recent);
        let body;
        if let Some(rendered) = leftover {
            body = rendered;
            parts.push(rdoc.lines[recent].full);
            parts.push(&body);
        }
        parts.extend(section.iter().copied());
        parts.extend(all(end..rdoc.lines.len()));
        rdoc.assemble(&parts)
    };
    let (ours, theirs) = (without_recent(&result)?, without_recent(&tag_after)?);
    if ours != theirs {
        let at = ours
            .lines()
            .zip(theirs.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| ours.lines().count().min(theirs.lines().count()));
        let line = ours
            .lines()
            .nth(at)
            .or(theirs.lines().nth(at))
            .unwrap_or("");
        let number = root
            .lines()
            .position(|l| l == line)
            .map_or(String::new(), |i| format!(":{}", i + 1));
        return Err(BadInput(format!(
            "{FILE}{number}: differs from the tagged {FILE} outside `## {RECENT}` (`{}`): \
only new entries under `## {RECENT}` may arrive after the tag. Tag the current commit as \
a new version instead, or restore the file as tagged",
            crate::input::clip(line.trim_end())
        )));
    }
    Ok(if result == root {
        Edit::Unchanged
    } else {
        Edit::Changed(result)
    })
}

/// The lines of a `## Recent Changes` body without the entries already
/// released (and their continuation lines), rendered with empty
/// categories dropped; `None` when no entry is left.
fn unreleased_entries(lines: &[Line], released: &[&str]) -> Option<String> {
    let mut kept: Vec<Line> = Vec::new();
    let mut dropping = false;
    for line in lines {
        if line.is_entry() {
            dropping = released.contains(&line.content().trim());
        } else if line.is_blank() || line.h3().is_some() || !line.full.starts_with([' ', '\t']) {
            dropping = false;
        }
        if !dropping {
            kept.push(*line);
        }
    }
    if !kept.iter().any(Line::is_entry) {
        return None;
    }
    let mut body = Body::parse(&kept);
    body.groups
        .retain(|(_, lines)| lines.iter().any(Line::is_entry));
    for (_, lines) in body.groups.iter_mut() {
        lines.dedup_by(|a, b| a.is_blank() && b.is_blank());
    }
    body.preamble.dedup_by(|a, b| a.is_blank() && b.is_blank());
    let eol = lines
        .first()
        .map(|l| &l.full[l.content().len()..])
        .filter(|e| !e.is_empty())
        .unwrap_or("\n");
    let mut out = body.render(eol);
    if !(out.ends_with("\n\n") || out.ends_with("\n\r\n")) {
        if !out.ends_with('\n') {
            out.push_str(eol);
        }
        out.push_str(eol);
    }
    Some(out)
}

/// The text without its `## Recent Changes` section.
fn without_recent(text: &str) -> Result<String, BadInput> {
    let doc = Doc::parse(text);
    let Some(at) = one_heading(&doc, RECENT)? else {
        return Ok(text.to_string());
    };
    let end = doc.section_end(at);
    let parts: Vec<&str> = doc.lines[..at]
        .iter()
        .chain(&doc.lines[end..])
        .map(|l| l.full)
        .collect();
    Ok(doc.assemble(&parts))
}

/// Every released `## vX.Y.Z` heading, in file order.
pub fn release_headings(text: &str) -> Vec<Tag> {
    released_headings(&Doc::parse(text)).collect()
}

#[cfg(test)]
mod rotate_after_tag_tests {
    use super::*;

    fn tag(s: &str) -> Tag {
        Tag::parse(s).expect("valid tag")
    }

    const TAGGED: &str = "<h1>Release Notes</h1>\n\n## Recent Changes\n\n### Fixes\n\n- 🔧 Fix a ([#12](https://x/12))\n\n## v0.6.0\n\n- old\n";

    fn changed(edit: Result<Edit, BadInput>) -> String {
        match edit {
            Ok(Edit::Changed(s)) => s,
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn without_new_entries_it_is_the_plain_rotation() {
        let out = changed(rotate_after_tag(TAGGED, TAGGED, &tag("v0.7.0")));
        assert_eq!(out, TAGGED.replace("## Recent Changes", "## v0.7.0"));
        assert_eq!(
            rotate_after_tag(&out, TAGGED, &tag("v0.7.0")),
            Ok(Edit::Unchanged)
        );
        // The `cargo xtask tag` flow: the tag is the release commit.
        assert_eq!(
            rotate_after_tag(&out, &out, &tag("v0.7.0")),
            Ok(Edit::Unchanged)
        );
    }

    #[test]
    fn entries_after_the_tag_stay_under_recent_changes() {
        let root = TAGGED.replace(
            "([#12](https://x/12))\n",
            "([#12](https://x/12))\n- 🔧 Fix late ([#14](https://x/14))\n\n### Documentation\n\n- 📝 Doc late ([#15](https://x/15))\n",
        );
        let out = changed(rotate_after_tag(&root, TAGGED, &tag("v0.7.0")));
        assert_eq!(
            out,
            "<h1>Release Notes</h1>\n\n## Recent Changes\n\n### Fixes\n\n- 🔧 Fix late ([#14](https://x/14))\n\n### Documentation\n\n- 📝 Doc late ([#15](https://x/15))\n\n## v0.7.0\n\n### Fixes\n\n- 🔧 Fix a ([#12](https://x/12))\n\n## v0.6.0\n\n- old\n"
        );
        assert_eq!(
            rotate_after_tag(&out, TAGGED, &tag("v0.7.0")),
            Ok(Edit::Unchanged)
        );
        let crlf = changed(rotate_after_tag(
            &root.replace('\n', "\r\n"),
            &TAGGED.replace('\n', "\r\n"),
            &tag("v0.7.0"),
        ));
        assert_eq!(crlf, out.replace('\n', "\r\n"));
    }

    #[test]
    fn an_entry_in_the_tag_flow_after_the_release_commit_is_kept() {
        let released = TAGGED.replace("## Recent Changes", "## v0.7.0");
        let root = released.replace(
            "## v0.7.0",
            "## Recent Changes\n\n### Fixes\n\n- 🔧 Fix late\n\n## v0.7.0",
        );
        assert_eq!(
            rotate_after_tag(&root, &released, &tag("v0.7.0")),
            Ok(Edit::Unchanged)
        );
    }

    #[test]
    fn other_changes_since_the_tag_are_refused() {
        let root = TAGGED.replace("- old", "- old, edited after the tag");
        let err = rotate_after_tag(&root, TAGGED, &tag("v0.7.0"));
        assert!(
            matches!(&err, Err(BadInput(m)) if m.starts_with("CHANGELOG.md:11:") && m.contains("edited after")),
            "{err:?}"
        );
        let released = TAGGED.replace("## Recent Changes", "## v0.7.0");
        let root = released.replace("- 🔧 Fix a", "- 🔧 Fix a, and more");
        assert!(rotate_after_tag(&root, &released, &tag("v0.7.0")).is_err());
        let err = rotate_after_tag(TAGGED, "## v0.6.0\n- a\n", &tag("v0.7.0"));
        assert!(
            matches!(&err, Err(BadInput(m)) if m.starts_with("at v0.7.0,")),
            "{err:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> Tag {
        Tag::parse(s).expect("valid tag")
    }

    const LOG: &str = "<h1>Release Notes</h1>\n\n## Recent Changes\n\n### Fixes\n\n- 🔧 Fix a ([#12](https://x/12))\n\n## v0.6.0\n\n### Features\n\n- ✨ Add b ([#9](https://x/9))\n";

    fn changed(edit: Result<Edit, BadInput>) -> String {
        match edit {
            Ok(Edit::Changed(s)) => s,
            Ok(Edit::Unchanged) => panic!("expected a change, got none"),
            Err(e) => panic!("expected a change, got: {e}"),
        }
    }

    #[test]
    fn rotate_renames_only_the_heading() {
        let out = changed(rotate(LOG, &tag("v0.7.0")));
        assert_eq!(out, LOG.replace("## Recent Changes", "## v0.7.0"));
    }

    #[test]
    fn rotate_then_revert_round_trips_byte_for_byte() {
        let variants = [
            LOG.to_string(),
            LOG.replace('\n', "\r\n"),
            format!("{BOM}{LOG}"),
            format!("{BOM}{}", LOG.replace('\n', "\r\n")),
            LOG.trim_end().to_string(),
            format!("{LOG}\n<!-- trailing text, kept -->\n\n"),
            LOG.replace("## Recent Changes", "## Recent Changes   "),
        ];
        for original in variants {
            // A heading's trailing spaces are not kept; everything else is.
            let original = original.replace("Changes   ", "Changes");
            let rotated = changed(rotate(&original, &tag("v0.7.0")));
            assert_eq!(
                rotated,
                original.replacen("## Recent Changes", "## v0.7.0", 1)
            );
            let back = changed(revert(&rotated, &tag("v0.7.0")));
            assert_eq!(back, original);
            assert_eq!(rotate(&rotated, &tag("v0.7.0")), Ok(Edit::Unchanged));
        }
    }

    #[test]
    fn rotate_keeps_crlf_and_bom() {
        let original = format!("{BOM}{}", LOG.replace('\n', "\r\n"));
        let out = changed(rotate(&original, &tag("v0.7.0")));
        assert!(out.starts_with(BOM));
        assert!(out.contains("## v0.7.0\r\n"));
        assert_eq!(out.matches('\n').count(), out.matches("\r\n").count());
    }

    /// The malformed-changelog corpus: each input, the tag, and the message.
    const MALFORMED: &[(&str, &str, &str)] = &[
        ("", "v0.7.0", "no `## Recent Changes` section"),
        (
            "<h1>Release Notes</h1>\n",
            "v0.7.0",
            "no `## Recent Changes` section",
        ),
        (
            "## v0.6.0\n\n- a\n",
            "v0.7.0",
            "no `## Recent Changes` section",
        ),
        (
            "## Recent changes\n\n- a\n",
            "v0.7.0",
            "line 1 reads `## Recent changes`: the heading must be exactly `## Recent Changes`",
        ),
        (
            "# Changelog\n\n## [Unreleased]\n\n- a\n",
            "v0.7.0",
            "line 3 reads `## [Unreleased]`: the heading must be exactly `## Recent Changes`",
        ),
        (
            "# Recent Changes\n\n- a\n",
            "v0.7.0",
            "no `## Recent Changes` section",
        ),
        (
            "###Recent Changes\n- a\n",
            "v0.7.0",
            "no `## Recent Changes` section",
        ),
        (
            "##Recent Changes\n- a\n",
            "v0.7.0",
            "no `## Recent Changes` section",
        ),
        ("## Recent Changes\n", "v0.7.0", "has no entries"),
        (
            "## Recent Changes\n\n### Fixes\n\n## v0.6.0\n- a\n",
            "v0.7.0",
            "has no entries",
        ),
        (
            "## Recent Changes\n\nNothing yet.\n",
            "v0.7.0",
            "has no entries",
        ),
        (
            "## Recent Changes\n\n-no space\n",
            "v0.7.0",
            "has no entries",
        ),
        (
            "## Recent Changes\n- a\n## Recent Changes\n- b\n",
            "v0.7.0",
            "twice (lines 1 and 3)",
        ),
        (
            "## Recent Changes\n- a\n## v0.8.0\n- b\n",
            "v0.7.0",
            "already has a section for v0.8.0",
        ),
        (
            "## Recent Changes\n- a\n## v0.7.0\n- b\n## v0.7.0\n",
            "v0.7.0",
            "`## v0.7.0` twice",
        ),
    ];

    #[test]
    fn malformed_changelogs_are_refused_with_a_clear_message() {
        for (text, t, message) in MALFORMED {
            let err = match rotate(text, &tag(t)) {
                Err(e) => e.0,
                Ok(edit) => panic!("{text:?} was accepted: {edit:?}"),
            };
            assert!(err.contains(message), "{text:?}: {err}");
            assert!(err.contains(FILE), "{err}");
        }
    }

    #[test]
    fn empty_section_error_names_the_line() {
        let err = rotate(
            "<h1>R</h1>\n\n## Recent Changes\n\n## v0.6.0\n- a\n",
            &tag("v0.7.0"),
        );
        assert!(matches!(err, Err(BadInput(m)) if m.starts_with("CHANGELOG.md:3:")));
    }

    #[test]
    fn revert_merges_entries_that_arrived_meanwhile() {
        let rotated = changed(rotate(LOG, &tag("v0.7.0")));
        // A merged PR re-created `## Recent Changes` above the release.
        let with_new = rotated.replace(
            "## v0.7.0",
            "## Recent Changes\n\n### Fixes\n\n- 🔧 Fix c ([#14](https://x/14))\n\n### Documentation\n\n- 📝 Doc d ([#15](https://x/15))\n\n## v0.7.0",
        );
        let merged = changed(revert(&with_new, &tag("v0.7.0")));
        assert_eq!(
            merged,
            "<h1>Release Notes</h1>\n\n## Recent Changes\n\n### Fixes\n\n- 🔧 Fix a ([#12](https://x/12))\n- 🔧 Fix c ([#14](https://x/14))\n\n### Documentation\n\n- 📝 Doc d ([#15](https://x/15))\n\n## v0.6.0\n\n### Features\n\n- ✨ Add b ([#9](https://x/9))\n"
        );
        assert_eq!(merged.matches("## Recent Changes").count(), 1);
    }

    #[test]
    fn revert_merge_keeps_crlf() {
        let rotated = changed(rotate(&LOG.replace('\n', "\r\n"), &tag("v0.7.0")));
        let with_new = rotated.replace(
            "## v0.7.0",
            "## Recent Changes\r\n\r\n### Internal\r\n\r\n- 🧹 Tidy e\r\n\r\n## v0.7.0",
        );
        let merged = changed(revert(&with_new, &tag("v0.7.0")));
        assert_eq!(
            merged.matches('\n').count(),
            merged.matches("\r\n").count(),
            "{merged:?}"
        );
        assert!(
            merged.contains("### Internal\r\n\r\n- 🧹 Tidy e\r\n"),
            "{merged:?}"
        );
        assert!(
            merged.contains("- 🔧 Fix a ([#12](https://x/12))\r\n"),
            "{merged:?}"
        );
    }

    #[test]
    fn revert_without_a_release_heading_is_a_no_op_or_an_error() {
        assert_eq!(revert(LOG, &tag("v0.7.0")), Ok(Edit::Unchanged));
        let err = revert("## v0.6.0\n- a\n", &tag("v0.7.0"));
        assert!(matches!(err, Err(BadInput(m)) if m.contains("nothing to revert")));
    }

    #[test]
    fn revert_refuses_a_recent_section_that_is_not_adjacent() {
        let text = "## Recent Changes\n- n\n## v0.6.1\n- x\n## v0.7.0\n- a\n";
        let err = revert(text, &tag("v0.7.0"));
        assert!(matches!(err, Err(BadInput(m)) if m.contains("not directly above")));
    }

    #[test]
    fn add_entry_appends_to_a_category_or_adds_one() {
        let entry = "- 🔧 Fix z ([#40](https://x/40))";
        let out = changed(add_entry(LOG, "Fixes", entry, 40));
        assert_eq!(
            out,
            LOG.replace(
                "([#12](https://x/12))\n",
                "([#12](https://x/12))\n- 🔧 Fix z ([#40](https://x/40))\n"
            )
        );
        assert_eq!(add_entry(&out, "Fixes", entry, 40), Ok(Edit::Unchanged));

        let doc = "- 📝 Doc y ([#41](https://x/41))";
        let out = changed(add_entry(LOG, "Documentation", doc, 41));
        assert_eq!(
            out,
            LOG.replace(
                "\n## v0.6.0",
                "\n### Documentation\n\n- 📝 Doc y ([#41](https://x/41))\n\n## v0.6.0"
            )
        );
    }

    #[test]
    fn add_entry_creates_the_section_under_the_title() {
        let released = changed(rotate(LOG, &tag("v0.7.0")));
        let out = changed(add_entry(
            &released,
            "Features",
            "- ✨ Add w ([#42](https://x/42))",
            42,
        ));
        assert!(out.starts_with("<h1>Release Notes</h1>\n\n## Recent Changes\n\n### Features\n\n- ✨ Add w ([#42](https://x/42))\n\n## v0.7.0\n"), "{out}");
        assert_eq!(
            out.matches('\n').count(),
            released.matches('\n').count() + 6
        );
        let crlf = changed(add_entry(
            &released.replace('\n', "\r\n"),
            "Features",
            "- ✨ Add w ([#42](https://x/42))",
            42,
        ));
        assert_eq!(crlf, out.replace('\n', "\r\n"));
        let empty = "<h1>Release Notes</h1>\n\n## Recent Changes\n\n## v0.6.0\n- a\n";
        let out = changed(add_entry(
            empty,
            "Internal",
            "- 🧹 Tidy ([#43](https://x/43))",
            43,
        ));
        assert_eq!(out, "<h1>Release Notes</h1>\n\n## Recent Changes\n\n### Internal\n\n- 🧹 Tidy ([#43](https://x/43))\n\n## v0.6.0\n- a\n");
    }

    #[test]
    fn section_of_a_release() {
        assert_eq!(
            section(LOG, &tag("v0.6.0")).as_deref(),
            Some("### Features\n\n- ✨ Add b ([#9](https://x/9))")
        );
        assert_eq!(section(LOG, &tag("v0.5.0")), None);
        assert_eq!(recent_entries(LOG), Some(1));
        assert_eq!(recent_entries("## v0.6.0\n- a\n"), None);
    }

    /// The real repository's style: HTML title, no blank line after `###`,
    /// newest entry first, and no `## Recent Changes` right after a release.
    const REAL: &str = "<h1 align=\"center\">Release Notes</h1>\n\n## v1.0.1\n\n### Fixes\n- 🔧 Fix c ([#58](https://x/58))\n- 🔧 Fix b ([#55](https://x/55))\n\n### Features\n- ✨ Add a ([#50](https://x/50))\n\n## v1.0.0\n\n### Features\n- ✨ Add z ([#41](https://x/41))\n- ✨ Add y ([#40](https://x/40))\n";

    #[test]
    fn style_is_read_from_the_file() {
        let none = ChangelogStyle::default();
        assert_eq!(
            Style::of(REAL, &none),
            Style {
                blank_after_heading: false,
                newest_first: true
            }
        );
        assert_eq!(
            Style::of(LOG, &none),
            Style {
                blank_after_heading: true,
                newest_first: false
            }
        );
        // No evidence: the house style.
        assert_eq!(
            Style::of("", &none),
            Style {
                blank_after_heading: true,
                newest_first: false
            }
        );
        let forced = ChangelogStyle {
            blank_after_heading: Some(true),
            newest_first: Some(false),
        };
        assert_eq!(
            Style::of(REAL, &forced),
            Style {
                blank_after_heading: true,
                newest_first: false
            }
        );
    }

    #[test]
    fn add_entry_right_after_a_release_follows_the_files_style() {
        let out = changed(add_entry(
            REAL,
            "Fixes",
            "- 🔧 Fix d ([#60](https://x/60))",
            60,
        ));
        assert_eq!(
            out,
            REAL.replace(
                "## v1.0.1\n",
                "## Recent Changes\n\n### Fixes\n- 🔧 Fix d ([#60](https://x/60))\n\n## v1.0.1\n"
            )
        );
        // Newest first within the group; a new group keeps the tight style.
        let out = changed(add_entry(
            &out,
            "Fixes",
            "- 🔧 Fix e ([#61](https://x/61))",
            61,
        ));
        let out = changed(add_entry(
            &out,
            "Documentation",
            "- 📝 Doc f ([#62](https://x/62))",
            62,
        ));
        assert!(out.starts_with("<h1 align=\"center\">Release Notes</h1>\n\n## Recent Changes\n\n### Fixes\n- 🔧 Fix e ([#61](https://x/61))\n- 🔧 Fix d ([#60](https://x/60))\n\n### Documentation\n- 📝 Doc f ([#62](https://x/62))\n\n## v1.0.1\n"), "{out}");
        // Overrides win over the file.
        let forced = ChangelogStyle {
            blank_after_heading: Some(true),
            newest_first: Some(false),
        };
        let out = changed(add_entry_with(
            REAL,
            "Fixes",
            "- 🔧 Fix d ([#60](https://x/60))",
            60,
            &forced,
        ));
        assert!(
            out.contains("## Recent Changes\n\n### Fixes\n\n- 🔧 Fix d"),
            "{out}"
        );
    }

    #[test]
    fn add_entry_places_a_new_section_above_the_newest_release() {
        for (text, expected) in [
            // A paragraph under the title stays above.
            (
                "# Changelog\n\nAll notable changes.\n\n## v0.1.0\n- a ([#1](https://x/1))\n",
                "# Changelog\n\nAll notable changes.\n\n## Recent Changes\n### Internal\n\n- n ([#9](https://x/9))\n\n## v0.1.0\n- a ([#1](https://x/1))\n",
            ),
            // Only a title.
            (
                "<h1>Release Notes</h1>\n",
                "<h1>Release Notes</h1>\n\n## Recent Changes\n\n### Internal\n\n- n ([#9](https://x/9))\n\n",
            ),
            // No blank line before the release heading.
            (
                "<h1>R</h1>\n## v0.1.0\n\n- a\n",
                "<h1>R</h1>\n\n## Recent Changes\n\n### Internal\n\n- n ([#9](https://x/9))\n\n## v0.1.0\n\n- a\n",
            ),
        ] {
            let out = changed(add_entry(text, "Internal", "- n ([#9](https://x/9))", 9));
            assert_eq!(out, expected, "{text:?}");
        }
    }

    #[test]
    fn an_entry_is_present_only_by_its_own_trailing_link() {
        // #130's title quotes `([#131](` : #131 is not present.
        let text = "## Recent Changes\n\n### Features\n\n- ✨ Add parser ([#131](https://x/131) ([#130](https://x/130))\n";
        let out = changed(add_entry(
            text,
            "Features",
            "- ✨ Add more ([#131](https://x/131))",
            131,
        ));
        assert!(
            out.contains("- ✨ Add more ([#131](https://x/131))"),
            "{out}"
        );
        assert_eq!(
            add_entry(text, "Features", "- ✨ Again ([#130](https://x/130))", 130),
            Ok(Edit::Unchanged)
        );
        for (line, pr) in [
            ("- a ([#7](https://x/7))", Some(7)),
            ("* a ([#7](https://x/7))  ", Some(7)),
            ("- a [#7](https://x/7)", None),
            ("- a ([#7](https://x/7)) trailing", None),
            ("- a ([#x](https://x/7))", None),
            ("Text ([#7](https://x/7))", None),
            ("- a ([#7]())", None),
        ] {
            assert_eq!(Line { full: line }.pr(), pr, "{line}");
        }
    }

    #[test]
    fn old_mac_line_endings_parse() {
        let cr = LOG.replace('\n', "\r");
        let rotated = changed(rotate(&cr, &tag("v0.7.0")));
        assert_eq!(rotated, cr.replace("## Recent Changes", "## v0.7.0"));
        assert_eq!(changed(revert(&rotated, &tag("v0.7.0"))), cr);
        assert_eq!(recent_entries(&cr), Some(1));
        assert_eq!(
            section(&cr, &tag("v0.6.0")).as_deref(),
            Some("### Features\n\n- ✨ Add b ([#9](https://x/9))")
        );
        let out = changed(add_entry(
            &cr,
            "Fixes",
            "- 🔧 Fix z ([#40](https://x/40))",
            40,
        ));
        assert_eq!(
            out,
            cr.replace(
                "([#12](https://x/12))\r",
                "([#12](https://x/12))\r- 🔧 Fix z ([#40](https://x/40))\r"
            )
        );
        assert!(!out.contains('\n'));
        let released = changed(rotate(&cr, &tag("v0.7.0")));
        let out = changed(add_entry(
            &released,
            "Internal",
            "- t ([#41](https://x/41))",
            41,
        ));
        assert!(!out.contains('\n'), "{out:?}");
        assert!(
            out.contains("## Recent Changes\r\r### Internal\r\r- t"),
            "{out:?}"
        );
    }

    #[test]
    fn revert_merges_newer_entries_first_in_a_newest_first_file() {
        let text = "<h1>R</h1>\n\n## Recent Changes\n\n### Fixes\n- 🔧 New ([#70](https://x/70))\n\n## v1.0.2\n\n### Fixes\n- 🔧 B ([#66](https://x/66))\n- 🔧 A ([#65](https://x/65))\n\n## v1.0.1\n\n### Fixes\n- 🔧 Z ([#58](https://x/58))\n";
        let merged = changed(revert(text, &tag("v1.0.2")));
        assert_eq!(merged, "<h1>R</h1>\n\n## Recent Changes\n\n### Fixes\n- 🔧 New ([#70](https://x/70))\n- 🔧 B ([#66](https://x/66))\n- 🔧 A ([#65](https://x/65))\n\n## v1.0.1\n\n### Fixes\n- 🔧 Z ([#58](https://x/58))\n");
    }
}
