"""Head of line: short calls while the daemon does long work, against the same calls with nothing else running.

Run with the project's venv:

    .venv/bin/python bench/contention.py [--records 1000000] [--calls 150] [--rounds 2] [--json]

What it does
------------
One real daemon (`oxymus up`, paused so approved actions do not run) on a temp profile
with: the cached synthetic memory of bench/memory_search.py (`--records`, built once
under .cache/bench/ by bench/_memdb.py), a 20,000-event ICS calendar (bench/calendar_poll.py's
`make_ics`) and 50 git repositories (bench/git_poll.py's `make_repos`, under the profile).

Four loads, each in its own process (so the bench's client does not share a GIL with it):

- **floor**: nothing else runs;
- **search**: `memory.search` for the memory's most common word (limit 50), again and again;
- **calendar**: the ICS file is touched, then `state.refresh` of the calendar, again and again
  (a touched file is read and parsed again);
- **git**: one tracked file in every repository is touched, then `state.refresh` of git,
  again and again.

Under each load, once it answered its first call, the client sends `--calls` of each of
`capture.add`, `actions.approve` (on proposals made before, which a policy rule holds
for approval), `today.get` and `inbox.list` (limit 50), in turn, one at a time, each timed
from send to reply. Loads come in a rotating order per round, the floor in every round.
Target: each call's p99 <= 10 ms and <= 3x its floor p99 in the same run.

Expect 10-50% drift between runs on a shared 2-core machine; compare within a run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _memdb  # noqa: E402
from _daemon import APPROVAL_POLICY, BenchDaemon  # noqa: E402
from _stats import BenchError, emit, footer, percentile, run_main  # noqa: E402

TARGET_MS = 10.0
TARGET_RATIO = 3.0
LOADS = ("floor", "search", "calendar", "git")
CALLS = ("capture.add", "actions.approve", "today.get", "inbox.list")


# ---------------------------------------------------------------- the load processes


def load_main(kind: str, socket: str, arg: str, stop_file: str) -> int:
    """A load loop in its own process: says `ready` after its first call, stops when stop_file exists."""
    from oxymus.client.sync_client import connect

    conn = connect(socket, "oxymus-bench-load", timeout=600)
    repos = arg.split(os.pathsep) if kind == "git" else []
    n = 0
    while not os.path.exists(stop_file):
        if kind == "search":
            conn.call("memory.search", {"query": arg, "limit": 50})
        elif kind == "calendar":
            os.utime(arg)
            conn.call("state.refresh", {"source": "calendar"})
        elif kind == "git":
            for repo in repos:
                os.utime(os.path.join(repo, "README.md"))
            conn.call("state.refresh", {"source": "git"})
        n += 1
        if n == 1:
            print("ready", flush=True)
    print(f"done {n}", flush=True)
    return 0


class Load:
    def __init__(self, kind: str, socket: str, arg: str, root: str):
        self.stop_file = os.path.join(root, f"stop-{kind}")
        if os.path.exists(self.stop_file):
            os.remove(self.stop_file)
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--load", kind, "--socket", socket,
                                      "--arg", arg, "--stop-file", self.stop_file],
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise BenchError(f"the {kind} load did not start (said {line!r})")

    def stop(self) -> int:
        with open(self.stop_file, "w"):
            pass
        out, _ = self.proc.communicate(timeout=900)
        return int(out.split()[-1]) + 1 if out.strip() else 0


# ---------------------------------------------------------------- measurement


async def measure(daemon: BenchDaemon, args, load_args: dict[str, str]) -> dict:
    from oxymus.client.async_client import AsyncClient
    from oxymus.kernel.ulid import new_ulid

    client = await AsyncClient.connect(daemon.paths.socket, "oxymus-bench-contention")
    samples: dict[str, dict[str, list[float]]] = {load: {c: [] for c in CALLS} for load in LOADS}
    loops: dict[str, int] = {load: 0 for load in LOADS}
    try:
        need = args.calls * len(LOADS) * args.rounds + 10
        ids: list[str] = []
        for start in range(0, need, 100):
            batch = [client.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": f"bench {i}"},
                                                     "key": f"bench-contention-{i}"}, timeout=120)
                     for i in range(start, min(need, start + 100))]
            ids += [r["action"]["id"] for r in await asyncio.gather(*batch)]
        clock = time.perf_counter_ns

        async def one(method: str, params: dict) -> float:
            t0 = clock()
            await client.call(method, params, timeout=120)
            return (clock() - t0) / 1e6

        for rnd in range(args.rounds):
            order = LOADS[rnd % len(LOADS):] + LOADS[:rnd % len(LOADS)]
            for load in order:
                running = None if load == "floor" else await asyncio.to_thread(
                    Load, load, daemon.paths.socket, load_args[load], daemon.root)
                try:
                    for i in range(args.calls):
                        for k in range(len(CALLS)):
                            method = CALLS[(i + k) % len(CALLS)]
                            if method == "capture.add":
                                params = {"text": f"bench {load} {i}", "source": "bench", "id": new_ulid()}
                            elif method == "actions.approve":
                                params = {"id": ids.pop(), "via": "script"}
                            elif method == "inbox.list":
                                params = {"limit": 50}
                            else:
                                params = {}
                            samples[load][method].append(await one(method, params))
                finally:
                    if running is not None:
                        loops[load] += await asyncio.to_thread(running.stop)
                if sys.stderr.isatty():
                    print(f"\r  round {rnd + 1}/{args.rounds}: {load} done   ", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)
    finally:
        await client.close()
    return {"samples": samples, "loops": loops}


def render(report: dict) -> str:
    lines = [f"short calls under long work ({report['records']:,} memory records, {report['events']:,} events, "
             f"{report['repos']} repos; {report['calls']} calls of each x {report['rounds']} rounds)", ""]
    head = f"{'load':<10}{'call':<17}{'n':>6}{'p50':>9}{'p99':>9}{'max':>9}{'x floor p99':>13}  target"
    lines += [head, "-" * len(head)]
    for load in LOADS:
        for call in CALLS:
            s = report["rows"][load][call]
            ratio = s["p99"] / report["rows"]["floor"][call]["p99"]
            met = s["p99"] <= TARGET_MS and ratio <= TARGET_RATIO
            lines.append(f"{load:<10}{call:<17}{s['n']:>6}{s['p50']:>9.2f}{s['p99']:>9.2f}{s['max']:>9.2f}"
                         f"{ratio:>12.1f}x  {'met' if met else 'NOT MET'}")
        if load != "floor":
            lines.append(f"{'':<10}({report['loops'][load]} {load} loads ran meanwhile)")
    lines += ["", f"(ms) target: p99 <= {TARGET_MS:g} ms and <= {TARGET_RATIO:g}x the floor p99 of the same call"]
    lines += footer(report)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="memory records (default 1000000; cached)")
    ap.add_argument("--events", type=int, default=20_000, help="calendar events (default 20000)")
    ap.add_argument("--repos", type=int, default=50, help="git repositories (default 50)")
    ap.add_argument("--calls", type=int, default=150, help="calls of each kind per load and round (default 150)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds over all loads (default 2)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    ap.add_argument("--load", help=argparse.SUPPRESS)
    ap.add_argument("--socket", help=argparse.SUPPRESS)
    ap.add_argument("--arg", help=argparse.SUPPRESS)
    ap.add_argument("--stop-file", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.load:
        return load_main(args.load, args.socket, args.arg, args.stop_file)

    import calendar_poll
    import git_poll
    from pathlib import Path

    db = _memdb.ensure(args.records, args.seed)
    common = _memdb.vocabulary(args.seed)[0]
    daemon = BenchDaemon(config="", db_from=db, prefix="oxc-", policy=APPROVAL_POLICY)
    ics = os.path.join(daemon.root, "big.ics")
    with open(ics, "w") as fh:
        fh.write(calendar_poll.make_ics(args.events, dt.date.today()))
    top = Path(daemon.root, "repos")
    top.mkdir()
    print(f"making {args.repos} git repositories", file=sys.stderr)
    made = git_poll.make_repos(top, args.repos, args.seed)
    repos = sorted(str(p) for p in top.iterdir() if p.is_dir())
    for repo in repos:
        if not os.path.exists(os.path.join(repo, "README.md")):
            with open(os.path.join(repo, "README.md"), "w") as fh:
                fh.write("bench\n")
    with open(daemon.paths.config_file, "w") as fh:
        fh.write(_memdb.CONFIG + f'\n[git]\nroots = ["{top}"]\n\n[[calendar.ics]]\npath = "{ics}"\n')
    with daemon:
        daemon.pause("bench/contention.py: time the decision path only")
        settled = daemon.settle()
        result = asyncio.run(measure(daemon, args, {"search": common, "calendar": ics, "git": os.pathsep.join(repos)}))

    def stats(values: list[float]) -> dict:
        return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values)}

    rows = {load: {call: stats(result["samples"][load][call]) for call in CALLS} for load in LOADS}
    report = {
        "records": args.records, "events": args.events, "repos": len(made), "calls": args.calls, "rounds": args.rounds,
        "rows": rows, "loops": result["loops"],
        "checks": [f"measured once the daemon's start-up work was done ({settled:.0f} s after `oxymus up`)",
                   f"search load: memory.search for {common!r}, the memory's most common word"],
        "warnings": [],
        "environment": {"python_version": platform.python_version(), "sqlite_version": sqlite3.sqlite_version,
                        "cpus": os.cpu_count(), "loadavg": os.getloadavg()},
    }
    return emit(report, render(report), args.json)


if __name__ == "__main__":
    run_main(main, "contention.py")
