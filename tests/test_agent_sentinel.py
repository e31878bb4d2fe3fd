"""The sentinel: each kind of notification once, the digest at 17:00, quiet hours, the pause, silence on a quiet day.

A real store, desk and runtime (AgentWorld) with a clock the tests move minute by
minute; the source health the sentinel reads comes from a stand-in coordinator.
Monday 23 November 2026, Europe/Berlin, unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt

import pytest
from agent_harness import AgentWorld
from ollama_server import closed_url, ollama_server  # noqa: F401
from pydantic import ValidationError

from oxymus.actions.model import Proposer
from oxymus.agents.llm import Llm
from oxymus.agents.sentinel import SentinelSettings
from oxymus.models import SourceHealth
from oxymus.profile.config import LlmConfig
from oxymus.sources.contract import utc_iso

DAY = dt.date(2026, 11, 23)  # a Monday
UTC = dt.timezone.utc
CONFIG = """
[notify]
enabled = false

[bills]
file = "bills.toml"
"""
BILLS = """
[[bill]]
name = "Rent"
amount = 950
schedule = "monthly"
day = 21

[[bill]]
name = "Phone"
amount = 39.99
schedule = "monthly"
day = 25
url = "https://phone.example/pay"

[[bill]]
name = "Insurance"
amount = 120
schedule = "monthly"
day = 22
autopay = true
"""


class Coordinator:
    """Stands in for the daemon's coordinator: source health as `ctx.sources()` reads it."""

    def __init__(self, world: AgentWorld):
        self.world = world
        self.health: dict[str, SourceHealth] = {}

    def set(self, source: str, *, last_success: dt.datetime | None, stale_after: float = 1800, failures: int = 0,
            error: str | None = None, error_class: str | None = None) -> None:
        self.health[source] = SourceHealth(
            source=source, interval=300, stale_after=stale_after, last_success=utc_iso(last_success) if last_success else None,
            consecutive_failures=failures, last_error=error, error_class=error_class,
        )

    def views(self):
        return [h.view(utc_iso(self.world.now())) for h in self.health.values()]


def at(w: AgentWorld, hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(hour, minute), w.zone)


def set_clock(w: AgentWorld, hour: int, minute: int = 0, day: int = 0) -> None:
    w.clock = at(w, hour, minute, day).astimezone(UTC)


async def notes(w: AgentWorld):
    """The notifications the sentinel proposed, oldest first."""
    found = await w.actions()
    return sorted([a for a in found if a.kind == "notify.send" and a.proposer.name == "sentinel"], key=lambda a: a.created_at)


async def run_minutes(w: AgentWorld, minutes: int) -> list:
    runs = []
    for _ in range(minutes):
        runs.append(await w.run("sentinel", "every 1m"))
        w.advance(minutes=1)
    return runs


def meeting(w, key, start, end, summary="Standup", **data):
    return w.item("calendar.work", "calendar.event", key, starts=start, ends=end, data={
        "uid": key.split("@")[0], "summary": summary, "start": start.isoformat(), "end": end.isoformat(),
        "all_day": False, "calendar": "work", "recurring": False, **data})


def pull(w, kind, number, *, ci=None, head=None, failing=(), error=None, title="Fix the parser"):
    data = {"number": number, "title": title, "repo": "ada/engine", "url": f"https://github.com/ada/engine/pull/{number}",
            "author": "ada" if kind == "github.pr" else "grace", "draft": False, "updated_at": "2026-11-23T08:00:00Z",
            "ci": ci, "failing_checks": list(failing)}
    if head:
        data["head_sha"] = head
    return w.item("github", kind, data["url"], data=data, error=error)


def bill(w, key, name, due: dt.date, amount=950.0, autopay=False, url=None):
    start = dt.datetime.combine(due, dt.time(), w.zone)
    return w.item("bills", "bills.due", f"{key}@{due}", starts=start, ends=start + dt.timedelta(days=1), data={
        "bill": key, "name": name, "amount": amount, "currency": "EUR", "due": due.isoformat(), "schedule": "monthly",
        "autopay": autopay, "url": url, "notes": None})


@pytest.fixture
async def world(tmp_path):
    async with AgentWorld(tmp_path, config_toml=CONFIG, files={"bills.toml": BILLS}, only=["sentinel"],
                          now=dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) as w:
        w.sources = Coordinator(w)
        w.runtime.coordinator = w.sources
        yield w


# --- meetings --------------------------------------------------------------------------


async def test_a_meeting_is_announced_once_across_its_lead_time(world):
    w = world
    await w.state("calendar.work", [
        meeting(w, "standup@2026-11-23T09:00:00Z", at(w, 10), at(w, 10, 30), location="Room 4", url="https://meet.example/standup"),
        w.item("calendar.work", "calendar.event", "holiday@2026-11-23", starts=at(w, 0), ends=at(w, 0, day=1),
               data={"uid": "holiday", "summary": "Company day", "start": "2026-11-23", "end": "2026-11-24", "all_day": True,
                     "calendar": "work", "recurring": False}),
    ])
    set_clock(w, 9, 40)
    runs = await run_minutes(w, 31)  # 09:40 .. 10:10
    [note] = await notes(w)
    assert note.payload["title"] == "Standup at 10:00 (in 10 min)"
    assert note.payload["body"] == "10:00–10:30\nat Room 4\nhttps://meet.example/standup\ncalendar work"
    assert note.payload["urgency"] == "normal" and note.status == "approved"
    assert note.confidence == 0.8  # a meeting within its lead time: a strong rule
    assert note.created_at == utc_iso(at(w, 9, 50))
    assert note.inputs[0].ref == "calendar.work:standup@2026-11-23T09:00:00Z" and "meeting_lead 10m" in note.reason
    assert [r.summary for r in runs[9:12]] == ["nothing worth a notification", "notified: meeting Standup",
                                               "nothing worth a notification"]
    assert all(r.actions == [] for i, r in enumerate(runs) if i != 10)
    await w.execute_due()
    assert (await w.store.actions.get(note.id)).status == "succeeded"  # recorded, not shown (notify disabled)


async def test_a_meeting_seen_late_still_says_so_briefly_and_a_moved_one_is_announced_again(world):
    w = world
    await w.state("calendar.work", [meeting(w, "review@x", at(w, 14), at(w, 15), summary="Design review"),
                                    meeting(w, "retro@x", at(w, 15), at(w, 16), summary="Retro")])
    set_clock(w, 14, 3)  # woke from sleep after the lead time
    await w.run("sentinel")
    set_clock(w, 15, 6)  # past the grace: the retro is under way, nothing to say
    await w.run("sentinel")
    assert [n.payload["title"] for n in await notes(w)] == ["Design review at 14:00 (started 3 min ago)"]
    # The review moves to 16:30 (same occurrence key, new start): a new announcement.
    await w.state("calendar.work", [meeting(w, "review@x", at(w, 16, 30), at(w, 17), summary="Design review")])
    set_clock(w, 16, 25)
    await run_minutes(w, 3)
    assert [n.payload["title"] for n in await notes(w)][1:] == ["Design review at 16:30 (in 5 min)"]


async def test_meeting_times_are_local_across_a_dst_change(tmp_path):
    # Sunday 1 November 2026: New York falls back from EDT to EST at 02:00.
    async with AgentWorld(tmp_path, config_toml=CONFIG, zone="America/New_York", only=["sentinel"],
                          now=dt.datetime(2026, 11, 1, 13, 50, tzinfo=UTC)) as w:  # 08:50 EST
        start = dt.datetime(2026, 11, 1, 9, 0, tzinfo=w.zone)
        await w.state("calendar.home", [meeting(w, "brunch@x", start, start + dt.timedelta(hours=1), summary="Brunch")])
        await w.run("sentinel")
        [note] = await notes(w)
        assert note.payload["title"] == "Brunch at 09:00 (in 10 min)" and note.payload["body"].startswith("09:00–10:00")


# --- pull requests ---------------------------------------------------------------------


async def test_ci_failure_is_announced_once_and_again_on_a_new_head(world):
    w = world
    set_clock(w, 11)
    await w.state("github", [pull(w, "github.pr", 12, ci="failure", head="a1b2c3", failing=["tests (3.12)", "lint"]),
                             pull(w, "github.pr", 13, ci="success", head="ffff")])
    await run_minutes(w, 5)
    [first] = await notes(w)
    assert first.payload["title"] == "CI failed on ada/engine#12 (since 11:00): Fix the parser"
    assert first.payload["body"] == "Fix the parser\nFailing: tests (3.12), lint\nhttps://github.com/ada/engine/pull/12"
    # A new push fails again: a new head, a new notification; the same head again: nothing.
    await w.state("github", [pull(w, "github.pr", 12, ci="failure", head="d4e5f6", failing=["tests (3.12)"])])
    await run_minutes(w, 3)
    titles = [n.payload["title"] for n in await notes(w)]
    assert titles == [first.payload["title"], "CI failed on ada/engine#12 (since 11:05): Fix the parser"]


async def test_ci_failure_without_a_head_sha_is_a_new_failure_after_ci_was_seen_not_failing(world):
    w = world
    set_clock(w, 11)
    await w.state("github", [pull(w, "github.pr", 12, ci="failure", failing=["tests"])])
    await w.run("sentinel")
    # The poll could not read CI once: neither a new failure nor the end of this one.
    await w.state("github", [pull(w, "github.pr", 12, error="CI state unknown: 502")])
    await w.run("sentinel")
    await w.state("github", [pull(w, "github.pr", 12, ci="failure", failing=["tests"])])
    await w.run("sentinel")
    assert len(await notes(w)) == 1
    # A new push: CI pending, then failing again.
    await w.state("github", [pull(w, "github.pr", 12, ci="pending")])
    w.advance(minutes=5)
    await w.run("sentinel")
    await w.state("github", [pull(w, "github.pr", 12, ci="failure", failing=["tests"])])
    w.advance(minutes=5)
    await w.run("sentinel")
    await w.run("sentinel")
    assert [n.payload["title"][:40] for n in await notes(w)] == ["CI failed on ada/engine#12 (since 11:00)",
                                                                  "CI failed on ada/engine#12 (since 11:10)"]


async def test_a_review_request_is_announced_once_and_several_at_once_make_one(world):
    w = world
    set_clock(w, 10)
    await w.state("github", [pull(w, "github.review_request", 7, title="Add retries")])
    await run_minutes(w, 3)
    [one] = await notes(w)
    assert one.payload["title"] == "Review requested on ada/engine#7 (since 10:00): Add retries"
    assert one.payload["body"] == "Add retries\nby grace\nhttps://github.com/ada/engine/pull/7"
    # Two more arrive in the same poll: one notification for both; #7 is not repeated.
    await w.state("github", [pull(w, "github.review_request", n, title=f"Change {n}") for n in (7, 8, 9)])
    await run_minutes(w, 3)
    notified = await notes(w)
    assert len(notified) == 2
    assert notified[1].payload["title"] == "2 reviews requested: ada/engine#8, ada/engine#9"
    # One review asked is a moderate rule; a second one in the same notification supports it.
    assert (notified[0].confidence, notified[1].confidence) == (0.65, 0.7)
    assert notified[1].payload["body"].splitlines()[0] == "- ada/engine#8 Change 8 by grace https://github.com/ada/engine/pull/8"
    # #7 is withdrawn, then asked for again: a new request.
    await w.state("github", [pull(w, "github.review_request", n) for n in (8, 9)])
    await w.run("sentinel")
    await w.state("github", [pull(w, "github.review_request", n) for n in (7, 8, 9)])
    w.advance(minutes=1)
    await w.run("sentinel")
    assert len(await notes(w)) == 3


# --- bills -----------------------------------------------------------------------------


async def test_an_overdue_bill_is_announced_once_unless_paid_autopaid_or_long_past(world):
    w = world
    set_clock(w, 9)
    paid = await w.desk.propose("bills.mark_paid", {"bill": "phone", "due": "2026-10-25"}, proposer=Proposer())
    assert paid[0].status == "approved"
    await w.state("bills", [
        bill(w, "rent", "Rent", dt.date(2026, 11, 21), url="https://landlord.example"),
        bill(w, "insurance", "Insurance", dt.date(2026, 11, 22), amount=120, autopay=True),
        bill(w, "phone", "Phone", dt.date(2026, 10, 25), amount=39.99),  # marked paid
        bill(w, "gym", "Gym", dt.date(2026, 11, 10), amount=30),  # 13 days ago: too old to announce
    ])
    await run_minutes(w, 3)
    [note] = await notes(w)
    assert note.payload["title"] == "Overdue: Rent, 950.00 EUR, due Sat 21 Nov"
    assert note.payload["body"] == ("Not marked paid in Oxymus.\npay at https://landlord.example\n"
                                    "Paid already? `oxymus paid rent --due 2026-11-21`")
    set_clock(w, 9, 0, day=1)
    await w.run("sentinel")
    assert len(await notes(w)) == 1


# --- quiet hours -----------------------------------------------------------------------


async def test_quiet_hours_let_a_meeting_through_and_hold_the_rest_until_morning(tmp_path):
    from oxymus.actions.policy import EXAMPLE

    async with AgentWorld(tmp_path, config_toml=CONFIG, policy=EXAMPLE, only=["sentinel"],
                          now=at_utc(23, 0)) as w:
        await w.state("calendar.work", [meeting(w, "call@x", at(w, 23, 5), at(w, 23, 30), summary="Call with Tokyo")])
        await w.state("github", [pull(w, "github.pr", 12, ci="failure", head="a1"), pull(w, "github.pr", 14, ci="failure", head="b2")])
        await w.state("bills", [bill(w, "rent", "Rent", dt.date(2026, 11, 21))])
        run = await w.run("sentinel")
        [call] = await notes(w)
        # Critical, so the example policy's quiet-hours rule (deny unless critical) lets it through.
        assert call.payload["title"] == "Call with Tokyo at 23:05 (in 5 min)" and call.payload["urgency"] == "critical"
        assert call.status == "approved"
        assert run.summary == "notified: meeting Call with Tokyo, 3 items held for quiet hours"
        # Overnight #14 is fixed; at 06:59 it is still quiet, at 07:00 what is still true is said.
        await w.state("github", [pull(w, "github.pr", 12, ci="failure", head="a1"), pull(w, "github.pr", 14, ci="success", head="c3")])
        set_clock(w, 6, 59, day=1)
        await w.run("sentinel")
        assert len(await notes(w)) == 1
        set_clock(w, 7, 0, day=1)
        await w.run("sentinel")
        titles = sorted(n.payload["title"] for n in (await notes(w))[1:])
        assert titles == ["CI failed on ada/engine#12 (since yesterday 23:00): Fix the parser",
                          "Overdue: Rent, 950.00 EUR, due Sat 21 Nov"]
        assert all(n.payload["urgency"] == "normal" and n.status == "approved" for n in (await notes(w))[1:])


def at_utc(hour: int, minute: int = 0, day: int = 0, zone: str = "Europe/Berlin") -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(hour, minute), ZoneInfo(zone)).astimezone(UTC)


# --- the digest ------------------------------------------------------------------------


async def test_the_digest_accumulates_and_is_announced_once_at_17(world):
    w = world
    set_clock(w, 9)
    await w.state("bills", [bill(w, "phone", "Phone", dt.date(2026, 11, 25), amount=39.99)])
    run = await w.run("sentinel")
    assert run.actions == [] and run.summary == "digest 2026-11-23: 1 new item"
    [digest] = await w.artifacts("digest")
    assert digest.key == "2026-11-23" and digest.title == "Digest, Mon 23 Nov: 1 open item"
    assert "- 09:00  Phone 39.99 EUR due Wed 25 Nov (in 2 days)  `oxymus paid phone --due 2026-11-25`" in digest.content
    # GitHub has had no fresh data since 09:00: stale after 09:30, and for 2 h past that at 11:31.
    w.sources.set("github", last_success=at(w, 9), error="GitHub answered 502", failures=4)
    set_clock(w, 9, 30)
    await run_minutes(w, 2)
    set_clock(w, 11, 30)
    await w.run("sentinel")
    assert len((await w.artifacts("digest"))[0].data["entries"]) == 1
    set_clock(w, 11, 31)
    await w.run("sentinel")
    [digest] = await w.artifacts("digest")
    assert [e["id"] for e in digest.data["entries"]] == ["bill:phone@2026-11-25", "stale:github#2026-11-23T08:00:00.000Z"]
    set_clock(w, 16, 58)
    await run_minutes(w, 5)  # 16:58 .. 17:02
    [note] = await notes(w)
    assert note.created_at == utc_iso(at(w, 17))
    assert note.payload["title"] == ("Digest, Mon 23 Nov: Phone 39.99 EUR due Wed 25 Nov (in 2 days); "
                                     "github: no fresh data since 09:00; last error: GitHub answered 502")
    assert note.payload["body"] == (
        "- Phone 39.99 EUR due Wed 25 Nov (in 2 days): `oxymus paid phone --due 2026-11-25`\n"
        "- github: no fresh data since 09:00; last error: GitHub answered 502: `oxymus refresh github`\n"
        "`oxymus artifacts digest` shows the day.")
    assert note.payload["urgency"] == "low" and note.idempotency_key == "sentinel:digest:2026-11-23"
    [digest] = await w.artifacts("digest")
    assert digest.data["notified_at"] == utc_iso(at(w, 17)) and "Notified at 17:00." in digest.content
    # Something new in the evening goes into the record, not into a second notification.
    await w.state("bills", [bill(w, "phone", "Phone", dt.date(2026, 11, 25), amount=39.99),
                            bill(w, "rent", "Rent", dt.date(2026, 11, 25))])
    set_clock(w, 19)
    await run_minutes(w, 3)
    assert len(await notes(w)) == 1 and len((await w.artifacts("digest"))[0].data["entries"]) == 3
    # The next day: a new digest; at 17:00 it announces what is new (rent) and names what is still open.
    set_clock(w, 16, 59, day=1)
    w.sources.set("github", last_success=at(w, 16, 50, day=1))  # recovered: not announced
    await run_minutes(w, 3)
    notified = await notes(w)
    assert len(notified) == 2
    assert notified[1].payload["title"] == "Digest, Tue 24 Nov: Rent 950.00 EUR due tomorrow"
    assert "Still open from before: Phone" in notified[1].payload["body"]
    days = {a.key: a for a in await w.artifacts("digest")}
    assert set(days) == {"2026-11-23", "2026-11-24"}
    assert [e["id"] for e in days["2026-11-24"].data["entries"]] == ["bill:phone@2026-11-25", "bill:rent@2026-11-25"]


async def test_nothing_at_all_on_a_quiet_day(world):
    w = world
    set_clock(w, 0, 0)
    await w.state("calendar.work", [meeting(w, "tomorrow@x", at(w, 10, day=1), at(w, 11, day=1))])
    await w.state("github", [pull(w, "github.pr", 12, ci="success"), pull(w, "github.pr", 13, ci="pending")])
    await w.state("bills", [bill(w, "rent", "Rent", dt.date(2026, 12, 21)),
                            bill(w, "insurance", "Insurance", dt.date(2026, 11, 24), autopay=True)])
    w.sources.set("github", last_success=None)  # pending: never polled yet is not a problem
    runs = []
    for _ in range(48):  # every half hour, all day, through 17:00
        w.sources.set("calendar.work", last_success=w.now() - dt.timedelta(minutes=3))
        runs.append(await w.run("sentinel"))
        w.advance(minutes=30)
    assert {r.summary for r in runs} == {"nothing worth a notification"}
    assert all(r.outcome == "succeeded" for r in runs)
    assert await w.actions() == [] and await w.artifacts("digest") == []


# --- sources ---------------------------------------------------------------------------


async def test_a_stale_source_is_noted_once_per_episode_and_its_recovery_is_not_announced(world):
    w = world
    # Waking at 09:00 after a night asleep: the calendar is 11 h old until its first poll. No news.
    w.sources.set("calendar.work", last_success=at(w, 22, day=-1), stale_after=3600)
    set_clock(w, 9, 0)
    await w.run("sentinel")
    w.sources.set("calendar.work", last_success=at(w, 9, 0), stale_after=3600)
    set_clock(w, 9, 1)
    await w.run("sentinel")
    # Then it stops working: stale from 10:00, noted two hours later.
    set_clock(w, 10, 0)
    await run_minutes(w, 2)
    set_clock(w, 11, 59)
    await w.run("sentinel")
    assert await w.artifacts("digest") == []
    set_clock(w, 12, 1)
    await run_minutes(w, 3)
    [digest] = await w.artifacts("digest")
    assert [e["text"] for e in digest.data["entries"]] == ["calendar.work: no fresh data since 09:00"]
    w.sources.set("calendar.work", last_success=at(w, 12, 30), stale_after=3600)  # recovered
    set_clock(w, 12, 31)
    await w.run("sentinel")
    [digest] = await w.artifacts("digest")
    assert digest.data["entries"][0]["resolved_at"] == utc_iso(at(w, 12, 31)) and "(gone at 12:31)" in digest.content
    assert await notes(w) == []
    # A second episode: stale again after 13:30, noted two hours later as a new entry.
    for hour, minute, entries in ((13, 31, 1), (15, 30, 1), (15, 31, 2), (15, 32, 2)):
        set_clock(w, hour, minute)
        await w.run("sentinel")
        assert len((await w.artifacts("digest"))[0].data["entries"]) == entries
    [digest] = await w.artifacts("digest")
    assert [e["text"] for e in digest.data["entries"]][1:] == ["calendar.work: no fresh data since 12:30"]
    # A source that never worked counts from when the sentinel first saw it failing.
    w.sources.set("github", last_success=None, failures=3, error="401 Unauthorized", error_class="needs_human")
    set_clock(w, 14, 50)
    await w.run("sentinel")
    set_clock(w, 16, 49)
    await w.run("sentinel")
    assert len((await w.artifacts("digest"))[0].data["entries"]) == 2
    set_clock(w, 17, 0)
    await w.run("sentinel")
    [digest] = await w.artifacts("digest")
    assert digest.data["entries"][2]["text"] == "github: has not worked since 14:50 (it needs you); last error: 401 Unauthorized"
    [note] = await notes(w)  # the recovered first episode is not in it
    assert note.payload["body"].count("- calendar.work") == 1 and "since 12:30" in note.payload["body"]


# --- approvals -------------------------------------------------------------------------


async def propose_mark_paid(w, due: str):
    action, _ = await w.desk.propose("bills.mark_paid", {"bill": "rent", "due": due},
                                     proposer=Proposer(type="agent", name="finance"), reason="the bank shows the transfer")
    assert action.status == "awaiting_approval"
    return action


async def test_approvals_waiting_are_reminded_once_together(world):
    w = world
    set_clock(w, 10)
    first = await propose_mark_paid(w, "2026-09-21")
    w.advance(seconds=20)
    second = await propose_mark_paid(w, "2026-10-21")
    set_clock(w, 10, 5)
    third = await propose_mark_paid(w, "2026-11-21")
    set_clock(w, 10, 20)
    await run_minutes(w, 20)  # 10:20 .. 10:39
    [note] = await notes(w)
    assert note.created_at == utc_iso(at(w, 10, 30))  # the first waited 30 min; all three at least 15
    assert note.payload["title"] == "3 approvals waiting, the oldest since 10:00"
    assert note.payload["body"].splitlines() == [
        "- mark rent due 2026-09-21 paid (950.00 EUR) (agent:finance, since 10:00)",
        "- mark rent due 2026-10-21 paid (950.00 EUR) (agent:finance, since 10:00)",
        "- mark rent due 2026-11-21 paid (950.00 EUR) (agent:finance, since 10:05)",
        "Decide with `oxymus approvals` (or in the TUI).",
    ]
    assert [i.ref for i in note.inputs] == [first.id, second.id, third.id]
    # One decided, one new: the new one alone is reminded, once; the rest never again.
    await w.desk.approve(first.id)
    fourth, _ = await w.desk.propose("notify.send", {"title": "x"}, proposer=Proposer(type="agent", name="publisher"))
    assert fourth.status == "approved"  # notifications need no approval: nothing to remind about
    late = await propose_mark_paid(w, "2026-08-21")  # at 10:40
    await run_minutes(w, 60)
    notified = await notes(w)
    assert len(notified) == 2 and notified[1].created_at == utc_iso(at(w, 11, 10))
    assert notified[1].payload["title"] == "Waiting for your approval since 10:40: mark rent due 2026-08-21 paid (950.00 EUR)"
    assert notified[1].payload["body"] == ("mark rent due 2026-08-21 paid (950.00 EUR)\n"
                                           "proposed by agent:finance: the bank shows the transfer\n"
                                           "Decide with `oxymus approvals` (or in the TUI).")
    assert notified[1].inputs[0].ref == late.id


# --- the pause -------------------------------------------------------------------------


async def test_while_paused_nothing_is_proposed_and_what_is_still_true_is_said_after(world):
    """While automation is paused ("not today", `ctx.paused()`), the sentinel proposes nothing at all.

    It keeps the digest and its episodes, and after the pause says what is still true:
    the CI failure and the digest; the meeting whose time passed during the pause is
    not announced late.
    """
    w = world
    set_clock(w, 11, 0)
    await w.desk.pause(None, "not today")
    await w.state("calendar.work", [meeting(w, "standup@x", at(w, 11, 5), at(w, 11, 30))])
    await w.state("github", [pull(w, "github.pr", 12, ci="failure", head="a1")])
    await w.state("bills", [bill(w, "phone", "Phone", dt.date(2026, 11, 24), amount=39.99)])
    run = await w.run("sentinel")
    assert run.actions == [] and run.summary == "2 items held while paused, digest 2026-11-23: 1 new item"
    set_clock(w, 17, 0)
    await w.run("sentinel")
    assert await notes(w) == []  # not the digest either
    await w.desk.resume()
    w.advance(minutes=1)
    await w.run("sentinel")
    assert [n.payload["title"][:30] for n in await notes(w)] == ["CI failed on ada/engine#12 (si", "Digest, Mon 23 Nov: Phone 39.9"]


async def test_a_notification_proposed_just_before_a_pause_waits_and_goes_stale(world):
    """Proposed, then paused: the executor holds it; on resume after its expiry (1 h) it expires, never late."""
    w = world
    set_clock(w, 9, 0)
    await w.state("calendar.work", [meeting(w, "standup@x", at(w, 9, 10), at(w, 9, 30))])
    await w.run("sentinel")
    [note] = await notes(w)
    assert note.status == "approved"
    await w.desk.pause(None, "not today")
    await w.execute_due()
    assert (await w.store.actions.get(note.id)).status == "approved"  # held by the pause
    set_clock(w, 10, 30)
    await w.desk.resume()
    assert (await w.store.actions.get(note.id)).status == "expired"
    await w.run("sentinel")
    assert len(await notes(w)) == 1  # counted as said: not proposed again


# --- bad data, settings ----------------------------------------------------------------


async def test_bad_items_are_skipped_and_the_rest_still_counts(world):
    w = world
    set_clock(w, 12)
    await w.state("github", [w.item("github", "github.pr", "weird", data={"title": "no number"}),
                             pull(w, "github.pr", 12, ci="failure")])
    await w.state("bills", [w.item("bills", "bills.due", "broken", data={"bill": "x", "due": "someday"}),
                            w.item("bills", "bills.error", "error:0:x", error="bills.toml:3: bad")])
    run = await w.run("sentinel")
    assert run.outcome == "succeeded"
    assert "skipped GitHub item weird: not a pull request" in run.summary and "skipped bill item broken" in run.summary
    assert len(await notes(w)) == 1


def test_settings_are_checked():
    assert SentinelSettings().model_dump(exclude={"enabled", "trigger"}) == {
        "meeting_lead": "10m", "bill_days": 2, "stale_for": "2h", "approvals_after": "30m",
        "quiet_hours": "22:00-07:00", "digest_at": "17:00"}
    assert SentinelSettings(quiet_hours="").quiet_hours == ""
    for bad, message in [({"meeting_lead": "soon"}, "not a duration"), ({"quiet_hours": "late"}, "not a time window"),
                         ({"digest_at": "5pm"}, "not a time of day"),
                         ({"digest_at": "23:00"}, "falls inside quiet_hours"), ({"colour": "red"}, "Extra inputs")]:
        with pytest.raises(ValidationError, match=message):
            SentinelSettings(**bad)


async def test_settings_come_from_config(tmp_path):
    toml = CONFIG + '\n[agents.sentinel]\nmeeting_lead = "30m"\nquiet_hours = ""\n'
    async with AgentWorld(tmp_path, config_toml=toml, only=["sentinel"], now=at_utc(2, 0)) as w:
        await w.state("calendar.work", [meeting(w, "early@x", at(w, 2, 30), at(w, 3), summary="Launch")])
        await w.run("sentinel")
        [note] = await notes(w)
        assert note.payload["title"] == "Launch at 02:30 (in 30 min)" and note.payload["urgency"] == "normal"


# --- the LLM words the digest, nothing else --------------------------------------------


@pytest.mark.parametrize("case", ["good", "invented", "down"])
async def test_the_llm_only_words_the_digest(tmp_path, ollama_server, case):  # noqa: F811
    host = closed_url() if case == "down" else ollama_server.url
    answer = {"good": {"title": "One bill before Wednesday", "intro": "Phone is due soon; nothing else needs you."},
              "invented": {"title": "Pay 45 EUR now", "intro": "Phone is due."}}.get(case)
    if answer:
        ollama_server.state.answer_next(answer)
    llm = Llm(LlmConfig(host=host, model="llama3.2", timeout_s=5, connect_timeout_s=1))
    async with AgentWorld(tmp_path, config_toml=CONFIG, only=["sentinel"], llm=llm, now=at_utc(17, 0)) as w:
        await w.state("bills", [bill(w, "phone", "Phone", dt.date(2026, 11, 25), amount=39.99)])
        run = await w.run("sentinel")
        [note] = await notes(w)
        plain_body = "- Phone 39.99 EUR due Wed 25 Nov (in 2 days): `oxymus paid phone --due 2026-11-25`\n" \
                     "`oxymus artifacts digest` shows the day."
        if case == "good":
            assert note.payload["title"] == "One bill before Wednesday"
            assert note.payload["body"] == "Phone is due soon; nothing else needs you.\n" + plain_body
            [request] = ollama_server.state.inference()
            assert "- Phone 39.99 EUR due Wed 25 Nov (in 2 days)" in request.user_text
        else:
            assert note.payload["title"] == "Digest, Mon 23 Nov: Phone 39.99 EUR due Wed 25 Nov (in 2 days)"
            assert note.payload["body"] == plain_body
        assert run.llm_available is (case != "down")
        assert [c.outcome for c in run.llm] == ([] if case == "down" else ["ok"])
        if case == "invented":
            assert "numbers not in the facts: 45" in run.summary
        # One new item, moderate; an LLM wording that did not validate makes it less sure.
        assert note.confidence == {"good": 0.65, "invented": 0.55, "down": 0.65}[case]


# --- one notification per fact, across agents ------------------------------------------


@pytest.mark.parametrize("order", [("finance", "sentinel"), ("sentinel", "finance")])
async def test_finance_and_the_sentinel_announce_an_overdue_bill_once(tmp_path, order):
    """The demo's situation: both agents see the same overdue bill; whoever runs first says it (fact keys)."""
    async with AgentWorld(tmp_path, config_toml=CONFIG, files={"bills.toml": BILLS}, only=["sentinel", "finance"],
                          now=dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) as w:
        w.sources = Coordinator(w)
        w.runtime.coordinator = w.sources
        await w.state("bills", [bill(w, "rent", "Rent", dt.date(2026, 11, 21))])
        for name in order:
            await w.run(name)
        sent = [a for a in await w.actions() if a.kind == "notify.send"]
        assert [a.proposer.name for a in sent] == [order[0]]
        assert sent[0].payload["facts"] == ["bill:rent@2026-11-21:overdue:2026-11-23"] and sent[0].payload["kind"] == "bill"
        # Both agents run again in the same day: still one.
        for name in order:
            await w.run(name)
        assert len([a for a in await w.actions() if a.kind == "notify.send"]) == 1
