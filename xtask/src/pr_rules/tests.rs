use super::*;

fn labels(l: &[&str]) -> Vec<String> {
    l.iter().map(|s| s.to_string()).collect()
}

#[test]
fn titles() {
    let good = [
        "✨ Add dataframe repeat support",
        "🔧 Fix the CSV writer",
        "⚡ Speed up parsing",
        "⚡️ Speed up parsing", // a presentation emoji with a redundant VS16
        "♻️ Refactor records", // a text symbol with VS16
        "♻ Refactor records",  // and without: GitHub shows it as an emoji
        "⬆ Bump the lock files",
        "🗂 Update the issue templates", // as the project's own history has it
        "📝✏️ Document both",           // two emoji
        "👩🏽‍💻 Improve tooling",           // skin tone + ZWJ
        "👩‍💻 Improve tooling",
        "👍🏽 Approve", // modifier sequence
        "☝🏽 Point",   // text-default base with a skin tone
        "❤️‍🔥 Love it", // ZWJ sequence with VS16 inside
        "🏳️‍🌈 Pride",
        "👨‍👩‍👧‍👦 Family",
        "👨‍🦰 Hair",
        "1️⃣ First step", // keycap
        "#️⃣ Hash keycap",
        "*️⃣ Star keycap",
        "🇩🇪 Add German docs", // flag
        "🇺🇳 United",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scottish docs", // subdivision flag
        "🚀 Ölçü support",  // non-ASCII capital
        "⬆️ Bump twine",
        "©️ Licence",
    ];
    for title in good {
        assert_eq!(check_title(title), Ok(()), "{title}");
        assert!(lint(title, &labels(&["bug"])).is_empty(), "{title}");
    }
    let bad = [
        ("Add support", "is not an emoji"),
        ("✨add support", "no space after the emoji"),
        ("✨ add support", "must be capitalised"),
        ("✨  Add support", "no word after the emoji"),
        (" ✨ Add", "it must start with an emoji"),
        ("✨", "no space"),
        ("1 Add", "`1` (U+0031) is not an emoji"),
        ("\u{FE0F} Add", "lone variation selector"),
        ("✨\u{200D} Add", "ends with a zero-width joiner"),
        ("\u{200D}✨ Add", "zero-width joiner alone"),
        ("feat: add support", "not an emoji"),
        ("✨ 123 numbers", "must be capitalised"),
        // Symbols that are not emoji.
        ("★ Add", "`★` (U+2605) is not an emoji"),
        ("✓ Add", "(U+2713) is not an emoji"),
        ("➔ Add", "(U+2794) is not an emoji"),
        ("❶ Add", "(U+2776) is not an emoji"),
        ("🄰 Add", "(U+1F130) is not an emoji"),
        ("🂡 Add", "(U+1F0A1) is not an emoji"),
        ("✨★ Add", "(U+2605) is not an emoji"),
        // Parts of an emoji alone.
        ("🇩 Add", "lone regional indicator"),
        ("🇩🇪🇩 Add", "lone regional indicator"),
        ("🇦🇦 Add", "not a flag Unicode recommends"),
        ("🏽 Add", "a skin tone alone"),
        ("✨🏽 Add", "takes no skin tone"),
        ("🦰 Add", "is not an emoji"),
        ("1 Add", "is not an emoji"), // a keycap base without its keycap
        ("# Add", "is not an emoji"),
        ("✨\u{FE0E} Add", "lone variation selector"),
        ("✨‍🚀 Add", "not a ZWJ sequence Unicode recommends"),
        ("1\u{20E3}\u{20E3} Add", "is not an emoji"),
        (
            "🏴\u{E0067}\u{E0062}\u{E0078}\u{E007F} Add",
            "subdivision flag",
        ),
    ];
    for (title, why) in bad {
        let err = check_title(title).expect_err(title);
        assert!(err.contains(why), "{title}: {err}");
    }
}

#[test]
fn the_title_text_rule_is_shared_by_lint_and_changelog() {
    assert_eq!(title_text("  ✨ Add x  "), Ok("✨ Add x"));
    for (title, why) in [
        ("", "empty"),
        ("   ", "empty"),
        ("✨ Add\nx", "a line break"),
        ("✨ Add\rx", "a line break"),
        ("✨ Add\u{2028}x", "a line break"),
        ("✨ Add\u{85}x", "a line break"),
        ("✨ Add\tx", "a control character"),
        ("✨ Add\u{1b}[31mx", "a control character"),
        ("✨ Add\u{7f}", "a control character"),
        ("✨ Add \u{202E}txt.exe", "a bidirectional override"),
    ] {
        let err = title_text(title).expect_err(title);
        assert!(err.contains(why), "{title:?}: {err}");
        let problems = lint(title, &labels(&["bug"])).join("\n");
        assert!(problems.contains(why), "lint {title:?}: {problems}");
        assert!(!problems.contains(['\n', '\r']) || problems.lines().count() == 1);
    }
    let long = format!("✨ Add {}", "x".repeat(300));
    assert!(title_text(&long).expect_err("long").contains("at most 256"));
    let problems = lint(&long, &labels(&["bug"])).join("");
    assert!(problems.len() < 500, "{problems}");
}

#[test]
fn lint_refuses_a_title_that_starts_with_whitespace() {
    for (title, shown) in [
        (" ✨ Add x", "U+0020"),
        ("\u{a0}✨ Add x", "U+00A0"),
        ("\u{3000}✨ Add x", "U+3000"),
    ] {
        let problems = lint(title, &labels(&["feature"])).join("\n");
        assert!(
            problems.contains("it starts with whitespace") && problems.contains(shown),
            "{title:?}: {problems}"
        );
        assert!(
            problems.contains("expected emoji, a space, then a capitalised word"),
            "{problems}"
        );
    }
    // changelog-add files the trimmed text: only the lint is strict.
    assert_eq!(title_text(" ✨ Add x"), Ok("✨ Add x"));
}

#[test]
fn lint_quotes_event_text_inertly() {
    let problems = lint(
        "##[set-output name=x;]pwned\n::add-mask::y",
        &labels(&["x\n::set-output name=y::z", "##[stop-commands]t"]),
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
    for p in &problems {
        assert!(
            !p.contains("::") && !p.contains("##[") && !p.contains(['\n', '\r']),
            "{p}"
        );
    }
    let many: Vec<String> = (0..10_000).map(|n| format!("label{n}")).collect();
    let problems = lint("✨ Add x", &many).join("");
    assert!(problems.len() < 3_000, "{}", problems.len());
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
    // `other` is a category of its own: enough for the lint.
    assert!(lint("✨ Add x", &labels(&["other"])).is_empty());
    assert_eq!(category(&labels(&["other", "bug"])), "Miscellaneous");
    assert_eq!(category(&[]), "Miscellaneous");
}

#[test]
fn titles_become_inert_markdown() {
    for (title, markdown) in [
        ("✨ Add x", "✨ Add x"),
        (
            "<img src=x onerror=alert(1)>",
            "&lt;img src=x onerror=alert\\(1\\)&gt;",
        ),
        (
            "[docs](javascript:alert(2))",
            "\\[docs\\]\\(javascript:alert\\(2\\)\\)",
        ),
        ("![i](x)", "\\!\\[i\\]\\(x\\)"),
        (
            "<script>alert(3)</script>",
            "&lt;script&gt;alert\\(3\\)&lt;/script&gt;",
        ),
        ("`code` *em* _u_", "\\`code\\` \\*em\\* \\_u\\_"),
        ("a & b &lt; c", "a &amp; b &amp;lt; c"),
        ("\\[x\\]", "\\\\\\[x\\\\\\]"),
        ("{: onclick=x}", "\\{: onclick=x\\}"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("12. item", "12\\. item"),
        ("a | b", "a \\| b"),
        (
            "✨ Add ([#131](https://x/131))",
            "✨ Add \\(\\[#131\\]\\(https://x/131\\)\\)",
        ),
    ] {
        assert_eq!(markdown_text(title), markdown, "{title}");
    }
    assert_eq!(
        entry("✨ Add <b>", 7, "https://github.com/o/r/pull/7"),
        "- ✨ Add &lt;b&gt; ([#7](https://github.com/o/r/pull/7))"
    );
}

#[test]
fn pull_request_urls_are_built_not_copied() {
    assert_eq!(
        pull_url("https://github.com", "mindoffwork/mindoff-dataport", 31).as_deref(),
        Ok("https://github.com/mindoffwork/mindoff-dataport/pull/31")
    );
    assert_eq!(
        pull_url("https://ghe.example.com:8443/", "o/r.py", 2).as_deref(),
        Ok("https://ghe.example.com:8443/o/r.py/pull/2")
    );
    for (server, repository, number) in [
        ("http://github.com", "o/r", 1),
        ("https://github.com/x", "o/r", 1),
        ("https://user@github.com", "o/r", 1),
        ("javascript:alert(1)//", "o/r", 1),
        ("https://github.com", "o", 1),
        ("https://github.com", "o/r/s", 1),
        ("https://github.com", "o/..", 1),
        ("https://github.com", "o/r)", 1),
        ("https://github.com", "-o/r", 1),
        ("https://github.com", "o/r\n", 1),
        ("https://github.com", "o/r", 0),
    ] {
        assert!(
            pull_url(server, repository, number).is_err(),
            "{server} {repository}"
        );
    }
    let server = "https://github.com";
    assert_eq!(
        repository_of_url("https://github.com/o/r/pull/77", server, 77).as_deref(),
        Ok("o/r")
    );
    for url in [
        "https://github.com/o/r/pull/78",
        "https://github.com/o/r/pull/77/files",
        "https://github.com/o/r/pull/77)",
        "https://github.com/o/r/pull/77#x",
        "https://github.com.evil/o/r/pull/77",
        "http://github.com/o/r/pull/77",
        "javascript:alert(1)",
        "https://github.com/o/r/issues/77",
        "https://github.com/o/r/x/pull/77",
    ] {
        assert!(repository_of_url(url, server, 77).is_err(), "{url}");
    }
}
