"""How does reading PLANS.md scale, and does a big one stall the daemon? In one run.

    .venv/bin/python bench/plans_parse.py [--sizes 0.5,1,2,4] [--seconds 4] [--json]

1. In-process: `oxymus.plans.parse` over generated PLANS.md files of each size
   (sections with goals, nested and wrapped checkboxes, paragraphs, a publishing
   order), best of 3, with seconds per MB so linearity shows at a glance; the
   memory a parse takes is measured in a child process (peak RSS, VmHWM, over
   the interpreter's own; Linux only).
2. Through a real daemon: `status` round trips on one connection, idle, then
   while the daemon re-reads a PLANS.md at the default size limit (written anew,
   so the watcher parses it in a thread). Then a file over the limit: the time
   until the daemon reports the refusal.

Figures drift 10-50% between runs; compare rows within one run.
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
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _stats import BenchError, emit, footer, run_main, summary  # noqa: E402

MB = 2**20


def plans_text(size: int) -> bytes:
    """A PLANS.md of about `size` bytes, shaped like a long-lived real one."""
    parts = ["# Plans\n\n## Goals\n\n- Keep the daemon small\n- [ ] Write one post a month\n\n"]
    total, i = len(parts[0]), 0
    while total < size:
        block = (
            f"## Project {i}\n\nGoal: ship project {i} before the holidays\n\n"
            f"- [ ] Outline project {i} and its milestones\n"
            f"  - [x] Collect notes for project {i} (done 2026-11-20)\n"
            f"  - [ ] Ask Sam about the budget for {i}\n"
            f"- [ ] Review the draft from Zoë about\n  calendar time zones, part {i}\n"
            f"- [X] Fix the flaky test {i} ✓ 2026-11-19\n\n"
            f"Notes on project {i}: a paragraph of plain text between lists, as people write them.\n\n"
        )
        parts.append(block)
        total += len(block)
        i += 1
    parts.append("## Publishing order\n\n" + "".join(f"{n}. [draft] Post {n}\n" for n in range(1, 101)))
    return "".join(parts).encode()


def parse_seconds(data: bytes, repeat: int = 3) -> float:
    from oxymus.plans import parse

    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        parse(data)
        best = min(best, time.perf_counter() - t)
    return best


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child would report its parent's peak.
_RSS = (
    "import re, sys\n"
    "from oxymus.plans import parse\n"
    "def hwm():\n"
    "    return int(re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)) * 1024\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "before = hwm()\n"
    "doc = parse(data)\n"
    "print(hwm() - before)\n"
)


def parse_memory(path: str) -> int:
    out = subprocess.run([sys.executable, "-c", _RSS, path], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def status_latencies(conn, seconds: float) -> list[float]:
    out: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t = time.perf_counter_ns()
        conn.call("status")
        out.append((time.perf_counter_ns() - t) / 1e6)
    return out


def daemon_rows(root: str, seconds: float) -> dict:
    from oxymus.client.sync_client import connect
    from oxymus.daemon.plans import MAX_BYTES

    env = {**os.environ, "OXYMUS_HOME": root, "OXYMUS_AGENTS": "off"}
    oxymus = os.path.join(os.path.dirname(sys.executable), "oxymus")
    config = os.path.join(root, "config")
    os.makedirs(config)
    plans_file = os.path.join(config, "PLANS.md")
    at_limit = plans_text(MAX_BYTES - 64 * 1024)
    with open(plans_file, "wb") as fh:
        fh.write(at_limit)
    with open(os.path.join(config, "config.toml"), "w") as fh:
        fh.write('[plans]\nfile = "PLANS.md"\n')
    subprocess.run([oxymus, "up"], env=env, check=True, capture_output=True)
    try:
        with connect(os.path.join(root, "run", "oxymus.sock"), timeout=60) as conn:
            if conn.call("plans.get")["error"]:
                raise BenchError("the daemon did not read the generated PLANS.md")
            idle = status_latencies(conn, seconds / 2)
            with open(plans_file, "ab") as fh:  # a new mtime and size: the watcher parses it again
                fh.write(b"- [ ] one more\n")
            busy = status_latencies(conn, seconds)
            with open(plans_file, "wb") as fh:
                fh.write(plans_text(20 * MB))
            t = time.perf_counter()
            while not (error := conn.call("plans.get")["error"]):
                if time.perf_counter() - t > 60:
                    raise BenchError("no refusal of the 20 MB file within 60 s")
                time.sleep(0.01)
            refused_after = time.perf_counter() - t
    finally:
        subprocess.run([oxymus, "down"], env=env, capture_output=True)
    return {
        "file_bytes": len(at_limit), "status_idle_ms": summary(idle, (50, 99)),
        "status_during_reparse_ms": summary(busy, (50, 99)),
        "refused_20mb_after_s": refused_after, "refusal": error,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="0.5,1,2,4", help="MB, comma-separated")
    ap.add_argument("--seconds", type=float, default=4.0, help="status round trips during the re-read")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    root = tempfile.mkdtemp(prefix="oxp-", dir="/tmp")
    report: dict = {"parse": [], "checks": [], "warnings": []}
    try:
        for mb in (float(s) for s in args.sizes.split(",")):
            data = plans_text(int(mb * MB))
            path = os.path.join(root, f"plans-{mb}.md")
            with open(path, "wb") as fh:
                fh.write(data)
            seconds = parse_seconds(data)
            report["parse"].append({
                "mb": len(data) / MB, "seconds": seconds, "s_per_mb": seconds / (len(data) / MB),
                "memory_mb": parse_memory(path) / MB,
            })
        report["daemon"] = daemon_rows(os.path.join(root, "home"), args.seconds)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rates = [row["s_per_mb"] for row in report["parse"]]
    growth = rates[-1] / rates[0]
    report["checks"].append(f"seconds per MB, largest over smallest file: {growth:.2f}x (1.0 is linear)")
    if growth > 1.5:
        report["warnings"].append(f"parse time grows faster than the file ({growth:.2f}x per MB)")
    d = report["daemon"]
    if d["status_during_reparse_ms"]["max"] > 100:
        report["warnings"].append(f"a status call waited {d['status_during_reparse_ms']['max']:.0f} ms during a re-read")

    lines = [f"{'PLANS.md':>10} {'parse s':>8} {'s/MB':>6} {'memory MB':>10}"]
    for row in report["parse"]:
        lines.append(f"{row['mb']:>8.1f}MB {row['seconds']:>8.2f} {row['s_per_mb']:>6.2f} {row['memory_mb']:>10.0f}")
    lines.append(f"daemon, PLANS.md of {d['file_bytes'] / MB:.1f} MB (under the default limit), status round trips:")
    for name in ("status_idle_ms", "status_during_reparse_ms"):
        s = d[name]
        lines.append(f"  {name.removeprefix('status_').removesuffix('_ms'):<16} n={s['n']:<6} p50 {s['p50']:.2f} ms  "
                     f"p99 {s['p99']:.2f} ms  max {s['max']:.1f} ms")
    lines.append(f"a 20 MB PLANS.md is refused {d['refused_20mb_after_s']:.2f} s after it is written: {d['refusal']}")
    return emit(report, "\n".join(lines + footer(report)), args.json)


if __name__ == "__main__":
    run_main(main, "plans_parse.py")
