"""Notifications through the real daemon with no D-Bus session bus at all: nothing is lost. The missed list
fills (`oxymus notifications`), a TUI attached later is told, and a TUI attached when one comes shows it
as a toast with the terminal bell (Pilot)."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli, start_daemon, until, wait_for
from textual.widgets._toast import Toast

from oxymus.tui.app import create_app


@pytest.fixture
def no_bus_daemon(profile, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("OXYMUS_AGENTS", "off")
    d = start_daemon(profile)
    yield d
    d.stop()


def notify(d, title: str, **payload) -> str:
    with d.client() as c:
        return c.call("actions.propose", {"kind": "notify.send", "payload": {"title": title, **payload}})["action"]["id"]


def state_of(d, action_id: str) -> tuple[str, str]:
    with d.client() as c:
        rows = c.call("notifications.list", {"all": True})["notifications"]
    row = next((n for n in rows if n["id"] == action_id), None)
    return (row["state"], row["tui"]) if row else ("", "")


def toasts(app) -> list[str]:
    return [f"{t._notification.message} | {t._notification.title}" for t in app.screen.query(Toast)]


def test_no_bus_the_missed_list_keeps_it_and_the_cli_shows_it(no_bus_daemon):
    d = no_bus_daemon
    action_id = notify(d, "Rent is overdue", body="950 EUR", kind="bill")
    wait_for(lambda: state_of(d, action_id)[0] == "missed", what="the notification to be missed")
    with d.client() as c:
        action = c.call("actions.get", {"id": action_id})
    assert action["action"]["status"] == "succeeded"  # never FAILED for want of a server

    out = run_cli("notifications")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "desktop: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)" in text
    assert "1 missed (shown neither on the desktop nor in a TUI):" in text
    assert f"{action_id}" in text and "bill" in text and "Rent is overdue" in text
    assert "`oxymus notifications --seen` marks them seen." in text

    listed = json.loads(run_cli("notifications", "--json").stdout)
    assert listed["missed"] == 1 and listed["notifications"][0]["desktop"] == "unavailable"

    everything = run_cli("notifications", "--all").stdout.decode()
    assert "missed" in everything and "[no desktop]" in everything

    with d.client() as c:  # the next morning review starts with them
        missed = c.call("review.get")["missed"]
    assert len(missed) == 1 and missed[0].endswith("  Rent is overdue") and ":" in missed[0][:9]

    cleared = run_cli("notifications", "--seen")
    assert cleared.stdout.decode().strip() == "marked 1 missed notification seen"
    assert run_cli("notifications").stdout.decode().strip().endswith("no missed notifications")
    assert "missed (seen)" in run_cli("notifications", "--all").stdout.decode()


async def test_a_tui_attached_shows_a_notification_as_a_toast_with_the_bell(no_bus_daemon):
    d = no_bus_daemon
    earlier = notify(d, "Missed while nobody looked", kind="bill")
    wait_for(lambda: state_of(d, earlier)[0] == "missed", what="the first notification to be missed")
    app = create_app(d.paths, start_daemon=False)
    rang: list[int] = []
    app.bell = lambda: rang.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until(pilot, lambda: app.connection.connected, what="the connection")
        # At connect: what was missed, and where to read it.
        await until(pilot, lambda: any("missed notification" in t for t in toasts(app)), what="the missed toast")
        assert any("Missed while nobody looked" in t for t in toasts(app))
        action_id = notify(d, "Standup in 5 minutes", body="room 3", kind="meeting")
        await until(pilot, lambda: any("Standup in 5 minutes" in t for t in toasts(app)), what="the toast")
        assert rang == [1]
        assert any("room 3 | Standup in 5 minutes" in t for t in toasts(app))
        await until(pilot, lambda: state_of(d, action_id) == ("delivered", "shown"), what="recorded as shown in a TUI")

        # The morning review lists what was missed: the toast saying so goes, the fresh one stays.
        await pilot.press("R")
        await until(pilot, lambda: type(app.screen).__name__ == "ReviewScreen", what="the morning review")
        await until(pilot, lambda: not any("missed notification" in t for t in toasts(app)), what="the missed toast gone")
        assert any("Standup in 5 minutes" in t for t in toasts(app))


async def test_a_tui_opened_on_the_morning_review_shows_no_missed_toast_over_it(no_bus_daemon):
    d = no_bus_daemon
    earlier = notify(d, "Missed while nobody looked", kind="bill")
    wait_for(lambda: state_of(d, earlier)[0] == "missed", what="the notification to be missed")
    app = create_app(d.paths, start_daemon=False, review=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until(pilot, lambda: app.connection.connected and type(app.screen).__name__ == "ReviewScreen", what="the review")
        await until(pilot, lambda: app._missed_told == 1, what="the missed count")
        await pilot.pause()
        assert not any("missed notification" in t for t in toasts(app)), toasts(app)
