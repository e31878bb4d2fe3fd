"""Switching to the TUI's Inbox with 100,000 open captures, against an empty inbox in the same run.

    .venv/bin/python bench/inbox_switch.py                       # 100,000 captures, 10 runs
    .venv/bin/python bench/inbox_switch.py --captures 10000 --runs 5 --json

Two real daemons (`OXYMUS_AGENTS=off`) on temp profiles: one whose database was seeded with
`--captures` open captures through the store's own statements, one with none. For each run and
each profile (alternating which goes first), a fresh TUI (`create_app`, headless through Textual's
`run_test`) connects and, once its inbox is loaded, is switched to the Inbox (key 2): timed from
the key until the Inbox is the screen and its summary shows the daemon's count ("first"); then
`--again` times Today (1) and back to the Inbox (2) ("again"). The ratio is the big inbox's p50
over the empty one's. Target: <= 1.2x. Then, on the big one, G (the oldest page from the daemon)
until the oldest capture is under the cursor, against g back to the newest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _daemon import BenchDaemon  # noqa: E402
from _stats import BenchError, emit, footer, run_main, summary  # noqa: E402

TARGET = 1.2
SIZE = (100, 30)


def seeded_db(n: int) -> tuple[str, str | None, str | None]:
    """A migrated database with n open captures (the oldest first); returns its path and the newest and oldest ids."""
    from oxymus.kernel.ulid import new_ulid
    from oxymus.store import capture_sql, db

    path = os.path.join(tempfile.mkdtemp(prefix="oxi-seed-", dir="/tmp"), "oxymus.db")
    conn = db.connect(path)
    ids = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for i in range(n):
            params = capture_sql.insert_params(f"bench capture {i}: something to sort out later", "bench", new_ulid())
            for sql, args in capture_sql.add_statements(params, trace_id=new_ulid()):
                conn.execute(sql, args)
            ids.append(params[0])
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path, (ids[-1] if ids else None), (ids[0] if ids else None)


async def until(pilot, predicate, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out waiting for {what}")
        await pilot.pause()


async def one_app(paths, n: int, again: int, ends: tuple[str | None, str | None] | None) -> dict[str, list[float]]:
    from oxymus.kernel.textfmt import open_count
    from oxymus.tui.app import create_app
    from oxymus.tui.screens.inbox import InboxScreen

    out: dict[str, list[float]] = {"first": [], "again": [], "G": [], "g": []}
    app = create_app(paths, start_daemon=False)
    want = ""  # the summary once the first page is in: its size is the app's (a screenful and a margin)

    def shown() -> bool:
        screen = app.screen_stack[0]
        return isinstance(screen, InboxScreen) and str(screen.query_one("#summary").render()).startswith(want)

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.connection.connected and app.connection._loaded, "the TUI to connect")
        want = open_count(min(n, app.connection.first_page), n)
        await until(pilot, lambda: not isinstance(app.screen_stack[0], InboxScreen), "the first screen")
        t0 = time.perf_counter()
        await pilot.press("2")
        await until(pilot, shown, "the inbox")
        out["first"].append(time.perf_counter() - t0)
        for _ in range(again):
            await pilot.press("1")
            await until(pilot, lambda: not isinstance(app.screen_stack[0], InboxScreen), "Today")
            await pilot.pause()
            t0 = time.perf_counter()
            await pilot.press("2")
            await until(pilot, shown, "the inbox again")
            out["again"].append(time.perf_counter() - t0)
        if ends is not None:
            newest, oldest = ends
            table = app.screen_stack[0].table
            table.focus()
            for key, target in (("G", oldest), ("g", newest)):
                t0 = time.perf_counter()
                await pilot.press(key)
                await until(pilot, lambda: table.selected_id == target, f"{key} to reach its end")
                out[key].append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--captures", type=int, default=100_000, help="open captures in the big inbox (default 100,000)")
    ap.add_argument("--runs", type=int, default=10, help="fresh TUIs per profile (default 10)")
    ap.add_argument("--again", type=int, default=5, help="switches away and back per TUI (default 5)")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    args = ap.parse_args()
    seed_t0 = time.monotonic()
    db_path, newest, oldest = seeded_db(args.captures)
    seed_s = time.monotonic() - seed_t0
    samples = {"big": {"first": [], "again": [], "G": [], "g": []}, "empty": {"first": [], "again": [], "G": [], "g": []}}
    big = BenchDaemon(db_from=db_path, prefix="oxi-big-")
    empty = BenchDaemon(prefix="oxi-empty-")
    try:
        for d in (big, empty):
            d.env["OXYMUS_AGENTS"] = "off"  # no triage agent working through the captures meanwhile
        with big, empty:
            big.settle()
            empty.settle()
            for run in range(args.runs):
                order = [("big", big, args.captures), ("empty", empty, 0)]
                for name, daemon, n in order if run % 2 == 0 else order[::-1]:
                    got = asyncio.run(one_app(daemon.paths, n, args.again, (newest, oldest) if name == "big" else None))
                    for key, values in got.items():
                        samples[name][key] += values
    finally:
        os.remove(db_path)
        os.rmdir(os.path.dirname(db_path))

    ms = {name: {k: summary([v * 1000 for v in vs], (50, 90)) for k, vs in d.items() if vs} for name, d in samples.items()}
    table = []
    for key, label in (("first", "first switch"), ("again", "switch again (1 then 2)")):
        b, e = ms["big"][key], ms["empty"][key]
        ratio = b["p50"] / e["p50"]
        table.append({"measure": f"TUI: {label} to the Inbox, {args.captures:,} open", "figure": f"{b['p50']:.1f} ms",
                      "spread": f"p90 {b['p90']:.1f} ms, {b['min']:.1f}-{b['max']:.1f} ms",
                      "reference": f"empty inbox {e['p50']:.1f} ms", "ratio": ratio, "target": f"<= {TARGET:g}x",
                      "met": ratio <= TARGET})
    g_, G_ = ms["big"]["g"], ms["big"]["G"]
    table.append({"measure": f"TUI: G to the oldest of {args.captures:,} (a page from the daemon)", "figure": f"{G_['p50']:.1f} ms",
                  "spread": f"p90 {G_['p90']:.1f} ms, {G_['min']:.1f}-{G_['max']:.1f} ms", "reference": f"g back {g_['p50']:.1f} ms",
                  "ratio": G_["p50"] / g_["p50"], "target": "reaches the oldest", "met": True})
    report = {
        "captures": args.captures, "runs": args.runs, "again": args.again, "size": list(SIZE), "ms": ms, "table": table,
        "checks": [f"seeded {args.captures:,} open captures in {seed_s:.1f} s; every switch waited for the summary to show "
                   f"the daemon's count; G reached the oldest capture and g the newest in every run"],
        "warnings": [],
        "environment": {"python_version": platform.python_version(), "cpus": os.cpu_count(), "loadavg": os.getloadavg()},
    }
    lines = [f"switching to the Inbox, {args.captures:,} open captures against none ({args.runs} TUIs each, "
             f"{args.again} switches again each; {SIZE[0]}x{SIZE[1]})", ""]
    for r in table:
        lines.append(f"{r['measure']:<58} {r['figure']:>10}  {r['spread']:<30} {r['reference']:<24} {r['ratio']:5.2f}x  "
                     f"{r['target']}  {'met' if r['met'] else 'NOT MET'}")
    return emit(report, "\n".join(lines + [""] + footer(report)), args.json)


if __name__ == "__main__":
    run_main(main, "inbox_switch.py")
