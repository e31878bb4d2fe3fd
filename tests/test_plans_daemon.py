"""PLANS.md through the real daemon: read, watched, patched minimally, never overwritten blindly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DaemonProcess, run_cli, wait_for, write_config

PLANS = (
    "# Plans\r\n\r\n## Goals\r\n- Ship the workshop\r\n\r\n## Next actions\r\n"
    "- [ ] Outline the workshop\r\n- [ ] Café with Zoë ☕\r\n\r\n"
    "## Publishing order\r\n1. [draft] The eight layers — eight-layers\r\n2. [someday] Ideas\r\n"
)


@pytest.fixture
def plans_daemon(profile, home):
    plans_file = home / "notes" / "PLANS.md"
    plans_file.parent.mkdir()
    plans_file.write_bytes(PLANS.encode())
    write_config(profile, '[plans]\nfile = "../notes/PLANS.md"\n')
    d = DaemonProcess(profile).start()
    yield d, plans_file
    d.stop()


def plans_json() -> dict:
    result = run_cli("plans", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_plans_are_parsed_and_unparsed_parts_reported(plans_daemon):
    d, plans_file = plans_daemon
    result = plans_json()
    assert result["path"] == str(plans_file.resolve()) or result["path"].endswith("notes/PLANS.md")
    doc = result["document"]
    assert [g["text"] for g in doc["goals"]] == ["Ship the workshop"]
    assert [a["text"] for a in doc["actions"]] == ["Outline the workshop", "Café with Zoë ☕"]
    assert [(p["title"], p["status"]) for p in doc["proposals"]] == [("The eight layers", "draft")]
    assert [u["text"].strip() for u in doc["unparsed"]] == ["2. [someday] Ideas"]
    assert "unknown status 'someday'" in doc["unparsed"][0]["reason"]
    text = run_cli("plans").stdout.decode()
    assert "[ ] Café with Zoë ☕" in text and "Not understood (kept as written)" in text


def test_checking_an_action_changes_only_its_line(plans_daemon):
    d, plans_file = plans_daemon
    action = plans_json()["document"]["actions"][1]
    result = run_cli("plans", "done", action["id"])
    assert result.returncode == 0, result.stderr
    assert "+- [x] Café with Zoë ☕ (done " in result.stdout.decode()
    after = plans_file.read_bytes()
    before_lines, after_lines = PLANS.encode().split(b"\r\n"), after.split(b"\r\n")
    changed = [i for i, (a, b) in enumerate(zip(before_lines, after_lines)) if a != b]
    assert changed == [7] and len(before_lines) == len(after_lines), "one line changed; CRLF kept"
    audit = d.paths.db_file
    import sqlite3

    verbs = sqlite3.connect(audit).execute("SELECT verb, details FROM audit_log WHERE verb = 'plans.edited'").fetchall()
    assert len(verbs) == 1 and '"op": "set_done"' in verbs[0][1]


def test_an_edit_against_a_stale_read_is_refused(plans_daemon):
    d, plans_file = plans_daemon
    seen = plans_json()["document"]
    # The person edits the file in their editor meanwhile.
    plans_file.write_bytes(PLANS.replace("Outline the workshop", "Outline the workshop v2").encode())
    with d.client() as c:
        from oxymus.client.wire import RpcError

        with pytest.raises(RpcError, match="changed on disk since it was read"):
            c.call("plans.edit", {"op": "set_done", "action_id": seen["actions"][1]["id"], "expected_sha256": seen["sha256"]})
    assert b"Outline the workshop v2" in plans_file.read_bytes() and b"[x]" not in plans_file.read_bytes()


def test_changes_on_disk_are_picked_up_and_pushed(plans_daemon):
    d, plans_file = plans_daemon
    with d.client() as c:
        c.call("subscribe", {"topics": ["plans.*"]})
        plans_file.write_bytes(PLANS.replace("- [ ] Outline", "- [x] Outline").encode())
        event = c.read_event()
    assert event["topic"] == "plans.changed" and event["data"]["error"] is None
    assert plans_json()["document"]["actions"][0]["done"] is True


def test_an_unreadable_file_keeps_the_last_good_plan(plans_daemon):
    d, plans_file = plans_daemon
    plans_file.write_bytes(PLANS.encode() + b"- [ ] caf\xe9\r\n")
    result = wait_for(lambda: (lambda r: r["error"] and r)(plans_json()), what="the error to be noticed")
    assert "not valid UTF-8" in result["error"] or "UTF-8" in result["error"]
    assert [a["text"] for a in result["document"]["actions"]] == ["Outline the workshop", "Café with Zoë ☕"]
    result = run_cli("plans", "add", "anything")
    assert result.returncode == 2 and plans_file.read_bytes().endswith(b"caf\xe9\r\n"), "nothing written over it"


def test_a_capture_becomes_a_next_action(plans_daemon):
    d, plans_file = plans_daemon
    capture_id = run_cli("capture", "call Ana about the outline").stdout.decode().strip()
    with d.client() as c:
        result = c.call("inbox.triage", {"capture_id": capture_id, "to": "plan_action"})
        assert result["to"] == "plan_action"
        links = c.call("inbox.list", {"status": "triaged"})["links"][capture_id]
    assert "- [ ] Café with Zoë ☕\r\n- [ ] call Ana about the outline\r\n".encode() in plans_file.read_bytes()
    action = next(a for a in plans_json()["document"]["actions"] if a["text"] == "call Ana about the outline")
    assert links[0]["target_kind"] == "plan_action" and links[0]["target_id"] == action["id"]


def test_adding_creates_the_file_when_there_is_none(profile):
    d = DaemonProcess(profile).start()
    try:
        assert "does not exist yet" in run_cli("plans").stdout.decode()
        assert run_cli("plans", "add", "first", "thing").returncode == 0
        assert Path(profile.data_dir, "PLANS.md").read_text() == "## Next actions\n\n- [ ] first thing\n"
    finally:
        d.stop()


def test_a_plans_file_over_the_size_limit_is_refused_by_name_and_size(profile, home):
    plans_file = home / "PLANS.md"
    plans_file.write_bytes(PLANS.encode())
    write_config(profile, '[plans]\nfile = "../PLANS.md"\nmax_bytes = 4096\n')
    d = DaemonProcess(profile).start()
    try:
        assert [a["text"] for a in plans_json()["document"]["actions"]] == ["Outline the workshop", "Café with Zoë ☕"]
        big = PLANS + "".join(f"- [ ] task {i}\r\n" for i in range(400))
        plans_file.write_bytes(big.encode())
        result = wait_for(lambda: (lambda r: r["error"] and r)(plans_json()), what="the size error")
        assert Path(result["path"]).resolve() == plans_file.resolve()
        assert result["error"] == (
            f"{result['path']}: is {len(big.encode()):,} bytes, over the limit of 4,096 bytes for a plans file "
            "([plans] max_bytes): Oxymus does not read it; move old parts to another file or raise the limit"
        )
        assert len(result["document"]["actions"]) == 2, "the last good read is kept"
        result = run_cli("plans", "add", "anything")
        assert result.returncode == 2 and plans_file.read_bytes() == big.encode(), "nothing written over it"
        with d.client() as c:
            assert c.call("status")["pid"] == d.proc.pid
    finally:
        d.stop()
