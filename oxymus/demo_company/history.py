"""Five months of the consultancy's past, so `oxymus metrics` has trends to show on the first day.

Each month is a little better than the one before, the way a person who hands more steps to agents
would see it: leads answered sooner, posts from idea to published faster, fewer steps moved by hand,
fewer drafts edited before approval, fewer failed runs. Written through `oxymus.store.backdated`
(the real repositories, dated in the past), marked as demo data: records carry the provenance note
`demo history`, the person's steps the actor `demo`, actions that reason, runs that trigger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from oxymus.actions.model import Proposer
from oxymus.store.backdated import Backdated

NOTE = "demo history"
ACTOR = "demo"  # the person, in the demo's past (a move by a client's name counts as manual)
MONTHS = 5


@dataclass(frozen=True)
class Month:
    """How one past month went; index 0 is the oldest."""

    lead_reply_h: tuple[float, float]
    lead_manual: int  # of a lead's three moves, how many the person made (from 2 on, intake qualifies it)
    idea_to_published_d: float
    post_manual: int  # of a post's six moves
    capture_h: tuple[float, float, float]
    reply_wait_h: tuple[float, float]
    replies_edited: int
    failed_runs: int
    failed_action: bool


PLAN: tuple[Month, ...] = (
    Month((30, 46), 3, 27, 6, (20, 26, 15), (11, 9), 2, 3, False),
    Month((22, 30), 3, 21, 5, (14, 18, 11), (8, 6), 2, 2, True),
    Month((14, 19), 2, 16, 4, (9, 12, 7), (5, 4), 1, 1, False),
    Month((8, 11), 2, 11, 3, (5, 7, 4), (2.5, 2), 1, 1, False),
    Month((4, 6), 2, 7, 2, (2, 3, 1.5), (1, 0.75), 0, 0, False),
)

LEADS = (
    [("Tom Weber", "tom@kranich-logistik.example", "Kranich Logistik", "a writing workshop for the ops team", 4800),
     ("Lea Hoffmann", "lea.hoffmann@sonnenfeld-energy.example", "Sonnenfeld Energy", "a case study series", 3000)],
    [("Ana Costa", "ana@atlas-maps.example", "Atlas Maps", "editing their developer docs", 2200),
     ("David Kim", "dkim@orbit-payments.example", "Orbit Payments", "API guide rewrite", 6500)],
    [("Sofia Marin", "sofia.marin@lumen-health.example", "Lumen Health", "patient guides, two a month", 9600),
     ("Ben Fischer", "ben@tidewater-games.example", "Tidewater Games", "a blog relaunch", 1500)],
    [("Nora Lindqvist", "nora@fjord-software.example", "Fjord Software", "a remote docs workshop", 3600),
     ("Omar Haddad", "omar@cedar-legal.example", "Cedar Legal", "plain-language client letters", 2800)],
    [("Julia Novak", "julia.novak@pixelbarn.example", "Pixelbarn", "a content retainer", 1800),
     ("Felix Braun", "felix@quartzlab.example", "Quartz Lab", "one long-form guide", 1200)],
)
POSTS = ("Why your README is a sales page", "The one-page design doc", "Style lists beat style guides",
         "What a content retainer actually includes", "Writing incident reports people learn from")
# A post's moves and the agent that takes each over; the person keeps the first ones of HAND_ORDER longest.
POST_FLOW = (("brief", "agent:research"), ("draft", ACTOR), ("edited", "agent:editor"), ("scheduled", ACTOR),
             ("published", "agent:publisher"), ("distributed", "agent:distribution"))
HAND_ORDER = ("draft", "scheduled", "brief", "edited", "published", "distributed")


def month_ends(now: dt.datetime, zone: dt.tzinfo) -> list[dt.datetime]:
    """Per month, oldest first, the moment its items are finished by: the 24th of each past month at
    noon, and a few hours before `now` in the current one (what ends there starts a day or two before:
    early in a month, some of it is the month before's)."""
    local = now.astimezone(zone)
    out = []
    for back in range(MONTHS - 1, 0, -1):
        year, month = divmod(local.year * 12 + local.month - 1 - back, 12)
        out.append(dt.datetime(year, month + 1, 24, 12, tzinfo=zone))
    out.append(now - dt.timedelta(hours=3))
    return out


async def write(past: Backdated, now: dt.datetime, zone: dt.tzinfo) -> int:
    """Write the five months; returns how many records they add."""
    intake, planner = Proposer(type="agent", name="intake"), Proposer(type="agent", name="planner")
    added = 0
    for i, (plan, end) in enumerate(zip(PLAN, month_ends(now, zone))):
        lead_ids = []
        for j, (name, email, company, need, budget) in enumerate(LEADS[i]):
            won = end - dt.timedelta(hours=6 * j)
            added_at = won - dt.timedelta(days=2, hours=plan.lead_reply_h[j])
            replied = added_at + dt.timedelta(hours=plan.lead_reply_h[j])
            outcome = "lost" if (i + j) % 3 == 1 else "won"  # Sofia Marin (Lumen Health) is won: she is the client now
            moves = [(replied, "qualified", ACTOR if plan.lead_manual >= 3 else "agent:intake"),
                     (replied + dt.timedelta(days=1), "proposal_sent", ACTOR), (won, outcome, ACTOR)]
            fields = {"name": name, "email": email, "company": company, "domain": email.split("@")[1], "need": need,
                      "budget": budget, "first_contact": added_at.date().isoformat(), "source": "email"}
            lead_ids.append(await past.record("lead", fields, "new", added_at, moves, source="import"))
            reply_at = added_at + dt.timedelta(minutes=20)
            await past.action("email.send", {"to": [f"{name} <{email}>"], "subject": f"Re: {need}", "body": "Hello ..."},
                              proposer=intake, summary=f"email {name}: Re: {need}"[:120], proposed=reply_at,
                              decided=reply_at + dt.timedelta(hours=plan.reply_wait_h[j]),
                              how="edit" if j < plan.replies_edited else "approve",
                              edited={"to": [f"{name} <{email}>"], "subject": f"Re: {need}", "body": "Hello, thank you ..."},
                              reason=NOTE)
            added += 1
        published = end - dt.timedelta(hours=21)
        idea_at = published - dt.timedelta(days=plan.idea_to_published_d)
        step = (published - idea_at) / 4
        times = (idea_at + step, idea_at + 2 * step, idea_at + 3 * step, published - dt.timedelta(hours=2), published,
                 published + dt.timedelta(hours=20))
        by_hand = set(HAND_ORDER[:plan.post_manual])
        moves = [(t, status, ACTOR if status in by_hand else agent) for t, (status, agent) in zip(times, POST_FLOW)]
        post_id = await past.record("post", {"title": POSTS[i], "slug": POSTS[i].lower().replace(" ", "-")}, "idea", idea_at,
                                    moves, source="import")
        added += 1
        for k, hours in enumerate(plan.capture_h):
            made = end - dt.timedelta(hours=8 * (k + 1))
            target = post_id if k == 0 else lead_ids[(k - 1) % len(lead_ids)]
            text = (f"post idea: {POSTS[i].lower()}" if k == 0 else f"follow up with {LEADS[i][(k - 1) % 2][2]}")
            await past.capture(text, made, (made + dt.timedelta(hours=hours), "memory", target))
        plan_at = end - dt.timedelta(days=5)
        await past.action("plans.edit", {"note": NOTE}, proposer=planner, summary="PLANS.md: move the week's next actions",
                          proposed=plan_at, decided=plan_at + dt.timedelta(hours=plan.reply_wait_h[0]),
                          how="deny" if i == 0 else "approve", error="the plans file changed meanwhile" if plan.failed_action else None,
                          reason=NOTE)
        spacing = dt.timedelta(hours=4 if i == MONTHS - 1 else 24)  # the current month is only days old
        for day in reversed(range(20)):  # oldest first: a history lists runs in the order they were stored
            when = end - spacing * day - dt.timedelta(hours=1)
            agent = ("intake", "planner", "triage", "publisher")[day % 4]
            failed = day < plan.failed_runs
            await past.run(agent, when, "failed" if failed else "succeeded", trigger=NOTE,
                           summary="the Maildir was not readable" if failed else "demo history: nothing new")
    return added
