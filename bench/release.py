#!/usr/bin/env python3
"""Benchmark: `cargo xtask release` against the guide's plain shell steps.

One sandbox, one run: a bare remote, a local pypiserver (managed tools),
two clones. The shell script releases v0.7.0 the way the old workflow did
(sed edits, git commits, `python -m build` with isolated build envs,
`twine check`, `twine upload`); the xtask releases v0.7.1 from a clone of
the same remote. Reports wall times, their ratio, and the xtask process's
own CPU time (user+sys of that process alone, sampled from /proc) as a
share of its wall time. Run from the repository root, after
`cargo build -p xtask` and `cargo xtask tools`:

    target/xtask-tools/venv/bin/python bench/release.py

Isolated builds fetch hatchling from the package index, as the old
workflow did; everything else stays on 127.0.0.1.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
XTASK = ROOT / "target" / "debug" / "xtask"
VENV = Path(os.environ.get("XTASK_TOOLS_DIR", ROOT / "target" / "xtask-tools")) / "venv"
PY = VENV / "bin" / "python"
USER, PASSWORD = "bench", "bench-password-1"

SHELL_RELEASE = r"""
set -euo pipefail
TAG=v0.7.0; VERSION=${TAG#v}
sed -i "s/^## Recent Changes$/## $TAG/" CHANGELOG.md
git commit -q -am "Release $TAG: changelog"
sed -i "s/^version = \".*\"/version = \"$VERSION\"/" pyproject.toml
git commit -q -am "Release $TAG: version"
git push -q origin root
rm -rf dist
"$PY" -m build --outdir dist . >/dev/null
"$PY" -m twine check --strict dist/*
"$PY" -m twine upload --non-interactive --disable-progress-bar dist/*
"""


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_cpu_seconds(pid):
    """utime+stime of the process itself (fields 14, 15 of /proc/pid/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(cmd, cwd, env, sample=False):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    own = 0.0
    while proc.poll() is None:
        if sample:
            try:
                own = own_cpu_seconds(proc.pid)
            except (OSError, IndexError):
                pass
        time.sleep(0.005)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed with {proc.returncode}")
    return wall, own


def main():
    tmp = Path(tempfile.mkdtemp(prefix="release-bench-"))
    server = None
    try:
        remote, packages = tmp / "remote.git", tmp / "packages"
        packages.mkdir()
        git("init", "-q", "--bare", "-b", "root", str(remote), cwd=tmp)
        seed = tmp / "seed"
        git("clone", "-q", "--no-local", str(ROOT), str(seed), cwd=tmp)
        git("checkout", "-q", "-B", "root", cwd=seed)
        git("push", "-q", str(remote), "root", cwd=seed)
        htpasswd = tmp / "htpasswd"
        subprocess.run(
            [PY, "-c", "import os,sys\nfrom passlib.apache import HtpasswdFile\n"
             "h=HtpasswdFile(sys.argv[1], new=True); h.set_password(os.environ['U'], os.environ['P']); h.save()",
             htpasswd], env={**os.environ, "U": USER, "P": PASSWORD}, check=True)
        port = free_port()
        server = subprocess.Popen(
            [VENV / "bin" / "pypi-server", "run", "-i", "127.0.0.1", "-p", str(port), "-a", "update",
             "-P", htpasswd, "--disable-fallback", "--log-stream", "none", packages])
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        env = {**os.environ, "TWINE_REPOSITORY_URL": f"http://127.0.0.1:{port}/",
               "TWINE_USERNAME": USER, "TWINE_PASSWORD": PASSWORD, "PY": str(PY),
               "XTASK_TOOLS_DIR": str(VENV.parent)}
        env.pop("GITHUB_ACTIONS", None)

        shell_clone = tmp / "shell"
        git("clone", "-q", str(remote), str(shell_clone), cwd=tmp)
        for c in (["config", "user.name", "bench"], ["config", "user.email", "b@localhost.invalid"]):
            git(*c, cwd=shell_clone)
        git("tag", "-a", "v0.7.0", "-m", "Release v0.7.0", cwd=shell_clone)
        git("push", "-q", "origin", "v0.7.0", cwd=shell_clone)
        shell_wall, _ = timed(["bash", "-c", SHELL_RELEASE], shell_clone, env)

        xtask_clone = tmp / "xtask"
        git("clone", "-q", str(remote), str(xtask_clone), cwd=tmp)
        for c in (["config", "user.name", "bench"], ["config", "user.email", "b@localhost.invalid"]):
            git(*c, cwd=xtask_clone)
        # The next release needs a fresh `## Recent Changes` section.
        log = (xtask_clone / "CHANGELOG.md").read_text()
        log = log.replace("## v0.7.0", "## Recent Changes\n\n### Internal\n\n- 🧹 Bench entry\n\n## v0.7.0", 1)
        (xtask_clone / "CHANGELOG.md").write_text(log)
        git("commit", "-q", "-am", "Bench entry", cwd=xtask_clone)
        git("tag", "-a", "v0.7.1", "-m", "Release v0.7.1", cwd=xtask_clone)
        git("push", "-q", "--atomic", "origin", "root", "v0.7.1", cwd=xtask_clone)
        xtask_wall, own = timed([XTASK, "release", "v0.7.1"], xtask_clone, env, sample=True)

        print(f"shell script (guide's steps): {shell_wall:6.2f} s wall")
        print(f"cargo xtask release:          {xtask_wall:6.2f} s wall")
        print(f"ratio xtask/shell:            {xtask_wall / shell_wall:6.2f}  (target <= 0.40)")
        print(f"xtask own CPU time:           {own:6.2f} s = {100 * own / xtask_wall:.1f}% of its wall (target <= 5%)")
    finally:
        if server:
            server.kill()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
