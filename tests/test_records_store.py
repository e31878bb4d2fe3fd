"""Canonical records on a real SQLite file: kinds and validation, the pipeline, history, links,
schema migrations (failures reported, never dropped), and a plugin kind from an entry point."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint

import pytest

from oxymus import plugins
from oxymus.memory.records import RecordChanges
from oxymus.records import kinds as k
from oxymus.records import model as r
from oxymus.store.repos import Store


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(str(tmp_path / "x.db"))
    yield s
    await s.close()


def test_built_in_kinds_and_their_pipelines():
    found = r.kinds()
    assert {"lead", "client", "project", "product", "post"} <= set(found)
    lead = found["lead"]
    assert lead.status_words() == ["new", "qualified", "proposal_sent", "won", "lost"]
    assert lead.status_label("proposal_sent") == "proposal sent"
    assert lead.next_statuses("qualified") == ["proposal_sent"]
    assert lead.next_statuses("proposal_sent") == ["won", "lost"] and lead.next_statuses("won") == []
    assert found["project"].status_words() == ["active", "delivered", "invoiced", "paid"]
    assert found["post"].status_words() == ["idea", "brief", "draft", "edited", "scheduled", "published", "distributed"]
    assert found["post"].next_statuses("distributed") == []
    view = r.kind_view(lead)
    assert view.statuses[2].label == "proposal sent" and {"name", "email", "domain"} <= {f.name for f in view.fields}


async def test_add_validates_fields_and_starts_the_pipeline(store):
    lead = await store.records.add("lead", {"name": "Jane Doe", "email": "jane@acme.test", "domain": "WWW.Acme.test",
                                            "budget": "1200"}, body="met at the meetup")
    assert (lead.kind, lead.status, lead.title, lead.schema_version) == ("lead", "new", "Jane Doe", 1)
    assert lead.fields == {"name": "Jane Doe", "email": "jane@acme.test", "domain": "acme.test", "budget": 1200.0}
    # It is a memory record too: same id, found by memory search, with its history.
    assert (await store.memory.get(lead.id)).kind == "lead"
    assert [h.record.id for h in await store.memory.search("jane")] == [lead.id]
    with pytest.raises(r.RecordError, match="budget"):
        await store.records.add("lead", {"name": "X", "budget": "a lot"})
    with pytest.raises(r.RecordError, match="colour"):
        await store.records.add("lead", {"name": "X", "colour": "red"})
    with pytest.raises(r.RecordError, match="no status 'maybe'"):
        await store.records.add("lead", {"name": "X"}, status="maybe")
    with pytest.raises(r.RecordError, match="no record kind 'invoice'"):
        await store.records.add("invoice", {"name": "X"})
    assert [x.id for x in await store.records.list()] == [lead.id]


async def test_status_moves_are_versions_with_history(store):
    lead = await store.records.add("lead", {"name": "Jane"})
    moved, before = await store.records.edit(lead.id, status="qualified", actor="tui")
    assert (moved.status, before, moved.version) == ("qualified", "new", 2)
    same, before = await store.records.edit(lead.id, status="qualified")
    assert before is None and same.version == 2  # nothing changed, no version
    edited, before = await store.records.edit(lead.id[:10], fields={"need": "a new site"}, note="called")
    assert before is None and edited.fields["need"] == "a new site" and edited.version == 3
    history = await store.records.history(lead.id)
    assert [(h.version, h.status, h.actor) for h in history] == [(1, "new", "user"), (2, "qualified", "tui"), (3, "qualified", "user")]
    assert "need" not in history[1].fields and history[2].note == "called"
    # A memory edit (the tier) keeps the record part of its last version.
    await store.memory.edit(lead.id, RecordChanges(tier="hot"))
    assert [h.status for h in await store.records.history(lead.id)][-1] == "qualified"
    with pytest.raises(r.RecordError, match="name"):
        await store.records.edit(lead.id, unset=["name"])
    assert (await store.records.get(lead.id)).fields["name"] == "Jane"
    audit = await store.fetchall("SELECT verb, details FROM audit_log WHERE subject = ? ORDER BY seq", (lead.id,))
    assert [v for v, _d in audit][:3] == ["record.added", "record.status", "record.edited"]
    assert json.loads(audit[1][1])["from"] == "new"


async def test_kind_and_status_is_one_index_range(store):
    plan = await store.fetchall("EXPLAIN QUERY PLAN SELECT id FROM records WHERE kind = ? AND status = ?", ("lead", "new"))
    assert "records_by_status" in " ".join(str(row) for row in plan)
    a = await store.records.add("lead", {"name": "A"})
    b = await store.records.add("lead", {"name": "B"}, status="won")
    await store.records.add("post", {"title": "C"})
    assert [x.id for x in await store.records.list(kind="lead", status="won")] == [b.id]
    assert {x.id for x in await store.records.list(kind="lead")} == {a.id, b.id}


async def test_record_fields_are_links_both_ways(store):
    client = await store.records.add("client", {"name": "Acme", "emails": "a@acme.test, b@acme.test"})
    assert client.fields["emails"] == ["a@acme.test", "b@acme.test"]
    project = await store.records.add("project", {"name": "Site", "client": client.id[:8]})
    assert project.fields["client"] == client.id
    post = await store.records.add("post", {"title": "Launch"})
    with pytest.raises(r.RecordError, match="must name a client record"):
        await store.records.edit(project.id, fields={"client": post.id})
    await store.records.link(post.id, "record", project.id, "project")
    await store.records.link(post.id, "email", "<abc@mail.test>")
    await store.records.link(post.id, "calendar", "event-uid-1", "launch")
    made, back = await store.records.links(project.id)
    assert [(x.target_type, x.target_ref, x.relation, x.label) for x in made] == [("record", client.id, "client", "client: Acme")]
    assert [(x.record_id, x.relation, x.label, x.status) for x in back] == [(post.id, "project", "post: Launch", "idea")]
    detail = await store.records.detail(client.id)
    assert [x.record_id for x in detail.linked_from] == [project.id]
    made, _ = await store.records.links(post.id)
    assert {(x.target_type, x.target_ref) for x in made} == {("record", project.id), ("email", "<abc@mail.test>"),
                                                             ("calendar", "event-uid-1")}
    await store.records.link(post.id, "email", "<abc@mail.test>", remove=True)
    assert len((await store.records.links(post.id))[0]) == 2
    with pytest.raises(r.RecordError, match="itself"):
        await store.records.link(post.id, "record", post.id)
    # Unsetting the field drops its link; purging the record drops links to it.
    await store.records.edit(project.id, unset=["client"])
    assert (await store.records.links(client.id))[1] == []
    await store.memory.forget(project.id, purge=True)
    assert [(x.target_type, x.target_ref) for x in (await store.records.links(post.id))[0]] == [("calendar", "event-uid-1")]
    assert await store.fetchone("SELECT count(*) FROM records WHERE id = ?", (project.id,)) == (0,)


class Lead2Fields(k.KindFields):
    name: str
    contact: str | None = None  # was `email` in version 1
    budget: float | None = None


def _email_to_contact(fields):
    fields = dict(fields)
    if "email" in fields:
        fields["contact"] = fields.pop("email")
    return fields


class LeadV2(k.Lead):
    schema = Lead2Fields
    version = 2
    migrations = (k.Migration(1, "email_is_contact", _email_to_contact),)


async def test_an_older_schema_is_migrated_on_read_and_by_the_startup_pass(store, monkeypatch):
    old = await store.records.add("lead", {"name": "Old", "email": "o@x.test"})
    broken = await store.records.add("lead", {"name": "Broken", "budget": 10})
    # A value version 2 refuses (as if written by hand, or by a kind with a looser schema).
    await store.transaction([("UPDATE records SET fields = json_set(fields, '$.budget', 'lots') WHERE id = ?", (broken.id,))])
    monkeypatch.setattr(k._registry, "found", {**r.kinds(), "lead": LeadV2})
    read = await store.records.get(old.id)
    assert (read.schema_version, read.fields, read.problem) == (2, {"name": "Old", "contact": "o@x.test"}, None)
    bad = await store.records.get(broken.id)
    assert bad.problem and "budget" in bad.problem and bad.fields["budget"] == "lots"
    failures = await store.records.migrate_stored()
    assert [rid for rid, _why in failures] == [broken.id]
    assert await store.records.problems() == 1
    stored = await store.fetchone("SELECT schema_version, fields FROM records WHERE id = ?", (old.id,))
    assert stored[0] == 2 and json.loads(stored[1]) == {"name": "Old", "contact": "o@x.test"}
    history = await store.records.history(old.id)
    assert history[0].fields == {"name": "Old", "email": "o@x.test"} and history[0].schema_version == 1  # older decisions stay readable
    assert history[-1].actor == "records-migration" and "email_is_contact" in (history[-1].note or "")
    # The failing record is listed with its problem, never dropped; fixing its fields clears it.
    listed = {x.id: x.problem for x in await store.records.list()}
    assert listed[old.id] is None and "budget" in listed[broken.id]
    fixed, _ = await store.records.edit(broken.id, fields={"budget": 12})
    assert fixed.problem is None and fixed.schema_version == 2
    assert await store.records.problems() == 0


async def test_a_kind_whose_plugin_is_gone_is_reported_not_dropped(store, monkeypatch):
    post = await store.records.add("post", {"title": "Kept"})
    monkeypatch.setattr(k._registry, "found", {n: c for n, c in r.kinds().items() if n != "post"})
    read = await store.records.get(post.id)
    assert read.fields == {"title": "Kept"} and "no record kind 'post'" in read.problem
    assert await store.records.migrate_stored() == [] and await store.records.problems() == 1
    assert [x.id for x in await store.records.list()] == [post.id]


class Invoice(k.RecordKind):
    name = "invoice"
    label = "Invoices"

    class schema(k.KindFields):  # noqa: N801 - the kind's schema
        number: str
        amount: float

    title_field = "number"
    statuses = (("draft", "draft"), ("sent", "sent"), ("paid", "paid"))


class NoStatuses(k.RecordKind):
    name = "nostatus"
    label = "Broken"
    schema = k.ProductFields
    statuses = ()


async def test_a_plugin_kind_registered_by_entry_point_is_accepted(store, monkeypatch):
    module = __name__
    points = [EntryPoint("invoice", f"{module}:Invoice", plugins.RECORD_KIND_GROUP),
              EntryPoint("nostatus", f"{module}:NoStatuses", plugins.RECORD_KIND_GROUP)]
    real = plugins.entry_points
    monkeypatch.setattr(plugins, "entry_points", lambda group: points if group == plugins.RECORD_KIND_GROUP else real(group=group))
    monkeypatch.setattr(k, "_registry", k.new_registry())
    assert "invoice" in k.registered() and "lead" in k.registered()
    assert "at least one status" in k.broken()["nostatus"]
    invoice = await store.records.add("invoice", {"number": "2026-001", "amount": "400"})
    assert (invoice.title, invoice.status, invoice.fields["amount"]) == ("2026-001", "draft", 400.0)
    moved, _ = await store.records.edit(invoice.id, status="sent")
    assert moved.status == "sent"
    with pytest.raises(r.RecordError, match="failed to load"):
        await store.records.add("nostatus", {"name": "x"})
