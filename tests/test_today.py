"""The Today view from state items: ranges across midnight and DST, bills' status, what needs attention."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from oxymus.sources.contract import StateItem, utc_iso
from oxymus.today import view as today
from oxymus.today.text import render

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 11, 21, 7, 0, tzinfo=dt.timezone.utc)  # 08:00 in Berlin
DAY = dt.date(2026, 11, 21)


def local(s: str) -> str:
    return utc_iso(dt.datetime.fromisoformat(s).replace(tzinfo=BERLIN))


def event(key, start, end, **data) -> StateItem:
    return StateItem(source="calendar.personal", kind="calendar.event", key=key, observed_at=utc_iso(NOW),
                     starts_at=local(start), ends_at=local(end), data={"summary": key, **data})


def build(items, payments=None, day=DAY):
    return today.build(day, BERLIN, NOW, items, [], payments or {})


def test_day_bounds_follow_dst():
    start, end = today.day_bounds(dt.date(2026, 3, 29), BERLIN)
    assert (end - start) == dt.timedelta(hours=23)
    start, end = today.day_bounds(dt.date(2026, 10, 25), BERLIN)
    assert (end - start) == dt.timedelta(hours=25)


def test_events_in_order_with_all_day_first_and_multi_day_marked():
    items = [
        event("standup", "2026-11-21T09:00", "2026-11-21T09:15", recurring=True),
        event("offsite", "2026-11-20T00:00", "2026-11-23T00:00", all_day=True),
        event("late party", "2026-11-21T22:00", "2026-11-22T02:00"),
        event("yesterday", "2026-11-20T09:00", "2026-11-20T10:00"),
        event("ends at midnight", "2026-11-20T23:00", "2026-11-21T00:00"),
    ]
    t = build(items)
    assert [e.summary for e in t.events] == ["offsite", "standup", "late party"]
    offsite, standup, party = t.events
    assert (offsite.all_day, offsite.day_of, offsite.start, offsite.end) == (True, [2, 3], "2026-11-20", "2026-11-22")
    assert (standup.start, standup.end, standup.recurring) == ("09:00", "09:15", True)
    assert (party.start, party.end, party.day_of) == ("22:00", "2026-11-22 02:00", [1, 2])


def test_bills_status_from_dates_payments_and_autopay():
    def due(key, when, **extra):
        return StateItem(source="bills", kind="bills.due", key=f"{key}@{when}", observed_at=utc_iso(NOW),
                         data={"bill": key, "name": key.title(), "amount": 10, "currency": "EUR", "due": when, **extra})

    items = [due("rent", "2026-11-01"), due("gym", "2026-11-21"), due("phone", "2026-11-25"),
             due("power", "2026-11-15"), due("netflix", "2026-11-10", autopay=True)]
    t = build(items, payments={("power", "2026-11-15"): "2026-11-14T10:00:00.000Z"})
    assert [(b.bill, b.status, b.days_left) for b in t.bills] == [
        ("rent", "overdue", -20), ("gym", "due_today", 0), ("phone", "upcoming", 4), ("netflix", "autopay", -11),
    ], "a paid bill in the past drops out"


def test_attention_items_and_problems():
    items = [
        StateItem(source="git", kind="git.repo", key="/code/blog", observed_at=utc_iso(NOW),
                  data={"name": "blog", "path": "/code/blog", "branch": "main", "needs_attention": True, "attention": ["2 unpushed commits"]}),
        StateItem(source="git", kind="git.repo", key="/code/clean", observed_at=utc_iso(NOW),
                  data={"name": "clean", "path": "/code/clean", "branch": "main", "needs_attention": False}),
        StateItem(source="git", kind="git.repo", key="/code/gone", observed_at=utc_iso(NOW), error="/code/gone: no such directory"),
        StateItem(source="github", kind="github.review_request", key="u1", observed_at=utc_iso(NOW),
                  data={"title": "Add feeds", "repo": "me/blog", "number": 4, "url": "u1"}),
        StateItem(source="github", kind="github.pr", key="u2", observed_at=utc_iso(NOW),
                  data={"title": "Fix", "repo": "me/site", "number": 9, "url": "u2", "ci": "failure", "failing_checks": ["lint"]}),
        StateItem(source="github", kind="github.pr", key="u3", observed_at=utc_iso(NOW),
                  data={"title": "Green", "repo": "me/site", "number": 10, "url": "u3", "ci": "success"}),
        StateItem(source="github", kind="github.issue", key="u4", observed_at=utc_iso(NOW), data={"title": "Bug"}),
        StateItem(source="calendar.team", kind="calendar.deadline", key="todo:1", observed_at=utc_iso(NOW),
                  starts_at=local("2026-11-20T17:00"), ends_at=local("2026-11-20T17:00"),
                  data={"summary": "Send slides", "due": "2026-11-20T17:00:00+01:00", "all_day": False}),
        StateItem(source="calendar.team", kind="calendar.deadline", key="todo:2", observed_at=utc_iso(NOW),
                  starts_at=local("2026-11-21T00:00"), ends_at=local("2026-11-22T00:00"),
                  data={"summary": "Pay the invoice", "due": "2026-11-21", "all_day": True}),
    ]
    t = build(items)
    assert [(r.name, r.error) for r in t.repos] == [("gone", "/code/gone: no such directory"), ("blog", None)]
    assert [(p.number, p.why) for p in t.pull_requests] == [(4, "review requested"), (9, "CI failing")]
    assert t.issues_assigned == 1
    assert [(d.summary, d.due, d.overdue, d.days_left) for d in t.deadlines] == [
        ("Send slides", "2026-11-20 17:00", True, -1),
        ("Pay the invoice", "2026-11-21", False, 0),  # all-day: due by the end of the day, not at midnight
    ]
    assert [p.message for p in t.problems] == ["/code/gone: no such directory"]
    text = render(t)
    for expected in ("Saturday 21 November 2026 (Europe/Berlin)", "blog (main): 2 unpushed commits",
                     "me/site#9 Fix — CI failing [lint]", "OVERDUE 2026-11-20 17:00  Send slides (yesterday)"):
        assert expected in text, expected
