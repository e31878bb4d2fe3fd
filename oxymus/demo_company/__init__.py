"""The demo's one-person content consultancy (issue 15).

`oxymus demo` calls `seed` before its daemon starts: three lead emails in a Maildir, a notes folder,
a draft post with its image outside the blog repo, a client with its project and two posts as
records, and five months of past work for the metrics. Every part is added only when missing, so
a second run adds nothing twice. The config lines and the policy rule the demo writes are here too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import dataclass

MAIL_FROM = "Demo Person <hello@demo-studio.example>"
# Intake's reply drafts need a mail server to be proposed at all; `.invalid` never resolves (RFC 2606),
# so an approved reply fails with a clear error and nothing leaves the machine.
SMTP_HOST = "smtp.demo-studio.invalid"

POLICY_RULE = """
[[rule]]
name = "intake files new leads by itself"
kind = "record.create"
agent = "intake"
match = { kind = "lead" }
outcome = "allow"
reason = "a lead record is mine and easy to change; the reply to the lead still waits for my yes"

# The demo's walk-through goes from a post idea to a publish flow that waits for you; the steps
# before it run by themselves here (each is easy to take back). Your own profile asks for each.
[[rule]]
name = "research moves a post idea to brief by itself"
kind = "record.update"
agent = "research"
match = { status = "brief" }
outcome = "allow"
reason = "a brief only adds to the record; the brief is the research agent's, the post stays mine"

[[rule]]
name = "the editor's fixes to a draft apply by themselves"
kind = "file.patch"
agent = "editor"
outcome = "allow"
reason = "a style term or a repeated title; oxymus undo gives the exact bytes back"

[[rule]]
name = "the editor moves a checked draft to edited by itself"
kind = "record.update"
agent = "editor"
match = { status = "edited" }
outcome = "allow"
reason = "the publish step after it still waits for my yes"
"""


@dataclass(frozen=True)
class Places:
    maildir: str
    notes: str
    drafts: str

    @classmethod
    def under(cls, files: str) -> "Places":
        return cls(maildir=os.path.join(files, "mail", "INBOX"), notes=os.path.join(files, "notes"),
                   drafts=os.path.join(files, "drafts"))


def config_toml(places: Places) -> str:
    """The demo config's mail, intake, research and editor sections."""
    from oxymus.kernel import tomlfmt

    return (f"[mail]\nmaildir = {tomlfmt.value(places.maildir)}\nsmtp_host = {tomlfmt.value(SMTP_HOST)}\n"
            f"from = {tomlfmt.value(MAIL_FROM)}\n\n"
            f"[agents.intake]\nmaildir = {tomlfmt.value(places.maildir)}\nsignature = \"Demo Person\"\n\n"
            f"[agents.research]\nnotes = {tomlfmt.value(places.notes)}\n\n"
            f"[agents.editor]\nstyle = {{ \"utilize\" = \"use\", \"leverage\" = \"use\" }}\n")


@dataclass(frozen=True)
class Seeded:
    mails: int
    notes: int
    records: int
    history: int
    draft: str


def seed(db_file: str, places: Places, *, now: dt.datetime, zone: dt.tzinfo) -> Seeded:
    """Write what is missing; the store must not be in use by a daemon (the demo seeds before starting one)."""
    from oxymus.demo_company import draft, mail, notes

    today = now.astimezone(zone).date()
    mails = mail.seed_maildir(places.maildir, now)
    notes_added = notes.seed_notes(places.notes)
    draft_path = draft.seed_draft(places.drafts, today)
    records, history = asyncio.run(_seed_store(db_file, draft_path, now, zone, today))
    return Seeded(mails=mails, notes=notes_added, records=records, history=history, draft=draft_path)


async def _seed_store(db_file: str, draft_path: str, now: dt.datetime, zone: dt.tzinfo, today: dt.date) -> tuple[int, int]:
    from oxymus.demo_company import draft, history
    from oxymus.demo_company.records import seed_records
    from oxymus.store.backdated import Backdated
    from oxymus.store.repos import Store

    store = await Store.open(db_file)
    try:
        records = await seed_records(store, draft_path=draft_path, draft_title=draft.TITLE, slug=draft.SLUG, today=today)
        done = await store.fetchone("SELECT 1 FROM memory_records WHERE json_extract(provenance, '$.note') = ? LIMIT 1",
                                    (history.NOTE,))
        if done is not None:
            return records, 0
        async with Backdated(store, actor=history.ACTOR, note=history.NOTE) as past:
            return records, await history.write(past, now, zone)
    finally:
        await store.close()
