"""The one debounce helper (oxymus/kernel/debounce.py): bursts cost one run, nothing asked for is lost."""

from __future__ import annotations

import asyncio

from oxymus.kernel.debounce import Debouncer


async def _settle(d: Debouncer) -> None:
    while d.busy:
        await asyncio.sleep(0)  # the debouncer's own delay is 0: each pass is one loop turn


async def test_a_burst_costs_one_run():
    runs: list[int] = []

    async def load() -> None:
        runs.append(len(runs))

    d = Debouncer(0, load)
    for _ in range(50):
        d()
    await _settle(d)
    assert runs == [0]


async def test_a_call_during_a_run_gets_one_more_run_after_it():
    started, release, runs = asyncio.Event(), asyncio.Event(), []

    async def load() -> None:
        runs.append(1)
        if len(runs) == 1:
            started.set()
            await release.wait()

    d = Debouncer(0, load)
    d()
    await started.wait()
    d()
    d()  # two more while the first run is under way: one more run, not two
    release.set()
    await _settle(d)
    assert runs == [1, 1]


async def test_a_failing_run_is_logged_and_the_debouncer_keeps_working(caplog):
    runs: list[str] = []

    async def load() -> None:
        runs.append("run")
        if len(runs) == 1:
            raise ValueError("boom")

    d = Debouncer(0, load, name="reload")
    d()
    await _settle(d)
    d()
    await _settle(d)
    assert runs == ["run", "run"] and "reload failed" in caplog.text


async def test_cancel_forgets_what_was_asked_for():
    runs: list[int] = []

    async def load() -> None:
        runs.append(1)

    d = Debouncer(3600, load)
    d()
    assert d.pending and d.busy
    d.cancel()
    await asyncio.sleep(0)
    assert runs == [] and not d.pending and not d.busy
