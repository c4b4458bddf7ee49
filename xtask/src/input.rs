//! The bottom layer every module may import: the bad-input error (exit
//! code 2), reading the project's files, and showing echoed input at a
//! readable length.

use std::fmt;

use anyhow::Result;
use camino::Utf8Path;

/// A refusal caused by the caller's input (arguments, settings, the
/// project's files, an event payload): exit code 2, nothing changed.
#[derive(Debug, PartialEq, Eq)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// Whether an error (anywhere in its chain) is bad input.
pub fn is_bad_input(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<BadInput>())
}

/// Reads a file of the project. A missing, unreadable or non-UTF-8 file
/// is bad input that names the file (and the line and byte of the first
/// invalid UTF-8 sequence).
pub fn read(root: &Utf8Path, file: &str) -> Result<String> {
    let path = root.join(file);
    let bytes = std::fs::read(&path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "it does not exist".to_string(),
            _ => e.to_string(),
        };
        BadInput(format!("cannot read {file} ({path}): {why}"))
    })?;
    Ok(utf8(file, bytes)?)
}

/// Text from bytes, or bad input naming the file, line and byte offset of
/// the first invalid sequence.
pub fn utf8(file: &str, bytes: Vec<u8>) -> Result<String, BadInput> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        BadInput(format!(
            "{file}:{line}: not valid UTF-8 (byte {at}, 0x{:02x}): save it as UTF-8",
            bytes.get(at).copied().unwrap_or_default()
        ))
    })
}

/// The longest echo of a caller's value, in characters.
pub const CLIP: usize = 120;

/// A caller's value as it is safe to echo: control characters escaped,
/// cut to a readable length with the size of the rest.
pub fn clip(value: &str) -> String {
    let total = value.chars().count();
    let shown: String = value.chars().take(CLIP).collect();
    let mut out = shown.escape_debug().to_string();
    if total > CLIP {
        out.push_str(&format!("… ({} more characters)", total - CLIP));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_and_escapes() {
        assert_eq!(clip("v0.7.0"), "v0.7.0");
        assert_eq!(clip("a\nb"), "a\\nb");
        let long = "9".repeat(100_000);
        let shown = clip(&long);
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.ends_with("(99880 more characters)"), "{shown}");
    }

    #[test]
    fn non_utf8_names_line_and_byte() {
        let err = utf8("CHANGELOG.md", b"ok\nbad \xff here".to_vec())
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert_eq!(
            err,
            "CHANGELOG.md:2: not valid UTF-8 (byte 7, 0xff): save it as UTF-8"
        );
    }

    #[test]
    fn missing_file_is_bad_input() {
        let err = read(Utf8Path::new("/nonexistent-xtask-dir"), "CHANGELOG.md")
            .err()
            .map(|e| is_bad_input(&e));
        assert_eq!(err, Some(true));
    }
}
