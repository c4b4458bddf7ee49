//! The runner: cd.yml's jobs in `needs` order with their conditions,
//! permissions, environment and outputs, the four actions it uses, and
//! GitHub's re-runs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::expr::{has_status_call, interpolate, to_text, truthy, Ctx, Expr, Parser};
use super::steps::{check_keys, copy_plain, copy_tree, read_pairs, run_script, step_label};
use super::{Fixture, REQUEST_TOKEN};
use crate::harness::path_str;
use crate::harness::yaml::workflow;

// ---------------------------------------------------------------------------
// The runner.

/// The `xtask` job's `cargo build --locked --package xtask` would be a cold
/// compile of every dependency (ring's C included) in every test, since the
/// workflow has no cache. Instead the checkout's `target` is a symlink to
/// this directory, kept across test runs: `cargo build` still runs as
/// written and recompiles the checked-out xtask crate (a fresh clone's
/// files are newer than any earlier build, ~3 s), only the dependencies
/// are reused (one cold build, ~30 s, the first time ever). The workflow's
/// `cp target/debug/xtask` then copies what that build produced. Sharing
/// the test's own target/ instead would make the clone's build replace the
/// binary the tests are running. `TARGET_LOCK` keeps the tests'
/// builds (and the copy after each) from interleaving.
pub fn cargo_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cd-jobs-cargo-target")
}

pub static TARGET_LOCK: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone)]
pub struct StepRecord {
    pub name: String,
    pub outcome: &'static str,
    pub log: String,
    pub took: Duration,
}

#[derive(Debug, Clone)]
pub struct JobRecord {
    pub result: &'static str,
    pub outputs: Map<String, Value>,
    pub steps: Vec<StepRecord>,
}

impl JobRecord {
    /// The step that failed, if any.
    pub fn failed_step(&self) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.outcome == "failure")
    }

    pub fn log(&self) -> String {
        self.steps
            .iter()
            .map(|s| {
                let end = if s.log.ends_with('\n') || s.log.is_empty() {
                    ""
                } else {
                    "\n"
                };
                format!(
                    "=== {} ({}, {:.1?})\n{}{end}",
                    s.name, s.outcome, s.took, s.log
                )
            })
            .collect()
    }
}

pub struct Runner<'a> {
    pub fx: &'a Fixture,
    /// The release this run is for (its event's tag).
    pub tag: String,
    /// GitHub's run attempt: 1, then one more per re-run.
    pub attempt: u32,
    pub wf: Value,
    pub dir: PathBuf,
    pub event_path: PathBuf,
    pub event: Value,
    pub records: BTreeMap<String, JobRecord>,
}

/// Machine variables a job keeps (where the toolchains are); everything
/// else the test process has (CARGO_*, TWINE_*, GITHUB_*) is dropped.
pub const KEPT_VARS: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "RUSTUP_HOME",
    "CARGO_HOME",
    "RUSTUP_AUTO_INSTALL",
    "PYENV_ROOT",
];

impl<'a> Runner<'a> {
    pub fn new(fx: &'a Fixture) -> Runner<'a> {
        Runner::for_tag(fx, &fx.tag)
    }

    /// The run a published release of `tag` starts.
    pub fn for_tag(fx: &'a Fixture, tag: &str) -> Runner<'a> {
        let wf = workflow("cd.yml");
        check_keys(
            &wf,
            &["name", "on", "permissions", "concurrency", "env", "jobs"],
            "the workflow",
        );
        let types = &wf["on"]["release"]["types"];
        assert!(
            types
                .as_array()
                .is_some_and(|t| t.contains(&json!("published"))),
            "cd.yml no longer runs on a published release: {}",
            wf["on"]
        );
        let dir = fx.sandbox.dir.path().join(format!("actions-{tag}"));
        fs::create_dir_all(dir.join("artifacts")).expect("mkdir artifacts");
        let event = json!({
            "action": "published",
            "release": {
                "tag_name": tag,
                "name": tag,
                "draft": false,
                "prerelease": false,
            },
            "repository": {"full_name": "o/r"},
        });
        let event_path = dir.join("event.json");
        fs::write(&event_path, event.to_string()).expect("writing the event");
        Runner {
            fx,
            tag: tag.to_string(),
            attempt: 1,
            wf,
            dir,
            event_path,
            event,
            records: BTreeMap::new(),
        }
    }

    pub fn job_def(&self, name: &str) -> &Value {
        let job = &self.wf["jobs"][name];
        assert!(job.is_object(), "cd.yml has no job `{name}`");
        job
    }

    pub fn needs(&self, name: &str) -> Vec<String> {
        match &self.job_def(name)["needs"] {
            Value::Null => vec![],
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .map(|n| n.as_str().expect("a job name").to_string())
                .collect(),
            other => panic!("{name}: needs {other}"),
        }
    }

    /// Every job, each after the jobs it needs (ties by name).
    pub fn order(&self) -> Vec<String> {
        let jobs: Vec<String> = self.wf["jobs"]
            .as_object()
            .expect("jobs")
            .keys()
            .cloned()
            .collect();
        let mut done: Vec<String> = Vec::new();
        while done.len() < jobs.len() {
            let next = jobs
                .iter()
                .find(|j| !done.contains(j) && self.needs(j).iter().all(|n| done.contains(n)))
                .unwrap_or_else(|| panic!("the needs of {jobs:?} form a cycle"))
                .clone();
            done.push(next);
        }
        done
    }

    /// Runs, in order, every job not run yet.
    pub fn run_remaining(&mut self) {
        for job in self.order() {
            if !self.records.contains_key(&job) {
                self.run_job(&job);
            }
        }
    }

    /// Runs jobs in order up to and including `last`.
    pub fn run_through(&mut self, last: &str) {
        for job in self.order() {
            if !self.records.contains_key(&job) {
                self.run_job(&job);
            }
            if job == last {
                return;
            }
        }
        panic!("no job {last}");
    }

    /// GitHub's "Re-run all jobs": a new attempt of the same event; the
    /// run's artifacts stay (an upload with `overwrite` replaces them).
    pub fn rerun_all(&mut self) {
        self.attempt += 1;
        self.records.clear();
    }

    /// GitHub's "Re-run failed jobs": a new attempt that runs the failed
    /// jobs and every job needing them (directly or not) again; the other
    /// jobs keep their results and outputs, and the artifacts stay.
    pub fn rerun_failed(&mut self) {
        self.attempt += 1;
        let mut again: Vec<String> = self
            .records
            .iter()
            .filter(|(_, r)| r.result == "failure")
            .map(|(name, _)| name.clone())
            .collect();
        assert!(!again.is_empty(), "no job failed:\n{}", self.summary());
        loop {
            let more: Vec<String> = self
                .order()
                .into_iter()
                .filter(|j| !again.contains(j) && self.needs(j).iter().any(|n| again.contains(n)))
                .collect();
            if more.is_empty() {
                break;
            }
            again.extend(more);
        }
        for job in again {
            self.records.remove(&job);
        }
    }

    /// Runs `job` unless it ran in this attempt already.
    pub fn run_pending(&mut self, job: &str) {
        if !self.records.contains_key(job) {
            self.run_job(job);
        }
    }

    pub fn record(&self, job: &str) -> &JobRecord {
        self.records
            .get(job)
            .unwrap_or_else(|| panic!("job {job} has not run"))
    }

    pub fn result(&self, job: &str) -> &'static str {
        self.record(job).result
    }

    pub fn output(&self, job: &str, key: &str) -> String {
        to_text(self.record(job).outputs.get(key).unwrap_or(&Value::Null))
    }

    /// Where an uploaded artifact's files are kept.
    pub fn artifact(&self, name: &str) -> PathBuf {
        self.dir.join("artifacts").join(name)
    }

    /// Every job's result, for messages.
    pub fn summary(&self) -> String {
        self.records
            .iter()
            .map(|(name, r)| format!("### job {name}: {}\n{}\n", r.result, r.log()))
            .collect()
    }

    /// `needs` as a job's expressions see it: its direct needs only.
    pub fn needs_context(&self, name: &str) -> Value {
        let mut needs = Map::new();
        for need in self.needs(name) {
            let record = self
                .records
                .get(&need)
                .unwrap_or_else(|| panic!("{name} would run before {need}, which it needs"));
            needs.insert(
                need,
                json!({ "result": record.result, "outputs": record.outputs }),
            );
        }
        Value::Object(needs)
    }

    /// Whether the job runs: its `if:` (implicitly `success() && …` when
    /// it calls no status function), or `success()` without one.
    pub fn condition(&self, name: &str) -> bool {
        let text = match &self.job_def(name)["if"] {
            Value::Null => "success()".to_string(),
            Value::String(s) => s
                .trim()
                .strip_prefix("${{")
                .and_then(|s| s.strip_suffix("}}"))
                .unwrap_or(s)
                .to_string(),
            other => panic!("{name}: if {other}"),
        };
        let mut expr = Parser::parse(&text);
        if !has_status_call(&expr) {
            expr = Expr::And(
                Box::new(Expr::Call("success".into(), vec![])),
                Box::new(expr),
            );
        }
        let ctx = Ctx {
            contexts: json!({ "github": { "event": self.event }, "needs": self.needs_context(name) }),
            status: true,
        };
        truthy(&ctx.eval(&expr))
    }

    pub fn run_job(&mut self, name: &str) {
        assert!(!self.records.contains_key(name), "{name} ran twice");
        let job = self.job_def(name).clone();
        check_keys(
            &job,
            &[
                "name",
                "needs",
                "runs-on",
                "timeout-minutes",
                "permissions",
                "outputs",
                "env",
                "steps",
                "environment",
                "if",
            ],
            &format!("job {name}"),
        );
        if !self.condition(name) {
            self.records.insert(
                name.to_string(),
                JobRecord {
                    result: "skipped",
                    outputs: Map::new(),
                    steps: vec![],
                },
            );
            return;
        }
        let steps = job["steps"].as_array().expect("steps").clone();
        let compiles = steps
            .iter()
            .filter_map(|s| s["run"].as_str())
            .flat_map(str::lines)
            .any(|l| l.trim_start().starts_with("cargo "));
        let _target = compiles.then(|| TARGET_LOCK.lock().unwrap_or_else(|e| e.into_inner()));

        let root = self
            .dir
            .join("jobs")
            .join(self.attempt.to_string())
            .join(name);
        let (workspace, temp, files) = (root.join("work"), root.join("temp"), root.join("files"));
        for d in [&workspace, &temp, &files] {
            fs::create_dir_all(d).expect("job directories");
        }
        let mut env = self.runner_env(name, &job, &root);
        let base_path = env.get("PATH").cloned().unwrap_or_default();
        let github = json!({ "event": self.event });
        let runner = json!({ "temp": path_str(&temp) });
        let needs = self.needs_context(name);
        let top = Ctx {
            contexts: json!({ "github": github }),
            status: false,
        };
        for (k, v) in self.wf["env"].as_object().cloned().unwrap_or_default() {
            env.insert(k, interpolate(&v, &top));
        }
        let job_ctx = Ctx {
            contexts: json!({ "github": github, "needs": needs }),
            status: false,
        };
        for (k, v) in job["env"].as_object().cloned().unwrap_or_default() {
            env.insert(k, interpolate(&v, &job_ctx));
        }

        // Every step id, with no outputs until the step writes some.
        let mut step_outputs = Map::new();
        for step in &steps {
            if let Some(id) = step["id"].as_str() {
                step_outputs.insert(id.to_string(), json!({ "outputs": {} }));
            }
        }
        let deadline = Instant::now()
            + Duration::from_secs(60 * job["timeout-minutes"].as_u64().unwrap_or(360));
        let mut added_env: Vec<(String, String)> = Vec::new();
        let mut added_path: Vec<String> = Vec::new();
        let mut records = Vec::new();
        let mut failed = false;
        for (n, step) in steps.iter().enumerate() {
            check_keys(
                step,
                &[
                    "name",
                    "id",
                    "uses",
                    "with",
                    "run",
                    "env",
                    "working-directory",
                ],
                &format!("job {name}, step {}", n + 1),
            );
            let label = step_label(step);
            if failed {
                records.push(StepRecord {
                    name: label,
                    outcome: "skipped",
                    log: String::new(),
                    took: Duration::ZERO,
                });
                continue;
            }
            let ctx = Ctx {
                contexts: json!({
                    "github": github,
                    "needs": needs,
                    "steps": step_outputs,
                    "runner": runner,
                }),
                status: false,
            };
            let mut step_env = env.clone();
            step_env.extend(added_env.iter().cloned());
            for (k, v) in step["env"].as_object().cloned().unwrap_or_default() {
                step_env.insert(k, interpolate(&v, &ctx));
            }
            let path: Vec<String> = added_path
                .iter()
                .rev()
                .cloned()
                .chain([base_path.clone()])
                .collect();
            step_env.insert("PATH".into(), path.join(":"));
            let commands = [
                ("GITHUB_OUTPUT", "output"),
                ("GITHUB_ENV", "env"),
                ("GITHUB_PATH", "path"),
                ("GITHUB_STEP_SUMMARY", "summary"),
            ]
            .map(|(var, kind)| {
                let file = files.join(format!("{kind}-{n}"));
                fs::write(&file, "").expect("a step's command file");
                step_env.insert(var.into(), path_str(&file).into());
                file
            });
            let started = Instant::now();
            let outcome = match (step["uses"].as_str(), step["run"].as_str()) {
                (Some(uses), None) => {
                    let with: Map<String, Value> = step["with"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| {
                            let text = interpolate(&v, &ctx);
                            (k, Value::String(text))
                        })
                        .collect();
                    self.action(uses, &with, &workspace, &step_env, compiles)
                }
                (None, Some(script)) => {
                    let dir = match step["working-directory"].as_str() {
                        Some(d) => workspace.join(interpolate(&json!(d), &ctx)),
                        None => workspace.clone(),
                    };
                    run_script(script, &dir, &temp, n, &step_env, deadline)
                }
                _ => panic!("job {name}, step {label}: exactly one of uses: and run:"),
            };
            // File commands, read after the step as the runner does.
            let outputs = read_pairs(&commands[0]);
            if let Some(id) = step["id"].as_str() {
                step_outputs[id]["outputs"] = Value::Object(
                    outputs
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect(),
                );
            }
            added_env.extend(read_pairs(&commands[1]));
            added_path.extend(
                fs::read_to_string(&commands[2])
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            );
            let (outcome, log) = match outcome {
                Ok(log) => ("success", log),
                Err(log) => ("failure", log),
            };
            failed = outcome == "failure";
            records.push(StepRecord {
                name: label,
                outcome,
                log,
                took: started.elapsed(),
            });
        }
        // Job outputs, from whatever the steps wrote, even on failure.
        let ctx = Ctx {
            contexts: json!({ "github": github, "needs": needs, "steps": step_outputs, "runner": runner }),
            status: false,
        };
        let outputs = job["outputs"]
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(interpolate(&v, &ctx))))
            .collect();
        self.records.insert(
            name.to_string(),
            JobRecord {
                result: if failed { "failure" } else { "success" },
                outputs,
                steps: records,
            },
        );
    }

    /// What the runner puts in a job's environment before `env:`.
    pub fn runner_env(&self, name: &str, job: &Value, root: &Path) -> BTreeMap<String, String> {
        let (workspace, temp) = (root.join("work"), root.join("temp"));
        // No git configuration but what the job sets: no identity from
        // this machine's ~/.gitconfig (a runner has none).
        let gitconfig = root.join("gitconfig");
        fs::write(&gitconfig, "").expect("gitconfig");

        // The runner's environment.
        let mut env: BTreeMap<String, String> = KEPT_VARS
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let tag = &self.tag;
        for (k, v) in [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_EVENT_NAME", "release".into()),
            ("GITHUB_EVENT_PATH", path_str(&self.event_path).into()),
            ("GITHUB_REF", format!("refs/tags/{tag}")),
            ("GITHUB_REF_NAME", tag.clone()),
            ("GITHUB_REF_TYPE", "tag".into()),
            ("GITHUB_REPOSITORY", "o/r".into()),
            ("GITHUB_WORKFLOW", "CD".into()),
            ("GITHUB_RUN_ATTEMPT", self.attempt.to_string()),
            ("GITHUB_JOB", name.into()),
            ("GITHUB_WORKSPACE", path_str(&workspace).into()),
            ("RUNNER_TEMP", path_str(&temp).into()),
            ("RUNNER_OS", "Linux".into()),
            ("GIT_CONFIG_GLOBAL", path_str(&gitconfig).into()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            // This machine's stand-ins (see the file's header).
            (
                "XTASK_TOOLS_DIR",
                path_str(&crate::harness::tools_dir()).into(),
            ),
            (
                "TWINE_REPOSITORY_URL",
                format!("{}/", self.fx.exchange.url()),
            ),
            ("XTASK_INDEX_URL", self.fx.index.simple_url()),
            ("XTASK_VERIFY_TIMEOUT", "20".into()),
        ] {
            env.insert(k.to_string(), v);
        }
        // GITHUB_ACTIONS=true as on GitHub, so the xtask masks, annotates
        // and (in the publish job) publishes the trusted way: only a job
        // with `id-token: write` gets the ID-token request variables, and
        // the token it gets names the job's `environment:`; the exchange
        // mints only for the trusted one. No job gets TWINE_PASSWORD.
        if job["permissions"]["id-token"] == "write" {
            let environment = job["environment"].as_str().unwrap_or_default();
            env.insert(
                "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
                format!(
                    "{}/id-token?api-version=2.0&environment={environment}&tag={tag}",
                    self.fx.exchange.url()
                ),
            );
            env.insert(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                REQUEST_TOKEN.into(),
            );
        }
        env
    }

    /// The actions cd.yml uses, each done the way it matters here; any
    /// other action is a test failure.
    pub fn action(
        &self,
        uses: &str,
        with: &Map<String, Value>,
        workspace: &Path,
        env: &BTreeMap<String, String>,
        compiles: bool,
    ) -> Result<String, String> {
        let action = uses.split('@').next().unwrap_or(uses);
        let get = |k: &str| with.get(k).and_then(Value::as_str).map(str::to_string);
        let keys = |allowed: &[&str]| {
            for k in with.keys() {
                assert!(
                    allowed.contains(&k.as_str()),
                    "{action}: this runner does not know `with.{k}`"
                );
            }
        };
        let under = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                workspace.join(p)
            }
        };
        match action {
            "actions/checkout" => {
                keys(&["ref", "fetch-depth", "path", "persist-credentials"]);
                let dest = workspace.join(get("path").unwrap_or_default());
                let reference = get("ref").expect("every checkout in cd.yml names its ref");
                let depth: u64 =
                    get("fetch-depth").map_or(1, |d| d.parse().expect("fetch-depth is a number"));
                let persist = get("persist-credentials").is_none_or(|p| p == "true");
                let log = self.checkout(&dest, &reference, depth, persist, env)?;
                if compiles {
                    fs::create_dir_all(cargo_target()).map_err(|e| e.to_string())?;
                    std::os::unix::fs::symlink(cargo_target(), dest.join("target"))
                        .map_err(|e| format!("linking target/: {e}"))?;
                }
                Ok(log)
            }
            "actions/setup-python" => {
                keys(&["python-version"]);
                Ok("(the machine's Python and the managed tools stand in)".into())
            }
            "actions/upload-artifact" => {
                keys(&[
                    "name",
                    "path",
                    "if-no-files-found",
                    "overwrite",
                    "retention-days",
                ]);
                let name = get("name").expect("an artifact name");
                let from = under(&get("path").expect("an artifact path"));
                let store = self.artifact(&name);
                if store.exists() {
                    if get("overwrite").as_deref() != Some("true") {
                        return Err(format!("an artifact named {name} exists already"));
                    }
                    fs::remove_dir_all(&store).map_err(|e| e.to_string())?;
                }
                let files = if from.is_file() {
                    let file = from.file_name().expect("a file name");
                    copy_plain(&from, &store.join(file))?;
                    1
                } else if from.is_dir() {
                    copy_tree(&from, &store)?
                } else {
                    0
                };
                if files == 0 {
                    let error = get("if-no-files-found").as_deref() == Some("error");
                    let message = format!("no files were found at {}", from.display());
                    return if error { Err(message) } else { Ok(message) };
                }
                Ok(format!("uploaded {files} file(s) as {name}"))
            }
            "actions/download-artifact" => {
                keys(&["name", "path"]);
                let name = get("name").expect("an artifact name");
                let store = self.artifact(&name);
                if !store.is_dir() {
                    return Err(format!("Unable to download artifact(s): {name} not found"));
                }
                let dest = under(&get("path").unwrap_or_default());
                let files = copy_tree(&store, &dest)?;
                Ok(format!("downloaded {files} file(s) of {name}"))
            }
            other => panic!("this runner does not stand in for the action {other}"),
        }
    }

    /// actions/checkout: a fresh repository fetching from the remote with
    /// the action's refspecs, then the ref checked out (a branch as a local
    /// branch tracking origin's, a commit detached).
    pub fn checkout(
        &self,
        dest: &Path,
        reference: &str,
        depth: u64,
        persist: bool,
        env: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        if dest.exists() {
            fs::remove_dir_all(dest).map_err(|e| e.to_string())?;
        }
        fs::create_dir_all(dest).map_err(|e| e.to_string())?;
        let url = format!("file://{}", path_str(&self.fx.sandbox.remote));
        let is_commit = reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit());
        let mut log = String::new();
        let mut git_step = |args: &[&str]| -> Result<(), String> {
            let out = Command::new("git")
                .args(args)
                .current_dir(dest)
                .env_clear()
                .envs(env)
                .output()
                .map_err(|e| e.to_string())?;
            log.push_str(&format!(
                "$ git {}\n{}{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
            if out.status.success() {
                Ok(())
            } else {
                Err(log.clone())
            }
        };
        git_step(&["init", "-q"])?;
        git_step(&["remote", "add", "origin", &url])?;
        if !persist {
            // No token on disk: a push from this checkout is refused.
            git_step(&[
                "config",
                "remote.origin.pushurl",
                "file:///no-credentials-persisted",
            ])?;
        }
        let branch_spec = format!("+refs/heads/{reference}:refs/remotes/origin/{reference}");
        let depth_arg = format!("--depth={depth}");
        if depth == 0 {
            git_step(&[
                "fetch",
                "-q",
                "--prune",
                "--no-recurse-submodules",
                "origin",
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ])?;
        } else if is_commit {
            git_step(&["fetch", "-q", "--no-tags", &depth_arg, "origin", reference])?;
        } else {
            git_step(&[
                "fetch",
                "-q",
                "--no-tags",
                &depth_arg,
                "origin",
                &branch_spec,
            ])?;
        }
        if is_commit {
            git_step(&["checkout", "-q", "--force", reference])?;
        } else {
            let start = format!("refs/remotes/origin/{reference}");
            git_step(&["checkout", "-q", "--force", "-B", reference, &start])?;
        }
        Ok(log)
    }
}

/// `CD_JOBS_SHOW_LOG=1` prints every job's log (with `--nocapture`).
impl Drop for Runner<'_> {
    fn drop(&mut self) {
        if std::env::var_os("CD_JOBS_SHOW_LOG").is_some() {
            println!("{}", self.summary());
        }
    }
}
