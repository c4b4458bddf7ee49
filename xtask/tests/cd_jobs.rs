//! cd.yml's jobs as written (see cd/mod.rs for the runner): the runner
//! itself, one tag released job by job with each job's privileges and
//! outputs, and the integrity checks between jobs (a tampered xtask binary
//! or dist artifact stops the run before anything is published).

mod cd;
mod harness;
mod stub;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use cd::expr::{Ctx, Parser};
use cd::runner::Runner;
use cd::steps::{read_pairs, sha256_of};
use cd::{Fixture, MINTED};
use harness::git;
use serde_json::{json, Value};

/// Appends a byte to a file: the artifact is no longer what was recorded.
fn tamper(path: &Path) {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("opening {} to tamper with it: {e}", path.display()));
    file.write_all(b"\n").expect("tampering");
}

// ---------------------------------------------------------------------------
// The tests.

#[test]
fn the_runner_reads_what_cd_uses_and_refuses_what_it_does_not_know() {
    let ctx = Ctx {
        contexts: json!({
            "github": {"event": {"release": {"tag_name": "v1.2.0"}}},
            "needs": {
                "a": {"result": "success", "outputs": {"x": "true"}},
                "b": {"result": "failure", "outputs": {}},
            },
            "steps": {"s": {"outputs": {"release-commit": "abc"}}},
        }),
        status: true,
    };
    let eval = |t: &str| ctx.eval(&Parser::parse(t));
    assert_eq!(eval("github.event.release.tag_name"), json!("v1.2.0"));
    assert_eq!(eval("steps.s.outputs['release-commit']"), json!("abc"));
    assert_eq!(eval("steps.s.outputs.missing"), Value::Null);
    assert_eq!(eval("needs.*.result"), json!(["success", "failure"]));
    assert_eq!(eval("needs.a.outputs.x != 'TRUE'"), json!(false));
    assert_eq!(eval("needs.b.outputs.x != 'true'"), json!(true));
    assert_eq!(
        eval("always() && (contains(needs.*.result, 'failure') || contains(needs.*.result, 'cancelled'))"),
        json!(true)
    );
    assert_eq!(eval("success()"), json!(false));
    assert_eq!(eval("!failure()"), json!(false));
    for unknown in [
        "needs.c.result",
        "steps.t.outputs.x",
        "runner.os",
        "env.TAG",
        "github.sha",
        "format('{0}', 1)",
        "needs.a.outputs.x < 'y'",
    ] {
        let refused = std::panic::catch_unwind(|| {
            ctx.eval(&Parser::parse(unknown));
        });
        assert!(refused.is_err(), "`{unknown}` should be refused");
    }
    let dir = harness::TempDir::new("cd-jobs-pairs");
    let pairs = dir.path().join("pairs");
    fs::write(&pairs, "a=1\nlong<<EOF\nx\ny=z\nEOF\nb=2=3\n").expect("writing");
    assert_eq!(
        read_pairs(&pairs),
        [("a", "1"), ("long", "x\ny=z"), ("b", "2=3")].map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[test]
fn cd_jobs_release_a_tag_as_written() {
    let fx = Fixture::new();
    let mut run = Runner::new(&fx);
    run.run_remaining();
    let all = run.summary();
    for job in ["xtask", "commits", "build", "publish", "docs"] {
        assert_eq!(run.result(job), "success", "{job}:\n{all}");
    }
    // Nothing failed, so revert's condition is false: skipped.
    assert_eq!(run.result("revert"), "skipped", "{all}");

    // The xtask the jobs ran is the one the xtask job compiled and recorded.
    let recorded = run.output("xtask", "sha256");
    assert_eq!(recorded.len(), 64, "{all}");
    assert_eq!(sha256_of(&run.artifact("xtask").join("xtask")), recorded);

    // root holds the changelog and version commits; the release commit
    // the commits job recorded has both.
    let tag = &fx.tag;
    let subjects = git(&fx.sandbox.remote, &["log", "-2", "--format=%s", "root"]);
    assert_eq!(
        subjects,
        format!(
            "Release {tag}: version {}\nRelease {tag}: changelog",
            fx.version
        ),
        "{all}"
    );
    let commit = run.output("commits", "commit");
    assert_eq!(commit, git(&fx.sandbox.remote, &["rev-parse", "root"]));
    let log = fx.remote_file(&commit, "CHANGELOG.md");
    assert!(log.contains(&format!("\n## {tag}\n")), "{log}");
    assert!(!log.contains("## Recent Changes"), "{log}");
    assert!(fx
        .remote_file(&commit, "pyproject.toml")
        .contains(&format!("version = \"{}\"", fx.version)));

    // The index lists the sdist and the wheel, with the sha256 the build
    // job recorded; they went up with the token the exchange minted.
    let expected: BTreeMap<String, String> = run
        .output("build", "sha256")
        .split(',')
        .map(|pair| {
            let (file, sha) = pair.split_once('=').expect("FILE=SHA256");
            (file.to_string(), sha.to_string())
        })
        .collect();
    let listed: BTreeMap<String, String> = fx
        .index
        .files()
        .into_iter()
        .map(|f| {
            let sha = sha256_of(&fx.index.packages.join(&f));
            (f, sha)
        })
        .collect();
    assert_eq!(listed, expected, "{all}");
    let names: Vec<&String> = listed.keys().collect();
    assert!(
        names.len() == 2
            && names
                .iter()
                .any(|n| n.ends_with(&format!("{}.tar.gz", fx.version)))
            && names.iter().any(|n| n.ends_with("-py3-none-any.whl")),
        "{names:?}"
    );
    let minted = format!(
        "Basic {}",
        stub::base64(format!("__token__:{MINTED}").as_bytes())
    );
    let uploads: Vec<_> = fx
        .exchange
        .seen()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/")
        .collect();
    assert_eq!(uploads.len(), 2, "{all}");
    assert!(uploads
        .iter()
        .all(|r| r.header("authorization") == Some(minted.as_str())));
    // The minted token is masked before it shows anywhere else.
    let publish = run.record("publish").log();
    assert!(
        publish.contains(&format!("::add-mask::{MINTED}")),
        "{publish}"
    );
    for job in run.records.values() {
        for line in job.log().lines().filter(|l| l.contains(MINTED)) {
            assert!(line.starts_with("::add-mask::"), "leaked: {line}");
        }
    }
    // The commits job validated without upload credentials, by design.
    let commits = run.record("commits").log();
    assert!(
        commits.contains("upload credentials: none in this job (by design)"),
        "{commits}"
    );

    // The docs branch has the series, named latest-release.
    let series = fx.version.rsplit_once('.').expect("X.Y.Z").0.to_string();
    assert_eq!(
        fx.sandbox.remote_docs_versions(),
        vec![(series, vec!["latest-release".to_string()])],
        "{all}"
    );
}

#[test]
fn a_tampered_xtask_binary_stops_the_job_before_it_runs() {
    let fx = Fixture::new();
    let mut run = Runner::new(&fx);
    run.run_through("xtask");
    assert_eq!(run.result("xtask"), "success", "{}", run.summary());
    let before = fx.remote_refs();

    tamper(&run.artifact("xtask").join("xtask"));
    run.run_remaining();
    let all = run.summary();

    // The commits job stops at the check: no xtask line ran after it.
    let commits = run.record("commits");
    assert_eq!(commits.result, "failure", "{all}");
    let failed = commits.failed_step().expect("a failed step");
    assert_eq!(
        failed.name, "Check the xtask against the xtask job's sha256",
        "{all}"
    );
    assert!(failed.log.contains("did NOT match"), "{all}");
    let after: Vec<&str> = commits
        .steps
        .iter()
        .skip_while(|s| s.outcome != "failure")
        .skip(1)
        .map(|s| s.outcome)
        .collect();
    assert!(
        !after.is_empty() && after.iter().all(|o| *o == "skipped"),
        "{all}"
    );
    for job in ["build", "publish", "docs"] {
        assert_eq!(run.result(job), "skipped", "{job}: {all}");
    }
    // revert's condition holds (a need failed, publishing never started),
    // and it refuses the same binary at its own check.
    let revert = run.record("revert");
    assert_eq!(revert.result, "failure", "{all}");
    assert_eq!(
        revert.failed_step().map(|s| s.name.as_str()),
        Some("Check the xtask against the xtask job's sha256"),
        "{all}"
    );
    assert_eq!(fx.remote_refs(), before, "the remote changed:\n{all}");
    assert!(fx.index.files().is_empty(), "{:?}", fx.index.files());
}

#[test]
fn a_tampered_dist_artifact_is_refused_before_publishing() {
    let fx = Fixture::new();
    let mut run = Runner::new(&fx);
    run.run_through("build");
    for job in ["xtask", "commits", "build"] {
        assert_eq!(run.result(job), "success", "{job}:\n{}", run.summary());
    }
    let tag = &fx.tag;
    assert!(fx
        .remote_file("root", "CHANGELOG.md")
        .contains(&format!("\n## {tag}\n")));
    let wheel = fs::read_dir(run.artifact("dist"))
        .expect("the dist artifact")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel in the dist artifact");
    tamper(&wheel);

    run.run_through("publish");
    let all = run.summary();
    let publish = run.record("publish");
    assert_eq!(publish.result, "failure", "{all}");
    let failed = publish.failed_step().expect("a failed step");
    assert_eq!(
        failed.name, "Check the files against the build job's sha256",
        "{all}"
    );
    assert!(
        failed
            .log
            .contains("::error::the received files differ from the build job's sha256"),
        "{all}"
    );
    assert_eq!(run.output("publish", "started"), "", "{all}");
    assert!(fx.index.files().is_empty(), "{:?}", fx.index.files());
    assert!(fx.exchange.seen().is_empty(), "nothing reached the index");

    // Publishing never started: revert's condition holds, docs is skipped.
    assert!(run.condition("revert"), "{all}");
    run.run_remaining();
    let all = run.summary();
    assert_eq!(run.result("docs"), "skipped", "{all}");
    assert_eq!(run.result("revert"), "success", "{all}");
    // The remote's changelog is the tagged one again: `## Recent Changes`.
    assert_eq!(
        fx.remote_file("root", "CHANGELOG.md"),
        fx.remote_file(tag, "CHANGELOG.md"),
        "{all}"
    );
    assert!(fx
        .remote_file("root", "CHANGELOG.md")
        .contains("\n## Recent Changes\n"));
    assert_eq!(
        git(&fx.sandbox.remote, &["log", "-1", "--format=%s", "root"]),
        format!("Revert the {tag} changelog heading: not published")
    );
    assert!(fx.index.files().is_empty());
}
