//! The managed Python tools: a virtual environment installed from
//! `tools/requirements.lock` with `pip install --require-hashes`, reused
//! until the lock changes. Every Python tool the xtask runs comes from here,
//! so a build is reproducible from the lock alone.

use std::fs::{self, File};

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::BadInput;

pub const LOCK_FILE: &str = "tools/requirements.lock";

/// Distributions whose versions `cargo xtask tools` reports.
const REPORTED: &[&str] = &[
    "build",
    "twine",
    "hatchling",
    "mkdocs",
    "mkdocs-material",
    "mike",
    "pypiserver",
    "passlib",
    "zizmor",
];

/// An installed, verified tools environment.
pub struct Tools {
    venv: Utf8PathBuf,
}

impl Tools {
    /// The environment's interpreter: `python -m build`, `-m twine`.
    pub fn python(&self) -> Utf8PathBuf {
        self.bin("python")
    }

    /// The tools directory (`XTASK_TOOLS_DIR`), to share with child runs.
    pub fn dir(&self) -> &Utf8Path {
        self.venv.parent().unwrap_or(&self.venv)
    }

    /// `PATH` with the environment's `bin/` first: mike runs `mkdocs` by name.
    pub fn path_env(&self) -> std::ffi::OsString {
        let bin = self.venv.join("bin");
        let rest = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin.into_std_path_buf()];
        paths.extend(std::env::split_paths(&rest));
        std::env::join_paths(paths).unwrap_or(rest)
    }

    /// A console script of the environment (mike has no `__main__`).
    pub fn bin(&self, name: &str) -> Utf8PathBuf {
        self.venv.join("bin").join(name)
    }

    /// Returns the environment, installing it first when it is missing or
    /// was installed from a different lock.
    pub fn ensure(sh: &Shell, root: &Utf8Path) -> Result<Tools> {
        Self::install(sh, root, false)
    }

    fn install(sh: &Shell, root: &Utf8Path, force: bool) -> Result<Tools> {
        let lock_path = root.join(LOCK_FILE);
        let lock = fs::read_to_string(&lock_path)
            .with_context(|| format!("reading the tools lock file {lock_path}"))?;
        let dir = tools_dir(sh, root);
        fs::create_dir_all(&dir).with_context(|| format!("creating {dir}"))?;
        // Tests and commands share one environment: serialise installs.
        let guard = File::create(dir.join("install.lock"))
            .with_context(|| format!("creating the install lock in {dir}"))?;
        guard
            .lock()
            .with_context(|| format!("waiting for the install lock in {dir}"))?;

        let venv = dir.join("venv");
        let stamp = venv.join("xtask-installed.lock");
        let tools = Tools { venv: venv.clone() };
        let current = fs::read_to_string(&stamp).ok();
        if !force && current.as_deref() == Some(lock.as_str()) && tools.python().exists() {
            return Ok(tools);
        }

        let python = base_python(sh)?;
        eprintln!("installing the managed Python tools into {venv} (from {LOCK_FILE})");
        if venv.exists() {
            fs::remove_dir_all(&venv).with_context(|| format!("removing the old {venv}"))?;
        }
        cmd!(sh, "{python} -m venv {venv}")
            .quiet()
            .run()
            .with_context(|| format!("creating the virtual environment {venv}"))?;
        let venv_python = tools.python();
        cmd!(
            sh,
            "{venv_python} -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r {lock_path}"
        )
        .quiet()
        .run()
        .with_context(|| format!("installing the pinned tools from {lock_path}"))?;
        // Written last: an interrupted install is redone on next use.
        fs::write(&stamp, &lock).with_context(|| format!("writing {stamp}"))?;
        Ok(tools)
    }

    /// `(name, version)` of each reported tool, read from the installed metadata.
    pub fn versions(&self, sh: &Shell) -> Result<Vec<(String, String)>> {
        let python = self.python();
        let script = "import importlib.metadata as m, sys\n\
for name in sys.argv[1:]:\n    print(name, m.version(name))";
        let out = cmd!(sh, "{python} -c {script} {REPORTED...}")
            .quiet()
            .read()
            .context("reading the installed tool versions")?;
        Ok(out
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect())
    }
}

/// `$XTASK_TOOLS_DIR`, else `target/xtask-tools` in the project.
fn tools_dir(sh: &Shell, root: &Utf8Path) -> Utf8PathBuf {
    match sh.var("XTASK_TOOLS_DIR") {
        Ok(dir) if !dir.is_empty() => Utf8PathBuf::from(dir),
        _ => root.join("target").join("xtask-tools"),
    }
}

/// The interpreter that creates the environment, checked for what we need.
fn base_python(sh: &Shell) -> Result<String> {
    let python = sh
        .var("XTASK_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string());
    let version = cmd!(
        sh,
        "{python} -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'"
    )
    .quiet()
    .ignore_stderr()
    .read()
    .map_err(|_| {
        BadInput(format!(
            "`{python}` was not found or does not run: install Python 3.10 or newer \
(Debian/Ubuntu: apt-get install python3 python3-venv), or point XTASK_PYTHON at one"
        ))
    })?;
    let too_old = match version.split_once('.') {
        Some((major, minor)) => {
            (
                major.parse::<u32>().unwrap_or(0),
                minor.parse::<u32>().unwrap_or(0),
            ) < (3, 10)
        }
        None => true,
    };
    if too_old {
        bail!(BadInput(format!(
            "`{python}` is Python {version}; the tools need 3.10 or newer: \
install one, or point XTASK_PYTHON at it"
        )));
    }
    if cmd!(sh, "{python} -c 'import venv, ensurepip'")
        .quiet()
        .ignore_stderr()
        .run()
        .is_err()
    {
        bail!(BadInput(format!(
            "`{python}` has no working `venv` module: install it \
(Debian/Ubuntu: apt-get install python3-venv), or point XTASK_PYTHON at a full Python"
        )));
    }
    Ok(python)
}

/// `cargo xtask tools`: install or verify, then print the versions.
pub fn run(sh: &Shell, root: &Utf8Path, reinstall: bool) -> Result<()> {
    let tools = Tools::install(sh, root, reinstall)?;
    println!("managed Python tools: {}", tools.venv);
    for (name, version) in tools.versions(sh)? {
        println!("  {name:16} {version}");
    }
    Ok(())
}
