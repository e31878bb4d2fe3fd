"""How long a calendar poll takes: a 20,000-event .ics file, changed and unchanged.

Polls an `IcsSource` the way the coordinator does (the last stored poll's
fingerprint handed to the next) and times these rows, in the same run:

- **icalendar parse**: `icalendar.Calendar.from_ical` on the file alone, the floor
  of the way every poll read the file before plain events skipped icalendar;
- **poll, changed**: the file is touched before each poll, so it is read, parsed and
  expanded (in the worker process) into state items;
- **poll, unchanged**: nothing changed since the last stored poll: a stat;
- **as before**: a changed poll the way it was: parsed in the poll's thread, every event
  through icalendar (items are built the new way, so this is a little kinder than before);
- **CPU**: the first two as CPU seconds (the poll's in both processes), steadier than wall
  time on a loaded machine;
- **first poll**: the changed poll that also starts the worker process (once per daemon);
- **loop lag**: how late a 5 ms `asyncio.sleep` ticker on the polling event loop wakes
  during a changed poll (the p99 of its ticks, and the worst): with the worker (now),
  and with the parse in a thread of the same process (before: the GIL makes socket
  requests wait). On a loaded machine the worst tick is mostly the OS scheduler's.

`--events` sets the size; the target is a changed poll under 1.5 s at 20,000 events.

    .venv/bin/python bench/calendar_poll.py            # 20,000 events, 3 runs (about 2 minutes)
    .venv/bin/python bench/calendar_poll.py --events 2000 --runs 20 --json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _stats import emit, footer, run_main, summary  # noqa: E402

TARGET_CHANGED_S = 1.5
ZONE = ZoneInfo("Europe/Berlin")


def make_ics(n: int, today: dt.date) -> str:
    """n events around today: most single, every 20th weekly; a realistic mix of fields."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//oxymus bench//EN"]
    start = today - dt.timedelta(days=60)
    for i in range(n):
        day = start + dt.timedelta(days=i % 240)
        hour = 8 + i % 10
        lines += ["BEGIN:VEVENT", f"UID:bench-{i}@oxymus", f"DTSTAMP:20260101T000000Z",
                  f"DTSTART;TZID=Europe/Berlin:{day:%Y%m%d}T{hour:02d}0000", "DURATION:PT45M",
                  f"SUMMARY:Meeting {i} about the quarterly plan", f"LOCATION:Room {i % 30}",
                  "DESCRIPTION:Agenda: review\\, decide\\, follow up."]
        if i % 20 == 0:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=10")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=20_000, help="events in the file (default 20,000)")
    ap.add_argument("--runs", type=int, default=3, help="timed polls per row (default 3)")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    args = ap.parse_args(argv)

    import icalendar

    from oxymus.connectors.calendar import IcsEntry, worker
    from oxymus.connectors.calendar.source import IcsSource
    from oxymus.sources.contract import PollContext

    now = dt.datetime.now(dt.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="oxcal-") as tmp:
        path = Path(tmp) / "big.ics"
        path.write_text(make_ics(args.events, now.astimezone(ZONE).date()))
        source = IcsSource(IcsEntry(path=str(path), name="bench"), (30, 365), max_occurrences=1000)

        def ctx(previous: str | None) -> PollContext:
            return PollContext(zone=ZONE, config_dir=Path(tmp), now=lambda: now, timeout=600,
                               previous_fingerprint=previous)

        def worker_cpu() -> float:
            """The worker process's CPU seconds so far (user + system), from /proc."""
            proc = worker.shared()._proc
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        rows: dict[str, list[float]] = {"parse": [], "changed": [], "before": [], "parse_cpu": [], "changed_cpu": [],
                                        "unchanged": [], "first": [],
                                        "lag_worker": [], "lag_thread": [], "lagmax_worker": [], "lagmax_thread": []}
        items = 0
        fingerprint = None

        async def with_ticker(previous: str | None):
            lags: list[float] = []
            done = False

            async def tick() -> None:
                while not done:
                    t0 = time.perf_counter()
                    await asyncio.sleep(0.005)
                    lags.append(time.perf_counter() - t0 - 0.005)

            ticker = asyncio.ensure_future(tick())
            try:
                return await source.poll(ctx(previous)), lags
            finally:
                done = True
                await ticker

        def changed_before() -> float:
            """Before: the parse in the poll's thread and every event through icalendar (no plain path)."""
            from oxymus.connectors.calendar import ics

            os.utime(path)
            real, real_plain = worker.expand, ics._plain_events
            worker.expand = lambda data, origin, window, limits, timeout: worker.expand_here(data, origin, window, limits)
            ics._plain_events = lambda *args: {}
            try:
                t = time.perf_counter()
                result = asyncio.run(source.poll(ctx(fingerprint)))
                elapsed = time.perf_counter() - t
            finally:
                worker.expand, ics._plain_events = real, real_plain
            assert not result.unchanged and len(result.items) == items
            return elapsed

        def lag(in_thread: bool) -> tuple[float, float]:
            os.utime(path)
            real = worker.expand
            if in_thread:  # before: the parse in the poll's thread, in the daemon's process
                worker.expand = lambda data, origin, window, limits, timeout: worker.expand_here(data, origin, window, limits)
            try:
                result, worst = asyncio.run(with_ticker(fingerprint))
            finally:
                worker.expand = real
            assert not result.unchanged
            worst.sort()
            return (worst[min(len(worst) - 1, int(len(worst) * 0.99))], worst[-1]) if worst else (0.0, 0.0)

        os.utime(path)
        t = time.perf_counter()
        first = asyncio.run(source.poll(ctx(None)))
        rows["first"].append(time.perf_counter() - t)
        fingerprint = first.fingerprint
        for _ in range(args.runs):
            data = path.read_bytes()
            t, cpu = time.perf_counter(), time.process_time()
            icalendar.Calendar.from_ical(data)
            rows["parse"].append(time.perf_counter() - t)
            rows["parse_cpu"].append(time.process_time() - cpu)

            os.utime(path)  # a touch: the next poll must read it again
            t, cpu, wcpu = time.perf_counter(), time.process_time(), worker_cpu()
            result = asyncio.run(source.poll(ctx(fingerprint)))
            rows["changed"].append(time.perf_counter() - t)
            rows["changed_cpu"].append(time.process_time() - cpu + worker_cpu() - wcpu)
            items = len(result.items)
            assert not result.unchanged
            items, fingerprint = len(result.items), result.fingerprint

            t = time.perf_counter()
            again = asyncio.run(source.poll(ctx(fingerprint)))
            rows["unchanged"].append(time.perf_counter() - t)
            assert again.unchanged
            rows["before"].append(changed_before())

            for name, in_thread in (("worker", False), ("thread", True)):
                p99, most = lag(in_thread)
                rows[f"lag_{name}"].append(p99)
                rows[f"lagmax_{name}"].append(most)

    stats = {name: summary([v * 1000 for v in values], (50, 90)) for name, values in rows.items()}
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "environment": {"python": sys.executable, "python_version": platform.python_version(), "cpus": os.cpu_count(),
                        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())},
        "events": args.events, "items": items, "runs": args.runs,
        "rows": [{"name": name, **s} for name, s in stats.items()],
        "ratios": {"changed / parse": stats["changed"]["p50"] / stats["parse"]["p50"],
                   "changed / before": stats["changed"]["p50"] / stats["before"]["p50"],
                   "changed / parse, CPU": stats["changed_cpu"]["p50"] / stats["parse_cpu"]["p50"],
                   "unchanged / changed": stats["unchanged"]["p50"] / stats["changed"]["p50"],
                   "loop lag, worker / thread": stats["lag_worker"]["p50"] / max(stats["lag_thread"]["p50"], 1e-9)},
        "targets": {"changed_p50_s": TARGET_CHANGED_S},
        "checks": [f"{items:,} state items from {args.events:,} events (window 30 days back, 365 ahead)"],
        "warnings": [] if stats["changed"]["p50"] / 1000 <= TARGET_CHANGED_S else
        [f"a changed poll takes {stats['changed']['p50'] / 1000:.2f} s, over the {TARGET_CHANGED_S} s target"],
    }
    emit(report, render(report), args.json)
    return 0


def render(report: dict) -> str:
    labels = {"parse": "icalendar parse only", "changed": "poll, file changed", "unchanged": "poll, unchanged",
              "before": "poll, changed, as before", "parse_cpu": "  icalendar parse, CPU", "changed_cpu": "  poll changed, CPU (+worker)",
              "first": "first poll (+ worker start)", "lag_worker": "loop lag p99, worker",
              "lag_thread": "loop lag p99, thread (before)", "lagmax_worker": "loop lag max, worker",
              "lagmax_thread": "loop lag max, thread (before)"}
    lines = [f"calendar poll, {report['events']:,} events, {report['runs']} runs ({report['environment']['loadavg']} load)",
             "", f"{'row':<30} {'p50 ms':>10} {'p90 ms':>10} {'min ms':>10}"]
    for r in report["rows"]:
        lines.append(f"{labels[r['name']]:<30} {r['p50']:>10.1f} {r['p90']:>10.1f} {r['min']:>10.1f}")
    lines.append("")
    lines += [f"{k}: {v:.4f}x" for k, v in report["ratios"].items()]
    return "\n".join(lines + [""] + footer(report))


if __name__ == "__main__":
    run_main(main, "calendar_poll.py")
