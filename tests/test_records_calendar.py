"""A record linked to an event on a real Radicale: the daemon polls it, `oxymus records show` and the
TUI's record page show the event's title and start from the state; deleted on the server, the link
stays and is shown as gone."""

from __future__ import annotations

import datetime as dt

from conftest import run_cli, start_daemon, until
from radicale_server import radicale_fixture
from textual.widgets import Static

from oxymus.kernel.textfmt import local_time
from oxymus.tui.app import create_app
from oxymus.tui.screens.records import RecordsScreen
from oxymus.tui.screens.records_detail import RecordDetailScreen

PASSWORDS = {"me": "s3cret"}
UID = "lunch-with-ann-01@oxymus.test"

radicale = radicale_fixture(users=PASSWORDS)


def event(uid: str, summary: str, start: dt.datetime) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oxymus tests//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:{start.strftime(stamp)}\r\nDTSTART:{start.strftime(stamp)}\r\n"
            f"DTEND:{(start + dt.timedelta(hours=1)).strftime(stamp)}\r\nSUMMARY:{summary}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")


def refresh(daemon) -> None:
    with daemon.client() as conn:
        sources = conn.call("state.refresh", {})["sources"]
    cal = next(s for s in sources if s["source"] == "calendar.personal")
    assert cal["status"] == "ok", cal


def show(record_id: str) -> str:
    done = run_cli("records", "show", record_id)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


async def test_a_calendar_link_shows_the_event_from_the_state_and_stays_when_it_is_deleted(profile, radicale):
    start = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    with radicale.client("me", PASSWORDS["me"]) as client:
        calendar = client.principal().make_calendar(name="Personal", cal_id="personal")
        calendar.save_event(event(UID, "Lunch with Ann", start))
    config = (f'[[calendar.caldav]]\nname = "personal"\nurl = "{radicale.url}"\nusername = "me"\n'
              f'password_command = "echo {PASSWORDS["me"]}"\n')
    daemon = start_daemon(profile, config=config)
    try:
        with daemon.client() as conn:
            lead = conn.call("records.add", {"kind": "lead", "fields": {"name": "Ann Example"}})
        linked = run_cli("records", "link", lead["id"], "calendar", UID)
        assert linked.returncode == 0, linked.stderr
        # Before any poll, the link says so rather than guessing.
        assert f"calendar {UID} — no calendar polled yet" in show(lead["id"])

        refresh(daemon)
        when = local_time(start.isoformat().replace("+00:00", "Z"))
        assert f"-> calendar {UID} — Lunch with Ann at {when}" in show(lead["id"])
        with daemon.client() as conn:
            [link] = conn.call("records.get", {"id": lead["id"]})["links"]
        assert (link["label"], link["status"], link["starts_at"][:16]) == ("Lunch with Ann", None, start.strftime("%Y-%m-%dT%H:%M"))

        app = create_app(daemon.paths, start_daemon=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.connection.connected, what="the TUI to connect")
            await pilot.press("7")
            await until(pilot, lambda: isinstance(app.screen, RecordsScreen) and app.screen.loaded and app.screen.columns(),
                        what="the board")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, RecordDetailScreen) and app.screen.detail is not None,
                        what="the record's page")
            page = app.screen

            def text() -> str:
                return str(page.query_one("#record-detail-text", Static).render())

            assert f"about → calendar Lunch with Ann  {local_time(start.isoformat(), '%a %Y-%m-%d %H:%M')}" in text()

            # Deleted on the server: after the next poll, the page shows the link as gone, by itself.
            with radicale.client("me", PASSWORDS["me"]) as client:
                client.principal().calendar(cal_id="personal").event_by_uid(UID).delete()
            refresh(daemon)
            await until(pilot, lambda: "[gone]" in text(), what="the link shown as gone")
            assert "about → calendar not in the calendars as last polled" in text()

        out = show(lead["id"])
        assert f"-> calendar {UID} — not in the calendars as last polled (deleted, or outside their window) [gone]" in out
        with daemon.client() as conn:
            [link] = conn.call("records.get", {"id": lead["id"]})["links"]
        assert (link["target_ref"], link["status"], link["starts_at"]) == (UID, "gone", None), "kept, not dropped"
    finally:
        daemon.stop()
