"""notify.send against a real notification server from Debian: dunst, under Xvfb, on a private D-Bus
session bus. Checks what only a real server can: its capabilities (action buttons) and that it takes
and shows the notification (`dunstctl count displayed`). Button presses are tested against the
project's own listener (test_notify.py, test_notify_chain.py); a real daemon notices dunst coming back
(`NameOwnerChanged`) and shows it what it missed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

import pytest
from conftest import eventually, wait_for
from dbus_session import session_bus  # noqa: F401 - fixture

from oxymus.connectors.notify.send import NotifySend, close_notifiers

pytestmark = pytest.mark.skipif(
    not (shutil.which("dunst") and shutil.which("Xvfb") and shutil.which("dunstctl")),
    reason="needs dunst and Xvfb (apt-get install dunst xvfb; ./dev test installs them)",
)


class Dunst:
    """Xvfb on a free display and dunst on it, both children of this test, on the given bus."""

    def __init__(self, bus_address: str):
        self.env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus_address}
        self.dir = tempfile.mkdtemp(prefix="ox-dunst-", dir="/tmp")
        self.procs: list[subprocess.Popen] = []

    def start(self) -> "Dunst":
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
                                pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        self.procs.append(xvfb)
        with os.fdopen(read) as f:
            display = f.readline().strip()
        assert display, "Xvfb did not say its display"
        self.env["DISPLAY"] = f":{display}"
        config = os.path.join(self.dir, "dunstrc")
        with open(config, "w") as f:
            f.write("[global]\n    follow = none\n")
        self.procs.append(subprocess.Popen(["dunst", "-config", config], env=self.env,
                                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "stderr"), "wb")))
        wait_for(self._answers, 10, what="dunst on the bus")
        return self

    def _answers(self) -> bool:
        return self.ctl("is-paused").returncode == 0

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["dunstctl", *args], env=self.env, capture_output=True, text=True, timeout=10)

    def displayed(self) -> int:
        out = self.ctl("count", "displayed")
        return int(out.stdout.strip() or 0) if out.returncode == 0 else 0

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def dunst(session_bus):
    d = Dunst(session_bus.address).start()
    yield d
    d.stop()


@pytest.fixture(autouse=True)
async def _close():
    yield
    await close_notifiers()


async def test_dunst_says_it_has_buttons_and_shows_the_notification(dunst):
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from desktop_notifier import Capability

    from oxymus.actions.effects import ActionContext
    from oxymus.connectors.notify.send import _notifier_for

    assert Capability.BUTTONS in await _notifier_for("Oxymus").get_capabilities()
    spec = NotifySend()
    ctx = ActionContext(zone=ZoneInfo("UTC"), config_dir=Path("/tmp"), action_id="N1", timeout=10)
    receipt = await spec.execute(spec.parse({
        "title": "Approve? push the blog", "body": "3 files",
        "buttons": [{"id": "approve", "label": "Approve"}, {"id": "deny", "label": "Deny"}], "decides": "A1"}), ctx)
    assert receipt.data["desktop"] == "shown" and receipt.data["shown"] is True  # with its buttons
    await eventually(lambda: dunst.displayed() >= 1, what="dunst to display it")


def test_the_daemon_shows_dunst_what_it_missed_when_dunst_comes(session_bus, profile, monkeypatch):
    """No server when the notification comes: missed. dunst starts: the daemon's watch sees it take the name
    and shows the notification; the missed list is empty again."""
    from conftest import start_daemon

    monkeypatch.setenv("OXYMUS_AGENTS", "off")
    d = start_daemon(profile)
    try:
        with d.client() as c:
            action_id = c.call("actions.propose", {"kind": "notify.send", "payload": {"title": "Rent is overdue"}})["action"]["id"]

        def state() -> str:
            with d.client() as c:
                rows = c.call("notifications.list", {"all": True})["notifications"]
            return next((n["state"] for n in rows if n["id"] == action_id), "")

        wait_for(lambda: state() == "missed", what="missed with no server")
        server = Dunst(session_bus.address).start()
        try:
            started = time.monotonic()
            wait_for(lambda: state() == "delivered", what="shown once dunst came")
            assert time.monotonic() - started < 10
            wait_for(lambda: server.displayed() >= 1, what="dunst to display it")
        finally:
            server.stop()
    finally:
        d.stop()
