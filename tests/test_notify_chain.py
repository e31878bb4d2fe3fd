"""The delivery chain of notifications (daemon/notices.py) with real parts: a real store file, the real
desk, executor and notify.send spec, a private D-Bus session bus with the project's fake notification
server (tests/dbus_session.py), and an injected clock. One notification per fact across agents; no
server is no failure (a TUI shows it, else the missed list keeps it); quiet hours and the rate limit
hold, never drop; a server coming back gets what it missed and the approvals still waiting."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import eventually
from dbus_session import NotificationServerThread, notification_server, session_bus  # noqa: F401 - fixtures

from oxymus.actions.model import Proposer
from oxymus.connectors.notify.config import NotifyConfig
from oxymus.connectors.notify.send import NotifySend, close_notifiers
from oxymus.daemon.desk import NOTIFY, ActionDesk
from oxymus.daemon.events import EventBus
from oxymus.daemon.executor import Executor
from oxymus.sources.contract import utc_iso
from oxymus.store.repos import Store

T0 = dt.datetime(2026, 6, 3, 10, 0, tzinfo=dt.timezone.utc)
FINANCE = Proposer(type="agent", name="finance", run_id="R1")
SENTINEL = Proposer(type="agent", name="sentinel", run_id="R2")
# Approval for everything but notifications, which run (the shipped default's shape).
POLICY = """
[[rule]]
name = "notifications run"
kind = "notify.*"
outcome = "allow"

[[rule]]
name = "the rest asks"
kind = "*"
outcome = "require_approval"
"""


class Chain:
    def __init__(self, directory: Path, config: NotifyConfig | None = None):
        self.dir = directory
        self.clock = T0
        self.spec = NotifySend(config or NotifyConfig())
        (directory / "policy.toml").write_text(POLICY)

    async def __aenter__(self) -> "Chain":
        self.store = await Store.open(str(self.dir / "oxymus.db"))
        self.bus = EventBus()
        self.desk = ActionDesk(self.store, self.bus, {NOTIFY: self.spec, "test.ask": _AskSpec()},
                               policy_path=str(self.dir / "policy.toml"), zone=ZoneInfo("UTC"), config_dir=str(self.dir),
                               now=lambda: self.clock)
        self.executor = Executor(self.desk, timeout=10)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.desk.notices.stop()
        await close_notifiers()
        await self.store.close()

    async def notify(self, title: str, by: Proposer = FINANCE, **payload):
        action, _ = await self.desk.propose(NOTIFY, {"title": title, **payload}, proposer=by, key=f"{by.name}:{title}")
        return action

    async def run_due(self) -> list:
        return [await self.executor.run_one(a) for a in await self.desk.repo.due(self.desk.now_iso())]

    async def row(self, action_id: str):
        return await self.store.notices.get(action_id)


def _ask_spec_cls():
    from pydantic import BaseModel, ConfigDict

    from oxymus.actions.effects import ActionSpec, Prepared, Preview, Receipt

    class AskPayload(BaseModel):
        model_config = ConfigDict(extra="forbid")
        what: str

    class AskSpec(ActionSpec):
        kind = "test.ask"
        Payload = AskPayload
        scope = "external"

        async def prepare(self, payload, ctx):
            return Prepared(payload=payload.model_dump(), preview=Preview(summary=f"do {payload.what}"))

        async def execute(self, payload, ctx):
            return Receipt(summary="done")

    return AskSpec


_AskSpec = _ask_spec_cls()


@pytest.fixture(autouse=True)
async def _close():
    yield
    await close_notifiers()


# --- one notification per fact ------------------------------------------------------------


async def test_an_overdue_bill_seen_by_finance_and_the_sentinel_is_announced_once(tmp_path, notification_server):
    """The demo's situation: both agents find the same overdue bill in the same second."""
    fact = "bill:rent@2026-06-01:overdue:2026-06-03"
    async with Chain(tmp_path) as c:
        first, second = await asyncio.gather(
            c.notify("Rent is overdue", FINANCE, kind="bill", facts=[fact], urgency="critical"),
            c.notify("Overdue: Rent, due Monday", SENTINEL, kind="bill", facts=[fact]),
        )
        assert first.id == second.id  # whoever came second got the first one's notification back
        assert await c.store.fetchall("SELECT count(*) FROM actions WHERE kind = 'notify.send'") == [(1,)]
        await c.run_due()
        assert len(notification_server.wait_for(1)) == 1
        # A day later it is a new fact: announced again, once.
        later = await c.notify("Rent still overdue", SENTINEL, kind="bill", facts=["bill:rent@2026-06-01:overdue:2026-06-04"])
        assert later.id != first.id


async def test_a_notification_with_one_new_fact_among_old_ones_is_sent(tmp_path):
    async with Chain(tmp_path) as c:
        a = await c.notify("Rent overdue", FINANCE, facts=["bill:rent:overdue"])
        both = await c.notify("2 bills overdue", SENTINEL, facts=["bill:rent:overdue", "bill:power:overdue"])
        again = await c.notify("2 bills overdue, again", SENTINEL, facts=["bill:power:overdue", "bill:rent:overdue"])
        assert both.id != a.id and again.id == both.id
        assert json.loads((await c.store.fetchone("SELECT facts FROM notifications WHERE id = ?", (both.id,)))[0]) == [
            "bill:rent:overdue", "bill:power:overdue"]


# --- no server: a TUI, else the missed list ---------------------------------------------------


async def test_no_bus_nothing_is_lost_the_missed_list_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    async with Chain(tmp_path) as c:
        action = await c.notify("Rent is overdue", kind="bill")
        (done,) = await c.run_due()
        assert done.status == "succeeded"  # not FAILED: "no server right now" is no failure
        row = await c.row(action.id)
        assert (row.state, row.desktop, row.tui) == ("missed", "unavailable", "none")
        assert "DBUS_SESSION_BUS_ADDRESS is unset" in row.desktop_note
        assert c.desk.notify_unavailable and "DBUS_SESSION_BUS_ADDRESS" in c.desk.notify_unavailable
        assert [n.id for n in await c.store.notices.listing(missed_only=True)] == [action.id]
        assert await c.store.notices.mark_seen(c.desk.now_iso()) == [action.id]
        assert await c.store.notices.listing(missed_only=True) == []
        assert (await c.row(action.id)).state == "missed"  # still in --all, marked seen


async def test_no_bus_an_attached_tui_shows_it(tmp_path, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    async with Chain(tmp_path) as c:
        tui = c.bus.subscribe(sorted(["action.*", "notification.*", "notifications.*"]), "oxymus-tui#1")
        listener = c.bus.subscribe(["*"], "oxymus-events#2")  # a catch-all listener shows nothing
        action = await c.notify("Standup in 5 min", kind="meeting", body="room 3")
        await c.run_due()
        row = await c.row(action.id)
        assert (row.state, row.desktop, row.tui) == ("delivered", "unavailable", "shown")
        events = [tui.queue.get_nowait() for _ in range(tui.queue.qsize())]
        posted = [e["data"] for e in events if e["topic"] == "notification.posted"]
        assert posted == [{"id": action.id, "kind": "meeting", "title": "Standup in 5 min", "body": "room 3",
                           "urgency": "normal", "decides": None, "desktop": "unavailable"}]
        assert listener.queue.qsize() > 0


async def test_a_server_that_refuses_is_still_no_lost_notification(tmp_path, session_bus):
    """A bus without a notification server: unshown, missed, and the action succeeded (it did its part)."""
    async with Chain(tmp_path) as c:
        action = await c.notify("hello")
        (done,) = await c.run_due()
        assert done.status == "succeeded" and (await c.row(action.id)).state == "missed"


async def test_an_invalid_stored_payload_is_the_one_failure(tmp_path, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    async with Chain(tmp_path) as c:
        action = await c.notify("fine now")
        await c.store.transaction([("UPDATE actions SET payload = json_set(payload, '$.urgency', 'loud') WHERE id = ?", (action.id,))])
        (done,) = await c.run_due()
        assert done.status == "failed"
        assert (await c.row(action.id)).state == "failed"


# --- quiet hours, kinds, the rate limit ---------------------------------------------------------


async def test_quiet_hours_hold_and_deliver_when_they_end(tmp_path, notification_server):
    async with Chain(tmp_path, NotifyConfig(quiet_hours="22:00-07:00")) as c:
        c.clock = dt.datetime(2026, 6, 3, 23, 30, tzinfo=dt.timezone.utc)
        held = await c.notify("Digest", kind="digest")
        critical = await c.notify("Server down", kind="failure", urgency="critical")
        assert (await c.row(held.id)).state == "held"
        assert (await c.row(held.id)).held_until == "2026-06-04T07:00:00.000Z"
        await c.run_due()
        assert [n["summary"] for n in notification_server.wait_for(1)] == ["Server down"]
        assert (await c.row(critical.id)).state == "delivered"
        c.clock = dt.datetime(2026, 6, 4, 7, 0, tzinfo=dt.timezone.utc)
        await c.run_due()
        assert [n["summary"] for n in notification_server.wait_for(2)] == ["Server down", "Digest"]
        assert (await c.row(held.id)).state == "delivered"


async def test_the_rate_limit_holds_the_overflow_and_sends_it_later(tmp_path, notification_server):
    async with Chain(tmp_path, NotifyConfig(max_per_hour=2)) as c:
        a = await c.notify("one")
        c.clock += dt.timedelta(minutes=10)
        b = await c.notify("two")
        c.clock += dt.timedelta(minutes=10)
        third = await c.notify("three")
        ask = await c.notify("Approve?", kind="approval")  # approvals are never held by the rate limit
        assert [(await c.row(x.id)).state for x in (a, b, third, ask)] == ["pending", "pending", "held", "pending"]
        assert (await c.row(third.id)).held_until.startswith("2026-06-03T11:00:00")
        await c.run_due()
        assert sorted(n["summary"] for n in notification_server.wait_for(3)) == ["Approve?", "one", "two"]
        c.clock = T0 + dt.timedelta(hours=1, seconds=1)
        await c.run_due()
        assert [n["summary"] for n in notification_server.wait_for(4)][-1] == "three"


async def test_a_kind_switched_off_is_silenced_and_not_missed(tmp_path, monkeypatch):
    from oxymus.connectors.notify.config import NotifyKinds

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    async with Chain(tmp_path, NotifyConfig(kinds=NotifyKinds(digest=False))) as c:
        tui = c.bus.subscribe(["notification.*"], "oxymus-tui#1")
        action = await c.notify("Digest", kind="digest")
        await c.run_due()
        assert (await c.row(action.id)).state == "silenced"
        assert tui.queue.qsize() == 0 and await c.store.notices.count_missed() == 0


# --- the server comes back ------------------------------------------------------------------------


async def test_when_the_server_comes_back_waiting_approvals_and_missed_ones_are_shown(tmp_path, session_bus):
    async with Chain(tmp_path) as c:
        ask, _ = await c.desk.propose("test.ask", {"what": "push the blog"}, proposer=FINANCE)
        decided, _ = await c.desk.propose("test.ask", {"what": "delete the repo"}, proposer=FINANCE)
        assert ask.status == decided.status == "awaiting_approval"
        await c.notify("Rent is overdue", kind="bill")
        await c.run_due()  # no server on the bus yet
        await c.desk.deny(decided.id)  # decided meanwhile: its Approve button would only fail
        rows = await c.store.notices.listing(missed_only=False)
        assert sorted((r.kind, r.state) for r in rows) == [("approval", "missed"), ("approval", "missed"), ("bill", "missed")]
        c.desk.notices.start()
        await asyncio.sleep(0)
        with NotificationServerThread(session_bus.address) as server:
            # Not server.wait_for: it blocks, and the watch runs on this loop.
            await eventually(lambda: len(server.notifications) >= 2, what="the missed ones shown when the server came")
            # Shown in the order they were made (the denied request's between the two): had it been
            # shown, it would be among the first two.
            shown = server.notifications
            assert sorted(n["summary"] for n in shown) == ["Approve? do push the blog", "Rent is overdue"]
            approval = next(n for n in shown if n["summary"].startswith("Approve?"))
            assert "approve" in approval["actions"]
            # The press still decides through the policy path.
            server.invoke_action(approval["id"], "approve")
            status = {}

            async def look() -> None:
                status["now"] = (await c.desk.repo.get(ask.id)).status

            for _ in range(500):
                await look()
                if status["now"] == "approved":
                    break
                await asyncio.sleep(0.01)
            assert status["now"] == "approved"
        rows = {r.title: r for r in await c.store.notices.listing(missed_only=False)}
        assert rows["Rent is overdue"].state == "delivered" and rows["Rent is overdue"].desktop == "shown"
        assert rows["Approve? do delete the repo"].state == "missed"  # listed until seen, not shown again
        assert await c.store.notices.count_missed() == 1


def test_quiet_until_names_the_end_in_utc():
    config = NotifyConfig(quiet_hours="22:00-07:00")
    berlin = ZoneInfo("Europe/Berlin")
    assert config.quiet_until(dt.datetime(2026, 6, 3, 21, 30, tzinfo=dt.timezone.utc), berlin) == dt.datetime(
        2026, 6, 4, 5, 0, tzinfo=dt.timezone.utc)
    assert config.quiet_until(dt.datetime(2026, 6, 3, 12, 0, tzinfo=dt.timezone.utc), berlin) is None
    assert utc_iso(config.quiet_until(dt.datetime(2026, 6, 4, 3, 0, tzinfo=dt.timezone.utc), berlin)) == "2026-06-04T05:00:00.000Z"


@pytest.mark.parametrize(("toml", "field", "says"), [
    ('quiet_hours = "late"', "quiet_hours", "HH:MM-HH:MM"),
    ("max_per_hour = 0", "max_per_hour", "greater than or equal to 1"),
    ("[notify.kinds]\nbils = false", "kinds.bils", "unknown key"),
    ('[notify.kinds]\nbill = "sometimes"', "kinds.bill", "boolean"),
])
def test_bad_notify_config_names_the_field(tmp_path, toml, field, says):
    from oxymus.profile import config as config_mod

    path = tmp_path / "config.toml"
    text = f"[notify]\n{toml}\n"
    with pytest.raises(config_mod.ConfigError) as err:
        config_mod.parse(text, str(path))
    assert f"notify.{field}" in str(err.value) and says in str(err.value) and str(path) in str(err.value)
