"""timeparse: time phrases in captures, computed in the person's zone, never guessed silently."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from oxymus.time.timewords import find_when, strip_spans

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 23 November 2026, 10:00 in Berlin.
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)


def at(y, mo, d, h=0, mi=0, zone=BERLIN) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=zone)


def when(text: str, now: dt.datetime = NOW, zone: ZoneInfo = BERLIN):
    found = find_when(text, now, zone)
    assert found is not None, text
    return found


@pytest.mark.parametrize("text, start, end, rest", [
    ("call Ana tomorrow 2pm", at(2026, 11, 24, 14), None, "call Ana"),
    ("dentist on friday at 10:30", at(2026, 11, 27, 10, 30), None, "dentist"),
    ("meeting 3 dec 14:00", at(2026, 12, 3, 14), None, "meeting"),
    ("meeting dec 3 at 2:30 pm", at(2026, 12, 3, 14, 30), None, "meeting"),
    ("team sync 14:00-15:30 on 2026-12-03", at(2026, 12, 3, 14), at(2026, 12, 3, 15, 30), "team sync"),
    ("workshop 2-3pm thursday", at(2026, 11, 26, 14), at(2026, 11, 26, 15), "workshop"),
    ("brunch 11-1pm on saturday", at(2026, 11, 28, 11), at(2026, 11, 28, 13), "brunch"),
    ("from 2pm to 3:30pm review on wednesday", at(2026, 11, 25, 14), at(2026, 11, 25, 15, 30), "review"),
    ("lunch for 1h30 tomorrow at 12", at(2026, 11, 24, 12), at(2026, 11, 24, 13, 30), "lunch"),
    ("yoga tomorrow 7am for 90 minutes", at(2026, 11, 24, 7), at(2026, 11, 24, 8, 30), "yoga"),
    ("coffee with Zoë tomorrow 9.30 for half an hour", at(2026, 11, 24, 9, 30), at(2026, 11, 24, 10), "coffee with Zoë"),
    ("dentist friday 10", at(2026, 11, 27, 10), None, "dentist"),
    ("lunch with Bo at noon", at(2026, 11, 23, 12), None, "lunch with Bo"),
    ("dinner tonight at 8", at(2026, 11, 23, 20), None, "dinner"),
    ("party on 3.12.2026 at 20:00", at(2026, 12, 3, 20), None, "party"),
    ("night shift 23:00-01:00 tomorrow", at(2026, 11, 24, 23), at(2026, 11, 25, 1), "night shift"),
    ("tmrw 7am run", at(2026, 11, 24, 7), None, "run"),
    ("call the bank the day after tomorrow at 9", at(2026, 11, 25, 9), None, "call the bank"),
])
def test_phrases(text, start, end, rest):
    found = when(text)
    assert found.start == start and found.start.tzinfo == BERLIN and found.has_time
    assert found.end == end
    assert not found.past and found.ambiguous is None, (found.ambiguous, found.notes)
    assert found.rest(text) == rest


def test_offsets_are_exact_and_days_are_dates():
    found = when("review the PR in 2 hours")
    assert found.start == NOW + dt.timedelta(hours=2) and found.rest("review the PR in 2 hours") == "review the PR"
    assert when("ping me in 30 min").start == at(2026, 11, 23, 10, 30)
    assert when("stretch in half an hour").start == at(2026, 11, 23, 10, 30)
    days = when("project review in 3 days")
    assert days.start == at(2026, 11, 26) and not days.has_time and days.end is None
    assert when("retro in 2 weeks at 15:00").start == at(2026, 12, 7, 15)


def test_a_time_alone_is_today_if_still_ahead_else_tomorrow_and_says_so():
    early = when("standup at 9", now=at(2026, 11, 23, 8))
    assert early.start == at(2026, 11, 23, 9) and early.notes == ()
    late = when("standup at 9")
    assert late.start == at(2026, 11, 24, 9) and late.notes == ("tomorrow: 09:00 today has passed",)


def test_weekdays_and_next_weekday():
    # On a Monday the coming Tuesday is tomorrow; "next tuesday" is next week's, and that is flagged.
    nxt = when("lunch with Bo next tuesday 12:30 for 1h")
    assert nxt.start == at(2026, 12, 1, 12, 30) and nxt.end == at(2026, 12, 1, 13, 30)
    assert "next Tuesday" in nxt.ambiguous and "Tue 24 Nov" in nxt.ambiguous
    assert nxt.rest("lunch with Bo next tuesday 12:30 for 1h") == "lunch with Bo"
    # On a Thursday both readings are the same Tuesday: nothing to flag.
    thursday = at(2026, 11, 26, 10)
    same = when("lunch next tuesday 12:30", now=thursday)
    assert same.start == at(2026, 12, 1, 12, 30) and same.ambiguous is None
    # A weekday said on that weekday is a week away; "this friday" on a Friday is today.
    friday = at(2026, 11, 27, 8)
    assert when("dentist friday at 10", now=friday).start == at(2026, 12, 4, 10)
    assert when("dentist this friday at 10", now=friday).start == at(2026, 11, 27, 10)
    # Short names are words too: only with on/next/this or a time after them.
    assert find_when("sat with Ana for a while", NOW, BERLIN) is None
    assert when("tennis on sat 10").start == at(2026, 11, 28, 10)


def test_numeric_dates_are_day_first_and_flagged_when_either_reading_works():
    found = when("party 3/12 at 8pm")
    assert found.start == at(2026, 12, 3, 20)
    assert found.ambiguous == "3/12 is read day first as Thu 3 Dec, not Thu 12 Mar"
    only_month_first = when("flight 12/25 7am")
    assert only_month_first.start == at(2026, 12, 25, 7) and only_month_first.ambiguous is None
    assert "read month first" in only_month_first.notes[0]
    assert when("call on 5/5 at 10:00").ambiguous is None  # both readings agree


def test_bare_hours_one_to_seven_are_afternoon_and_flagged():
    found = when("call mom at 3")
    assert found.start == at(2026, 11, 23, 15) and "read as 15:00, not 03:00" in found.ambiguous
    assert when("call mom at 3am tomorrow").ambiguous is None
    assert when("gym tomorrow morning at 7").start == at(2026, 11, 24, 7)


def test_past_times_are_reported_not_moved():
    today = when("standup today 9:00")
    assert today.past and today.start == at(2026, 11, 23, 9)
    recent = when("meeting 20 nov 10:00")  # three days ago: past, not next year
    assert recent.past and recent.start == at(2026, 11, 20, 10)
    old = when("meeting 3 jan 10:00")  # more than 30 days ago: next January, noted
    assert not old.past and old.start == at(2027, 1, 3, 10) and old.notes == ("no year given: 2027",)
    explicit = when("retro on 2025-06-01 at 10:00")
    assert explicit.past


def test_a_day_without_a_time():
    found = when("renew the passport by friday")
    assert not found.has_time and found.start == at(2026, 11, 27) and found.describe() == "Fri 27 Nov"
    morning = when("tomorrow morning gym")
    assert not morning.has_time and morning.notes == ("“morning” gives no time of day",)


@pytest.mark.parametrize("text", [
    "buy 2 apples", "pay rent 950 EUR monthly on the 1st", "read chapter 2 of the book", "ping Zoë about 10 PRs",
    "book a table for 4 people", "10-12 people are coming", "the 3 musketeers", "version 2.10 is out", "", "   ",
])
def test_no_time_phrase(text):
    assert find_when(text, NOW, BERLIN) is None


def test_dst_spring_forward_in_berlin():
    saturday = at(2026, 3, 28, 10)  # clocks go forward on Sunday 29 March 2026, 02:00 -> 03:00
    nine = when("call Ana tomorrow 9:00", now=saturday)
    assert nine.start.isoformat() == "2026-03-29T09:00:00+02:00"  # wall clock kept, offset changes
    day = when("in 24 hours", now=saturday)
    assert day.start.isoformat() == "2026-03-29T11:00:00+02:00"  # exact: 24 h later is 11:00 on the new offset
    gap = when("night train tomorrow 2:30", now=saturday)
    assert gap.start.isoformat() == "2026-03-29T03:30:00+02:00" and "does not exist" in gap.ambiguous
    hour = when("call tomorrow 1:30 for 1h", now=saturday)
    assert hour.duration == dt.timedelta(hours=1) and hour.end.isoformat() == "2026-03-29T03:30:00+02:00"


def test_dst_fall_back_in_berlin():
    saturday = at(2026, 10, 24, 10)  # clocks go back on Sunday 25 October 2026, 03:00 -> 02:00
    twice = when("backup tomorrow 2:30am", now=saturday)
    assert twice.start.isoformat() == "2026-10-25T02:30:00+02:00" and "happens twice" in twice.ambiguous
    week = when("standup monday 9:00", now=saturday)
    assert week.start.isoformat() == "2026-10-26T09:00:00+01:00"
    long = when("conference tomorrow 00:30 for 3 hours", now=saturday)
    assert long.end.isoformat() == "2026-10-25T02:30:00+01:00"  # three real hours, across the repeated hour
    assert long.duration == dt.timedelta(hours=3)


def test_other_zones():
    now = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.timezone.utc)  # already the 24th in Berlin, still the 23rd in New York
    berlin = when("call tomorrow 9am", now=now, zone=BERLIN)
    york = when("call tomorrow 9am", now=now, zone=NEW_YORK)
    assert berlin.start == at(2026, 11, 25, 9) and york.start == at(2026, 11, 24, 9, zone=NEW_YORK)
    assert york.start.utcoffset() == dt.timedelta(hours=-5)


def test_spans_match_the_original_text_even_with_unusual_letters():
    text = "İstanbul call tomorrow 2pm"
    found = when(text)
    assert found.rest(text) == "İstanbul call" and text[found.span[0]:found.span[1]] == "tomorrow 2pm"
    assert strip_spans("lunch at  noon, with Bo", [(9, 14)]) == "lunch, with Bo"


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        find_when("tomorrow", dt.datetime(2026, 1, 1), BERLIN)
