//! One `run:` step (bash, as the Actions runner runs it) and the file
//! commands and artifacts around it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Panics on a key this runner does not know how to honour.
pub fn check_keys(value: &Value, allowed: &[&str], what: &str) {
    for key in value.as_object().expect("a mapping").keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{what}: this runner does not know `{key}`; teach it before relying on it"
        );
    }
}

pub fn step_label(step: &Value) -> String {
    step["name"]
        .as_str()
        .or_else(|| step["uses"].as_str())
        .or_else(|| step["run"].as_str().and_then(|r| r.lines().next()))
        .unwrap_or("?")
        .to_string()
}

/// A `run:` step: the script in a file, run by
/// `bash --noprofile --norc -eo pipefail FILE` (the runner's `bash` shell)
/// in its own process group, so a timeout stops everything it started.
pub fn run_script(
    script: &str,
    dir: &Path,
    temp: &Path,
    n: usize,
    env: &BTreeMap<String, String>,
    deadline: Instant,
) -> Result<String, String> {
    let file = temp.join(format!("step-{n}.sh"));
    fs::write(&file, format!("{script}\n")).expect("writing the step's script");
    let log_path = temp.join(format!("step-{n}.log"));
    let log = fs::File::create(&log_path).expect("a step log");
    let mut child = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&file)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting bash in {}: {e}", dir.display()))?;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the step") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(text),
        Some(s) => Err(format!("{text}\n[{s}]")),
        None => Err(format!("{text}\n[the job's timeout-minutes ran out]")),
    }
}

/// `name=value` lines and `name<<DELIMITER` blocks of a file command.
pub fn read_pairs(file: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(file).unwrap_or_default();
    let mut pairs = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delimiter)) = line.split_once("<<") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            pairs.push((name.to_string(), body.join("\n")));
        } else {
            let (name, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("a file command line without `=`: {line}"));
            pairs.push((name.to_string(), value.to_string()));
        }
    }
    pairs
}

/// Copies a file as an artifact does: bytes only, no executable bit.
pub fn copy_plain(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to.parent().expect("a parent")).map_err(|e| e.to_string())?;
    fs::copy(from, to).map_err(|e| format!("copying {}: {e}", from.display()))?;
    fs::set_permissions(to, fs::Permissions::from_mode(0o644)).map_err(|e| e.to_string())
}

/// Copies a directory's files (recursively) as plain files; returns how many.
pub fn copy_tree(from: &Path, to: &Path) -> Result<usize, String> {
    let mut count = 0;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            count += copy_tree(&path, &dest)?;
        } else {
            copy_plain(&path, &dest)?;
            count += 1;
        }
    }
    Ok(count)
}

pub fn sha256_of(path: &Path) -> String {
    let out = crate::harness::run_ok(Command::new("sha256sum").arg(path));
    out.split_whitespace()
        .next()
        .expect("sha256sum output")
        .to_string()
}
