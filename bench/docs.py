#!/usr/bin/env python3
"""Benchmark: `cargo xtask docs-deploy` against the guide's raw mike commands.

One sandbox (a clone whose origin is a local bare repository), one run.
The docs branch is seeded with series 0.7 and 1.0; then, alternating, each
side redeploys the newest series, the weekly patch-release case:

  raw:   mike deploy --push --update-aliases 1.0 latest-release
         mike set-default --push latest-release
  xtask: cargo xtask docs-deploy 1.0

Prints the median wall time of each over N rounds and their ratio (target
<= 0.85). Run from the repository root after `cargo build -p xtask` and
`cargo xtask tools`:

    target/xtask-tools/venv/bin/python bench/docs.py [ROUNDS]
"""

import os
import shutil
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


def run(cmd, cwd, env):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tmp = Path(tempfile.mkdtemp(prefix="docs-bench-"))
    try:
        remote, work = tmp / "remote.git", tmp / "work"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "root", remote], check=True)
        subprocess.run(["git", "clone", "-q", "--no-local", ROOT, work], check=True)
        for args in (["checkout", "-q", "-B", "root"], ["remote", "set-url", "origin", str(remote)],
                     ["config", "user.name", "bench"], ["config", "user.email", "b@localhost.invalid"],
                     ["push", "-q", "origin", "root"],
                     # Only released series get docs: 1.0 is released here.
                     ["tag", "v1.0.0"]):
            subprocess.run(["git", *args], cwd=work, check=True)
        env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "XTASK_TOOLS_DIR": str(TOOLS)}
        mike = [str(BIN / "mike")]
        raw = [mike + ["deploy", "--branch", "docs", "--push", "--update-aliases", "1.0", "latest-release"],
               mike + ["set-default", "--branch", "docs", "--push", "latest-release"]]
        run(mike + ["deploy", "--branch", "docs", "--push", "0.7"], work, env)
        for cmd in raw:
            run(cmd, work, env)

        raw_times, xtask_times = [], []
        for _ in range(rounds):
            raw_times.append(sum(run(cmd, work, env) for cmd in raw))
            xtask_times.append(run([XTASK, "docs-deploy", "1.0"], work, env))
        r, x = statistics.median(raw_times), statistics.median(xtask_times)
        print(f"guide's raw mike commands: {r:6.2f} s (median of {rounds})")
        print(f"cargo xtask docs-deploy:   {x:6.2f} s (median of {rounds})")
        print(f"ratio xtask/raw:           {x / r:6.2f}  (target <= 0.85)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
