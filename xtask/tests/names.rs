//! No user value reaches git as an option: every command, run with
//! `--remote`, `--root-branch` and `--docs-branch` values that start with
//! `-` or carry shell text (and an unknown remote), is refused as bad
//! input (exit 2) before anything runs: no marker file appears, no ref,
//! file or remote changes.

mod harness;

use std::path::Path;
use std::process::Stdio;

use harness::{free_port, git, output, text, Sandbox};

/// Each command with its positional arguments and the name flags it takes.
const COMMANDS: &[(&[&str], &[&str])] = &[
    (&["tag", "v0.7.0"], &["remote", "root-branch"]),
    (&["release", "v0.7.0"], &["remote", "root-branch"]),
    (
        &["release-rollback", "v0.6.0", "--yes", "--delete-tag"],
        &["remote"],
    ),
    (
        &["docs-deploy", "0.6"],
        &["remote", "root-branch", "docs-branch"],
    ),
    (&["docs-rollback", "0.6"], &["remote", "docs-branch"]),
    (&["docs-list"], &["remote", "docs-branch"]),
    (&["status"], &["remote", "root-branch", "docs-branch"]),
    (
        &[
            "changelog-add",
            "--title",
            "🔧 Fix a thing",
            "--label",
            "bug",
            "--pr",
            "7",
            "--url",
            "https://github.com/o/r/pull/7",
            "--commit",
        ],
        &["remote", "root-branch"],
    ),
];

fn hostile(markers: &Path) -> Vec<String> {
    let m = markers.display();
    vec![
        format!("--upload-pack=touch {m}/F;"),
        format!("$(touch {m}/G)"),
        format!(";touch {m}/H"),
        "-x".into(),
        "--receive-pack=touch".into(),
    ]
}

/// Refs, remote refs, working tree state and the files of the clone.
fn snapshot(sandbox: &Sandbox) -> String {
    [
        git(&sandbox.work, &["for-each-ref"]),
        git(&sandbox.remote, &["for-each-ref"]),
        git(&sandbox.work, &["status", "--porcelain", "--ignored"]),
    ]
    .join("\n")
}

fn no_markers(dirs: &[&Path]) {
    for dir in dirs {
        for name in ["F", "G", "H", "F;", "touch"] {
            assert!(
                !dir.join(name).exists(),
                "{} was created",
                dir.join(name).display()
            );
        }
    }
}

#[test]
fn hostile_names_are_refused_by_every_command() {
    let sandbox = Sandbox::new();
    let markers = sandbox.dir.path().join("markers");
    std::fs::create_dir_all(&markers).expect("markers dir");
    let before = snapshot(&sandbox);
    let closed = format!("http://127.0.0.1:{}/", free_port());
    let mut runs = 0;
    for (args, flags) in COMMANDS {
        for flag in *flags {
            let mut values = hostile(&markers);
            if *flag == "remote" {
                values.push("nosuch".into());
            }
            for value in values {
                for dry in [false, true] {
                    let mut all: Vec<&str> = args.to_vec();
                    let option = format!("--{flag}");
                    all.extend([option.as_str(), value.as_str()]);
                    let takes_dry = !matches!(args[0], "docs-list" | "status");
                    if dry && !takes_dry {
                        continue;
                    }
                    if dry {
                        all.push("--dry-run");
                    }
                    let mut cmd = sandbox.xtask(&all);
                    cmd.env("TWINE_REPOSITORY_URL", &closed)
                        .env("XTASK_INDEX_URL", format!("{closed}simple/"))
                        .stdin(Stdio::null());
                    let out = output(cmd);
                    runs += 1;
                    let said = text(&out);
                    assert_eq!(out.status.code(), Some(2), "{all:?}\n{said}");
                    let named = if value == "nosuch" {
                        said.contains("there is no git remote `nosuch`") && said.contains("origin")
                    } else {
                        said.contains("invalid")
                    };
                    assert!(named, "{all:?}: the refusal names the bad value\n{said}");
                }
            }
        }
    }
    assert!(runs > 100, "{runs}");
    no_markers(&[&markers, &sandbox.work, &sandbox.remote, sandbox.dir.path()]);
    assert_eq!(snapshot(&sandbox), before);
}

#[test]
fn hostile_names_in_the_project_settings_are_refused_too() {
    let sandbox = Sandbox::new();
    let markers = sandbox.dir.path().join("markers");
    std::fs::create_dir_all(&markers).expect("markers dir");
    let path = sandbox.work.join("pyproject.toml");
    let original = std::fs::read_to_string(&path).expect("pyproject");
    for key in ["remote", "release-branch", "docs-branch"] {
        for value in hostile(&markers) {
            let value = value.replace('\\', "\\\\").replace('"', "\\\"");
            std::fs::write(
                &path,
                format!("{original}\n[tool.xtask]\n{key} = \"{value}\"\n"),
            )
            .expect("write");
            for args in [
                &["status"][..],
                &["tag", "v0.7.0", "--dry-run"],
                &["docs-list"],
            ] {
                let out = output(sandbox.xtask(args));
                assert_eq!(
                    out.status.code(),
                    Some(2),
                    "{key}={value} {args:?}\n{}",
                    text(&out)
                );
                assert!(text(&out).contains("invalid"), "{}", text(&out));
            }
        }
    }
    std::fs::write(&path, original).expect("restore");
    no_markers(&[&markers, &sandbox.work, &sandbox.remote, sandbox.dir.path()]);
    assert!(git(&sandbox.work, &["status", "--porcelain"]).is_empty());
}
