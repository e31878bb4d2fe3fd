"""The editor agent through a real daemon, on real draft files.

A clean draft: `record.update` to edited, once per draft bytes. A draft with safe fixes: one
flow (file.patch, then the move to edited); approved, the file is patched in place (mode
kept) and the post is edited; `oxymus undo` on the patch puts the exact bytes back. A patch
whose file changed after the proposal is refused as a conflict; a denied one is not proposed
again for the same bytes. A stub (the publisher's no-LLM outline) is refused. With an LLM
(the loopback fake Ollama), its suggestions are listed in the report and nothing else changes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest
from conftest import DaemonProcess, run_cli, start_daemon, wait_for
from ollama_server import ollama_server  # noqa: F401
from test_editor_checks import clean_text

from oxymus.actions.effects import Permanent
from oxymus.agents.publisher_draft import Facts, Note, front_matter, template_body
from oxymus.daemon.local_effects import _regular_bytes

pytestmark = pytest.mark.slow

CONFIG = '[time]\nzone = "UTC"\n\n[agents.editor]\nmin_words = 100\nstyle = { "utilize" = "use" }\n'
POLICY = '[settings]\nundo_grace = "0s"\n'


def editor_daemon(profile, extra: str = "") -> DaemonProcess:
    return start_daemon(profile, CONFIG + extra, POLICY)


def draft(tmp_path: Path, text: str, name: str = "2026-12-01-static-sites.md") -> Path:
    path = tmp_path / "blog" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    (path.parent / "chart.png").write_bytes(b"\x89PNG")
    return path


def add_post(path: Path | None, title: str = "Static sites") -> str:
    args = ["records", "add", "post", title, "--status", "draft", "--json"]
    if path is not None:
        args += ["--set", f"path={path}"]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)["id"]


def run_editor() -> dict:
    r = run_cli("agents", "run", "editor", "--json", timeout=120)
    return json.loads(r.stdout)


def actions(d: DaemonProcess) -> list[dict]:
    with d.client() as conn:
        return conn.call("actions.list", {"limit": 200})["actions"]


def editor_actions(d: DaemonProcess) -> list[dict]:
    return [a for a in actions(d) if a["proposer"]["name"] == "editor" and a.get("flow_id") is None]


def action(d: DaemonProcess, action_id: str) -> dict:
    return next(a for a in actions(d) if a["id"] == action_id)


def record(record_id: str) -> dict:
    r = run_cli("records", "show", record_id, "--json")
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


def status_of(record_id: str) -> str:
    data = record(record_id)
    return (data.get("record") or data)["status"]


def reports() -> list[dict]:
    r = run_cli("artifacts", "edit_report", "--json")
    return json.loads(r.stdout)


def approve(action_id: str) -> None:
    r = run_cli("approve", action_id)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()


def test_a_clean_draft_is_proposed_as_edited_once_and_moves_when_approved(profile, tmp_path, monkeypatch):
    monkeypatch.delenv("OXYMUS_AGENTS")  # this daemon's agent graph starts consumers
    path = draft(tmp_path, clean_text())
    d = editor_daemon(profile)
    try:
        post = add_post(path)
        # The agent graph starts the editor when the post reaches draft; a run by hand finds it done.
        wait_for(lambda: editor_actions(d), 30, interval=0.1, what="the editor's proposal")
        run_editor()
        proposed = editor_actions(d)
        assert len(proposed) == 1, proposed
        (update,) = proposed
        assert update["kind"] == "record.update" and update["status"] == "awaiting_approval"
        assert update["payload"]["status"] == "edited" and "all 6 checks passed" in update["payload"]["note"]
        (report,) = reports()
        assert report["data"]["outcome"].startswith("clean") and report["data"]["findings"] == []
        assert "- links: passed" in report["content"] and "Flesch reading ease: " in report["content"]
        approve(update["id"])
        wait_for(lambda: status_of(post) == "edited", 30, interval=0.1, what="the post to be edited")
    finally:
        d.stop()


def test_fixes_are_one_flow_that_patches_the_file_then_edits_the_post_and_undo_restores_the_bytes(profile, tmp_path):
    text = clean_text().replace('slug: "static-sites"\n', "").replace("We moved the blog", "We utilize the blog", 1)
    path = draft(tmp_path, text)
    os.chmod(path, 0o640)
    before = path.read_bytes()
    d = editor_daemon(profile)
    try:
        post = add_post(path)
        run_editor()
        (flow,) = editor_actions(d)
        assert flow["kind"] == "flow" and [s["kind"] for s in flow["payload"]["steps"]] == ["file.patch", "record.update"]
        assert "-We utilize the blog" in flow["preview"]["body"] and "+We use the blog" in flow["preview"]["body"]
        assert '+slug: "static-sites"' in flow["preview"]["body"]
        assert path.read_bytes() == before  # nothing written before the person says yes

        approve(flow["id"])
        wait_for(lambda: action(d, flow["id"])["status"] == "succeeded", 30, interval=0.1, what="the flow to succeed")
        patched = path.read_text()
        assert "We use the blog" in patched and 'slug: "static-sites"' in patched and "utilize" not in patched
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert status_of(post) == "edited"
        assert not [f for f in os.listdir(path.parent) if f.endswith(".oxymus-tmp")]

        step = next(a for a in actions(d) if a.get("flow_id") == flow["id"] and a["kind"] == "file.patch")
        assert step["receipt"]["data"]["sha256_before"] != step["receipt"]["data"]["sha256_after"]
        r = run_cli("undo", step["id"], "--json")
        assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
        undo = json.loads(r.stdout)
        assert undo["compensates"] == step["id"] and undo["kind"] == "file.patch"
        wait_for(lambda: action(d, undo["id"])["status"] == "succeeded", 30, interval=0.1, what="the undo to run")
        assert path.read_bytes() == before
        assert action(d, step["id"])["status"] == "compensated"
        # Asked again: the same undo, nothing more.
        again = json.loads(run_cli("undo", step["id"], "--json").stdout)
        assert again["id"] == undo["id"]
    finally:
        d.stop()


def test_a_patch_is_refused_when_the_draft_changed_and_a_denied_one_is_not_proposed_again(profile, tmp_path):
    # A fix it can make (the style term) and one it cannot (a link to nothing): the patch alone.
    text = clean_text().replace("We moved the blog", "We utilize the blog", 1) + "\nSee [the notes](notes.md).\n"
    path = draft(tmp_path, text)
    d = editor_daemon(profile)
    try:
        post = add_post(path)
        run_editor()
        (patch,) = editor_actions(d)
        assert patch["kind"] == "file.patch" and "notes.md" in patch["reason"] and "stays at draft" in patch["reason"]
        path.write_text(text.replace("See [the notes]", "See [my notes]"))  # the person edits meanwhile
        mine = path.read_bytes()
        approve(patch["id"])
        wait_for(lambda: action(d, patch["id"])["status"] == "failed", 30, interval=0.1, what="the patch to be refused")
        assert "the draft changed since the editor read it" in action(d, patch["id"])["error"]
        assert path.read_bytes() == mine and status_of(post) == "draft"

        # The changed bytes get a proposal of their own; denied, it is not proposed again.
        run_editor()
        fresh = [a for a in editor_actions(d) if a["id"] != patch["id"]]
        assert len(fresh) == 1 and fresh[0]["kind"] == "file.patch"
        # While it waits, a further change to the file is not proposed for: one open proposal per post.
        path.write_text(path.read_text() + "\nOne more line.\n")
        run_editor()
        assert len(editor_actions(d)) == 2
        path.write_bytes(mine)
        assert run_cli("deny", fresh[0]["id"]).returncode == 0
        run = run_editor()
        assert run["outcome"] == "succeeded" and len(editor_actions(d)) == 2, run
    finally:
        d.stop()


def test_a_stub_is_refused_and_a_post_without_a_file_is_named(profile, tmp_path):
    facts = Facts(title="Local-first notes", slug="local-first-notes", date=dt.date(2026, 12, 7),
                  notes=[Note("Why: files outlive apps, and a folder of text is easy to back up and to search"),
                         Note("What changed", ["sync moved to git", "the app became optional", "search is local now"]),
                         Note("the tools are boring on purpose")],
                  memory=[], goals=["Write about the tools behind the work"], tags=[])
    path = draft(tmp_path, front_matter("yaml", facts, None) + "\n" + template_body(facts), "local-first-notes.md")
    d = editor_daemon(profile, "enabled = false\n")  # by hand only: the run below is the one that decides
    try:
        add_post(path, "Local-first notes")
        nowhere = add_post(None, "No file yet")
        gone = add_post(tmp_path / "blog" / "gone.md", "Moved away")
        run = run_editor()
        assert run["outcome"] == "stopped", run
        assert "Local-first notes" in run["error"] and "refused" in run["error"] and "outline" in run["error"]
        assert editor_actions(d) == []
        (report,) = reports()
        assert report["data"]["outcome"].startswith("refused")
        assert run_editor()["outcome"] == "stopped"  # by hand: said again
        history = json.loads(run_cli("agents", "history", "editor", "--json").stdout)
        assert any(nowhere in json.dumps(h) and "no path field" in json.dumps(h) for h in history), history
        assert any(gone in json.dumps(h) and "gone.md cannot be read (No such file or directory)" in json.dumps(h) for h in history)
    finally:
        d.stop()


def test_with_an_llm_its_suggestions_are_listed_in_the_report_and_not_applied(profile, tmp_path, ollama_server):  # noqa: F811
    ollama_server.state.answer_next({"suggestions": [{"line": 7, "text": "Open with the reader's problem, not the move."},
                                                     {"line": 9999, "text": "a line that does not exist is dropped"}]})
    path = draft(tmp_path, clean_text())
    before = path.read_bytes()
    d = editor_daemon(profile, f'enabled = false\n\n[llm]\nhost = "{ollama_server.url}"\nmodel = "llama3.2"\ntimeout_s = 10\n')
    try:
        add_post(path)
        run = run_editor()
        assert run["outcome"] == "succeeded", run
        (report,) = reports()
        assert report["data"]["suggestions"] == [{"line": 7, "text": "Open with the reader's problem, not the move."}]
        assert "## Suggestions from the LLM (not applied)" in report["content"]
        assert path.read_bytes() == before
        assert [a["kind"] for a in editor_actions(d)] == ["record.update"]
        assert any("numbered lines" in r.user_text for r in ollama_server.state.requests if r.path == "/api/chat")
    finally:
        d.stop()


def test_the_file_effect_reads_only_regular_files(tmp_path):
    target = tmp_path / "post.md"
    target.write_text("x")
    (tmp_path / "link.md").symlink_to(target)
    with pytest.raises(Permanent, match="is a symlink"):
        _regular_bytes(str(tmp_path / "link.md"))
    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(Permanent, match="not a regular file"):
        _regular_bytes(str(tmp_path / "pipe.md"))
    with pytest.raises(Permanent, match="does not exist"):
        _regular_bytes(str(tmp_path / "gone.md"))
    assert _regular_bytes(str(target)) == b"x"


async def test_the_file_effect_is_pinned_recognises_a_retry_and_restores_exact_bytes(tmp_path):
    import hashlib

    from oxymus.daemon.local_effects import DaemonLocalEffects
    from oxymus.store.repos import Store

    store = await Store.open(str(tmp_path / "oxymus.db"))
    try:
        local = DaemonLocalEffects(store, None, lambda: dt.datetime.now(dt.timezone.utc))
        path = tmp_path / "post.md"
        old = b"---\ntitle: x\n---\n\nWe utilize it.\r\n\xe2\x80\x94 a dash\n"
        path.write_bytes(old)
        new = old.replace(b"utilize", b"use")
        sha = hashlib.sha256(old).hexdigest()
        with pytest.raises(Permanent, match="the draft changed since the editor read it"):
            await local.file_patch(str(path), expected_sha256="0" * 64, new=new, key="k1", actor="agent:editor")
        assert path.read_bytes() == old
        done = await local.file_patch(str(path), expected_sha256=sha, new=new, key="k1", actor="agent:editor")
        assert path.read_bytes() == new and done["sha256_before"] == sha and "already_done" not in done
        # A retry after a crash between the write and the receipt: found done, the previous bytes still known.
        again = await local.file_patch(str(path), expected_sha256=sha, new=new, key="k1", actor="agent:editor")
        assert again["already_done"] and again["before"] == done["before"]
        # Taken back only while the file is as the patch left it.
        path.write_bytes(new + b"more\n")
        with pytest.raises(Permanent, match="changed since the patch"):
            await local.file_restore(str(path), before=old, written_sha256=done["sha256_after"], actor="user")
        path.write_bytes(new)
        await local.file_restore(str(path), before=old, written_sha256=done["sha256_after"], actor="user")
        assert path.read_bytes() == old
        assert (await local.file_restore(str(path), before=old, written_sha256=done["sha256_after"], actor="user"))["already_done"]
    finally:
        await store.close()


async def test_a_refused_stub_is_said_once_on_the_schedule_and_again_by_hand_or_when_it_changes(tmp_path):
    from agent_harness import AgentWorld

    path = draft(tmp_path, '---\ntitle: "Short"\ndate: 2026-12-01\nslug: "short"\n---\n\nThis is a post. It is short.\n')
    async with AgentWorld(tmp_path / "world", config_toml="[agents.editor]\nmin_words = 10\n", only=["editor"]) as w:
        post = await w.store.records.add("post", {"title": "Short", "path": str(path)}, status="draft")
        first = await w.run("editor", "every 30m")
        assert first.outcome == "stopped" and "a stub" in (first.error or "") and first.actions == []
        again = await w.run("editor", "every 30m")
        assert again.outcome == "succeeded" and "refused before" in again.summary + json.dumps(again.model_dump())
        assert (await w.run("editor")).outcome == "stopped"  # by hand: said again
        path.write_text(clean_text("Short"))  # written properly now: checked afresh
        fixed = await w.run("editor", "every 30m")
        assert fixed.outcome == "succeeded" and [a.kind for a in await w.actions(fixed)] == ["record.update"]
        assert (await w.actions(fixed))[0].payload["id"] == post.id
