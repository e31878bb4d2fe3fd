"""OXYMUS_NOW: the daemon's clock pinned for tests and screenshots; a bad value is refused in words."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import run_cli

from oxymus.time import clock


def test_a_pinned_clock_starts_at_the_instant_and_runs_on():
    now = clock.pinned("2026-11-21T10:27:00+01:00")
    first, second = now(), now()
    assert first >= dt.datetime(2026, 11, 21, 9, 27, tzinfo=dt.timezone.utc) and first.tzinfo is not None
    assert dt.timedelta(0) <= second - first < dt.timedelta(seconds=5)
    assert clock.pinned(None) is None and clock.pinned("") is None


@pytest.mark.parametrize("value, words", [("tomorrow", "is not an ISO time"), ("2026-11-21T09:27:00", "has no zone")])
def test_a_bad_value_is_refused_naming_the_variable(value, words):
    with pytest.raises(ValueError, match=f"OXYMUS_NOW={value!r} {words}"):
        clock.pinned(value)


def test_the_daemon_refuses_to_start_with_a_bad_value(home):
    import os

    result = run_cli("daemon", env={**os.environ, "OXYMUS_NOW": "tomorrow"})
    assert result.returncode == 2
    assert "OXYMUS_NOW='tomorrow' is not an ISO time" in result.stderr.decode()
