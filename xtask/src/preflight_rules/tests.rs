use super::*;

const HATCH: &str = "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n[project]\nname = \"p\"\nversion = \"0.1.0\"\n";

fn top(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn all_tooling() -> Vec<String> {
    top(&[
        "src",
        "README.md",
        "xtask",
        ".cargo",
        "tools",
        "Cargo.toml",
        "Cargo.lock",
        "pyproject.toml",
    ])
}

#[test]
fn the_sdist_tooling_is_read_from_hatchlings_settings() {
    let everything = ["xtask", ".cargo", "tools", "Cargo.toml", "Cargo.lock"];
    let cases: &[(&str, &[&str])] = &[
        // No selection: everything git tracks ships.
        ("", &everything),
        (
            "[tool.hatch.build.targets.sdist]\ninclude = [\"/src/p\", \"/README.md\"]\n",
            &[],
        ),
        (
            "[tool.hatch.build.targets.sdist]\ninclude = [\"/src\", \"/xtask/fixtures\"]\n",
            &["xtask"],
        ),
        (
            "[tool.hatch.build.targets.sdist]\ninclude = [\"*\"]\nexclude = [\"/xtask\", \"/.cargo\", \"tools/\", \"Cargo.*\"]\n",
            &[],
        ),
        (
            "[tool.hatch.build.targets.sdist]\nexclude = [\"/xtask\", \"/.cargo\"]\n",
            &["tools", "Cargo.toml", "Cargo.lock"],
        ),
        // An exclude deeper than the top level leaves the rest shipping.
        (
            "[tool.hatch.build.targets.sdist]\nexclude = [\"/xtask/src\", \"/.cargo\", \"/tools\", \"/Cargo.toml\", \"/Cargo.lock\"]\n",
            &["xtask"],
        ),
        (
            "[tool.hatch.build.targets.sdist]\nonly-include = [\"src\", \"README.md\"]\n",
            &[],
        ),
        (
            "[tool.hatch.build.targets.sdist]\nonly-include = [\".\"]\n",
            &everything,
        ),
        // Build-wide settings apply when the target has none.
        ("[tool.hatch.build]\ninclude = [\"/src\"]\n", &[]),
        (
            "[tool.hatch.build]\ninclude = [\"/src\"]\n[tool.hatch.build.targets.sdist]\ninclude = [\"/src\", \"/tools\"]\n",
            &["tools"],
        ),
        ("[tool.hatch.build]\nexclude = [\"**/xtask\", \"/.cargo\", \"/tools\", \"/Cargo.toml\", \"/Cargo.lock\"]\n", &[]),
    ];
    for (settings, shipped) in cases {
        let text = format!("{HATCH}\n{settings}");
        assert_eq!(
            sdist_tooling(&text, &all_tooling()),
            Some(shipped.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            "{settings}"
        );
    }
    // Only tooling that the repository has counts.
    assert_eq!(
        sdist_tooling(HATCH, &top(&["src", "xtask"])),
        Some(vec!["xtask".to_string()])
    );
    // Another backend (or an unreadable file): only a build tells.
    let setuptools = HATCH.replace("hatchling.build", "setuptools.build_meta");
    assert_eq!(sdist_tooling(&setuptools, &all_tooling()), None);
    assert_eq!(sdist_tooling("not toml [", &all_tooling()), None);
}

#[test]
fn the_sdist_problem_names_the_tooling_the_line_and_the_exclude() {
    let text = format!("{HATCH}\n[tool.hatch.build.targets.sdist]\nexclude = [\"/xtask\"]\n");
    let p = sdist_problem(&text, &all_tooling()).expect("a problem");
    assert_eq!(p.at.as_deref(), Some("pyproject.toml:9"));
    assert!(
        p.what.contains(".cargo, tools, Cargo.toml, Cargo.lock"),
        "{}",
        p.what
    );
    assert!(
        p.fix
            .contains("exclude = [\"/.cargo\", \"/tools\", \"/Cargo.toml\", \"/Cargo.lock\"]"),
        "{}",
        p.fix
    );
    let p = sdist_problem(HATCH, &all_tooling()).expect("a problem");
    assert_eq!(p.at.as_deref(), Some("pyproject.toml:1"));
    assert!(
        p.line()
            .starts_with("pyproject.toml:1: the sdist would ship"),
        "{}",
        p.line()
    );
    // This repository's own settings ship no tooling.
    let ours = include_str!("../../../pyproject.toml");
    assert_eq!(sdist_problem(ours, &all_tooling()), None);
}

#[test]
fn pyproject_problems() {
    assert_eq!(pyproject_problem(HATCH), None);
    for (text, why) in [
        ("[project]\nname = \"p\"\n", "version"),
        ("[project]\nversion = \"0.1.0\"\n", "name"),
        ("not toml [", ""),
        (
            "[project]\nname = \"p\"\ndynamic = [\"version\"]\n",
            "version",
        ),
    ] {
        let p = pyproject_problem(text).unwrap_or_else(|| panic!("{text}"));
        assert!(p.what.contains(why), "{text}: {}", p.what);
        assert_eq!(p.at.as_deref(), Some("pyproject.toml"));
    }
}

#[test]
fn mkdocs_warnings_become_located_problems() {
    let yml = "site_name: x\nnav:\n  - Home: index.md\n  - Gone: gone.md\n";
    let output = "INFO    -  Cleaning site directory\n\
WARNING -  A reference to 'gone.md' is included in the 'nav' configuration, which is not found in the documentation files.\n\
WARNING -  Doc file 'index.md' contains a link 'nowhere.md', but the target is not found among documentation files.\n\
WARNING -  Something general\n\
\n\
Aborted with 3 warnings in strict mode!\n";
    let page =
        |name: &str| (name == "index.md").then(|| "# Home\n\nSee [x](nowhere.md).\n".to_string());
    let problems = mkdocs_problems(output, yml, "docs", &page);
    let at: Vec<Option<&str>> = problems.iter().map(|p| p.at.as_deref()).collect();
    assert_eq!(at, [Some("mkdocs.yml:4"), Some("docs/index.md:3"), None]);
    assert!(
        problems[0].what.contains("'gone.md'"),
        "{}",
        problems[0].what
    );
    assert!(problems.iter().all(|p| p.fix.contains("docs-deploy")));
    assert!(mkdocs_problems("INFO - Building\nINFO - done\n", yml, "docs", &page).is_empty());
    // A page that cannot be read is still named, without a line.
    let none = |_: &str| None;
    let problems = mkdocs_problems(output, yml, "docs", &none);
    assert_eq!(problems[1].at.as_deref(), Some("docs/index.md"));
}

#[test]
fn globs_match_within_one_component() {
    assert!(glob("Cargo.*", "Cargo.toml"));
    assert!(glob("*", ".cargo"));
    assert!(glob("t?ols", "tools"));
    assert!(!glob("Cargo.*", "Cargo"));
    assert!(!glob("x", "xtask"));
}

#[test]
fn a_pending_tag_is_refused_by_its_files_or_by_a_moved_branch() {
    let tag = crate::version::Tag::parse("v0.7.0").expect("tag");
    let py = format!("{HATCH}\n[tool.hatch.build.targets.sdist]\ninclude = [\"/src\"]\n");
    let log = "<h1>Release Notes</h1>\n\n## Recent Changes\n\n- A fix\n\n## v0.6.0\n\n- Old\n";
    let later_log = log.replace("- A fix\n", "- A fix\n- Later work\n");
    let tooling = all_tooling();
    let check = |py: &str, log: &str, root_py: &str, root_log: &str, changed: &[&str]| {
        let changed = top(changed);
        pending_tag_refusal(
            &tag,
            &TaggedSource {
                pyproject: py,
                changelog: log,
                top_level: &tooling,
                root_pyproject: root_py,
                root_changelog: root_log,
                changed: &changed,
            },
        )
    };
    // Releasable: root equal, or with later entries only.
    assert_eq!(check(&py, log, &py, log, &[]), None);
    assert_eq!(check(&py, log, &py, &later_log, &["CHANGELOG.md"]), None);
    // The version differs alone: the release's own edit.
    let bumped = py.replace("0.1.0", "0.7.0");
    assert_eq!(check(&py, log, &bumped, log, &["pyproject.toml"]), None);
    let why = |r: Option<String>| r.expect("refused");
    // The tag's tree ships the tooling.
    assert!(why(check(HATCH, log, HATCH, log, &[])).contains("at v0.7.0, the sdist would ship"));
    // The tag's changelog has nothing to release.
    let empty = "<h1>Release Notes</h1>\n\n## Recent Changes\n\n## v0.6.0\n\n- Old\n";
    assert!(why(check(&py, empty, &py, empty, &[])).contains("has no entries"));
    // The branch moved: code, metadata, or released history.
    assert!(
        why(check(&py, log, &py, log, &["src/x.py", "pyproject.toml"]))
            .contains("changes since v0.7.0 beyond the release's own edits (src/x.py)")
    );
    let fixed = format!("{py}exclude = [\"/xtask\"]\n");
    assert!(why(check(&py, log, &fixed, log, &["pyproject.toml"]))
        .contains("differs from the tagged one beyond the version"));
    let rewritten = log.replace("- Old", "- Rewritten");
    assert!(check(&py, log, &py, &rewritten, &["CHANGELOG.md"]).is_some());
    // A release commit already on the branch resumes: nothing refused.
    let released = log.replace("## Recent Changes", "## v0.7.0");
    assert_eq!(check(&py, log, &fixed, &released, &["src/x.py"]), None);
}
