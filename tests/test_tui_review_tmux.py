"""The morning review in a real terminal: `python -m oxymus review morning` inside tmux on a demo profile
(the demo's captures, calendar, bills, repos and PLANS.md, and its agents run once), driven by keystrokes.

Nothing sleeps to wait for state: the pane is polled with a deadline (the harness in test_tui_tmux.py).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from conftest import pin_today, run_cli
from oxymus import demo
from test_tui_tmux import tmux  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow

STEPS = ("Yesterday", "Calendar", "Inbox", "Approvals", "Top three")


@pytest.fixture
def day(home, monkeypatch) -> dt.date:
    """Today in the machine's zone (the demo's), the day every daemon of the test is pinned to, across midnight too."""
    return pin_today(monkeypatch)


@pytest.fixture
def demo_profile(profile, day):
    """The demo's sample life, with its daemon up and its agents run once (as `oxymus demo` does)."""
    demo.seed(profile)
    demo.seed_sources(profile)
    proc = run_cli("up")
    assert proc.returncode == 0, proc.stderr
    demo.run_agents(profile)
    return profile


def review_status() -> dict:
    proc = run_cli("review", "status", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_whole_review_in_tmux_writes_the_day_plan(tmux, demo_profile, home, day):  # noqa: F811
    tmux.start([sys.executable, "-m", "oxymus", "review", "morning"], {"OXYMUS_HOME": str(home)}, width=80, height=24)
    keys = 0
    for step in STEPS:
        tmux.wait_for(lambda s, step=step: f"[{step}]" in s, 60 if step == "Yesterday" else 15, f"the {step} step")
        tmux.keys("Enter")
        keys += 1
    screen = tmux.wait_for(lambda s: "[Done]" in s and "Review done" in s, 20, "the review done")
    assert "Top three" in screen and "1. " in screen
    today = day.isoformat()
    plan = Path(demo_profile.data_dir, "artifacts", "planner", f"{today}.md").read_text()
    assert "## Top three" in plan and "1. **" in plan
    st = review_status()
    assert (st["status"], st["date"], st["days_since_last"]) == ("done", today, 0)
    assert keys == 5  # Enter once per step; one more closes it
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "1 Today" in s, what="back on Today")
    tmux.keys("q")
    tmux.wait_gone()


def test_a_review_quit_mid_way_resumes_at_the_same_step(tmux, demo_profile, home):  # noqa: F811
    tmux.start([sys.executable, "-m", "oxymus", "review", "morning"], {"OXYMUS_HOME": str(home)}, width=80, height=24)
    tmux.wait_for(lambda s: "[Yesterday]" in s, 60, "the review")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "[Calendar]" in s, what="the Calendar step")
    tmux.keys("n")
    tmux.wait_for(lambda s: "[Inbox]" in s, what="the Inbox step")
    tmux.keys("q")  # leaves the review
    tmux.wait_for(lambda s: "1 Today" in s, what="back on Today")
    tmux.keys("q")  # and the TUI
    tmux.wait_gone()
    assert (review_status()["status"], review_status()["step"]) == ("open", "inbox")
    proc = run_cli("review", "status")
    assert "stopped at Inbox" in proc.stdout.decode()

    tmux.start([sys.executable, "-m", "oxymus", "review", "morning"], {"OXYMUS_HOME": str(home)}, width=80, height=24)
    screen = tmux.wait_for(lambda s: "[Inbox]" in s, 30, "the review resumed at Inbox")
    assert "resumed at Inbox" in screen and "✓Yesterday" in screen
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "1 Today" in s, what="back on Today")
    tmux.keys("q")
    tmux.wait_gone()


def test_a_whole_weekly_review_in_tmux_records_an_answer_and_the_week(tmux, demo_profile, home):  # noqa: F811
    """`python -m oxymus review weekly` on the demo: read the week, answer one question as a decision, finish."""
    tmux.start([sys.executable, "-m", "oxymus", "review", "weekly"], {"OXYMUS_HOME": str(home)}, width=80, height=24)
    screen = tmux.wait_for(lambda s: "[The week]" in s and "Numbers" in s, 60, "the week step")
    assert "No review of the week" not in screen and "Slipped" in screen  # the reflection's review of the week
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "[Questions]" in s and "Is this still the right plan?" in s, 15, "the questions")
    tmux.keys("e")
    tmux.wait_for(lambda s: "Escape cancels" in s, what="the answer input")
    tmux.keys("Keep the plan", literal=True)
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "1 answered" in s, what="the answer kept")
    tmux.keys("t")
    tmux.wait_for(lambda s: "decision: Keep the plan" in s, what="made a decision")
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "[Proposals]" in s, what="the proposals step")
    tmux.keys("Enter")
    screen = tmux.wait_for(lambda s: "[Done]" in s and "Weekly review done" in s, 20, "the weekly review done")
    assert "decision: “Is this still the right plan?” → Keep the plan" in screen
    weekly = review_status()["weekly"]
    assert weekly["status"] == "done" and weekly["step"] is None
    tmux.keys("Enter")
    tmux.wait_for(lambda s: "1 Today" in s, what="back on Today")
    tmux.keys("q")
    tmux.wait_gone()


def test_review_weekly_starts_the_daemon_when_none_runs(tmux, profile, home, day):  # noqa: F811
    """The start path: no daemon yet; `oxymus review weekly` starts one and opens the week's review."""
    from conftest import write_config
    from test_review_daemon import CONFIG, PLANS
    from test_weekly_review_daemon import seed_week, the_week

    write_config(profile, CONFIG)
    Path(profile.config_dir, "PLANS.md").write_text(PLANS)
    seed_week(profile)
    assert run_cli("review", "status").returncode == 3  # no daemon
    tmux.start([sys.executable, "-m", "oxymus", "review", "weekly"], {"OXYMUS_HOME": str(home)}, width=80, height=24)
    screen = tmux.wait_for(lambda s: "[The week]" in s and "Write the workshop outline" in s, 60,
                           "the week step, once the daemon is up")
    assert f"Weekly review · {the_week().key}" in screen and "Waiting for the daemon" not in screen
    assert review_status()["weekly"] == {"week": the_week().key, "status": "open", "step": "week", "finished_at": None}
    tmux.keys("q")
    tmux.wait_for(lambda s: "1 Today" in s, what="back on Today")
    tmux.keys("q")
    tmux.wait_gone()
