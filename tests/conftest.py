"""Shared fixtures: a throwaway profile under OXYMUS_HOME and a real daemon process.

Profiles live in short /tmp paths because a Unix socket path must fit in 108 bytes.
Nothing here sleeps to wait for state: helpers poll for a condition with a deadline.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import pytest

from oxymus.client.sync_client import Connection, DaemonUnavailable, connect
from oxymus.profile import paths as paths_mod
from oxymus.profile.config import system_zone
from oxymus.time.clock import PIN_ENV


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.01, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


async def until(pilot, predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    """wait_for for Pilot tests: poll `predicate`, letting the app run between checks."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await pilot.pause(0.02)


async def eventually(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    """wait_for inside a coroutine without an app: poll, yielding to the event loop between checks."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.005)
    return value


@pytest.fixture
def home(monkeypatch) -> Path:
    """A fresh profile directory, set as OXYMUS_HOME for this test and its subprocesses."""
    d = Path(tempfile.mkdtemp(prefix="ox-", dir="/tmp"))
    monkeypatch.setenv("OXYMUS_HOME", str(d))
    monkeypatch.delenv("OXYMUS_CONFIG", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv(PIN_ENV, raising=False)  # real time, unless the test pins it (pin_today)
    # Secrets go to a throwaway file keyring inside the profile, never the real one.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(d / "xdg-data"))
    # Test daemons run no agent by itself, so what a test sees is what it did; agent tests run them
    # by hand or in-process (tests/agent_harness.py), and one test checks scheduling end to end.
    monkeypatch.setenv("OXYMUS_AGENTS", "off")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def pin_today(monkeypatch, zone: str | None = None) -> dt.date:
    """Pin the clock of every daemon this test starts (OXYMUS_NOW) to noon of today in `zone` (default: the machine's).

    Returns that day. Dates the test writes ("in 3 days", "the first of the month") and the day the
    daemon reads as today then agree even when a run crosses midnight in that zone.
    """
    tz = ZoneInfo(zone) if zone else system_zone()
    day = dt.datetime.now(tz).date()
    monkeypatch.setenv(PIN_ENV, dt.datetime.combine(day, dt.time(12), tz).isoformat())
    return day


@pytest.fixture
def profile(home) -> paths_mod.Paths:
    return paths_mod.resolve({"OXYMUS_HOME": str(home)})


def write_config(paths: paths_mod.Paths, text: str, **files: str) -> None:
    """Write the profile's config.toml, and other files (e.g. bills_toml=...) into its config dir."""
    os.makedirs(paths.config_dir, exist_ok=True)
    Path(paths.config_file).write_text(text)
    for name, content in files.items():
        Path(paths.config_dir, name.replace("_toml", ".toml").replace("_ics", ".ics")).write_text(content)


def run_cli(*args: str, input: bytes | str | None = None, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run the real `oxymus` command line in a subprocess (same interpreter, same venv)."""
    if isinstance(input, str):
        input = input.encode()
    return subprocess.run(
        [sys.executable, "-m", "oxymus", *args], input=input, capture_output=True,
        env=env or os.environ.copy(), timeout=timeout,
    )


# Policies the TUI and daemon tests start with: one kind that waits for the person.
PLANS_NEED_ME = '[[rule]]\nname = "plans need me"\nkind = "plans.edit"\noutcome = "require_approval"\n'
BIG_PAYMENTS_NEED_ME = """
[settings]
undo_grace = "1s"

[[rule]]
name = "big payments need me"
kind = "bills.mark_paid"
match = { amount = { gt = 200 } }
outcome = "require_approval"
"""


def start_daemon(profile, config: str = "", policy: str = PLANS_NEED_ME) -> "DaemonProcess":
    """A real daemon on `profile` with this config.toml and policy.toml."""
    write_config(profile, config)
    Path(profile.policy_file).write_text(policy)
    return DaemonProcess(profile).start()


class DaemonProcess:
    """A real daemon (`python -m oxymus daemon`) running on a test profile."""

    def __init__(self, paths: paths_mod.Paths):
        self.paths = paths
        self.proc: subprocess.Popen | None = None
        self.stderr_path = Path(paths.home or "/tmp") / "daemon.stderr"
        self.loaded = True

    def start(self, timeout: float = 15.0, loaded: bool = True) -> "DaemonProcess":
        """Once the daemon answers and (`loaded`) has loaded its sources and agents."""
        self.loaded = loaded
        self.stderr_file = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "oxymus", "daemon"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr_file,
            env={**os.environ, "OXYMUS_HOME": self.paths.home},
        )
        try:
            wait_for(self._answers, timeout, what=f"the daemon to answer (stderr: {self.stderr_path})")
        except BaseException:
            self.stop()  # never leave a daemon behind a failed test
            raise
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}: {self.stderr_path.read_text()}")
        try:
            with connect(self.paths.socket, timeout=1.0) as conn:
                if conn.call("status")["pid"] != self.proc.pid:
                    return False
        except (DaemonUnavailable, OSError):
            return False
        if self.loaded:
            # The socket answers before sources and agents are loaded; tests start from a loaded daemon.
            # The daemon holds this call until then: one wait, no polling that would slow the loading.
            try:
                with connect(self.paths.socket, timeout=60.0) as conn:
                    conn.call("state.sources")
            except (DaemonUnavailable, OSError):
                # It answered, then went away while loading (a crash test's fault point killed it):
                # started all the same, as far as the test goes, which sees the exit itself.
                return self.proc.poll() is not None
        return True

    def client(self, name: str = "pytest") -> Connection:
        return connect(self.paths.socket, name)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)
        finally:
            self.stderr_file.close()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


@pytest.fixture
def daemon(profile) -> DaemonProcess:
    d = DaemonProcess(profile).start()
    yield d
    d.stop()


def seed_captures(paths: paths_mod.Paths, n: int, text: str = "seeded capture {i}") -> list[str]:
    """Write n open captures through the store's own capture statements, in one transaction (fast for big n)."""
    from oxymus.kernel.ulid import new_ulid
    from oxymus.store import capture_sql, db

    paths.ensure()
    conn = db.connect(paths.db_file)
    ids = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for i in range(n):
            params = capture_sql.insert_params(text.format(i=i), "test", new_ulid())
            for sql, args in capture_sql.add_statements(params, trace_id=new_ulid()):
                conn.execute(sql, args)
            ids.append(params[0])
        conn.execute("COMMIT")
    finally:
        conn.close()
    return ids
