"""Compounding metrics over three months of history written through the real desk, executor and repos
(tests/metrics_seed.py): every metric's value, count and p90 per month, the trends, local-zone months,
months with no data, and the table's width."""

from __future__ import annotations

import sqlite3
from zoneinfo import ZoneInfo

import pytest
from metrics_seed import NOW, ZONE, seed

from oxymus.metrics.compute import compute
from oxymus.metrics.models import MetricsResult
from oxymus.metrics.table import headline, render

N = None
# key -> [(value, count, p90)] for Aug, Sep, Oct 2026, worked out by hand from metrics_seed's steps.
EXPECTED = {
    # Aug: two bot actions, 1 + 2 (edited, approved) decisions. Sep: 4 actions (typed + approved = 2, denied 1,
    # expired 0, approved 1) and two flows ending (lead Ann won: 1 manual move; post One distributed: 2). Oct: 2
    # actions with 1 decision each, lead Bob lost (1 manual move).
    "handoffs.all": [(1.5, 2, N), (1.167, 6, N), (1.0, 3, N)],
    "handoffs.test.do": [(1.5, 2, N), (1.0, 4, N), (1.0, 2, N)],
    "handoffs.record:lead": [(N, 0, N), (1.0, 1, N), (1.0, 1, N)],
    "handoffs.record:post": [(N, 0, N), (2.0, 1, N), (N, 0, N)],
    "resolution.lead_first_reply": [(24.0, 1, 24.0), (6.0, 1, 6.0), (N, 0, N)],
    "resolution.idea_published": [(N, 0, N), (744.0, 1, 744.0), (N, 0, N)],
    # The Aug 31 23:00 (Berlin) capture triaged at 00:30 falls in September.
    "resolution.capture_triaged": [(2.0, 1, 2.0), (12.75, 2, 24.0), (N, 0, N)],
    "resolution.approval_wait": [(3.0, 2, 4.0), (1.0, 3, 6.0), (0.625, 2, 1.0)],
    "errors.runs": [(33.333, 3, N), (0.0, 4, N), (50.0, 2, N)],
    "errors.actions": [(50.0, 2, N), (0.0, 2, N), (50.0, 2, N)],
    "agents.bot.unchanged": [(50.0, 2, N), (33.333, 3, N), (100.0, 2, N)],
    "agents.bot.edited": [(50.0, 2, N), (0.0, 3, N), (0.0, 2, N)],
    "agents.bot.denied": [(0.0, 2, N), (33.333, 3, N), (0.0, 2, N)],
    "agents.bot.expired": [(0.0, 2, N), (33.333, 3, N), (0.0, 2, N)],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    import asyncio

    directory = tmp_path_factory.mktemp("metrics")
    asyncio.run(seed(directory))
    conn = sqlite3.connect(f"file:{directory}/oxymus.db?mode=ro", uri=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def result(db) -> MetricsResult:
    return compute(db, now=NOW, zone=ZoneInfo(ZONE), months=3)


def test_every_metric_has_its_known_value_count_and_p90_per_month(result):
    assert result.months == ["2026-08", "2026-09", "2026-10"] and result.zone == ZONE
    found = {m.key: [(v.value, v.count, v.p90) for v in m.months] for m in result.metrics}
    assert found == EXPECTED


def test_a_month_with_no_data_has_no_value_never_zero(result):
    lead = next(m for m in result.metrics if m.key == "resolution.lead_first_reply")
    assert (lead.months[-1].value, lead.months[-1].count) == (None, 0)


def test_trends_compare_the_newest_month_with_data_to_the_month_before(result):
    by = {m.key: m for m in result.metrics}
    handoffs = by["handoffs.all"]
    assert (handoffs.trend, handoffs.change, handoffs.change_pct, handoffs.improving) == ("down", -0.167, -14.3, True)
    # Nothing in October: September against August.
    lead = by["resolution.lead_first_reply"]
    assert (lead.trend, lead.change, lead.change_pct, lead.improving) == ("down", -18.0, -75.0, True)
    # From 0 a relative change has no meaning: the change is absolute only.
    runs = by["errors.runs"]
    assert (runs.trend, runs.change, runs.change_pct, runs.improving) == ("up", 50.0, None, False)
    assert (by["handoffs.test.do"].trend, by["handoffs.test.do"].improving) == ("flat", None)
    # Only one month with data: no trend at all.
    assert by["resolution.idea_published"].trend is None and by["handoffs.record:post"].trend is None
    unchanged = by["agents.bot.unchanged"]
    assert (unchanged.trend, unchanged.change, unchanged.improving) == ("up", 66.667, True)


def test_the_window_moves_with_the_months_asked(db):
    wider = compute(db, now=NOW, zone=ZoneInfo(ZONE), months=6)
    assert wider.months == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    runs = next(m for m in wider.metrics if m.key == "errors.runs")
    assert [(v.value, v.count) for v in runs.months][:3] == [(None, 0), (None, 0), (100.0, 1)]
    one = compute(db, now=NOW, zone=ZoneInfo(ZONE), months=1)
    assert one.months == ["2026-10"] and all(m.trend is None for m in one.metrics)
    # In UTC the Aug 31 22:30 triage is an August one.
    utc = compute(db, now=NOW, zone=ZoneInfo("UTC"), months=3)
    capture = next(m for m in utc.metrics if m.key == "resolution.capture_triaged")
    assert [(v.value, v.count) for v in capture.months] == [(1.75, 2), (24.0, 1), (None, 0)]


def test_the_table_fits_80_columns_for_six_months(db):
    text = render(compute(db, now=NOW, zone=ZoneInfo(ZONE), months=6))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(line for line in lines if len(line) > 80)
    assert lines[0].split() == ["May", "Jun", "Jul", "Aug", "Sep", "Oct", "trend"]
    row = next(line for line in lines if line.startswith("approval wait"))
    assert row.split() == ["approval", "wait", "-", "-", "-", "3.0h", "1.0h", "0.6h", "↓", "-38%"]
    assert next(line for line in lines if line.startswith("idea→published")).split()[-2:] == ["31.0d", "-"]
    assert next(line for line in lines if line.startswith("bot as-is%")).split()[-2:] == ["↑", "+67pt"]


def test_a_long_agent_name_is_never_cut_to_a_guess(db):
    result = compute(db, now=NOW, zone=ZoneInfo(ZONE), months=6)
    last = result.metrics[-1].key
    longer = result.model_copy(update={"metrics": [m.model_copy(update={"label": "publisher expired%"}) if m.key == last else m
                                                   for m in result.metrics]})
    lines = render(longer).splitlines()
    assert any(line.startswith("publisher expired% ") for line in lines) and max(len(line) for line in lines) <= 80


def test_headlines_quote_the_change_for_the_weekly_review(result):
    lines = headline(result, ("handoffs.all", "resolution.approval_wait", "errors.actions", "resolution.idea_published"))
    assert lines == [
        "manual handoffs per finished item: 1.00 in Oct (↓ -14% vs the month before)",
        "approval waiting (median): 0.6h in Oct (↓ -38% vs the month before)",
        "failed actions per 100: 50.0 in Oct (↑ +50.0 vs the month before)",
    ]


async def test_the_weekly_review_quotes_the_months_change(tmp_path):
    from agent_harness import AgentWorld

    (tmp_path / "data").mkdir()
    await seed(tmp_path / "data")
    async with AgentWorld(tmp_path, only=["reflection"], now=NOW, zone=ZONE) as w:
        run = await w.run("reflection")
        [review] = await w.artifacts("weekly_review")
    assert run.outcome == "succeeded", run.error
    numbers = review.content.split("## Numbers", 1)[1]
    assert ("- this month, manual handoffs per finished item: 1.00 in Oct (↓ -14% vs the month before)\n"
            "- this month, approval waiting (median): 0.6h in Oct (↓ -38% vs the month before)\n"
            "- this month, failed actions per 100: 50.0 in Oct (↑ +50.0 vs the month before)\n") in numbers


def test_a_record_move_is_manual_only_when_a_client_made_it_directly():
    from oxymus.metrics.handoffs import is_manual

    assert is_manual("oxymus-cli") and is_manual("oxymus-tui")
    assert not is_manual("agent:intake")
    assert not is_manual("user")  # the person's record.update action: counted with that action


def test_sqlite_finds_the_same_month_as_python_at_every_bound():
    """Months.sql (SQLite's bucketing of big reads) agrees with Months.of, a millisecond either side of each
    month's first instant in the zone, and outside the window."""
    import datetime as dt

    from oxymus.metrics.buckets import Months, hours_between, hours_sql

    window = Months(NOW, ZoneInfo(ZONE), 4)
    probes = []
    for bound in window.bounds:
        at = dt.datetime.fromisoformat(bound)
        for d in (-1, 0, 1):
            when = at + dt.timedelta(milliseconds=d)
            probes.append(when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z")
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (ts TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [(p,) for p in probes])
    expr, params = window.sql("ts")
    found = dict(conn.execute(f"SELECT ts, {expr} FROM t", params).fetchall())
    assert found == {p: window.of(p) for p in probes}
    assert found[window.lo] == window.keys[0] and found[window.hi] is None
    start, end = "2026-08-31T21:00:00.000Z", "2026-09-01T22:30:15.250Z"
    hours = conn.execute(f"SELECT {hours_sql(repr(start), repr(end))}").fetchone()[0]
    assert abs(hours - hours_between(start, end)) < 1e-6
