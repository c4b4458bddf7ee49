//! Pure edit of `pyproject.toml`: set `[project].version` to a release.
//!
//! The file is parsed with `toml_edit` to find the value, and only the
//! value's own bytes are replaced, keeping its quote style; comments,
//! formatting and key order are untouched by construction.

use toml_edit::{Document, Item, Value};

use crate::changelog::Edit;
use crate::input::{clip, BadInput};
use crate::version::Tag;

pub const FILE: &str = "pyproject.toml";

/// The literal `[project].version`, checked to be editable.
pub fn read_version(text: &str) -> Result<String, BadInput> {
    let (version, _) = locate_version(text)?;
    Ok(version)
}

/// The `[project].name`, the distribution published.
pub fn read_name(text: &str) -> Result<String, BadInput> {
    let doc = parse(text)?;
    let project = project_table(&doc)?;
    match project.get("name") {
        None => Err(BadInput(format!(
            "{FILE}: [project] has no `name`: add the distribution's name, e.g. \
`name = \"mindoff-dataport\"`"
        ))),
        Some(item) => match item.as_str() {
            Some(name) if !name.trim().is_empty() => Ok(name.to_string()),
            _ => Err(BadInput(format!(
                "{FILE}:{}: [project].name must be a non-empty string, found `{}`",
                item.span().map_or(1, |s| line_of(text, s.start)),
                clip(item.to_string().trim())
            ))),
        },
    }
}

/// The document, refused with the line and column of a syntax error, and
/// refused when it starts with a byte-order mark: Python's TOML parser
/// (which the build backend uses) rejects one.
fn parse(text: &str) -> Result<Document<&str>, BadInput> {
    if text.starts_with('\u{feff}') {
        return Err(BadInput(format!(
            "{FILE}:1: starts with a byte-order mark (U+FEFF, bytes EF BB BF), which Python's \
TOML parser and so the build backend reject: save the file as UTF-8 without a BOM"
        )));
    }
    Document::parse(text).map_err(|e| {
        BadInput(format!(
            "{FILE} is not valid TOML: {}",
            clip_lines(e.to_string().trim_end())
        ))
    })
}

/// A parser message is several lines quoting the input: keep it short.
fn clip_lines(message: &str) -> String {
    message
        .lines()
        .take(6)
        .map(clip)
        .collect::<Vec<_>>()
        .join("\n")
}

fn project_table<'d>(doc: &'d Document<&str>) -> Result<&'d toml_edit::Table, BadInput> {
    match doc.get("project") {
        Some(Item::Table(t)) => Ok(t),
        Some(_) => Err(BadInput(format!(
            "{FILE}: `project` must be a [project] table (PEP 621)"
        ))),
        None => Err(BadInput(format!(
            "{FILE} has no [project] table: the release needs PEP 621 metadata with a \
`name` and a literal `version = \"X.Y.Z\"`"
        ))),
    }
}

/// Sets `[project].version` to the tag's PEP 440 form.
pub fn sync_version(text: &str, tag: &Tag) -> Result<Edit, BadInput> {
    let (current, span) = locate_version(text)?;
    let wanted = tag.pep440();
    if current == wanted {
        return Ok(Edit::Unchanged);
    }
    let raw = &text[span.clone()];
    // Keep the author's quote style; a version never needs escaping.
    let quote = if raw.starts_with('\'') { '\'' } else { '"' };
    Ok(Edit::Changed(format!(
        "{}{quote}{wanted}{quote}{}",
        &text[..span.start],
        &text[span.end..]
    )))
}

fn locate_version(text: &str) -> Result<(String, std::ops::Range<usize>), BadInput> {
    let doc = parse(text)?;
    let project = project_table(&doc)?;
    let dynamic = project
        .get("dynamic")
        .and_then(Item::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("version")));
    if dynamic {
        return Err(BadInput(format!(
            "{FILE} declares `dynamic = [\"version\"]`: the release writes the version from \
the tag, so set a literal `version = \"X.Y.Z\"` in [project] and drop it from `dynamic`"
        )));
    }
    let item = project.get("version").ok_or_else(|| {
        BadInput(format!(
            "{FILE}: [project] has no `version`: add a literal `version = \"X.Y.Z\"`"
        ))
    })?;
    match item {
        Item::Value(Value::String(s)) => {
            let span = s.span().ok_or_else(|| {
                BadInput(format!(
                    "{FILE}: cannot locate [project].version in the text"
                ))
            })?;
            let raw = &text[span.clone()];
            if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
                return Err(BadInput(format!(
                    "{FILE}:{}: [project].version is a multi-line string: write it as \
`version = \"X.Y.Z\"`",
                    line_of(text, span.start)
                )));
            }
            Ok((s.value().clone(), span))
        }
        _ => Err(BadInput(format!(
            "{FILE}: [project].version must be a string such as \"0.7.0\", found `{}`",
            item.to_string().trim()
        ))),
    }
}

/// 1-based line number of a byte offset, for `file:line` messages.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> Tag {
        Tag::parse(s).expect("valid")
    }

    const PYPROJECT: &str = "# Build settings\n[build-system]\nrequires = [\"hatchling\"]\n\n[project]\nname = \"mindoff-dataport\"  # the dist name\nversion = \"0.6.0\"  # synced from the tag\ndescription = \"x\"\n\n[tool.x]\nversion = \"9\"\n";

    #[test]
    fn only_the_version_value_changes() {
        let Ok(Edit::Changed(out)) = sync_version(PYPROJECT, &tag("v0.7.0")) else {
            panic!("expected a change");
        };
        assert_eq!(out, PYPROJECT.replace("\"0.6.0\"", "\"0.7.0\""));
        assert_eq!(sync_version(&out, &tag("v0.7.0")), Ok(Edit::Unchanged));
    }

    #[test]
    fn quoting_spacing_crlf_and_key_order_survive() {
        for (before, after) in [
            (
                "[project]\nversion='0.6.0'\nname='x'\n",
                "[project]\nversion='1.2.3'\nname='x'\n",
            ),
            (
                "[project]\r\nname = \"x\"\r\nversion   =   \"0.6.0\"   # c\r\n",
                "[project]\r\nname = \"x\"\r\nversion   =   \"1.2.3\"   # c\r\n",
            ),
            (
                "[project]\nname = \"x\"\nversion = \"0.6.0\"",
                "[project]\nname = \"x\"\nversion = \"1.2.3\"",
            ),
        ] {
            assert_eq!(
                sync_version(before, &tag("v1.2.3")),
                Ok(Edit::Changed(after.into())),
                "{before:?}"
            );
        }
    }

    /// The malformed-pyproject corpus.
    const MALFORMED: &[(&str, &str)] = &[
        ("", "has no [project] table"),
        ("[tool.hatch]\nx = 1\n", "has no [project] table"),
        ("project = \"x\"\n", "must be a [project] table"),
        ("[project]\nname = \"x\"\n", "has no `version`"),
        (
            "[project]\nname = \"x\"\ndynamic = [\"version\"]\n",
            "dynamic = [\"version\"]",
        ),
        (
            "[project]\nversion = \"0.6.0\"\ndynamic = [\"readme\", \"version\"]\n",
            "dynamic = [\"version\"]",
        ),
        ("[project]\nversion = 6\n", "must be a string"),
        ("[project]\nversion = [\"0.6.0\"]\n", "must be a string"),
        (
            "[project]\nversion = \"\"\"0.6.0\"\"\"\n",
            "multi-line string",
        ),
        ("[project]\nversion = \"0.6.0\n", "not valid TOML"),
        (
            "[project]\nversion = \"0.6.0\"\nversion = \"0.7.0\"\n",
            "not valid TOML",
        ),
        ("[project\nversion = \"0.6.0\"\n", "not valid TOML"),
        ("[project]\n[project]\n", "not valid TOML"),
        (
            "\u{feff}[project]\nversion = \"0.6.0\"\n",
            "byte-order mark",
        ),
    ];

    #[test]
    fn malformed_pyprojects_are_refused_with_a_clear_message() {
        for (text, message) in MALFORMED {
            let err = match sync_version(text, &tag("v0.7.0")) {
                Err(e) => e.0,
                Ok(edit) => panic!("{text:?} was accepted: {edit:?}"),
            };
            assert!(err.contains(message), "{text:?}: {err}");
            assert!(err.starts_with(FILE), "{err}");
        }
    }

    #[test]
    fn names_are_read_or_refused_precisely() {
        assert_eq!(
            read_name(PYPROJECT).ok().as_deref(),
            Some("mindoff-dataport")
        );
        for (text, message) in [
            ("[tool.x]\na = 1\n", "has no [project] table"),
            (
                "[project]\nversion = \"1.0.0\"\n",
                "[project] has no `name`",
            ),
            (
                "[project]\nname = 3\n",
                "pyproject.toml:2: [project].name must be",
            ),
            ("[project]\nname = \" \"\n", "must be a non-empty string"),
            ("\u{feff}[project]\nname = \"x\"\n", "byte-order mark"),
        ] {
            let err = read_name(text).err().map(|e| e.0).unwrap_or_default();
            assert!(err.contains(message), "{text:?}: {err}");
        }
    }

    #[test]
    fn reads_the_version() {
        assert_eq!(read_version(PYPROJECT).ok().as_deref(), Some("0.6.0"));
    }
}
