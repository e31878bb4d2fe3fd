"""How fast is `oxymus status --line`? Whole-process wall time, daemon up and down, in one run.

Run with the project's venv (its interpreter is the one measured):

    .venv/bin/python bench/status_line.py [--runs N] [--warmup N] [--json]

A status bar (tmux's status-right, waybar, i3blocks) runs the command every few
seconds, so it has a budget of 50 ms. Measured, interleaved and rotated each
iteration so machine drift hits every case alike:

1. `python -c pass` with the venv's interpreter: the floor any Python command pays.
2. `python -c "import sqlite3, socket, json"`,
   the stdlib a light Oxymus path needs (what `oxymus capture` also loads).
3. `.venv/bin/oxymus status --line` with the daemon UP (one socket round trip:
   hello + status.line pipelined).
4. The same with the daemon DOWN (the database read read-only, as immutable).

Each case runs on its own temp profile (OXYMUS_HOME), seeded with a few captures.
Percentiles are nearest-rank (bench/_stats.py). Compare the ratios taken in one run,
not absolute numbers across runs or machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _stats import BenchError, emit, footer, ns_to_ms, run_main, summary  # noqa: E402

BUDGET_MS = 50.0
PROC_TIMEOUT = 60.0


def oxymus_bin() -> str:
    path = os.path.join(os.path.dirname(sys.executable), "oxymus")
    if not os.path.exists(path):
        raise BenchError(f"no console script at {path}: run this with the project's .venv/bin/python")
    return path


def timed(argv: list[str], env: dict) -> int:
    start = time.perf_counter_ns()
    r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=PROC_TIMEOUT)
    took = time.perf_counter_ns() - start
    if r.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.decode(errors='replace').strip()}")
    return took


def profile(root: str, name: str, ox: str) -> dict:
    env = {**os.environ, "OXYMUS_HOME": os.path.join(root, name), "OXYMUS_AGENTS": "off"}
    for text in ("call the dentist", "buy stamps", "read the lease"):
        subprocess.run([ox, "capture", text], env=env, check=True, stdout=subprocess.DEVNULL, timeout=PROC_TIMEOUT)
    return env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40, help="measured runs per case (default 40)")
    ap.add_argument("--warmup", type=int, default=3, help="unmeasured runs per case first (default 3)")
    ap.add_argument("--json", action="store_true", help="JSON report on stdout, the table on stderr")
    args = ap.parse_args()
    if args.runs < 1:
        raise BenchError("--runs must be at least 1")
    ox = oxymus_bin()
    root = tempfile.mkdtemp(prefix="ox-bench-status-")
    up_env = down_env = None
    try:
        up_env = profile(root, "up", ox)
        down_env = profile(root, "down", ox)
        subprocess.run([ox, "up"], env=up_env, check=True, stdout=subprocess.DEVNULL, timeout=PROC_TIMEOUT)
        base_env = {**os.environ}
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], base_env),
            "python -c 'import sqlite3, socket, json'": ([sys.executable, "-c", "import sqlite3, socket, json"], base_env),
            "status --line, daemon up": ([ox, "status", "--line"], up_env),
            "status --line, daemon down": ([ox, "status", "--line"], down_env),
        }
        samples: dict[str, list[int]] = {name: [] for name in cases}
        names = list(cases)
        for i in range(args.warmup + args.runs):
            order = names[i % len(names):] + names[: i % len(names)]
            for name in order:
                took = timed(*cases[name])
                if i >= args.warmup:
                    samples[name].append(took)
        for env, want in ((up_env, "✉3"), (down_env, "✉3 ⏻")):
            out = subprocess.run([ox, "status", "--line"], env=env, capture_output=True, text=True).stdout.strip()
            if out != want:
                raise BenchError(f"status --line printed {out!r}, expected {want!r}")
    finally:
        if up_env is not None:
            subprocess.run([ox, "down"], env=up_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=PROC_TIMEOUT)
        shutil.rmtree(root, ignore_errors=True)

    stats = {name: summary(ns_to_ms(v)) for name, v in samples.items()}
    floor = stats["python -c pass"]["p50"]
    report = {
        "runs": args.runs,
        "python": sys.version.split()[0],
        "cases": stats,
        "ratio_to_python_pass_p50": {name: round(s["p50"] / floor, 2) for name, s in stats.items()},
        "budget_ms": BUDGET_MS,
        "checks": ["status --line printed '✉3' with the daemon up and '✉3 ⏻' with it down"],
        "warnings": [f"{name}: p90 {s['p90']:.1f} ms is over the {BUDGET_MS:g} ms budget"
                     for name, s in stats.items() if name.startswith("status") and s["p90"] > BUDGET_MS],
    }
    width = max(len(n) for n in stats)
    lines = [f"{'case':<{width}}  {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}  x pass (p50)  (ms, {args.runs} runs)"]
    for name, s in stats.items():
        lines.append(f"{name:<{width}}  {s['p50']:7.1f} {s['p90']:7.1f} {s['p99']:7.1f} {s['max']:7.1f}  "
                     f"{report['ratio_to_python_pass_p50'][name]:>11.2f}x")
    lines += footer(report)
    return emit(report, "\n".join(lines), args.json)


if __name__ == "__main__":
    run_main(main, "status_line.py")
