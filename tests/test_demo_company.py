"""The demo's content consultancy seeded into a real store file (no daemon): its Maildir, notes and
draft, its records and their links, and five months of history whose metrics improve month by month,
every finished item with its start and end, all of it marked as demo data, and nothing added twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import mailbox
import re
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from oxymus import demo_company
from oxymus.demo_company import draft, history, mail, notes
from oxymus.metrics.compute import compute
from oxymus.store import db
from oxymus.store.repos import Store

ZONE = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """Seeded once per module (it writes some 400 transactions); the rerun test, which edits the draft, is last."""
    tmp_path = tmp_path_factory.mktemp("company")
    db_file = str(tmp_path / "oxymus.db")
    db.connect(db_file).close()
    places = demo_company.Places.under(str(tmp_path / "files"))
    first = demo_company.seed(db_file, places, now=NOW, zone=ZONE)
    return db_file, places, first


def _records(db_file: str) -> list:
    async def read():
        store = await Store.open(db_file)
        try:
            return await store.records.list(include_archived=True, limit=5000)
        finally:
            await store.close()
    return asyncio.run(read())


def test_the_maildir_holds_three_real_lead_emails(seeded):
    _db, places, first = seeded
    assert first.mails == 3
    box = mailbox.Maildir(places.maildir, create=False)
    msgs = sorted(box, key=lambda m: email.utils.parsedate_to_datetime(m["Date"]))
    assert len(msgs) == 3 and all(m.get_subdir() == "new" for m in msgs)
    senders = [email.utils.parseaddr(m["From"]) for m in msgs]
    assert [s[1] for s in senders] == [m.address for m in mail.LEAD_MAILS]
    assert all(name for name, _ in senders), "a display name on every From"
    assert len({m["Message-ID"] for m in msgs}) == 3 and all(re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", m["Message-ID"]) for m in msgs)
    ages = [(NOW - email.utils.parsedate_to_datetime(m["Date"])).total_seconds() / 86400 for m in msgs]
    assert all(0 < a < 7 for a in ages), ages
    assert "5k EUR" in msgs[0].get_payload() and "March" in msgs[0]["Subject"]


def test_notes_and_a_full_draft_with_its_image(seeded):
    _db, places, first = seeded
    assert first.notes == len(notes.NOTES) >= 12
    text = open(first.draft, encoding="utf-8").read()
    front, body = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S).groups()
    assert {line.split(":")[0] for line in front.splitlines()} == {"title", "date", "slug", "tags"}
    assert f"date: {NOW.astimezone(ZONE).date().isoformat()}" in front
    assert 400 <= len(body.split()) <= 800 and body.count("\n## ") >= 4
    [image] = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    with open(f"{places.drafts}/{image}", "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "utilize" in body, "one style-list word left for the editor"


def test_records_link_and_are_marked_as_demo_data(seeded):
    db_file, _places, first = seeded
    records = _records(db_file)
    now = [r for r in records if r.provenance.note == "demo data"]
    assert first.records == 5 and sorted((r.kind, r.status) for r in now) == [
        ("client", "active"), ("post", "draft"), ("post", "idea"), ("product", "launched"), ("project", "active")]
    client = next(r for r in now if r.kind == "client")
    project = next(r for r in now if r.kind == "project")
    assert project.fields["client"] == client.id
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("SELECT target_ref FROM record_links WHERE record_id = ? AND relation = 'client'",
                            (project.id,)).fetchall() == [(client.id,)]
    drafted = next(r for r in now if r.kind == "post" and r.status == "draft")
    assert drafted.fields["path"] == first.draft and "/code/blog/" not in first.draft
    past = [r for r in records if r.provenance.note == history.NOTE]
    assert len(past) == first.history == 15 and {r.status for r in past} <= {"won", "lost", "distributed"}
    # The client came in as a lead the demo's history won.
    assert any(r.kind == "lead" and r.status == "won" and r.fields["company"] == client.title for r in past)


def test_five_months_of_history_improve_and_are_consistent(seeded):
    db_file, _places, _first = seeded
    conn = sqlite3.connect(db_file)
    result = compute(conn, now=NOW, zone=ZONE)
    by_key = {m.key: m for m in result.metrics}
    with_items = [v.month for v in by_key["handoffs.all"].months if v.count]
    assert with_items == result.months[1:] and len(with_items) == 5
    for key in ("handoffs.all", "resolution.lead_first_reply", "resolution.idea_published",
                "resolution.capture_triaged", "resolution.approval_wait"):
        values = [v.value for v in by_key[key].months if v.count]
        assert values == sorted(values, reverse=True) and values[0] > values[-1], (key, values)
        assert by_key[key].improving, key
    # Every finished action has its proposal, its decision and, if it ran, its receipt; all say demo history.
    rows = conn.execute("SELECT id, status, created_at, updated_at, reason FROM actions").fetchall()
    assert len(rows) == 15 and {r[4] for r in rows} == {history.NOTE}
    for aid, status, created, updated, _reason in rows:
        decided = conn.execute("SELECT min(at) FROM action_approvals WHERE action_id = ?", (aid,)).fetchone()[0]
        assert created < decided <= updated, aid
        if status == "succeeded":
            assert conn.execute("SELECT count(*) FROM action_receipts WHERE action_id = ?", (aid,)).fetchone()[0] == 1
    # Runs finish after they start; history captures are triaged after they were made; nothing is in the future.
    assert conn.execute("SELECT count(*) FROM agent_runs WHERE finished_at IS NULL OR finished_at <= started_at "
                        "OR trigger != ?", (history.NOTE,)).fetchone()[0] == 0
    now_iso = NOW.isoformat().replace("+00:00", "Z")
    assert conn.execute("SELECT max(ts) FROM audit_log").fetchone()[0] < now_iso
    assert conn.execute("SELECT count(*) FROM captures WHERE status = 'open'").fetchone()[0] == 0
    # The person's steps are the demo's, not the real person's.
    actors = {a for (a,) in conn.execute("SELECT DISTINCT actor FROM audit_log WHERE verb = 'record.status'")}
    assert actors == {history.ACTOR, "agent:intake", "agent:research", "agent:editor", "agent:publisher", "agent:distribution"}


def test_a_second_seed_adds_nothing(seeded):
    db_file, places, _first = seeded
    before = len(_records(db_file))
    with open(draft.seed_draft(places.drafts, NOW.date()), "a", encoding="utf-8") as fh:
        fh.write("\nMy own edit.\n")
    again = demo_company.seed(db_file, places, now=NOW + dt.timedelta(days=1), zone=ZONE)
    assert (again.mails, again.notes, again.records, again.history) == (0, 0, 0, 0)
    assert len(_records(db_file)) == before and len(mailbox.Maildir(places.maildir, create=False)) == 3
    assert open(again.draft, encoding="utf-8").read().endswith("My own edit.\n"), "the person's draft is kept"


def test_backdated_history_refuses_moments_it_cannot_place(tmp_path):
    """A naive time, or a move before its record was added, is a clear error, not a silent wrong past."""
    from oxymus.store.backdated import Backdated
    from oxymus.time import clock

    db_file = str(tmp_path / "oxymus.db")
    db.connect(db_file).close()

    async def go():
        store = await Store.open(db_file)
        try:
            async with Backdated(store, note="test") as past:
                with pytest.raises(ValueError, match="needs a zone"):
                    await past.record("lead", {"name": "A"}, "new", dt.datetime(2026, 5, 1, 10))
                with pytest.raises(ValueError, match="before it was added"):
                    await past.record("lead", {"name": "B"}, "new", NOW, [(NOW - dt.timedelta(hours=1), "qualified", "demo")])
                assert await store.records.list() == [], "nothing written"
                await past.record("lead", {"name": "C"}, "new", NOW)
                assert clock.now_ms() == int(NOW.timestamp() * 1000)
            assert abs(clock.now_ms() - int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)) < 60_000, "the real clock is back"
        finally:
            await store.close()
    asyncio.run(go())
