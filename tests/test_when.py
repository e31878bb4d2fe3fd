"""Times and durations as a person types them (oxymus.time.when)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from oxymus.time.when import FORMS, WhenError, format_duration, parse_duration, parse_when

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
# Saturday 2026-03-28, 12:00 in Berlin (CET, +1); the clocks go forward the next night.
NOW = dt.datetime(2026, 3, 28, 11, 0, tzinfo=UTC)


def when(text: str, now: dt.datetime = NOW, zone: ZoneInfo = BERLIN) -> dt.datetime:
    return parse_when(text, now, zone)


def local(moment: dt.datetime, zone: ZoneInfo = BERLIN) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


# --- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [
    ("10s", 10), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1w", 7 * 86400),
    ("1h30m", 5400), ("1h 30m", 5400), (" 2H ", 7200), ("1.5h", 5400), ("1d2h3m4s", 93784), ("0s", 0),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "h", "ten minutes", "-5m", "5 minutes", "1h30", "2y", "1h-30m", "1e3s"])
def test_parse_duration_refuses_garbage_with_examples(text):
    with pytest.raises(WhenError, match=r"not a duration: .* \(use e\.g\. 10s, 30m, 2h, 1h30m, 1d\)"):
        parse_duration(text)


@pytest.mark.parametrize("seconds, text", [(10, "10s"), (90, "90s"), (1800, "30m"), (7200, "2h"), (86400, "1d"), (5400, "90m"), (0, "0s")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


# --- parse_when ---------------------------------------------------------------------------


def test_durations_count_from_now():
    assert when("2h") == NOW + dt.timedelta(hours=2)
    assert when("1h30m") == NOW + dt.timedelta(minutes=90)
    assert when("90s") == NOW + dt.timedelta(seconds=90)


def test_results_are_aware_utc():
    for text in ("2h", "tomorrow", "14:00", "monday 9:00", "2026-04-01 10:00"):
        moment = when(text)
        assert moment.tzinfo is not None and moment.utcoffset() == dt.timedelta(0), text


@pytest.mark.parametrize("text, expected", [
    ("today 18:00", "2026-03-28 18:00 CET"),
    ("today 6pm", "2026-03-28 18:00 CET"),
    ("tomorrow", "2026-03-29 09:00 CEST"),  # the morning, after the clocks went forward
    ("tomorrow 9:00", "2026-03-29 09:00 CEST"),
    ("Tomorrow 9am", "2026-03-29 09:00 CEST"),
    ("tomorrow 12am", "2026-03-29 00:00 CET"),
    ("tomorrow 12pm", "2026-03-29 12:00 CEST"),
    ("tomorrow 12:30pm", "2026-03-29 12:30 CEST"),
    ("monday", "2026-03-30 09:00 CEST"),
    ("mon 14:30", "2026-03-30 14:30 CEST"),
    ("friday 7am", "2026-04-03 07:00 CEST"),
    ("saturday", "2026-04-04 09:00 CEST"),  # today's weekday means next week
    ("sun", "2026-03-29 09:00 CEST"),
    ("13:00", "2026-03-28 13:00 CET"),     # later today
    ("11:00", "2026-03-29 11:00 CEST"),    # already past today: tomorrow
    ("9pm", "2026-03-28 21:00 CET"),
])
def test_days_and_clock_times_in_the_local_zone(text, expected):
    assert local(when(text)) == expected


@pytest.mark.parametrize("text, expected", [
    ("2026-04-01", "2026-04-01 09:00 CEST"),            # a date alone: the morning, local
    ("2026-04-01 10:00", "2026-04-01 10:00 CEST"),      # no zone: local
    ("2026-04-01T10:00", "2026-04-01 10:00 CEST"),
    ("2026-04-01T10:00Z", "2026-04-01 12:00 CEST"),     # with a zone: that zone
    ("2026-04-01T10:00:00+05:00", "2026-04-01 07:00 CEST"),
    ("2026-03-28 12:30", "2026-03-28 12:30 CET"),
])
def test_iso_with_and_without_zone(text, expected):
    assert local(when(text)) == expected


@pytest.mark.parametrize("text", ["today 11:00", "today", "2026-03-28 11:59", "2026-03-27", "2026-03-28T11:00:00Z", "0s"])
def test_past_times_are_rejected(text):
    with pytest.raises(WhenError, match=r"is in the past"):
        when(text)


def test_now_itself_is_not_the_future():
    with pytest.raises(WhenError, match="in the past"):
        when("2026-03-28T11:00:00+00:00")


@pytest.mark.parametrize("text", ["", "soon", "next week", "in 2 hours", "2026-13-01", "2026-02-30 10:00", "yesterday", "tues"])
def test_garbage_is_rejected_with_the_list_of_forms(text):
    with pytest.raises(WhenError) as info:
        when(text)
    assert str(info.value) == f"not a time: {text!r} (use e.g. {FORMS})"


@pytest.mark.parametrize("text", ["tomorrow at 9", "monday 25:00", "today 9:75", "tomorrow 13pm", "tomorrow 0am", "13pm", "tomorrow noon"])
def test_bad_clock_after_a_day_is_named(text):
    with pytest.raises(WhenError, match=r"not a time"):
        when(text)


def test_the_hour_with_am_pm_is_1_to_12():
    with pytest.raises(WhenError, match=r"with am/pm the hour is 1 to 12"):
        when("tomorrow 13pm")
    assert local(when("tomorrow 1am")) == "2026-03-29 01:00 CET"


def test_a_time_in_the_spring_gap_lands_after_it():
    # 02:30 does not exist in Berlin on 2026-03-29: it becomes 03:30 summer time, never 01:30.
    moment = when("tomorrow 2:30")
    assert moment == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local(moment) == "2026-03-29 03:30 CEST"
    assert when("2026-03-29 02:30") == moment


def test_a_time_in_the_autumn_overlap_is_the_first_one():
    now = dt.datetime(2026, 10, 24, 11, 0, tzinfo=UTC)
    moment = when("tomorrow 2:30", now)
    assert moment == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC) and local(moment) == "2026-10-25 02:30 CEST"
    # 9:00 on the day of the change is winter time (+1), the day before summer time (+2)
    assert when("tomorrow 9:00", now) == dt.datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    assert when("today 19:00", now) == dt.datetime(2026, 10, 24, 17, 0, tzinfo=UTC)
    assert when("monday 9:00", now) - when("sunday 9:00", now) == dt.timedelta(hours=24)


def test_other_zones():
    tokyo = ZoneInfo("Asia/Tokyo")
    assert local(parse_when("tomorrow 8:00", NOW, tokyo), tokyo) == "2026-03-29 08:00 JST"  # 20:00 there now
    la = ZoneInfo("America/Los_Angeles")
    assert local(parse_when("today 18:00", NOW, la), la) == "2026-03-28 18:00 PDT"  # 04:00 there now
