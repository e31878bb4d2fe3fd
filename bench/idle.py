"""How much an idle daemon costs: CPU seconds per 10 minutes and wake-ups per minute.

Starts a daemon (`oxymus up`) on a temp profile with no sources and the agents not
scheduled, lets it settle, then reads its CPU time and voluntary context switches
(a thread woken from sleep counts one) from /proc over a window. The same is read, in the
same window, off a Python process that only sleeps in asyncio: the floor.

    .venv/bin/python bench/idle.py                 # 60 s window, table
    .venv/bin/python bench/idle.py --seconds 600   # the issue's 10 minutes
    .venv/bin/python bench/idle.py --json

Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _stats import BenchError, emit, footer, run_main  # noqa: E402

ENV_VARS = ("OXYMUS_HOME", "OXYMUS_CONFIG", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
            "XDG_CACHE_HOME")
FLOOR = "import asyncio; asyncio.run(asyncio.sleep(86400))"


def threads_usage(pid: int) -> tuple[float, int]:
    """The same, summed over every thread (aiosqlite and the scheduler wake in threads of their own)."""
    cpu, switches = 0.0, 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            c, s = usage_task(pid, int(tid))
        except FileNotFoundError:
            continue
        cpu += c
        switches += s
    return cpu, switches


def usage_task(pid: int, tid: int) -> tuple[float, int]:
    with open(f"/proc/{pid}/task/{tid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/task/{tid}/status") as fh:
        switches = next(int(line.split()[1]) for line in fh if line.startswith("voluntary_ctxt_switches"))
    return cpu, switches


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="the measured window (default 60)")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds after start before measuring (default 10)")
    ap.add_argument("--json", action="store_true", help="print JSON on stdout (the table then goes to stderr)")
    args = ap.parse_args(argv)
    if not os.path.isdir("/proc/self/task"):
        raise BenchError("this benchmark reads /proc: Linux only")

    python = sys.executable
    oxymus = os.path.join(os.path.dirname(python), "oxymus")
    root = tempfile.mkdtemp(prefix="oxi-", dir="/tmp")
    os.chmod(root, 0o700)
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(OXYMUS_HOME=root, OXYMUS_AGENTS="off")
    floor = subprocess.Popen([python, "-c", FLOOR])
    started = False
    try:
        subprocess.run([oxymus, "up"], env=env, check=True, capture_output=True, timeout=60)
        started = True
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from oxymus.profile import paths as paths_mod
        from oxymus.profile.pidfile import read_pid

        pid = read_pid(paths_mod.resolve(env).lock_file)
        if pid is None:
            raise BenchError("the daemon wrote no pid into its lock file")
        time.sleep(args.settle)
        before = {"daemon": threads_usage(pid), "floor": threads_usage(floor.pid)}
        time.sleep(args.seconds)
        after = {"daemon": threads_usage(pid), "floor": threads_usage(floor.pid)}
    except FileNotFoundError as exc:
        raise BenchError(f"cannot find the daemon's pid file or /proc entry: {exc}") from exc
    finally:
        if started:
            subprocess.run([oxymus, "down"], env=env, capture_output=True, timeout=60)
        floor.kill()
        floor.wait()
        shutil.rmtree(root, ignore_errors=True)

    rows = []
    for name in ("daemon", "floor"):
        cpu = after[name][0] - before[name][0]
        wakes = after[name][1] - before[name][1]
        rows.append({"name": name, "cpu_s_per_10min": cpu * 600 / args.seconds,
                     "switches_per_min": wakes * 60 / args.seconds})
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "environment": {"python": python, "python_version": platform.python_version(), "cpus": os.cpu_count(),
                        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())},
        "seconds": args.seconds,
        "rows": rows,
        "checks": [f"measured {args.seconds:g} s after {args.settle:g} s of settling; CPU time has 1/"
                   f"{os.sysconf('SC_CLK_TCK')} s resolution"],
        "warnings": [],
    }
    emit(report, render(report), args.json)
    return 0


def render(report: dict) -> str:
    lines = [f"idle daemon, {report['seconds']:g} s window ({report['environment']['loadavg']} load)", "",
             f"{'process':<8} {'CPU s / 10 min':>15} {'switches / min':>15}"]
    for r in report["rows"]:
        lines.append(f"{r['name']:<8} {r['cpu_s_per_10min']:>15.2f} {r['switches_per_min']:>15.1f}")
    return "\n".join(lines + [""] + footer(report))


if __name__ == "__main__":
    run_main(main, "idle.py")
