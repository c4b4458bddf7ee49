//! Pure edit of `pyproject.toml`: set `[project].version` to a release.
//!
//! The file is parsed with `toml_edit` to find the value, and only the
//! value's own bytes are replaced, keeping its quote style; comments,
//! formatting and key order are untouched by construction.

use toml_edit::{Document, Item, Value};

use crate::changelog::Edit;
use crate::input::BadInput;
use crate::version::Tag;

pub const FILE: &str = "pyproject.toml";

/// The literal `[project].version`, checked to be editable.
pub fn read_version(text: &str) -> Result<String, BadInput> {
    let (version, _) = locate_version(text)?;
    Ok(version)
}

/// The `[project].name`, the distribution published.
pub fn read_name(text: &str) -> Result<String, BadInput> {
    let doc = Document::parse(text).map_err(|e| {
        BadInput(format!(
            "{FILE} is not valid TOML: {}",
            e.to_string().trim_end()
        ))
    })?;
    doc.get("project")
        .and_then(|p| p.get("name"))
        .and_then(Item::as_str)
        .map(str::to_string)
        .ok_or_else(|| BadInput(format!("{FILE}: [project] has no `name`")))
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
    let doc = Document::parse(text).map_err(|e| {
        BadInput(format!(
            "{FILE} is not valid TOML: {}",
            e.to_string().trim_end()
        ))
    })?;
    let project = match doc.get("project") {
        Some(Item::Table(t)) => t,
        Some(_) => {
            return Err(BadInput(format!(
                "{FILE}: `project` must be a [project] table (PEP 621)"
            )))
        }
        None => {
            return Err(BadInput(format!(
                "{FILE} has no [project] table: the release needs PEP 621 metadata with a \
literal `version = \"X.Y.Z\"`"
            )))
        }
    };
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
                "\u{feff}[project]\nversion = \"0.6\"\n",
                "\u{feff}[project]\nversion = \"1.2.3\"\n",
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
    fn reads_the_version() {
        assert_eq!(read_version(PYPROJECT).ok().as_deref(), Some("0.6.0"));
    }
}
