//! The managed Python tools, one hash-locked group per purpose (release,
//! docs, test), each installed only when a command needs it into a cached
//! virtual environment under the tools directory, and reused until its
//! lock changes. uv installs them; uv itself comes hash-pinned from
//! `tools/uv.lock`. Every Python tool the xtask runs comes from here, so a
//! build is reproducible from the locks alone.

use std::fs::{self, File};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::input::BadInput;

/// The installer's own lock: one pinned uv, every platform's hash.
pub const UV_LOCK: &str = "tools/uv.lock";

/// The tool groups, by purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// `python -m build`, `twine`, and the project's build backend.
    Release,
    /// mike and the mkdocs site it builds.
    Docs,
    /// What only the tests and the rehearsal run: a local package index
    /// with upload auth, the workflow auditor, and pip.
    Test,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Release, Group::Docs, Group::Test];

    pub fn name(self) -> &'static str {
        match self {
            Group::Release => "release",
            Group::Docs => "docs",
            Group::Test => "test",
        }
    }

    pub fn parse(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }

    /// `tools/<group>.lock`, generated from `tools/<group>.in`.
    pub fn lock_file(self) -> String {
        format!("tools/{}.lock", self.name())
    }

    /// The group's top-level requirements (its `.in` file); `cargo xtask
    /// tools` prints their versions.
    pub fn tools(self) -> &'static [&'static str] {
        match self {
            Group::Release => &["build", "twine", "hatchling"],
            Group::Docs => &["mkdocs", "mkdocs-material", "mike"],
            Group::Test => &["pypiserver", "passlib", "zizmor", "pip"],
        }
    }
}

/// The shared locks this process holds on the environments it uses, until
/// it ends: an install elsewhere waits for them before replacing one.
static IN_USE: std::sync::Mutex<Vec<(Utf8PathBuf, File)>> = std::sync::Mutex::new(Vec::new());

fn in_use_file(venv: &Utf8Path) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{venv}.in-use"))
}

/// Marks `venv` as in use by this process (a shared lock, once per
/// environment), taken under the install lock.
fn hold_in_use(venv: &Utf8Path) -> Result<()> {
    let mut held = IN_USE
        .lock()
        .map_err(|_| anyhow::anyhow!("the tools' in-use locks are poisoned"))?;
    if held.iter().any(|(v, _)| v == venv) {
        return Ok(());
    }
    let path = in_use_file(venv);
    let file = File::create(&path).with_context(|| format!("creating {path}"))?;
    file.lock_shared()
        .with_context(|| format!("marking {venv} as in use"))?;
    held.push((venv.to_path_buf(), file));
    Ok(())
}

/// The exclusive lock on `venv` for replacing it: this process's own use
/// ends, and other commands using it are waited for.
fn exclusive_use(venv: &Utf8Path) -> Result<File> {
    if let Ok(mut held) = IN_USE.lock() {
        held.retain(|(v, _)| v != venv);
    }
    let path = in_use_file(venv);
    let file = File::create(&path).with_context(|| format!("creating {path}"))?;
    if file.try_lock().is_err() {
        eprintln!("tools: waiting for the commands that use {venv} to end before replacing it");
        file.lock()
            .with_context(|| format!("waiting for the commands that use {venv}"))?;
    }
    Ok(file)
}

/// The environment holding exactly `groups`: `release`, `docs`, `test`, a
/// joined name for a mix, and `venv` for all of them (the name the tests
/// and benchmarks use).
fn venv_name(groups: &[Group]) -> String {
    if Group::ALL.iter().all(|g| groups.contains(g)) {
        return "venv".to_string();
    }
    groups
        .iter()
        .map(|g| g.name())
        .collect::<Vec<_>>()
        .join("-")
}

/// Number of pinned distributions in a lock file.
fn pinned(lock: &str) -> usize {
    lock.lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphanumeric()) && l.contains("=="))
        .count()
}

/// An installed, verified tools environment.
pub struct Tools {
    dir: Utf8PathBuf,
    venv: Utf8PathBuf,
    groups: Vec<Group>,
}

impl Tools {
    /// The environment's interpreter: `python -m build`, `-m twine`.
    pub fn python(&self) -> Utf8PathBuf {
        self.bin("python")
    }

    /// The tools directory (`XTASK_TOOLS_DIR`), to share with child runs.
    pub fn dir(&self) -> &Utf8Path {
        &self.dir
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

    /// Every group in one environment (the tests, the rehearsal).
    pub fn ensure(sh: &Shell, root: &Utf8Path) -> Result<Tools> {
        Self::ensure_groups(sh, root, &Group::ALL)
    }

    /// The environment of one group (`release` needs only build and twine).
    pub fn ensure_group(sh: &Shell, root: &Utf8Path, group: Group) -> Result<Tools> {
        Self::ensure_groups(sh, root, &[group])
    }

    /// An environment holding at least `groups`, installing it first when
    /// it is missing or was installed from different locks. An up-to-date
    /// environment of every group serves any request.
    pub fn ensure_groups(sh: &Shell, root: &Utf8Path, groups: &[Group]) -> Result<Tools> {
        Self::install(sh, root, groups, false)
    }

    fn install(sh: &Shell, root: &Utf8Path, groups: &[Group], force: bool) -> Result<Tools> {
        let mut groups = groups.to_vec();
        groups.sort();
        groups.dedup();
        let mut locks = Vec::new();
        for &group in &groups {
            locks.push((group, crate::input::read(root, &group.lock_file())?));
        }
        let stamp_text: String = locks.iter().map(|(_, l)| l.as_str()).collect();

        let dir = tools_dir(sh, root);
        fs::create_dir_all(&dir).with_context(|| format!("creating {dir}"))?;
        keep_out_of_git(root, &dir)?;
        // Tests and commands share the directory: serialise installs.
        let guard = File::create(dir.join("install.lock"))
            .with_context(|| format!("creating the install lock in {dir}"))?;
        guard
            .lock()
            .with_context(|| format!("waiting for the install lock in {dir}"))?;

        let tools = |venv: Utf8PathBuf, groups: Vec<Group>| Tools {
            dir: dir.clone(),
            venv,
            groups,
        };
        let wanted = tools(dir.join(venv_name(&groups)), groups.clone());
        if !force && wanted.is_current(&stamp_text) {
            hold_in_use(&wanted.venv)?;
            return Ok(wanted);
        }
        if !force && groups.len() < Group::ALL.len() {
            let mut all = String::new();
            for group in Group::ALL {
                all.push_str(&crate::input::read(root, &group.lock_file())?);
            }
            let everything = tools(dir.join(venv_name(&Group::ALL)), Group::ALL.to_vec());
            if everything.is_current(&all) {
                hold_in_use(&everything.venv)?;
                return Ok(everything);
            }
        }

        let uv = ensure_uv(sh, root, &dir)?;
        let venv = &wanted.venv;
        // Commands running twine or mike from this environment keep it
        // until they end: wait for them before replacing it.
        let replacing = exclusive_use(venv)?;
        if venv.exists() {
            fs::remove_dir_all(venv).with_context(|| format!("removing the old {venv}"))?;
        }
        let python = base_python(sh)?;
        let env = uv_env(sh);
        cmd!(sh, "{uv} venv --quiet --no-config --python {python} {venv}")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .quiet()
            .run()
            .with_context(|| format!("creating the virtual environment {venv}"))?;
        let venv_python = wanted.python();
        for (group, lock) in &locks {
            let start = Instant::now();
            let lock_path = root.join(group.lock_file());
            cmd!(
                sh,
                "{uv} pip install --quiet --no-config --python {venv_python} --no-deps --require-hashes -r {lock_path}"
            )
            .envs(env.iter().map(|(k, v)| (k, v)))
            .quiet()
            .run()
            .with_context(|| format!("installing the {} tools from {lock_path}", group.name()))?;
            eprintln!(
                "tools: {} group installed ({} packages from {}) in {:.1} s",
                group.name(),
                pinned(lock),
                group.lock_file(),
                start.elapsed().as_secs_f64()
            );
        }
        // Written last: an interrupted install is redone on next use.
        let stamp = wanted.stamp();
        fs::write(&stamp, &stamp_text).with_context(|| format!("writing {stamp}"))?;
        // Still under the install lock: no other install comes between.
        drop(replacing);
        hold_in_use(venv)?;
        Ok(wanted)
    }

    fn stamp(&self) -> Utf8PathBuf {
        self.venv.join("xtask-installed.lock")
    }

    fn is_current(&self, stamp_text: &str) -> bool {
        fs::read_to_string(self.stamp()).ok().as_deref() == Some(stamp_text)
            && self.python().exists()
    }

    /// `(name, version)` of each group's tools, read from the installed metadata.
    pub fn versions(&self, sh: &Shell) -> Result<Vec<(String, String)>> {
        let python = self.python();
        let names: Vec<&str> = self
            .groups
            .iter()
            .flat_map(|g| g.tools())
            .copied()
            .collect();
        let script = "import importlib.metadata as m, sys\n\
for name in sys.argv[1:]:\n    print(name, m.version(name))";
        let out = cmd!(sh, "{python} -c {script} {names...}")
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

/// uv from `tools/uv.lock`, installed into `<dir>/uv` by pip (the
/// interpreter's own, else one in a throwaway bootstrap environment).
fn ensure_uv(sh: &Shell, root: &Utf8Path, dir: &Utf8Path) -> Result<Utf8PathBuf> {
    let lock = crate::input::read(root, UV_LOCK)?;
    let target = dir.join("uv");
    let uv = target.join("bin").join("uv");
    let stamp = target.join("xtask-installed.lock");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) && uv.exists() {
        return Ok(uv);
    }
    let start = Instant::now();
    if target.exists() {
        fs::remove_dir_all(&target).with_context(|| format!("removing the old {target}"))?;
    }
    let python = base_python(sh)?;
    let has_pip = cmd!(sh, "{python} -m pip --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    let bootstrap = dir.join("bootstrap");
    let pip_python = if has_pip {
        Utf8PathBuf::from(&python)
    } else {
        if cmd!(sh, "{python} -c 'import venv, ensurepip'")
            .quiet()
            .ignore_stderr()
            .run()
            .is_err()
        {
            bail!(BadInput(format!(
                "`{python}` has neither pip nor a working `venv` module: install one \
(Debian/Ubuntu: apt-get install python3-venv), or point XTASK_PYTHON at a full Python"
            )));
        }
        cmd!(sh, "{python} -m venv {bootstrap}")
            .quiet()
            .run()
            .with_context(|| format!("creating a bootstrap environment for pip in {bootstrap}"))?;
        bootstrap.join("bin").join("python")
    };
    let uv_lock = root.join(UV_LOCK);
    // --target: a plain directory, never the interpreter's own site-packages.
    cmd!(
        sh,
        "{pip_python} -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --require-hashes --only-binary :all: --target {target} -r {uv_lock}"
    )
    .quiet()
    .run()
    .with_context(|| format!("installing uv from {uv_lock} into {target}"))?;
    if bootstrap.exists() {
        fs::remove_dir_all(&bootstrap).with_context(|| format!("removing {bootstrap}"))?;
    }
    fs::write(&stamp, &lock).with_context(|| format!("writing {stamp}"))?;
    eprintln!(
        "tools: uv installed (from {UV_LOCK}) in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(uv)
}

/// pip's index and certificate settings, for uv, which does not read
/// pip's: a machine configured for a mirror keeps using it.
fn uv_env(sh: &Shell) -> Vec<(&'static str, String)> {
    let set = |name: &str| sh.var(name).ok().filter(|v| !v.is_empty());
    let mut env = Vec::new();
    for (pip, uv) in [
        ("PIP_INDEX_URL", "UV_DEFAULT_INDEX"),
        ("PIP_CERT", "SSL_CERT_FILE"),
    ] {
        if let (Some(value), None) = (set(pip), set(uv)) {
            env.push((uv, value));
        }
    }
    env
}

/// Writes a `.gitignore` of `*` into `dir`, and into cargo's `target/`
/// (cargo writes none): the tools, the rehearsal and the build never show
/// as untracked files, whatever the project's own `.gitignore` says, so
/// "the working tree is clean" stays true.
pub fn keep_out_of_git(root: &Utf8Path, dir: &Utf8Path) -> Result<()> {
    ignore_all(dir.as_std_path())?;
    ignore_all(root.join("target").as_std_path())
}

/// A `.gitignore` of `*` in `dir` when it is a directory: git then ignores
/// everything in it, the `.gitignore` included (a nested ignore file wins
/// over the ones above it).
pub fn ignore_all(dir: &std::path::Path) -> Result<()> {
    let file = dir.join(".gitignore");
    if dir.is_dir() && fs::read_to_string(&file).ok().as_deref() != Some(IGNORE_ALL) {
        fs::write(&file, IGNORE_ALL).with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(())
}

const IGNORE_ALL: &str = "# Written by cargo xtask: nothing here belongs in git.\n*\n";

/// `$XTASK_TOOLS_DIR`, else `target/xtask-tools` in the project.
fn tools_dir(sh: &Shell, root: &Utf8Path) -> Utf8PathBuf {
    match sh.var("XTASK_TOOLS_DIR") {
        Ok(dir) if !dir.is_empty() => Utf8PathBuf::from(dir),
        _ => root.join("target").join("xtask-tools"),
    }
}

/// The interpreter the environments are made from (its real path, not a
/// shim's), checked for what we need.
fn base_python(sh: &Shell) -> Result<String> {
    let python = sh
        .var("XTASK_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string());
    let out = cmd!(
        sh,
        "{python} -c 'import sys; print(\"%d.%d\" % sys.version_info[:2], sys.executable)'"
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
    let (version, executable) = out.split_once(' ').unwrap_or((out.as_str(), ""));
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
    Ok(if executable.is_empty() {
        python
    } else {
        executable.to_string()
    })
}

/// `cargo xtask tools`: install or verify, then print the versions.
pub fn run(sh: &Shell, root: &Utf8Path, groups: &[String], reinstall: bool) -> Result<()> {
    let groups = if groups.is_empty() {
        Group::ALL.to_vec()
    } else {
        groups
            .iter()
            .map(|name| {
                Group::parse(name).ok_or_else(|| {
                    BadInput(format!(
                        "unknown tool group `{name}`: expected release, docs or test"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let tools = Tools::install(sh, root, &groups, reinstall)?;
    println!("managed Python tools: {}", tools.venv);
    for (name, version) in tools.versions(sh)? {
        println!("  {name:16} {version}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn project_file(rel: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// `name -> version` of every pin in a lock file.
    fn pins(lock: &str) -> BTreeMap<String, String> {
        lock.lines()
            .filter_map(|l| l.split_once("=="))
            .filter(|(name, _)| name.starts_with(|c: char| c.is_ascii_alphanumeric()))
            .map(|(n, v)| (n.to_string(), v.trim_end_matches([' ', '\\']).to_string()))
            .collect()
    }

    #[test]
    fn venv_names() {
        assert_eq!(venv_name(&[Group::Release]), "release");
        assert_eq!(venv_name(&[Group::Release, Group::Docs]), "release-docs");
        assert_eq!(venv_name(&Group::ALL), "venv");
    }

    #[test]
    fn each_group_reports_exactly_its_in_file() {
        for group in Group::ALL {
            let wanted = project_file(&format!("tools/{}.in", group.name()));
            let wanted: Vec<&str> = wanted
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            assert_eq!(wanted, group.tools(), "tools/{}.in", group.name());
        }
    }

    /// The groups share one environment for the tests: a package pinned
    /// in two locks must be pinned to the same version (and every tool
    /// is hash-locked).
    #[test]
    fn locks_agree_and_carry_hashes() {
        let mut seen: BTreeMap<String, (String, &str)> = BTreeMap::new();
        for group in Group::ALL {
            let lock = project_file(&group.lock_file());
            assert!(lock.contains("--hash=sha256:"), "{}", group.lock_file());
            let pins = pins(&lock);
            assert_eq!(pins.len(), pinned(&lock));
            for tool in group.tools() {
                assert!(
                    pins.contains_key(*tool),
                    "{tool} not in {}",
                    group.lock_file()
                );
            }
            for (name, version) in pins {
                if let Some((other, in_group)) = seen.get(&name) {
                    assert_eq!(
                        other,
                        &version,
                        "{name}: {in_group} pins {other}, {} pins {version}",
                        group.name()
                    );
                }
                seen.insert(name, (version, group.name()));
            }
        }
        assert_eq!(pins(&project_file(UV_LOCK)).len(), 1);
    }

    #[test]
    fn tools_help_names_every_installed_tool() {
        let spec = crate::flags::COMMANDS
            .iter()
            .find(|c| c.name == "tools")
            .expect("the tools command");
        for group in Group::ALL {
            let line = spec
                .about
                .lines()
                .find(|l| l.trim_start().starts_with(group.name()))
                .unwrap_or_else(|| panic!("no line for {} in:\n{}", group.name(), spec.about));
            let listed: Vec<&str> = line
                .split_once(':')
                .map(|(_, rest)| rest)
                .unwrap_or_default()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .take_while(|w| !w.starts_with('('))
                .collect();
            assert_eq!(listed, group.tools(), "{line}");
        }
    }
}
