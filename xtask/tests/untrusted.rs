//! Untrusted text from GitHub, on the real binary: a corpus of hostile
//! event payloads (titles, labels, release names, tag names, URLs, bodies)
//! through `lint-pr`, `changelog-add` and `release --step validate` under
//! `GITHUB_ACTIONS=true`. Nothing printed may act as a runner command the
//! xtask did not write, nothing is committed on a refusal, and the docs
//! built from the changelog hold no active element from a title.

mod harness;
mod stub;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use harness::{git, output, text, tools, with_index, Index, Sandbox, PASSWORD};
use serde_json::{json, Value};
use stub::{Reply, Stub};

/// Titles that must reach the changelog as text, never as HTML, a link,
/// an image or a log command.
const HOSTILE_TITLES: &[&str] = &[
    "<img src=x onerror=alert(1)>",
    "[docs](javascript:alert(2))",
    "<script>alert(3)</script>",
    "![x](javascript:alert(4))",
    "<a href=\"javascript:alert(5)\">click</a>",
    "<javascript:alert(6)>",
    "<svg/onload=alert(7)>",
    "[a](<javascript:alert(8)>)",
    "<iframe src=javascript:alert(9)></iframe>",
    "&lt;img src=x onerror=alert(10)&gt;",
    "&#60;script&#62;alert(11)&#60;/script&#62;",
    "\\<img src=x onerror=alert(12)>",
    "`<b>code</b>` and *em* and _u_",
    "{: onclick=\"alert(13)\" }",
    "[x][1] [1]: javascript:alert(14)",
    "##[set-output name=X;]pwned",
    "::set-output name=x::y",
    "%0A::error::z %0D ##[add-mask]secret",
    "# heading",
    "✨ Add parser ([#999](https://github.com/o/r/pull/999)",
    "👩🏽‍💻 Improve <b>tooling</b> & docs!",
];

/// Text that, printed raw, would be a runner command or break a line.
const HOSTILE_FRAGMENTS: &[&str] = &[
    "x\n::set-output name=pwned::1",
    "x\r::add-mask::shown",
    "##[set-output name=X;]pwned",
    "##[add-mask]secret",
    "##[stop-commands]token",
    "  ::stop-commands::token",
    "%0A::error::injected",
    "see CHANGELOG.md:42",
    "<img src=x onerror=alert(1)>",
    "[docs](javascript:alert(2))",
];

fn event(dir: &Path, value: &Value) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let path = dir.join(format!(
        "untrusted-event-{}.json",
        COUNT.fetch_add(1, Ordering::SeqCst)
    ));
    fs::write(&path, value.to_string()).expect("writing the event");
    path
}

fn raw_event(dir: &Path, bytes: &[u8]) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let path = dir.join(format!(
        "raw-event-{}.json",
        COUNT.fetch_add(1, Ordering::SeqCst)
    ));
    fs::write(&path, bytes).expect("writing the event");
    path
}

/// The xtask in the sandbox as a workflow runs it, with this event.
fn in_actions(sandbox: &Sandbox, args: &[&str], event: &Path) -> Command {
    let mut cmd = sandbox.xtask(args);
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_PATH", event)
        .env_remove("GITHUB_EVENT_NAME")
        .env_remove("GITHUB_SERVER_URL")
        .env_remove("XTASK_REQUIRE_RELEASE_EVENT");
    cmd
}

fn merged_pr(number: u64, title: &str, labels: &[&str]) -> Value {
    json!({
        "action": "closed",
        "number": number,
        "pull_request": {
            "number": number,
            "title": title,
            "merged": true,
            "base": {"ref": "root"},
            "html_url": "javascript:alert(document.domain)",
            "body": "B".repeat(100_000),
            "labels": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        },
        "repository": {"full_name": "o/r"},
    })
}

/// Every line a runner would read as a command (one starting with `::`
/// after spaces, or holding `##[`) is one the xtask writes, with escaped
/// data; and no line at all is huge.
fn assert_no_foreign_commands(out: &Output, context: &str) {
    let all = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.len() < 64 * 1024,
        "{context}: {} bytes of output",
        all.len()
    );
    let own = regex::Regex::new(
        r"^(::group::[a-z-]+|::endgroup::|::(error|warning)( file=[A-Za-z0-9_./-]+,line=\d+)?::.*)$",
    )
    .expect("regex");
    for line in all.split(['\n', '\r']) {
        let command = line.trim_start().starts_with("::") || line.contains("##[");
        let mentions = line.contains("::") || line.contains("##[");
        if !command && !mentions {
            continue;
        }
        assert!(
            own.is_match(line),
            "{context}: a line the xtask did not write as a command: {line:?}\n{}",
            text(out)
        );
        let data = line.splitn(3, "::").nth(2).unwrap_or_default();
        assert!(
            !data.contains("::") && !data.contains("##["),
            "{context}: command data not escaped: {line:?}"
        );
    }
}

/// The first character of entry text that Markdown would act on: a raw
/// `<`, or link, image, code or emphasis punctuation not escaped.
fn active_markdown(text: &str) -> Option<char> {
    let mut backslashes = 0;
    for c in text.chars() {
        if c == '<' || ("[]()`*_!{}".contains(c) && backslashes % 2 == 0) {
            return Some(c);
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    None
}

fn remote_log(sandbox: &Sandbox) -> String {
    git(&sandbox.remote, &["show", "root:CHANGELOG.md"])
}

fn head(sandbox: &Sandbox) -> String {
    git(&sandbox.remote, &["rev-parse", "root"])
}

#[test]
fn lint_pr_quotes_hostile_titles_and_labels_inertly() {
    let sandbox = Sandbox::new();
    let dir = sandbox.dir.path();
    let mut cases: Vec<(Value, Option<i32>)> = Vec::new();
    for fragment in HOSTILE_FRAGMENTS.iter().chain(HOSTILE_TITLES) {
        // As the title, and as a label of a good title.
        let mut opened = merged_pr(1, fragment, &["bug"]);
        opened["action"] = json!("opened");
        // The two corpus titles that start with an emoji follow the rule.
        let fine = fragment.starts_with('✨') || fragment.starts_with('👩');
        cases.push((opened, Some(if fine { 0 } else { 1 })));
        cases.push((merged_pr(1, "✨ Add x", &[fragment]), Some(1)));
    }
    cases.push((merged_pr(1, &"✨ Add x".repeat(20_000), &["bug"]), Some(1)));
    cases.push((
        merged_pr(1, "✨ Add x", &[&"::set-output name=l::".repeat(10_000)]),
        Some(1),
    ));
    for (payload, code) in cases {
        let out = output(in_actions(
            &sandbox,
            &["lint-pr", "--event"],
            &event(dir, &payload),
        ));
        let context = format!("lint-pr {}", &payload["pull_request"]["title"]);
        assert_eq!(out.status.code(), code, "{context}: {}", text(&out));
        assert_no_foreign_commands(&out, &context);
    }

    // Control characters are refused by lint-pr with the rule
    // changelog-add applies, and so are symbols that are not emoji.
    for (title, why) in [
        ("✨ Add x\ny", "a line break"),
        ("✨ Add x\ry", "a line break"),
        ("✨ Add\u{1b}[2J x", "a control character"),
        ("★ Add x", "is not an emoji"),
        ("✓ Add x", "is not an emoji"),
        ("➔ Add x", "is not an emoji"),
        ("❶ Add x", "is not an emoji"),
        ("🇩 Add x", "lone regional indicator"),
        ("🏽 Add x", "skin tone alone"),
        ("🄰 Add x", "is not an emoji"),
        ("🂡 Add x", "is not an emoji"),
    ] {
        let mut opened = merged_pr(1, title, &["bug"]);
        opened["action"] = json!("edited");
        let out = output(in_actions(
            &sandbox,
            &["lint-pr", "--event"],
            &event(dir, &opened),
        ));
        assert_eq!(out.status.code(), Some(1), "{title:?}: {}", text(&out));
        assert!(text(&out).contains(why), "{title:?}: {}", text(&out));
        assert_no_foreign_commands(&out, title);
    }
    for title in [
        "🇩🇪 Add German docs",
        "👩🏽‍💻 Improve tooling",
        "1️⃣ First",
        "♻️ Refactor",
    ] {
        let out = output(in_actions(
            &sandbox,
            &["lint-pr", "--event"],
            &event(dir, &merged_pr(1, title, &["feature"])),
        ));
        assert_eq!(out.status.code(), Some(0), "{title:?}: {}", text(&out));
    }
}

#[test]
fn hostile_titles_become_inert_changelog_text_and_inert_docs() {
    let sandbox = Sandbox::new();
    let dir = sandbox.dir.path();
    for (n, title) in HOSTILE_TITLES.iter().enumerate() {
        let number = 130 + n as u64;
        let payload = merged_pr(number, title, &["feature", "x\n::set-output name=l::1"]);
        let out = output(in_actions(
            &sandbox,
            &["changelog-add", "--event", "--commit"],
            &event(dir, &payload),
        ));
        assert!(out.status.success(), "{title}: {}", text(&out));
        assert_no_foreign_commands(&out, title);
    }
    let log = remote_log(&sandbox);
    for (n, title) in HOSTILE_TITLES.iter().enumerate() {
        let number = 130 + n as u64;
        // The URL is the pull request's own, built from the number.
        let link = format!("([#{number}](https://github.com/o/r/pull/{number}))");
        let line = log
            .lines()
            .find(|l| l.ends_with(&link))
            .unwrap_or_else(|| panic!("no entry for #{number} {title}:\n{log}"));
        let text_part = &line[2..line.len() - link.len()];
        assert_eq!(active_markdown(text_part), None, "#{number}: {line}");
    }
    assert!(!log.contains("javascript:alert(document.domain)"), "{log}");
    // #999 is named inside another entry's title, yet has no entry: it
    // gets one.
    let out = output(sandbox.xtask(&[
        "changelog-add",
        "--title",
        "✨ Add the real 999",
        "--label",
        "feature",
        "--pr",
        "999",
        "--url",
        "https://github.com/o/r/pull/999",
        "--commit",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains("already has an entry"),
        "{}",
        text(&out)
    );
    assert!(
        remote_log(&sandbox)
            .contains("- ✨ Add the real 999 ([#999](https://github.com/o/r/pull/999))\n"),
        "{}",
        remote_log(&sandbox)
    );

    // The docs site renders every title as its own text, with nothing
    // active in the Release Notes page.
    let site = dir.join("site");
    let bin = tools();
    let built = Command::new(bin.join("mkdocs"))
        .args(["build", "--quiet", "--site-dir"])
        .arg(&site)
        .current_dir(&sandbox.work)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .expect("running mkdocs");
    assert!(built.status.success(), "mkdocs build: {}", text(&built));
    let page = fs::read_to_string(site.join("release-notes").join("index.html"))
        .expect("the Release Notes page");
    let start = page.find("<article").expect("an article");
    let end = page[start..].find("</article>").expect("its end") + start;
    let article = &page[start..end];
    let tag = regex::Regex::new(r"<[^>]*>").expect("regex");
    let handler = regex::Regex::new(r"(?i)\son[a-z]+\s*=").expect("regex");
    for element in tag
        .find_iter(article)
        .map(|m| m.as_str().to_ascii_lowercase())
    {
        for active in ["<img", "<script", "<iframe", "<svg", "<object", "<embed"] {
            assert!(!element.starts_with(active), "active element {element}");
        }
        assert!(!element.contains("javascript:"), "javascript: in {element}");
        assert!(!handler.is_match(&element), "event handler in {element}");
    }
    let visible = tag
        .replace_all(article, "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    for title in HOSTILE_TITLES {
        assert!(visible.contains(title), "`{title}` is not shown as text");
    }
}

#[test]
fn only_a_pull_request_merged_into_the_release_branch_gets_an_entry() {
    let sandbox = Sandbox::new();
    let dir = sandbox.dir.path();
    let before = head(&sandbox);
    let mut opened = merged_pr(40, "✨ Add x", &["feature"]);
    opened["action"] = json!("opened");
    let mut closed = merged_pr(41, "✨ Add y", &["feature"]);
    closed["pull_request"]["merged"] = json!(false);
    let mut elsewhere = merged_pr(42, "✨ Add z", &["feature"]);
    elsewhere["pull_request"]["base"]["ref"] = json!("dev");
    for (payload, message) in [
        (opened, "not merged"),
        (closed, "closed without merging"),
        (
            elsewhere,
            "merged into `dev`, not the release branch `root`",
        ),
    ] {
        let out = output(in_actions(
            &sandbox,
            &["changelog-add", "--event", "--commit"],
            &event(dir, &payload),
        ));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains(message), "{}", text(&out));
    }
    assert_eq!(head(&sandbox), before, "nothing committed");

    // Malformed payloads and titles: exit 2, nothing committed.
    let mut cases: Vec<(PathBuf, &str)> = Vec::new();
    let mut edit = |f: &dyn Fn(&mut Value), why: &'static str| {
        let mut payload = merged_pr(43, "✨ Add w", &["feature"]);
        f(&mut payload);
        cases.push((event(dir, &payload), why));
    };
    edit(
        &|p| drop(p.as_object_mut().map(|o| o.remove("action"))),
        "`action` is missing",
    );
    edit(
        &|p| p["pull_request"]["merged"] = json!("true"),
        "`pull_request.merged` is `true`, not a boolean",
    );
    edit(
        &|p| {
            drop(
                p["pull_request"]
                    .as_object_mut()
                    .map(|o| o.remove("merged")),
            )
        },
        "`pull_request.merged` is missing",
    );
    edit(
        &|p| p["pull_request"]["number"] = json!("43"),
        "`pull_request.number` is `43`",
    );
    edit(
        &|p| p["pull_request"]["title"] = json!("✨ Add w\n::set-output name=x::y"),
        "a line break",
    );
    edit(
        &|p| p["pull_request"]["title"] = json!("✨ Add w\r<script>"),
        "a line break",
    );
    edit(
        &|p| p["pull_request"]["title"] = json!(format!("✨ Add {}", "w".repeat(300))),
        "at most 256",
    );
    edit(
        &|p| p["repository"]["full_name"] = json!("o/r)](javascript:alert(1)"),
        "not a repository",
    );
    edit(
        &|p| drop(p["pull_request"].as_object_mut().map(|o| o.remove("base"))),
        "`pull_request.base.ref` is missing",
    );
    cases.push((raw_event(dir, b""), "not valid JSON"));
    cases.push((
        raw_event(dir, b"{\"action\": \"closed\", "),
        "not valid JSON",
    ));
    cases.push((raw_event(dir, b"{}"), "empty JSON object"));
    cases.push((raw_event(dir, b"[]"), "not an object"));
    cases.push((
        raw_event(dir, b"{\"zen\": \"x\"}"),
        "neither a pull_request event",
    ));
    for (path, why) in cases {
        let out = output(in_actions(
            &sandbox,
            &["changelog-add", "--event", "--commit"],
            &path,
        ));
        assert_eq!(out.status.code(), Some(2), "{why}: {}", text(&out));
        assert!(text(&out).contains(why), "{why}: {}", text(&out));
        assert_no_foreign_commands(&out, why);
    }
    assert_eq!(head(&sandbox), before, "nothing committed");
    assert!(git(&sandbox.work, &["status", "--porcelain"]).is_empty());

    // By hand, --url must be exactly the pull request's page.
    for (url, code) in [
        ("javascript:alert(1)", Some(2)),
        ("https://github.com/o/r/pull/44)", Some(2)),
        ("https://github.com/o/r/pull/45", Some(2)),
        ("https://evil.example/o/r/pull/44", Some(2)),
        ("https://github.com/o/r/pull/44", Some(0)),
    ] {
        let out = output(sandbox.xtask(&[
            "changelog-add",
            "--title",
            "✨ Add <v>",
            "--label",
            "feature",
            "--pr",
            "44",
            "--url",
            url,
            "--dry-run",
        ]));
        assert_eq!(out.status.code(), code, "{url}: {}", text(&out));
    }
    let mut cmd = sandbox.xtask(&[
        "changelog-add",
        "--title",
        "✨ Add v",
        "--pr",
        "44",
        "--url",
        "https://github.com/other/repo/pull/44",
        "--dry-run",
    ]);
    cmd.env("GITHUB_REPOSITORY", "o/r");
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("this repository is `o/r`"),
        "{}",
        text(&out)
    );
}

fn pulls_stub(body: String, status: u16) -> Stub {
    Stub::start(move |req| {
        if req.path.contains("/commits/") && req.path.ends_with("/pulls") {
            Reply::Json(status, body.clone())
        } else {
            Reply::Json(404, "{}".into())
        }
    })
}

fn pull(number: u64, base: &str, merged: bool, sha: &str) -> Value {
    json!({
        "number": number,
        "title": format!("✨ Add thing {number}"),
        "labels": [{"name": "feature"}],
        "base": {"ref": base},
        "merged_at": if merged { json!("2026-01-01T00:00:00Z") } else { Value::Null },
        "merge_commit_sha": sha,
        "html_url": "javascript:alert(1)",
    })
}

#[test]
fn a_push_maps_to_exactly_one_merged_pull_request_or_stops() {
    let sandbox = Sandbox::new();
    let dir = sandbox.dir.path();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let other = "1111111111111111111111111111111111111111";
    let push = event(
        dir,
        &json!({"after": sha, "ref": "refs/heads/root", "repository": {"full_name": "o/r"}}),
    );
    let before = head(&sandbox);
    let run = |stub: &Stub, path: &Path| {
        let mut cmd = in_actions(&sandbox, &["changelog-add", "--event", "--commit"], path);
        cmd.env("GITHUB_API_URL", stub.url())
            .env("GITHUB_TOKEN", "gh-test-token-untrusted")
            .env("GITHUB_REPOSITORY", "o/r");
        output(cmd)
    };

    // Unmerged, or merged elsewhere: no entry, exit 0.
    let none = json!([pull(50, "root", false, sha), pull(51, "dev", true, sha)]);
    let out = run(&pulls_stub(none.to_string(), 200), &push);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("no merged pull request"),
        "{}",
        text(&out)
    );

    // Two merged pull requests, neither the merge commit: refused, listed.
    let two = json!([pull(52, "root", true, other), pull(53, "root", true, other)]);
    let out = run(&pulls_stub(two.to_string(), 200), &push);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("#52, #53"), "{}", text(&out));

    // The API refuses: an error, never a silent skip.
    for status in [403, 500] {
        let out = run(&pulls_stub("{\"message\":\"x\"}".into(), status), &push);
        assert!(!out.status.success(), "{status}: {}", text(&out));
        assert_no_foreign_commands(&out, "api error");
    }
    // A hostile commit id or branch never reaches the API.
    for bad in [
        json!({"after": "../../../x", "ref": "refs/heads/root"}),
        json!({"after": sha, "ref": "refs/tags/v1"}),
        json!({"after": 7, "ref": "refs/heads/root"}),
    ] {
        let stub = pulls_stub("[]".into(), 200);
        let out = run(&stub, &event(dir, &bad));
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
        assert!(stub.seen().is_empty(), "{bad}");
    }
    assert_eq!(head(&sandbox), before, "nothing committed");

    // One merged pull request whose merge commit this is: filed, with its
    // own URL and a hostile title made inert.
    let mut one = pull(54, "root", true, sha);
    one["title"] = json!("✨ Add <img src=x onerror=alert(1)>");
    let body = json!([pull(55, "root", true, other), one]);
    let out = run(&pulls_stub(body.to_string(), 200), &push);
    assert!(out.status.success(), "{}", text(&out));
    assert_no_foreign_commands(&out, "push");
    assert!(
        remote_log(&sandbox).contains(
            "- ✨ Add &lt;img src=x onerror=alert\\(1\\)&gt; ([#54](https://github.com/o/r/pull/54))\n"
        ),
        "{}",
        remote_log(&sandbox)
    );
}

fn release_event(name: &Value, tag_name: &Value) -> Value {
    json!({
        "action": "published",
        "release": {
            "draft": false,
            "prerelease": false,
            "tag_name": tag_name,
            "name": name,
            "body": "##[set-output name=b;]x\n::error::y\n".repeat(10_000),
            "html_url": "javascript:alert(1)\n::set-output name=u::1",
        },
    })
}

#[test]
fn validate_refuses_hostile_and_wrong_release_events_without_echoing_them() {
    let sandbox = Sandbox::new();
    // validate reads the index too: a real, empty one on this machine.
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let dir = sandbox.dir.path();
    let validate = ["release", "v0.7.0", "--step", "validate"];
    let mut cases: Vec<(PathBuf, &str)> = Vec::new();
    for fragment in HOSTILE_FRAGMENTS {
        cases.push((
            event(dir, &release_event(&json!(fragment), &json!("v0.7.0"))),
            "release.name",
        ));
        cases.push((
            event(dir, &release_event(&json!("v0.7.0"), &json!(fragment))),
            "release.tag_name",
        ));
    }
    let huge = format!("##[add-mask]{}", "n".repeat(10 * 1024 * 1024));
    cases.push((
        event(dir, &release_event(&json!(huge), &json!("v0.7.0"))),
        "more characters",
    ));
    let mut edit = |f: &dyn Fn(&mut Value), why: &'static str| {
        let mut payload = release_event(&json!("v0.7.0"), &json!("v0.7.0"));
        f(&mut payload);
        cases.push((event(dir, &payload), why));
    };
    edit(&|p| p["release"]["prerelease"] = json!(true), "pre-release");
    edit(
        &|p| p["release"]["draft"] = json!("true"),
        "`release.draft` is `true`, not a boolean",
    );
    edit(
        &|p| drop(p["release"].as_object_mut().map(|o| o.remove("draft"))),
        "`release.draft` is missing",
    );
    edit(
        &|p| drop(p.as_object_mut().map(|o| o.remove("action"))),
        "`action` is missing",
    );
    edit(&|p| p["action"] = json!("created"), "`action` is `created`");
    edit(
        &|p| p["release"]["tag_name"] = json!(["v0.7.0"]),
        "`release.tag_name` is",
    );
    cases.push((raw_event(dir, b""), "not valid JSON"));
    cases.push((raw_event(dir, b"{\"release\": "), "not valid JSON"));
    cases.push((raw_event(dir, b"{}"), "empty JSON object"));
    cases.push((raw_event(dir, b"\"release\""), "not an object"));
    for (path, why) in cases {
        let out = output(with_index(
            in_actions(&sandbox, &validate, &path),
            &index,
            PASSWORD,
        ));
        let context = format!("{why} ({})", path.display());
        assert_eq!(out.status.code(), Some(2), "{context}: {}", text(&out));
        assert!(text(&out).contains(why), "{context}: {}", text(&out));
        assert_no_foreign_commands(&out, &context);
        // The location of an annotation is never read out of event text.
        assert!(!text(&out).contains("file="), "{context}: {}", text(&out));
    }

    // A good event passes.
    let good = event(dir, &release_event(&json!("v0.7.0"), &json!("v0.7.0")));
    let out = output(with_index(
        in_actions(&sandbox, &validate, &good),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert_no_foreign_commands(&out, "good");

    // Outside a release event and without a token: a warning annotation,
    // or with --require-release-event a refusal.
    let push = event(
        dir,
        &json!({"after": "0123456789abcdef0123456789abcdef01234567", "ref": "refs/heads/root"}),
    );
    let out = output(with_index(
        in_actions(&sandbox, &validate, &push),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("::warning::the GitHub Release of v0.7.0 was NOT checked"),
        "{}",
        text(&out)
    );
    assert_no_foreign_commands(&out, "push");
    let mut required: Vec<&str> = validate.to_vec();
    required.push("--require-release-event");
    let out = output(with_index(
        in_actions(&sandbox, &required, &push),
        &index,
        PASSWORD,
    ));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--require-release-event"),
        "{}",
        text(&out)
    );
    let mut cmd = with_index(in_actions(&sandbox, &validate, &push), &index, PASSWORD);
    cmd.env("XTASK_REQUIRE_RELEASE_EVENT", "true")
        .env("GITHUB_EVENT_NAME", "push");
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("this run's event is `push`"),
        "{}",
        text(&out)
    );
    // The runner says it is a release event, but the payload has none.
    let mut cmd = with_index(in_actions(&sandbox, &validate, &push), &index, PASSWORD);
    cmd.env("GITHUB_EVENT_NAME", "release");
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a release event"), "{}", text(&out));
    let out = output(with_index(
        in_actions(&sandbox, &required, &good),
        &index,
        PASSWORD,
    ));
    assert!(out.status.success(), "{}", text(&out));
}
