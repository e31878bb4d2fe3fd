"""The coordinator: owns every source's polling cadence, error classification and health.

One APScheduler interval job per source (jittered; a run missed while the laptop
slept coalesces into one). Each poll's outcome falls into one of three classes:

- success: the items replace the source's state in one transaction (unless the
  answer is *suspect*: nothing at all where there were many items; then the
  previous state is kept and flagged until a second poll agrees);
- SourceUnavailable / NeedsHuman / a bug (any other exception): the previous state
  is kept (it goes stale visibly), the error is recorded, and the next attempt
  backs off exponentially with jitter up to a cap (honouring a server's
  Retry-After), then keeps trying at the cap.

Failures are logged when they start and when they end, not on every poll.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from oxymus.daemon.events import EventBus
from oxymus.daemon.scheduling import SharedJobs
from oxymus.models import SourceHealth, SourceView
from oxymus.profile.config import CoreConfig
from oxymus.sources.configured import build_sources
from oxymus.sources.contract import NeedsHuman, PollContext, PollResult, Source, SourceUnavailable, utc_iso
from oxymus.store.repos import Store

log = logging.getLogger("oxymus.daemon.coordinator")

BACKOFF_BASE = 5.0  # seconds before the first retry
BACKOFF_CAP = 900.0  # never wait longer than this between attempts (unless the server asks)
RETRY_AFTER_CAP = 3600.0
SUSPECT_MIN_ITEMS = 3  # an empty answer after at least this many items is held back
POLL_TIMEOUT_FACTOR = 3  # a whole poll may take this many times the per-request timeout


def backoff_delay(failures: int, retry_after: float | None = None, *, rng: Callable[[], float] = random.random) -> float:
    """Seconds until the next attempt after `failures` consecutive failures (>= 1)."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(failures - 1, 30))
    delay *= 0.8 + 0.2 * rng()  # jitter, so sources failing together do not retry together
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return delay


class SourceRuntime:
    def __init__(self, source: Source, health: SourceHealth):
        self.source = source
        self.health = health
        self.lock = asyncio.Lock()
        self.failing_message: str | None = None
        # Of the last poll whose items were stored; in memory only, so a restart parses once.
        self.fingerprint: str | None = None


class Coordinator:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        config: CoreConfig,
        config_dir: Path,
        *,
        secret: Callable[[str], str | None] | None = None,
        now: Callable[[], dt.datetime] | None = None,
        timeout: float = 20.0,
        scheduler: AsyncIOScheduler | None = None,
    ):
        self.store = store
        self.bus = bus
        self.config = config
        self.zone = config.time.tzinfo()
        self.config_dir = config_dir
        self._secret = secret
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self.timeout = timeout
        self.runtimes: dict[str, SourceRuntime] = {}
        self.jobs = SharedJobs("poll:", self.zone, scheduler)  # the daemon's one scheduler, or our own

    def context(self, previous_fingerprint: str | None = None) -> PollContext:
        return PollContext(zone=self.zone, config_dir=self.config_dir, now=self._now, secret=self._secret, timeout=self.timeout,
                           previous_fingerprint=previous_fingerprint)

    def now_iso(self) -> str:
        return utc_iso(self._now())

    async def start(self, *, schedule: bool = True) -> None:
        sources = build_sources(self.config)
        gone = await self.store.state.forget_sources_except({s.id for s in sources})
        if gone:
            log.info("forgot the state of sources no longer configured: %s", ", ".join(gone))
        for source in sources:
            saved = await self.store.state.load_health(source.id) or {}
            saved.pop("next_attempt", None)
            health = SourceHealth(source=source.id, interval=source.interval, stale_after=source.stale_after, **saved)
            self.runtimes[source.id] = SourceRuntime(source, health)
        if not schedule or not sources:
            return
        self.jobs.begin()
        start = dt.datetime.now(dt.timezone.utc)
        for i, source in enumerate(sources):
            self.jobs.add(
                self._scheduled, IntervalTrigger(seconds=source.interval, jitter=min(source.interval * 0.1, 30)),
                args=[source.id], key=source.id,
                # First polls soon after start, spread a little so they do not all start at once.
                next_run_time=start + dt.timedelta(seconds=0.2 * i),
            )
        self.jobs.run()
        log.info("polling %d source(s): %s", len(sources), ", ".join(s.id for s in sources))

    async def stop(self) -> None:
        self.jobs.end()

    async def _scheduled(self, source_id: str) -> None:
        try:
            await self.poll(source_id)
        except Exception:  # the scheduler must never see an exception escape
            log.exception("poll of %s failed unexpectedly", source_id)

    def match(self, pattern: str | None) -> list[str]:
        """Source ids for a name: exact, or every source under a prefix ("calendar" -> calendar.*)."""
        if not pattern:
            return list(self.runtimes)
        return [sid for sid in self.runtimes if sid == pattern or sid.startswith(pattern + ".")]

    def days_known(self, kind: str) -> tuple[dt.date, dt.date] | None:
        """The days every `kind` source (e.g. "calendar") holds state for: [first, last], or None if none says.

        A source with `days_kept` keeps the days around its last successful poll, so the window
        moves with that poll, not with the clock. One never polled is left out: the day view
        already says it was never polled, for every day alike.
        """
        first, last, any_ = dt.date.min, dt.date.max, False
        for rt in self.runtimes.values():
            kept = getattr(rt.source, "days_kept", None)
            if kept is None or rt.health.last_success is None:
                continue
            if not (rt.source.id == kind or rt.source.id.startswith(kind + ".")):
                continue
            any_ = True
            polled = dt.datetime.fromisoformat(rt.health.last_success).astimezone(self.zone).date()
            first = max(first, polled - dt.timedelta(days=kept[0]))
            last = min(last, polled + dt.timedelta(days=kept[1]))
        return (first, last) if any_ else None

    def views(self) -> list[SourceView]:
        now = self.now_iso()
        return [rt.health.view(now) for rt in self.runtimes.values()]

    async def poll(self, source_id: str) -> SourceView:
        """Poll one source now (waiting for one already under way to finish first)."""
        rt = self.runtimes[source_id]
        async with rt.lock:
            await self._poll(rt)
        return rt.health.view(self.now_iso())

    async def _poll(self, rt: SourceRuntime) -> None:
        h = rt.health
        h.last_attempt = self.now_iso()
        ctx = self.context(rt.fingerprint)
        try:
            result = await asyncio.wait_for(rt.source.poll(ctx), timeout=self.timeout * POLL_TIMEOUT_FACTOR)
            if not isinstance(result, PollResult):
                raise TypeError(f"poll() returned {type(result).__name__}, not PollResult")
            if result.unchanged and (rt.fingerprint is None or result.fingerprint != rt.fingerprint):
                raise TypeError("poll() answered unchanged for a fingerprint it was not given")
        except SourceUnavailable as exc:
            await self._failed(rt, "unavailable", str(exc), exc.retry_after)
        except NeedsHuman as exc:
            await self._failed(rt, "needs_human", str(exc), None)
        except asyncio.TimeoutError:
            await self._failed(rt, "unavailable", f"no answer within {self.timeout * POLL_TIMEOUT_FACTOR:g} s", None)
        except Exception as exc:  # a bug in the connector: same handling, plus its traceback in the log
            await self._failed(rt, "bug", f"{type(exc).__name__}: {exc}", None, exc)
        else:
            await self._succeeded(rt, result)
        await self.store.state.save_health(h)
        self.bus.publish("source.health", h.view(self.now_iso()).model_dump(mode="json"))

    async def _succeeded(self, rt: SourceRuntime, result: PollResult) -> None:
        h = rt.health
        previous = h.item_count
        if result.unchanged:
            pass  # the stored items and their warnings stand
        elif not result.items and previous >= SUSPECT_MIN_ITEMS and h.suspect is None:
            h.suspect = f"answered with nothing where it had {previous} items; keeping them until the next poll agrees"
            log.warning("%s: %s", rt.source.id, h.suspect)
            self._reschedule(rt, min(rt.source.interval, 60.0))
        else:
            if h.suspect is not None:
                log.info("%s: %s", rt.source.id, "the next poll agreed" if not result.items else "answered normally again")
            h.suspect = None
            diff = await self.store.state.replace(rt.source.id, result.items)
            rt.fingerprint = result.fingerprint  # only once its items are stored
            h.item_count = await self.store.state.count(rt.source.id)
            if diff:
                self.bus.publish("state.changed", {"source": rt.source.id, **diff.as_dict()})
        if not result.unchanged:
            h.warnings = result.warnings[:50]
        h.last_success = self.now_iso()
        if rt.failing_message is not None:
            log.info("%s: recovered after %d failed attempt(s)", rt.source.id, h.consecutive_failures)
            rt.failing_message = None
        h.consecutive_failures = 0
        h.error_class = None
        h.next_attempt = None

    async def _failed(
        self, rt: SourceRuntime, error_class: str, message: str, retry_after: float | None, bug: Exception | None = None,
    ) -> None:
        h = rt.health
        h.consecutive_failures += 1
        h.error_class = error_class  # type: ignore[assignment]
        h.last_error = message
        h.last_error_at = self.now_iso()
        if error_class == "needs_human":
            delay = BACKOFF_CAP  # only the person can fix it; keep checking, slowly
        else:
            delay = backoff_delay(h.consecutive_failures, retry_after)
        h.next_attempt = utc_iso(self._now() + dt.timedelta(seconds=delay))
        if rt.failing_message != message:
            # Logged when a failure starts or changes, never on every retry.
            log.warning(
                "%s: %s%s (%s; next attempt in %.0f s)", rt.source.id, "poll failed with a bug: " if bug else "",
                message, error_class, delay, exc_info=bug,
            )
            rt.failing_message = message
        self._reschedule(rt, delay)

    def _reschedule(self, rt: SourceRuntime, delay: float) -> None:
        job = self.jobs.get(rt.source.id)
        if job is not None:
            job.modify(next_run_time=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=delay))

    async def refresh(self, pattern: str | None) -> list[SourceView]:
        """Poll the matching sources now, concurrently; returns their health afterwards."""
        ids = self.match(pattern)
        return list(await asyncio.gather(*(self.poll(i) for i in ids)))

