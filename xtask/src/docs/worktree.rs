//! Temporary worktrees under `target/xtask-worktrees`, where a release
//! commit is checked out to build its docs: removed on drop, and pruned
//! at the next run when an interrupted run left one behind.

use std::fs;

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use xshell::{cmd, Shell};

/// Removes temporary worktrees an interrupted run left under
/// `target/xtask-worktrees` (named `<what>-<pid>`, the pid no longer running).
pub(super) fn prune_worktrees(sh: &Shell, root: &Utf8Path) {
    let dir = root.join("target").join("xtask-worktrees");
    if let Ok(entries) = fs::read_dir(&dir) {
        let proc_fs = std::path::Path::new("/proc/self").exists();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
            let alive = match pid {
                Some(pid) => proc_fs && std::path::Path::new(&format!("/proc/{pid}")).exists(),
                None => false,
            };
            if alive && pid != Some(std::process::id()) {
                continue;
            }
            let path = dir.join(&name);
            let _ = cmd!(sh, "git worktree remove --force {path}")
                .quiet()
                .ignore_status()
                .ignore_stderr()
                .run();
            let _ = fs::remove_dir_all(&path);
        }
    }
    let _ = cmd!(sh, "git worktree prune")
        .quiet()
        .ignore_status()
        .ignore_stderr()
        .run();
}

/// A temporary detached worktree, removed on drop.
pub(super) struct Worktree<'a> {
    sh: &'a Shell,
    pub(super) path: Utf8PathBuf,
}

impl<'a> Worktree<'a> {
    pub(super) fn add(
        sh: &'a Shell,
        root: &Utf8Path,
        name: &str,
        rev: &str,
    ) -> Result<Worktree<'a>> {
        let path = root
            .join("target")
            .join("xtask-worktrees")
            .join(format!("{name}-{}", std::process::id()));
        if path.exists() {
            fs::remove_dir_all(&path).with_context(|| format!("removing {path}"))?;
        }
        cmd!(sh, "git worktree add --quiet --detach {path} {rev}")
            .quiet()
            .run()
            .with_context(|| format!("checking out {rev} in a temporary worktree"))?;
        Ok(Worktree { sh, path })
    }
}

impl Drop for Worktree<'_> {
    fn drop(&mut self) {
        let (sh, path) = (self.sh, &self.path);
        let _ = cmd!(sh, "git worktree remove --force {path}")
            .quiet()
            .ignore_status()
            .ignore_stderr()
            .run();
        let _ = cmd!(sh, "git worktree prune").quiet().ignore_status().run();
    }
}
