"""How long ageing memory tiers takes: `MemoryRepo.apply_tier_rules` over many records.

Builds a fresh store in a temp folder with `--records` records (hot and warm, half of
them untouched long enough to move: a quarter hot -> warm, a quarter warm -> cold) through
the store's own SQL, then times one ageing pass, `--runs` times on fresh copies of the file.
Checks that every moved record has its version row and its audit line, as an edit has.

    .venv/bin/python bench/memory_age.py                 # 100,000 records, 3 runs
    .venv/bin/python bench/memory_age.py --records 10000 --runs 5 --json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _stats import emit, footer, run_main, summary  # noqa: E402

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
HOT_DAYS, WARM_DAYS = 14, 30


def build(path: str, n: int) -> int:
    """n records, written with the store's own insert statements; returns how many should move."""
    from oxymus.store.db import connect
    from oxymus.store.memory_repo import VERSION_INSERT

    db = connect(path)
    db.execute("BEGIN")
    moving = 0
    for i in range(n):
        tier = "hot" if i % 2 else "warm"
        idle = (HOT_DAYS + WARM_DAYS + 5) if i % 4 < 2 else 1  # half are untouched long enough to move
        moving += idle > 1
        touched = (NOW - dt.timedelta(days=idle)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        rid = f"01BENCH{i:019d}"
        db.execute("INSERT INTO memory_records (id, kind, title, body, tags, tier, provenance, created_at, updated_at, touched_at) "
                   "VALUES (?, 'note', ?, ?, '[]', ?, '{}', ?, ?, ?)",
                   (rid, f"Record {i}", f"body of record {i}", tier, touched, touched, touched))
        db.execute(VERSION_INSERT, (touched, "bench", "created", rid))
    db.execute("COMMIT")
    db.close()
    return moving


async def age(path: str) -> tuple[float, int]:
    from oxymus.store.repos import Store

    store = await Store.open(path)
    try:
        t = time.perf_counter()
        moves = await store.memory.apply_tier_rules(NOW, HOT_DAYS, WARM_DAYS)
        return time.perf_counter() - t, len(moves)
    finally:
        await store.close()


def check(path: str, moved: int) -> str:
    db = sqlite3.connect(path)
    try:
        versions = db.execute("SELECT count(*) FROM memory_versions WHERE note LIKE 'aged from %'").fetchone()[0]
        audits = db.execute("SELECT count(*) FROM audit_log WHERE verb = 'memory.edited' AND actor = 'memory-steward'").fetchone()[0]
        stale = db.execute("SELECT count(*) FROM memory_records r JOIN memory_versions v ON v.record_id = r.id "
                           "AND v.version = r.version WHERE v.tier != r.tier").fetchone()[0]
    finally:
        db.close()
    assert versions == audits == moved and stale == 0, (versions, audits, moved, stale)
    return f"{moved:,} moves, each with its version row and audit line"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    args = ap.parse_args(argv)
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="oxage-") as tmp:
        master = os.path.join(tmp, "master.db")
        expected = build(master, args.records)
        for run in range(args.runs):
            path = os.path.join(tmp, f"run{run}.db")
            shutil.copyfile(master, path)
            elapsed, moved = asyncio.run(age(path))
            assert moved == expected, (moved, expected)
            times.append(elapsed)
            checked = check(path, moved)
    stats = summary([t * 1000 for t in times], (50, 90))
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "environment": {"python": sys.executable, "python_version": platform.python_version(), "cpus": os.cpu_count(),
                        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())},
        "records": args.records, "runs": args.runs, "moves": expected,
        "rows": [{"name": "age", **stats}],
        "checks": [checked],
        "warnings": [],
    }
    emit(report, render(report), args.json)
    return 0


def render(report: dict) -> str:
    (row,) = report["rows"]
    return "\n".join([
        f"memory tier ageing, {report['records']:,} records, {report['moves']:,} moves, {report['runs']} runs "
        f"({report['environment']['loadavg']} load)", "",
        f"{'row':<30} {'p50 ms':>10} {'p90 ms':>10} {'min ms':>10}",
        f"{'apply_tier_rules':<30} {row['p50']:>10.1f} {row['p90']:>10.1f} {row['min']:>10.1f}", "",
        *footer(report),
    ])


if __name__ == "__main__":
    run_main(main, "memory_age.py")
