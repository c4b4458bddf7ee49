//! GitHub Actions output: log groups, annotations, the step summary and
//! step outputs. Inert outside Actions.

use std::fs::OpenOptions;
use std::io::Write;

use anyhow::{Context, Result};
use xshell::Shell;

/// GitHub Actions output: groups, annotations, the step summary and step
/// outputs. Inert outside Actions.
pub struct Actions {
    on: bool,
    summary: Option<String>,
    output: Option<String>,
}

impl Actions {
    pub fn from_env(sh: &Shell) -> Actions {
        let on = sh.var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        let var = |n: &str| sh.var(n).ok().filter(|v| on && !v.is_empty());
        Actions {
            on,
            summary: var("GITHUB_STEP_SUMMARY"),
            output: var("GITHUB_OUTPUT"),
        }
    }

    pub fn group(&self, name: &str) {
        if self.on {
            println!("::group::{name}");
        }
    }

    pub fn end_group(&self) {
        if self.on {
            println!("::endgroup::");
        }
    }

    /// An error annotation, on a file and line when known.
    pub fn error(&self, message: &str) {
        if !self.on {
            return;
        }
        let flat = escape_data(message);
        match file_and_line(message) {
            Some((file, line)) => {
                println!("::error file={},line={line}::{flat}", escape_property(file))
            }
            None => println!("::error::{flat}"),
        }
    }

    pub fn summary(&self, markdown: &str) -> Result<()> {
        append(self.summary.as_deref(), markdown)
    }

    pub fn outputs(&self, pairs: &[(&str, &str)]) -> Result<()> {
        let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        append(self.output.as_deref(), &text)
    }
}

fn append(path: Option<&str>, text: &str) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {path}"))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {path}"))
}

/// `CHANGELOG.md:12` or `pyproject.toml:3` at the start of a message, or
/// the file named alone (line 1).
pub fn file_and_line(message: &str) -> Option<(&'static str, usize)> {
    for file in ["CHANGELOG.md", "pyproject.toml"] {
        if let Some(at) = message.find(file) {
            let rest = &message[at + file.len()..];
            let line = rest
                .strip_prefix(':')
                .map(|r| {
                    r.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                })
                .and_then(|d| d.parse().ok())
                .unwrap_or(1);
            return Some((file, line));
        }
    }
    None
}

/// Workflow-command data, escaped as the runner expects.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow-command property value (`file=`, `title=`), escaped.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Text about to be printed that the xtask did not write itself (an
/// error's message may quote event text): no line of it can be read by
/// the runner as a workflow command (`::name` or `##[name]`).
pub fn inert(text: &str) -> String {
    let mut out = text.to_string();
    while out.contains("::") {
        out = out.replace("::", ":\\:");
    }
    while out.contains("##[") {
        out = out.replace("##[", "#\\#[");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_commands_are_made_inert() {
        for hostile in [
            "::set-output name=x::pwned",
            "x\n::add-mask::y",
            "##[set-output name=X;]pwned",
            "a ##[stop-commands]b",
            "a:::b ###[x]",
        ] {
            let shown = inert(hostile);
            assert!(!shown.contains("::") && !shown.contains("##["), "{shown}");
        }
        assert_eq!(escape_data("50%\r\n"), "50%25%0D%0A");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn annotations_find_file_and_line() {
        assert_eq!(
            file_and_line("CHANGELOG.md:3: `## Recent Changes` has no entries"),
            Some(("CHANGELOG.md", 3))
        );
        assert_eq!(
            file_and_line("pyproject.toml has no [project] table"),
            Some(("pyproject.toml", 1))
        );
        assert_eq!(file_and_line("twine upload failed"), None);
    }
}
