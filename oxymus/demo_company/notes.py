"""The consultancy's notes folder: a dozen short Markdown notes the research agent can index.

Past workshops, the client, topics and pricing, as one person writes them for themselves.
Written once: a note already there is the person's and is never overwritten.
"""

from __future__ import annotations

import os

NOTES: dict[str, str] = {
    "workshops/2026-03-writing-for-engineers-hamburg.md": """\
# Workshop: writing for engineers (Hamburg, March 2026)

Two days, 14 people from a logistics company's platform team.
- Day 1: the one-page design doc, the "reader first" outline, cutting a draft by a third.
- Day 2: incident write-ups, review etiquette, a live rewrite of their worst doc.
What worked: rewriting their own documents, not my examples. What did not: the slides on
grammar; nobody needs them. Fee: 4,800 EUR plus travel.
""",
    "workshops/2025-10-docs-that-get-read-remote.md": """\
# Workshop: docs that get read (remote, October 2025)

Four half-days over two weeks for a fintech's API team (9 people). Remote works if the groups
are small and each session ends with something written. Homework between sessions was done by
everyone, which never happens on-site. Fee: 3,600 EUR.
""",
    "workshops/feedback-patterns.md": """\
# What participants say afterwards

- "The before/after of our own doc convinced the manager" (three times now).
- They want a checklist to keep: make the one-page template the take-away.
- Nobody remembers the theory; everybody remembers the live edit.
""",
    "clients/lumen-health.md": """\
# Client: Lumen Health

Digital health start-up in Berlin; contact Sofia Marin (Head of Content).
Since August: the "patient guides" project, eight long-form guides, two a month.
They review in Google Docs, approve on Thursdays. Invoices go to finance@lumen-health.example,
30 days. They like plain language; their legal team checks every medical claim.
""",
    "clients/lumen-health-style.md": """\
# Lumen Health house style

- Second person, present tense; no "patients", say "you".
- Every guide opens with what the reader can do today.
- No exclamation marks, no stock photos of smiling doctors.
- Sources in a "Where this comes from" section at the end.
""",
    "topics/design-docs-people-finish.md": """\
# Topic: design docs people finish reading

The one-page rule; the decision up front; alternatives as a table; a "what we will not do" list.
Good for a post and for the workshop's first morning.
""",
    "topics/content-retainers.md": """\
# Topic: how I run content retainers

Two posts a month, fixed topics agreed a month ahead, one round of edits included.
A shared calendar of ideas; the client sees briefs before drafts. Retainers under three months
do not work: the first month is learning their voice.
""",
    "topics/writing-with-small-tools.md": """\
# Topic: writing with small tools

Plain Markdown, a git repo per client, a style list I check before sending. No CMS until
the last step. Possible post: "the boring toolchain that ships two posts a month".
""",
    "pricing/rates-2026.md": """\
# Rates 2026

- Workshop: 2,400 EUR per day (up to 15 people), remote half-day 900 EUR.
- Content retainer: 1,800 EUR a month for two posts (up to 1,500 words each).
- Single long-form guide: 1,200 EUR.
- Editing only: 90 EUR an hour, estimate first.
""",
    "pricing/proposal-template.md": """\
# Proposal template

1. What you told me (their words).
2. What I propose: scope, dates, what you get.
3. Price, what it includes, what it does not.
4. Next step: a 20-minute call, then a start date.
""",
    "process/intake-checklist.md": """\
# New enquiry checklist

Reply within a day. Ask for: who the readers are, the date, the budget range.
Do not quote before a call unless it is a standard workshop.
""",
    "process/publishing.md": """\
# Publishing on my own blog

Idea, brief, draft, edit (style list), schedule, publish, share. One post every other week.
Drafts live outside the blog repo until they are edited, so the site's tree stays clean.
""",
}


def seed_notes(folder: str) -> int:
    """Write the notes missing from `folder`; returns how many were written."""
    added = 0
    for rel, text in NOTES.items():
        path = os.path.join(folder, rel)
        if os.path.exists(path):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        added += 1
    return added
