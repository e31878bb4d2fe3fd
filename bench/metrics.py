"""`metrics.get` over a big history: 100,000 audit rows, 10,000 actions, six months.

    .venv/bin/python bench/metrics.py [--audit N] [--actions N] [--records N] [--calls N] [--json]

What it measures
----------------
A store is made with the real migrations; then, in one transaction each, six months of
history in the formats the repos write: `--actions` (default 10,000) finished actions
(agent and person proposals, each with the person's decision in `action_approvals`, a
tenth edited first, some failed, denied or expired) with their audit lines, captures
triaged (their `capture.triaged` lines), agent runs with their lines, and filler audit
lines until the log holds `--audit` rows (default 100,000). `--records` (default 200)
leads and posts are written through the real RecordRepo, each moved along its pipeline
three times on a backdated clock (their `record.status` lines and record versions).

A real daemon on that database (bench/_daemon.py) answers `metrics.get` (6 months) over
the socket `--calls` times (default 20, after 2 unmeasured). The floor, in the same run and
alternating with it: `SELECT count(*) FROM audit_log` on a fresh read-only connection
in this process, the least any metric over the audit log can cost.

Percentiles are nearest-rank (bench/_stats.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _daemon import BenchDaemon  # noqa: E402
from _stats import emit, footer, run_main, summary  # noqa: E402

DAY_MS = 86_400_000


def iso(ms: int) -> str:
    from oxymus.time.clock import iso_from_ms

    return iso_from_ms(ms)


async def _records(path: str, n: int, start_ms: int, span_ms: int, rng: random.Random) -> None:
    from oxymus.store.repos import Store

    clock = [start_ms]
    with mock.patch("oxymus.time.clock.now_ms", lambda: clock[0]):
        store = await Store.open(path)
        try:
            for i in range(n):
                clock[0] = start_ms + rng.randrange(span_ms - 20 * DAY_MS)
                if i % 2:
                    rec = await store.records.add("lead", {"name": f"Lead {i}"}, actor="oxymus-cli")
                    moves = ["qualified", "proposal_sent", rng.choice(["won", "lost"])]
                else:
                    rec = await store.records.add("post", {"title": f"Post {i}"}, actor="oxymus-cli")
                    moves = ["draft", "published", "distributed"]
                for to in moves:
                    clock[0] += rng.randrange(1, 5 * DAY_MS)
                    await store.records.edit(rec.id, status=to, actor=rng.choice(["oxymus-cli", "agent:intake"]))
        finally:
            await store.close()


def build(path: str, *, audit: int, actions: int, records: int, seed: int = 7) -> dict:
    from oxymus.kernel.ulid import new_ulid

    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - 182 * DAY_MS
    span = now_ms - start_ms
    asyncio.run(_records(path, records, start_ms, span, rng))
    db = sqlite3.connect(path)
    db.execute("BEGIN IMMEDIATE")
    audit_rows: list[tuple] = []
    action_rows, approval_rows = [], []

    def line(ms: int, actor: str, verb: str, subject: str, details: dict) -> None:
        audit_rows.append((iso(ms), actor, verb, subject, new_ulid(), json.dumps(details)))

    decision = json.dumps({"outcome": "require_approval", "rule": "bench", "rule_index": 0, "decided_at": "x", "expires_in_s": 86400})
    for i in range(actions):
        ms = start_ms + rng.randrange(span - DAY_MS)
        aid = new_ulid(ms)
        agent = rng.choice(["triage", "planner", "sentinel", "finance", "publisher", None])
        proposer = json.dumps({"type": "agent", "name": agent, "run_id": None} if agent else {"type": "user", "name": "user", "run_id": None})
        roll = rng.random()
        decided = ms + rng.randrange(60_000, DAY_MS // 2)
        status = "denied" if roll < 0.1 else "expired" if roll < 0.15 else "failed" if roll < 0.2 else "succeeded"
        if status == "expired":
            end = ms + DAY_MS
        else:
            if rng.random() < 0.1:
                approval_rows.append((aid, "edited", "user", "tui", iso(decided), None, None))
            approval_rows.append((aid, "denied" if status == "denied" else "approved", "user", "tui", iso(decided), None, None))
            end = decided + 15_000
        kind = rng.choice(["memory.update", "calendar.create_event", "git.commit", "record.update", "notify.send"])
        action_rows.append((aid, kind, status, "{}", proposer, decision, "{}", f"bench:{aid}", aid, iso(ms), iso(end),
                            iso(ms + DAY_MS)))
        line(ms, agent or "user", "action.proposed", aid, {"kind": kind})
        line(end, "user", f"action.{status}", aid, {"kind": kind})
    db.executemany(
        "INSERT INTO actions (id, kind, status, payload, proposer, decision, preview, idempotency_key, trace_id, created_at, "
        "updated_at, expires_at, risk) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'low')", action_rows)
    db.executemany("INSERT INTO action_approvals (action_id, decision, actor, via, at, reason, until) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   approval_rows)
    captures, runs = actions * 2, actions // 2
    capture_rows = []
    for _ in range(captures):
        ms = start_ms + rng.randrange(span - DAY_MS)
        cid = new_ulid(ms)
        capture_rows.append((cid, "a thought", "cli", iso(ms), "triaged"))
        line(ms + rng.randrange(60_000, 3 * DAY_MS), "agent:triage", "capture.triaged", cid, {"to": "memory", "target": "M"})
    db.executemany("INSERT INTO captures (id, text, source, created_at, status) VALUES (?, ?, ?, ?, ?)", capture_rows)
    run_rows = []
    for _ in range(runs):
        ms = start_ms + rng.randrange(span - DAY_MS)
        rid = new_ulid(ms)
        outcome = "failed" if rng.random() < 0.05 else "succeeded"
        run_rows.append((rid, rng.choice(["triage", "planner", "sentinel"]), "bench", rid, iso(ms), iso(ms + 2000), 2000.0, outcome))
        line(ms + 2000, "agent:triage", f"agent.{outcome}", rid, {})
    db.executemany("INSERT INTO agent_runs (id, agent, trigger, trace_id, started_at, finished_at, duration_ms, outcome) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", run_rows)
    existing = db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    for _ in range(max(0, audit - existing - len(audit_rows))):
        ms = start_ms + rng.randrange(span)
        line(ms, "daemon", rng.choice(["memory.edited", "plans.edited", "source.failed", "notification.redelivered"]), new_ulid(ms), {})
    audit_rows.sort(key=lambda r: r[0])  # the log is appended in time order
    db.executemany("INSERT INTO audit_log (ts, actor, verb, subject, trace_id, details) VALUES (?, ?, ?, ?, ?, ?)", audit_rows)
    db.execute("COMMIT")
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("audit_log", "actions", "action_approvals", "captures", "agent_runs", "records")}
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--audit", type=int, default=100_000)
    ap.add_argument("--actions", type=int, default=10_000)
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from oxymus.client.sync_client import connect

    work = tempfile.mkdtemp(prefix="oxm-", dir="/tmp")
    path = os.path.join(work, "oxymus.db")
    from oxymus.store.repos import Store

    async def create() -> None:
        await (await Store.open(path)).close()

    asyncio.run(create())
    t = time.perf_counter()
    counts = build(path, audit=args.audit, actions=args.actions, records=args.records)
    built_s = time.perf_counter() - t
    metrics_ms: list[float] = []
    floor_ms: list[float] = []
    try:
        with BenchDaemon(db_from=path, prefix="oxm-d-") as d, connect(d.paths.socket, "oxymus-bench", timeout=300) as conn:
            def floor() -> None:
                ro = sqlite3.connect(f"file:{d.paths.db_file}?mode=ro", uri=True)
                t0 = time.perf_counter_ns()
                ro.execute("SELECT count(*) FROM audit_log").fetchone()
                floor_ms.append((time.perf_counter_ns() - t0) / 1e6)
                ro.close()

            def metrics() -> None:
                t0 = time.perf_counter_ns()
                result = conn.call("metrics.get", {"months": 6})
                metrics_ms.append((time.perf_counter_ns() - t0) / 1e6)
                assert len(result["metrics"]) > 10

            for _ in range(2):
                metrics(), floor()
            metrics_ms.clear(), floor_ms.clear()
            for i in range(args.calls):
                for fn in ((metrics, floor) if i % 2 == 0 else (floor, metrics)):
                    fn()
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    report = {"rows": counts, "build_s": round(built_s, 1), "metrics_get_ms": summary(metrics_ms, (50, 90)),
              "count_floor_ms": summary(floor_ms, (50, 90)), "checks": [f"metrics.get answered {args.calls} times with every family"],
              "warnings": []}
    report["ratio_p50"] = round(report["metrics_get_ms"]["p50"] / max(report["count_floor_ms"]["p50"], 1e-6), 1)
    table = "\n".join([
        "rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + f" (built in {built_s:.1f} s)",
        f"{'':<28}{'p50 ms':>10}{'p90 ms':>10}",
        f"{'metrics.get (6 months)':<28}{report['metrics_get_ms']['p50']:>10.1f}{report['metrics_get_ms']['p90']:>10.1f}",
        f"{'floor: SELECT count(*) audit':<28}{report['count_floor_ms']['p50']:>10.1f}{report['count_floor_ms']['p90']:>10.1f}",
        f"ratio at p50: {report['ratio_p50']}x",
        *footer(report),
    ])
    return emit(report, table, args.json)


if __name__ == "__main__":
    run_main(main, "metrics.py")
