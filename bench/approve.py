"""Approve round trip: request -> durable -> event back to a subscriber, p50/p99 over 1,000 approvals.

Run with the project's venv (its interpreter runs the client being measured):

    .venv/bin/python bench/approve.py [--approvals N] [--warmup N] [--json]

What it measures
----------------
A real daemon (bench/_daemon.py) on a temp profile, paused first with `oxymus pause`: the
executor then runs none of the approved actions, so what is timed is the decision
path only, not the effect. `--approvals` (default 1,000) `plans.edit` actions are
proposed up front; a policy.toml rule makes each one wait for approval (the person's
own edits would otherwise be allowed at once), and another denies `notify.*`, so no
approval request becomes a desktop notification.

Two connections (oxymus/client/async_client.py, the client the TUI uses): A sends requests;
B is subscribed to `action.changed` and `capture.added`. For each approval:

    t0 -> `actions.approve` sent on A
       -> A's reply: the decision is committed (WAL, synchronous=FULL: fsynced)
       -> B's `action.changed` event for that id with status `approved`
    round trip = from t0 until both have arrived (the later of the two)

The reply and the event are also reported on their own (each from t0).

Baseline, in the same run and on the same daemon and connections: `capture.add`
(also one durable SQLite commit) until its reply on A and its `capture.added`
event on B. Approvals and captures alternate, in a rotating order, so a slow
moment of the machine hits both alike. Target: approve round trip p99 under 10 ms.

Percentiles are nearest-rank (bench/_stats.py). Expect the figures to move 10-50%
between runs on a shared or 2-CPU machine; compare the ratio taken in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _daemon import APPROVAL_POLICY, BenchDaemon  # noqa: E402
from _stats import BenchError, emit, footer, ns_to_ms, run_main, summary  # noqa: E402

TARGET_P99_MS = 10.0
EVENT_TIMEOUT = 10.0


# ---------------------------------------------------------------- measurement


class Events:
    """Reads connection B's events and stamps the arrival of the ones a request waits for."""

    def __init__(self, client):
        self.client = client
        self.waiting: dict[tuple, asyncio.Future] = {}
        self.seen = 0
        self.task = asyncio.create_task(self._run())

    def expect(self, key: tuple) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self.waiting[key] = fut
        return fut

    async def _run(self) -> None:
        clock = time.perf_counter_ns
        while True:
            event = await self.client.events.get()
            now = clock()
            if not hasattr(event, "topic"):  # the end of the stream
                for fut in self.waiting.values():
                    if not fut.done():
                        fut.set_exception(BenchError("the event connection closed"))
                return
            self.seen += 1
            data = event.data
            if event.topic == "action.changed":
                key: tuple = (event.topic, data.get("id"), data.get("status"))
            else:
                key = (event.topic, data.get("id"))
            fut = self.waiting.pop(key, None)
            if fut is not None and not fut.done():
                fut.set_result(now)


async def timed(a, events: Events, method: str, params: dict, key: tuple) -> tuple[int, int, dict]:
    """(reply ns, event ns, reply) for one request, both from the moment it is sent."""
    arrived = events.expect(key)
    t0 = time.perf_counter_ns()
    reply = await a.call(method, params)
    t_reply = time.perf_counter_ns()
    try:
        t_event = await asyncio.wait_for(arrived, EVENT_TIMEOUT)
    except asyncio.TimeoutError:
        raise BenchError(f"no {key[0]} event for {key[1]} within {EVENT_TIMEOUT:g} s after {method}") from None
    return t_reply - t0, t_event - t0, reply


async def measure(socket_path: str, db_file: str, approvals: int, warmup: int) -> dict:
    from oxymus.client.async_client import AsyncClient
    from oxymus.kernel.ulid import new_ulid

    total = approvals + warmup
    a = await AsyncClient.connect(socket_path, "oxymus-bench")
    b = await AsyncClient.connect(socket_path, "oxymus-bench-events")
    try:
        await b.call("subscribe", {"topics": ["action.changed", "capture.added"]})
        events = Events(b)

        ids: list[str] = []
        for start in range(0, total, 100):  # proposals, 100 in flight at a time (not timed)
            batch = [a.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": f"bench approval {i}"},
                                                "key": f"bench-approve-{i}"}, timeout=60)
                     for i in range(start, min(total, start + 100))]
            for result in await asyncio.gather(*batch):
                action = result["action"]
                if action["status"] != "awaiting_approval":
                    raise BenchError(f"proposal {action['id']} is {action['status']}, not awaiting approval: {action['decision']}")
                ids.append(action["id"])

        rows: dict[str, list[int]] = {k: [] for k in ("approve_both", "approve_reply", "approve_event",
                                                       "capture_both", "capture_reply", "capture_event")}

        async def approve(i: int, keep: bool) -> None:
            reply_ns, event_ns, reply = await timed(a, events, "actions.approve", {"id": ids[i], "via": "script"},
                                                    ("action.changed", ids[i], "approved"))
            if reply["action"]["status"] != "approved":
                raise BenchError(f"approving {ids[i]} gave {reply['action']['status']}")
            if keep:
                rows["approve_both"].append(max(reply_ns, event_ns))
                rows["approve_reply"].append(reply_ns)
                rows["approve_event"].append(event_ns)

        async def capture(i: int, keep: bool) -> None:
            cid = new_ulid()
            reply_ns, event_ns, _ = await timed(a, events, "capture.add", {"text": f"bench {i}", "source": "bench", "id": cid},
                                                ("capture.added", cid))
            if keep:
                rows["capture_both"].append(max(reply_ns, event_ns))
                rows["capture_reply"].append(reply_ns)
                rows["capture_event"].append(event_ns)

        for i in range(total):
            keep = i >= warmup
            if i % 2 == 0:
                await approve(i, keep)
                await capture(i, keep)
            else:
                await capture(i, keep)
                await approve(i, keep)
            if sys.stderr.isatty() and (i + 1) % 50 == 0:
                print(f"\r  approvals: {i + 1}/{total}", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)

        # Sanity (read from the database file: a list of 1,000 actions is more than one reply line):
        # every approval is stored, none ran (the pause held), the daemon is still paused.
        status = await a.call("status")
        con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
        try:
            approved = con.execute("SELECT count(*) FROM actions WHERE kind = 'plans.edit' AND status = 'approved'").fetchone()[0]
            attempted = con.execute("SELECT count(*) FROM actions WHERE attempts > 0 OR status IN ('executing', 'succeeded', 'failed')").fetchone()[0]
        finally:
            con.close()
        checks = {"approved_stored": approved, "attempted": attempted, "paused": status.get("pause") is not None,
                  "events_seen": events.seen}
        events.task.cancel()
        return {"rows": rows, "checks": checks, "proposed": len(ids)}
    finally:
        await a.close()
        await b.close()


# ---------------------------------------------------------------- report


ROWS = [
    ("approve_both", "actions.approve: reply + action.changed event"),
    ("approve_reply", "  reply on A (decision committed)"),
    ("approve_event", "  action.changed 'approved' on B"),
    ("capture_both", "capture.add: reply + capture.added event"),
    ("capture_reply", "  reply on A (capture committed)"),
    ("capture_event", "  capture.added on B"),
]


def render(report: dict) -> str:
    env = report["environment"]
    lines = [
        f"Oxymus approve round-trip benchmark  {report['when']}",
        f"python {env['python_version']} ({env['python']}), {env['platform']}, {env['cpus']} CPUs, load {env['loadavg']}",
        f"{report['approvals']} approvals after {report['warmup']} warm-up ones, alternating with as many capture.add calls;",
        "daemon PAUSED (`oxymus pause`): the executor runs none of the approved actions, so this times the decision",
        "path only: request on A -> durable commit -> reply on A, and the event back to a subscriber on B.",
        "",
        f"{'round trip, from sending the request':52} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}",
        "-" * 84,
    ]
    for row in report["rows"]:
        mark = ""
        if row["name"] == "approve_both":
            mark = "  ok" if row["within_target"] else "  OVER TARGET"
        lines.append(f"{row['label']:52} {row['p50_ms']:7.2f} {row['p90_ms']:7.2f} {row['p99_ms']:7.2f} {row['max_ms']:7.2f}{mark}")
    r = report["ratio"]
    lines.append(f"(ms; target: approve round trip p99 under {TARGET_P99_MS:g} ms)")
    lines.append(f"approve / capture.add (reply + event): p50 {r['p50']:.2f}x, p99 {r['p99']:.2f}x")
    lines += footer(report)
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--approvals", type=int, default=1000, help="measured approvals (default 1000)")
    ap.add_argument("--warmup", type=int, default=50, help="unmeasured approvals first (default 50)")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    args = ap.parse_args(argv)
    if args.approvals < 1 or args.warmup < 0 or args.approvals + args.warmup > 5000:
        ap.error("--approvals must be >= 1, --warmup >= 0, and together at most 5000")

    warnings: list[str] = []
    with BenchDaemon(policy=APPROVAL_POLICY, prefix="oxa-") as daemon:
        daemon.pause("bench/approve.py: time the decision path only")
        result = asyncio.run(measure(daemon.paths.socket, daemon.paths.db_file, args.approvals, args.warmup))

    total = args.approvals + args.warmup
    c = result["checks"]
    checks = [f"{c['approved_stored']}/{total} approvals stored as approved; {c['attempted']} executed or attempted "
              f"(paused: {'yes' if c['paused'] else 'NO'}); {c['events_seen']} events received on B"]
    if c["approved_stored"] != total:
        warnings.append(f"only {c['approved_stored']} of {total} approvals are stored")
    if c["attempted"] or not c["paused"]:
        warnings.append("the executor ran approved actions: the pause did not hold, so the figures include execution")

    rows = []
    stats = {}
    for name, label in ROWS:
        s = summary(ns_to_ms(result["rows"][name]), (50, 90, 99))
        stats[name] = s
        rows.append({"name": name, "label": label, "n": s["n"], "p50_ms": s["p50"], "p90_ms": s["p90"], "p99_ms": s["p99"],
                     "max_ms": s["max"], "min_ms": s["min"]})
    rows[0]["within_target"] = stats["approve_both"]["p99"] < TARGET_P99_MS
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "environment": {
            "python": sys.executable,
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        },
        "approvals": args.approvals,
        "warmup": args.warmup,
        "paused": True,
        "targets": {"approve_round_trip_p99_ms": TARGET_P99_MS},
        "rows": rows,
        "ratio": {p: stats["approve_both"][p] / stats["capture_both"][p] for p in ("p50", "p99")},
        "checks": checks,
        "warnings": warnings,
    }
    return emit(report, render(report), args.json, indent=2)


if __name__ == "__main__":
    run_main(main, "approve.py")
