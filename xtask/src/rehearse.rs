//! `cargo xtask rehearse [vX.Y.Z]`: the whole release, hermetically.
//!
//! A throwaway clone of this repository whose `origin` is a local bare
//! repository, a local pypiserver on 127.0.0.1 with upload auth, and the
//! managed tools. It runs `tag` and `release` exactly as a maintainer and
//! the CD pipeline would, deploys the docs for the new series, installs the published package from the local
//! index into a fresh virtual environment, imports it, and reports.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use std::{env, fs};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::docs_versions;
use crate::github;
use crate::index;
use crate::pyproject;
use crate::simple_index::sha256_hex;
use crate::tools::Tools;
use crate::ui::Steps;
use crate::version::Tag;
use crate::{read, BadInput};

const USER: &str = "rehearsal";

pub struct Options {
    pub tag: Option<Tag>,
    pub keep: bool,
}

pub fn run(sh: &Shell, root: &Utf8Path, opts: Options) -> Result<()> {
    let tag = match opts.tag {
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
    let mut sandbox = Sandbox {
        dir: dir.clone(),
        server: None,
        keep: opts.keep,
    };
    let password = random_secret();
    let mut steps = Steps::new(github::Actions::from_env(sh));
    let result = rehearse(sh, root, &tools, &tag, &password, &mut sandbox, &mut steps);
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

fn rehearse(
    sh: &Shell,
    root: &Utf8Path,
    tools: &Tools,
    tag: &Tag,
    password: &str,
    sandbox: &mut Sandbox,
    steps: &mut Steps,
) -> Result<()> {
    let dir = sandbox.dir.clone();
    let remote = dir.join("remote.git");
    let work = dir.join("work");
    let xtask = env::current_exe().context("locating the running xtask")?;
    let tools_dir = tools.dir().to_string();

    steps.run("clone", || {
        cmd!(sh, "git init --quiet --bare -b root {remote}").run()?;
        cmd!(sh, "git clone --quiet --no-local {root} {work}").run()?;
        let _work = sh.push_dir(&work);
        cmd!(sh, "git checkout --quiet -B root").run()?;
        cmd!(sh, "git remote set-url origin {remote}").run()?;
        cmd!(sh, "git config user.name 'xtask rehearsal'").run()?;
        cmd!(sh, "git config user.email rehearsal@localhost.invalid").run()?;
        cmd!(sh, "git push --quiet origin root").run()?;
        // Tags of the real project stay out: the rehearsal starts clean.
        let tags = cmd!(sh, "git tag --list").read()?;
        for t in tags.lines() {
            cmd!(sh, "git tag -d {t}").quiet().ignore_stdout().run()?;
        }
        Ok(format!("HEAD of this repository, remote {remote}"))
    })?;

    let port = steps_index(sh, tools, &dir, password, sandbox, steps)?;
    let upload_url = format!("http://127.0.0.1:{port}/");
    let simple = format!("http://127.0.0.1:{port}/simple/");

    let child = |args: &[&str]| -> Result<()> {
        let status = Command::new(&xtask)
            .args(args)
            .current_dir(&work)
            .env("XTASK_TOOLS_DIR", &tools_dir)
            .env("TWINE_REPOSITORY_URL", &upload_url)
            .env("TWINE_USERNAME", USER)
            .env("TWINE_PASSWORD", password)
            .env("XTASK_INDEX_URL", &simple)
            .env_remove("GITHUB_ACTIONS")
            .status()
            .with_context(|| format!("running xtask {}", args.join(" ")))?;
        if !status.success() {
            bail!("`cargo xtask {}` failed ({status})", args.join(" "));
        }
        Ok(())
    };
    let name = tag.to_string();
    steps.run(&format!("tag {tag}"), || {
        child(&["tag", &name])?;
        Ok("release commit and tag pushed".into())
    })?;
    steps.run(&format!("release {tag}"), || {
        child(&["release", &name])?;
        Ok("published and verified".into())
    })?;
    steps.run(&format!("docs-deploy {tag}"), || {
        child(&["docs-deploy", &name])?;
        Ok(format!("series {} on the docs branch", tag.series()))
    })?;

    let consumer = dir.join("consumer");
    let installed = steps.run_value("install and import", || {
        let python = tools.python();
        // No pip of its own: the managed pip installs into it (saves ~6 s).
        cmd!(sh, "{python} -m venv --without-pip {consumer}").run()?;
        let target = consumer.join("bin").join("python");
        let requirement = format!("mindoff-dataport=={}", tag.pep440());
        cmd!(sh, "{python} -m pip --python {target} install --quiet --no-cache-dir --disable-pip-version-check --index-url {simple} {requirement}")
            .env_remove("PIP_FIND_LINKS")
            .run()
            .context("installing the published package from the local index")?;
        let version = cmd!(sh, "{target} -c 'import mindoff_dataport as m; print(m.__version__)'")
            .read()
            .context("importing the installed package")?;
        if version.trim() != tag.pep440() {
            bail!("installed {version}, expected {}", tag.pep440());
        }
        let shown = format!("mindoff_dataport.__version__ == {version}");
        Ok((shown.clone(), shown))
    })?;

    // The report: what a maintainer would check by hand.
    let _remote = sh.push_dir(&remote);
    let format = "--format=%h %s";
    let commit = cmd!(sh, "git log -1 {format} root").read()?;
    let peeled = format!("{name}^{{commit}}");
    let tag_commit = cmd!(sh, "git rev-parse --short {peeled}").read()?;
    println!("\nrehearsal of {tag}: OK");
    println!("  remote root:   {commit}");
    println!("  remote tag:    {tag} -> {tag_commit}");
    for file in index::version_files(
        "mindoff-dataport",
        &tag.pep440(),
        &index::fetch(&simple, "mindoff-dataport")?,
    ) {
        println!(
            "  index file:    {}  sha256 {}",
            file.filename,
            file.sha256.as_deref().unwrap_or("?")
        );
    }
    let versions = cmd!(sh, "git show docs:versions.json").read()?;
    for v in docs_versions::parse(&versions)? {
        println!(
            "  docs version:  {}  aliases [{}]",
            v.name,
            v.aliases.join(", ")
        );
    }
    let index_html = cmd!(sh, "git show docs:index.html").read()?;
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
    sandbox: &mut Sandbox,
    steps: &mut Steps,
) -> Result<u16> {
    steps.run_value("package index", || {
        let packages = dir.join("index").join("packages");
        fs::create_dir_all(&packages).with_context(|| format!("creating {packages}"))?;
        let htpasswd = dir.join("index").join("htpasswd");
        let python = tools.python();
        let script = "import os, sys\nfrom passlib.apache import HtpasswdFile\n\
ht = HtpasswdFile(sys.argv[1], new=True)\n\
ht.set_password(os.environ['HT_USER'], os.environ['HT_PASSWORD'])\nht.save()";
        cmd!(sh, "{python} -c {script} {htpasswd}")
            .env("HT_USER", USER)
            .env("HT_PASSWORD", password)
            .run()
            .context("writing the index's htpasswd file")?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .context("finding a free loopback port")?;
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
fn random_secret() -> String {
    let seed = format!(
        "{:?}{}{:?}",
        SystemTime::now(),
        std::process::id(),
        env::temp_dir()
    );
    sha256_hex(seed.as_bytes())[..24].to_string()
}
