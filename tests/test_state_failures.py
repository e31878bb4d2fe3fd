"""Every kind of source failure, end to end in one real daemon polling all four kinds of source.

In each case the daemon keeps running, the other sources stay fresh, the failing one
shows its error and age, previously known state is kept, and it recovers by itself.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DaemonProcess, pin_today, run_cli, wait_for, write_config
from github_server import serve

GIT_ENV = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> None:
    import os

    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def ics(day: dt.date, *summaries: str) -> str:
    events = []
    for i, summary in enumerate(summaries):
        events += ["BEGIN:VEVENT", f"UID:e{i}@test", "DTSTAMP:20260101T000000Z", f"SUMMARY:{summary}",
                   f"DTSTART:{day:%Y%m%d}T{10 + i:02d}0000", f"DTEND:{day:%Y%m%d}T{10 + i:02d}3000", "END:VEVENT"]
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", *events, "END:VCALENDAR", ""])


@pytest.fixture
def world(profile, home, monkeypatch):
    """Two repos, a calendar file, bills and a fake GitHub, all polled by one daemon (its day pinned to today's)."""
    day = pin_today(monkeypatch, "Europe/Berlin")
    code = home / "code"
    for name in ("app", "notes"):
        (code / name).mkdir(parents=True)
        (code / name / "README").write_text(name)
        git(code, "init", "-q", name)
        git(code / name, "add", "-A")
        git(code / name, "commit", "-q", "-m", "init")
    (code / "app" / "README").write_text("changed")
    (home / "cal.ics").write_text(ics(day, "Planning", "Review"))
    with serve() as gh:
        for title in ("Add feeds", "Fix dates", "Bump deps"):
            gh.state.add_pull("octo/blog", title, author="someone", requested_reviewers=[gh.state.me])
        assert run_cli("secret", "set", "github", input=gh.state.token + "\n").returncode == 0
        write_config(
            profile,
            f'[time]\nzone = "Europe/Berlin"\n[git]\nroots = ["{code}"]\ninterval = 3600\n'
            f'[[calendar.ics]]\npath = "{home}/cal.ics"\nname = "personal"\ninterval = 3600\n'
            f'[github]\napi_url = "{gh.url}"\ninterval = 3600\n[bills]\ninterval = 3600\n',
            bills_toml=f'[[bill]]\nname = "Rent"\namount = 900\nschedule = "once"\ndate = "{day + dt.timedelta(days=2)}"\n',
        )
        yield profile, home, gh, day


def today() -> dict:
    result = run_cli("today", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def health(t: dict) -> dict[str, dict]:
    return {s["source"]: s for s in t["sources"]}


def all_ok(t: dict) -> bool:
    return all(s["status"] == "ok" for s in t["sources"]) and len(t["sources"]) == 4


def test_a_failing_source_recovers_by_itself_while_the_others_stay_fresh(world):
    profile, home, gh, day = world
    gh.state.fail_next("bad_gateway")  # the very first GitHub request answers 502
    d = DaemonProcess(profile).start()
    try:
        t = wait_for(lambda: (lambda t: health(t)["github"]["consecutive_failures"] and t)(today()), what="GitHub to fail")
        assert health(t)["github"]["status"] == "failing" and "502 Bad Gateway" in health(t)["github"]["last_error"]
        assert health(t)["github"]["next_attempt"], "the next attempt is scheduled"
        wait_for(lambda: all(health(today())[s]["status"] == "ok" for s in ("git", "bills", "calendar.personal")),
                 what="the other sources")
        # Nobody calls refresh: the backoff retry brings it back.
        t = wait_for(lambda: (lambda t: all_ok(t) and t)(today()), timeout=30, what="GitHub to recover by itself")
        assert [p["title"] for p in t["pull_requests"]] == ["Add feeds", "Fix dates", "Bump deps"]
        assert "recovered after 1 failed attempt" in Path(profile.log_file).read_text()
    finally:
        assert d.stop() == 0


def test_known_state_is_kept_while_a_source_fails(world):
    profile, home, gh, day = world
    d = DaemonProcess(profile).start()
    try:
        wait_for(lambda: all_ok(today()), what="all four sources")
        before = today()
        # GitHub: 401; the calendar file: no longer iCalendar; a repo: deleted.
        gh.state.fail_next("unauthorized", times=100)
        (home / "cal.ics").write_text("this is not a calendar\n")
        shutil.rmtree(home / "code" / "notes")
        run_cli("refresh")
        t = today()
        h = health(t)
        assert (h["github"]["status"], h["github"]["error_class"]) == ("needs_human", "needs_human")
        assert "GitHub refused the token (401" in h["github"]["last_error"]
        assert h["calendar.personal"]["status"] == "failing" and "cal.ics" in h["calendar.personal"]["last_error"]
        assert h["bills"]["status"] == "ok" and h["git"]["status"] == "ok"
        assert t["pull_requests"] == before["pull_requests"], "GitHub's last known state is kept"
        assert [e["summary"] for e in t["events"]] == ["Planning", "Review"], "so are the calendar's events"
        assert not any("notes" in r["name"] for r in t["repos"]), "a vanished repo under a root simply drops out"
        with d.client() as c:
            assert c.call("status")["pid"] == d.proc.pid
        text = run_cli("today").stdout.decode()
        assert "needs human" in text and "failing" in text
        # Faults gone: everything comes back.
        (home / "cal.ics").write_text(ics(day, "Planning", "Review", "Retro"))
        gh.state._faults.clear()
        assert run_cli("refresh").returncode == 0
        t = today()
        assert all_ok(t) and [e["summary"] for e in t["events"]] == ["Planning", "Review", "Retro"]
    finally:
        assert d.stop() == 0


def test_an_explicit_repo_that_vanishes_is_a_problem_for_that_repo_only(world):
    profile, home, gh, day = world
    config = Path(profile.config_file).read_text().replace(f'roots = ["{home}/code"]',
                                                            f'repos = ["{home}/code/app", "{home}/code/notes"]')
    Path(profile.config_file).write_text(config)
    d = DaemonProcess(profile).start()
    try:
        wait_for(lambda: all_ok(today()), what="all four sources")
        shutil.rmtree(home / "code" / "notes")
        run_cli("refresh", "git")
        t = today()
        assert health(t)["git"]["status"] == "ok"
        (problem,) = t["problems"]
        assert problem["source"] == "git" and problem["message"].endswith("notes: no such directory")
        assert [r["name"] for r in t["repos"]] == ["notes", "app"], "the vanished one first, then the dirty one"
    finally:
        d.stop()


def test_a_sudden_empty_answer_is_held_until_a_second_poll_agrees(world):
    profile, home, gh, day = world
    d = DaemonProcess(profile).start()
    try:
        wait_for(lambda: len(today()["pull_requests"]) == 3, what="three review requests")
        for item in list(gh.state.items.values()):
            gh.state.close(item)
        run_cli("refresh", "github")
        t = today()
        assert health(t)["github"]["suspect"] and len(t["pull_requests"]) == 3
        run_cli("refresh", "github")
        t = today()
        assert health(t)["github"]["suspect"] is None and t["pull_requests"] == []
    finally:
        d.stop()
