//! The command line: one table of commands and their flags, parsed with
//! `lexopt`. Help and usage text are generated from the same table, so
//! they cannot drift from what is accepted.

use std::collections::BTreeMap;
use std::ffi::OsString;

use crate::input::BadInput;

pub struct FlagSpec {
    pub name: &'static str,
    /// `Some("NAME")` when the flag takes a value.
    pub value: Option<&'static str>,
    pub help: &'static str,
}

pub struct CommandSpec {
    pub name: &'static str,
    pub args: &'static str,
    pub summary: &'static str,
    pub about: &'static str,
    pub positionals: (usize, usize),
    pub flags: &'static [FlagSpec],
}

const DRY_RUN: FlagSpec = FlagSpec {
    name: "dry-run",
    value: None,
    help: "print every command and file change, change nothing",
};
const REMOTE: FlagSpec = FlagSpec {
    name: "remote",
    value: Some("NAME"),
    help: "git remote to push to (default: origin, or `remote` in [tool.xtask])",
};
const REMOTE_READ: FlagSpec = FlagSpec {
    name: "remote",
    value: Some("NAME"),
    help: "git remote to read from (default: origin, or `remote` in [tool.xtask])",
};
const DOCS_BRANCH: FlagSpec = FlagSpec {
    name: "docs-branch",
    value: Some("NAME"),
    help: "the generated docs branch (default: docs, or `docs-branch` in [tool.xtask])",
};
const ROOT_BRANCH: FlagSpec = FlagSpec {
    name: "root-branch",
    value: Some("NAME"),
    help: "the release branch (default: root, or `release-branch` in [tool.xtask])",
};
const LABEL: FlagSpec = FlagSpec {
    name: "label",
    value: Some("NAME"),
    help: "a pull-request label (repeat for several)",
};
const TITLE: FlagSpec = FlagSpec {
    name: "title",
    value: Some("TEXT"),
    help: "the pull-request title",
};
const EVENT: FlagSpec = FlagSpec {
    name: "event",
    value: None,
    help: "read the pull request from $GITHUB_EVENT_PATH (a pull_request event, or a push whose merged pull request the REST API names)",
};

const REPOSITORY: FlagSpec = FlagSpec {
    name: "repository",
    value: Some("NAME"),
    help: "the repository (index) of twine's config file to use, as `twine upload --repository` (also TWINE_REPOSITORY; default pypi)",
};
const REPOSITORY_URL: FlagSpec = FlagSpec {
    name: "repository-url",
    value: Some("URL"),
    help: "the index's upload URL; wins over --repository, as in twine (also TWINE_REPOSITORY_URL)",
};
const CONFIG_FILE: FlagSpec = FlagSpec {
    name: "config-file",
    value: Some("PATH"),
    help: "twine's config file to read the repository from (also XTASK_CONFIG_FILE; default ~/.pypirc)",
};
const UPLOAD_TIMEOUT: FlagSpec = FlagSpec {
    name: "upload-timeout",
    value: Some("SECONDS"),
    help: "stop a `twine upload` that takes longer (`600`, `90s`, `10m`; also XTASK_UPLOAD_TIMEOUT; default 600)",
};

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "changelog-add",
        args: "",
        summary: "add a merged pull request's entry under `## Recent Changes`",
        about: "Files `- TITLE ([#N](URL))` under the category of the first known label \
(bug: Fixes, feature: Features, enhancement: Enhancements, documentation: Documentation, \
internal: Internal, anything else: Miscellaneous), adding the category, or the \
`## Recent Changes` section under the title, when missing. Every other byte of \
CHANGELOG.md stays. A pull request that already has an entry is a no-op. With --commit, \
commits the entry alone and pushes it (fetch, rebase and retry when the branch moved).\n\n\
The title is one line of at most 256 characters, written as text (HTML and Markdown \
punctuation escaped). URL is the pull request's own page, built from N and the repository \
(GITHUB_REPOSITORY or the event's, on GITHUB_SERVER_URL); --url must be exactly that page. \
With --event only a pull request merged into the release branch gets an entry: a \
`pull_request` event `closed` with `merged: true`, or a push whose commit the REST API \
maps to exactly one merged pull request.",
        positionals: (0, 0),
        flags: &[
            LABEL,
            TITLE,
            FlagSpec {
                name: "pr",
                value: Some("N"),
                help: "the pull-request number",
            },
            FlagSpec {
                name: "url",
                value: Some("URL"),
                help: "the pull-request URL",
            },
            EVENT,
            FlagSpec {
                name: "commit",
                value: None,
                help: "commit the entry and push the release branch",
            },
            DRY_RUN,
            REMOTE,
            ROOT_BRANCH,
        ],
    },
    CommandSpec {
        name: "docs-deploy",
        args: "SERIES",
        summary: "build the docs with mike and push them to the docs branch as one series",
        about: "SERIES is 0.7, v0.7 or 0.7.3 (series 0.7 built from the working tree, which \
must be clean and on the release branch unless --from-tree), or a tag v0.7.3 (built from \
that release's release commit: the first commit from the tag on along the remote release \
branch where CHANGELOG.md has `## v0.7.3` and pyproject.toml version 0.7.3, in a temporary \
worktree). Only a released series is deployed (a release tag in it, here or on the remote, \
or pyproject.toml's version in it) unless --unreleased. Reads the remote docs branch first \
and plans from it; the site's conventions win: an existing spelling of the series is \
reused, a new series is spelled as the site spells its series (an empty site: \
`docs-spelling` in [tool.xtask], bare by default), aliases keep the type they have on the \
branch (an empty site: `docs-alias-type`, redirect by default). `latest-release` ends on \
the newest released series, repaired when found elsewhere; the site default is \
`latest-release`. The result is pushed once (a push that loses a race is planned and \
deployed again on top, a bounded number of times; nothing is forced) and the remote is \
checked to hold exactly that commit.",
        positionals: (1, 1),
        flags: &[
            FlagSpec {
                name: "from-tree",
                value: None,
                help: "deploy the working tree even when HEAD is not the release branch",
            },
            FlagSpec {
                name: "unreleased",
                value: None,
                help: "deploy a series that has no release yet, without `latest-release` or the site default",
            },
            DRY_RUN,
            REMOTE,
            ROOT_BRANCH,
            DOCS_BRANCH,
        ],
    },
    CommandSpec {
        name: "docs-list",
        args: "",
        summary: "list the docs versions, aliases and default on the remote docs branch",
        about: "Fetches the remote docs branch and prints its versions.json newest first, \
with each version's aliases, and the version the site root redirects to.",
        positionals: (0, 0),
        flags: &[REMOTE_READ, DOCS_BRANCH],
    },
    CommandSpec {
        name: "docs-rollback",
        args: "SERIES",
        summary: "restore one docs series to its state before its last deploy, as a new commit",
        about: "Undoes the series' last deploy: restores its directory and versions.json \
entry to their state before that deploy (a series deployed once is deleted, and the plan \
says so), or to --to REV, a commit of the docs branch's own history where the series \
existed. A new commit on the docs branch, pushed normally: no history rewrite, no \
force-push. The commit records the deploy it undid, so rolling back again is a no-op that \
says so (pass --to for an earlier state). Other series and the aliases stay as they are. \
Refused when it would leave `latest-release` or the site default pointing at nothing.",
        positionals: (1, 1),
        flags: &[
            FlagSpec {
                name: "to",
                value: Some("REV"),
                help: "restore the state at this commit of the docs branch instead",
            },
            DRY_RUN,
            REMOTE,
            DOCS_BRANCH,
        ],
    },
    CommandSpec {
        name: "lint-pr",
        args: "",
        summary: "check a pull request's title and labels",
        about: "The title must be one or more emoji, a space, then a capitalised word \
(e.g. `✨ Add dataframe repeat support`); the labels must include one of bug, feature, \
enhancement, documentation, internal. An emoji is one Unicode recommends (RGI): \
an emoji character, a symbol with VS16, a keycap, a flag, a skin-tone or ZWJ sequence; \
not any symbol. The title is one line with no control characters, at most 256 characters \
(the rule changelog-add applies). Prints every problem and exits 1 when there is one.",
        positionals: (0, 0),
        flags: &[TITLE, LABEL, EVENT],
    },
    CommandSpec {
        name: "rehearse",
        args: "[vX.Y.Z]",
        summary: "rehearse the whole release on local stand-ins and report",
        about: "Runs `tag`, `release` and `docs-deploy` exactly as a maintainer and the CD pipeline would, \
on a throwaway clone of this repository (HEAD) whose remote is a local bare repository \
(right after a release, a marked changelog entry is added in that clone only), \
against a local pypiserver on 127.0.0.1 with upload auth (random password, passed by \
environment), with the managed tools. Then installs the published version from that \
index, and its dependencies from pip's configured index (or --find-links DIR), into a \
fresh virtual environment, imports it, reads its installed version, and prints a report: each step's \
time, the release commit and tag on the remote, the files and sha256 on the index, the \
docs versions, aliases and default. \
Nothing outside target/rehearsal/ is touched, and nothing is pushed or uploaded beyond \
the local stand-ins (only pip reads its configured index, for dependencies). The \
version defaults to the next patch after pyproject.toml's version.",
        positionals: (0, 1),
        flags: &[
            FlagSpec {
                name: "keep",
                value: None,
                help: "keep target/rehearsal/ (clone, remote, index files) for inspection",
            },
            FlagSpec {
                name: "port",
                value: Some("N"),
                help: "serve the local index on 127.0.0.1:N (default: a free port)",
            },
            FlagSpec {
                name: "find-links",
                value: Some("DIR"),
                help: "install the package's dependencies from this folder of wheels instead of pip's configured index (offline use)",
            },
            UPLOAD_TIMEOUT,
        ],
    },
    CommandSpec {
        name: "release",
        args: "vX.Y.Z",
        summary: "the CD pipeline: validate, changelog, version, build, check, publish, verify",
        about: "Releases an existing tag vX.Y.Z. What is published is the tagged source: the \
tag's tree plus only the release's own edits (the version value in pyproject.toml, \
`## Recent Changes` renamed to `## vX.Y.Z`), built in a temporary directory. `validate` is \
the preflight and changes nothing: the tag is on the release branch and newer than every \
release known anywhere (tags here and on the remote, every version on the index, yanked ones \
included, released CHANGELOG.md headings), unless the index already lists exactly the tagged \
source's files (then it is released: exit 0, whatever happened on the branch since); the \
branch differs from the tag only by the release edits, compared by content (entries that \
arrived after the tag stay under a fresh `## Recent Changes`); the tagged source builds and \
passes `twine check --strict`; the index is readable; upload credentials are present. Then \
`changelog` and `version` commit the edits on the remote's branch (a push that loses a race \
fetches and plans again; never forced), `build` writes the sdist and wheel to --dist, \
`check` checks them, `publish` uploads what the index lacks (a file the index already has \
counts as present; its sha256 is verified), `verify` waits until the index lists every file \
with its sha256. A failure before any upload reverts the changelog heading; once a file is \
uploaded or listed, nothing is reverted: the error names the command that resumes.\n\n\
Index, chosen as twine chooses it: --repository-url (TWINE_REPOSITORY_URL), else the \
repository --repository (TWINE_REPOSITORY, default pypi) of twine's config file \
(--config-file, default ~/.pypirc; pypi and testpypi need no section). Credentials in \
twine's order: TWINE_USERNAME / TWINE_PASSWORD, userinfo in the URL (taken out and passed \
by environment), the config file's section, the keyring, trusted publishing in GitHub \
Actions. XTASK_INDEX_URL sets the simple index to read (default: derived from the upload \
URL). Bounds: one `twine upload` --upload-timeout (default 600 s; a timed-out upload is \
never reverted, a re-run converges); XTASK_VERIFY_TIMEOUT the wait for the index (`120`, \
`90s`, `2m`; default 120 s); every index and GitHub API request 15 s to connect, 60 s in all; \
git transfers stalled below 1 byte/s for 60 s (GIT_HTTP_LOW_SPEED_*).\n\n\
Step outputs (GITHUB_OUTPUT): `tag`, `version`, `released` (validate, and the end of a full \
run); `release-commit` (the commit where `## vX.Y.Z` and version X.Y.Z first stand together); \
`sha256` (build: `FILE=SHA256,FILE=SHA256`, sorted); `uploaded` (publish: `true` once a file \
of the version is on the index). A publish job that receives the build job's files checks \
them with `--step publish --dist DIR --expect-sha256 \"$SHA256\"`.",
        positionals: (1, 1),
        flags: &[
            FlagSpec {
                name: "step",
                value: Some("NAME"),
                help: crate::release::STEP_FLAG_HELP,
            },
            FlagSpec {
                name: "require-release-event",
                value: None,
                help: "validate refuses (exit 2) unless this run is a release event, instead of \
warning that the GitHub Release was not checked (also XTASK_REQUIRE_RELEASE_EVENT=true)",
            },
            FlagSpec {
                name: "dist",
                value: Some("DIR"),
                help: "where build writes and check, publish, verify read the files (default: dist)",
            },
            FlagSpec {
                name: "expect-sha256",
                value: Some("LIST"),
                help: "publish/verify: refuse unless the files in --dist are exactly FILE=SHA256,... (the build step's `sha256` output)",
            },
            REPOSITORY,
            REPOSITORY_URL,
            CONFIG_FILE,
            UPLOAD_TIMEOUT,
            DRY_RUN,
            REMOTE,
            ROOT_BRANCH,
        ],
    },
    CommandSpec {
        name: "release-rollback",
        args: "vX.Y.Z",
        summary: "roll a bad release back: GitHub Release, tag, index yank, next tag",
        about: "Rolls back the newest release only (an older or never-released version is \
refused, with what to do instead). Says which case applies: a version the index never \
received may be tagged again; one the index lists is spent, and the next release is the \
next patch. Shows the plan with every call and ref deletion, asks for confirmation (--yes \
skips it), then deletes the GitHub Release of the tag (GITHUB_TOKEN; a 404 counts as gone \
only when the release list proves it), and with --delete-tag the tag here and on the \
remote. The package index has no API to yank a release: the command prints the release's \
management page to yank it by hand and, with --wait, polls the index until every file of \
the version carries the yank flag; 404s, 5xx and timeouts are looked at again until \
XTASK_YANK_TIMEOUT (`900`, `5s`, `2m`, `1h`; default 900 s) runs out, then reported.",
        positionals: (1, 1),
        flags: &[
            FlagSpec {
                name: "delete-tag",
                value: None,
                help: "also delete the tag, locally and on the remote",
            },
            FlagSpec {
                name: "yes",
                value: None,
                help: "do not ask for confirmation",
            },
            FlagSpec {
                name: "wait",
                value: None,
                help: "poll the index until the version is yanked",
            },
            DRY_RUN,
            REMOTE,
            REPOSITORY,
            REPOSITORY_URL,
            CONFIG_FILE,
        ],
    },
    CommandSpec {
        name: "preflight",
        args: "[vX.Y.Z]",
        summary: "check HEAD for everything the next tag, release and docs-deploy would refuse",
        about: "Changes nothing anywhere. Checks HEAD's committed tree for the release of vX.Y.Z (default: pyproject.toml's version when it is newer than every release, else the next patch): its place among every release known (tags here and on the remote, the package index, released changelog headings), `## Recent Changes` with entries, pyproject.toml's name and literal version, the sdist settings of the build backend (no release tooling ships), then the sdist and wheel built once in a temporary directory with the release's edits (the artifact audit and `twine check --strict`), and the docs built with `mkdocs build --strict`. One line per problem: what, where (file:line when there is one), and the fix; what was checked when all is well. `tag` runs the same checks before it creates anything. Exit 0 when releasable, 2 otherwise.",
        positionals: (0, 1),
        flags: &[REPOSITORY, REPOSITORY_URL, CONFIG_FILE, REMOTE_READ],
    },
    CommandSpec {
        name: "status",
        args: "",
        summary: "report whether tags, pyproject, changelog, index and docs agree",
        about: "Reads the remote's tags and branches (no local tag is changed), fetches the \
release and docs branches, reads the package index, and prints the newest tag, \
pyproject.toml's version, the `## Recent Changes` entries, the newest version on the \
index, the release state after a rollback (spent, next patch), the docs versions, aliases \
and default, and unpushed commits. Then every inconsistency, reasoned from the index \
outward (untagged or yanked versions, tags this clone holds differently or that the \
remote deleted, changelog sections, docs for every released series), with the fix that \
moves the state forward. An unreachable remote or index is reported as a finding with \
its reason; --json always prints the report. Exit 0 when consistent, 1 otherwise.",
        positionals: (0, 0),
        flags: &[
            FlagSpec {
                name: "json",
                value: None,
                help: "print the report as JSON",
            },
            REPOSITORY,
            REPOSITORY_URL,
            CONFIG_FILE,
            REMOTE_READ,
            ROOT_BRANCH,
            DOCS_BRANCH,
        ],
    },
    CommandSpec {
        name: "tag",
        args: "vX.Y.Z",
        summary: "make the release commit and annotated tag on root, and push both atomically",
        about: "The maintainer's side of a release, run before publishing the GitHub Release. \
Runs the release's preflight first, so a pushed tag is always releasable: the tree is clean, \
HEAD is the release branch and in sync with the remote, the tag is new and newer than every \
release known anywhere (tags here and on the remote, every version on the package index, \
yanked ones included, released CHANGELOG.md headings; a version the index has is never \
tagged again: the next patch is named), `## Recent Changes` has entries, pyproject.toml has \
a name and a literal version, and exactly what will be tagged builds and passes \
`twine check --strict` (in a temporary directory). The index is read as `release` reads it \
(TWINE_REPOSITORY_URL, XTASK_INDEX_URL). Then makes one commit \"Release vX.Y.Z\" (changelog \
heading and pyproject.toml version), the annotated tag \"Release vX.Y.Z\" on it, and pushes \
branch and tag in one atomic push. If the push is refused, the local commit and tag are \
undone; losing the race to an identical `tag` run is success. Re-running after success is a \
no-op. With --github-release (its GITHUB_TOKEN and repository checked before any push) it \
also publishes the GitHub Release (GITHUB_TOKEN, GITHUB_REPOSITORY or the remote's URL, \
GITHUB_API_URL): titled exactly vX.Y.Z, with that version's changelog section as notes; an \
existing release with the right title is kept.",
        positionals: (1, 1),
        flags: &[
            FlagSpec {
                name: "github-release",
                value: None,
                help: "also publish the GitHub Release titled exactly the tag",
            },
            REPOSITORY,
            REPOSITORY_URL,
            CONFIG_FILE,
            DRY_RUN,
            REMOTE,
            ROOT_BRANCH,
        ],
    },
    CommandSpec {
        name: "test",
        args: "[CARGO_TEST_ARGS]...",
        summary: "install what the tests need on this machine, then run every test",
        about: "Prepares, then runs `cargo test --workspace --no-fail-fast` with the given \
arguments (after `--`, e.g. `cargo xtask test -- -p xtask --test release`). Preparing: \
Chromium and chromedriver (the docs-site browser test), Node.js and npm (the pinned \
workflow linter, `npm ci --prefix tools`) and Python 3.10+ with pip or venv (the managed \
tools, every group). What is missing is installed with apt-get when running as root on \
Debian or Ubuntu (Debian packages chromium, chromium-driver, nodejs, npm, python3-venv); \
elsewhere the command stops before running anything, with one line naming what to \
install. A failing test does not stop the others.\n\n\
XTASK_OS_RELEASE reads another os-release file than /etc/os-release.",
        positionals: (0, usize::MAX),
        flags: &[],
    },
    CommandSpec {
        name: "tools",
        args: "",
        summary: "install or verify the managed Python tools and print their versions",
        about: "Installs the pinned Python tools, by group, each from its own hash-locked \
file with its dependencies, or verifies the installed ones, then prints each tool's \
version. Other commands install the group they need on first use (release and tag: \
release; docs-deploy: docs; rehearse and the tests: all); an environment is reused until its lock \
changes.\n  release: build, twine, hatchling (tools/release.lock)\
\n  docs: mkdocs, mkdocs-material, mike (tools/docs.lock)\
\n  test: pypiserver, passlib, zizmor, pip (tools/test.lock)\
\nuv (tools/uv.lock) installs them; it is itself installed with pip. Lock refresh: see the \
README.\n\n\
Location: $XTASK_TOOLS_DIR, else target/xtask-tools/ in the project: one virtual \
environment per group set (release/, docs/, and venv/ for all groups), uv/.\n\
Interpreter: $XTASK_PYTHON, else python3 (3.10 or newer, with pip or the venv module).",
        positionals: (0, 0),
        flags: &[
            FlagSpec {
                name: "group",
                value: Some("NAME"),
                help: "install only this group: release, docs or test (repeat for several; default: all)",
            },
            FlagSpec {
                name: "reinstall",
                value: None,
                help: "delete the environment and install it again",
            },
        ],
    },
];

/// A command line checked against its `CommandSpec`.
#[derive(Debug)]
pub struct Parsed {
    pub command: &'static str,
    pub positionals: Vec<String>,
    flags: BTreeMap<&'static str, Vec<String>>,
}

impl Parsed {
    pub fn switch(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    pub fn values(&self, name: &str) -> &[String] {
        self.flags.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }
}

pub enum Invocation {
    Run(Parsed),
    Help(String),
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, BadInput> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let first = parser
        .next()
        .map_err(|e| usage_error(None, &e.to_string()))?;
    let spec = match first {
        None | Some(Short('h') | Long("help")) => return Ok(Invocation::Help(main_help())),
        Some(Value(name)) => {
            let name = name.to_string_lossy();
            if name == "help" {
                return Ok(Invocation::Help(main_help()));
            }
            find(&name).ok_or_else(|| usage_error(None, &format!("unknown command `{name}`")))?
        }
        Some(other) => {
            return Err(usage_error(
                None,
                &format!("expected a command, found {}", other.unexpected()),
            ))
        }
    };

    let mut parsed = Parsed {
        command: spec.name,
        positionals: Vec::new(),
        flags: BTreeMap::new(),
    };
    let bad = |msg: String| usage_error(Some(spec), &msg);
    while let Some(arg) = parser.next().map_err(|e| bad(e.to_string()))? {
        match arg {
            Short('h') | Long("help") => return Ok(Invocation::Help(command_help(spec))),
            Long(name) => {
                let name = name.to_string();
                let flag = spec
                    .flags
                    .iter()
                    .find(|f| f.name == name)
                    .ok_or_else(|| bad(format!("unknown option `--{name}`")))?;
                let value = match flag.value {
                    None => String::new(),
                    Some(_) => {
                        let raw = parser
                            .value()
                            .map_err(|_| bad(format!("`--{name}` needs a value")))?;
                        raw.into_string()
                            .map_err(|_| bad(format!("`--{name}` value is not valid UTF-8")))?
                    }
                };
                parsed.flags.entry(flag.name).or_default().push(value);
            }
            Value(value) => {
                let value = value
                    .into_string()
                    .map_err(|_| bad("an argument is not valid UTF-8".into()))?;
                parsed.positionals.push(value);
            }
            Short(c) => return Err(bad(format!("unknown option `-{c}`"))),
        }
    }
    let (min, max) = spec.positionals;
    let n = parsed.positionals.len();
    if n < min {
        return Err(bad(format!("missing argument: expected {}", spec.args)));
    }
    if n > max {
        return Err(bad(format!(
            "unexpected argument `{}`",
            parsed.positionals[max]
        )));
    }
    Ok(Invocation::Run(parsed))
}

pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

fn usage_line(spec: &CommandSpec) -> String {
    let args = if spec.args.is_empty() {
        String::new()
    } else {
        format!(" {}", spec.args)
    };
    let opts = if spec.flags.is_empty() {
        ""
    } else {
        " [OPTIONS]"
    };
    format!("usage: cargo xtask {}{args}{opts}", spec.name)
}

fn usage_error(spec: Option<&CommandSpec>, msg: &str) -> BadInput {
    let usage = match spec {
        Some(spec) => format!(
            "{}\n(run `cargo xtask {} --help` for details)",
            usage_line(spec),
            spec.name
        ),
        None => "usage: cargo xtask <COMMAND> [ARGS] [OPTIONS]\n(run `cargo xtask --help` for the commands)".to_string(),
    };
    BadInput(format!("{msg}\n{usage}"))
}

pub fn main_help() -> String {
    let width = COMMANDS.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::from(
        "Release and docs automation for mindoff-dataport.\n\n\
usage: cargo xtask <COMMAND> [ARGS] [OPTIONS]\n\ncommands:\n",
    );
    for c in COMMANDS {
        out.push_str(&format!("  {:width$}  {}\n", c.name, c.summary));
    }
    out.push_str(
        "\n`cargo xtask <COMMAND> --help` explains one command.\n\
Exit codes: 0 done or nothing to do, 1 failed, 2 bad input or usage.\n",
    );
    out
}

pub fn command_help(spec: &CommandSpec) -> String {
    let mut out = format!(
        "{}\n\n{}\n\n{}\n",
        spec.summary,
        spec.about,
        usage_line(spec)
    );
    if !spec.flags.is_empty() {
        out.push_str("\noptions:\n");
        let names: Vec<String> = spec
            .flags
            .iter()
            .map(|f| match f.value {
                Some(v) => format!("--{} {v}", f.name),
                None => format!("--{}", f.name),
            })
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(0);
        for (name, f) in names.iter().zip(spec.flags) {
            out.push_str(&format!("  {name:width$}  {}\n", f.help));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Invocation, BadInput> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn no_command_prints_help() {
        assert!(matches!(run(&[]), Ok(Invocation::Help(_))));
        assert!(matches!(run(&["--help"]), Ok(Invocation::Help(_))));
    }

    #[test]
    fn unknown_command_is_usage_error() {
        let err = run(&["frobnicate"]).err().map(|e| e.0).unwrap_or_default();
        assert!(err.contains("unknown command `frobnicate`"), "{err}");
        assert!(err.contains("usage: cargo xtask"), "{err}");
    }

    #[test]
    fn unknown_flag_and_extra_args_are_usage_errors() {
        let err = run(&["tools", "--frob"])
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains("unknown option `--frob`"), "{err}");
        let err = run(&["tools", "extra"])
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains("unexpected argument `extra`"), "{err}");
    }

    #[test]
    fn every_command_has_help() {
        for spec in COMMANDS {
            let help = command_help(spec);
            assert!(help.contains(&usage_line(spec)));
            assert!(main_help().contains(spec.summary));
            assert!(matches!(
                run(&[spec.name, "--help"]),
                Ok(Invocation::Help(_))
            ));
        }
    }

    #[test]
    fn switch_is_recorded() {
        let Ok(Invocation::Run(p)) = run(&["tools", "--reinstall"]) else {
            panic!("expected a parsed command");
        };
        assert!(p.switch("reinstall"));
        assert_eq!(p.value("reinstall"), Some(""));
    }

    /// Every `cargo xtask ...` (or `run: xtask ...`) line in the workflows
    /// is a valid command line for this binary (with `"$TAG"` standing for a release tag).
    #[test]
    fn workflow_command_lines_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("the workflows directory") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("a workflow");
            for line in text.lines() {
                // `cargo xtask ...`, or the compiled binary on PATH (cd.yml).
                let Some((_, rest)) = line
                    .split_once("cargo xtask ")
                    .or_else(|| line.split_once("run: xtask "))
                else {
                    continue;
                };
                seen += 1;
                let words: Vec<String> = rest
                    .split_whitespace()
                    .map(|w| w.trim_matches('"').replace("$TAG", "v0.7.0"))
                    .collect();
                let parsed = match parse(words.iter().map(OsString::from)) {
                    Ok(Invocation::Run(p)) => p,
                    Ok(Invocation::Help(_)) => panic!("{}: `{rest}` prints help", path.display()),
                    Err(e) => panic!("{}: `{rest}`: {e}", path.display()),
                };
                if matches!(parsed.command, "release" | "tag") {
                    assert!(
                        crate::version::Tag::parse(&parsed.positionals[0]).is_ok(),
                        "{rest}"
                    );
                }
                if let Some(step) = parsed.value("step") {
                    assert!(
                        crate::release::is_step(step),
                        "{}: unknown step in `{rest}`",
                        path.display()
                    );
                }
            }
        }
        assert!(
            seen >= 12,
            "only {seen} xtask lines found in {}",
            dir.display()
        );
    }
}
