#!/usr/bin/env python3
"""Benchmark: `cargo xtask preflight` against what it must cost at most.

Target: no more than the release's own build + check plus one strict docs
build. One sandbox (a clone whose origin is a local bare repository, a
local pypiserver as the index), N rounds, medians of:

  parts:     python -m build --no-isolation of the tree, twine check
             --strict of the result, mkdocs build --strict
  preflight: cargo xtask preflight (which also reads the remote's tags and
             the index, and audits the artifacts' contents)

Run from the repository root after `cargo build -p xtask` and
`cargo xtask tools`:

    target/xtask-tools/venv/bin/python bench/preflight.py [ROUNDS]
"""

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
XTASK = ROOT / "target" / "debug" / "xtask"
TOOLS = Path(os.environ.get("XTASK_TOOLS_DIR", ROOT / "target" / "xtask-tools"))
BIN = TOOLS / "venv" / "bin"


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(cmd, cwd, env):
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return took


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    tmp = Path(tempfile.mkdtemp(prefix="preflight-bench-"))
    server = None
    try:
        remote, work, packages = tmp / "remote.git", tmp / "work", tmp / "packages"
        packages.mkdir()
        git("init", "-q", "--bare", "-b", "root", str(remote), cwd=tmp)
        git("clone", "-q", "--no-local", str(ROOT), str(work), cwd=tmp)
        for args in (["checkout", "-q", "-B", "root"], ["remote", "set-url", "origin", str(remote)],
                     ["push", "-q", "origin", "root"]):
            git(*args, cwd=work)
        port = free_port()
        server = subprocess.Popen(
            [BIN / "pypi-server", "run", "-i", "127.0.0.1", "-p", str(port), "-a", ".", "-P", ".",
             "--disable-fallback", "--log-stream", "none", packages])
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "XTASK_TOOLS_DIR": str(TOOLS),
               "TWINE_REPOSITORY_URL": f"http://127.0.0.1:{port}/",
               "XTASK_INDEX_URL": f"http://127.0.0.1:{port}/simple/"}
        env.pop("GITHUB_ACTIONS", None)
        py = str(BIN / "python")
        dist, site = tmp / "dist", tmp / "site"
        build = [py, "-m", "build", "--no-isolation", "--outdir", str(dist), "."]
        docs = [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(site)]

        parts, builds, checks, docs_times, preflights = [], [], [], [], []
        for _ in range(rounds):
            shutil.rmtree(dist, ignore_errors=True)
            b = timed(build, work, env)
            c = timed([py, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())], work, env)
            d = timed(docs, work, env)
            builds.append(b)
            checks.append(c)
            docs_times.append(d)
            parts.append(b + c + d)
            preflights.append(timed([XTASK, "preflight"], work, env))
        med = statistics.median
        print(f"python -m build:            {med(builds):6.2f} s (median of {rounds})")
        print(f"twine check --strict:       {med(checks):6.2f} s")
        print(f"mkdocs build --strict:      {med(docs_times):6.2f} s")
        print(f"parts, added up:            {med(parts):6.2f} s")
        print(f"cargo xtask preflight:      {med(preflights):6.2f} s")
        print(f"ratio preflight/parts:      {med(preflights) / med(parts):6.2f}  (target <= 1.00)")
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
