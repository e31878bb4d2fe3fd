"""Three months of history with known metrics, written through the real desk, executor and repos on
an injected clock (the desk's, and the store's through `oxymus.store.backdated`, which the demo's
seeded months use too: records, captures and runs are written by it here).

The zone is Europe/Berlin and "now" 2026-10-20 12:00 UTC; months: 2026-08, 2026-09, 2026-10.
`EXPECTED` in tests/test_metrics.py is worked out by hand from the steps below.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from test_actions_desk import REQUIRE, Harness

from oxymus.actions.model import Proposer
from oxymus.store.backdated import Backdated

ZONE = "Europe/Berlin"
NOW = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.timezone.utc)
BOT = Proposer(type="agent", name="bot")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


class Seeder:
    def __init__(self, h: Harness):
        self.h = h
        self.past = Backdated(h.store)

    def clock(self, when: str) -> None:
        self.h.clock = at(when)
        self.past.at(at(when))

    async def action(self, proposed: str, *, by: Proposer = BOT, payload: dict | None = None, decide: str | None = None,
                     how: str = "approve", edit: dict | None = None, run: bool = True) -> str:
        """Propose at `proposed`; at `decide` approve (with `edit` as the new payload) or deny; run it after the grace."""
        self.clock(proposed)
        action, _ = await self.h.desk.propose("test.do", payload or {"n": 1}, proposer=by)
        if decide is None:
            return action.id
        self.clock(decide)
        if how == "deny":
            await self.h.desk.deny(action.id)
            return action.id
        await self.h.desk.approve(action.id, payload=edit)
        if run:
            self.h.advance(20)  # past the undo grace
            self.past.at(self.h.clock)
            await self.h.run_due()
        return action.id

    async def capture(self, created: str, triaged: str | None) -> str:
        return await self.past.capture("a thought", at(created), (at(triaged), "memory", "M1") if triaged else None)

    async def record(self, kind: str, fields: dict, status: str, added: str, moves: list[tuple[str, str, str]]) -> str:
        """Add at `added` as the person (actor oxymus-cli); each move is (when, status, actor)."""
        return await self.past.record(kind, fields, status, at(added), [(at(w), to, actor) for w, to, actor in moves])

    async def run(self, agent: str, finished: str, outcome: str) -> None:
        await self.past.run(agent, at(finished), outcome)


async def seed(directory: str | Path) -> None:
    """Write the history into `directory`/oxymus.db (a profile's data folder)."""
    h = Harness(Path(directory), notify=False, zone=ZONE)
    await h.open()
    seeder = Seeder(h)
    try:
        h.write_policy(REQUIRE)
        await _history(seeder)
    finally:
        seeder.past.close()
        await h.close()


async def _history(s: Seeder) -> None:
    # Actions (every one needs the person: policy REQUIRE). August: two by the bot.
    await s.action("2026-08-10T09:00:00", decide="2026-08-10T11:00:00")                       # 2 h, succeeds
    await s.action("2026-08-12T09:00:00", decide="2026-08-12T13:00:00",                       # 4 h, edited, fails
                   edit={"n": 2, "fail": "permanent"})
    # September: one typed by the person, a denial, an expiry, an approval.
    await s.action("2026-09-03T10:00:00", by=Proposer(), decide="2026-09-03T10:30:00")        # 0.5 h, succeeds
    await s.action("2026-09-05T08:00:00", decide="2026-09-05T09:00:00", how="deny")           # 1 h, denied
    await s.action("2026-09-08T08:00:00")                                                     # expires 09-09 08:00
    s.clock("2026-09-09T09:00:00")
    await s.h.desk.sweep()
    await s.action("2026-09-10T08:00:00", decide="2026-09-10T14:00:00")                       # 6 h, succeeds
    # October: two approvals, the second fails.
    await s.action("2026-10-02T09:00:00", decide="2026-10-02T09:15:00")                       # 0.25 h, succeeds
    await s.action("2026-10-04T09:00:00", payload={"n": 3, "fail": "permanent"}, decide="2026-10-04T10:00:00")  # 1 h, fails
    # One still waiting: counts nowhere.
    await s.action("2026-10-20T11:00:00")

    # Captures: created 23:00 Berlin on Aug 31 and triaged 00:30 Berlin: a September triage.
    await s.capture("2026-08-05T10:00:00", "2026-08-05T12:00:00")    # Aug 2 h
    await s.capture("2026-08-31T21:00:00", "2026-08-31T22:30:00")    # Sep 1.5 h
    await s.capture("2026-09-20T10:00:00", "2026-09-21T10:00:00")    # Sep 24 h
    await s.capture("2026-10-01T10:00:00", None)                     # open: nothing

    # Leads: first reply = first move out of `new`.
    await s.record("lead", {"name": "Ann"}, "new", "2026-08-01T10:00:00", [
        ("2026-08-02T10:00:00", "qualified", "oxymus-cli"),          # Aug 24 h, manual
        ("2026-09-15T10:00:00", "won", "agent:intake"),              # finished Sep, 1 manual move
    ])
    await s.record("lead", {"name": "Bob"}, "new", "2026-09-01T10:00:00", [
        ("2026-09-01T16:00:00", "qualified", "agent:intake"),        # Sep 6 h, automatic
        ("2026-10-05T10:00:00", "lost", "oxymus-cli"),               # finished Oct, 1 manual move
    ])
    # Posts: idea to published.
    await s.record("post", {"title": "One"}, "idea", "2026-08-03T09:00:00", [
        ("2026-08-10T09:00:00", "draft", "oxymus-cli"),
        ("2026-09-03T09:00:00", "published", "oxymus-cli"),          # Sep 744 h = 31 d
        ("2026-09-10T09:00:00", "distributed", "agent:publisher"),   # finished Sep, 2 manual moves
    ])
    await s.record("post", {"title": "Two"}, "draft", "2026-09-01T09:00:00", [
        ("2026-10-01T09:00:00", "published", "oxymus-cli"),          # not born an idea: not counted
    ])

    # Agent runs.
    await s.run("triage", "2026-07-15T10:00:00", "failed")          # before the window
    for when, outcome in [("2026-08-01T10:00:00", "succeeded"), ("2026-08-02T10:00:00", "succeeded"),
                          ("2026-08-03T10:00:00", "failed"), ("2026-09-01T10:00:00", "succeeded"),
                          ("2026-09-02T10:00:00", "succeeded"), ("2026-09-03T10:00:00", "succeeded"),
                          ("2026-09-04T10:00:00", "succeeded"), ("2026-10-01T10:00:00", "failed"),
                          ("2026-10-02T10:00:00", "stopped")]:
        await s.run("triage", when, outcome)
