//! Pull-request rules, pure: the title form (`✨ Add dataframe repeat
//! support`), the required labels, which changelog category a label files
//! an entry under, and the changelog entry itself: the title as inert
//! Markdown text and the pull request's own URL, built, never copied.

#[rustfmt::skip] // generated: kept as gen_emoji.py writes it
mod emoji;

use crate::github::untrusted;

/// Labels a pull request needs at least one of, with their categories.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("bug", "Fixes"),
    ("feature", "Features"),
    ("enhancement", "Enhancements"),
    ("documentation", "Documentation"),
    ("internal", "Internal"),
    ("other", OTHER),
];
pub const OTHER: &str = "Miscellaneous";

/// The longest title, in characters (GitHub's own limit).
pub const TITLE_MAX: usize = 256;

/// The category of the first known label, else `Miscellaneous`.
pub fn category(labels: &[String]) -> &'static str {
    labels
        .iter()
        .find_map(|l| {
            CATEGORIES
                .iter()
                .find(|(name, _)| l.trim().eq_ignore_ascii_case(name))
                .map(|(_, c)| *c)
        })
        .unwrap_or(OTHER)
}

/// Every problem with a pull request's title and labels; empty when fine.
/// Values are quoted through `untrusted`: they come from an event.
pub fn lint(title: &str, labels: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let form = title_text(title).and_then(|t| {
        leading_space(title)
            .and_then(|()| check_title(t))
            .map_err(|why| {
                format!("{why}; expected emoji, a space, then a capitalised word, e.g. `✨ Add dataframe repeat support`")
            })
    });
    if let Err(why) = form {
        problems.push(format!("title `{}`: {why}", untrusted(title)));
    }
    if !labels.iter().any(|l| {
        CATEGORIES
            .iter()
            .any(|(n, _)| l.trim().eq_ignore_ascii_case(n))
    }) {
        let names: Vec<&str> = CATEGORIES.iter().map(|(n, _)| *n).collect();
        let shown: Vec<String> = labels.iter().take(20).map(|l| untrusted(l)).collect();
        problems.push(format!(
            "labels [{}{}]: add at least one of {}",
            shown.join(", "),
            if labels.len() > 20 { ", …" } else { "" },
            names.join(", ")
        ));
    }
    problems
}

/// The text rule `lint-pr` and `changelog-add` share: the trimmed title,
/// non-empty, one line, no control or bidirectional-override characters,
/// at most `TITLE_MAX` characters.
pub fn title_text(title: &str) -> Result<&str, String> {
    let title = title.trim_matches(' ');
    if title.is_empty() {
        return Err("the title is empty".into());
    }
    if let Some(c) = title.chars().find(|&c| is_forbidden(c)) {
        let what = match c {
            '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => "a line break",
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "a bidirectional override",
            _ => "a control character",
        };
        return Err(format!(
            "it holds {what} ({}): a title is one line of plain text",
            c.escape_unicode()
        ));
    }
    let length = title.chars().count();
    if length > TITLE_MAX {
        return Err(format!(
            "it is {length} characters long: at most {TITLE_MAX}"
        ));
    }
    Ok(title)
}

fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A title is linted as written: `changelog-add` trims what it files, but
/// a leading space is not the emoji the rule starts with.
fn leading_space(title: &str) -> Result<(), String> {
    match title.chars().next() {
        Some(c) if c.is_whitespace() => Err(format!(
            "it starts with whitespace (U+{:04X}), not the emoji",
            c as u32
        )),
        _ => Ok(()),
    }
}

fn check_title(title: &str) -> Result<(), String> {
    let Some((prefix, rest)) = title.split_once(' ') else {
        return Err("no space after the emoji".into());
    };
    if prefix.is_empty() {
        return Err("it must start with an emoji".into());
    }
    emoji_sequence(prefix)?;
    let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    match word.chars().next() {
        None => Err("no word after the emoji".into()),
        Some(c) if c.is_uppercase() => Ok(()),
        Some(c) => Err(format!(
            "the first word must be capitalised, not `{}...`",
            c.escape_debug()
        )),
    }
}

// ---- emoji ------------------------------------------------------------------

const VS16: char = '\u{FE0F}';
const ZWJ: char = '\u{200D}';
const KEYCAP: char = '\u{20E3}';

fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = c as u32;
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn is_tone(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

fn is_regional(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// A hair component (red, curly, bald, white): only inside a ZWJ sequence.
fn is_hair(c: char) -> bool {
    ('\u{1F9B0}'..='\u{1F9B3}').contains(&c)
}

/// Checks that `s` is one or more RGI emoji (Unicode's recommended set):
/// an emoji character, or a symbol with VS16 (`♻️`); a keycap (`1️⃣`); a
/// flag (a valid pair of regional indicators); a subdivision flag; a
/// skin-tone sequence on a person or hand (`👍🏽`); or a ZWJ sequence of
/// those that Unicode lists (`👩🏽‍💻`). Symbols that are not emoji (★ ✓ ➔
/// ❶ 🄰 🂡), and parts of an emoji alone (a regional indicator, a skin tone,
/// VS16, a joiner), are refused.
pub fn emoji_sequence(s: &str) -> Result<(), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        i = one_emoji(&chars, i).map_err(|why| {
            if start > 0 && chars[start].is_alphanumeric() && !is_keycap_base(chars[start]) {
                "no space after the emoji".to_string()
            } else {
                why
            }
        })?;
    }
    Ok(())
}

fn is_keycap_base(c: char) -> bool {
    c.is_ascii_digit() || c == '#' || c == '*'
}

fn not_emoji(c: char) -> String {
    format!(
        "`{}` (U+{:04X}) is not an emoji",
        c.escape_debug(),
        c as u32
    )
}

/// The index after the emoji starting at `i`.
fn one_emoji(chars: &[char], i: usize) -> Result<usize, String> {
    let c = chars[i];
    let next = chars.get(i + 1).copied();
    if is_keycap_base(c) {
        let j = if next == Some(VS16) { i + 2 } else { i + 1 };
        return match chars.get(j) {
            Some(&KEYCAP) => Ok(j + 1),
            _ => Err(not_emoji(c)),
        };
    }
    if is_regional(c) {
        return match next.filter(|&n| is_regional(n)) {
            Some(n) => {
                let letters: String = [c, n]
                    .iter()
                    .map(|&r| char::from(b'A' + (r as u32 - 0x1F1E6) as u8))
                    .collect();
                if emoji::FLAGS.binary_search(&letters.as_str()).is_ok() {
                    Ok(i + 2)
                } else {
                    Err(format!(
                        "`{c}{n}` ({letters}) is not a flag Unicode recommends"
                    ))
                }
            }
            None => Err(format!(
                "`{c}` is a lone regional indicator: a flag is a pair of them"
            )),
        };
    }
    if c == '\u{1F3F4}' && next.is_some_and(|n| ('\u{E0020}'..='\u{E007E}').contains(&n)) {
        let tags: String = chars[i + 1..]
            .iter()
            .take_while(|&&t| ('\u{E0020}'..='\u{E007E}').contains(&t))
            .map(|&t| char::from_u32(t as u32 - 0xE0000).unwrap_or('?'))
            .collect();
        let end = i + 1 + tags.chars().count();
        if chars.get(end) == Some(&'\u{E007F}')
            && emoji::TAG_SEQUENCES.binary_search(&tags.as_str()).is_ok()
        {
            return Ok(end + 1);
        }
        return Err("a subdivision flag that Unicode does not recommend".into());
    }
    // An element, or a ZWJ sequence of elements.
    let mut bases = String::new();
    let mut j = element(chars, i, false, &mut bases)?;
    let mut elements = 1;
    while chars.get(j) == Some(&ZWJ) {
        if j + 1 >= chars.len() {
            return Err("the emoji ends with a zero-width joiner".into());
        }
        bases.push(ZWJ);
        j = element(chars, j + 1, true, &mut bases)?;
        elements += 1;
    }
    if elements > 1 && emoji::ZWJ_SEQUENCES.binary_search(&bases.as_str()).is_err() {
        return Err(format!(
            "`{}` is not a ZWJ sequence Unicode recommends",
            chars[i..j].iter().collect::<String>().escape_debug()
        ));
    }
    Ok(j)
}

/// One element at `i`: an emoji character (text-default ones need VS16,
/// except inside a ZWJ sequence or before a skin tone), then an optional
/// VS16 and skin tone. Its base goes to `bases`.
fn element(chars: &[char], i: usize, joined: bool, bases: &mut String) -> Result<usize, String> {
    let c = chars[i];
    let next = chars.get(i + 1).copied();
    let presentation = in_ranges(c, emoji::PRESENTATION) || (joined && is_hair(c));
    let text_default = in_ranges(c, emoji::TEXT_DEFAULT);
    let base = in_ranges(c, emoji::MODIFIER_BASES);
    let mut j = i + 1;
    if presentation || text_default {
        // An optional VS16. Without it a text-default symbol still shows
        // as an emoji on GitHub, and titles are typed that way (the
        // project's own `🗂 Update the issue templates`).
        if next == Some(VS16) {
            j += 1;
        }
    } else if is_tone(c) {
        return Err("a skin tone alone is not an emoji: it follows a person or a hand".into());
    } else if c == VS16 || c == '\u{FE0E}' {
        return Err(format!(
            "a lone variation selector (U+{:04X}) is not an emoji",
            c as u32
        ));
    } else if c == ZWJ {
        return Err("a zero-width joiner alone is not an emoji".into());
    } else {
        return Err(not_emoji(c));
    }
    if chars.get(j).copied().is_some_and(is_tone) {
        if !base {
            return Err(format!("`{c}` takes no skin tone"));
        }
        j += 1;
    }
    bases.push(c);
    Ok(j)
}

// ---- the changelog entry ----------------------------------------------------

/// The title as Markdown that renders as exactly its text: Markdown's
/// active punctuation is backslash-escaped and `<`, `>`, `&` become
/// entities (Python-Markdown has no backslash escape for `<` and `&`), so
/// no HTML, link, image, code span or emphasis can come from a title. A
/// leading block marker (`#`, `+`, `-`, `1.`) is escaped too. The title
/// must have passed `title_text`.
pub fn markdown_text(title: &str) -> String {
    let mut out = String::with_capacity(title.len() + 16);
    let digits = title.chars().take_while(char::is_ascii_digit).count();
    for (n, c) in title.chars().enumerate() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '+' | '-' if n == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' if n == digits && n > 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `owner/name` as GitHub allows them: letters, digits, `-` and `_` for
/// the owner; also `.` for the name (not `.` or `..` alone).
pub fn check_repository(repository: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "`{}` is not a repository: expected OWNER/NAME (letters, digits, `-`, `_`, and `.` in the name)",
            untrusted(repository)
        )
    };
    let (owner, name) = repository.split_once('/').ok_or_else(bad)?;
    let owner_ok = (1..=39).contains(&owner.len())
        && !owner.starts_with('-')
        && owner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let name_ok = (1..=100).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if owner_ok && name_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The web server (`https://github.com`, or a GitHub Enterprise Server's
/// `GITHUB_SERVER_URL`): https, a host name and optional port, nothing
/// else. Returned without a trailing slash.
pub fn check_server(server: &str) -> Result<&str, String> {
    let trimmed = server.strip_suffix('/').unwrap_or(server);
    let host = trimmed.strip_prefix("https://").unwrap_or("");
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok = match port {
        None => true,
        Some(p) => !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()),
    };
    if name_ok && port_ok {
        Ok(trimmed)
    } else {
        Err(format!(
            "`{}` is not a GitHub server URL: expected https://HOST (GITHUB_SERVER_URL)",
            untrusted(server)
        ))
    }
}

/// The pull request's own page: `{server}/{owner}/{name}/pull/{number}`.
pub fn pull_url(server: &str, repository: &str, number: u64) -> Result<String, String> {
    let server = check_server(server)?;
    check_repository(repository)?;
    if number == 0 {
        return Err("the pull-request number must be 1 or more".into());
    }
    Ok(format!("{server}/{repository}/pull/{number}"))
}

/// The repository a `--url` names, when it is exactly a pull request's
/// page on `server` with this number; why not otherwise.
pub fn repository_of_url(url: &str, server: &str, number: u64) -> Result<String, String> {
    let server = check_server(server)?;
    let expected = || {
        format!(
            "`{}` is not this pull request's page: expected {server}/OWNER/NAME/pull/{number}",
            untrusted(url)
        )
    };
    let rest = url
        .strip_prefix(server)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(expected)?;
    let (repository, n) = rest.rsplit_once("/pull/").ok_or_else(expected)?;
    if n != number.to_string() || check_repository(repository).is_err() {
        return Err(expected());
    }
    Ok(repository.to_string())
}

/// The changelog line: `- TITLE ([#N](URL))`, the title as inert text.
pub fn entry(title: &str, number: u64, url: &str) -> String {
    format!("- {} ([#{number}]({url}))", markdown_text(title))
}

#[cfg(test)]
mod tests;
