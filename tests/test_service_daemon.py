"""The daemon under systemd: sd_notify (READY, WATCHDOG, STOPPING) and the journal as its log.

The test owns the datagram socket $NOTIFY_SOCKET names, as systemd would, and runs the real
daemon; $JOURNAL_STREAM names the file the daemon's stderr goes to, as systemd's does.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import DaemonProcess, wait_for, write_config

from oxymus.client.sync_client import connect
from oxymus.daemon import logs, systemd


def _receive(sock: socket.socket, timeout: float, what: str) -> list[str]:
    """The lines of the next datagram; fail after `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        return sock.recv(4096).decode().splitlines()
    except TimeoutError:
        raise AssertionError(f"no {what} from the daemon within {timeout:g}s") from None


def test_the_daemon_says_ready_pings_the_watchdog_and_says_stopping(profile, monkeypatch):
    write_config(profile, "")
    address = f"/tmp/ox-notify-{os.getpid()}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        try:
            monkeypatch.setenv("NOTIFY_SOCKET", address)
            monkeypatch.setenv("WATCHDOG_USEC", "200000")  # pings every 0.1 s
            # Not waiting for it to load: until this test reads them, its pings fill the socket's queue.
            daemon = DaemonProcess(profile).start(loaded=False)
            try:
                first = _receive(sock, 15, "READY=1")
                assert "READY=1" in first and f"STATUS=serving on {profile.socket}" in first
                with connect(profile.socket, timeout=2) as conn:  # ready means the socket answers
                    assert conn.call("status")["pid"] == daemon.proc.pid
                pings = [_receive(sock, 5, "WATCHDOG=1") for _ in range(3)]
                assert all(lines == ["WATCHDOG=1"] for lines in pings)
                daemon.signal(signal.SIGTERM)
                deadline = time.monotonic() + 15
                while "STOPPING=1" not in (lines := _receive(sock, max(0.1, deadline - time.monotonic()), "STOPPING=1")):
                    assert lines == ["WATCHDOG=1"], lines
                assert daemon.wait() == 0
            finally:
                daemon.stop()
        finally:
            os.unlink(address)


def test_notify_reaches_an_abstract_socket_and_is_a_no_op_outside_systemd():
    name = f"oxymus-test-notify-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert systemd.notify("READY=1", {"NOTIFY_SOCKET": "@" + name})
        assert _receive(sock, 2, "READY=1") == ["READY=1"]
    assert systemd.notify("READY=1", {}) is False


def test_the_watchdog_interval_is_half_of_what_systemd_asks_and_only_for_this_process():
    assert systemd.watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert systemd.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert systemd.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert systemd.watchdog_interval({}) is None and systemd.watchdog_interval({"WATCHDOG_USEC": "x"}) is None


def test_under_the_journal_the_daemon_logs_to_stderr_with_priorities_and_writes_no_log_file(profile):
    write_config(profile, "")
    profile.ensure()
    stderr_path = Path(profile.home, "journal.stderr")
    with open(stderr_path, "wb") as stderr:
        st = os.fstat(stderr.fileno())
        env = {**os.environ, "OXYMUS_HOME": profile.home, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        proc = subprocess.Popen([sys.executable, "-m", "oxymus", "daemon"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        try:
            wait_for(lambda: "ready" in stderr_path.read_text(), 15, what="the daemon's ready line on stderr")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    lines = stderr_path.read_text().splitlines()
    assert lines and all(re.match(r"<[0-7]>oxymus[.\w]*: ", line) for line in lines), lines
    assert any(line.startswith("<6>oxymus.daemon: oxymus ") and " ready " in line for line in lines)
    assert not any(re.search(r"\d\d:\d\d:\d\d", line.split(": ", 1)[0]) for line in lines)  # the journal stamps time
    assert not os.path.exists(profile.log_file)


def test_a_stream_that_is_not_the_journal_keeps_the_log_file(tmp_path):
    with open(tmp_path / "err", "wb") as fh:
        st = os.fstat(fh.fileno())
        assert logs.under_journal(fh, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not logs.under_journal(fh, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not logs.under_journal(fh, {})


def test_the_units_own_command_line_starts_a_daemon_that_says_ready(profile):
    """ExecStart and Environment exactly as `oxymus service install` writes them, run as systemd would run them."""
    import shlex

    from oxymus.service import units

    write_config(profile, "")
    text = units.systemd_unit(units.find_executable(), units.profile_environment({"OXYMUS_HOME": profile.home}))
    argv = shlex.split(next(line for line in text.splitlines() if line.startswith("ExecStart=")).removeprefix("ExecStart="))
    env_lines = [shlex.split(line.removeprefix("Environment="))[0] for line in text.splitlines() if line.startswith("Environment=")]
    env = {k: v for k, v in os.environ.items() if k != "OXYMUS_HOME"}
    env.update(dict(line.split("=", 1) for line in env_lines))
    address = f"/tmp/ox-notify-unit-{os.getpid()}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        env["NOTIFY_SOCKET"] = address
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            assert "READY=1" in _receive(sock, 15, "READY=1")
            with connect(profile.socket, timeout=2) as conn:
                assert conn.call("status")["pid"] == proc.pid  # the unit's main process is the daemon itself
            proc.send_signal(signal.SIGTERM)
            assert "STOPPING=1" in _receive(sock, 15, "STOPPING=1")
            assert proc.wait(15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            os.unlink(address)
