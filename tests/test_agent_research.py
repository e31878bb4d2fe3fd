"""The research agent: a notes index (real files, a real SQLite FTS5 file), briefs whose every
citation points at a real record or a real line, the LLM's summary checked against its
citations (the loopback Ollama), and the brief reaching the record through the real runtime,
the real desk and a real daemon."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from agent_harness import AgentWorld
from conftest import DaemonProcess, run_cli, wait_for, write_config
from ollama_server import closed_url, ollama_server  # noqa: F401

from oxymus.agents.llm import Llm
from oxymus.agents.research import ResearchSettings, proposal_key
from oxymus.agents.research_brief import Fact, check_summary, citations, sentences
from oxymus.agents.research_notes import NotesIndex
from oxymus.memory import records as m
from oxymus.profile.config import LlmConfig

PLANS = """# Plans

## Goals

- Grow the consulting side with design system workshops
- [x] Ship the old site
- Write one newsletter a month

## This week

- [ ] Call the bank
"""

ACME_NOTES = """# Acme GmbH

Met Ana at the Berlin meetup; she runs the design team.

## Budget

They paid 8000 EUR for the audit, on time.
Acme prefers workshops on Tuesdays.
"""


def notes_folder(root: Path) -> Path:
    notes = root / "notes"
    (notes / "clients").mkdir(parents=True)
    (notes / "clients" / "acme.md").write_text(ACME_NOTES)
    (notes / "cooking.md").write_text("# Soup\n\nLeeks, potatoes, butter.\n")
    (notes / ".obsidian").mkdir()
    (notes / ".obsidian" / "acme.md").write_text("Acme hidden config\n")
    return notes


def line_of(notes_parent: Path, cite: str) -> str:
    """The text at a `folder/path.md:LINE` (or `:FIRST-LAST`) citation, read from the file itself."""
    from oxymus.agents.research import note_text

    path, _, where = cite.rpartition(":")
    first, _, last = where.partition("-")
    lines = (notes_parent / path).read_text(encoding="utf-8", errors="replace").splitlines()
    return note_text(lines[int(first) - 1:int(last or first)])


# ------------------------------------------------------------------ the notes index


def test_the_index_is_incremental_forgets_deleted_files_and_names_bad_ones(tmp_path):
    notes = notes_folder(tmp_path)
    (notes / "latin1.md").write_bytes("Caf\xe9 workshop with Acme in M\xfcnchen\n".encode("latin-1"))
    (notes / "huge.md").write_text("acme " * 400)
    index = NotesIndex(str(tmp_path / "cache" / "notes.sqlite"), max_file_bytes=1000)
    first = index.update([str(notes)])
    assert (first.files, first.indexed, first.unchanged, first.removed) == (4, 4, 0, 0)  # .obsidian is not walked
    assert any(p.startswith("notes/latin1.md: not UTF-8") for p in first.problems), first.problems
    assert any(p.startswith("notes/huge.md: skipped, 2,000 bytes") and "max_note_bytes" in p for p in first.problems)

    hits = index.search(["tuesdays"], roots=[str(notes)])
    assert [(h.cite, h.text) for h in hits] == [("notes/clients/acme.md:8", "Acme prefers workshops on Tuesdays.")]
    assert line_of(tmp_path, hits[0].cite) == hits[0].text
    [latin] = [h for h in index.search(["workshop"], roots=[str(notes)]) if h.cite == "notes/latin1.md:1"]
    assert latin.text == "Caf\ufffd workshop with Acme in M\ufffdnchen"  # replacement characters, the rest kept
    assert index.search(["acme"], roots=[str(notes)], limit=50) and not any(
        "huge" in h.cite for h in index.search(["acme"], roots=[str(notes)], limit=50))
    # The heading and the file name are context: "budget" finds the line under "## Budget".
    assert "notes/clients/acme.md:7" in [h.cite for h in index.search(["budget"], roots=[str(notes)])]

    again = index.update([str(notes)])
    assert (again.indexed, again.unchanged, again.removed, again.problems) == (0, 4, 0, [])

    acme = notes / "clients" / "acme.md"
    acme.write_text(ACME_NOTES.replace("Tuesdays", "Thursdays"))
    os.utime(acme, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new mtime even on a coarse clock
    (notes / "cooking.md").unlink()
    third = index.update([str(notes)])
    assert (third.indexed, third.unchanged, third.removed) == (1, 2, 1)
    assert index.search(["tuesdays"], roots=[str(notes)]) == []
    assert index.search(["thursdays"], roots=[str(notes)])[0].cite == "notes/clients/acme.md:8"
    assert index.search(["leeks"], roots=[str(notes)]) == []
    # A folder no longer configured leaves the index too.
    assert index.update([]).removed == 3 and index.count() == (0, 0)
    index.close()


def test_two_notes_folders_of_the_same_name_are_cited_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    work, home = tmp_path / "work" / "notes", tmp_path / "home" / "notes"
    for folder in (work, home):
        folder.mkdir(parents=True)
        (folder / "acme.md").write_text(f"Acme, seen from {folder.parent.name}\n")
    index = NotesIndex(str(tmp_path / "i.sqlite"))
    index.update([str(work), str(home)])
    assert sorted(h.cite for h in index.search(["acme"], roots=[str(work), str(home)])) == [
        "~/home/notes/acme.md:1", "~/work/notes/acme.md:1"]
    assert [h.cite for h in index.search(["acme"], roots=[str(work)])] == ["notes/acme.md:1"]
    index.close()


def test_a_damaged_index_file_is_rebuilt(tmp_path):
    notes = notes_folder(tmp_path)
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    index = NotesIndex(str(path))
    assert index.update([str(notes)]).indexed == 2
    assert index.search(["leeks"], roots=[str(notes)])[0].cite == "notes/cooking.md:3"
    index.close()


def test_settings_take_a_folder_or_a_list_and_bad_paths_are_only_noted(tmp_path):
    assert ResearchSettings.model_validate({"notes": "~/notes"}).notes == "~/notes"
    with pytest.raises(ValueError):
        ResearchSettings.model_validate({"max_sources": 0})
    from oxymus.agents.research import _folders

    good, bad = _folders([str(tmp_path), "relative/notes", str(tmp_path / "missing")])
    assert good == [str(tmp_path)]
    assert bad == ["[agents.research] notes: 'relative/notes' is not absolute or ~/...; skipped",
                   f"[agents.research] notes: {str(tmp_path / 'missing')!r} is not a folder; skipped"]


# ------------------------------------------------------------------ checking a summary


def test_a_summary_keeps_only_sentences_whose_citations_hold():
    facts = [Fact(section="ask", text="Need: a two-day workshop on design systems", cite="rec L1"),
             Fact(section="notes", text="They paid 8000 EUR for the audit, on time.", cite="notes/acme.md:7")]
    text = ("Acme asks for a two-day workshop on design systems [rec L1]. "
            "They paid 8000 EUR for their audit [notes/acme.md:7]. "
            "They paid 9000 EUR for the audit [notes/acme.md:7]. "
            "The workshop is in Paris [rec L9]. "
            "Bananas are yellow fruit [rec L1]. "
            "Design systems are popular.")
    check = check_summary(text, facts, min_sentences=2)
    assert [c.sentence for c in check.kept] == ["Acme asks for a two-day workshop on design systems [rec L1].",
                                               "They paid 8000 EUR for their audit [notes/acme.md:7]."]
    assert [c.why for c in check.dropped] == ["the number 9000 is not in what it cites",
                                             "cites 'rec L9', which is not among the sources",
                                             "shares no content word with what it cites", "no citation"]
    assert not check.used and "less than half" in check.why_not
    assert citations("x [rec A; notes/b.md:3] y [PLANS.md:4]") == ["rec A", "notes/b.md:3", "PLANS.md:4"]
    assert sentences("Acme wants a workshop. [rec L1] [notes/a.md:2] They paid 8000 EUR.\n- A list item [rec L2]") == [
        "Acme wants a workshop [rec L1] [notes/a.md:2].", "They paid 8000 EUR.", "A list item [rec L2]"]


# ------------------------------------------------------------------ the agent in the runtime


async def seed(w: AgentWorld) -> dict:
    client = await w.store.records.add("client", {"name": "Acme GmbH", "domains": "acme.test", "emails": "ana@acme.test"},
                                       body="Design team in Berlin.")
    audit = await w.store.records.add("project", {"name": "Acme design audit", "client": client.id, "budget": 8000},
                                      status="paid")
    lead = await w.store.records.add("lead", {"name": "Ana Ruiz", "company": "Acme GmbH", "domain": "acme.test",
                                              "need": "a two-day workshop on design systems", "budget": 5000},
                                     status="qualified", body="Twelve people, in March.")
    post = await w.store.records.add("post", {"title": "Design systems for small teams", "project": audit.id},
                                     body="From the Acme workshop.")
    earlier = await w.store.records.add("lead", {"name": "Carl Berg", "domain": "acme.test", "need": "a logo"}, status="lost")
    other = await w.store.records.add("lead", {"name": "Bo Lind", "need": "a website"}, status="new")
    pref = await w.store.memory.add(m.RecordFields(kind="preference", title="Workshops: at most twelve people", tier="hot",
                                                   body="A design workshop works best with twelve people or fewer."),
                                    m.Provenance())
    await w.store.memory.add(m.RecordFields(kind="fact", title="Leeks are in season", tier="hot"), m.Provenance())
    return {"client": client, "audit": audit, "lead": lead, "post": post, "other": other, "pref": pref, "earlier": earlier}


def research_config(notes: Path) -> str:
    return f'[agents.research]\nnotes = ["{notes}", "relative/x"]\n'


def cites_in(brief: str) -> list[str]:
    return re.findall(r"\[([^\[\]]+)\]\s*$", brief, re.M)


async def test_a_brief_cites_real_records_and_lines_and_a_post_is_proposed_once(tmp_path, home):
    notes = notes_folder(tmp_path)
    (notes / "old.md").write_bytes("Sp\xe4ter: the Acme workshop notes from 2019\n".encode("latin-1"))
    async with AgentWorld(tmp_path / "w", config_toml=research_config(notes), plans=PLANS, only=["research"]) as w:
        s = await seed(w)
        await w.reload_plans()
        run = await w.run("research")
        assert run.outcome == "succeeded", run.error
        assert "notes: notes/old.md: not UTF-8 (byte 2); read with replacement characters" in run.summary
        assert "[agents.research] notes: 'relative/x' is not absolute or ~/...; skipped" in run.summary
        briefs = {a.key: a for a in await w.artifacts("brief")}
        assert set(briefs) == {s["lead"].id, s["post"].id}  # a lead at qualified, a post at idea; not the new lead
        lead_brief = briefs[s["lead"].id]
        assert lead_brief.data["path"] == "deterministic" and lead_brief.path and Path(lead_brief.path).read_text() == lead_brief.content
        content = lead_brief.content
        assert "Made without the LLM" in content
        bullets = [line for line in content.splitlines() if line.startswith("- ")]
        assert bullets and all(re.search(r"\[[^\[\]]+\]$", b) for b in bullets), "every bullet ends with its citation"
        records = {r.id for r in await w.store.records.list()} | {s["pref"].id}
        plans_lines = PLANS.splitlines()
        for bullet in bullets:
            cite = re.search(r"\[([^\[\]]+)\]$", bullet).group(1)
            fact = bullet[2:bullet.rindex("[")].strip()
            if cite.startswith("rec "):
                assert cite[4:] in records, bullet
            elif cite.startswith("PLANS.md:"):
                assert plans_lines[int(cite.split(":")[1]) - 1] == f"- {fact}", bullet
            else:
                assert line_of(tmp_path, cite) == fact, bullet  # the cited file, at the cited line, says it
        assert f"[rec {s['audit'].id}]" in content and "Project “Acme design audit” (paid; budget 8000)" in content
        assert f"Client: Acme GmbH (active; ana@acme.test) [rec {s['client'].id}]" in content
        assert f"- Lead “Carl Berg” (lost; need a logo) [rec {s['earlier'].id}]" in content  # the same domain
        assert f"- Post “Design systems for small teams” (idea) [rec {s['post'].id}]" in content  # the client's project's post
        post_brief = briefs[s["post"].id].content  # a post's client: its project's
        assert f"[rec {s['client'].id}]" in post_brief and f"[rec {s['audit'].id}]" in post_brief
        assert "- Grow the consulting side with design system workshops [PLANS.md:5]" in content
        assert "Ship the old site" not in content  # a done goal serves nothing
        assert "- They paid 8000 EUR for the audit, on time. Acme prefers workshops on Tuesdays. [notes/clients/acme.md:7-8]" in content
        assert f"[rec {s['pref'].id}]" in content and "Leeks" not in content
        assert "hidden" not in content and str(tmp_path) not in content, "no home path, no hidden folder"

        [move] = await w.actions(run)
        assert (move.kind, move.status, move.idempotency_key) == ("record.update", "awaiting_approval", proposal_key(s["post"]))
        assert move.payload["status"] == "brief" and move.payload["links"] == [
            {"target_type": "file", "target_ref": briefs[s["post"].id].path, "relation": "brief"}]

        again = await w.run("research")
        assert again.actions == [] and again.artifacts == [] and "2 already briefed or waiting" in again.summary
        await w.desk.deny(move.id, reason="not this one")
        assert (await w.run("research")).actions == [], "a denied brief is not proposed again for the same version"
        edited, _ = await w.store.records.edit(s["post"].id, body="From the Acme workshop, with pictures.")
        fresh = await w.run("research")
        [second] = await w.actions(fresh)
        assert second.idempotency_key == proposal_key(edited) != move.idempotency_key  # a new version: a new brief
        await w.desk.approve(second.id, reason="good")
        await w.execute_due()
        detail = await w.store.records.detail(s["post"].id)
        assert detail.record.status == "brief"
        assert ("file", briefs[s["post"].id].path, "brief") in {(x.target_type, x.target_ref, x.relation) for x in detail.links}


async def test_an_invented_citation_is_dropped_from_the_llm_summary(tmp_path, home, ollama_server):  # noqa: F811
    notes = notes_folder(tmp_path)
    llm = Llm(LlmConfig(host=ollama_server.url, model="llama3.2", timeout_s=5, connect_timeout_s=1))
    async with AgentWorld(tmp_path / "w", config_toml=research_config(notes), plans=PLANS, only=["research"], llm=llm) as w:
        s = await seed(w)
        await w.store.records.edit(s["post"].id, status="brief")  # only the lead to brief
        lead = s["lead"].id

        def answer(request) -> str:
            assert f"[rec {lead}] Need: a two-day workshop on design systems" in request.user_text
            return (f"Ana Ruiz of Acme GmbH asks for a two-day workshop on design systems [rec {lead}]. "
                    "Acme paid 8000 EUR for the audit [notes/clients/acme.md:7]. "
                    "Acme prefers workshops on Tuesdays [notes/clients/acme.md:8]. "
                    "Their CEO promised a budget of 50000 EUR [rec 01HZZZZZZZZZZZZZZZZZZZZZZZ].")
        ollama_server.state.respond_with(answer)
        run = await w.run("research")
        assert run.outcome == "succeeded", run.error
        [brief] = await w.artifacts("brief")
        assert brief.data["path"] == "llm" and brief.data["kept"] == 3
        assert brief.data["dropped"] == [{"sentence": "Their CEO promised a budget of 50000 EUR [rec 01HZZZZZZZZZZZZZZZZZZZZZZZ].",
                                          "why": "cites 'rec 01HZZZZZZZZZZZZZZZZZZZZZZZ', which is not among the sources"}]
        summary = brief.content.split("## Summary", 1)[1].split("##", 1)[0]
        assert "Acme prefers workshops on Tuesdays [notes/clients/acme.md:8]." in summary and "50000" not in summary
        assert "1 dropped" in brief.content and "## Dropped from the LLM's summary" in brief.content
        assert "# Sources" in brief.content  # what it was checked against, below


async def test_with_the_llm_down_the_brief_is_deterministic(tmp_path, home):
    notes = notes_folder(tmp_path)
    llm = Llm(LlmConfig(host=closed_url(), model="llama3.2", timeout_s=2, connect_timeout_s=1))
    async with AgentWorld(tmp_path / "w", config_toml=research_config(notes), plans=PLANS, only=["research"], llm=llm) as w:
        s = await seed(w)
        changes = w.bus.subscribe(["record.changed"], "test")
        run = await w.run("research")
        said = [changes.queue.get_nowait()["data"] for _ in range(changes.queue.qsize())]
        # The record's views (the TUI's record page) reload: its brief is part of what records.get answers.
        assert {"id": s["lead"].id, "kind": "lead", "verb": "briefed"} in said
        assert run.outcome == "succeeded" and run.llm_available is False
        briefs = {a.key: a for a in await w.artifacts("brief")}
        brief = briefs[s["lead"].id]
        assert brief.data["path"] == "deterministic" and "unavailable" in brief.data["llm"].lower()
        assert "Made without the LLM: the sources and key facts, organised." in brief.content


async def test_an_llm_summary_with_too_few_true_sentences_falls_back(tmp_path, home, ollama_server):  # noqa: F811
    notes = notes_folder(tmp_path)
    llm = Llm(LlmConfig(host=ollama_server.url, model="llama3.2", timeout_s=5, connect_timeout_s=1))
    async with AgentWorld(tmp_path / "w", config_toml=research_config(notes), plans=PLANS, only=["research"], llm=llm) as w:
        s = await seed(w)
        ollama_server.state.respond_with("Acme loves long meetings [rec NOPE]. Everything is fine.")
        await w.run("research")
        brief = {a.key: a for a in await w.artifacts("brief")}[s["lead"].id]
        assert brief.data["path"] == "deterministic"
        assert "Made without the LLM's summary: only 0 of its 2 sentence(s) passed the citation check" in brief.content
        assert "“Everything is fine.”: no citation" in brief.content


def test_the_graph_shows_research_taking_post_ideas_and_producing_briefs(home):
    r = run_cli("agents", "graph", "--json")
    assert r.returncode == 0, r.stderr.decode()
    edges = json.loads(r.stdout)["edges"]
    for port in ("post@idea", "lead@qualified", "project@active"):
        assert {"source": f"record:{port}", "target": "agent:research", "kind": "consumes", "mode": "automatic"} in edges
    assert {"source": "agent:research", "target": "record:post@brief", "kind": "produces", "mode": "automatic"} in edges
    assert not [e for e in edges if e["source"] == "agent:research" and e["kind"] == "carries_out"], "no external side effect"


def test_the_tui_record_page_shows_the_brief():
    from oxymus.records.model import RecordBrief, RecordDetail
    from oxymus.tui.screens.records_detail import detail_text

    record = {"id": "01POST", "kind": "post", "status": "idea", "status_label": "idea", "title": "Design systems", "body": "",
              "tags": [], "tier": "warm", "archived": False, "provenance": {"source": "user"}, "created_at": "2026-12-07T10:00:00Z",
              "updated_at": "2026-12-07T10:00:00Z", "version": 2, "schema_version": 1, "fields": {"title": "Design systems"}}
    brief = RecordBrief(artifact_id="01ART", agent="research", title="Brief: Design systems", created_at="2026-12-07T10:05:00Z",
                        content="# Brief: Design systems\n\n## From the notes\n\n- Acme prefers Tuesdays. [notes/acme.md:8]\n",
                        version=2, made_with="deterministic")
    detail = RecordDetail.model_validate({"record": record, "history": [], "links": [], "linked_from": [], "next": ["brief"],
                                          "brief": brief.model_dump()})
    text = detail_text(detail, {}).plain
    assert "Brief\n  by research" in text and "for version 2 · sources and facts" in text
    assert "- Acme prefers Tuesdays. [notes/acme.md:8]" in text


# ------------------------------------------------------------------ through a real daemon


@pytest.mark.slow
def test_a_post_idea_starts_research_and_records_show_has_the_brief(profile, tmp_path, monkeypatch):
    notes = notes_folder(tmp_path)
    monkeypatch.setenv("OXYMUS_AGENTS", "on")  # the graph starts research when the post reaches idea
    write_config(profile, f'[time]\nzone = "UTC"\n[llm]\nenabled = false\n[agents.sentinel]\nenabled = false\n'
                          f'[agents.steward]\nenabled = false\n[agents.research]\nnotes = "{notes}"\n')
    d = DaemonProcess(profile).start()
    try:
        r = run_cli("records", "add", "post", "Workshops for Acme", "--body", "What Acme taught me", "--json")
        assert r.returncode == 0, r.stderr.decode()
        post = json.loads(r.stdout)

        def proposed():
            with d.client() as conn:
                found = [a for a in conn.call("actions.list", {"limit": 50})["actions"] if a["kind"] == "record.update"]
            return found or None
        [move] = wait_for(proposed, timeout=60, what="research's record.update")
        assert move["payload"]["id"] == post["id"] and move["payload"]["status"] == "brief"
        assert move["proposer"]["name"] == "research" and move["status"] == "awaiting_approval"
        shown = run_cli("records", "show", post["id"])
        out = shown.stdout.decode()
        assert shown.returncode == 0 and "brief (research" in out and "## From the notes" in out, out
        assert "Acme prefers workshops on Tuesdays. [notes/clients/acme.md:7-8]" in out
        assert json.loads(run_cli("records", "show", post["id"], "--json").stdout)["brief"]["made_with"] == "deterministic"
        art = run_cli("artifacts", "brief", "--key", post["id"], "--full")
        assert "# Brief: Workshops for Acme" in art.stdout.decode()
        graph = run_cli("agents", "graph").stdout.decode()
        assert "research (every 1h)" in graph
        assert re.search(r"idea\s+from person\s+to research \(automatic\)", graph), graph
        assert re.search(r"brief\s+from research", graph), graph
    finally:
        d.stop()


def test_wrapped_note_lines_are_one_fact_citing_their_range(tmp_path):
    from oxymus.agents.research import merged_hits
    from oxymus.agents.research_brief import cites_within
    from oxymus.agents.research_notes import NoteHit

    def hit(line: int, text: str, path: str = "/n/a.md") -> NoteHit:
        return NoteHit(cite=f"notes/{path.rsplit('/', 1)[1]}:{line}", path=path, line=line, text=text, context="", score=1.0)

    hits = [hit(4, "do not work: the first month is learning their voice."), hit(9, "- Editing only: 90 EUR an hour."),
            hit(3, "- Retainers under three months"), hit(1, "# Other", "/n/b.md")]
    assert [(c, t) for c, t, _s in merged_hits(hits)] == [
        ("notes/a.md:3-4", "Retainers under three months do not work: the first month is learning their voice."),
        ("notes/a.md:9", "Editing only: 90 EUR an hour."),
        ("notes/b.md:1", "Other"),
    ]
    assert cites_within("notes/a.md:3-4") == ["notes/a.md:3-4", "notes/a.md:3", "notes/a.md:4"]
    assert cites_within("rec 01J") == ["rec 01J"] and cites_within("notes/a.md:7") == ["notes/a.md:7"]
