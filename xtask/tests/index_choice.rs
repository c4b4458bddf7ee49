//! The index and credentials chosen as twine users choose them: a real
//! `~/.pypirc` (HOME pointed at a temporary directory), `--repository` and
//! `TWINE_REPOSITORY`, the real `keyring` library with a file backend, and
//! an upload endpoint that accepts and never answers. Real git, real
//! pypiserver on loopback; the password shows in no output.

mod harness;

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use harness::{git, output, project_root, refs, text, Index, Sandbox, TempDir, PASSWORD, USER};

/// The xtask with HOME at `home` and no index in the environment: the
/// index comes from the config file alone.
fn from_home(mut cmd: Command, home: &Path) -> Command {
    cmd.env("HOME", home)
        .env_remove("TWINE_REPOSITORY_URL")
        .env_remove("XTASK_INDEX_URL")
        .env("XTASK_VERIFY_TIMEOUT", "20");
    cmd
}

/// `~/.pypirc` with the local index as the section `sandbox`, its
/// password in the file unless `with_password` is false.
fn pypirc(home: &Path, index: &Index, with_password: bool) {
    let password = if with_password {
        format!("password = {PASSWORD}\n")
    } else {
        String::new()
    };
    fs::write(
        home.join(".pypirc"),
        format!(
            "[distutils]\nindex-servers =\n    pypi\n    sandbox\n\n[sandbox]\nrepository = {}\nusername = {USER}\n{password}",
            index.url()
        ),
    )
    .expect("write .pypirc");
}

/// `harness::says`, and the password never shows.
fn says(out: &Output, code: i32, needles: &[&str]) {
    let all = harness::says(out, code, needles);
    assert!(!all.contains(PASSWORD), "the password leaked:\n{all}");
}

#[test]
fn a_pypirc_section_is_chosen_by_flag_or_by_twine_repository() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let home = TempDir::new("home");
    pypirc(home.path(), &index, true);
    let run = |args: &[&str]| output(from_home(sandbox.xtask(args), home.path()));
    let source = format!(
        "sandbox from ~/.pypirc ({}), password from ~/.pypirc",
        index.url()
    );
    says(
        &run(&["tag", "v0.7.0", "--repository", "sandbox"]),
        0,
        &[&source],
    );
    says(
        &run(&["release", "v0.7.0", "--repository", "sandbox", "--dry-run"]),
        0,
        &[&source],
    );
    says(
        &run(&["release", "v0.7.0", "--repository", "sandbox"]),
        0,
        &[],
    );
    assert_eq!(index.files().len(), 2);

    // TWINE_REPOSITORY chooses the same section; status reads that index,
    // not twine's default one.
    let mut status = from_home(sandbox.xtask(&["status", "--json"]), home.path());
    status.env("TWINE_REPOSITORY", "sandbox");
    let out = output(status);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        report["index_versions"],
        serde_json::json!(["0.7.0"]),
        "{}",
        text(&out)
    );
    assert!(
        report["index_source"]
            .as_str()
            .is_some_and(|s| s.starts_with(&source)),
        "{}",
        text(&out)
    );
    // The flag wins over the variable, as in twine.
    let mut other = from_home(
        sandbox.xtask(&["status", "--repository", "nowhere"]),
        home.path(),
    );
    other.env("TWINE_REPOSITORY", "sandbox");
    says(&output(other), 2, &["there is no repository `nowhere`"]);
}

#[test]
fn an_unknown_section_is_bad_input_naming_the_sections_and_changes_nothing() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let home = TempDir::new("home");
    pypirc(home.path(), &index, true);
    let before = refs(&sandbox);
    for args in [
        &["tag", "v0.7.0", "--repository", "sandbx"][..],
        &["release", "v0.7.0", "--repository", "sandbx"],
        &["preflight", "--repository", "sandbx"],
        &["status", "--repository", "sandbx"],
        &[
            "release-rollback",
            "v0.7.0",
            "--repository",
            "sandbx",
            "--yes",
        ],
    ] {
        says(
            &output(from_home(sandbox.xtask(args), home.path())),
            2,
            &["there is no repository `sandbx` in ~/.pypirc; it has: pypi, sandbox"],
        );
    }
    // A config file named explicitly must exist.
    says(
        &output(from_home(
            sandbox.xtask(&["status", "--config-file", "/nonexistent/pypirc"]),
            home.path(),
        )),
        2,
        &["/nonexistent/pypirc cannot be read"],
    );
    assert_eq!(refs(&sandbox), before);
    assert!(index.files().is_empty());
}

/// The password lives in the keyring (the real `keyring` library, with a
/// file backend): status names the source, twine reads it for the upload,
/// and a private index is read with it.
#[test]
fn a_password_in_the_keyring_is_used_and_never_shown() {
    let sandbox = Sandbox::new();
    let index = Index::start_private();
    let home = TempDir::new("home");
    pypirc(home.path(), &index, false);
    let keyring_file = home.path().join("keyring.json");
    fs::write(
        &keyring_file,
        serde_json::json!({ index.url(): { USER: PASSWORD } }).to_string(),
    )
    .expect("keyring file");
    let backend = project_root().join("xtask/tests/fixtures/keyring");
    let run = |args: &[&str]| {
        let mut cmd = from_home(sandbox.xtask(args), home.path());
        cmd.env("PYTHON_KEYRING_BACKEND", "xtask_test_keyring.FileKeyring")
            .env("PYTHONPATH", &backend)
            .env("XTASK_TEST_KEYRING_FILE", &keyring_file)
            .env("TWINE_REPOSITORY", "sandbox");
        output(cmd)
    };
    says(&run(&["status"]), 0, &["password from the keyring"]);
    says(&run(&["tag", "v0.7.0"]), 0, &["password from the keyring"]);
    says(&run(&["release", "v0.7.0"]), 0, &[]);
    assert_eq!(index.files().len(), 2);
    // Without the keyring's password there are no credentials at all, and
    // the private index cannot be read.
    fs::write(&keyring_file, "{}").expect("empty keyring");
    says(
        &run(&["status"]),
        1,
        &["no upload credentials", "the package index answered 401"],
    );
}

/// An upload endpoint that accepts the connection and never answers: the
/// upload ends at its limit with exit 1, the version counts as published
/// (never reverted), and a re-run against a working index converges.
#[test]
fn an_upload_that_never_answers_times_out_and_a_rerun_converges() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}/", silent.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().flatten() {
            let mut conn = conn;
            let mut buf = [0u8; 1024];
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            let _ = conn.read(&mut buf);
            held.push(conn);
        }
    });
    let release = |upload_url: &str, extra: &[&str]| {
        let mut args = vec!["release", "v0.7.0"];
        args.extend(extra);
        let mut cmd = sandbox.xtask(&args);
        cmd.env("TWINE_REPOSITORY_URL", upload_url)
            .env("XTASK_INDEX_URL", index.simple_url())
            .env("TWINE_USERNAME", USER)
            .env("TWINE_PASSWORD", PASSWORD)
            .env("XTASK_VERIFY_TIMEOUT", "20");
        output(cmd)
    };
    let mut tag = sandbox.xtask(&["tag", "v0.7.0"]);
    tag.env("XTASK_INDEX_URL", index.simple_url());
    says(&output(tag), 0, &[]);
    let started = std::time::Instant::now();
    says(
        &release(&silent_url, &["--upload-timeout", "3"]),
        1,
        &[
            "the upload timed out after 3 s",
            "nothing is known about the files",
            "never reverted",
        ],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
    // The release commit stands: a timed-out upload is never reverted.
    let log = git(&sandbox.remote, &["show", "root:CHANGELOG.md"]);
    assert!(log.contains("## v0.7.0"), "{log}");
    // The same limit from the environment, and a malformed one refused.
    let mut bad = sandbox.xtask(&["release", "v0.7.0"]);
    bad.env("XTASK_UPLOAD_TIMEOUT", "soon");
    says(&output(bad), 2, &["expected a number of seconds"]);
    says(&release(&index.url(), &[]), 0, &[]);
    assert_eq!(index.files().len(), 2);
}

/// A loopback server that accepts connections and never answers; the
/// number of connections it took so far.
fn silent_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", silent.local_addr().expect("addr"));
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = taken.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().flatten() {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(conn);
        }
    });
    (url, taken)
}

/// Two processes on one tools directory: a release whose twine upload is
/// running keeps its environment; `tools --reinstall` of that group waits
/// until the release has ended, then replaces it.
#[test]
fn a_reinstall_waits_for_the_command_that_uses_the_tools() {
    let sandbox = Sandbox::new();
    let index = Index::start();
    let tools = TempDir::new("tools");
    let (silent_url, taken) = silent_server();
    let in_tools = |args: &[&str]| {
        let mut cmd = sandbox.xtask(args);
        cmd.env("XTASK_TOOLS_DIR", tools.path())
            .env("XTASK_INDEX_URL", index.simple_url());
        cmd
    };
    says(&output(in_tools(&["tools", "--group", "release"])), 0, &[]);
    says(&output(in_tools(&["tag", "v0.7.0"])), 0, &[]);
    let mut release = in_tools(&["release", "v0.7.0", "--upload-timeout", "8"]);
    release
        .env("TWINE_REPOSITORY_URL", &silent_url)
        .env("TWINE_USERNAME", USER)
        .env("TWINE_PASSWORD", PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let running = release.spawn().expect("release");
    // Wait until twine is uploading (the silent server took a connection).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while taken.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "twine never connected"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let waiter = std::thread::spawn(move || {
        let out = running.wait_with_output().expect("release ends");
        (out, std::time::Instant::now())
    });
    let reinstall = output(in_tools(&["tools", "--reinstall", "--group", "release"]));
    let reinstalled_at = std::time::Instant::now();
    let (released, released_at) = waiter.join().expect("the waiting thread");
    // twine ran to its limit with its environment in place.
    says(&released, 1, &["the upload timed out after 8 s"]);
    assert!(
        !text(&released).contains("No module named"),
        "{}",
        text(&released)
    );
    says(
        &reinstall,
        0,
        &[
            "waiting for the commands that use",
            "release group installed",
        ],
    );
    // The reinstall ended after the release (it waited for it).
    assert!(reinstalled_at > released_at);
}
