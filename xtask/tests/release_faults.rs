//! Release integrity under real faults: two runs at once, an index that
//! lists uploads late or drops a connection, commits after the tag,
//! versions known elsewhere (the index, a repository without tags), a tag
//! re-created on other code, credentials in the index URL. Real git, a real
//! pypiserver (behind a loopback fault proxy where needed), managed tools.

mod harness;
mod proxy;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use harness::{
    add_changelog_entry, git, output, path_str, remote_file, run_ok, says, text, with_index,
    xtask_in, Index, Sandbox, PASSWORD, USER,
};
use proxy::{Fault, Proxy};

fn snapshot(sandbox: &Sandbox, index: &Index) -> String {
    format!(
        "{}\n{}\n{}\n{:?}",
        git(&sandbox.work, &["for-each-ref"]),
        git(&sandbox.work, &["status", "--porcelain", "--ignored"]),
        git(&sandbox.remote, &["for-each-ref"]),
        index.files()
    )
}

fn release(dir: &Path, index: &Index, version: &str) -> Command {
    with_index(xtask_in(dir, &["release", version]), index, PASSWORD)
}

/// Two clones release the same tag at the same moment (a maintainer and
/// the CD), round after round: both converge and exit 0, the remote gets
/// one changelog and one version commit per release, nothing is reverted,
/// and the index holds each version's two files once.
#[test]
fn two_clones_releasing_the_same_tag_at_once_converge() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let other = sandbox.clone_as("other");
    for (round, version) in ["v0.7.0", "v0.7.1", "v0.7.2"].iter().enumerate() {
        if round > 0 {
            git(
                &sandbox.work,
                &["pull", "-q", "--ff-only", "origin", "root"],
            );
            add_changelog_entry(&sandbox.work, &format!("🧹 Round {round}"));
            sandbox.commit_and_push(&format!("Entry for round {round}"));
        }
        sandbox.plain_tag(version);
        let barrier = Arc::new(Barrier::new(2));
        let runs: Vec<_> = [sandbox.work.clone(), other.clone()]
            .into_iter()
            .map(|dir| {
                let barrier = barrier.clone();
                let cmd = release(&dir, &index, version);
                std::thread::spawn(move || {
                    barrier.wait();
                    output(cmd)
                })
            })
            .collect();
        let outs: Vec<Output> = runs
            .into_iter()
            .map(|r| r.join().expect("a release thread"))
            .collect();
        for out in &outs {
            assert!(out.status.success(), "{version}: {}", text(out));
        }
        let subjects = git(
            &sandbox.remote,
            &["log", "--format=%s", &format!("{version}..root")],
        );
        assert!(!subjects.contains("Revert"), "{subjects}");
        for subject in [
            format!("Release {version}: changelog"),
            format!("Release {version}: version"),
        ] {
            assert_eq!(
                subjects.lines().filter(|l| l.starts_with(&subject)).count(),
                1,
                "{subjects}"
            );
        }
        let v = &version[1..];
        assert_eq!(
            index
                .files()
                .iter()
                .filter(|f| f.contains(&format!("-{v}")))
                .count(),
            2,
            "{:?}",
            index.files()
        );
    }
}

/// The index lists uploads late (a CDN in front of it): verify waits its
/// bound, then exits 1 with "uploaded, not yet listed" and the command
/// that resumes; nothing is reverted (not by the run, not by `--step
/// revert`). The re-run, while the files are still hidden, gets "file
/// already exists" from the index, counts the files as present and
/// waits until they are listed with the tagged source's sha256.
#[test]
fn listing_lag_is_waited_for_and_never_reverted() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let lagging = Proxy::start(index.port, Fault::HideNewFiles(Duration::from_secs(15)));
    sandbox.plain_tag("v0.7.0");
    let run = |timeout: &str, args: &[&str]| {
        let mut all = vec!["release", "v0.7.0"];
        all.extend_from_slice(args);
        let mut cmd = with_index(sandbox.xtask(&all), &index, PASSWORD);
        cmd.env("XTASK_INDEX_URL", lagging.simple_url())
            .env("XTASK_VERIFY_TIMEOUT", timeout);
        output(cmd)
    };
    says(
        &run("1s", &[]),
        1,
        &["uploaded, not yet listed", "cargo xtask release v0.7.0"],
    );
    assert_eq!(index.files().len(), 2);
    assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("\n## v0.7.0\n"));
    says(&run("1s", &["--step", "revert"]), 1, &["not reverting"]);

    let all = says(&run("40", &[]), 0, &["released v0.7.0"]);
    assert!(all.contains("already had all 2 file(s)"), "{all}");
    let subjects = git(&sandbox.remote, &["log", "--format=%s", "root"]);
    assert!(!subjects.contains("Revert"), "{subjects}");
    assert_eq!(
        subjects
            .lines()
            .filter(|l| l.starts_with("Release v0.7.0"))
            .count(),
        2,
        "{subjects}"
    );
}

/// The first clone's upload is accepted but not listed yet (exit 1); a
/// second clone resumes and fails before any upload of its own (refused
/// credentials). The version is published, so the second run must not
/// revert the heading: its release commits were made by the earlier run,
/// whose files the index may list late.
#[test]
fn a_resume_from_another_clone_never_reverts_an_upload_listed_late() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let lagging = Proxy::start(index.port, Fault::HideNewFiles(Duration::from_secs(600)));
    sandbox.plain_tag("v0.7.0");
    let run = |dir: &Path, password: &str| {
        let mut cmd = with_index(xtask_in(dir, &["release", "v0.7.0"]), &index, password);
        cmd.env("XTASK_INDEX_URL", lagging.simple_url())
            .env("XTASK_VERIFY_TIMEOUT", "1s");
        output(cmd)
    };
    says(
        &run(&sandbox.work, PASSWORD),
        1,
        &["uploaded, not yet listed"],
    );
    assert_eq!(index.files().len(), 2);
    let other = sandbox.clone_as("other");
    let all = says(
        &run(&other, "wrong-password-123"),
        1,
        &["not reverted", "cargo xtask release v0.7.0"],
    );
    assert!(!all.contains("wrong-password-123"), "{all}");
    assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("\n## v0.7.0\n"));
    let subjects = git(&sandbox.remote, &["log", "--format=%s", "root"]);
    assert!(!subjects.contains("Revert"), "{subjects}");
}

/// The connection drops after the first file reached the index: the
/// version is published, so the run exits 1 without reverting and names
/// the command that resumes; the re-run uploads the missing file.
#[test]
fn a_connection_dropped_after_the_first_upload_is_resumed_not_reverted() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let dropping = Proxy::start(index.port, Fault::DropSecondUpload);
    sandbox.plain_tag("v0.7.0");
    let run = || {
        let mut cmd = with_index(sandbox.xtask(&["release", "v0.7.0"]), &index, PASSWORD);
        cmd.env("TWINE_REPOSITORY_URL", dropping.url())
            .env("XTASK_INDEX_URL", index.simple_url());
        output(cmd)
    };
    says(
        &run(),
        1,
        &["not reverted", "resume with `cargo xtask release v0.7.0`"],
    );
    assert_eq!(index.files().len(), 1);
    assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("\n## v0.7.0\n"));
    says(&run(), 0, &["uploaded 1 file(s)"]);
    assert_eq!(index.files().len(), 2);
    let subjects = git(&sandbox.remote, &["log", "--format=%s", "root"]);
    assert!(!subjects.contains("Revert"), "{subjects}");
}

/// The same with a password that is also ordinary text (the version
/// itself): redacting it from twine's report must not hide which file was
/// delivered, so the run still knows the version is published.
#[test]
fn a_password_equal_to_the_version_does_not_hide_an_upload() {
    let sandbox = Sandbox::new();
    let password = "0.7.0";
    let index = Index::start_with_password(password);
    let dropping = Proxy::start(index.port, Fault::DropSecondUpload);
    sandbox.plain_tag("v0.7.0");
    let mut cmd = with_index(sandbox.xtask(&["release", "v0.7.0"]), &index, password);
    cmd.env("TWINE_REPOSITORY_URL", dropping.url());
    says(
        &output(cmd),
        1,
        &["not reverted", "resume with `cargo xtask release v***`"],
    );
    assert_eq!(index.files().len(), 1);
    assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("\n## v0.7.0\n"));
}

/// After the tag (the GitHub flow), a `pyproject.toml` change lands on
/// root: refused before any change, by content. Undone (the file equals the
/// tagged one again, though its path changed twice), and with a pull
/// request's changelog entry landed meanwhile, the release goes ahead: the
/// entry stays under `## Recent Changes`, and neither the metadata change
/// nor the entry is in what was published.
#[test]
fn changes_after_the_tag_are_refused_or_kept_out_of_the_release() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let py = sandbox.work.join("pyproject.toml");
    let tagged_py = fs::read_to_string(&py).expect("read");
    fs::write(
        &py,
        tagged_py.replace("dependencies = []", "dependencies = [\"attrs>=23\"]"),
    )
    .expect("write");
    sandbox.commit_and_push("Add a dependency");
    let before = snapshot(&sandbox, &index);
    says(
        &output(release(&sandbox.work, &index, "v0.7.0")),
        2,
        &["pyproject.toml:", "beyond the version", "attrs"],
    );
    assert_eq!(snapshot(&sandbox, &index), before);

    git(&sandbox.work, &["revert", "--no-edit", "HEAD"]);
    add_changelog_entry(
        &sandbox.work,
        "🧹 Merged during the release ([#77](https://x/77))",
    );
    sandbox.commit_and_push("Late entry");
    says(
        &output(release(&sandbox.work, &index, "v0.7.0")),
        0,
        &["released v0.7.0"],
    );
    let changelog = remote_file(&sandbox, "root", "CHANGELOG.md");
    let (recent, released) = changelog.split_once("\n## v0.7.0\n").expect("heading");
    assert!(
        recent.contains("## Recent Changes") && recent.contains("#77"),
        "{changelog}"
    );
    assert!(!released.contains("#77"), "{changelog}");
    assert!(released.contains("cargo xtask release"), "{changelog}");
    let sdist = index.packages.join("mindoff_dataport-0.7.0.tar.gz");
    let member = |name: &str| run_ok(Command::new("tar").args(["-xzOf", path_str(&sdist), name]));
    let shipped = member("mindoff_dataport-0.7.0/CHANGELOG.md");
    assert!(
        shipped.contains("## v0.7.0") && !shipped.contains("#77"),
        "{shipped}"
    );
    let metadata = member("mindoff_dataport-0.7.0/PKG-INFO");
    assert!(!metadata.contains("attrs"), "{metadata}");
}

/// Versions known elsewhere: with 0.8.0 already on the index, neither
/// `tag` nor `release` accepts 0.7.x (next: v0.8.1). A tag deleted after
/// its release and re-created on other code is not "already released":
/// the index has other files, so it is refused and the next patch named;
/// `tag` refuses the spent version too.
#[test]
fn versions_on_the_index_are_never_released_again() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let newer = index.packages.join("mindoff_dataport-0.8.0.tar.gz");
    fs::write(&newer, b"published elsewhere").expect("write");
    let before = snapshot(&sandbox, &index);
    for args in [&["release", "v0.7.0"][..], &["tag", "v0.7.1"]] {
        let out = output(with_index(sandbox.xtask(args), &index, PASSWORD));
        says(&out, 2, &["0.8.0 is on the package index", "v0.8.1"]);
    }
    assert_eq!(snapshot(&sandbox, &index), before);
    fs::remove_file(&newer).expect("remove");

    says(
        &output(release(&sandbox.work, &index, "v0.7.0")),
        0,
        &["released v0.7.0"],
    );
    // Re-create the tag on other code.
    git(&sandbox.work, &["tag", "-d", "v0.7.0"]);
    git(
        &sandbox.work,
        &["push", "-q", "origin", ":refs/tags/v0.7.0"],
    );
    fs::write(
        sandbox.work.join("src/mindoff_dataport/fix.py"),
        "FIX = 1\n",
    )
    .expect("write");
    sandbox.commit_and_push("A fix");
    sandbox.plain_tag("v0.7.0");
    let before = snapshot(&sandbox, &index);
    says(
        &output(release(&sandbox.work, &index, "v0.7.0")),
        2,
        &["released", "v0.7.1"],
    );
    git(&sandbox.work, &["tag", "-d", "v0.7.0"]);
    git(
        &sandbox.work,
        &["push", "-q", "origin", ":refs/tags/v0.7.0"],
    );
    let after_delete = snapshot(&sandbox, &index);
    let out = output(with_index(
        sandbox.xtask(&["tag", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    says(&out, 2, &["v0.7.1"]);
    assert_eq!(snapshot(&sandbox, &index), after_delete);
    assert_ne!(before, after_delete);
}

/// A repository with no tags at all: the changelog's released headings
/// still order releases. Older or already-released versions are refused by
/// `tag` and `release`, each naming the next patch; a new one is tagged.
#[test]
fn a_repository_without_tags_still_refuses_old_versions() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    assert!(git(&sandbox.work, &["tag", "--list"]).is_empty());
    for (args, needle) in [
        (&["tag", "v0.5.1"][..], "v0.6.0 is a released heading"),
        (&["tag", "v0.6.0"], "released before"),
    ] {
        let before = snapshot(&sandbox, &index);
        let out = output(with_index(sandbox.xtask(args), &index, PASSWORD));
        says(&out, 2, &[needle, "v0.6.1"]);
        assert_eq!(snapshot(&sandbox, &index), before, "{args:?}");
    }
    for version in ["v0.5.1", "v0.6.0"] {
        sandbox.plain_tag(version);
        let before = snapshot(&sandbox, &index);
        says(
            &output(release(&sandbox.work, &index, version)),
            2,
            &["v0.6.1"],
        );
        assert_eq!(snapshot(&sandbox, &index), before, "{version}");
        git(&sandbox.work, &["tag", "-d", version]);
        git(
            &sandbox.work,
            &["push", "-q", "origin", &format!(":refs/tags/{version}")],
        );
    }
    let out = output(with_index(
        sandbox.xtask(&["tag", "v0.6.1"]),
        &index,
        PASSWORD,
    ));
    says(&out, 0, &["tagged v0.6.1"]);
    assert!(remote_file(&sandbox, "v0.6.1", "pyproject.toml").contains("version = \"0.6.1\""));
}

/// Credentials written in TWINE_REPOSITORY_URL reach twine by environment
/// only: never in any argument list (every Python process's argv is
/// logged through a wrapper interpreter) and never in any output.
#[test]
fn credentials_in_the_index_url_stay_out_of_argv_and_output() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    // A tools directory whose python logs its arguments, then runs the real one.
    let tools = harness::TempDir::new("argv-tools");
    let bin = tools.path().join("venv/bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let real = harness::tools_dir().join("venv");
    fs::copy(
        real.join("xtask-installed.lock"),
        tools.path().join("venv/xtask-installed.lock"),
    )
    .expect("copy the install stamp");
    let log = tools.path().join("argv.log");
    let wrapper = bin.join("python");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            path_str(&log),
            path_str(&real.join("bin/python"))
        ),
    )
    .expect("write wrapper");
    run_ok(Command::new("chmod").args(["+x", path_str(&wrapper)]));

    let url = |password: &str| format!("http://{USER}:{password}@127.0.0.1:{}/", index.port);
    let run = |password: &str| {
        let mut cmd = sandbox.xtask(&["release", "v0.7.0"]);
        cmd.env("XTASK_TOOLS_DIR", tools.path())
            .env("TWINE_REPOSITORY_URL", url(password))
            // The simple index is derived from that URL, credentials stripped.
            .env_remove("XTASK_INDEX_URL")
            .env("XTASK_VERIFY_TIMEOUT", "20");
        output(cmd)
    };
    let wrong = "wrong-url-password-9";
    let all = says(&run(wrong), 1, &["refused the credentials"]);
    assert!(!all.contains(wrong), "{all}");
    let all = says(&run(PASSWORD), 0, &["released v0.7.0"]);
    assert!(
        !all.contains(PASSWORD) && !all.contains("::add-mask::"),
        "{all}"
    );
    let argv = fs::read_to_string(&log).expect("argv log");
    assert!(argv.contains("twine"), "{argv}");
    assert!(!argv.contains(PASSWORD) && !argv.contains(wrong), "{argv}");
    assert!(!argv.contains(&format!("{USER}:")), "{argv}");
    assert_eq!(index.files().len(), 2);
}

/// The index refuses (403) or fails (500, which twine retries) every
/// upload with a page echoing the request's headers: the `Authorization:
/// Basic` value (base64 of `user:password`) is not printed, and a file
/// twine retried is not taken for a file delivered: nothing reached the
/// index, so the changelog heading is reverted.
#[test]
fn an_index_echoing_the_upload_headers_shows_no_credentials() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    sandbox.plain_tag("v0.7.0");
    let password = "p@ss:w/rd%20#?&-\u{e9}t\u{e9}";
    let basic = {
        // base64 of `uploader:password`, as twine sends it (Latin-1).
        let mut cmd = Command::new(harness::tools().join("python"));
        cmd.args([
            "-c",
            "import base64, os\nprint(base64.b64encode(os.environ['P'].encode('latin-1')).decode())",
        ])
        .env("P", format!("{USER}:{password}"));
        run_ok(&mut cmd).trim().to_string()
    };
    for (status, needle) in [(403, "refused the credentials"), (500, "500")] {
        let echo = Proxy::start(index.port, Fault::EchoUploads(status));
        let mut cmd = with_index(sandbox.xtask(&["release", "v0.7.0"]), &index, password);
        cmd.env("TWINE_REPOSITORY_URL", echo.url());
        let all = says(&output(cmd), 1, &[needle, "Authorization: Basic ***"]);
        assert!(!all.contains(&basic) && !all.contains(password), "{all}");
        assert!(!all.contains("not reverted"), "{all}");
        assert!(index.files().is_empty());
        assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("## Recent Changes"));
    }
}

/// A shallow clone (`git clone --depth 1`, actions/checkout's default)
/// lacks the history between the tag and `root`: every command that reads
/// it refuses, naming the fix, instead of a wrong answer ("released
/// before", "not on root", "not pushed"), and changes nothing. Once
/// unshallowed, the same clone releases.
#[test]
fn a_shallow_clone_is_refused_with_the_fix_then_releases_once_deepened() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let out = output(with_index(
        sandbox.xtask(&["tag", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    says(&out, 0, &["tagged v0.7.0"]);
    add_changelog_entry(&sandbox.work, "after the tag");
    sandbox.commit_and_push("An entry after the tag");
    let shallow = sandbox.dir.path().join("shallow");
    let url = format!("file://{}", path_str(&sandbox.remote));
    git(
        sandbox.dir.path(),
        &["clone", "-q", "--depth", "1", &url, path_str(&shallow)],
    );
    let refs = |dir: &Path| {
        format!(
            "{}\n{}\n{}",
            git(dir, &["for-each-ref"]),
            git(dir, &["status", "--porcelain", "--ignored"]),
            git(&sandbox.remote, &["for-each-ref"])
        )
    };
    for args in [
        &["release", "v0.7.0"][..],
        &["release", "v0.7.0", "--dry-run"],
        &["status"],
        &["tag", "v0.7.1", "--dry-run"],
        &["docs-deploy", "v0.7.0", "--dry-run"],
    ] {
        let before = refs(&shallow);
        let out = output(with_index(xtask_in(&shallow, args), &index, PASSWORD));
        let all = says(
            &out,
            2,
            &["shallow", "git fetch --unshallow", "fetch-depth: 0"],
        );
        assert!(!all.contains("released before"), "{args:?}: {all}");
        assert_eq!(refs(&shallow), before, "{args:?}");
    }
    git(
        &shallow,
        &["fetch", "-q", "--unshallow", "--tags", "origin"],
    );
    let out = output(release(&shallow, &index, "v0.7.0"));
    says(&out, 0, &["released v0.7.0"]);
    assert_eq!(index.files().len(), 2, "{:?}", index.files());
}

/// The remote's root force-pushed back past a finished release: status
/// advises `--step changelog` and `--step version`. The version step used
/// to find the release commit through the tag (no longer on root), say
/// "already released" and leave pyproject.toml behind, so status never
/// converged; both steps now put the edits back on root.
#[test]
fn a_root_rewound_past_the_release_gets_the_release_edits_again() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    run_ok(&mut with_index(
        sandbox.xtask(&["tag", "v0.7.0"]),
        &index,
        PASSWORD,
    ));
    run_ok(&mut release(&sandbox.work, &index, "v0.7.0"));
    git(
        &sandbox.work,
        &["push", "-q", "-f", "origin", "HEAD~1:root"],
    );
    git(&sandbox.work, &["reset", "-q", "--hard", "origin/root"]);
    for step in ["changelog", "version"] {
        run_ok(release(&sandbox.work, &index, "v0.7.0").args(["--step", step]));
    }
    assert!(remote_file(&sandbox, "root", "CHANGELOG.md").contains("## v0.7.0"));
    assert!(remote_file(&sandbox, "root", "pyproject.toml").contains("version = \"0.7.0\""));
    // Re-running them is a no-op: nothing more on root.
    let head = git(&sandbox.remote, &["rev-parse", "root"]);
    for step in ["changelog", "version"] {
        run_ok(release(&sandbox.work, &index, "v0.7.0").args(["--step", step]));
    }
    assert_eq!(git(&sandbox.remote, &["rev-parse", "root"]), head);
}
