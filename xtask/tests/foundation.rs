//! The foundation: the command line, the managed tools, the package they
//! build and publish, and the docs site.

mod harness;

use std::fs;
use std::process::Command;

use harness::{output, run_ok, text, Index, Sandbox, PASSWORD, XTASK};

#[test]
fn help_lists_commands_and_bad_usage_exits_2() {
    let out = Command::new(XTASK).arg("--help").output().expect("xtask");
    assert!(out.status.success(), "{}", text(&out));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("tools"), "{help}");

    for args in [
        &["frobnicate"][..],
        &["tools", "--no-such-flag"],
        &["tools", "extra"],
    ] {
        let out = Command::new(XTASK).args(args).output().expect("xtask");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("usage: cargo xtask"), "{args:?}: {err}");
    }
}

#[test]
fn tools_reports_every_pinned_tool() {
    let sandbox = Sandbox::new();
    let out = run_ok(&mut sandbox.xtask(&["tools"]));
    let groups = [
        ("release", &["build", "twine", "hatchling"][..]),
        ("docs", &["mkdocs", "mkdocs-material", "mike"]),
        ("test", &["pypiserver", "passlib", "zizmor", "pip"]),
    ];
    for (group, tools) in groups {
        let lock = fs::read_to_string(harness::project_root().join(format!("tools/{group}.lock")))
            .expect("reading the lock");
        for tool in tools {
            let line = out
                .lines()
                .find(|l| l.split_whitespace().next() == Some(*tool))
                .unwrap_or_else(|| panic!("{tool} missing from:\n{out}"));
            let version = line.split_whitespace().nth(1).unwrap_or_default();
            assert!(
                lock.contains(&format!("\n{tool}=={version} ")),
                "{tool} {version} is not the version in tools/{group}.lock"
            );
        }
    }
    let out = output(sandbox.xtask(&["tools", "--group", "everything"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected release, docs or test"),
        "{}",
        text(&out)
    );
}

/// One group alone, in a clone whose `.gitignore` ignores nothing, into
/// the default tools directory under cargo's `target/` and into one the
/// caller names inside the clone: the working tree stays clean, so the
/// release's "working tree is clean" check still passes.
#[test]
fn the_tools_directory_never_dirties_the_working_tree() {
    let sandbox = Sandbox::new();
    fs::write(sandbox.work.join(".gitignore"), "").expect("emptying .gitignore");
    sandbox.commit_and_push("Ignore nothing");
    for tools_dir in [None, Some(sandbox.work.join(".tools"))] {
        let mut cmd = sandbox.xtask(&["tools", "--group", "release"]);
        match &tools_dir {
            Some(dir) => cmd.env("XTASK_TOOLS_DIR", dir),
            None => cmd.env_remove("XTASK_TOOLS_DIR"),
        };
        let out = output(cmd);
        assert!(out.status.success(), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("twine"), "{stdout}");
        assert!(
            !stdout.contains("mkdocs"),
            "only the release group: {stdout}"
        );
        let status = harness::git(&sandbox.work, &["status", "--porcelain", "--ignored=no"]);
        assert_eq!(status, "", "{tools_dir:?} dirtied the working tree");
    }
    assert!(sandbox
        .work
        .join("target/xtask-tools/release/bin/twine")
        .is_file());
}

/// `cargo xtask test` where it cannot install what the tests need (no
/// browser, driver, Node.js or Python on PATH; not Debian, or no apt-get):
/// one line naming what to install, exit 1, before anything else runs.
#[test]
fn the_test_command_stops_first_with_one_line_when_it_cannot_install() {
    let dir = harness::TempDir::new("fresh-machine");
    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).expect("bin dir");
    let git = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .expect("git on PATH");
    std::os::unix::fs::symlink(git, bin.join("git")).expect("linking git");
    let tools = dir.path().join("tools");
    for (os, wanted) in [
        ("ID=fedora\n", "on Debian/Ubuntu: apt-get install chromium chromium-driver nodejs npm python3 python3-venv"),
        ("ID=debian\n", "apt-get install chromium chromium-driver nodejs npm python3 python3-venv"),
    ] {
        let os_release = dir.path().join("os-release");
        fs::write(&os_release, os).expect("os-release");
        let out = Command::new(XTASK)
            .arg("test")
            .current_dir(harness::project_root())
            .env_clear()
            .env("PATH", &bin)
            .env("HOME", dir.path())
            .env("XTASK_OS_RELEASE", &os_release)
            .env("XTASK_TOOLS_DIR", &tools)
            .env("RUST_BACKTRACE", "1")
            .output()
            .expect("running xtask test");
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(out.stdout.is_empty(), "nothing may run first: {all}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {all}");
        assert!(stderr.contains("Chromium, chromedriver, Node.js, npm, Python"), "{all}");
        assert!(stderr.contains(wanted), "{all}");
        assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{all}");
        assert!(!tools.exists(), "the tools were installed before stopping");
    }
}

/// Build with the managed tools, upload with credentials passed by
/// environment, install back from the index and import it.
#[test]
fn package_builds_uploads_and_installs_from_the_index() {
    let bin = harness::tools();
    let sandbox = Sandbox::new();
    let index = Index::start();
    let dist = sandbox.dir.path().join("dist");
    run_ok(
        Command::new(bin.join("python"))
            .args(["-m", "build", "--no-isolation", "--outdir"])
            .arg(&dist)
            .current_dir(&sandbox.work),
    );
    let mut files: Vec<_> = fs::read_dir(&dist)
        .expect("dist")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    run_ok(
        Command::new(bin.join("python"))
            .args(["-m", "twine", "check", "--strict"])
            .args(&files),
    );
    let out = harness::twine_upload(&index, &files, PASSWORD);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        index.files(),
        vec![
            "mindoff_dataport-0.6.0-py3-none-any.whl".to_string(),
            "mindoff_dataport-0.6.0.tar.gz".to_string()
        ]
    );

    let (_consumer, python) = harness::install_from_index(&index, "mindoff-dataport==0.6.0");
    let version = run_ok(Command::new(&python).args([
        "-c",
        "import mindoff_dataport as m\n\
t = m.Table.from_records([{'a': 1}, {'a': None, 'b': 2}])\n\
assert m.to_csv(t) == 'a,b\\n1,\\n,2\\n', m.to_csv(t)\n\
print(m.__version__)",
    ]));
    assert_eq!(version, "0.6.0");
}

#[test]
fn upload_with_a_wrong_password_is_refused_without_a_traceback() {
    let bin = harness::tools();
    let sandbox = Sandbox::new();
    let index = Index::start();
    let dist = sandbox.dir.path().join("dist");
    run_ok(
        Command::new(bin.join("python"))
            .args(["-m", "build", "--no-isolation", "--wheel", "--outdir"])
            .arg(&dist)
            .current_dir(&sandbox.work),
    );
    let wheel = dist.join("mindoff_dataport-0.6.0-py3-none-any.whl");
    let out = harness::twine_upload(&index, &[wheel], "not-the-password");
    assert!(!out.status.success(), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("403"), "{all}");
    assert!(!all.contains("Traceback"), "{all}");
    assert!(!all.contains("not-the-password"), "{all}");
    assert!(index.files().is_empty());
}

#[test]
fn docs_build_strictly_with_release_notes_from_the_changelog() {
    let bin = harness::tools();
    let sandbox = Sandbox::new();
    let site = sandbox.dir.path().join("site");
    run_ok(
        Command::new(bin.join("mkdocs"))
            .args(["build", "--strict", "--site-dir"])
            .arg(&site)
            .current_dir(&sandbox.work),
    );
    let notes = fs::read_to_string(site.join("release-notes/index.html")).expect("notes page");
    let changelog = fs::read_to_string(sandbox.work.join("CHANGELOG.md")).expect("changelog");
    for heading in changelog.lines().filter_map(|l| l.strip_prefix("## ")) {
        assert!(notes.contains(heading), "release notes lack `{heading}`");
    }
    for page in [
        "index.html",
        "installation/index.html",
        "deployment-and-versioning/index.html",
    ] {
        assert!(site.join(page).is_file(), "{page} missing");
    }
}
