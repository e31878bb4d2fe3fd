"""One TOML value writer (oxymus/kernel/tomlfmt.py) for config.toml defaults, bills.add and TOML front matter."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from oxymus.agents import publisher
from oxymus.connectors.bills.add_action import _check_round_trip, render
from oxymus.connectors.bills.schedule import Bill
from oxymus.kernel import tomlfmt
from oxymus.profile import config

AWKWARD = 'line one\nline two\ttab \x01\x1f\x7f "quoted" back\\slash é'


@pytest.mark.parametrize("value", [AWKWARD, "", "plain", 0, -3, 10_000, 1.5, True, False, dt.date(2026, 2, 28),
                                   ["a", AWKWARD], [], {"a key": [1, 2], "b": AWKWARD}])
def test_values_round_trip(value):
    assert tomllib.loads(f"k = {tomlfmt.value(value)}\n")["k"] == value


def test_a_newline_and_a_control_character_stay_on_one_line_and_round_trip():
    text = tomlfmt.value(AWKWARD)
    assert "\n" not in text and "\x01" not in text and "\x7f" not in text
    assert tomllib.loads(f"k = {config._toml(AWKWARD)}")["k"] == AWKWARD


def test_large_integers_can_be_grouped():
    assert tomlfmt.value(5_000_000, group_digits=True) == "5_000_000"
    assert tomlfmt.value(5_000_000) == "5000000"
    assert tomlfmt.value(9_999, group_digits=True) == "9999"


def test_a_bill_with_a_newline_and_a_control_character_round_trips():
    bill = Bill(name="Rent\nflat 2", amount=950.0, currency="EUR", schedule="monthly", day=1, notes="call \x07 first")
    text = render(bill)
    assert text.startswith('[[bill]]\nname = "Rent\\nflat 2"\namount = 950\n')
    _check_round_trip(text, bill)
    [again] = tomllib.loads(text)["bill"]
    assert again["notes"] == "call \x07 first"


def test_toml_front_matter_escapes_what_toml_needs():
    facts = publisher.Facts(title="A \x01 title", slug="a-title", date=dt.date(2026, 10, 1), notes="", memory="",
                            goals="", tags=["x\ny"], last_post=None)
    text = publisher.front_matter("toml", facts, "Ada")
    body = text.removeprefix("+++\n").removesuffix("+++\n")
    assert tomllib.loads(body) == {"title": "A \x01 title", "date": dt.date(2026, 10, 1), "slug": "a-title",
                                   "tags": ["x\ny"], "author": "Ada", "draft": False}
