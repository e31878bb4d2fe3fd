"""Agents in the real daemon: scheduled, triggered by events, run by hand, listed, and never fatal."""

from __future__ import annotations

import json

import pytest

from conftest import DaemonProcess, run_cli, wait_for, write_config

pytestmark = pytest.mark.slow


def cli_json(*args: str):
    r = run_cli(*args, "--json")
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


def test_a_capture_triggers_triage_and_the_suggestion_reaches_the_inbox(profile, monkeypatch):
    monkeypatch.setenv("OXYMUS_AGENTS", "on")
    write_config(profile, '[time]\nzone = "Europe/Berlin"\n[llm]\nenabled = false\n'
                          "[agents.sentinel]\nenabled = false\n[agents.steward]\nenabled = false\n"
                          '[[calendar.caldav]]\nname = "personal"\nurl = "http://127.0.0.1:9/"\nusername = "me"\n')
    daemon = DaemonProcess(profile).start()
    try:
        r = run_cli("capture", "call Ana tomorrow 2pm about the workshop")
        assert r.returncode == 0
        capture_id = r.stdout.decode().strip()

        def suggested():
            inbox = cli_json("inbox")
            return next((c["suggestion"] for c in inbox if c["id"] == capture_id and c.get("suggestion")), None)

        suggestion = wait_for(suggested, 20, what="triage to suggest something")
        assert suggestion["to"] == "calendar_event" and suggestion["event"]["start"].endswith("T14:00:00+01:00")
        listed = cli_json("agents", "list")
        names = {a["name"]: a for a in listed["agents"]}
        assert set(names) == {"planner", "triage", "sentinel", "publisher", "finance", "reflection", "steward", "distribution", "intake", "research", "editor"}
        assert names["planner"]["trigger"] == "at 06:30 daily" and names["planner"]["next_run"]
        assert names["sentinel"]["enabled"] is False and names["sentinel"]["next_run"] is None
        assert listed["llm"].startswith("LLM unavailable") and not listed["broken"]
        runs = cli_json("agents", "history", "triage")
        assert runs[0]["trigger"] == "event capture.added" and runs[0]["outcome"] == "succeeded"
        assert runs[0]["llm_available"] is False
    finally:
        daemon.stop()


def test_agents_run_by_hand_and_a_failing_one_leaves_the_daemon_up(profile):
    # The publisher pointed at a repository that is not there: the run fails, visibly, and that is all.
    write_config(profile, '[llm]\nenabled = false\n[agents.publisher]\nrepo = "/nonexistent/blog"\n')
    daemon = DaemonProcess(profile).start()
    try:
        r = run_cli("agents", "run", "planner")
        assert r.returncode == 0, r.stderr.decode()
        assert b"planner" in r.stdout and b"succeeded" in r.stdout
        plan = cli_json("artifacts", "day_plan")
        assert len(plan) == 1 and plan[0]["path"].endswith(".md")
        r = run_cli("agents", "run", "publisher")
        run = cli_json("agents", "history", "publisher")[0]
        assert run["outcome"] in ("failed", "succeeded") and (run["error"] or run["summary"])
        assert cli_json("status")["running"]
        r = run_cli("agents", "run", "nobody")
        assert r.returncode == 2 and b"no agent 'nobody'" in r.stderr
        text = run_cli("agents", "list").stdout.decode()
        assert "LLM: LLM unavailable" in text and "planner: at 06:30 daily" in text
    finally:
        daemon.stop()


def test_a_run_summary_says_a_repeated_note_once_with_its_count():
    from oxymus.daemon.agents import collapsed

    said = ["email.send not proposed: no [mail] section"] * 50 + ["x@y: its lead waits for approval", "email.send not proposed: no [mail] section"]
    assert collapsed(said) == ["email.send not proposed: no [mail] section (x51)", "x@y: its lead waits for approval"]
    assert collapsed(["a", "b"]) == ["a", "b"] and collapsed([]) == []
