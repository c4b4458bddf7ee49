//! `cargo xtask test`: the README's test command. Makes sure this machine
//! has what the tests run (a browser and its WebDriver, Node.js for the
//! workflow linter, Python for the managed tools), installing it with
//! apt-get as root on Debian/Ubuntu and stopping with one line elsewhere,
//! then runs every test, so one missing prerequisite cannot hide the
//! other tests' results.

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use camino::Utf8Path;
use xshell::{cmd, Shell};

use crate::tools::{self, Tools};

/// Something the tests run, found by command name on `PATH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prereq {
    /// What a person installs.
    pub what: &'static str,
    /// Any of these on `PATH` will do.
    pub commands: &'static [&'static str],
    /// The Debian/Ubuntu packages that provide it.
    pub packages: &'static [&'static str],
}

/// Browser names the browser test accepts (Debian's, Ubuntu's, Google's).
pub const BROWSERS: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

pub const PREREQS: &[Prereq] = &[
    Prereq {
        what: "Chromium",
        commands: BROWSERS,
        packages: &["chromium"],
    },
    Prereq {
        what: "chromedriver",
        commands: &["chromedriver"],
        packages: &["chromium-driver"],
    },
    Prereq {
        what: "Node.js",
        commands: &["node"],
        packages: &["nodejs"],
    },
    Prereq {
        what: "npm",
        commands: &["npm"],
        packages: &["npm"],
    },
];

/// Python with pip or venv, checked by running it rather than by name.
pub const PYTHON: Prereq = Prereq {
    what: "Python 3.10+ with pip or venv",
    commands: &["python3"],
    packages: &["python3", "python3-venv"],
};

/// Where the preparation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    pub debian: bool,
    pub root: bool,
    pub apt_get: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    Ready,
    /// `apt-get install` these packages.
    Install(Vec<&'static str>),
    /// Stop before running anything: the one line to print.
    Refuse(String),
}

/// What to do about the missing prerequisites on this host.
pub fn plan(missing: &[Prereq], host: Host) -> Plan {
    if missing.is_empty() {
        return Plan::Ready;
    }
    let packages: Vec<&'static str> = missing.iter().flat_map(|p| p.packages).copied().collect();
    if host.debian && host.root && host.apt_get {
        return Plan::Install(packages);
    }
    let what = missing
        .iter()
        .map(|p| p.what)
        .collect::<Vec<_>>()
        .join(", ");
    let apt = format!("apt-get install {}", packages.join(" "));
    let how = if !host.debian {
        format!("install them (on Debian/Ubuntu: {apt})")
    } else if !host.root {
        format!("install them with `sudo {apt}`, or run `cargo xtask test` as root")
    } else {
        format!("apt-get is not on PATH: install them ({apt})")
    };
    Plan::Refuse(format!(
        "the tests need {what}, not found on this machine: {how}; then run `cargo xtask test` again"
    ))
}

/// Debian or a derivative (Ubuntu), from os-release's `ID` and `ID_LIKE`.
pub fn is_debian(os_release: &str) -> bool {
    os_release
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(key, _)| matches!(*key, "ID" | "ID_LIKE"))
        .flat_map(|(_, value)| value.trim_matches(['"', '\'']).split_whitespace())
        .any(|id| matches!(id, "debian" | "ubuntu"))
}

/// Effective user id 0, from `/proc/self/status` (`Uid: real effective ...`).
pub fn is_root(status: &str) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

/// The first executable file called `name` in the `PATH` value.
pub fn find_on_path(name: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|file| {
            fs::metadata(file).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn missing(sh: &Shell, path: &str) -> Vec<Prereq> {
    let mut missing: Vec<Prereq> = PREREQS
        .iter()
        .filter(|p| !p.commands.iter().any(|c| find_on_path(c, path).is_some()))
        .copied()
        .collect();
    let python = sh
        .var("XTASK_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string());
    // The tools bootstrap with the interpreter's pip, else with a venv's.
    let check = "import sys, importlib.util as u\n\
assert sys.version_info >= (3, 10)\n\
assert u.find_spec('pip') or (u.find_spec('venv') and u.find_spec('ensurepip'))";
    let usable = cmd!(sh, "{python} -c {check}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    if !usable {
        missing.push(PYTHON);
    }
    missing
}

/// `cargo xtask test [ARGS]`.
pub fn run(sh: &Shell, root: &Utf8Path, args: &[String]) -> Result<()> {
    let path = sh.var("PATH").unwrap_or_default();
    let os_release_path = sh
        .var("XTASK_OS_RELEASE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/etc/os-release".to_string());
    let host = Host {
        debian: is_debian(&fs::read_to_string(&os_release_path).unwrap_or_default()),
        root: is_root(&fs::read_to_string("/proc/self/status").unwrap_or_default()),
        apt_get: find_on_path("apt-get", &path).is_some(),
    };
    let missing = missing(sh, &path);
    match plan(&missing, host) {
        Plan::Ready => {}
        Plan::Refuse(line) => bail!(line),
        Plan::Install(packages) => {
            let start = Instant::now();
            let list = packages.join(" ");
            cmd!(sh, "apt-get update -qq")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .run()
                .context("updating the apt package lists")?;
            cmd!(
                sh,
                "apt-get install -y -qq --no-install-recommends {packages...}"
            )
            .env("DEBIAN_FRONTEND", "noninteractive")
            .run()
            .context("installing the test prerequisites with apt-get")?;
            let still = self::missing(sh, &path);
            if !still.is_empty() {
                let what: Vec<&str> = still.iter().map(|p| p.what).collect();
                bail!(
                    "apt-get installed {list} but {} is still not found on PATH",
                    what.join(", ")
                );
            }
            eprintln!(
                "test: installed {list} in {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
    }

    workflow_linter(sh, root)?;
    Tools::ensure(sh, root)?;

    let cargo = sh.var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut test = cmd!(sh, "{cargo} test --workspace --no-fail-fast {args...}");
    // `cargo run` gave this process the xtask package's CARGO_PKG_* and
    // CARGO_MANIFEST_* variables; build scripts that watch them (ring's)
    // would see a change and rebuild, here and again on the next run.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_package_variable) {
            test = test.env_remove(name);
        }
    }
    test.run()
        .map_err(|_| anyhow::anyhow!("some tests failed (their report is above)"))
}

/// What `cargo run` sets for the package it runs (not cargo's own settings
/// such as `CARGO_HOME` or `CARGO_TARGET_DIR`, which must pass through).
fn is_package_variable(name: &str) -> bool {
    [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || matches!(name, "CARGO_PRIMARY_PACKAGE" | "CARGO_RUSTC_CURRENT_DIR")
}

/// The pinned workflow linter: `npm ci --prefix tools` when
/// `tools/package-lock.json` changed since the last install.
fn workflow_linter(sh: &Shell, root: &Utf8Path) -> Result<()> {
    let lock = crate::input::read(root, "tools/package-lock.json")?;
    let modules = root.join("tools").join("node_modules");
    let stamp = modules.join(".xtask-installed.json");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) {
        return Ok(());
    }
    let start = Instant::now();
    let prefix = root.join("tools");
    cmd!(
        sh,
        "npm ci --prefix {prefix} --no-audit --no-fund --loglevel=error"
    )
    .quiet()
    .run()
    .context("installing the workflow linter (npm ci --prefix tools)")?;
    tools::ignore_all(modules.as_std_path())?;
    fs::write(&stamp, &lock).with_context(|| format!("writing {stamp}"))?;
    eprintln!(
        "test: workflow linter installed (tools/package-lock.json) in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN_ROOT: Host = Host {
        debian: true,
        root: true,
        apt_get: true,
    };

    #[test]
    fn nothing_missing_is_ready_anywhere() {
        for debian in [true, false] {
            for root in [true, false] {
                let host = Host {
                    debian,
                    root,
                    apt_get: debian,
                };
                assert_eq!(plan(&[], host), Plan::Ready);
            }
        }
    }

    #[test]
    fn root_on_debian_installs_the_packages_of_what_is_missing() {
        assert_eq!(
            plan(&PREREQS[..2], DEBIAN_ROOT),
            Plan::Install(vec!["chromium", "chromium-driver"])
        );
        assert_eq!(
            plan(&[PYTHON], DEBIAN_ROOT),
            Plan::Install(vec!["python3", "python3-venv"])
        );
    }

    fn refusal(missing: &[Prereq], host: Host) -> String {
        match plan(missing, host) {
            Plan::Refuse(line) => line,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn elsewhere_one_line_names_what_to_install() {
        let hosts = [
            Host {
                debian: false,
                ..DEBIAN_ROOT
            },
            Host {
                root: false,
                ..DEBIAN_ROOT
            },
            Host {
                apt_get: false,
                ..DEBIAN_ROOT
            },
        ];
        for host in hosts {
            let line = refusal(&PREREQS[..2], host);
            assert!(!line.contains('\n'), "{line}");
            assert!(line.contains("Chromium, chromedriver"), "{line}");
            assert!(
                line.contains("apt-get install chromium chromium-driver"),
                "{line}"
            );
            assert!(line.contains("cargo xtask test"), "{line}");
        }
        let line = refusal(
            &PREREQS[..1],
            Host {
                root: false,
                ..DEBIAN_ROOT
            },
        );
        assert!(line.contains("sudo apt-get install chromium"), "{line}");
        assert!(line.contains("as root"), "{line}");
    }

    #[test]
    fn only_the_run_package_variables_are_dropped() {
        for name in ["CARGO_PKG_NAME", "CARGO_MANIFEST_DIR", "CARGO_CRATE_NAME"] {
            assert!(is_package_variable(name), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_INCREMENTAL",
        ] {
            assert!(!is_package_variable(name), "{name}");
        }
    }

    #[test]
    fn os_release_ids() {
        assert!(is_debian(
            "PRETTY_NAME=\"Debian GNU/Linux 12\"\nID=debian\n"
        ));
        assert!(is_debian("ID=ubuntu\nID_LIKE=debian\n"));
        assert!(is_debian("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n"));
        assert!(!is_debian("ID=fedora\nPRETTY_NAME=\"debian lookalike\"\n"));
        assert!(!is_debian("ID=\"arch\"\n"));
        assert!(!is_debian(""));
    }

    #[test]
    fn effective_uid() {
        assert!(is_root("Name:\tx\nUid:\t0\t0\t0\t0\n"));
        assert!(is_root("Uid:\t1000\t0\t0\t0\n"));
        assert!(!is_root("Uid:\t0\t1000\t1000\t1000\n"));
        assert!(!is_root(""));
    }

    #[test]
    fn path_lookup_finds_only_executables() {
        let dir = std::env::temp_dir().join(format!("xtask-path-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let exe = dir.join("tool");
        fs::write(&exe, "#!/bin/sh\n").expect("write");
        let path = format!("/nonexistent:{}", dir.display());
        assert_eq!(find_on_path("tool", &path), None, "not executable yet");
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(find_on_path("tool", &path), Some(exe));
        assert_eq!(find_on_path("other", &path), None);
        let _ = fs::remove_dir_all(&dir);
    }
}
