//! Integration-test harness: real components only.
//!
//! - `Sandbox`: a throwaway git repository made from the project's current
//!   files, whose `origin` is a local bare repository holding `root`.
//! - `Index`: a real pypiserver on 127.0.0.1 (ephemeral port, htpasswd
//!   upload auth, no fallback to a public index), stopped by PID on drop,
//!   which also runs while a failing test unwinds.
//! - `tools()`: the xtask's managed Python tools, installed once.
#![allow(dead_code)]

pub mod yaml;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use std::{env, fs};

pub const XTASK: &str = env!("CARGO_BIN_EXE_xtask");
pub const USER: &str = "uploader";
pub const PASSWORD: &str = "s3cret-upload-pw";

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent")
        .to_path_buf()
}

/// The managed tools' directory, shared by every test and the project.
pub fn tools_dir() -> PathBuf {
    match env::var("XTASK_TOOLS_DIR") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => project_root().join("target").join("xtask-tools"),
    }
}

/// Installs (or verifies) the managed tools once per test binary and
/// returns the environment's `bin/` directory.
pub fn tools() -> PathBuf {
    static DONE: OnceLock<PathBuf> = OnceLock::new();
    DONE.get_or_init(|| {
        let out = Command::new(XTASK)
            .arg("tools")
            .current_dir(project_root())
            .env("XTASK_TOOLS_DIR", tools_dir())
            .output()
            .expect("running xtask tools");
        assert!(out.status.success(), "xtask tools failed:\n{}", text(&out));
        tools_dir().join("venv").join("bin")
    })
    .clone()
}

pub fn text(out: &Output) -> String {
    format!(
        "--- status: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a command, panicking with its output when it fails.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    run_ok(
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "Test Maintainer")
            .env("GIT_AUTHOR_EMAIL", "maintainer@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test Maintainer")
            .env("GIT_COMMITTER_EMAIL", "maintainer@example.invalid"),
    )
}

/// A fresh, unique directory under cargo's per-target temporary directory,
/// removed on drop unless `XTASK_KEEP_SANDBOX` is set.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{label}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("creating a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if env::var_os("XTASK_KEEP_SANDBOX").is_none() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// A clone of the project (its current files, one commit on `root`) whose
/// `origin` is a local bare repository.
pub struct Sandbox {
    pub dir: TempDir,
    pub work: PathBuf,
    pub remote: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = TempDir::new("sandbox");
        let seed = dir.path().join("seed");
        let remote = dir.path().join("remote.git");
        let work = dir.path().join("work");
        copy_project_files(&seed);
        git(&seed, &["init", "-q", "-b", "root"]);
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "-q", "-m", "Initial import"]);
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "root", path_str(&remote)],
        );
        git(&seed, &["push", "-q", path_str(&remote), "root"]);
        git(
            dir.path(),
            &["clone", "-q", path_str(&remote), path_str(&work)],
        );
        for (key, value) in [
            ("user.name", "Test Maintainer"),
            ("user.email", "maintainer@example.invalid"),
        ] {
            git(&work, &["config", key, value]);
        }
        fs::remove_dir_all(&seed).expect("removing the seed checkout");
        Sandbox { dir, work, remote }
    }

    /// Commits every change in the clone and pushes `root` to the remote.
    pub fn commit_and_push(&self, message: &str) {
        git(&self.work, &["add", "-A"]);
        git(&self.work, &["commit", "-qm", message]);
        git(&self.work, &["push", "-q", "origin", "root"]);
    }

    /// The guide's flow: a plain annotated tag on `root`, pushed by hand.
    pub fn plain_tag(&self, tag: &str) {
        git(
            &self.work,
            &["tag", "-a", tag, "-m", &format!("Release {tag}")],
        );
        git(&self.work, &["push", "-q", "origin", tag]);
    }

    /// Puts a marker sentence on the docs home page, commits and pushes it.
    pub fn write_docs_page(&self, marker: &str) {
        let path = self.work.join("src/mindoff_dataport/docs/index.md");
        let page = fs::read_to_string(&path).expect("read page");
        let kept: String = page
            .lines()
            .filter(|l| !l.starts_with("Marker:"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(&path, format!("{kept}\nMarker: {marker}\n")).expect("write page");
        self.commit_and_push(&format!("Docs: {marker}"));
    }

    /// Runs the managed mike directly, as the old guide's commands did.
    pub fn raw_mike(&self, args: &[&str]) {
        let bin = tools();
        let path = format!("{}:{}", bin.display(), env::var("PATH").unwrap_or_default());
        run_ok(
            Command::new(bin.join("mike"))
                .args(args)
                .current_dir(&self.work)
                .env("PATH", path),
        );
    }

    /// The built xtask, run in the sandbox's clone with the shared tools.
    pub fn xtask(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(XTASK);
        cmd.args(args)
            .current_dir(&self.work)
            .env("XTASK_TOOLS_DIR", tools_dir())
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_EVENT_PATH")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_REPOSITORY")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            .env_remove("TWINE_USERNAME")
            .env_remove("TWINE_PASSWORD")
            .env_remove("TWINE_REPOSITORY")
            .env_remove("XTASK_CONFIG_FILE")
            .env_remove("XTASK_UPLOAD_TIMEOUT");
        no_index_beyond_loopback(&mut cmd);
        cmd
    }
}

/// Every xtask a test runs reads and uploads to 127.0.0.1 only: without an
/// index of its own (`with_index`), it gets a port nothing listens on, so a
/// test can never reach twine's default (public) index.
pub const NO_INDEX: &str = "http://127.0.0.1:9/";

fn no_index_beyond_loopback(cmd: &mut Command) {
    cmd.env("TWINE_REPOSITORY_URL", NO_INDEX)
        .env("XTASK_INDEX_URL", format!("{NO_INDEX}simple/"));
}

/// Runs a command to completion and returns its output.
pub fn output(mut cmd: Command) -> Output {
    cmd.output().expect("running xtask")
}

/// The xtask with the index configured by environment, as in CI.
pub fn with_index(mut cmd: Command, index: &Index, password: &str) -> Command {
    cmd.env("TWINE_REPOSITORY_URL", index.url())
        .env("XTASK_INDEX_URL", index.simple_url())
        .env("TWINE_USERNAME", USER)
        .env("TWINE_PASSWORD", password)
        .env("XTASK_VERIFY_TIMEOUT", "20");
    cmd
}

/// A free port on 127.0.0.1, asked of the kernel.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("finding a free port")
}

/// Copies the project's tracked and untracked-but-not-ignored files, so the
/// sandbox reflects the working tree under test.
fn copy_project_files(dest: &Path) {
    copy_project_paths(dest, &[], &[]);
}

/// Copies the project's tracked and untracked-but-not-ignored files under
/// `pathspecs` (all of them when empty), leaving out paths that start with
/// one of `skip`.
pub fn copy_project_paths(dest: &Path, pathspecs: &[&str], skip: &[&str]) {
    let root = project_root();
    let listing = run_ok(
        Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--",
            ])
            .args(pathspecs)
            .current_dir(&root),
    );
    for rel in listing.split('\0').filter(|p| !p.is_empty()) {
        let from = root.join(rel);
        if !from.is_file() || skip.iter().any(|s| rel.starts_with(s)) {
            continue; // deleted in the working tree, or left out
        }
        let to = dest.join(rel);
        fs::create_dir_all(to.parent().expect("a file has a parent")).expect("mkdir");
        fs::copy(&from, &to).unwrap_or_else(|e| panic!("copying {rel}: {e}"));
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// A real pypiserver on 127.0.0.1 with upload auth; killed by PID on drop.
pub struct Index {
    child: Child,
    pub port: u16,
    pub packages: PathBuf,
    _dir: TempDir,
}

impl Index {
    pub fn start() -> Index {
        Index::start_with_password(PASSWORD)
    }

    /// An index whose upload password is `password`.
    pub fn start_with_password(password: &str) -> Index {
        Index::start_configured(password, "update")
    }

    /// A private index: listing and downloading need the password too.
    pub fn start_private() -> Index {
        Index::start_configured(PASSWORD, "update,list,download")
    }

    fn start_configured(password: &str, authenticate: &str) -> Index {
        let bin = tools();
        let dir = TempDir::new("index");
        let packages = dir.path().join("packages");
        fs::create_dir_all(&packages).expect("mkdir packages");
        let htpasswd = dir.path().join("htpasswd");
        // The password reaches passlib by environment, never by argument.
        run_ok(
            Command::new(bin.join("python"))
                .args([
                    "-c",
                    "import os, sys\nfrom passlib.apache import HtpasswdFile\n\
ht = HtpasswdFile(sys.argv[1], new=True)\n\
ht.set_password(os.environ['HT_USER'], os.environ['HT_PASSWORD'])\nht.save()",
                    path_str(&htpasswd),
                ])
                .env("HT_USER", USER)
                .env("HT_PASSWORD", password),
        );
        // Ask the kernel for a free port, then hand it over; retry on a race.
        for _ in 0..5 {
            let port = free_port();
            let log = fs::File::create(dir.path().join("server.log")).expect("log file");
            let mut child = Command::new(bin.join("pypi-server"))
                .args(["run", "-i", "127.0.0.1", "-p", &port.to_string()])
                .args(["-a", authenticate, "-P", path_str(&htpasswd)])
                .args(["--disable-fallback", "--log-stream", "stderr"])
                .arg(&packages)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("starting pypiserver");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: probably lost the port race
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Index {
                        child,
                        port,
                        packages,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let log = fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
        panic!("pypiserver did not start:\n{log}");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn simple_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    /// Stops the server now (a real fault for tests); idempotent.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The file names the index holds, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.packages)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `twine upload` with the managed tools, credentials by environment.
pub fn twine_upload(index: &Index, files: &[PathBuf], password: &str) -> Output {
    Command::new(tools().join("python"))
        .args([
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
        ])
        .args(files)
        .env("TWINE_REPOSITORY_URL", index.url())
        .env("TWINE_USERNAME", USER)
        .env("TWINE_PASSWORD", password)
        .output()
        .expect("running twine upload")
}

/// A fresh virtual environment; installs the given requirement from the
/// index only (no other source) and returns its python.
pub fn install_from_index(index: &Index, requirement: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new("consumer");
    let venv = dir.path().join("venv");
    // No pip of its own: the managed tools' pip installs into it.
    run_ok(Command::new("python3").args(["-m", "venv", "--without-pip", path_str(&venv)]));
    let python = venv.join("bin").join("python");
    run_ok(
        Command::new(tools().join("python"))
            .args(["-m", "pip", "--python", path_str(&python), "install"])
            .args(["--quiet", "--no-cache-dir"])
            .args(["--index-url", &index.simple_url(), requirement])
            .env_remove("PIP_FIND_LINKS")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
    );
    (dir, python)
}

impl Sandbox {
    /// Another clone of the remote (another maintainer, another CD runner).
    pub fn clone_as(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        git(
            self.dir.path(),
            &["clone", "-q", path_str(&self.remote), path_str(&dir)],
        );
        for (key, value) in [
            ("user.name", "Test Maintainer"),
            ("user.email", "maintainer@example.invalid"),
        ] {
            git(&dir, &["config", key, value]);
        }
        dir
    }
}

/// The built xtask run in any clone, as `Sandbox::xtask` runs it.
pub fn xtask_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(XTASK);
    cmd.args(args)
        .current_dir(dir)
        .env("XTASK_TOOLS_DIR", tools_dir());
    for var in [
        "GITHUB_ACTIONS",
        "GITHUB_EVENT_PATH",
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_OUTPUT",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "TWINE_USERNAME",
        "TWINE_PASSWORD",
        "TWINE_REPOSITORY",
        "XTASK_CONFIG_FILE",
        "XTASK_UPLOAD_TIMEOUT",
    ] {
        cmd.env_remove(var);
    }
    no_index_beyond_loopback(&mut cmd);
    cmd
}

/// Adds an entry under `## Recent Changes` of a clone's CHANGELOG.md,
/// creating the section above the newest release when it is missing.
pub fn add_changelog_entry(dir: &Path, entry: &str) {
    let path = dir.join("CHANGELOG.md");
    let text = fs::read_to_string(&path).expect("read CHANGELOG.md");
    let updated = match text.find("## Recent Changes\n") {
        Some(at) => {
            let after = at + "## Recent Changes\n".len();
            format!(
                "{}\n### Internal\n\n- {entry}\n{}",
                &text[..after],
                &text[after..]
            )
        }
        None => {
            let at = text.find("\n## v").map_or(text.len(), |i| i + 1);
            format!(
                "{}## Recent Changes\n\n### Internal\n\n- {entry}\n\n{}",
                &text[..at],
                &text[at..]
            )
        }
    };
    fs::write(&path, updated).expect("write CHANGELOG.md");
}

impl Sandbox {
    /// The remote docs branch's `versions.json` as `(version, aliases)`,
    /// in the file's order.
    pub fn remote_docs_versions(&self) -> Vec<(String, Vec<String>)> {
        let json = git(&self.remote, &["show", "docs:versions.json"]);
        let list: serde_json::Value = serde_json::from_str(&json).expect("versions.json is JSON");
        list.as_array()
            .expect("a list")
            .iter()
            .map(|v| {
                let aliases = v["aliases"]
                    .as_array()
                    .expect("aliases")
                    .iter()
                    .map(|a| a.as_str().unwrap_or_default().to_string())
                    .collect();
                (
                    v["version"].as_str().unwrap_or_default().to_string(),
                    aliases,
                )
            })
            .collect()
    }
}

/// Asserts a command's exit code and that its output (status, stdout and
/// stderr) says every needle; returns that output.
pub fn says(out: &Output, code: i32, needles: &[&str]) -> String {
    let all = text(out);
    assert_eq!(out.status.code(), Some(code), "{all}");
    for n in needles {
        assert!(all.contains(n), "`{n}` not in:\n{all}");
    }
    all
}

/// Every ref of the clone, then every ref of the remote.
pub fn refs(sandbox: &Sandbox) -> String {
    format!(
        "{}\n{}",
        git(&sandbox.work, &["for-each-ref"]),
        git(&sandbox.remote, &["for-each-ref"])
    )
}

/// A file as the remote has it at `rev`.
pub fn remote_file(sandbox: &Sandbox, rev: &str, file: &str) -> String {
    git(&sandbox.remote, &["show", &format!("{rev}:{file}")])
}

/// The xtask in the sandbox with the real local index and its password.
pub fn ix(index: &Index, sandbox: &Sandbox, args: &[&str]) -> Command {
    with_index(sandbox.xtask(args), index, PASSWORD)
}

/// Runs the xtask in the sandbox (index configured) and asserts its exit
/// code and that its output names `needle`; returns the output.
pub fn expect_exit(
    sandbox: &Sandbox,
    index: &Index,
    args: &[&str],
    code: i32,
    needle: &str,
) -> String {
    let out = output(with_index(sandbox.xtask(args), index, PASSWORD));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {all}");
    assert!(
        all.contains(needle),
        "{args:?} should say {needle:?}: {all}"
    );
    all
}
