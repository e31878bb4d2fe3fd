"""The coordinator with real SQLite and fake sources: error classes, backoff, suspect answers, freshness."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from oxymus.daemon import coordinator as coord_mod
from oxymus.daemon.coordinator import Coordinator, backoff_delay, build_sources
from oxymus.daemon.events import EventBus
from oxymus.profile import config as config_mod
from oxymus.sources.contract import NeedsHuman, PollResult, SourceUnavailable, StateItem, utc_iso
from oxymus.store.repos import Store


class Clock:
    def __init__(self):
        self.t = dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


class FakeSource:
    """A source whose next answers the test scripts: a list of items, or an exception to raise."""

    def __init__(self, id="fake", interval=60.0, stale_after=300.0):
        self.id, self.interval, self.stale_after = id, interval, stale_after
        self.script: list = []
        self.polls = 0

    async def poll(self, ctx):
        self.polls += 1
        answer = self.script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if answer == "hang":
            await asyncio.sleep(3600)
        return PollResult(items=[
            StateItem(source=self.id, kind="fake.thing", key=k, observed_at=utc_iso(ctx.now()), data={"v": v})
            for k, v in answer
        ])


@pytest.fixture
async def setup(tmp_path, monkeypatch):
    store = await Store.open(str(tmp_path / "x.db"))
    bus = EventBus()
    events = bus.subscribe(["*"], "test")
    clock = Clock()
    source = FakeSource()
    monkeypatch.setattr(coord_mod, "build_sources", lambda config: [source])
    coordinator = Coordinator(store, bus, config_mod.defaults(), tmp_path, now=clock, timeout=0.2)
    await coordinator.start(schedule=False)
    yield coordinator, source, clock, store, events
    await store.close()


def drain(sub) -> list[dict]:
    out = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait())
    return out


ITEMS = [("a", 1), ("b", 2), ("c", 3), ("d", 4)]


async def test_success_stores_items_and_publishes_changes(setup):
    coordinator, source, clock, store, events = setup
    source.script = [ITEMS, ITEMS, [("a", 1), ("b", 20), ("c", 3), ("e", 5)]]
    view = await coordinator.poll("fake")
    assert (view.status, view.item_count, view.consecutive_failures) == ("ok", 4, 0)
    assert [e["topic"] for e in drain(events)] == ["state.changed", "source.health"]
    await coordinator.poll("fake")  # identical answer: no state.changed
    assert [e["topic"] for e in drain(events)] == ["source.health"]
    await coordinator.poll("fake")
    changed = [e for e in drain(events) if e["topic"] == "state.changed"]
    assert changed[0]["data"] == {"source": "fake", "added": 1, "changed": 1, "removed": 1}
    assert sorted(i.key for i in await store.state.items(sources=["fake"])) == ["a", "b", "c", "e"]


async def test_unavailable_keeps_state_backs_off_and_recovers(setup, caplog):
    coordinator, source, clock, store, events = setup
    source.script = [ITEMS] + [SourceUnavailable("server down: 502")] * 3 + [ITEMS]
    await coordinator.poll("fake")
    caplog.set_level(logging.INFO, "oxymus.daemon.coordinator")
    for n in (1, 2, 3):
        clock.advance(60)
        view = await coordinator.poll("fake")
        assert (view.status, view.consecutive_failures, view.error_class) == ("failing", n, "unavailable")
        assert view.last_error == "server down: 502" and view.item_count == 4
    assert len(await store.state.items(sources=["fake"])) == 4, "previous state is kept"
    assert view.next_attempt > utc_iso(clock.t)
    warnings = [r for r in caplog.records if "server down" in r.getMessage()]
    assert len(warnings) == 1, "logged when the failure starts, not on every retry"
    clock.advance(400)
    assert coordinator.views()[0].stale, "old state is visibly stale while failing"
    view = await coordinator.poll("fake")
    assert (view.status, view.consecutive_failures, view.stale) == ("ok", 0, False)
    assert any("recovered after 3" in r.getMessage() for r in caplog.records)


async def test_needs_human_and_bugs_are_classified(setup, caplog):
    coordinator, source, clock, store, events = setup
    source.script = [NeedsHuman("GitHub refused the token (401)"), KeyError("oops"), KeyError("oops")]
    view = await coordinator.poll("fake")
    assert (view.status, view.error_class) == ("needs_human", "needs_human")
    view = await coordinator.poll("fake")
    assert (view.status, view.error_class, view.last_error) == ("failing", "bug", "KeyError: 'oops'")
    await coordinator.poll("fake")
    assert sum("poll failed with a bug" in r.getMessage() for r in caplog.records) == 1


async def test_a_hanging_source_times_out(setup):
    coordinator, source, clock, store, events = setup
    source.script = ["hang"]
    view = await coordinator.poll("fake")
    assert view.error_class == "unavailable" and "no answer within" in view.last_error


async def test_sudden_empty_answer_is_held_back_until_confirmed(setup):
    coordinator, source, clock, store, events = setup
    source.script = [ITEMS, [], [], ITEMS, [], ITEMS]
    await coordinator.poll("fake")
    view = await coordinator.poll("fake")
    assert view.suspect and "had 4 items" in view.suspect and view.item_count == 4
    assert len(await store.state.items(sources=["fake"])) == 4
    view = await coordinator.poll("fake")  # the second empty answer agrees: accepted
    assert view.suspect is None and view.item_count == 0
    await coordinator.poll("fake")
    view = await coordinator.poll("fake")  # a single blip...
    assert view.suspect and view.item_count == 4
    view = await coordinator.poll("fake")  # ...then normal again
    assert view.suspect is None and view.item_count == 4


async def test_an_unchanged_answer_keeps_the_state_and_counts_as_fresh(setup):
    """A source that read the same as last time skips its parse; the stored items stand."""
    coordinator, source, clock, store, events = setup
    seen: list[str | None] = []
    answers = [PollResult(items=[StateItem(source="fake", kind="fake.thing", key="a", observed_at="2026-11-21T08:00:00.000Z",
                                           data={"v": 1})], warnings=["line 3: skipped"], fingerprint="v1"),
               PollResult.same_as_before("v1"), PollResult.same_as_before("v0")]

    async def poll(ctx):
        seen.append(ctx.previous_fingerprint)
        return answers.pop(0)

    source.poll = poll
    await coordinator.poll("fake")
    drain(events)
    clock.advance(600)
    view = await coordinator.poll("fake")
    assert (view.status, view.item_count, view.warnings) == ("ok", 1, ["line 3: skipped"])
    assert view.last_success == utc_iso(clock.t)
    assert [e["topic"] for e in drain(events)] == ["source.health"]  # no state.changed
    # Claiming "unchanged" against a fingerprint it was not given is a connector bug, not a pass.
    view = await coordinator.poll("fake")
    assert view.error_class == "bug" and "not given" in view.last_error
    assert len(await store.state.items(sources=["fake"])) == 1
    assert seen == [None, "v1", "v1"]


async def test_health_survives_a_restart(setup, tmp_path):
    coordinator, source, clock, store, events = setup
    source.script = [ITEMS, SourceUnavailable("down")]
    await coordinator.poll("fake")
    await coordinator.poll("fake")
    again = Coordinator(store, EventBus(), config_mod.defaults(), tmp_path, now=clock)
    await again.start(schedule=False)
    (view,) = again.views()
    assert (view.item_count, view.consecutive_failures, view.last_error) == (4, 1, "down")


def test_backoff_grows_to_a_cap_with_jitter_and_honours_retry_after():
    low = [backoff_delay(n, rng=lambda: 0.0) for n in range(1, 20)]
    high = [backoff_delay(n, rng=lambda: 1.0) for n in range(1, 20)]
    assert low == sorted(low) and low[0] == pytest.approx(4.0) and high[0] == pytest.approx(5.0)
    assert max(high) == pytest.approx(coord_mod.BACKOFF_CAP) and low[-1] == pytest.approx(coord_mod.BACKOFF_CAP * 0.8)
    assert backoff_delay(1, retry_after=120, rng=lambda: 0.5) == 120
    assert backoff_delay(1, retry_after=10**6, rng=lambda: 0.5) == coord_mod.RETRY_AFTER_CAP


def test_sources_come_from_config_through_entry_points(tmp_path):
    cfg = config_mod.parse(
        '[git]\nrepos = ["~/code"]\n[bills]\n[[calendar.ics]]\npath = "~/cal/personal.ics"\n'
        '[[calendar.ics]]\npath = "https://example.org/team.ics"\nname = "team"\n'
    )
    assert sorted(s.id for s in build_sources(cfg)) == ["bills", "calendar.personal", "calendar.team", "git"]
    assert build_sources(config_mod.defaults()) == []


async def test_sources_no_longer_configured_are_forgotten(tmp_path):
    store = await Store.open(str(tmp_path / "x.db"))
    try:
        item = StateItem(source="old", kind="k", key="1", observed_at="2026-01-01T00:00:00.000Z")
        await store.state.replace("old", [item])
        assert await store.state.forget_sources_except({"new"}) == ["old"]
        assert await store.state.items() == []
    finally:
        await store.close()


async def test_a_connector_that_cannot_start_is_a_failing_source_not_a_dead_daemon(tmp_path, monkeypatch):
    class Exploding:
        name = "boom"

        @classmethod
        def sources(cls, config):
            raise RuntimeError("missing dependency")

    class Fine:
        name = "fine"

        @classmethod
        def sources(cls, config):
            return [FakeSource("fine")]

    from oxymus.sources import configured

    monkeypatch.setattr(configured, "connectors", lambda: {"boom": Exploding, "fine": Fine})
    monkeypatch.setattr(configured, "broken_connectors", lambda: {"plugin": "connector 'plugin' failed to load: ImportError: x"})

    class Cfg:
        boom = fine = plugin = object()
        time = config_mod.defaults().time

    sources = build_sources(Cfg())
    assert [s.id for s in sources] == ["plugin", "boom", "fine"]
    store = await Store.open(str(tmp_path / "x.db"))
    try:
        coordinator = Coordinator(store, EventBus(), config_mod.defaults(), tmp_path, timeout=1)
        monkeypatch.setattr(coord_mod, "build_sources", lambda config: sources)
        await coordinator.start(schedule=False)
        view = await coordinator.poll("boom")
        assert view.status == "failing" and "could not start: RuntimeError: missing dependency" in view.last_error
        view = await coordinator.poll("plugin")
        assert "failed to load: ImportError" in view.last_error
    finally:
        await store.close()
