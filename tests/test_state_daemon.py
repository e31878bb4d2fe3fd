"""Fresh state end to end: the real daemon polling real sources, through the real CLI and socket."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from conftest import DaemonProcess, pin_today, run_cli, wait_for, write_config


def bills_toml(day: dt.date, extra: str = "") -> str:
    soon = day + dt.timedelta(days=3)
    past = day - dt.timedelta(days=5)
    return (
        f'[[bill]]\nname = "Internet"\namount = 39.9\nschedule = "monthly"\nday = {soon.day}\nstart = {soon.isoformat()}\n\n'
        f'[[bill]]\nname = "Tax advisor"\namount = 480\nschedule = "once"\ndate = "{past.isoformat()}"\n' + extra
    )


@pytest.fixture
def bills_daemon(profile, monkeypatch):
    """A daemon polling bills.toml, its day pinned to today's in its zone (`.day`), so the due dates hold across midnight."""
    day = pin_today(monkeypatch, "Europe/Berlin")  # the profile's zone, not the machine's
    write_config(profile, '[time]\nzone = "Europe/Berlin"\n[bills]\nwindow_days = 14\n', bills_toml=bills_toml(day))
    d = DaemonProcess(profile).start()
    d.day = day
    yield d
    d.stop()


def today_json(*args: str) -> dict:
    result = run_cli("today", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sources_are_polled_on_start_and_today_reports_them(bills_daemon):
    wait_for(lambda: today_json()["sources"][0]["status"] == "ok", what="the first bills poll")
    t = today_json()
    assert [(b["name"], b["status"]) for b in t["bills"]] == [("Tax advisor", "overdue"), ("Internet", "upcoming")]
    (source,) = t["sources"]
    assert source["source"] == "bills" and source["age_s"] >= 0 and source["item_count"] == 2
    status = json.loads(run_cli("status", "--json").stdout)
    assert [s["source"] for s in status["sources"]] == ["bills"]
    text = run_cli("today").stdout.decode()
    assert "OVERDUE    Tax advisor  480.00 EUR" in text and "bills  ok" in text


def test_a_broken_file_keeps_the_old_state_and_recovers_when_fixed(bills_daemon):
    wait_for(lambda: today_json()["sources"][0]["status"] == "ok", what="the first bills poll")
    bills = Path(bills_daemon.paths.config_dir) / "bills.toml"
    bills.write_text(bills_toml(bills_daemon.day) + '[[bill]]\nname = "Broken\n')
    result = run_cli("refresh", "bills")
    assert result.returncode == 1 and "TOML syntax error" in result.stdout.decode()
    t = today_json()
    (source,) = t["sources"]
    assert source["status"] == "failing" and "bills.toml: TOML syntax error" in source["last_error"]
    assert len(t["bills"]) == 2, "previously known state is kept, not wiped"
    with bills_daemon.client() as c:
        assert c.call("status")["pid"] == bills_daemon.proc.pid, "the daemon keeps running"
    bills.write_text(bills_toml(bills_daemon.day, '[[bill]]\nname = "Gym"\namount = 30\nschedule = "weekly"\n'
                                f'start = {bills_daemon.day.isoformat()}\n'))
    assert run_cli("refresh").returncode == 0
    t = today_json()
    assert t["sources"][0]["status"] == "ok" and "Gym" in [b["name"] for b in t["bills"]]


def test_a_bad_entry_is_reported_and_the_others_load(bills_daemon):
    Path(bills_daemon.paths.config_dir, "bills.toml").write_text(
        bills_toml(bills_daemon.day, '[[bill]]\nname = "Phone"\namount = "lots"\nschedule = "monthly"\nday = 3\n'))
    run_cli("refresh", "bills")
    t = today_json()
    assert [b["name"] for b in t["bills"]] == ["Tax advisor", "Internet"]
    (problem,) = t["problems"]
    assert "bill 'Phone': amount: Input should be a valid number" in problem["message"]
    assert "bills.toml:" in problem["message"]


def test_state_changes_are_pushed_to_subscribers(bills_daemon):
    with bills_daemon.client() as c:
        c.call("subscribe", {"topics": ["state.*", "source.*"]})
        Path(bills_daemon.paths.config_dir, "bills.toml").write_text(bills_toml(bills_daemon.day,
            f'[[bill]]\nname = "Insurance"\namount = 120\nschedule = "once"\ndate = "{(bills_daemon.day + dt.timedelta(days=1)).isoformat()}"\n'))
        c.call("state.refresh", {"source": "bills"})
        topics = {}
        while not {"state.changed", "source.health"} <= topics.keys():
            event = c.read_event()
            topics[event["topic"]] = event["data"]
    assert topics["state.changed"]["source"] == "bills" and topics["state.changed"]["added"] >= 1
    assert topics["source.health"]["status"] == "ok"


def test_refresh_and_today_errors(bills_daemon):
    result = run_cli("refresh", "nosuch")
    assert result.returncode == 2 and "no source named 'nosuch' (sources: bills)" in result.stderr.decode()
    result = run_cli("today", "--date", "2026-13-45")
    assert result.returncode == 2
    result = run_cli("today", "--date", "2026-02-30")
    assert result.returncode == 2 and "`date` 2026-02-30 is not a real date: February 2026 has 28 days" in result.stderr.decode()
    t = today_json("--date", "2027-01-04")
    assert t["date"] == "2027-01-04" and t["zone"] == "Europe/Berlin"


def test_today_without_a_daemon_says_so(profile):
    result = run_cli("today")
    assert result.returncode == 3 and "oxymus up" in result.stderr.decode()


def test_secrets_go_to_the_keyring_not_the_profile(profile):
    result = run_cli("secret", "set", "github", input="ghp_not_a_real_token\n")
    assert result.returncode == 0 and "stored github" in result.stdout.decode()
    code = "import oxymus.sources.secrets as s; print(s.get('github'))"
    import subprocess
    import sys

    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ghp_not_a_real_token"
    for root, _dirs, files in os.walk(profile.home):
        if "xdg-data" in root:
            continue  # the throwaway test keyring itself
        for name in files:
            assert b"ghp_not_a_real_token" not in Path(root, name).read_bytes(), f"secret leaked into {name}"
    assert run_cli("secret", "delete", "github").stdout.decode().strip() == "deleted github"


def test_github_token_from_the_env_with_no_keyring_backend(profile, monkeypatch):
    """A server or container: no keyring at all, GITHUB_TOKEN in the daemon's environment."""
    from github_server import serve

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    result = run_cli("secret", "set", "github", input="ghp_unused\n")
    assert result.returncode == 1
    said = result.stderr.decode()
    assert "NoKeyringError" in said and "GITHUB_TOKEN" in said and "password_command" in said
    with serve() as gh:
        gh.state.add_pull("octo/blog", "Add feeds", author="someone", requested_reviewers=[gh.state.me])
        monkeypatch.setenv("GITHUB_TOKEN", gh.state.token)
        write_config(profile, f'[time]\nzone = "Europe/Berlin"\n[github]\napi_url = "{gh.url}"\ninterval = 3600\n')
        d = DaemonProcess(profile).start()
        try:
            t = wait_for(lambda: (lambda t: t["sources"] and t["sources"][0]["status"] != "pending" and t)(today_json()),
                         what="the first GitHub poll")
            (source,) = t["sources"]
            assert (source["source"], source["status"], source["last_error"]) == ("github", "ok", None)
            assert [p["title"] for p in t["pull_requests"]] == ["Add feeds"]
            assert gh.state.requests, "the daemon reached the loopback GitHub"
        finally:
            d.stop()
    for root, _dirs, files in os.walk(profile.home):
        for name in files:
            assert gh.state.token.encode() not in Path(root, name).read_bytes(), f"the token leaked into {name}"
