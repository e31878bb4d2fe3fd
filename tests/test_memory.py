"""Canonical memory on real SQLite: ranking, filters, history, forgetting, budget, aging, the vault."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from oxymus.memory import records as m
from oxymus.store import capture_sql
from oxymus.store.repos import Store


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(str(tmp_path / "x.db"))
    yield s
    await s.close()


def fields(title, body="", **kw) -> m.RecordFields:
    return m.RecordFields(title=title, body=body, **kw)


async def test_search_ranks_by_relevance_then_tier_and_finds_prefixes(store):
    await store.memory.add(fields("Workshop venue options", "Lisbon or Porto for the January workshop", tier="cold"), m.Provenance())
    hot = await store.memory.add(fields("Workshop with Ana", "Ana runs the workshop with me in January", kind="commitment", tier="hot"), m.Provenance())
    await store.memory.add(fields("Groceries", "oat milk, bread"), m.Provenance())
    hits = await store.memory.search("workshop january")
    assert [h.record.title for h in hits][0] == "Workshop with Ana", "hot and in the title beats cold"
    assert hits[0].score > hits[1].score > 0 and len(hits) == 2
    assert "workshop" in hits[0].snippet.lower()
    assert [h.record.id for h in await store.memory.search("worksh")] [0] == hot.id, "the last word is a prefix"
    assert await store.memory.search("groceries workshop") == []


async def test_filters_are_part_of_the_match(store):
    await store.memory.add(fields("Ana Lopez", "workshop partner", kind="person", tags=["friend", "lisbon"]), m.Provenance())
    await store.memory.add(fields("Workshop budget", "partner pays half", kind="decision", tier="hot"), m.Provenance())
    assert [h.record.title for h in await store.memory.search("partner", kind="person")] == ["Ana Lopez"]
    assert [h.record.title for h in await store.memory.search("partner", tier="hot")] == ["Workshop budget"]
    assert [h.record.title for h in await store.memory.search("partner", tag="#Lisbon")] == ["Ana Lopez"]
    assert [h.record.title for h in await store.memory.search("", kind="decision")] == ["Workshop budget"]


@pytest.mark.parametrize("query", ['"', 'a OR b', 'NEAR(x y)', "title:*", "-", "' OR 1=1 --", "ü*ber"])
async def test_search_input_is_text_never_syntax(store, query):
    await store.memory.add(fields("über cool OR note", "x y"), m.Provenance())
    await store.memory.search(query)  # never raises


async def test_edits_keep_every_version(store):
    r = await store.memory.add(fields("Rent", "950 EUR on the 1st"), m.Provenance(source="user"))
    r = await store.memory.edit(r.id, m.RecordChanges(body="990 EUR from January", tags=["home"]), actor="me", note="raise")
    same = await store.memory.edit(r.id, m.RecordChanges(body="990 EUR from January"))
    assert (r.version, same.version) == (2, 2), "an edit that changes nothing makes no version"
    history = await store.memory.history(r.id)
    assert [(v.version, v.body, v.actor, v.note) for v in history] == [
        (1, "950 EUR on the 1st", "user", "created"), (2, "990 EUR from January", "me", "raise")]
    assert [h.record.id for h in await store.memory.search("990")] == [r.id]
    assert await store.memory.search("950") == [], "the index follows the current text"
    await store.db.execute("INSERT INTO memory_fts(memory_fts, rank) VALUES ('integrity-check', 1)")


async def test_forget_archives_and_purge_deletes(store):
    r = await store.memory.add(fields("Old address", "Musterstr. 1", tier="hot"), m.Provenance())
    forgotten = await store.memory.forget(r.id)
    assert forgotten.archived and forgotten.tier == "cold"
    assert await store.memory.search("musterstr") == [] and (await store.memory.budget(1500)).used_words == 0
    assert [v.note for v in await store.memory.history(r.id)] == ["created", "forgotten"]
    assert await store.memory.forget(r.id, purge=True) is None
    with pytest.raises(m.MemoryError, match="no memory record"):
        await store.memory.history(r.id)
    rows = await store.fetchall("SELECT verb, details FROM audit_log WHERE subject = ? ORDER BY seq", (r.id,))
    assert [v for v, _ in rows] == ["memory.added", "memory.forgotten", "memory.purged"]
    assert "Musterstr" not in json.dumps(rows), "the audit log records that it happened, not what it said"
    await store.db.execute("INSERT INTO memory_fts(memory_fts, rank) VALUES ('integrity-check', 1)")


async def test_hot_budget_counts_words(store):
    await store.memory.add(fields("Deep work hours", "mornings until noon, no meetings", tier="hot"), m.Provenance())
    await store.memory.add(fields("Coffee", "black", tier="hot"), m.Provenance())
    await store.memory.add(fields("Warm thing", "not counted at all here"), m.Provenance())
    report = await store.memory.budget(9)
    assert (report.used_words, report.over) == (10, True)
    assert [e.title for e in report.records] == ["Deep work hours", "Coffee"]


async def test_tiers_age_by_rule(store):
    old = await store.memory.add(fields("Old hot", "x", tier="hot"), m.Provenance())
    fresh = await store.memory.add(fields("Fresh hot", "y", tier="hot"), m.Provenance())
    await store.transaction([("UPDATE memory_records SET touched_at = '2026-01-01T00:00:00.000Z' WHERE id = ?", (old.id,))])
    now = dt.datetime.now(dt.timezone.utc)
    moves = await store.memory.apply_tier_rules(now, hot_days=14, warm_days=30)
    assert moves == [(old.id, "hot", "cold")]
    assert (await store.memory.get(fresh.id)).tier == "hot"
    assert (await store.memory.history(old.id))[-1].note == "aged from hot (untouched)"


async def test_tiers_age_in_batches_each_move_an_edit_with_its_version_and_audit(store, monkeypatch):
    from oxymus.store import memory_repo

    monkeypatch.setattr(memory_repo, "AGE_BATCH", 2)  # five moves: three transactions
    ids = [(await store.memory.add(fields(f"Old {i}", "x", tier="hot" if i % 2 else "warm"), m.Provenance())).id for i in range(5)]
    kept = await store.memory.add(fields("Kept", "y", tier="hot"), m.Provenance())
    await store.transaction([("UPDATE memory_records SET touched_at = ? WHERE id = ?", (f"2026-01-0{i + 1}T00:00:00.000Z", rid))
                             for i, rid in enumerate(ids)])
    now = dt.datetime(2026, 2, 16, tzinfo=dt.timezone.utc)  # 42 to 46 days untouched: some hot -> warm, some -> cold
    moves = await store.memory.apply_tier_rules(now, hot_days=14, warm_days=30)
    assert sorted(moves) == sorted(
        (rid, old, new) for i, rid in enumerate(ids) for old in ["hot" if i % 2 else "warm"]
        if (new := m.aged_tier(old, f"2026-01-0{i + 1}T00:00:00+00:00", now, 14, 30)) != old)
    assert {(old, new) for _, old, new in moves} == {("hot", "warm"), ("hot", "cold"), ("warm", "cold")} and len(moves) == 4
    for rid, old, new in moves:
        record = await store.memory.get(rid, touch=False)
        history = await store.memory.history(rid)
        assert (record.tier, record.version) == (new, 2)
        assert record.touched_at.startswith("2026-01-0"), "ageing is not using it"
        assert [(h.version, h.tier, h.actor, h.note) for h in history] == [
            (1, old, "user", "created"), (2, new, "memory-steward", f"aged from {old} (untouched)")]
        audit = await store.fetchall("SELECT actor, verb, details FROM audit_log WHERE subject = ? ORDER BY seq", (rid,))
        assert tuple(audit[-1]) == ("memory-steward", "memory.edited", json.dumps({"fields": ["tier"], "version": 2}, sort_keys=True))
    assert (await store.memory.get(kept.id, touch=False)).version == 1
    assert await store.memory.apply_tier_rules(now, hot_days=14, warm_days=30) == [], "aged once"


def test_aged_tier_rule():
    now = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)
    ago = lambda days: (now - dt.timedelta(days=days)).isoformat()  # noqa: E731
    assert m.aged_tier("hot", ago(13), now, 14, 30) == "hot"
    assert m.aged_tier("hot", ago(14), now, 14, 30) == "warm"
    assert m.aged_tier("warm", ago(44), now, 14, 30) == "cold"
    assert m.aged_tier("cold", ago(1), now, 14, 30) == "cold", "nothing warms up by itself"


async def test_a_capture_links_both_ways_and_leaves_the_inbox(store, tmp_path):
    conn = sqlite3.connect(str(tmp_path / "x.db"), isolation_level=None)
    row, _ = capture_sql.add_sync(conn, "Ana's number: 555 0100", "cli")
    conn.close()
    r = await store.memory.add(fields("Ana's number", "555 0100", kind="fact"), m.Provenance(source="capture", ref=row["id"]),
                               capture_id=row["id"])
    assert [l.capture_id for l in r.links] == [row["id"]] and r.provenance.ref == row["id"]
    assert (await store.captures.get(row["id"])).status == "triaged"
    assert await store.captures.links(row["id"]) == r.links


async def test_vault_round_trip_without_duplicates(store, tmp_path):
    a = await store.memory.add(fields("Ana Lopez", "Workshop partner.\n\n- prefers calls\n- Lisbon", kind="person", tags=["friend"]), m.Provenance())
    b = await store.memory.add(fields("Use SQLite", "WAL, one file.", kind="decision", tier="hot"), m.Provenance())
    files = {m.vault_filename(r): m.to_markdown(r) for r in await store.memory.export_all()}
    assert sorted(files) == [f"decision/use-sqlite-{b.id[-8:].lower()}.md", f"person/ana-lopez-{a.id[-8:].lower()}.md"]
    entries = [m.from_markdown(text, name) for name, text in files.items()]
    assert {e.id for e in entries} == {a.id, b.id}
    assert [await store.memory.import_entry(e) for e in entries] == ["unchanged", "unchanged"]
    edited = files[m.vault_filename(a)].replace("- Lisbon", "- Porto")
    assert await store.memory.import_entry(m.from_markdown(edited, "a.md")) == "updated"
    assert (await store.memory.get(a.id)).body.endswith("- Porto")
    hand_written = '---\ntitle: "Tea"\nkind: preference\ntags: [green, morning]\n---\nGreen tea in the morning.\n'
    assert await store.memory.import_entry(m.from_markdown(hand_written, "tea.md")) == "added"
    assert len(await store.memory.export_all()) == 3


OBSIDIAN_NOTE = """---
title: "Dentist: Dr. Müller"
aliases:
  - Dr Müller
  - dentist
tags:
  - health
  - appointments
kind: person
tier: 'hot'
created: 2024-03-05
cssclasses: []
---
Checkup every six months; she prefers morning slots.
"""


async def test_an_obsidian_note_imports(store):
    """Obsidian's Properties panel writes block lists, quoted strings, dates and aliases."""
    entry = m.from_markdown(OBSIDIAN_NOTE, "person/dentist.md")
    assert entry.id is None and entry.provenance == m.Provenance(source="import", ref="person/dentist.md")
    assert entry.fields.title == "Dentist: Dr. Müller" and entry.fields.kind == "person" and entry.fields.tier == "hot"
    assert entry.fields.tags == ["health", "appointments"]
    assert entry.fields.body == "Checkup every six months; she prefers morning slots."
    assert await store.memory.import_entry(entry) == "added"
    assert await store.memory.import_entry(m.from_markdown(OBSIDIAN_NOTE, "person/dentist.md")) == "unchanged"  # a second import adds nothing


async def test_export_round_trips_characters_yaml_treats_specially(store):
    title = "Odd \x7f title \u2028 with \x85 breaks: yes"
    r = await store.memory.add(fields(title, "body", tags=["x"]), m.Provenance())
    text = m.to_markdown(r)
    entry = m.from_markdown(text, "odd.md")
    assert entry.id == r.id and entry.fields.title == r.title and entry.fields.tags == ["x"]
    assert await store.memory.import_entry(entry) == "unchanged"


def test_the_export_format_is_json_values_in_front_matter():
    r = m.MemoryRecord(id="01ABC", kind="fact", title='Say "hi"', body="b", tags=["a", "b"], tier="warm", archived=False,
                       provenance=m.Provenance(), created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z",
                       touched_at="2026-01-01T00:00:00Z", version=2)
    assert m.to_markdown(r) == (
        '---\nid: "01ABC"\nkind: "fact"\ntitle: "Say \\"hi\\""\ntier: "warm"\ntags: ["a", "b"]\n'
        'created: "2026-01-01T00:00:00Z"\nupdated: "2026-01-01T00:00:00Z"\nversion: 2\nprovenance: "user"\n---\n'
        '# Say "hi"\n\nb\n')


@pytest.mark.parametrize("text, message", [
    ("no front matter", "x.md:1: no front matter"),
    ("---\ntitle: x\n", "x.md:1: the front matter is not closed"),
    ("---\njust words\n---\n", "x.md:2: expected `key: value`"),
    ('---\nkind: "Not A Kind!"\ntitle: "t"\n---\n', "x.md: "),
    ("---\ntitle: x\ntags: [a, b\nkind: fact\n---\n", "x.md:4: the front matter is not valid YAML: .*started on line 3"),
    ('---\ntitle: "unclosed\n---\n', "x.md:2: the front matter is not valid YAML: found unexpected end of stream"),
    ("---\ntitle: x\ntags:\n  - a\n - b\n---\n", "x.md:5: the front matter is not valid YAML"),
    ("---\nid: [1, 2]\ntitle: t\n---\n", "x.md: "),
])
def test_bad_vault_files_name_the_file_and_line(text, message):
    with pytest.raises(m.MemoryError, match=message.replace("(", r"\(")):
        m.from_markdown(text, "x.md")


@pytest.mark.parametrize("kw, message", [
    ({"title": "   "}, "the title is empty"),
    ({"title": "x", "kind": "Not a kind"}, "invalid kind"),
    ({"title": "x", "tags": ["no spaces allowed"]}, "invalid tag"),
    ({"title": "x" * 201}, "at most 200"),
])
def test_record_fields_are_validated(kw, message):
    with pytest.raises(ValueError, match=message):
        m.RecordFields(**kw)


async def test_maintenance_ages_records_and_writes_one_summary_per_past_month(store):
    old = await store.memory.add(fields("Old hot idea", "Try a standing desk. Maybe.", tier="hot"), m.Provenance())
    warm = await store.memory.add(fields("Workshop venue", "Lisbon. Booked in October.", kind="decision"), m.Provenance())
    now = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)
    await store.transaction([
        ("UPDATE memory_records SET touched_at = '2026-10-03T10:00:00.000Z' WHERE id = ?", (old.id,)),
        ("UPDATE memory_records SET touched_at = '2026-10-20T10:00:00.000Z' WHERE id = ?", (warm.id,)),
    ])
    report = await store.memory.maintain(now, hot_days=14, warm_days=120)
    assert report.moves == [(old.id, "hot", "warm")]
    (summary_id,) = report.summaries
    summary = await store.memory.get(summary_id, touch=False)
    assert (summary.kind, summary.title, summary.tier) == ("summary", "Warm memory, 2026-10", "warm")
    assert summary.provenance.source == "agent" and summary.provenance.ref == "summary:2026-10"
    assert "- Workshop venue — Lisbon. " in summary.body and f"({old.id})" in summary.body
    again = await store.memory.maintain(now, hot_days=14, warm_days=120)
    assert again.moves == [] and again.summaries == [summary_id], "the same summary record, not a second one"
    assert (await store.memory.get(summary_id, touch=False)).version == 1, "unchanged months make no new version"
