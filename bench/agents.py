"""How long does each agent take on a realistic profile, without the LLM? Percentiles, in one run.

    .venv/bin/python bench/agents.py [--runs N] [--json]

Setup: the demo profile (`oxymus demo` seeding: three repositories, a calendar with
a recurring standup and an all-day conference, bills, PLANS.md with a publishing
order, captures, memory records) in a temp folder, a real daemon with
OXYMUS_AGENTS=off (so nothing runs by itself) and `[llm] enabled = false` (the
deterministic paths: what every user gets without Ollama).

Measured over the socket with the stdlib client, interleaved so machine drift hits
every row alike, `--runs` times each (default 20):
- baseline: `today.get`: the day view, which reads the same state the planner reads;
- `agents.run NAME` for each agent: the whole run, from request to the stored run
  record (reads, artifacts written to the store and as files, proposals through the
  policy plane, the audit lines). Re-runs find their proposals by key, so after the
  first run they measure the steady state a scheduled agent lives in.
The ratio is each agent's p50 over the baseline's p50.
Percentiles are nearest-rank (_stats.py); figures drift 10-50% between runs.
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

from _stats import BenchError, emit, ns_to_ms, run_main, summary  # noqa: E402

AGENTS = ("triage", "planner", "finance", "sentinel", "steward", "reflection", "publisher")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    home = tempfile.mkdtemp(prefix="oxb-", dir="/tmp")
    env = {**os.environ, "OXYMUS_HOME": home, "OXYMUS_AGENTS": "off"}
    for var in ("OXYMUS_CONFIG", "OXYMUS_FAULT_KILL"):
        env.pop(var, None)
    os.environ.update({"OXYMUS_HOME": home})
    try:
        from oxymus import demo
        from oxymus.client.sync_client import connect
        from oxymus.profile import paths as paths_mod

        paths = paths_mod.resolve({"OXYMUS_HOME": home})
        demo.seed(paths)
        demo.seed_sources(paths)
        with open(paths.config_file, "a", encoding="utf-8") as fh:
            fh.write("\n[llm]\nenabled = false\n")
        up = subprocess.run([sys.executable, "-m", "oxymus", "up"], env=env, capture_output=True, text=True, timeout=60)
        if up.returncode != 0:
            raise BenchError(f"the daemon did not start: {up.stderr.strip()}")
        demo.seed_memory(paths)
        samples: dict[str, list[int]] = {"today.get (baseline)": [], **{name: [] for name in AGENTS}}
        outcomes: dict[str, set[str]] = {name: set() for name in AGENTS}
        with connect(paths.socket, "bench-agents", timeout=300) as conn:
            conn.call("state.refresh", {})
            for i in range(args.runs):
                order = list(samples)
                order = order[i % len(order):] + order[: i % len(order)]  # rotate, so no row always goes first
                for name in order:
                    t0 = time.perf_counter_ns()
                    if name.startswith("today"):
                        conn.call("today.get", {})
                    else:
                        run = conn.call("agents.run", {"name": name})
                        outcomes[name].add(run["outcome"])
                    samples[name].append(time.perf_counter_ns() - t0)
        failed = {n: o for n, o in outcomes.items() if o != {"succeeded"}}
        if failed:
            raise BenchError(f"agent runs did not all succeed: {failed}")
        stats = {name: summary(ns_to_ms(values), (50, 95, 99)) for name, values in samples.items()}
        base = stats["today.get (baseline)"]["p50"]
        lines = [f"agent runs on the demo profile, no LLM, {args.runs} runs each (ms)",
                 f"{'':22} {'p50':>8} {'p95':>8} {'p99':>8} {'x baseline':>11}"]
        for name, st in stats.items():
            lines.append(f"{name:22} {st['p50']:8.1f} {st['p95']:8.1f} {st['p99']:8.1f} {st['p50'] / base:10.2f}x")
        report = {"runs": args.runs, "stats": stats, "baseline": "today.get"}
        return emit(report, "\n".join(lines), args.json)
    finally:
        subprocess.run([sys.executable, "-m", "oxymus", "down"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    run_main(main, "agents.py")
