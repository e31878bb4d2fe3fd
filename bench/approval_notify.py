"""Approval request -> desktop notification: how long until the notification server has it, p50/p95 over N.

Run with the project's venv:

    .venv/bin/python bench/approval_notify.py [--requests N] [--json]

What it measures
----------------
A private D-Bus session bus (dbus-daemon) with the project's test notification server in a child
process (tests/dbus_session.py: it records each Notify call with its wall-clock arrival time), and
a real daemon (`oxymus up`) on a temp profile whose policy makes `plans.edit` wait for approval and
lets notifications run. For each request:

    t0 -> `actions.propose` of a plans.edit sent (the request is stored awaiting approval)
       -> the desk asks the person: a notify.send with Approve/Deny buttons, run by the executor
       -> the server's Notify call arrives            latency = arrival - t0 (same machine clock)

Requests go one at a time (the next after the previous notification arrived). Percentiles are
nearest-rank (bench/_stats.py). Needs dbus-daemon.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from _stats import BenchError, emit, footer, run_main, summary  # noqa: E402

POLICY = """\
# bench/approval_notify.py: plans.edit waits for approval; notifications run.
[[rule]]
name = "bench: notifications run"
kind = "notify.*"
outcome = "allow"

[[rule]]
name = "bench: plans.edit needs approval"
kind = "plans.edit"
outcome = "require_approval"
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not shutil.which("dbus-daemon"):
        raise BenchError("needs dbus-daemon (apt-get install dbus-daemon)")
    from dbus_session import NotificationServerProcess, SessionBus

    from oxymus.client.sync_client import connect

    oxymus = os.path.join(os.path.dirname(sys.executable), "oxymus")
    home = tempfile.mkdtemp(prefix="oxb-notify-", dir="/tmp")
    samples: list[float] = []
    with SessionBus() as bus, NotificationServerProcess(bus.address) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OXYMUS_", "XDG_"))}
        env.update(OXYMUS_HOME=home, DBUS_SESSION_BUS_ADDRESS=bus.address, OXYMUS_AGENTS="off")
        from oxymus.profile.paths import resolve

        paths = resolve({"OXYMUS_HOME": home})
        os.makedirs(os.path.dirname(paths.policy_file), exist_ok=True)
        with open(paths.policy_file, "w") as f:
            f.write(POLICY)
        up = subprocess.run([oxymus, "up"], env=env, capture_output=True, timeout=60)
        if up.returncode != 0:
            raise BenchError(f"oxymus up failed: {up.stderr.decode(errors='replace')}")
        try:
            with connect(paths.socket, "bench") as c:
                for i in range(args.requests):
                    t0 = time.time()
                    c.call("actions.propose", {"kind": "plans.edit", "payload": {"op": "add_action", "text": f"bench {i}"}})
                    deadline = time.monotonic() + 10
                    while len(got := server.notifications) <= i:
                        if time.monotonic() > deadline:
                            raise BenchError(f"request {i}: no notification within 10 s")
                        time.sleep(0.001)
                    if "approve" not in got[i]["actions"]:
                        raise BenchError(f"request {i}: the notification has no Approve button: {got[i]['actions']}")
                    samples.append((got[i]["received_at"] - t0) * 1000)
        finally:
            subprocess.run([oxymus, "down"], env=env, capture_output=True, timeout=60)
            shutil.rmtree(home, ignore_errors=True)
    stats = summary(samples, (50, 95, 99))
    report = {"requests": args.requests, "ms": stats,
              "checks": [f"{args.requests} approval requests, {len(samples)} notifications with Approve/Deny arrived"]}
    table = "\n".join([
        "approval request -> notification at the server (ms)",
        f"  n={stats['n']:.0f}  p50={stats['p50']:.1f}  p95={stats['p95']:.1f}  p99={stats['p99']:.1f}  "
        f"min={stats['min']:.1f}  max={stats['max']:.1f}",
        *footer(report),
    ])
    return emit(report, table, args.json)


if __name__ == "__main__":
    run_main(main, "approval_notify")
