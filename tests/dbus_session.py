"""A private D-Bus session bus with a fake notification server, for tests.

`dbus-daemon` runs as a child process with a session bus config and a socket under
/tmp (the test is skipped, saying why, when dbus-daemon is not installed). The fake server owns
`org.freedesktop.Notifications` on that bus, records every notification it is sent
and can emit `ActionInvoked` as if the person clicked a button. Nothing here sleeps
to wait for state: waits poll with a deadline.

    # in-process: fixtures (import them into the test module)
    from dbus_session import notification_server, session_bus

    async def test_x(notification_server):          # DBUS_SESSION_BUS_ADDRESS is set
        ... send ...
        (n,) = notification_server.wait_for(1)      # dicts: id, app_name, summary, body, actions, hints, ...
        notification_server.invoke_action(n["id"], "approve")

    # for a daemon subprocess: the same bus, the server in a child process
    def test_y(session_bus, profile):               # session_bus sets DBUS_SESSION_BUS_ADDRESS
        with NotificationServerProcess(session_bus.address) as server:
            daemon = DaemonProcess(profile).start() # inherits the environment, so the bus
            ...
            (n,) = server.wait_for(1)
            server.invoke_action(n["id"], "approve")

    # or by hand, with no fixtures
    with SessionBus() as bus, NotificationServerThread(bus.address) as server: ...

The child process is `python tests/dbus_session.py serve ADDRESS RECORD_FILE`: it
prints "ready" once it owns the name, appends each notification to RECORD_FILE as
one JSON line, and reads commands from stdin: `action ID KEY`, `close ID REASON`.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pytest
from dbus_fast import BusType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDict, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method, dbus_signal

__all__ = [
    "FakeNotifications", "NotificationServerProcess", "NotificationServerThread", "SessionBus",
    "notification_server", "serve", "session_bus",
]

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
# NotificationClosed reasons from the spec.
EXPIRED, DISMISSED, CLOSED_BY_CALL, UNDEFINED = 1, 2, 3, 4


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.01)
    return value


# --- the bus ---------------------------------------------------------------------


# `--session` without its service directories: on a desktop, the stock session config
# would start the real notification daemon (dunst, mako, ...) on our private bus
# whenever a test sends with no fake server running, and show the notification.
SESSION_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _config_file() -> Path:
    path = Path(tempfile.gettempdir(), f"oxymus-test-session-bus-{os.getuid()}.conf")
    if not path.exists() or path.read_text() != SESSION_CONFIG:
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_text(SESSION_CONFIG)
        tmp.replace(path)
    return path


class SessionBus:
    """A private `dbus-daemon --session`; `address` is its DBUS_SESSION_BUS_ADDRESS."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr: Any = None
        self.address = ""

    def start(self, timeout: float = 10.0) -> "SessionBus":
        exe = shutil.which("dbus-daemon")
        if exe is None:
            pytest.skip("dbus-daemon is not installed (Debian: apt-get install dbus-daemon)")
        # stderr goes to a file: a pipe nobody reads could fill up and stall the bus.
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [exe, f"--config-file={_config_file()}", "--nofork", "--nopidfile", "--print-address=1",
             "--address=unix:tmpdir=/tmp"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        self.address = self.proc.stdout.readline().decode().strip() if ready else ""
        if not self.address:
            self.stop()
            raise AssertionError(f"dbus-daemon printed no address: {self.stderr_text}")
        return self

    @property
    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self.stderr is not None:
            self.stderr.close()

    def __enter__(self) -> "SessionBus":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the fake notification server ---------------------------------------------------


def _plain(value: Any) -> Any:
    """A D-Bus value as JSON-able Python (Variants unwrapped)."""
    if isinstance(value, Variant):
        return _plain(value.value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


class FakeNotifications(ServiceInterface):
    """`org.freedesktop.Notifications` that records what it is sent and shows nothing.

    `received` holds one dict per Notify call: id, app_name, replaces_id, app_icon,
    summary, body, actions (the flat [key, label, ...] list), hints (plain values,
    e.g. urgency 0/1/2) and expire_timeout (ms). `on_notify` (if given) is called
    with each dict, from the bus's event loop.
    """

    def __init__(self, on_notify: Callable[[dict[str, Any]], None] | None = None, capabilities: tuple[str, ...] = ("actions", "body")):
        super().__init__(BUS_NAME)
        self.capabilities = list(capabilities)  # without "actions": a server that shows no buttons
        self.received: list[dict[str, Any]] = []
        self.closed: list[int] = []
        self._next_id = 0
        self._on_notify = on_notify

    @dbus_method()
    def GetCapabilities(self) -> Annotated[list[str], DBusSignature("as")]:
        return self.capabilities

    @dbus_method()
    def GetServerInformation(self) -> Annotated[tuple[str, str, str, str], DBusSignature("ssss")]:
        return ("oxymus-test", "oxymus", "1.0", "1.2")

    @dbus_method()
    def Notify(
        self, app_name: DBusStr, replaces_id: DBusUInt32, app_icon: DBusStr, summary: DBusStr, body: DBusStr,
        actions: Annotated[list[str], DBusSignature("as")], hints: DBusDict,
        expire_timeout: Annotated[int, DBusSignature("i")],
    ) -> DBusUInt32:
        self._next_id += 1
        record = {
            "id": replaces_id or self._next_id, "app_name": app_name, "replaces_id": replaces_id, "app_icon": app_icon,
            "summary": summary, "body": body, "actions": list(actions), "hints": _plain(hints),
            "expire_timeout": expire_timeout,
        }
        self.received.append(record)
        if self._on_notify is not None:
            self._on_notify(record)
        return record["id"]

    @dbus_method()
    def CloseNotification(self, id: DBusUInt32):  # no annotation: dbus-fast reads "-> None" as a signature
        self.close(id, CLOSED_BY_CALL)

    @dbus_signal()
    def NotificationClosed(self, id: int, reason: int) -> Annotated[tuple[int, int], DBusSignature("uu")]:
        return (id, reason)

    @dbus_signal()
    def ActionInvoked(self, id: int, action_key: str) -> Annotated[tuple[int, str], DBusSignature("us")]:
        return (id, action_key)

    def invoke_action(self, id: int, action_key: str) -> None:
        """As if the person clicked the button `action_key` (then the server closes it, as real ones do)."""
        self.ActionInvoked(id, action_key)
        self.close(id, DISMISSED)

    def close(self, id: int, reason: int = DISMISSED) -> None:
        self.closed.append(id)
        self.NotificationClosed(id, reason)


async def serve(address: str, on_notify: Callable[[dict[str, Any]], None] | None = None,
                capabilities: tuple[str, ...] = ("actions", "body")) -> tuple[MessageBus, FakeNotifications]:
    """Connect to the bus at `address` and own the notification service there; disconnect the bus to stop."""
    bus = await MessageBus(bus_address=address, bus_type=BusType.SESSION).connect()
    server = FakeNotifications(on_notify, capabilities)
    bus.export(OBJECT_PATH, server)
    await bus.request_name(BUS_NAME)
    return bus, server


async def _disconnect(bus: MessageBus) -> None:
    bus.disconnect()  # only shuts the socket down: wait for the loop to close it
    await bus.wait_for_disconnect()


class NotificationServerThread:
    """The fake server on its own event loop in a background thread (usable from sync and async tests)."""

    def __init__(self, address: str, capabilities: tuple[str, ...] = ("actions", "body")):
        self.address = address
        self.capabilities = capabilities
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-notifications", daemon=True)
        self._bus: MessageBus | None = None
        self._server: FakeNotifications | None = None

    def start(self, timeout: float = 10.0) -> "NotificationServerThread":
        self._thread.start()
        self._bus, self._server = asyncio.run_coroutine_threadsafe(serve(self.address, capabilities=self.capabilities), self._loop).result(timeout)
        return self

    def stop(self) -> None:
        if self._bus is not None:
            asyncio.run_coroutine_threadsafe(_disconnect(self._bus), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    @property
    def notifications(self) -> list[dict[str, Any]]:
        assert self._server is not None
        return list(self._server.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The first `count` notifications, once that many have arrived."""
        _wait(lambda: len(self.notifications) >= count, timeout, f"{count} notification(s)")
        return self.notifications[:count]

    def _run(self, fn: Callable[[], None]) -> None:
        async def call() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(call(), self._loop).result(5)

    def invoke_action(self, id: int, action_key: str) -> None:
        assert self._server is not None
        server = self._server
        self._run(lambda: server.invoke_action(id, action_key))

    def close(self, id: int, reason: int = DISMISSED) -> None:
        assert self._server is not None
        server = self._server
        self._run(lambda: server.close(id, reason))

    def __enter__(self) -> "NotificationServerThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class NotificationServerProcess:
    """The fake server as a child process (`python tests/dbus_session.py serve ...`), same interface as the thread."""

    def __init__(self, address: str, record: Path | None = None):
        self.address = address
        self.record = record or Path(tempfile.mkstemp(prefix="ox-notify-", suffix=".jsonl", dir="/tmp")[1])
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 10.0) -> "NotificationServerProcess":
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "serve", self.address, str(self.record)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready or self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise AssertionError(f"the fake notification server did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.stdin.close()  # type: ignore[union-attr]  # EOF: the server exits
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        self.record.unlink(missing_ok=True)

    @property
    def notifications(self) -> list[dict[str, Any]]:
        try:
            lines = self.record.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.endswith("}")]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        _wait(lambda: len(self.notifications) >= count, timeout, f"{count} notification(s) in {self.record}")
        return self.notifications[:count]

    def _command(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        # Every command is acknowledged once its signals are sent, so the caller can wait on their effect.
        ready, _, _ = select.select([self.proc.stdout], [], [], 5)
        answer = self.proc.stdout.readline().strip() if ready else ""
        if answer != "ok":
            raise AssertionError(f"fake notification server answered {answer!r} to {line!r}")

    def invoke_action(self, id: int, action_key: str) -> None:
        self._command(f"action {id} {action_key}")

    def close(self, id: int, reason: int = DISMISSED) -> None:
        self._command(f"close {id} {reason}")

    def __enter__(self) -> "NotificationServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _serve_main(address: str, record: str) -> None:
    with open(record, "a", encoding="utf-8") as out:
        def write(n: dict[str, Any]) -> None:
            # When it arrived (wall clock), for bench/approval_notify.py.
            out.write(json.dumps({**n, "received_at": time.time()}) + "\n")
            out.flush()

        bus, server = await serve(address, write)
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            match line.split():
                case ["action", id, key]:
                    server.invoke_action(int(id), key)
                case ["close", id, reason]:
                    server.close(int(id), int(reason))
                case _:
                    print(f"unknown command: {line.strip()}", flush=True)
                    continue
            print("ok", flush=True)
        await _disconnect(bus)


# --- pytest fixtures ------------------------------------------------------------------


@pytest.fixture
def session_bus(monkeypatch) -> SessionBus:
    """A private session bus, set as DBUS_SESSION_BUS_ADDRESS for this test and its subprocesses."""
    with SessionBus() as bus:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
        yield bus


@pytest.fixture
def notification_server(session_bus) -> NotificationServerThread:
    """The fake notification server, in this process, on the test's session bus."""
    with NotificationServerThread(session_bus.address) as server:
        yield server


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "serve":
        sys.exit("usage: python tests/dbus_session.py serve ADDRESS RECORD_FILE")
    asyncio.run(_serve_main(sys.argv[2], sys.argv[3]))
