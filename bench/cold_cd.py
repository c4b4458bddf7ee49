#!/usr/bin/env python3
"""Benchmark: the CD job from nothing, against the guide's shell job.

Both jobs release v0.7.0 of a fresh clone of this repository's HEAD (commit
your changes first) to a fresh bare remote and a fresh local pypiserver
(127.0.0.1, upload auth), one after the other, in this order each round:

  guide  set-up: pip install --user build twine   (empty pip cache, empty user base)
         steps:  sed edits, git commits and push, python -m build (isolated:
                 hatchling fetched), twine check --strict, twine upload
  xtask  set-up: cargo build --locked -p xtask     (empty target directory)
                 xtask tools --group release       (empty tools dir, uv and pip caches)
         steps:  xtask release v0.7.0 --step S, one process per step
                 (validate changelog version build check publish verify), as cd.yml;
                 with --one-process: xtask release v0.7.0

As in cd.yml, the xtask is compiled once and that binary (target/debug/xtask)
runs every step: cd.yml's later jobs each run the binary its xtask job
compiled, so this single job's figures are the whole pipeline's compile and
step costs (without the runners' start-up and the artifact transfers).

"From nothing" means: no build output, no installed tools, no pip or uv
download cache. Both jobs start with the same interpreter (python3 with pip,
as setup-python gives a runner), the same rustup toolchain and, unless
--empty-cargo-home, cargo's registry cache (the crate sources already
downloaded; with the flag, a fresh CARGO_HOME downloads them too). The
package index the tools come from is the one pip is configured for, so both
set-ups include the network. Prints set-up, steps and the whole job for
both, and the ratio. Run from the repository root, after
`cargo xtask tools` (its pypiserver serves the local index):

    python3 bench/cold_cd.py [--rounds N] [--one-process] [--empty-cargo-home]
"""

import argparse
import resource
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("XTASK_TOOLS_DIR", ROOT / "target" / "xtask-tools"))
SERVER_BIN = TOOLS / "venv" / "bin"
USER, PASSWORD = "bench", "bench-password-1"
STEPS = ["validate", "changelog", "version", "build", "check", "publish", "verify"]
TAG = "v0.7.0"
CPU_USED = 0.0

GUIDE_SETUP = 'python3 -m pip install --quiet --user --disable-pip-version-check build twine'
GUIDE_STEPS = r"""
set -euo pipefail
TAG=v0.7.0; VERSION=${TAG#v}
sed -i "s/^## Recent Changes$/## $TAG/" CHANGELOG.md
git commit -q -am "Release $TAG: changelog"
sed -i "s/^version = \".*\"/version = \"$VERSION\"/" pyproject.toml
git commit -q -am "Release $TAG: version"
git push -q origin root
rm -rf dist
python3 -m build --outdir dist . >/dev/null
python3 -m twine check --strict dist/*
python3 -m twine upload --non-interactive --disable-progress-bar dist/*
"""


def sh(cmd, cwd, env, quiet=True):
    out = subprocess.DEVNULL if quiet else None
    subprocess.run(cmd, cwd=cwd, env=env, check=True, shell=isinstance(cmd, str),
                   stdout=out, stderr=out if quiet else None)


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, cwd, env):
    """Wall seconds; the children's CPU seconds are added to CPU_USED."""
    global CPU_USED
    start, start_cpu = time.perf_counter(), cpu()
    try:
        sh(cmd, cwd, env)
    except subprocess.CalledProcessError:
        # Show what failed, then stop: a partial figure is no figure.
        subprocess.run(cmd, cwd=cwd, env=env, shell=isinstance(cmd, str))
        sys.exit(f"failed: {cmd}")
    CPU_USED += cpu() - start_cpu
    return time.perf_counter() - start


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Index:
    """A pypiserver on 127.0.0.1 with upload auth, stopped by PID."""

    def __init__(self, base):
        packages = base / "packages"
        packages.mkdir(parents=True)
        htpasswd = base / "htpasswd"
        subprocess.run(
            [SERVER_BIN / "python", "-c", "import os,sys\nfrom passlib.apache import HtpasswdFile\n"
             "h=HtpasswdFile(sys.argv[1], new=True); h.set_password(os.environ['U'], os.environ['P']); h.save()",
             htpasswd], env={**os.environ, "U": USER, "P": PASSWORD}, check=True)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [SERVER_BIN / "pypi-server", "run", "-i", "127.0.0.1", "-p", str(self.port), "-a", "update",
             "-P", htpasswd, "--disable-fallback", "--log-stream", "none", packages],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("the local index did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def clone(base, name):
    """A fresh bare remote holding HEAD as `root` with the tag, and a clone."""
    remote, work = base / f"{name}-remote.git", base / name
    sh(["git", "init", "-q", "--bare", "-b", "root", str(remote)], base, os.environ)
    sh(["git", "push", "-q", str(remote), "HEAD:refs/heads/root"], ROOT, os.environ)
    sh(["git", "clone", "-q", "-b", "root", str(remote), str(work)], base, os.environ)
    for c in (["config", "user.name", "bench"], ["config", "user.email", "b@localhost.invalid"]):
        sh(["git", *c], work, os.environ)
    sh(["git", "tag", "-a", TAG, "-m", f"Release {TAG}"], work, os.environ)
    sh(["git", "push", "-q", "origin", TAG], work, os.environ)
    return work


def job_env(base, index, extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "ACTIONS_", "TWINE_", "XTASK_", "CARGO_TARGET_DIR",
                                "PIP_FIND_LINKS", "UV_", "PYTHONUSERBASE"))}
    env.update({"TWINE_REPOSITORY_URL": f"http://127.0.0.1:{index.port}/",
                "TWINE_USERNAME": USER, "TWINE_PASSWORD": PASSWORD,
                "PIP_CACHE_DIR": str(base / "pip-cache"), "UV_CACHE_DIR": str(base / "uv-cache"),
                "XTASK_VERIFY_TIMEOUT": "60"})
    env.update(extra)
    return env


def guide_job(base):
    index = Index(base / "guide-index")
    try:
        work = clone(base, "guide")
        user = base / "guide-user"
        env = job_env(base / "guide", index, {"PYTHONUSERBASE": str(user),
                                              "PATH": f"{user / 'bin'}:{os.environ['PATH']}"})
        setup = timed(GUIDE_SETUP, work, env)
        steps = timed(["bash", "-c", GUIDE_STEPS], work, env)
        return {"set-up": setup, "steps": steps}
    finally:
        index.stop()


def xtask_job(base, one_process, empty_cargo_home):
    index = Index(base / "xtask-index")
    try:
        work = clone(base, "xtask")
        extra = {"CARGO_TARGET_DIR": str(base / "xtask-target"),
                 "XTASK_TOOLS_DIR": str(base / "xtask-tools")}
        if empty_cargo_home:
            extra["CARGO_HOME"] = str(base / "cargo-home")
        env = job_env(base / "xtask", index, extra)
        build = timed(["cargo", "build", "--locked", "--package", "xtask"], work, env)
        xtask = str(base / "xtask-target" / "debug" / "xtask")
        tools = timed([xtask, "tools", "--group", "release"], work, env)
        if one_process:
            steps = timed([xtask, "release", TAG], work, env)
        else:
            steps = sum(timed([xtask, "release", TAG, "--step", s], work, env) for s in STEPS)
        return {"build": build, "tools": tools, "set-up": build + tools, "steps": steps}
    finally:
        index.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--one-process", action="store_true")
    p.add_argument("--empty-cargo-home", action="store_true")
    args = p.parse_args()
    if not (SERVER_BIN / "pypi-server").exists():
        sys.exit(f"no pypiserver in {SERVER_BIN}: run `cargo xtask tools` first")
    rows = {"guide": [], "xtask": []}
    cpu_used = {"guide": [], "xtask": []}
    global CPU_USED
    for r in range(args.rounds):
        base = Path(tempfile.mkdtemp(prefix="cold-cd-bench-"))
        try:
            for name, job in (("guide", lambda: guide_job(base)),
                              ("xtask", lambda: xtask_job(base, args.one_process, args.empty_cargo_home))):
                CPU_USED = 0.0
                rows[name].append(job())
                cpu_used[name].append(CPU_USED)
        finally:
            shutil.rmtree(base, ignore_errors=True)
        print(f"round {r + 1}: " + "; ".join(
            f"{n} " + ", ".join(f"{k} {v:.1f}" for k, v in rows[n][-1].items()) + f", cpu {cpu_used[n][-1]:.1f}"
            for n in rows), file=sys.stderr)

    def med(name, key):
        return statistics.median(row[key] for row in rows[name])

    steps_label = "one process" if args.one_process else "one process per step"
    print(f"median of {args.rounds} round(s), wall seconds; load average now {os.getloadavg()[0]:.1f}")
    print("| | set-up | release steps | whole job | CPU (user+sys) |")
    print("| --- | --- | --- | --- | --- |")
    for name, label in (("guide", "the guide's shell job (`pip install --user build twine`, shell steps)"),
                        ("xtask", f"cd.yml's job (cold `cargo build` {med('xtask', 'build'):.1f} s, "
                                  f"`xtask tools --group release` {med('xtask', 'tools'):.1f} s, "
                                  f"{steps_label})")):
        setup, steps = med(name, "set-up"), med(name, "steps")
        print(f"| {label} | {setup:.1f} | {steps:.1f} | {setup + steps:.1f} | "
              f"{statistics.median(cpu_used[name]):.1f} |")
    whole = {n: statistics.median(row["set-up"] + row["steps"] for row in rows[n]) for n in rows}
    print(f"whole-job ratio xtask/guide: {whole['xtask'] / whole['guide']:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
