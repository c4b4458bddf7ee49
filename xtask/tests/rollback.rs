//! `cargo xtask release-rollback` on real sandboxes: the bare remote, the
//! real pypiserver for the full cycle, a yank-capable stub index for what
//! pypiserver cannot show, and loopback stand-ins for the GitHub API.

mod harness;
mod stub_index;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use harness::{git, output, refs, run_ok, says, text, with_index, Index, Sandbox, PASSWORD};
use stub_index::{with_stub, Answer, Server, YankIndex};

const RELEASE_5: &str = r#"{"id":5,"tag_name":"v0.7.0","name":"v0.7.0","draft":false}"#;

/// A GitHub stand-in for repository o/r: release 5 for v0.7.0 until it is
/// deleted; the release list tells the truth.
fn github() -> Server {
    let deleted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    Server::start(move |method, path| {
        let gone = deleted.load(std::sync::atomic::Ordering::SeqCst);
        match (method, path) {
            ("GET", "/repos/o/r/releases/tags/v0.7.0") if !gone => Answer::new(200, RELEASE_5),
            ("GET", p) if p.starts_with("/repos/o/r/releases?") => {
                let list = if gone {
                    "[]".into()
                } else {
                    format!("[{RELEASE_5}]")
                };
                Answer::new(200, &list)
            }
            ("DELETE", "/repos/o/r/releases/5") => {
                deleted.store(true, std::sync::atomic::Ordering::SeqCst);
                Answer::new(204, "")
            }
            _ => Answer::new(404, r#"{"message":"Not Found"}"#),
        }
    })
}

fn with_github(mut cmd: Command, github: &Server) -> Command {
    cmd.env("GITHUB_API_URL", github.url())
        .env("GITHUB_TOKEN", "gh-test-token")
        .env("GITHUB_REPOSITORY", "o/r")
        // Rate limits are waited out within this bound, then reported.
        .env("XTASK_GITHUB_RATE_WAIT", "3s")
        .stdin(Stdio::null());
    cmd
}

/// Tag v0.7.0 pushed and 0.7.0 on the stub index: a rollback's start,
/// without a build.
fn tagged() -> (Sandbox, YankIndex) {
    let sandbox = Sandbox::new();
    sandbox.plain_tag("v0.7.0");
    let index = YankIndex::start(false);
    index.publish("0.6.0");
    index.publish("0.7.0");
    (sandbox, index)
}

fn has_tag(sandbox: &Sandbox, tag: &str) -> (bool, bool) {
    (
        !git(&sandbox.work, &["tag", "--list", tag]).is_empty(),
        !git(&sandbox.remote, &["tag", "--list", tag]).is_empty(),
    )
}

#[test]
fn the_plan_names_every_call_and_nothing_changes_unconfirmed() {
    let (sandbox, index) = tagged();
    let gh = github();
    let before = refs(&sandbox);
    let rollback = |extra: &[&str]| {
        let mut args = vec!["release-rollback", "v0.7.0", "--delete-tag"];
        args.extend(extra);
        output(with_github(with_stub(sandbox.xtask(&args), &index), &gh))
    };
    says(
        &rollback(&["--dry-run"]),
        0,
        &[
            "0.7.0 is on the index: the next release is v0.7.1",
            "GitHub Release `v0.7.0` (id 5) in o/r: DELETE /repos/o/r/releases/5",
            "git tag -d v0.7.0",
            "git push --quiet --end-of-options origin :refs/tags/v0.7.0",
            "/manage/project/mindoff-dataport/release/0.7.0/",
        ],
    );
    says(&rollback(&[]), 2, &["confirm with --yes"]);
    assert!(!gh.seen().iter().any(|r| r.starts_with("DELETE")));
    assert_eq!(refs(&sandbox), before);
}

#[test]
fn rollback_then_fix_then_the_next_patch_is_released() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let gh = github();
    let idx = |cmd| with_index(cmd, &index, PASSWORD);
    run_ok(&mut idx(sandbox.xtask(&["tag", "v0.7.0"])));
    run_ok(&mut idx(sandbox.xtask(&["release", "v0.7.0"])));

    let rollback = || {
        output(with_github(
            idx(sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"])),
            &gh,
        ))
    };
    says(
        &rollback(),
        0,
        &[
            "0.7.0 is on the index: the next release is v0.7.1",
            "yanking is manual: open http://127.0.0.1:",
            "cargo xtask tag v0.7.1",
        ],
    );
    assert_eq!(has_tag(&sandbox, "v0.7.0"), (false, false));
    assert_eq!(
        gh.seen().iter().filter(|r| r.starts_with("DELETE")).count(),
        1
    );
    // Re-running finds nothing left to delete, and proves it by the list.
    says(&rollback(), 0, &["none for v0.7.0 in o/r"]);
    assert_eq!(
        gh.seen().iter().filter(|r| r.starts_with("DELETE")).count(),
        1
    );

    // pypiserver cannot yank: status names the pending yank.
    let out = output(idx(sandbox.xtask(&["status"])));
    says(
        &out,
        1,
        &["0.7.0 is on the index above the newest tag (none) and has no tag v0.7.0"],
    );
    assert!(!text(&out).contains("--step version"), "{}", text(&out));

    // The fix, then the next patch: tagged and released.
    commit_the_fix_entry(&sandbox);
    run_ok(&mut idx(sandbox.xtask(&["tag", "v0.7.1"])));
    run_ok(&mut idx(sandbox.xtask(&["release", "v0.7.1"])));
    assert!(index.files().iter().any(|f| f.contains("0.7.1")));
    assert_eq!(has_tag(&sandbox, "v0.7.1"), (true, true));
}

/// The corrected release's changelog entry, committed and pushed.
fn commit_the_fix_entry(sandbox: &Sandbox) {
    run_ok(&mut sandbox.xtask(&[
        "changelog-add",
        "--title",
        "🔧 Fix the broken build",
        "--label",
        "bug",
        "--pr",
        "41",
        "--url",
        "https://github.com/o/r/pull/41",
        "--commit",
    ]));
}

/// `tag` refuses a version the index lists and names the next patch.
#[test]
fn a_rolled_back_version_cannot_be_tagged_again() {
    let (sandbox, index) = tagged();
    run_ok(&mut with_stub(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"]),
        &index,
    ));
    index.yank("0.7.0");
    commit_the_fix_entry(&sandbox);
    let before = refs(&sandbox);
    let out = output(with_stub(sandbox.xtask(&["tag", "v0.7.0"]), &index));
    says(&out, 2, &["v0.7.1"]);
    assert_eq!(refs(&sandbox), before);
}

#[test]
fn a_version_not_newest_or_never_released_is_refused() {
    let (sandbox, index) = tagged();
    let before = refs(&sandbox);
    let run = |tag: &str| {
        output(with_stub(
            sandbox.xtask(&["release-rollback", tag, "--delete-tag", "--yes"]),
            &index,
        ))
    };
    says(
        &run("v0.6.0"),
        2,
        &[
            "v0.6.0 is not the newest release (tag v0.7.0 is newer)",
            "yank it by hand at http://127.0.0.1:",
        ],
    );
    says(&run("v0.9.0"), 2, &["v0.9.0 was never released"]);
    assert_eq!(refs(&sandbox), before);
    // Never indexed, but tagged: the tag may be reused.
    sandbox.plain_tag("v0.8.0");
    says(
        &run("v0.8.0"),
        0,
        &[
            "0.8.0 never reached the index: the tag may be reused",
            "`cargo xtask tag v0.8.0`",
        ],
    );
    assert_eq!(has_tag(&sandbox, "v0.8.0"), (false, false));
}

#[test]
fn a_github_404_never_leads_to_deleting_the_tag() {
    let (sandbox, index) = tagged();
    let before = refs(&sandbox);
    let rollback = |gh: &Server| {
        output(with_github(
            with_stub(
                sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"]),
                &index,
            ),
            gh,
        ))
    };
    // A token that cannot see the repository: every call answers 404.
    let blind = Server::start(|_, _| Answer::new(404, r#"{"message":"Not Found"}"#));
    says(
        &rollback(&blind),
        1,
        &["not visible with this token", "Nothing was changed"],
    );
    // The DELETE answers 404, but the list still holds the release.
    let stubborn = Server::start(|method, path| match (method, path) {
        ("GET", "/repos/o/r/releases/tags/v0.7.0") => Answer::new(200, RELEASE_5),
        ("GET", p) if p.starts_with("/repos/o/r/releases?") => {
            Answer::new(200, &format!("[{RELEASE_5}]"))
        }
        _ => Answer::new(404, r#"{"message":"Not Found"}"#),
    });
    says(
        &rollback(&stubborn),
        1,
        &["still lists release 5", "the tag was not touched"],
    );
    assert_eq!(refs(&sandbox), before);
    // The same with over 100 releases: release 5 stands on the second
    // page of the list, which is read too before calling it gone.
    let paged = Server::start(|method, path| match (method, path) {
        ("GET", "/repos/o/r/releases/tags/v0.7.0") => Answer::new(200, RELEASE_5),
        // Without a page, GitHub answers the first.
        ("GET", p) if p.starts_with("/repos/o/r/releases?") && p.ends_with("&page=2") => {
            Answer::new(200, &format!("[{RELEASE_5}]"))
        }
        ("GET", p) if p.starts_with("/repos/o/r/releases?") => {
            let newer: Vec<String> = (1000..1100)
                .map(|id| format!(r#"{{"id":{id},"tag_name":"x{id}","draft":false}}"#))
                .collect();
            Answer::new(200, &format!("[{}]", newer.join(",")))
        }
        _ => Answer::new(404, r#"{"message":"Not Found"}"#),
    });
    says(
        &rollback(&paged),
        1,
        &["still lists release 5", "the tag was not touched"],
    );
    assert_eq!(refs(&sandbox), before);
    // A token without a repository names the missing setting.
    let mut cmd = with_stub(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"]),
        &index,
    );
    cmd.env("GITHUB_TOKEN", "gh-test-token");
    says(&output(cmd), 2, &["set GITHUB_REPOSITORY"]);
    assert_eq!(refs(&sandbox), before);
}

fn rate_limited() -> [Server; 2] {
    [
        Server::start(|_, _| {
            Answer::new(403, r#"{"message":"API rate limit exceeded"}"#)
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", "4102444800")
        }),
        Server::start(|_, _| {
            Answer::new(429, r#"{"message":"secondary rate limit"}"#).header("retry-after", "1")
        }),
    ]
}

#[test]
fn a_rate_limit_never_leads_to_deleting_the_tag() {
    let (sandbox, index) = tagged();
    let before = refs(&sandbox);
    for gh in rate_limited() {
        let out = output(with_github(
            with_stub(
                sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"]),
                &index,
            ),
            &gh,
        ));
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(!gh.seen().iter().any(|r| r.starts_with("DELETE")));
    }
    assert_eq!(refs(&sandbox), before);
}

/// Rate limits are named and waited for within a bound.
#[test]
fn a_rate_limit_is_named() {
    let (sandbox, index) = tagged();
    for gh in rate_limited() {
        let out = output(with_github(
            with_stub(
                sandbox.xtask(&["release-rollback", "v0.7.0", "--dry-run"]),
                &index,
            ),
            &gh,
        ));
        says(&out, 1, &["rate limit"]);
        assert!(!text(&out).contains("check GITHUB_TOKEN"), "{}", text(&out));
    }
}

fn wait(sandbox: &Sandbox, index: &YankIndex, timeout: &str) -> Output {
    let mut cmd = with_stub(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--yes", "--wait"]),
        index,
    );
    cmd.env("XTASK_YANK_TIMEOUT", timeout);
    output(cmd)
}

#[test]
fn wait_says_yanked_only_on_the_yank_flag() {
    for json in [false, true] {
        let (sandbox, _) = tagged();
        let index = YankIndex::start(json);
        index.publish("0.7.0");
        // Poll 0 is the plan; a transient 500, then live, then yanked.
        index.fault(1, 2, Answer::new(500, "oops"));
        index.yank_from_poll("0.7.0", 3);
        says(&wait(&sandbox, &index, "2m"), 0, &["0.7.0 is yanked"]);
        assert!(index.polls() >= 4, "{}", index.polls());
    }
}

#[test]
fn wait_gives_up_within_its_budget_with_what_it_saw() {
    let (sandbox, index) = tagged();
    let before = refs(&sandbox);
    says(
        &wait(&sandbox, &index, "5x"),
        2,
        &["XTASK_YANK_TIMEOUT is `5x`", "`5s`, `2m`"],
    );
    assert_eq!(index.polls(), 0);
    assert_eq!(refs(&sandbox), before);
    // The page turns 404: no evidence of a yank.
    index.fault(1, usize::MAX, Answer::new(404, "Not Found"));
    says(
        &wait(&sandbox, &index, "3s"),
        1,
        &[
            "not shown yanked after 3 s",
            "last seen: the project page answered 404",
        ],
    );
    // A page that never answers: bounded by the budget, not by HTTP.
    let (sandbox, index) = tagged();
    index.fault(
        1,
        usize::MAX,
        Answer::new(200, "").delay(Duration::from_secs(60)),
    );
    let start = Instant::now();
    says(
        &wait(&sandbox, &index, "3"),
        1,
        &["last seen: no answer from"],
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(has_tag(&sandbox, "v0.7.0"), (true, true));
}

/// `tag` made the release commit, the version never reached the index,
/// and the rollback said "fix on root, then `cargo xtask tag v0.7.0`";
/// but `tag` refused, the `## v0.7.0` heading still on root counting as a
/// release. The rollback now names the revert first, and the printed
/// sequence re-tags v0.7.0.
#[test]
fn a_never_indexed_tag_is_reusable_by_the_printed_steps() {
    let sandbox = Sandbox::new();
    let index = YankIndex::start(false);
    index.publish("0.6.0");
    run_ok(&mut with_stub(sandbox.xtask(&["tag", "v0.7.0"]), &index));
    let out = output(with_stub(
        sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"]),
        &index,
    ));
    says(
        &out,
        0,
        &[
            "0.7.0 never reached the index",
            "`cargo xtask release v0.7.0 --step revert`",
            "`cargo xtask tag v0.7.0`",
        ],
    );
    assert_eq!(has_tag(&sandbox, "v0.7.0"), (false, false));
    run_ok(&mut with_stub(
        sandbox.xtask(&["release", "v0.7.0", "--step", "revert"]),
        &index,
    ));
    commit_the_fix_entry(&sandbox);
    run_ok(&mut with_stub(sandbox.xtask(&["tag", "v0.7.0"]), &index));
    assert_eq!(has_tag(&sandbox, "v0.7.0"), (true, true));
}

/// A released version rolled back with its tag kept: the remote records
/// the rollback, so `tag` of that version says it is spent (exit 2, the
/// next patch named, nothing changed) instead of "nothing to do". The
/// record is in the plan, pushed once, and found again on a re-run.
#[test]
fn a_version_rolled_back_with_its_tag_kept_is_spent_for_tag() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let gh = github();
    let idx = |cmd| with_index(cmd, &index, PASSWORD);
    run_ok(&mut idx(sandbox.xtask(&["tag", "v0.7.0"])));
    run_ok(&mut idx(sandbox.xtask(&["release", "v0.7.0"])));
    let rollback = |extra: &[&str]| {
        let mut args = vec!["release-rollback", "v0.7.0"];
        args.extend(extra);
        output(with_github(idx(sandbox.xtask(&args)), &gh))
    };
    let before = refs(&sandbox);
    says(
        &rollback(&["--dry-run"]),
        0,
        &[
            "record: git push --quiet --end-of-options origin",
            "refs/xtask/rollbacks/v0.7.0",
        ],
    );
    assert_eq!(refs(&sandbox), before);
    says(
        &rollback(&["--yes"]),
        0,
        &["0.7.0 is spent", "cargo xtask tag v0.7.1"],
    );
    let tagged = git(&sandbox.remote, &["rev-parse", "v0.7.0^{commit}"]);
    assert_eq!(
        git(
            &sandbox.remote,
            &["rev-parse", "refs/xtask/rollbacks/v0.7.0"]
        ),
        tagged
    );
    assert_eq!(has_tag(&sandbox, "v0.7.0"), (true, true));
    says(&rollback(&["--yes"]), 0, &["already marks 0.7.0 as spent"]);

    // Without a GitHub token, as a maintainer's machine runs it.
    let before = refs(&sandbox);
    let files = index.files();
    let out = output(idx(sandbox.xtask(&["tag", "v0.7.0"])));
    says(
        &out,
        2,
        &[
            "v0.7.0 was rolled back",
            "spent",
            "`cargo xtask tag v0.7.1`",
        ],
    );
    assert!(!text(&out).contains("nothing to do"), "{}", text(&out));
    assert_eq!(refs(&sandbox), before);
    assert_eq!(index.files(), files);
    // The named command is the way on.
    commit_the_fix_entry(&sandbox);
    run_ok(&mut idx(sandbox.xtask(&["tag", "v0.7.1"])));
}

/// A remote that refuses the tag deletion (a pre-receive hook, as a tag
/// protection rule does): the rollback says what is done (the GitHub
/// Release, the local tag) and what is not (the remote tag), and a re-run
/// once the remote allows it finishes the job.
#[test]
fn a_refused_tag_deletion_says_what_is_done_and_what_a_rerun_does() {
    let (sandbox, index) = tagged();
    let gh = github();
    let hook = sandbox.remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new name; do\n  case \"$name\" in refs/tags/*) if [ \"$new\" = 0000000000000000000000000000000000000000 ]; then echo \"tag deletion is not allowed\"; exit 1; fi;; esac\ndone\n",
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod the hook");
    let rollback = || {
        output(with_github(
            with_stub(
                sandbox.xtask(&["release-rollback", "v0.7.0", "--delete-tag", "--yes"]),
                &index,
            ),
            &gh,
        ))
    };
    let out = rollback();
    says(
        &out,
        1,
        &[
            "origin refused to delete the tag v0.7.0",
            "tag deletion is not allowed",
            "Done: the GitHub Release 5 in o/r is deleted, the local tag v0.7.0 is deleted",
            "Not done: v0.7.0 still stands on origin",
            "run this rollback again; it converges",
        ],
    );
    assert!(
        !text(&out).contains("failed to push some refs"),
        "{}",
        text(&out)
    );
    assert_eq!(has_tag(&sandbox, "v0.7.0"), (false, true));

    std::fs::remove_file(&hook).expect("unhook");
    says(
        &rollback(),
        0,
        &["none for v0.7.0 in o/r", "v0.7.0 deleted"],
    );
    assert_eq!(has_tag(&sandbox, "v0.7.0"), (false, false));
    assert_eq!(
        gh.seen().iter().filter(|r| r.starts_with("DELETE")).count(),
        1
    );
}
