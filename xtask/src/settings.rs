//! Project settings, read once: `[tool.xtask]` in `pyproject.toml`,
//! overridden by command-line flags, defaulting to the documented
//! behaviour. Remote and branch names are checked here, before any git
//! call, so no user value can reach git as an option.

use anyhow::{Context, Result};
use toml_edit::Document;
use xshell::{cmd, Shell};

use crate::input::{clip, BadInput};

/// The remote and branch names every command works with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branches {
    pub remote: String,
    pub root: String,
    pub docs: String,
}

impl Branches {
    /// The remote-tracking ref of the docs branch.
    pub fn docs_ref(&self) -> String {
        format!("refs/remotes/{}/{}", self.remote, self.docs)
    }
}

/// How an empty docs site spells its series: `0.7` or `v0.7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesSpelling {
    Bare,
    VPrefixed,
}

/// How mike makes an alias: a symlink in the tree, or a redirect page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AliasType {
    Symlink,
    Redirect,
}

impl AliasType {
    /// mike's `--alias-type` value.
    pub fn as_mike(self) -> &'static str {
        match self {
            AliasType::Symlink => "symlink",
            AliasType::Redirect => "redirect",
        }
    }
}

/// Changelog style overrides; `None` means "infer from CHANGELOG.md".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangelogStyle {
    pub blank_after_heading: Option<bool>,
    pub newest_first: Option<bool>,
}

/// Everything that cannot be inferred from the repository itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub branches: Branches,
    /// For a docs site with no series yet; an existing site's own spelling wins.
    pub docs_spelling: SeriesSpelling,
    /// For a docs site with no alias yet; an existing alias keeps its type.
    pub alias_type: AliasType,
    pub changelog: ChangelogStyle,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            branches: Branches {
                remote: "origin".into(),
                root: "root".into(),
                docs: "docs".into(),
            },
            docs_spelling: SeriesSpelling::Bare,
            alias_type: AliasType::Redirect,
            changelog: ChangelogStyle::default(),
        }
    }
}

/// The keys `[tool.xtask]` accepts, with what each expects.
pub const KEYS: &[(&str, &str)] = &[
    ("release-branch", "a branch name (default \"root\")"),
    ("docs-branch", "a branch name (default \"docs\")"),
    ("remote", "a git remote name (default \"origin\")"),
    ("docs-spelling", "\"bare\" (0.7, default) or \"v\" (v0.7)"),
    ("docs-alias-type", "\"redirect\" (default) or \"symlink\""),
    ("changelog-blank-after-heading", "true or false"),
    ("changelog-newest-first", "true or false"),
];

/// Command-line overrides of the settings.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub remote: Option<String>,
    pub root_branch: Option<String>,
    pub docs_branch: Option<String>,
}

/// Reads `[tool.xtask]` from the text of `pyproject.toml`, applies the
/// flags, and checks every name.
pub fn resolve(pyproject: Option<&str>, overrides: &Overrides) -> Result<Settings, BadInput> {
    let mut s = Settings::default();
    if let Some(text) = pyproject {
        apply_table(&mut s, text)?;
    }
    if let Some(r) = &overrides.remote {
        s.branches.remote = r.clone();
    }
    if let Some(b) = &overrides.root_branch {
        s.branches.root = b.clone();
    }
    if let Some(b) = &overrides.docs_branch {
        s.branches.docs = b.clone();
    }
    check_remote_name(&s.branches.remote)?;
    check_branch_name("release branch", &s.branches.root)?;
    check_branch_name("docs branch", &s.branches.docs)?;
    if s.branches.root == s.branches.docs {
        return Err(BadInput(format!(
            "the docs branch and the release branch are both `{}`: the docs branch holds \
generated output only and must be a branch of its own (--docs-branch, or `docs-branch` in \
[tool.xtask])",
            clip(&s.branches.root)
        )));
    }
    Ok(s)
}

fn apply_table(s: &mut Settings, text: &str) -> Result<(), BadInput> {
    // An unparsable pyproject.toml is reported by the commands that need
    // its other contents; settings then keep their defaults.
    let Ok(doc) = Document::parse(text) else {
        return Ok(());
    };
    let Some(table) = doc.get("tool").and_then(|t| t.get("xtask")) else {
        return Ok(());
    };
    let Some(table) = table.as_table_like() else {
        return Err(BadInput(
            "pyproject.toml: [tool.xtask] must be a table".into(),
        ));
    };
    for (key, item) in table.iter() {
        let expected = KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| *e)
            .ok_or_else(|| {
                BadInput(format!(
                    "pyproject.toml: [tool.xtask] has an unknown key `{}`; known keys: {}",
                    clip(key),
                    KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                ))
            })?;
        let bad = || {
            BadInput(format!(
                "pyproject.toml: [tool.xtask] `{key}` is `{}`; expected {expected}",
                clip(item.to_string().trim())
            ))
        };
        let string = || item.as_str().map(str::to_string).ok_or_else(bad);
        let boolean = || item.as_bool().ok_or_else(bad);
        match key {
            "release-branch" => s.branches.root = string()?,
            "docs-branch" => s.branches.docs = string()?,
            "remote" => s.branches.remote = string()?,
            "docs-spelling" => {
                s.docs_spelling = match string()?.as_str() {
                    "bare" => SeriesSpelling::Bare,
                    "v" => SeriesSpelling::VPrefixed,
                    _ => return Err(bad()),
                }
            }
            "docs-alias-type" => {
                s.alias_type = match string()?.as_str() {
                    "redirect" => AliasType::Redirect,
                    "symlink" => AliasType::Symlink,
                    _ => return Err(bad()),
                }
            }
            "changelog-blank-after-heading" => s.changelog.blank_after_heading = Some(boolean()?),
            "changelog-newest-first" => s.changelog.newest_first = Some(boolean()?),
            _ => unreachable!("`{key}` is in KEYS"),
        }
    }
    Ok(())
}

/// A branch name as `git check-ref-format --branch` accepts it, and never
/// one that git could read as an option.
pub fn check_branch_name(what: &str, name: &str) -> Result<(), BadInput> {
    let why = ref_component_problem(name, true);
    match why {
        None => Ok(()),
        Some(why) => Err(BadInput(format!(
            "invalid {what} name `{}`: {why}; expected a git branch name such as `root` or \
`release/1.x`",
            clip(name)
        ))),
    }
}

/// A remote name that git accepts and can never read as an option.
pub fn check_remote_name(name: &str) -> Result<(), BadInput> {
    match ref_component_problem(name, false) {
        None => Ok(()),
        Some(why) => Err(BadInput(format!(
            "invalid remote name `{}`: {why}; expected the name of a git remote such as `origin`",
            clip(name)
        ))),
    }
}

/// Why `name` is not a valid ref name (git's `check-ref-format` rules),
/// or `None`. `slashes`: whether `/`-separated components are allowed.
fn ref_component_problem(name: &str, slashes: bool) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.starts_with('-') {
        return Some("it starts with `-`, which git would read as an option".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(*c))
    {
        return Some(format!("it contains `{}`", c.escape_debug()));
    }
    if name == "@" || name.contains("@{") {
        return Some("`@` alone and `@{` are reserved".into());
    }
    if name.contains("..") {
        return Some("it contains `..`".into());
    }
    if !slashes && name.contains('/') {
        return Some("it contains `/`".into());
    }
    if name.ends_with('.') || name.ends_with('/') || name.starts_with('/') || name.contains("//") {
        return Some("it starts or ends with `/`, ends with `.`, or has `//`".into());
    }
    for part in name.split('/') {
        // Each component is a file name under .git/refs.
        if part.len() > 255 {
            return Some(format!(
                "a component is {} bytes long; file systems allow 255",
                part.len()
            ));
        }
        if part.starts_with('.') {
            return Some("a component starts with `.`".into());
        }
        if part.ends_with(".lock") {
            return Some("a component ends with `.lock`".into());
        }
    }
    if name == "HEAD" {
        return Some("`HEAD` is not a branch".into());
    }
    None
}

/// The remote must exist in this clone; bad input lists the ones that do.
pub fn require_remote(sh: &Shell, remote: &str) -> Result<()> {
    let known = cmd!(sh, "git remote")
        .quiet()
        .read()
        .context("listing the git remotes")?;
    let known: Vec<&str> = known
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if known.contains(&remote) {
        return Ok(());
    }
    Err(BadInput(format!(
        "there is no git remote `{}` in this clone; remotes: {} (pass --remote, or set `remote` \
in [tool.xtask] of pyproject.toml)",
        clip(remote),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
    .into())
}

/// The release branch must exist on the remote, which every command reads
/// it from: a local branch or a stale tracking ref of that name is not
/// enough. Bad input names the remote's branches and the setting. An
/// unreachable remote is left to the command, which reports git's reason.
pub fn require_branch(sh: &Shell, remote: &str, branch: &str) -> Result<()> {
    let heads = cmd!(sh, "git ls-remote --heads --end-of-options {remote}")
        .quiet()
        .ignore_stderr()
        .read();
    let Ok(heads) = heads else {
        return Ok(());
    };
    let known: Vec<&str> = heads
        .lines()
        .filter_map(|l| l.split_once("refs/heads/"))
        .map(|(_, name)| name.trim())
        .collect();
    if known.contains(&branch) {
        return Ok(());
    }
    Err(BadInput(format!(
        "the release branch `{}` does not exist on {}; its branches: {} (pass --root-branch \
NAME with one of them, or set `release-branch = \"NAME\"` in [tool.xtask] of pyproject.toml); \
nothing was changed",
        clip(branch),
        clip(remote),
        if known.is_empty() {
            "none".to_string()
        } else {
            clip(&known.join(", "))
        }
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Result<Settings, String> {
        resolve(Some(text), &Overrides::default()).map_err(|e| e.0)
    }

    #[test]
    fn defaults_without_a_table() {
        assert_eq!(names("[project]\nname='x'\n"), Ok(Settings::default()));
        assert_eq!(
            resolve(None, &Overrides::default()),
            Ok(Settings::default())
        );
    }

    #[test]
    fn table_then_flags() {
        let text = "[tool.xtask]\nrelease-branch = \"main\"\ndocs-branch = \"gh-pages\"\n\
docs-spelling = \"v\"\ndocs-alias-type = \"symlink\"\nchangelog-newest-first = true\n";
        let s = names(text).expect("valid settings");
        assert_eq!(s.branches.root, "main");
        assert_eq!(s.branches.docs, "gh-pages");
        assert_eq!(s.docs_spelling, SeriesSpelling::VPrefixed);
        assert_eq!(s.alias_type, AliasType::Symlink);
        assert_eq!(s.changelog.newest_first, Some(true));
        let flags = Overrides {
            root_branch: Some("trunk".into()),
            ..Overrides::default()
        };
        let s = resolve(Some(text), &flags).expect("valid");
        assert_eq!(s.branches.root, "trunk");
    }

    #[test]
    fn bad_tables_are_refused() {
        for (text, why) in [
            ("[tool.xtask]\nbranch = 'x'\n", "unknown key `branch`"),
            ("[tool.xtask]\ndocs-spelling = 'V'\n", "expected \"bare\""),
            ("[tool.xtask]\nremote = 3\n", "expected a git remote"),
            (
                "[tool.xtask]\nchangelog-newest-first = 'yes'\n",
                "expected true or false",
            ),
            (
                "[tool.xtask]\nrelease-branch = '--force'\n",
                "starts with `-`",
            ),
            ("[tool]\nxtask = 1\n", "must be a table"),
        ] {
            let err = names(text).err().unwrap_or_default();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn branch_names_follow_git() {
        for ok in ["root", "docs", "release/1.x", "gh-pages", "v1.0"] {
            assert_eq!(check_branch_name("b", ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "--upload-pack=touch F;",
            "a b",
            "a..b",
            "a/",
            "/a",
            "a//b",
            "a.lock",
            ".hidden",
            "a/.b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "@",
            "a@{1}",
            "a.",
            "HEAD",
            "a\nb",
        ] {
            assert!(check_branch_name("b", bad).is_err(), "{bad:?}");
        }
        assert!(check_remote_name("origin").is_ok());
        assert!(check_remote_name("up/stream").is_err());
        assert!(check_remote_name("--upload-pack=x").is_err());
        assert!(check_branch_name("b", &"x".repeat(256)).is_err());
        assert!(check_branch_name("b", &"x".repeat(255)).is_ok());
    }

    #[test]
    fn docs_branch_must_differ_from_root() {
        let flags = Overrides {
            docs_branch: Some("root".into()),
            ..Overrides::default()
        };
        let err = resolve(None, &flags).err().map(|e| e.0).unwrap_or_default();
        assert!(err.contains("both `root`"), "{err}");
    }

    #[test]
    fn echoed_names_are_clipped() {
        let long = format!("-{}", "x".repeat(10_000));
        let err = check_branch_name("b", &long)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.len() < 400, "{}", err.len());
    }
}
