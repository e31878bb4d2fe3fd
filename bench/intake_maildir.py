"""The intake agent over a Maildir of 10,000 messages, whole runs through a real daemon, against
`notmuch new` and a plain stdlib scan in the same run.

    .venv/bin/python bench/intake_maildir.py                   # 10,000 messages, 3 rounds
    .venv/bin/python bench/intake_maildir.py --messages 2000 --rounds 2 --json

The Maildir is the one bench/maildir_scan.py builds (plain, multipart/alternative and
HTML-only messages, some Latin-1, a few without Message-ID, two thirds in cur/ with flags;
senders at 50 domains). Per round, a fresh daemon profile with `[agents.intake] maildir`
pointing at it and the daemon's own schedules off, then:

- `first`: `agents.run intake` over the socket with nothing seen: every message read,
  its facts extracted (who, company, need, budget, dates), the leads grouped by address
  and domain, and the proposals stored (a lead per domain and a reply draft to each);
- `again`: the same call once more: nothing new in the Maildir; the leads still wait
  for approval (the messages whose lead waits are read again by design);
- `stdlib`: `mailbox.Maildir` iterated, each message's Message-ID and Subject read, in
  this process (the least any reader does);
- `notmuch new` on a fresh database, and with nothing new, when `notmuch` is installed.

While the first run works, a second connection calls `status` every 20 ms (someone opening
the TUI meanwhile), timed, against the same calls before the run: no request may wait
behind the intake.

Figures are wall time of the request (the agent's whole run, answered when stored) and,
for the daemon, the CPU it and its worker process spent (utime+stime from /proc: the
Maildir is read and picked apart in the worker); stdlib and notmuch are CPU time of this
process and its children. Ratios are over the stdlib median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from _daemon import BenchDaemon  # noqa: E402
from _stats import BenchError, emit, percentile, run_main  # noqa: E402
from maildir_scan import build, stdlib_scan, timed  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def config(box: str) -> str:
    # No trigger of its own: the bench runs it; nothing else is configured, so nothing else polls.
    # [mail] so each new lead's reply draft is proposed as in use; drafts wait for approval, nothing is sent.
    return (f"[agents.intake]\nmaildir = \"{box}\"\ntrigger = {{}}\n"
            "[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = 2525\nsecurity = \"none\"\nfrom = \"Me <me@studio.example>\"\n")


def probe(socket: str, work: Callable[[], None], calls: int = 0) -> tuple[list[float], None]:
    """Seconds of each `status` call from a connection of its own, one every 20 ms, while `work()`
    runs in a thread (or `calls` of them when there is no work): what a second client waits."""
    from oxymus.client.sync_client import connect

    done = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the bench's thread
            failed.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=run)
    worker.start()
    times: list[float] = []
    with connect(socket, "oxymus-bench-probe", timeout=900) as conn:
        while (len(times) < calls) if calls else not done.is_set():
            t0 = time.perf_counter()
            conn.call("status")
            times.append(time.perf_counter() - t0)
            time.sleep(0.02)
    worker.join()
    if failed:
        raise failed[0]
    return times, None


def intake_round(box: str) -> dict[str, float | int]:
    from oxymus.client.sync_client import connect

    out: dict[str, Any] = {}
    with BenchDaemon(config=config(box), prefix="oxi-") as daemon:
        daemon.settle(quiet_s=1.0)
        with connect(daemon.paths.socket, "oxymus-bench", timeout=900) as conn:
            out["status_floor"] = probe(daemon.paths.socket, lambda: None, calls=100)[0]
            for name in ("first", "again"):
                ticks = daemon.tree_cpu_ticks()
                t0 = time.perf_counter()
                if name == "first":
                    # Someone opening the TUI meanwhile: `status` every 20 ms, timed, until the run answers.
                    answer: dict[str, Any] = {}
                    out["status_during"], _ = probe(daemon.paths.socket,
                                                    lambda: answer.update(run=conn.call("agents.run", {"name": "intake"})))
                    run = answer["run"]
                else:
                    run = conn.call("agents.run", {"name": "intake"})
                out[f"{name}_wall"] = time.perf_counter() - t0
                out[f"{name}_cpu"] = (daemon.tree_cpu_ticks() - ticks) / TICK
                if run["outcome"] != "succeeded":
                    raise BenchError(f"intake {name}: {run['outcome']}: {run.get('error') or run.get('summary')}")
                out[f"{name}_summary"] = run["summary"]
            waiting = conn.call("actions.list", {"limit": 5000, "status": ["awaiting_approval"]})
            out["proposals"] = len(waiting["actions"]) if isinstance(waiting, dict) else len(waiting)
            if not out["proposals"]:
                # A figure for a run that proposed nothing measures a failure, not intake.
                raise BenchError(f"intake proposed nothing: {out['first_summary']}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="oxb-intake-", dir="/tmp")
    try:
        box = os.path.join(tmp, "INBOX")
        build(box, args.messages)
        stdlib_scan(box)  # a warm page cache for every reader
        rows: dict[str, list[float]] = {"stdlib": [], "intake_first": [], "intake_first_cpu": [], "intake_again": [],
                                        "intake_again_cpu": []}
        notmuch = shutil.which("notmuch")
        if notmuch:
            rows["notmuch_new"], rows["notmuch_rescan"] = [], []
        summaries: list[str] = []
        proposals = 0
        status: dict[str, list[float]] = {"floor": [], "during": []}
        for r in range(args.rounds):
            t, n = timed(lambda: stdlib_scan(box))
            assert n == args.messages, n
            rows["stdlib"].append(t)
            got = intake_round(box)
            rows["intake_first"].append(float(got["first_wall"]))
            rows["intake_first_cpu"].append(float(got["first_cpu"]))
            rows["intake_again"].append(float(got["again_wall"]))
            rows["intake_again_cpu"].append(float(got["again_cpu"]))
            summaries = [str(got["first_summary"]), str(got["again_summary"])]
            proposals = int(got["proposals"])
            status["floor"] += got["status_floor"]
            status["during"] += got["status_during"]
            if notmuch:
                db = os.path.join(tmp, f"notmuch-{r}")
                os.makedirs(db)
                cfg = os.path.join(db, "config")
                with open(cfg, "w") as fh:
                    fh.write(f"[database]\npath={box}\nmail_root={box}\n[new]\ntags=\n[maildir]\nsynchronize_flags=false\n")
                env = {**os.environ, "NOTMUCH_CONFIG": cfg}
                for name in ("notmuch_new", "notmuch_rescan"):
                    t, _ = timed(lambda: subprocess.run([notmuch, "new", "--quiet"], env=env, check=True, capture_output=True))
                    rows[name].append(t)
                shutil.rmtree(os.path.join(box, ".notmuch"), ignore_errors=True)
        base = statistics.median(rows["stdlib"])
        report = {"messages": args.messages, "rounds": args.rounds, "notmuch": notmuch is not None,
                  "first_run": summaries[0], "again_run": summaries[1], "proposals": proposals, "rows": {},
                  "status_ms": {k: {"n": len(v), "p50": percentile(v, 50) * 1000, "p99": percentile(v, 99) * 1000,
                                    "max": max(v) * 1000} for k, v in status.items()}}
        lines = [f"intake over a Maildir of {args.messages:,} messages, {args.rounds} rounds; ratio = median / stdlib median",
                 f"{'measure':<34}{'median ms':>11}{'min ms':>10}{'max ms':>10}{'ratio':>8}"]
        labels = {"stdlib": "stdlib mailbox scan (CPU)", "intake_first": "intake, first run (wall)",
                  "intake_first_cpu": "  CPU of it (daemon and worker)", "intake_again": "intake, nothing new (wall)",
                  "intake_again_cpu": "  CPU of it (daemon and worker)", "notmuch_new": "notmuch new, fresh (CPU)",
                  "notmuch_rescan": "notmuch new, nothing new (CPU)"}
        for name, values in rows.items():
            med = statistics.median(values)
            report["rows"][name] = {"median_s": med, "min_s": min(values), "max_s": max(values), "ratio": med / base}
            lines.append(f"{labels[name]:<34}{med * 1000:>11.1f}{min(values) * 1000:>10.1f}{max(values) * 1000:>10.1f}"
                         f"{med / base:>8.2f}")
        for k, v in report["status_ms"].items():
            what = "nothing else running" if k == "floor" else "during the first run"
            lines.append(f"`status` from a second client, {what}: p50 {v['p50']:.1f} ms, p99 {v['p99']:.1f} ms, "
                         f"max {v['max']:.1f} ms ({v['n']} calls)")
        lines.append(f"first run: {summaries[0]}")
        lines.append(f"again: {summaries[1]}")
        lines.append(f"proposals stored: {proposals}")
        if not notmuch:
            lines.append("notmuch: not installed, not measured")
        return emit(report, "\n".join(lines), args.json)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_main(main, "intake_maildir.py")
