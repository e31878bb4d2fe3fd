"""A real daemon on a temp profile for the benchmarks that measure over the socket.

`BenchDaemon(config=..., db_from=...)` makes /tmp/oxd-XXXX (0700) as OXYMUS_HOME,
writes config.toml, copies a prepared database into data/oxymus.db when given, starts
`oxymus daemon` and waits until it answers, and always stops it (`oxymus down`) and
removes the folder. `APPROVAL_POLICY` is the policy.toml of the benchmarks that time
approvals (approve.py, contention.py); `pause()` keeps the executor from running them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _stats import BenchError  # noqa: E402

PROC_TIMEOUT = 120
START_TIMEOUT = 900  # a 1 GB database's quick_check at start takes minutes on a busy machine
ENV_VARS = ("OXYMUS_HOME", "OXYMUS_CONFIG", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
            "XDG_CACHE_HOME", "OXYMUS_NOW", "OXYMUS_FAULT_KILL")
# Every plans.edit waits for approval (the person's own edits would otherwise be allowed at
# once), and no approval request becomes a desktop notification.
APPROVAL_POLICY = """\
[[rule]]
name = "bench: no desktop notifications"
kind = "notify.*"
outcome = "deny"

[[rule]]
name = "bench: plans.edit needs approval"
kind = "plans.edit"
outcome = "require_approval"
"""


class BenchDaemon:
    def __init__(self, *, config: str = "", db_from: str | None = None, prefix: str = "oxd-", policy: str | None = None):
        self.python = sys.executable
        self.oxymus = os.path.join(os.path.dirname(self.python), "oxymus")
        if not os.access(self.oxymus, os.X_OK):
            raise BenchError(f"no oxymus console script next to {self.python}; run this with the project's venv python")
        self.root = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        os.chmod(self.root, 0o700)
        self.env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
        self.env["OXYMUS_HOME"] = self.root
        from oxymus.profile import paths as paths_mod

        self.paths = paths_mod.resolve(self.env)
        os.makedirs(self.paths.config_dir, exist_ok=True)
        with open(self.paths.config_file, "w") as fh:
            fh.write(config)
        if policy is not None:
            with open(self.paths.policy_file, "w") as fh:
                fh.write(policy)
        if db_from is not None:
            os.makedirs(os.path.dirname(self.paths.db_file), mode=0o700, exist_ok=True)
            shutil.copyfile(db_from, self.paths.db_file)
        self.started = False

    def pid(self) -> int:
        from oxymus.profile.pidfile import read_pid

        pid = read_pid(self.paths.lock_file)
        if pid is None:
            raise BenchError(f"no daemon pid in {self.paths.lock_file}")
        return pid

    def cpu_ticks(self) -> int:
        return _ticks(self.pid())[0]

    def tree_cpu_ticks(self) -> int:
        """The daemon's CPU with its worker processes' (alive, or ended and reaped): what the work cost the machine."""
        own, reaped = _ticks(self.pid())
        return own + reaped + sum(_ticks(child)[0] for child in _descendants(self.pid()))

    def settle(self, quiet_s: float = 2.0, deadline_s: float = 600.0) -> float:
        """Wait until the daemon's start-up work (backups, memory upkeep, first polls, agents' catch-up)
        is done: its CPU time grew by at most 2 ticks over `quiet_s`. Returns the seconds waited."""
        t0 = time.monotonic()
        before = self.cpu_ticks()
        while True:
            time.sleep(quiet_s)
            now = self.cpu_ticks()
            if now - before <= 2:
                return time.monotonic() - t0
            if time.monotonic() - t0 > deadline_s:
                raise BenchError(f"the daemon was still busy after {deadline_s:.0f} s (cpu ticks {before} -> {now})")
            before = now

    def pause(self, why: str) -> None:
        """`oxymus pause`: the executor runs none of the approved actions, so a bench times decisions only."""
        self.cli("pause", "--reason", why)

    def cli(self, *args: str) -> str:
        proc = subprocess.run([self.oxymus, *args], env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=PROC_TIMEOUT)
        if proc.returncode != 0:
            raise BenchError(f"oxymus {' '.join(args)} exited with status {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace').strip() or proc.stdout.decode(errors='replace').strip()}")
        return proc.stdout.decode(errors="replace")

    def __enter__(self) -> "BenchDaemon":
        """`oxymus daemon` in the background, waited for until it answers: not `oxymus up`, whose 15 s
        are too short for its `quick_check` of a 1 GB database."""
        from oxymus.client.sync_client import DaemonUnavailable, connect

        log = open(os.path.join(self.root, "daemon.stderr"), "wb")
        self.proc = subprocess.Popen([self.oxymus, "daemon"], env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log, start_new_session=True)
        self.started = True
        t0 = time.monotonic()
        while True:
            try:
                connect(self.paths.socket, "oxymus-bench", timeout=5).close()
                self.start_s = time.monotonic() - t0
                return self
            except (DaemonUnavailable, OSError):
                pass
            if self.proc.poll() is not None or time.monotonic() - t0 > START_TIMEOUT:
                self.__exit__()
                raise BenchError(f"the daemon did not answer within {START_TIMEOUT} s (see {log.name})")
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        try:
            if self.started and self.proc.poll() is None:
                self.cli("down")
                self.proc.wait(timeout=PROC_TIMEOUT)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _ticks(pid: int) -> tuple[int, int]:
    """(utime + stime, cutime + cstime) of `pid`, in clock ticks; (0, 0) when it has ended."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0, 0
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                children = [int(c) for c in fh.read().split()]
        except FileNotFoundError:
            continue
        for child in children:
            out += [child, *_descendants(child)]
    return out
