//! GitHub Actions output: log groups, annotations, the step summary and
//! step outputs (inert outside Actions), and the one way text from outside
//! (events, API answers, errors quoting them) is made safe to print.
//!
//! The runner reads a line as a workflow command when it starts with `::`
//! (after spaces) or contains `##[` anywhere (the legacy form), so text the
//! xtask did not write must hold neither; the only commands printed are
//! the ones below, with their data escaped.

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;

use anyhow::{bail, Context, Result};
use xshell::Shell;

use crate::input::{clip, BadInput};
use crate::secrets;

/// The longest annotation message, in characters (the runner shows only
/// the start of longer ones anyway).
const ANNOTATION_MAX: usize = 4000;

/// Where an error is, as the xtask itself knows it: the file and line an
/// annotation points at. Attach it as context
/// (`.context(Located::new(changelog::FILE, 12))`); it is never parsed
/// out of a message, which may quote text from an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    pub file: &'static str,
    pub line: usize,
}

impl Located {
    pub fn new(file: &'static str, line: usize) -> Located {
        Located { file, line }
    }

    /// The location attached to an error, if any.
    pub fn of(err: &anyhow::Error) -> Option<Located> {
        err.downcast_ref::<Located>().copied().or_else(|| {
            err.chain()
                .find_map(|e| e.downcast_ref::<Located>().copied())
        })
    }
}

/// A refusal about `file` from one of the xtask's own parsers, whose
/// messages start with `FILE:LINE: `: the line becomes a `Located` (the
/// parser's own knowledge, at the start of its own message), the rest
/// stays the message, prefixed with `prefix`.
pub fn located(file: &'static str, prefix: &str, err: BadInput) -> anyhow::Error {
    let own = err
        .0
        .strip_prefix(file)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| rest.split_once(": "))
        .and_then(|(line, rest)| line.parse::<usize>().ok().map(|l| (l, rest.to_string())));
    match own {
        Some((line, rest)) => anyhow::Error::new(BadInput(format!("{prefix}{rest}")))
            .context(Located::new(file, line)),
        None => anyhow::Error::new(BadInput(format!("{prefix}{}", err.0))),
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl std::error::Error for Located {}

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
            println!("::group::{}", escape_data(&inert(name)));
        }
    }

    pub fn end_group(&self) {
        if self.on {
            println!("::endgroup::");
        }
    }

    /// An error annotation (nothing outside Actions: the caller prints the
    /// error itself).
    pub fn error(&self, message: &str, at: Option<Located>) {
        if self.on {
            println!("{}", annotation("error", message, at));
        }
    }

    /// A warning: an annotation under Actions, a `warning:` line otherwise.
    pub fn warning(&self, message: &str) {
        if self.on {
            println!("{}", annotation("warning", message, None));
        } else {
            eprintln!("warning: {}", inert(&secrets::redact(message)));
        }
    }

    pub fn summary(&self, markdown: &str) -> Result<()> {
        append(self.summary.as_deref(), markdown)
    }

    /// Step outputs. Keys and values are the xtask's own (a tag, a
    /// version); one holding a line break would add keys, so it is refused.
    pub fn outputs(&self, pairs: &[(&str, &str)]) -> Result<()> {
        for (key, value) in pairs {
            let key_ok = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !key_ok || value.contains(['\n', '\r']) {
                bail!(
                    "refusing the step output {key:?}={}: one line of plain text only",
                    clip(value)
                );
            }
        }
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

/// One annotation line: secrets removed, no command inside, data escaped,
/// bounded; `file`/`line` only from a `Located` the xtask attached.
pub fn annotation(kind: &str, message: &str, at: Option<Located>) -> String {
    let mut text: String = secrets::redact(message);
    if text.chars().count() > ANNOTATION_MAX {
        text = text.chars().take(ANNOTATION_MAX).collect::<String>() + "…";
    }
    let data = escape_data(&inert(&text));
    match at {
        Some(Located { file, line }) => format!(
            "::{kind} file={},line={line}::{data}",
            escape_property(&inert(file))
        ),
        None => format!("::{kind}::{data}"),
    }
}

/// Text from outside the xtask (an event, an API answer) as it may be
/// shown anywhere in the log: control characters and line breaks escaped,
/// cut to a readable length (`input::clip`), and unable to act as a
/// runner command. Every echo of such text goes through here.
pub fn untrusted(text: &str) -> String {
    inert(&clip(text))
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
/// the runner as a workflow command. `::` becomes `:\:` and `##[` becomes
/// `#\#[`, in one pass; what is left reads the same to a person.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ':' if out.ends_with(':') => out.push('\\'),
            '[' if out.ends_with("##") => {
                out.pop();
                out.push_str("\\#");
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a runner would run: a line that starts with `::` after spaces,
    /// or holds `##[` anywhere.
    fn is_command(line: &str) -> bool {
        line.trim_start().starts_with("::") || line.contains("##[")
    }

    fn any_command(text: &str) -> bool {
        text.split(['\n', '\r']).any(is_command)
    }

    const HOSTILE: &[&str] = &[
        "::set-output name=x::pwned",
        "x\n::add-mask::y",
        "x\r::add-mask::y",
        "  ::stop-commands::tok",
        "##[set-output name=X;]pwned",
        "a ##[stop-commands]b",
        "a:::b ###[x] ####[y]",
        "%0A::error::x",
        ":",
        "#",
        "##",
        "::",
        ":\\:",
    ];

    #[test]
    fn runner_commands_are_made_inert() {
        for hostile in HOSTILE {
            for shown in [inert(hostile), untrusted(hostile)] {
                assert!(!shown.contains("::") && !shown.contains("##["), "{shown}");
            }
            assert!(!any_command(&untrusted(hostile)), "{hostile:?}");
            assert!(!untrusted(hostile).contains(['\n', '\r']), "{hostile:?}");
            assert_eq!(inert(&inert(hostile)), inert(hostile), "idempotent");
        }
        assert_eq!(inert("a::b"), "a:\\:b");
        assert_eq!(inert(":::"), ":\\:\\:");
        assert_eq!(inert("##[x]"), "#\\#[x]");
        assert_eq!(inert("###[x]"), "##\\#[x]");
        assert_eq!(
            inert("v0.7.0 - see CHANGELOG.md:42"),
            "v0.7.0 - see CHANGELOG.md:42"
        );
        assert_eq!(escape_data("50%\r\n"), "50%25%0D%0A");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn untrusted_text_is_one_short_line() {
        let shown = untrusted(&"n".repeat(10_000_000));
        assert!(shown.len() < 200, "{}", shown.len());
        for (raw, expected) in [
            ("a\nb", "a\\nb"),
            ("a\rb", "a\\rb"),
            ("a\u{1b}[31mb", "a\\u{1b}[31mb"),
            ("a\u{2028}b", "a\\u{2028}b"),
            ("a\u{85}b", "a\\u{85}b"),
            ("%0A", "%0A"),
        ] {
            assert_eq!(untrusted(raw), expected);
        }
    }

    #[test]
    fn annotations_escape_their_data_and_take_no_location_from_it() {
        for hostile in HOSTILE {
            let line = annotation("error", &format!("validate: {hostile}"), None);
            assert!(line.starts_with("::error::validate: "), "{line}");
            let data = &line["::error::".len()..];
            assert!(!data.contains("::") && !data.contains("##["), "{line}");
            assert!(!line.contains(['\n', '\r']), "{line}");
        }
        assert_eq!(
            annotation("error", "the release is named `see CHANGELOG.md:42`", None),
            "::error::the release is named `see CHANGELOG.md:42`"
        );
        assert_eq!(
            annotation(
                "warning",
                "50% done\nnext",
                Some(Located::new("CHANGELOG.md", 3))
            ),
            "::warning file=CHANGELOG.md,line=3::50%25 done%0Anext"
        );
        let long = annotation("error", &"x".repeat(100_000), None);
        assert!(long.len() < ANNOTATION_MAX + 20, "{}", long.len());
    }

    #[test]
    fn a_location_is_read_from_the_error_chain() {
        let err = anyhow::Error::new(crate::input::BadInput("no entries".into()))
            .context(Located::new("CHANGELOG.md", 12))
            .context("validate");
        assert_eq!(Located::of(&err), Some(Located::new("CHANGELOG.md", 12)));
        assert!(crate::input::is_bad_input(&err));
        assert_eq!(format!("{err:#}"), "validate: CHANGELOG.md:12: no entries");
        let plain = anyhow::anyhow!("see CHANGELOG.md:42");
        assert_eq!(Located::of(&plain), None);
    }
}
