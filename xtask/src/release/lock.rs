//! `.git/xtask-release.lock`: one real release run at a time per clone.

use std::fs;

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

use crate::input::clip;

/// `.git/xtask-release.lock`: one release at a time per clone. A lock left
/// by a process that no longer runs is taken over.
pub(super) struct ReleaseLock {
    path: Utf8PathBuf,
}

impl ReleaseLock {
    pub(super) fn acquire(sh: &Shell) -> Result<ReleaseLock> {
        let git_dir = cmd!(sh, "git rev-parse --absolute-git-dir")
            .quiet()
            .read()
            .context("locating the .git directory")?;
        let path = Utf8PathBuf::from(git_dir).join("xtask-release.lock");
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    use std::io::Write;
                    write!(file, "{}", std::process::id())
                        .with_context(|| format!("writing {path}"))?;
                    return Ok(ReleaseLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = fs::read_to_string(&path).unwrap_or_default();
                    let pid = pid.trim();
                    let alive = !pid.is_empty()
                        && pid.chars().all(|c| c.is_ascii_digit())
                        && Utf8Path::new("/proc").join(pid).exists();
                    if alive {
                        bail!(
                            "another release is running in this clone (pid {pid}, lock {path}): \
wait for it to finish"
                        );
                    }
                    eprintln!(
                        "removing a stale release lock left by pid {:?} ({path})",
                        clip(pid)
                    );
                    fs::remove_file(&path).with_context(|| format!("removing {path}"))?;
                }
                Err(e) => return Err(e).with_context(|| format!("creating {path}")),
            }
        }
        bail!("could not take the release lock {path}")
    }
}

impl Drop for ReleaseLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
