"""The consultancy's current records: a client and its project (linked), its workshop as a product,
a post idea and a post draft.

Added through the store's record repository before the daemon starts, with provenance saying they
are demo data; one already there (same kind and title, demo provenance) is not added again.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from oxymus.memory.records import Provenance

if TYPE_CHECKING:
    from oxymus.store.repos import Store

NOTE = "demo data"
CLIENT = "Lumen Health"
PROJECT = "Patient guides"
IDEA = "How I run content retainers"
PRODUCT = "Writing for engineers (two-day workshop)"


async def _existing(store: "Store", kind: str) -> dict[str, str]:
    """Title -> id of the demo's own records of `kind` (archived ones too: the person archived it, it stays so)."""
    return {r.title: r.id for r in await store.records.list(kind=kind, include_archived=True, limit=2000)
            if r.provenance.note == NOTE}


async def seed_records(store: "Store", *, draft_path: str, draft_title: str, slug: str, today: dt.date) -> int:
    """Add the records that are missing; returns how many were added."""
    prov = Provenance(source="import", note=NOTE)
    added = 0
    clients = await _existing(store, "client")
    client_id = clients.get(CLIENT)
    if client_id is None:
        client = await store.records.add("client", {"name": CLIENT, "emails": ["sofia.marin@lumen-health.example"],
                                                    "domains": ["lumen-health.example"]},
                                         body="Digital health start-up in Berlin. Contact: Sofia Marin, Head of Content. "
                                              "Notes: notes/clients/lumen-health.md", provenance=prov, actor="demo")
        client_id, added = client.id, added + 1
    if PROJECT not in await _existing(store, "project"):
        await store.records.add("project", {"name": PROJECT, "client": client_id, "budget": 9600,
                                            "due": (today + dt.timedelta(days=75)).isoformat()},
                                body="Eight long-form patient guides, two a month; reviews on Thursdays.",
                                provenance=prov, actor="demo")
        added += 1
    if PRODUCT not in await _existing(store, "product"):
        await store.records.add("product", {"name": PRODUCT, "price": 4800}, status="launched",
                                body="On-site or remote, up to 15 people; their own documents are the material. "
                                     "See notes/workshops/.", provenance=prov, actor="demo")
        added += 1
    posts = await _existing(store, "post")
    if IDEA not in posts:
        await store.records.add("post", {"title": IDEA, "slug": "content-retainers"}, status="idea",
                                body="Two posts a month, topics agreed ahead, one round of edits; why under three months "
                                     "does not work. See notes/topics/content-retainers.md.", provenance=prov, actor="demo")
        added += 1
    if draft_title not in posts:
        await store.records.add("post", {"title": draft_title, "slug": slug, "path": draft_path}, status="draft",
                                body="The workshop's first morning as a post; the editor checks it against the style list.",
                                provenance=prov, actor="demo")
        added += 1
    return added
