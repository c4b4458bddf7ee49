//! `cargo xtask rehearse [vX.Y.Z]`: the whole release, hermetically.
//!
//! A throwaway clone of this repository whose remote is a local bare
//! repository, a local pypiserver on 127.0.0.1 with upload auth, and the
//! managed tools. It runs `tag` and `release` exactly as a maintainer and
//! the CD pipeline would, deploys the docs for the new series, installs the
//! published package from the local index (its dependencies from pip's own
//! configuration, or a wheel folder) into a fresh virtual environment,
//! imports it, and reports.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use std::{env, fs};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::changelog::{self, Edit};
use crate::docs_versions;
use crate::github;
use crate::index;
use crate::input::{read, BadInput};
use crate::pyproject;
use crate::settings::{Branches, ChangelogStyle};
use crate::simple_index::sha256_hex;
use crate::tools::Tools;
use crate::ui::Steps;
use crate::version::Tag;

const USER: &str = "rehearsal";
/// The local index's section in the rehearsal's twine config file.
const REPOSITORY: &str = "rehearsal";

/// The marked entry a rehearsal adds when `## Recent Changes` is missing
/// or empty (right after a release): it exists only in the throwaway clone.
const MARKED_ENTRY: &str = "- 🧪 Rehearsal entry: exists only in the rehearsal's throwaway clone ([#0](http://127.0.0.1/rehearsal))";

pub struct Options {
    pub tag: Option<Tag>,
    pub keep: bool,
    /// The local index's port; `None`: a free one.
    pub port: Option<u16>,
    /// A folder of wheels for the package's dependencies, instead of pip's
    /// configured index (offline use).
    pub find_links: Option<Utf8PathBuf>,
    /// The bound of each upload (`--upload-timeout`).
    pub upload_timeout: std::time::Duration,
    pub branches: Branches,
    pub style: ChangelogStyle,
}

/// `--port N`: a TCP port number.
pub fn parse_port(value: &str) -> Result<u16, BadInput> {
    match value.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(BadInput(format!(
            "--port {}: expected a TCP port number from 1 to 65535",
            crate::input::clip(value)
        ))),
    }
}

/// The hint `tag` ends with does not apply here: the rehearsal runs the CD
/// pipeline's commands itself, and there is no GitHub Release to publish.
fn shown_line(line: &str) -> Option<String> {
    if line.starts_with("tagged v") && line.contains("GitHub Release") {
        let tag = line["tagged ".len()..]
            .split([':', ' '])
            .next()
            .unwrap_or("");
        return Some(format!(
            "tagged {tag} in the rehearsal clone (no GitHub Release here: the next steps run what the CD pipeline would)"
        ));
    }
    Some(line.to_string())
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    if let Some(port) = opts.port {
        port_free(port)?;
    }
    if let Some(dir) = &opts.find_links {
        if !dir.is_dir() {
            bail!(BadInput(format!(
                "--find-links {}: not a directory; expected a folder of wheels for the \
package's dependencies",
                crate::input::clip(dir.as_str())
            )));
        }
    }
    let tag = match opts.tag.clone() {
        Some(tag) => tag,
        None => {
            let current = pyproject::read_version(&read(root, pyproject::FILE)?)?;
            Tag::parse(&format!("v{current}"))
                .map_err(|_| {
                    BadInput(format!(
                        "pyproject.toml's version {current} is not X.Y.Z: name the version, \
e.g. `cargo xtask rehearse v0.7.0`"
                    ))
                })?
                .next_patch()
        }
    };
    let tools = Tools::ensure(sh, root)?;
    let dir = root.join("target").join("rehearsal");
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing the previous {dir}"))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {dir}"))?;
    // Whatever the project's .gitignore says, the rehearsal never shows up
    // in `git status` (a `.gitignore` of `*` ignores itself too).
    fs::write(dir.join(".gitignore"), "*\n")
        .with_context(|| format!("writing {dir}/.gitignore"))?;
    let mut sandbox = Sandbox {
        dir: dir.clone(),
        server: None,
        keep: opts.keep,
    };
    let password = random_secret();
    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = rehearse(
        sh,
        root,
        &tools,
        &tag,
        &opts,
        &password,
        &mut sandbox,
        &mut steps,
    );
    steps.summary();
    if opts.keep {
        println!("\nkept: {dir} (work/, remote.git/, index/, consumer/)");
    }
    result
}

/// The rehearsal's directory and server; stopped and removed on drop.
struct Sandbox {
    dir: Utf8PathBuf,
    server: Option<Child>,
    keep: bool,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
        if !self.keep {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn rehearse(
    sh: &Shell,
    root: &Utf8Path,
    tools: &Tools,
    tag: &Tag,
    opts: &Options,
    password: &str,
    sandbox: &mut Sandbox,
    steps: &mut Steps,
) -> Result<()> {
    let dir = sandbox.dir.clone();
    let remote = dir.join("remote.git");
    let work = dir.join("work");
    let xtask = env::current_exe().context("locating the running xtask")?;
    let tools_dir = tools.dir().to_string();
    let project = pyproject::read_name(&read(root, pyproject::FILE)?)?;

    steps.run("clone", || clone(sh, root, opts, &remote, &work))?;

    let port = steps_index(sh, tools, &dir, password, opts.port, sandbox, steps)?;
    let upload_url = format!("http://127.0.0.1:{port}/");
    let simple = format!("http://127.0.0.1:{port}/simple/");
    // The local index as a maintainer configures one: a named section of
    // twine's config file, chosen with --repository; the reads derive
    // from its upload URL.
    let pypirc = dir.join("index").join("pypirc");
    write_private(
        &pypirc,
        &format!(
            "[distutils]\nindex-servers =\n    {REPOSITORY}\n\n[{REPOSITORY}]\nrepository = {upload_url}\nusername = {USER}\npassword = {password}\n"
        ),
    )?;
    let timeout = opts.upload_timeout.as_secs().to_string();
    let index_flags = [
        "--repository",
        REPOSITORY,
        "--config-file",
        pypirc.as_str(),
        "--upload-timeout",
        &timeout,
    ];

    let child = |args: &[&str]| run_child(&xtask, &work, &tools_dir, args);
    let name = tag.to_string();
    steps.run(&format!("tag {tag}"), || {
        child(&[&["tag", name.as_str()][..], &index_flags[..4]].concat())?;
        Ok("release commit and tag pushed".into())
    })?;
    steps.run(&format!("release {tag}"), || {
        child(&[&["release", name.as_str()][..], &index_flags[..]].concat())?;
        Ok(format!(
            "published to `{REPOSITORY}` of {pypirc} and verified"
        ))
    })?;
    steps.run(&format!("docs-deploy {tag}"), || {
        child(&["docs-deploy", &name])?;
        Ok(format!("series {} on the docs branch", tag.series()))
    })?;

    let consumer = dir.join("consumer");
    let installed = steps.run_value("install and import", || {
        install_and_import(sh, tools, opts, &consumer, &simple, &project, tag)
    })?;

    report(
        sh,
        &remote,
        &opts.branches,
        tag,
        &project,
        &simple,
        &installed,
    )
}

/// The sandbox's bare remote, and a clone of this repository's HEAD that
/// pushes to it.
fn clone(
    sh: &Shell,
    root: &Utf8Path,
    opts: &Options,
    remote: &Utf8Path,
    work: &Utf8Path,
) -> Result<String> {
    let Branches {
        remote: remote_name,
        root: branch,
        ..
    } = &opts.branches;
    cmd!(sh, "git init --quiet --bare -b {branch} {remote}").run()?;
    cmd!(
        sh,
        "git clone --quiet --no-local --end-of-options {root} {work}"
    )
    .run()?;
    let _work = sh.push_dir(work);
    cmd!(sh, "git checkout --quiet -B {branch}").run()?;
    // The docs site as this clone last saw it, so the rehearsal follows
    // its conventions (spelling, alias type, other files).
    let docs = &opts.branches.docs;
    let tracking = format!("+refs/remotes/{remote_name}/{docs}:refs/heads/{docs}");
    let with_docs = cmd!(sh, "git fetch --quiet origin {tracking}")
        .quiet()
        .ignore_stderr()
        .ignore_status()
        .output()?
        .status
        .success();
    cmd!(sh, "git remote remove origin").run()?;
    cmd!(sh, "git remote add -- {remote_name} {remote}").run()?;
    cmd!(sh, "git config user.name xtask-rehearsal").run()?;
    cmd!(sh, "git config user.email rehearsal@localhost.invalid").run()?;
    // Tags of the real project stay out: the rehearsal starts clean.
    let tags = cmd!(sh, "git tag --list").read()?;
    for t in tags.lines() {
        cmd!(sh, "git tag -d {t}").quiet().ignore_stdout().run()?;
    }
    // Right after a release there is nothing to release: a marked entry
    // (in this clone only) stands in for the next pull request.
    let log = read(work, changelog::FILE)?;
    let mut note = String::new();
    if changelog::recent_entries(&log).unwrap_or(0) == 0 {
        if let Edit::Changed(after) =
            changelog::add_entry_with(&log, "Internal", MARKED_ENTRY, 0, &opts.style)?
        {
            fs::write(work.join(changelog::FILE), after)
                .with_context(|| format!("writing {}", changelog::FILE))?;
            let file = changelog::FILE;
            cmd!(
                sh,
                "git commit --quiet -m 'Rehearsal: a marked changelog entry' -- {file}"
            )
            .run()?;
            note = format!(
                "; `## {}` was empty: added a marked entry",
                changelog::RECENT
            );
        }
    }
    let pushed: Vec<&str> = if with_docs {
        vec![branch, docs]
    } else {
        vec![branch]
    };
    cmd!(sh, "git push --quiet -- {remote_name} {pushed...}").run()?;
    if with_docs {
        note.push_str(&format!("; `{docs}` copied from {remote_name}/{docs}"));
    }
    Ok(format!("HEAD of this repository, remote {remote}{note}"))
}

/// One xtask command in the sandbox's clone, against the sandbox's index
/// only; its output shown as the rehearsal's.
fn run_child(
    xtask: &std::path::Path,
    work: &Utf8Path,
    tools_dir: &str,
    args: &[&str],
) -> Result<()> {
    let mut running = Command::new(xtask)
        .args(args)
        .current_dir(work)
        .env("XTASK_TOOLS_DIR", tools_dir)
        .env_remove("TWINE_REPOSITORY_URL")
        .env_remove("TWINE_REPOSITORY")
        .env_remove("TWINE_USERNAME")
        .env_remove("TWINE_PASSWORD")
        .env_remove("XTASK_INDEX_URL")
        .env_remove("GITHUB_ACTIONS")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("running xtask {}", args.join(" ")))?;
    if let Some(out) = running.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.context("reading the output of xtask")?;
            if let Some(shown) = shown_line(&line) {
                println!("{shown}");
            }
        }
    }
    let status = running.wait().context("waiting for xtask")?;
    if !status.success() {
        bail!("`cargo xtask {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The released package installed from the local index into a fresh
/// virtual environment, imported, and its installed version checked.
fn install_and_import(
    sh: &Shell,
    tools: &Tools,
    opts: &Options,
    consumer: &Utf8Path,
    simple: &str,
    project: &str,
    tag: &Tag,
) -> Result<(String, String)> {
    let python = tools.python();
    // No pip of its own: the managed pip installs into it (saves ~6 s).
    cmd!(sh, "{python} -m venv --without-pip {consumer}").run()?;
    let target = consumer.join("bin").join("python");
    let requirement = format!("{project}=={}", tag.pep440());
    // The package from the local index only, so a same-named release on
    // another index can never stand in for it; then its dependencies
    // from pip's own configuration (index, credentials), or only from a
    // wheel folder.
    cmd!(sh, "{python} -m pip --python {target} install --quiet --no-cache-dir --disable-pip-version-check --no-deps --index-url {simple} {requirement}")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .run()
        .with_context(|| format!("installing {requirement} from the local index"))?;
    let sources: Vec<String> = match &opts.find_links {
        Some(folder) => vec![
            "--no-index".into(),
            "--find-links".into(),
            folder.to_string(),
        ],
        None => Vec::new(),
    };
    cmd!(sh, "{python} -m pip --python {target} install --quiet --no-cache-dir --disable-pip-version-check {sources...} {requirement}")
        .env_remove("PIP_FIND_LINKS")
        .run()
        .with_context(|| {
            format!(
                "installing the dependencies of {requirement} from {}",
                match &opts.find_links {
                    Some(folder) => format!("{folder} (--find-links)"),
                    None => "pip's configured index (offline: pass --find-links DIR, a folder of wheels)".into(),
                }
            )
        })?;
    // The installed distribution's own metadata: a package need not
    // define `__version__`. One line, so the echoed command reads well.
    let module = project.replace(['-', '.'], "_").to_lowercase();
    let script = "import importlib, importlib.metadata as md, sys; importlib.import_module(sys.argv[2]); print(md.version(sys.argv[1]))";
    let version = cmd!(sh, "{target} -c {script} {project} {module}")
        .read()
        .with_context(|| format!("importing {module} and reading its installed version"))?;
    if version.trim() != tag.pep440() {
        bail!("installed {version}, expected {}", tag.pep440());
    }
    let shown = format!("{project} {version} (importlib.metadata), `import {module}` works");
    Ok((shown.clone(), shown))
}

/// The report: what a maintainer would check by hand.
fn report(
    sh: &Shell,
    remote: &Utf8Path,
    branches: &Branches,
    tag: &Tag,
    project: &str,
    simple: &str,
    installed: &str,
) -> Result<()> {
    let (branch, name) = (&branches.root, tag.to_string());
    let _remote = sh.push_dir(remote);
    let format = "--format=%h %s";
    let commit = cmd!(sh, "git log -1 {format} {branch}").read()?;
    let peeled = format!("{name}^{{commit}}");
    let tag_commit = cmd!(sh, "git rev-parse --short {peeled}").read()?;
    println!("\nrehearsal of {tag}: OK");
    println!("  remote {branch}:   {commit}");
    println!("  remote tag:    {tag} -> {tag_commit}");
    for file in index::version_files(project, &tag.pep440(), &index::fetch(simple, project)?) {
        println!(
            "  index file:    {}  sha256 {}",
            file.filename,
            file.sha256.as_deref().unwrap_or("?")
        );
    }
    let docs = &branches.docs;
    let versions = cmd!(sh, "git show {docs}:versions.json").read()?;
    for v in docs_versions::parse(&versions)? {
        println!(
            "  docs version:  {}  aliases [{}]",
            v.name,
            v.aliases.join(", ")
        );
    }
    let index_html = cmd!(sh, "git show {docs}:index.html").read()?;
    println!(
        "  docs default:  {}",
        docs_versions::default_target(&index_html).unwrap_or_else(|| "(none)".into())
    );
    println!("  installed:     {installed}");
    Ok(())
}

/// Starts pypiserver with upload auth on a free loopback port.
fn steps_index(
    sh: &Shell,
    tools: &Tools,
    dir: &Utf8Path,
    password: &str,
    port: Option<u16>,
    sandbox: &mut Sandbox,
    steps: &mut Steps,
) -> Result<u16> {
    steps.run_value("package index", || {
        let packages = dir.join("index").join("packages");
        fs::create_dir_all(&packages).with_context(|| format!("creating {packages}"))?;
        let htpasswd = dir.join("index").join("htpasswd");
        let python = tools.python();
        // One line, names by argument, the password by environment only.
        let script = "import os, sys; from passlib.apache import HtpasswdFile as H; ht = H(sys.argv[1], new=True); ht.set_password(sys.argv[2], os.environ[sys.argv[3]]); ht.save()";
        cmd!(sh, "{python} -c {script} {htpasswd} {USER} HT_PASSWORD")
            .env("HT_PASSWORD", password)
            .run()
            .context("writing the index's htpasswd file")?;
        let port = match port {
            Some(port) => {
                port_free(port)?;
                port
            }
            None => TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .context("finding a free loopback port")?,
        };
        let log = fs::File::create(dir.join("index").join("server.log"))
            .context("creating the index log")?;
        let server = Command::new(tools.bin("pypi-server"))
            .args([
                "run",
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-a",
                "update",
            ])
            .arg("-P")
            .arg(&htpasswd)
            .args(["--disable-fallback", "--log-stream", "stderr"])
            .arg(&packages)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting pypiserver")?;
        sandbox.server = Some(server);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = sandbox.server.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                bail!("pypiserver exited ({status}) before listening on 127.0.0.1:{port} (log: {dir}/index/server.log)");
            }
            if Instant::now() > deadline {
                bail!("pypiserver did not start on 127.0.0.1:{port} (log: {dir}/index/server.log)");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok((
            format!("pypiserver on http://127.0.0.1:{port}/ (upload auth)"),
            port,
        ))
    })
}

/// A password for the throwaway index, never printed or passed as an argument.
/// `--port N` must be free on 127.0.0.1: bad input naming it otherwise.
fn port_free(port: u16) -> Result<()> {
    if TcpStream::connect(("127.0.0.1", port)).is_ok()
        || TcpListener::bind(("127.0.0.1", port)).is_err()
    {
        bail!(BadInput(format!(
            "--port {port}: 127.0.0.1:{port} is already in use: pick another --port, or omit \
it for a free one; nothing was started"
        )));
    }
    Ok(())
}

/// Writes a file only its owner can read (it holds the local password).
fn write_private(path: &Utf8Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {path}"))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {path}"))
}

fn random_secret() -> String {
    let seed = format!(
        "{:?}{}{:?}",
        SystemTime::now(),
        std::process::id(),
        env::temp_dir()
    );
    sha256_hex(seed.as_bytes())[..24].to_string()
}
