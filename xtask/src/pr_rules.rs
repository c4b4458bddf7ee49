//! Pull-request rules, pure: the title form (`✨ Add dataframe repeat
//! support`), the required labels, and which changelog category a label
//! files an entry under.

/// Labels a pull request needs at least one of, with their categories.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("bug", "Fixes"),
    ("feature", "Features"),
    ("enhancement", "Enhancements"),
    ("documentation", "Documentation"),
    ("internal", "Internal"),
];
pub const OTHER: &str = "Miscellaneous";

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
pub fn lint(title: &str, labels: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(why) = check_title(title) {
        problems.push(format!(
            "title `{}`: {why}; expected emoji, a space, then a capitalised word, e.g. \
`✨ Add dataframe repeat support`",
            title.escape_debug()
        ));
    }
    if !labels.iter().any(|l| {
        CATEGORIES
            .iter()
            .any(|(n, _)| l.trim().eq_ignore_ascii_case(n))
    }) {
        let names: Vec<&str> = CATEGORIES.iter().map(|(n, _)| *n).collect();
        problems.push(format!(
            "labels [{}]: add at least one of {}",
            labels.join(", "),
            names.join(", ")
        ));
    }
    problems
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
        Some(c) => Err(format!("the first word must be capitalised, not `{c}...`")),
    }
}

/// Checks that `s` is one or more emoji: pictographs with optional
/// variation selectors, skin tones and zero-width joiners, keycaps
/// (`1️⃣`), and flags (regional indicator pairs).
fn emoji_sequence(s: &str) -> Result<(), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut after_emoji = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            // Modifiers only follow an emoji.
            '\u{FE0F}' | '\u{FE0E}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}'
                if after_emoji => {}
            '\u{200D}' if after_emoji => after_emoji = false,
            '0'..='9' | '#' | '*' => {
                // A keycap: base, optional VS16, then U+20E3.
                let mut j = i + 1;
                if chars.get(j) == Some(&'\u{FE0F}') {
                    j += 1;
                }
                if chars.get(j) != Some(&'\u{20E3}') {
                    return Err(format!("`{c}` is not an emoji"));
                }
                i = j;
                after_emoji = true;
            }
            c if is_pictograph(c) => after_emoji = true,
            c if after_emoji && c.is_alphanumeric() => {
                return Err("no space after the emoji".into())
            }
            c => return Err(format!("`{}` is not an emoji", c.escape_debug())),
        }
        i += 1;
    }
    if after_emoji {
        Ok(())
    } else {
        Err("the emoji sequence is incomplete".into())
    }
}

fn is_pictograph(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{21AA}' | '\u{231A}'..='\u{23FF}' | '\u{24C2}'
        | '\u{25AA}'..='\u{27BF}' | '\u{2934}' | '\u{2935}' | '\u{2B05}'..='\u{2B55}'
        | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
        | '\u{1F000}'..='\u{1FAFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn titles() {
        let good = [
            "✨ Add dataframe repeat support",
            "🔧 Fix the CSV writer",
            "⚡️ Speed up parsing", // with VS16
            "♻️ Refactor records",
            "📝✏️ Document both", // two emoji
            "👩🏽‍💻 Improve tooling", // skin tone + ZWJ
            "1️⃣ First step",      // keycap
            "#️⃣ Hash keycap",
            "🇩🇪 Add German docs", // flag
            "🚀 Ölçü support",    // non-ASCII capital
            "⬆️ Bump twine",
        ];
        for title in good {
            assert_eq!(check_title(title), Ok(()), "{title}");
        }
        let bad = [
            ("Add support", "`A` is not an emoji"),
            ("✨add support", "no space after the emoji"),
            ("✨ add support", "must be capitalised"),
            ("✨  Add support", "no word after the emoji"),
            (" ✨ Add", "it must start with an emoji"),
            ("✨", "no space"),
            ("1 Add", "`1` is not an emoji"),
            ("\u{FE0F} Add", "is not an emoji"), // a lone VS16
            ("✨‍ Add", "incomplete"),            // a dangling ZWJ
            ("feat: add support", "not an emoji"),
            ("✨ 123 numbers", "must be capitalised"),
        ];
        for (title, why) in bad {
            let err = check_title(title).expect_err(title);
            assert!(err.contains(why), "{title}: {err}");
        }
    }

    #[test]
    fn labels_and_categories() {
        assert!(lint("✨ Add x", &labels(&["feature"])).is_empty());
        let problems = lint("add x", &labels(&["question"]));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[1].contains("add at least one of bug, feature"));
        assert_eq!(category(&labels(&["question", "bug", "feature"])), "Fixes");
        assert_eq!(category(&labels(&["Documentation"])), "Documentation");
        assert_eq!(category(&labels(&["internal"])), "Internal");
        assert_eq!(category(&labels(&["enhancement"])), "Enhancements");
        assert_eq!(category(&labels(&["question"])), "Miscellaneous");
        assert_eq!(category(&[]), "Miscellaneous");
    }
}
