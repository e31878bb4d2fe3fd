"""The daemon's one scheduler: polls and agent triggers share it, each component with its own job ids."""

from __future__ import annotations

import asyncio
import datetime as dt

from apscheduler.triggers.interval import IntervalTrigger

from oxymus.daemon.scheduling import SharedJobs, make_scheduler


async def test_two_components_share_one_scheduler_and_remove_only_their_own_jobs():
    ran: list[str] = []
    both = asyncio.Event()

    async def job(name: str) -> None:
        ran.append(name)
        if len(ran) == 2:
            both.set()

    scheduler = make_scheduler(dt.timezone.utc)
    scheduler.start()
    try:
        polls, agents = SharedJobs("poll:", dt.timezone.utc, scheduler), SharedJobs("agent:", dt.timezone.utc, scheduler)
        soon = dt.datetime.now(dt.timezone.utc)
        for jobs in (polls, agents):
            jobs.begin()
            jobs.add(job, IntervalTrigger(seconds=3600), key="same", args=[jobs.prefix], next_run_time=soon)
            jobs.run()  # a shared scheduler is started by its owner, not again here
        assert sorted(j.id for j in scheduler.get_jobs()) == ["agent:same", "poll:same"]
        assert polls.get("same").id == "poll:same" and agents.get("same").id == "agent:same"
        await asyncio.wait_for(both.wait(), 10)
        assert sorted(ran) == ["agent:", "poll:"]
        polls.end()
        assert [j.id for j in scheduler.get_jobs()] == ["agent:same"] and scheduler.running
        assert polls.get("same") is None
    finally:
        scheduler.shutdown(wait=False)


async def test_without_a_shared_scheduler_a_component_owns_its_own():
    jobs = SharedJobs("poll:", dt.timezone.utc)
    scheduler = jobs.begin()

    async def job() -> None:
        pass

    jobs.add(job, IntervalTrigger(seconds=3600), key="x")
    jobs.run()
    assert scheduler.running
    jobs.end()
    await asyncio.sleep(0)
    assert not scheduler.running
