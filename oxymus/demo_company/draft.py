"""The draft the editor refines: a full post in a drafts folder outside the blog repo, with its image.

Outside the repo so the blog's working tree stays clean for the publisher. It is good but not
finished: one word from the style list ("utilize") is left for the editor to catch.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
import zlib

SLUG = "design-docs-people-finish"
TITLE = "Design docs people finish reading"
IMAGE = "one-page-outline.png"

DRAFT = """\
---
title: "{title}"
date: {date}
slug: {slug}
tags: [writing, engineering, workshops]
---

# {title}

Most design docs are read the way terms of service are read: the title, the first paragraph,
a scroll to the end to see who approved it. The author spent two days on the middle. Nobody
else did. After running writing workshops for engineering teams for a few years, I think the
problem is rarely the writing itself. It is the order things come in, and how much of the
document exists for the author rather than for the reader.

Here is what I teach on the first morning of every workshop, and what changed the most
documents afterwards.

## Put the decision first

A design doc is a request for a decision. Say which one in the first three lines: what you
want to do, what it costs, and what you need from the reader. "We want to move the billing
jobs to the queue service this quarter; it takes two people for three weeks; we need a yes
from the platform team by Friday." A reader who stops there already knows whether they care.

Everything after that is evidence. Background, measurements and history are still welcome,
but they come after the decision, not before it, and they can be skimmed.

## One page, then appendices

The most useful constraint I know is the one-page main section. It forces the author to
choose. The details that matter to one reviewer in ten go into appendices, with a line in
the main text saying they exist. Nobody is offended that the load test results are in
appendix B; plenty of people are lost when they are on page three.

![The one-page outline: decision, context, options, risks, what we will not do]({image})

The outline above is the one teams keep using after the workshop: decision, context, options,
risks, and what we will not do. It fits on a page when the thinking is done, and it refuses to
fit when it is not, which is useful to know before the review meeting.

## Alternatives as a table

Engineers are good at comparing options and bad at writing paragraphs about them. A short
table with the options as rows and the criteria that matter as columns does more than three
pages of prose. It also shows the reader which criteria you chose, which is often where the
real disagreement is. Teams that utilize a table here tend to have shorter review meetings,
because the argument moves from "why not option B" to "is latency really the main criterion".

## Say what you will not do

The section people thank me for most is the smallest: a list of what this design does not
cover. It stops the review from drifting into every adjacent problem, and it gives the next
document a starting point. "We will not migrate the reporting jobs; they stay on cron until
Q3" saves a meeting.

## Write for the person who joins next year

A good test for any section: would someone who joins the team next year understand why the
decision was made? Not how the code works (the code says that), but why this option won.
That reader has no context, no hallway conversations and no patience. If the doc works for
them, it works for the reviewers too.

## Try it on your own worst document

Pick the longest design doc your team wrote last quarter. Move the decision to the top,
cut the main section to one page, turn the options into a table and add a "will not do" list.
It takes about an hour. Then send both versions to someone who has not read either and ask
which one they finished.

If your team wants to do this together, I run a two-day workshop on exactly this, with your
own documents as the material.
"""


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain one-colour PNG (the standard library has no image writer; this is the whole format)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def seed_draft(folder: str, today: dt.date) -> str:
    """Write the draft and its image into `folder` unless the draft is there (then it is the person's); returns its path."""
    path = os.path.join(folder, f"{SLUG}.md")
    os.makedirs(folder, exist_ok=True)
    image = os.path.join(folder, IMAGE)
    if not os.path.exists(image):
        with open(image, "wb") as fh:
            fh.write(png(320, 180, (236, 229, 214)))
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(DRAFT.format(title=TITLE, slug=SLUG, date=today.isoformat(), image=IMAGE))
    return path
