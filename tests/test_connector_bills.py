"""The bills source on real files: schedules, bad entries naming bill, field and line, bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oxymus.connectors.bills import BillsConfig
from oxymus.connectors.bills.schedule import Bill
from oxymus.connectors.bills.source import BillsSource, parse
from oxymus.sources.contract import PollContext, SourceUnavailable

BERLIN = ZoneInfo("Europe/Berlin")


def bill(**kw) -> Bill:
    return Bill.model_validate({"name": "x", "amount": 1, **kw})


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def test_monthly_clamps_to_the_end_of_short_months():
    b = bill(schedule="monthly", day=31)
    assert b.due_dates(d("2027-01-15"), d("2027-04-30")) == [d("2027-01-31"), d("2027-02-28"), d("2027-03-31"), d("2027-04-30")]


def test_every_three_months_from_an_anchor():
    b = bill(schedule="monthly", every=3, start="2026-01-15")
    assert b.due_dates(d("2026-01-01"), d("2026-12-31")) == [d("2026-01-15"), d("2026-04-15"), d("2026-07-15"), d("2026-10-15")]
    assert b.due_dates(d("2025-01-01"), d("2025-12-31")) == [], "nothing before the anchor"


def test_yearly_on_feb_29_falls_on_feb_28_in_common_years():
    b = bill(schedule="yearly", date="02-29")
    assert b.due_dates(d("2027-01-01"), d("2028-12-31")) == [d("2027-02-28"), d("2028-02-29")]


def test_every_two_weeks_and_once():
    b = bill(schedule="weekly", every=2, start="2026-11-02")
    assert b.due_dates(d("2026-11-10"), d("2026-12-10")) == [d("2026-11-16"), d("2026-11-30")]
    assert b.last_due_before(d("2026-11-10"), 62) == d("2026-11-02")
    once = bill(schedule="once", date="2026-03-01")
    assert once.last_due_before(d("2026-11-21"), 62) == d("2026-03-01"), "a one-off bill stays owed at any age"


def test_bad_entries_name_the_bill_field_and_line_and_the_rest_loads():
    text = (
        '[[bill]]\nname = "Rent"\namount = 950\nschedule = "monthly"\nday = 1\n\n'
        '[[bill]]\nname = "Domain"\namount = "twelve"\nschedule = "yearly"\ndate = "12-10"\n\n'
        '[[bill]]\nname = "Gym"\namount = 30\nschedule = "fortnightly"\n\n'
        '[[bill]]\nname = "Tax"\namount = 100\nschedule = "yearly"\ndate = "13-40"\n'
    )
    bills, problems = parse(text, "bills.toml")
    assert [b.name for b in bills] == ["Rent"]
    messages = [m for _, m in problems]
    assert messages[0] == "bills.toml:9: bill 'Domain': amount: Input should be a valid number, unable to parse string as a number"
    assert messages[1].startswith("bills.toml:16: bill 'Gym': schedule: Input should be")
    assert messages[2].startswith("bills.toml:18: bill 'Tax': ") and "13-40 is not a day of the year" in messages[2]


def test_dates_that_do_not_exist_say_why():
    text = (
        '[[bill]]\nname = "Tax"\namount = 100\nschedule = "once"\ndate = "2026-02-30"\n\n'
        '[[bill]]\nname = "Gym"\namount = 30\nschedule = "weekly"\nstart = "2026-04-31"\n\n'
        '[[bill]]\nname = "Club"\namount = 30\nschedule = "yearly"\ndate = "02-30"\n\n'
        '[[bill]]\nname = "Fee"\namount = 5\nschedule = "once"\ndate = "2026-13-01"\n\n'
        '[[bill]]\nname = "Leap"\namount = 5\nschedule = "once"\ndate = "2028-02-29"\n'
    )
    bills, problems = parse(text, "bills.toml")
    assert [b.name for b in bills] == ["Leap"]
    assert [m for _, m in problems] == [
        "bills.toml:1: bill 'Tax': `date` 2026-02-30 is not a real date: February 2026 has 28 days",
        "bills.toml:11: bill 'Gym': start: 2026-04-31 is not a real date: April 2026 has 30 days",
        "bills.toml:13: bill 'Club': `date` 02-30 is not a day of the year: February has at most 29 days",
        "bills.toml:19: bill 'Fee': `date` 2026-13-01 is not a real date: there is no month 13",
    ]


def ctx(tmp_path: Path, today="2026-11-21") -> PollContext:
    now = dt.datetime.fromisoformat(today + "T12:00:00+00:00")
    return PollContext(zone=BERLIN, config_dir=tmp_path, now=lambda: now)


async def test_poll_reports_current_and_upcoming_due_dates(tmp_path):
    (tmp_path / "bills.toml").write_text(
        '[[bill]]\nname = "Rent"\namount = 950\nschedule = "monthly"\nday = 1\nurl = "https://bank.example"\n'
        '[[bill]]\nname = "Broken"\namount = -1\nschedule = "once"\ndate = "2026-12-01"\n'
    )
    result = await BillsSource(BillsConfig(window_days=14)).poll(ctx(tmp_path))
    due = [i for i in result.items if i.kind == "bills.due"]
    assert [i.key for i in due] == ["rent@2026-11-01", "rent@2026-12-01"]
    assert due[1].starts_at == "2026-11-30T23:00:00.000Z", "local midnight in the user's zone"
    assert due[1].data["url"] == "https://bank.example"
    (error,) = [i for i in result.items if i.kind == "bills.error"]
    assert "bill 'Broken': amount: Input should be greater than or equal to 0" in error.error
    assert result.warnings == [error.error]


@pytest.mark.parametrize("content, message", [
    (b'[[bill]]\nname = "Rent\n', "bills.toml: TOML syntax error: "),
    (b'[[bill]]\nname = "Caf\xe9"\n', "bills.toml:2: not valid UTF-8"),
    (None, "bills.toml: no such file"),
])
async def test_unusable_files_fail_the_poll_with_a_clear_message(tmp_path, content, message):
    if content is not None:
        (tmp_path / "bills.toml").write_bytes(content)
    with pytest.raises(SourceUnavailable) as info:
        await BillsSource(BillsConfig()).poll(ctx(tmp_path))
    assert message in str(info.value) and str(tmp_path) in str(info.value)


def test_unknown_tables_and_duplicate_keys_are_reported():
    bills, problems = parse(
        '[bills]\nx = 1\n[[bill]]\nname = "A"\namount = 1\nschedule = "once"\ndate = "2026-01-01"\n'
        '[[bill]]\nname = "a"\namount = 2\nschedule = "once"\ndate = "2026-02-01"\n'
    )
    assert [b.name for b in bills] == ["A"]
    assert "unknown table or key 'bills'" in problems[0][1]
    assert "another bill has the key 'a'" in problems[1][1]
