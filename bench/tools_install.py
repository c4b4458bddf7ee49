#!/usr/bin/env python3
"""Benchmark: installing each managed tool group with pip and with uv.

For each group lock in tools/ (release, docs, test), times a fresh virtual
environment plus `install --no-deps --require-hashes -r tools/GROUP.lock`:

  pip: python3 -m pip --python VENV/bin/python install ...
  uv:  uv pip install --python VENV/bin/python ...

once cold (an empty download cache of its own) and once warm (the same
cache, a new environment). uv itself is installed first from
tools/uv.lock (hash-pinned) with pip into a target directory; that
bootstrap is timed too, cold and warm. Everything happens in a temporary
directory; the user's own caches are not read or written. Run from
anywhere with the interpreter the xtask uses (3.10+ with pip):

    python3 bench/tools_install.py [ROUNDS]

Each figure is the median of ROUNDS runs (default 3); downloads come from
the package index configured for pip, so cold figures include the network.
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
GROUPS = ["release", "docs", "test"]


def run(cmd, env):
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def venv(path, env):
    return run([sys.executable, "-m", "venv", "--without-pip", str(path)], env)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    tmp = Path(tempfile.mkdtemp(prefix="tools-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_FIND_LINKS", "UV_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_ROOT_USER_ACTION"] = "ignore"
    times = {}  # (tool, group, temperature) -> [seconds]

    def record(key, seconds):
        times.setdefault(key, []).append(seconds)

    try:
        for r in range(rounds):
            base = tmp / f"round{r}"
            # Every group gets caches of its own: "cold" means nothing of
            # it was downloaded before, not even packages shared by groups.
            boot = {**env, "PIP_CACHE_DIR": str(base / "boot-cache")}
            for temp in ("cold", "warm"):
                uv_dir = base / f"uv-{temp}"
                record(("uv", "bootstrap", temp), run(
                    [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                     "--require-hashes", "--only-binary", ":all:", "--target", str(uv_dir),
                     "-r", str(ROOT / "tools" / "uv.lock")], boot))
            uv = base / "uv-warm" / "bin" / "uv"
            for group in GROUPS:
                lock = str(ROOT / "tools" / f"{group}.lock")
                penv = {**env, "PIP_CACHE_DIR": str(base / f"pip-cache-{group}")}
                uenv = {**env, "UV_CACHE_DIR": str(base / f"uv-cache-{group}")}
                for temp in ("cold", "warm"):
                    v = base / f"pip-{group}-{temp}"
                    t = venv(v, penv)
                    t += run([sys.executable, "-m", "pip", "--python", str(v / "bin" / "python"),
                              "install", "--quiet", "--no-deps", "--require-hashes", "-r", lock], penv)
                    record(("pip", group, temp), t)
                    # pip compiles every module to bytecode, uv does not:
                    # the same without it, for a like-for-like figure.
                    v = base / f"pipnc-{group}-{temp}"
                    t = venv(v, penv)
                    t += run([sys.executable, "-m", "pip", "--python", str(v / "bin" / "python"),
                              "install", "--quiet", "--no-compile", "--no-deps", "--require-hashes",
                              "-r", lock], {**penv, "PIP_CACHE_DIR": str(base / f"pipnc-cache-{group}")})
                    record(("pip --no-compile", group, temp), t)
                    v = base / f"uv-{group}-{temp}"
                    t = venv(v, uenv)
                    t += run([str(uv), "pip", "install", "--quiet", "--python", str(v / "bin" / "python"),
                              "--no-deps", "--require-hashes", "-r", lock], uenv)
                    record(("uv", group, temp), t)
            shutil.rmtree(base, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"median of {rounds} round(s), seconds (fresh environment + install)")
    tools = ["pip", "pip --no-compile", "uv"]
    print("| group | " + " | ".join(f"{t} {temp}" for temp in ("cold", "warm") for t in tools) + " |")
    print("| --- " * 7 + "|")
    print("| uv itself (pip install --target) | - | - | "
          f"{med['uv', 'bootstrap', 'cold']:.2f} | - | - | {med['uv', 'bootstrap', 'warm']:.2f} |")
    for group in GROUPS:
        print(f"| {group} | " + " | ".join(f"{med[t, group, temp]:.2f}"
                                          for temp in ("cold", "warm") for t in tools) + " |")


if __name__ == "__main__":
    main()
