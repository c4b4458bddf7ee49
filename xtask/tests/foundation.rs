//! The foundation: the command line, the managed tools, the package they
//! build and publish, and the docs site.

mod harness;

use std::fs;
use std::process::Command;

use harness::{run_ok, text, Index, Sandbox, PASSWORD, XTASK};

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
    let lock = fs::read_to_string(harness::project_root().join("tools/requirements.lock"))
        .expect("reading the lock");
    for tool in [
        "build",
        "twine",
        "hatchling",
        "mkdocs",
        "mkdocs-material",
        "mike",
        "pypiserver",
    ] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(tool))
            .unwrap_or_else(|| panic!("{tool} missing from:\n{out}"));
        let version = line.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            lock.contains(&format!("\n{tool}=={version} ")),
            "{tool} {version} is not the locked version"
        );
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
