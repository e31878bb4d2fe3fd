"""The agent runtime: schedules agents, runs them inside their declared bounds, records every run.

- Triggers: a local time (APScheduler cron, coalesced: a run missed while the laptop
  slept runs once on wake, not once per missed day; at start, one missed since the
  last run is caught up once), an interval, or events from the bus (debounced).
- A run gets a `RunContext` that checks every read and proposal against the
  agent's declaration (`OutOfBounds` fails the run) and records what it read (as
  references), what it made and proposed, and each LLM call.
- A run that fails is recorded with its error and retried on its next trigger; it
  never takes the daemon down. One run per agent at a time.
- A run that ends `failed` or `stopped` (an exception, or the agent's own
  `Finished.failed/stopped`) is audited as `agent.failed` / `agent.stopped` (in
  `oxymus log --problems`) and told to the person once: not again while the same
  agent keeps ending the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import re
import time
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from oxymus.actions.errors import ActionError
from oxymus.actions.model import FLOW, Action, InputRef, Proposer
from oxymus.agents.base import PROBLEM_OUTCOMES, Agent, AgentRun, AgentSettings, Artifact, Finished, LlmUse, OutOfBounds
from oxymus.client import wire
from oxymus.daemon.agent_graph import StatusStarts
from oxymus.daemon.agent_progress import INTERVAL_S, RunProgress
from oxymus.daemon.agent_reads import RecordAndMailReads
from oxymus.daemon.events import EventBus
from oxymus.daemon.scheduling import SharedJobs
from oxymus.daemon.tasks import cancel
from oxymus.kernel import files
from oxymus.kernel.cpu_pool import CpuPool
from oxymus.kernel.debounce import Debouncer
from oxymus.kernel.ulid import new_ulid
from oxymus.models import AuditEvent, Capture
from oxymus.plugins import agents as agent_classes
from oxymus.plugins import broken_agents
from oxymus.sources.contract import StateItem, utc_iso
from oxymus.store.repos import Store
from oxymus.time.timeofday import parse_clock
from oxymus.time.when import parse_duration

log = logging.getLogger("oxymus.daemon.agents")

RUN_TIMEOUT = 300.0
CATCH_UP_WINDOW = dt.timedelta(hours=20)  # a morning run missed overnight is caught up; last week's is not
WEEKLY_CATCH_UP_WINDOW = dt.timedelta(days=4)


class RunContext(RecordAndMailReads):
    """What one run may use; every read and proposal is checked against the agent's declaration."""

    def __init__(self, runtime: "AgentRuntime", agent: Agent, run: AgentRun, event: dict[str, Any] | None,
                 llm: Any, llm_status: str):
        self.rt = runtime
        self.agent = agent
        self.run_id = run.id
        self.trace_id = run.trace_id
        self.trigger = run.trigger
        self.event = event
        self.zone = runtime.zone
        self.settings = agent.settings
        self.llm = llm
        self.llm_status = llm_status
        self.inputs: list[InputRef] = []
        self.artifact_ids: list[str] = []
        self.action_ids: list[str] = []
        self.notes: list[str] = []
        # The LLM's answer as it streams (agents pass it as `stream_to`): throttled `agent.progress` events.
        self.progress = RunProgress(runtime.bus.publish, agent.name, run.id, interval=runtime.progress_interval)

    # --- bounds -------------------------------------------------------------------------

    def _check(self, what: str) -> None:
        if not self.agent.may_read(what):
            raise OutOfBounds(f"agent {self.agent.name} may not read {what} (it declares: {', '.join(self.agent.reads) or 'nothing'})")

    def _ref(self, kind: str, ref: str, note: str = "") -> None:
        if len(self.inputs) < 500:
            self.inputs.append(InputRef(kind=kind, ref=ref[:500], note=note[:500]))

    # --- time ---------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self.rt.now()

    def today(self) -> dt.date:
        return self.now().astimezone(self.zone).date()

    # --- reads --------------------------------------------------------------------------

    async def state(self, kinds: list[str], *, start: str | None = None, end: str | None = None) -> list[StateItem]:
        for kind in kinds:
            self._check(f"state:{kind}")
        items = await self.rt.store.state.items(kinds=kinds, start=start, end=end)
        self._ref("state", ",".join(kinds), f"{len(items)} items" + (f" from {start}" if start else "") + (f" to {end}" if end else ""))
        return items

    def calendars(self) -> list[str]:
        """The CalDAV calendars an event can be created in (their names); [] when none is configured."""
        spec = self.rt.desk.specs.get("calendar.create_event") if self.rt.desk is not None else None
        return [entry.source_name() for entry in (getattr(getattr(spec, "config", None), "caldav", None) or [])]

    async def sources(self):
        self._check("sources")
        views = self.rt.coordinator.views() if self.rt.coordinator is not None else []
        self._ref("sources", "health", f"{len(views)} sources")
        return views

    async def memory(self, tier: str, query: str = "", limit: int = 50):
        self._check(f"memory:{tier}")
        hits = await self.rt.store.memory.search(query, tier=tier, limit=limit)
        self._ref("memory", f"tier {tier}" + (f" query {query!r}" if query else ""), ", ".join(h.record.id for h in hits[:20]))
        return hits

    async def plans(self):
        self._check("plans")
        keeper = self.rt.keeper
        doc = keeper.document if keeper is not None else None
        self._ref("plans", keeper.path if keeper is not None else "PLANS.md", f"sha256 {doc.sha256[:12]}" if doc else "not read")
        return doc

    async def captures(self, status: str = "open", limit: int = 200) -> list[Capture]:
        self._check("captures")
        captures = await self.rt.store.captures.list(status, limit)
        self._ref("captures", status, f"{len(captures)} captures")
        return captures

    async def audit(self, since: str, limit: int = 2000) -> list[AuditEvent]:
        self._check("audit")
        events = await self.rt.store.audit.query(since=since, limit=limit)
        self._ref("audit", f"since {since}", f"{len(events)} events")
        return events

    async def actions(self, statuses: list[str] | None = None, limit: int = 500) -> list[Action]:
        self._check("actions")
        found = await self.rt.store.actions.list(statuses, limit=limit, newest_first=True)
        self._ref("actions", ",".join(statuses or ["all"]), f"{len(found)} actions")
        return found

    async def metrics(self, months: int = 2):
        """The compounding metrics (`oxymus.metrics`) of the last `months`, on a store reader: they are
        derived from the audit log and the actions, so an agent declares both to read them."""
        self._check("audit")
        self._check("actions")
        from oxymus.metrics.compute import compute

        now, zone = self.now(), self.zone
        result = await self.rt.store.read(lambda db: compute(db, now=now, zone=zone, months=months))
        self._ref("audit", "metrics", f"{months} months")
        return result

    async def records(self, kind: str, status: str | None = None, limit: int = 500) -> list[Any]:
        self._check(f"records:{kind}")
        found = await self.rt.store.records.list(kind=kind, status=status, limit=limit)
        self._ref("records", f"{kind} {status or 'any status'}", ", ".join(r.id for r in found[:20]))
        return found

    async def runs(self, agent: str | None = None, limit: int = 50) -> list[AgentRun]:
        self._check("runs")
        return await self.rt.store.agents.runs(agent, limit)

    async def artifacts(self, kind: str, *, agent: str | None = None, limit: int = 50) -> list[Artifact]:
        self._check(f"artifacts:{kind}")
        found = await self.rt.store.agents.artifacts(kind, agent=agent, limit=limit)
        self._ref("artifacts", kind, ", ".join(a.key for a in found[:20]))
        return found

    async def artifact_keys(self, kind: str, *, agent: str | None = None) -> set[str]:
        self._check(f"artifacts:{kind}")
        keys = await self.rt.store.agents.artifact_keys(kind, agent or self.agent.name)
        self._ref("artifacts", f"{kind} keys", f"{len(keys)} keys")
        return keys

    # --- writes -------------------------------------------------------------------------

    async def artifact(self, kind: str, key: str, title: str, content: str, *, data: dict[str, Any] | None = None,
                       filename: str | None = None) -> Artifact:
        art = await self.rt.save_artifact(self.agent.name, self.run_id, kind, key, title, content, data=data, filename=filename)
        self.artifact_ids.append(art.id)
        return art

    async def propose(self, kind: str, payload: dict[str, Any], *, reason: str, inputs: list[InputRef] | None = None,
                      confidence: float | None = None, key: str | None = None, not_before: dt.datetime | None = None) -> Action | None:
        return await self._submit(kind, payload, [kind], kind, reason=reason, inputs=inputs, confidence=confidence, key=key,
                                  not_before=not_before)

    async def propose_flow(self, title: str, steps: list[tuple[str, dict[str, Any]]], *, reason: str,
                           inputs: list[InputRef] | None = None, confidence: float | None = None, key: str | None = None) -> Action | None:
        """Several actions as one flow: one approval, run in order, taken back in reverse if a step fails for good.
        The agent must declare every step's kind; a flow is refused whole if one step is out of bounds."""
        payload = {"title": title, "steps": [{"kind": kind, "payload": p} for kind, p in steps]}
        return await self._submit(FLOW, payload, [kind for kind, _ in steps], f"the flow “{title}”", reason=reason,
                                  inputs=inputs, confidence=confidence, key=key)

    async def _submit(self, kind: str, payload: dict[str, Any], kinds: list[str], what: str, *, reason: str,
                      inputs: list[InputRef] | None, confidence: float | None, key: str | None,
                      not_before: dt.datetime | None = None) -> Action | None:
        for each in kinds:
            if not self.agent.may_propose(each):
                raise OutOfBounds(f"agent {self.agent.name} may not propose {each} (it declares: {', '.join(self.agent.proposes) or 'nothing'})")
        for each in kinds:
            spec = self.rt.desk.specs.get(each)
            available, why = spec.available() if spec is not None else (True, "")
            if not available:
                # Not proposed at all, rather than queued to fail: what it was about stays in the
                # run's summary and artifacts, and `oxymus status` says why.
                self.note(f"{what} not proposed: {why}")
                return None
        try:
            action, _ = await self.rt.desk.propose(
                kind, payload, proposer=Proposer(type="agent", name=self.agent.name, run_id=self.run_id), reason=reason,
                inputs=inputs or [], confidence=confidence, key=key, trace_id=self.trace_id, not_before=not_before,
            )
        except ActionError as exc:
            # Stale data or a connector's refusal: the run goes on and says why in its summary.
            self.note(f"could not propose {what}: {exc.message}")
            return None
        self.action_ids.append(action.id)
        return action

    async def payments(self, bills: list[str]) -> dict[tuple[str, str], str]:
        """Which due dates of these bills are recorded paid (Oxymus' own records, beside the bills' state)."""
        self._check("state:bills.due")
        paid = await self.rt.store.state.payments(bills)
        self._ref("payments", ",".join(bills[:20]), f"{len(paid)} paid")
        return paid

    async def paused(self):
        """Agents that speak up by themselves (the sentinel) stay quiet while the person paused automation."""
        return await self.rt.store.actions.pause_state()

    async def hot_budget(self):
        self._check("memory:hot")
        report = await self.rt.store.memory.budget(self.rt.hot_budget_words)
        self._ref("memory", "hot budget", f"{report.used_words}/{report.limit_words} words")
        return report

    async def recall(self, key: str) -> Any:
        return await self.rt.store.agents.recall(self.agent.name, key)

    async def remember(self, key: str, value: Any) -> None:
        await self.rt.store.agents.remember(self.agent.name, key, value, utc_iso(self.now()))

    def note(self, text: str) -> None:
        self.notes.append(text)
        log.info("agent %s: %s", self.agent.name, text)


def collapsed(notes: list[str]) -> list[str]:
    """Each note once, in first-said order, with how many times it was said ("(x50)"): fifty leads
    without a [mail] section say the same thing fifty times, and the summary has 2,000 characters."""
    counts: dict[str, int] = {}
    for note in notes:
        counts[note] = counts.get(note, 0) + 1
    return [note if n == 1 else f"{note} (x{n})" for note, n in counts.items()]


def _write_atomic(path: str, content: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    files.write_atomic(path, content.encode("utf-8"), mode=files.default_mode())


class AgentRuntime:
    def __init__(self, store: Store, bus: EventBus, desk, *, zone, artifacts_dir: str, settings: dict[str, AgentSettings] | None = None,
                 keeper=None, coordinator=None, llm=None, now=None, only: list[str] | None = None,
                 hot_budget_words: int = 1500, scheduler: AsyncIOScheduler | None = None,
                 progress_interval: float = INTERVAL_S, cache_dir: str | None = None):
        # Derived files agents rebuild at will (the research agent's notes index): beside the artifacts by default.
        self.cache_dir = cache_dir or os.path.join(os.path.dirname(os.path.abspath(artifacts_dir)), "cache")
        self.hot_budget_words = hot_budget_words
        self.cpu = CpuPool()  # agents' seconds of pure-Python work, in a process of its own (ctx.maildir)
        self.progress_interval = progress_interval  # seconds between two `agent.progress` events of a run
        self.store = store
        self.bus = bus
        self.desk = desk
        self.zone = zone
        self.artifacts_dir = artifacts_dir
        self.keeper = keeper
        self.coordinator = coordinator
        self.llm = llm
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        settings = settings or {}
        self.agents: dict[str, Agent] = {}
        for name, cls in agent_classes().items():
            if only is not None and name not in only:
                continue
            self.agents[name] = cls(settings.get(name))
        self.broken = broken_agents()
        self._locks = {name: asyncio.Lock() for name in self.agents}
        self.jobs = SharedJobs("agent:", zone, scheduler)  # the daemon's one scheduler, or our own
        self._tasks: list[asyncio.Task] = []
        self._subscriber = None
        self.status_starts = None  # daemon/agent_graph.py: consumers started on a record's status

    def now(self) -> dt.datetime:
        return self._now()

    async def save_artifact(self, agent: str, run_id: str, kind: str, key: str, title: str, content: str, *,
                            data: dict[str, Any] | None = None, filename: str | None = None) -> Artifact:
        """Store an artifact (replacing the agent's one of that kind and key) and, given a plain `filename`, write it to
        `artifacts/AGENT/FILENAME` too; announced as `artifact.saved`. Runs save theirs here, and so does the morning
        review when it rewrites the day plan."""
        path = None
        if filename:
            if os.sep in filename or filename.startswith("."):
                raise OutOfBounds(f"artifact file name {filename!r} must be a plain name")
            path = os.path.join(self.artifacts_dir, agent, filename)
            await asyncio.to_thread(_write_atomic, path, content)
        art = Artifact(id=new_ulid(), agent=agent, run_id=run_id, kind=kind, key=key, title=title,
                       content=content, data=data or {}, path=path, created_at=utc_iso(self.now()))
        await self.store.agents.save_artifact(art)
        self.bus.publish("artifact.saved", {"id": art.id, "agent": art.agent, "kind": kind, "key": key, "title": title})
        if kind == "brief" and isinstance(data, dict) and data.get("record_kind"):
            # A brief is shown with its record (records.get): views of the record reload as for a change.
            self.bus.publish("record.changed", {"id": key, "kind": data["record_kind"], "verb": "briefed"})
        return art

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, *, schedule: bool = True) -> None:
        gone = await self.store.agents.interrupted(utc_iso(self.now()))
        if gone:
            log.warning("%d agent run(s) were interrupted by the last stop; they retry on their next trigger", gone)
        for name, why in self.broken.items():
            log.error("%s", why)
        # Handoffs are recorded even when nothing runs by itself; consumers start only when scheduled.
        self.status_starts = StatusStarts(self, start_consumers=schedule)
        self.status_starts.start()
        if not schedule:
            return
        self.jobs.begin()
        topics: dict[str, list[str]] = {}
        for name, agent in self.agents.items():
            if not agent.settings.enabled:
                continue
            trig = agent.effective_trigger
            if trig.at:
                at = parse_clock(trig.at)
                hour, minute = at.hour, at.minute
                days = ",".join(trig.weekdays) if trig.weekdays else "*"
                self.jobs.add(self._scheduled, CronTrigger(hour=hour, minute=minute, day_of_week=days, timezone=self.zone),
                              args=[name, f"schedule {trig.describe()}"], key=name)
            elif trig.every:
                every = parse_duration(trig.every)
                self.jobs.add(self._scheduled, IntervalTrigger(seconds=every, jitter=min(every * 0.05, 30)),
                              args=[name, f"every {trig.every}"], key=name,
                              next_run_time=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5))
            elif trig.on:
                topics[name] = trig.on
            if agent.also_on:  # events that start it besides its schedule (intake: a new capture)
                topics[name] = [*topics.get(name, []), *agent.also_on]
        self.jobs.run()
        if topics:
            self._tasks.append(asyncio.create_task(self._listen(topics), name="agent-events"))
        self._tasks.append(asyncio.create_task(self._catch_up(), name="agent-catch-up"))
        log.info("agents: %s", ", ".join(f"{n} ({a.effective_trigger.describe()})" for n, a in self.agents.items()
                                         if a.settings.enabled) or "none enabled")

    async def stop(self) -> None:
        self.jobs.end()
        self.cpu.close()
        if self.status_starts is not None:
            await self.status_starts.stop()
        if self._subscriber is not None:
            self.bus.unsubscribe(self._subscriber)
        for task in self._tasks:
            await cancel(task)

    async def _scheduled(self, name: str, trigger: str) -> None:
        try:
            await self.run(name, trigger)
            await self.store.agents.remember(name, "_last_scheduled", utc_iso(self.now()), utc_iso(self.now()))
        except Exception:  # the scheduler must never see an exception escape
            log.exception("scheduled run of %s failed unexpectedly", name)

    def last_due(self, agent: Agent, now: dt.datetime) -> dt.datetime | None:
        """The most recent time the agent's daily trigger was due, at or before `now`."""
        trig = agent.effective_trigger
        if not trig.at:
            return None
        at = parse_clock(trig.at)
        hour, minute = at.hour, at.minute
        local = now.astimezone(self.zone)
        day = local.date()
        for _ in range(8):
            candidate = dt.datetime.combine(day, dt.time(hour, minute), self.zone)
            if candidate <= local and (not trig.weekdays or ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day.weekday()] in trig.weekdays):
                return candidate.astimezone(dt.timezone.utc)
            day -= dt.timedelta(days=1)
        return None

    async def _catch_up(self) -> None:
        """A scheduled run missed while the daemon was not running runs once, if it is recent enough."""
        await asyncio.sleep(1.0)  # let sources poll first, so the catch-up sees fresh state
        now = self.now()
        for name, agent in self.agents.items():
            if not agent.settings.enabled:
                continue
            due = self.last_due(agent, now)
            # A weekly run (a review) is worth catching up for days; a daily one only until the next.
            window = WEEKLY_CATCH_UP_WINDOW if agent.effective_trigger.weekdays else CATCH_UP_WINDOW
            if due is None or now - due > window:
                continue
            last = await self.store.agents.recall(name, "_last_scheduled")
            if last is not None and last >= utc_iso(due):
                continue
            log.info("agent %s missed its run at %s; running it once now", name, due.astimezone(self.zone).strftime("%a %H:%M"))
            await self._scheduled(name, f"catch-up (missed {due.astimezone(self.zone):%a %H:%M})")

    async def _listen(self, topics: dict[str, list[str]]) -> None:
        wanted = sorted({t for ts in topics.values() for t in ts})
        self._subscriber = self.bus.subscribe(wanted, "agents")
        pending: dict[str, list[dict[str, Any]]] = {}
        # One debouncer per agent (oxymus/kernel/debounce.py, the TUI's too): a burst of events is
        # one run, and events that arrive during that run get one more run after it.
        debouncers: dict[str, Debouncer] = {}
        try:
            while True:
                event = await self._subscriber.queue.get()
                if event is None:
                    log.warning("agent event queue overflowed; resubscribing")
                    self._subscriber = self.bus.subscribe(wanted, "agents")
                    continue
                for name, ts in topics.items():
                    if not any(t == event["topic"] or (t.endswith("*") and event["topic"].startswith(t[:-1])) for t in ts):
                        continue
                    pending.setdefault(name, []).append(event)
                    if name not in debouncers:
                        delay = parse_duration(self.agents[name].effective_trigger.debounce)
                        debouncers[name] = Debouncer(delay, functools.partial(self._after, name, pending), name=f"{name} events")
                    debouncers[name]()
        finally:
            for debouncer in debouncers.values():
                debouncer.cancel()

    async def _after(self, name: str, pending: dict[str, list[dict[str, Any]]]) -> None:
        events = pending.pop(name, [])
        if events:
            topics = sorted({e["topic"] for e in events})
            try:
                await self.run(name, f"event {', '.join(topics)}", {"events": events})
            except Exception:
                log.exception("event run of %s failed unexpectedly", name)

    # --- one run --------------------------------------------------------------------------

    async def run(self, name: str, trigger: str = "by hand", event: dict[str, Any] | None = None) -> AgentRun:
        agent = self.agents.get(name)
        if agent is None:
            known = ", ".join(sorted(self.agents)) or "none"
            raise wire.RpcError(wire.INVALID_INPUT, f"no agent {name!r} (agents: {known})")
        lock = self._locks[name]
        if lock.locked():
            log.info("agent %s is already running; this trigger (%s) is folded into that run", name, trigger)
            async with lock:  # wait for it, then report it
                pass
            return (await self.store.agents.runs(name, 1))[0]
        async with lock:
            return await self._run(agent, trigger, event)

    async def run_waiting(self, name: str, trigger: str, event: dict[str, Any] | None) -> AgentRun:
        """Run after a run under way rather than fold into it: each record handed over gets its own run."""
        async with self._locks[name]:
            return await self._run(self.agents[name], trigger, event)

    async def _run(self, agent: Agent, trigger: str, event: dict[str, Any] | None) -> AgentRun:
        started = self.now()
        run = AgentRun(id=new_ulid(), agent=agent.name, trigger=trigger, trace_id=new_ulid(), started_at=utc_iso(started))
        await self.store.agents.start_run(run)
        llm, llm_status = await self._llm_for_run()
        ctx = RunContext(self, agent, run, event, llm, llm_status)
        t0 = time.monotonic()
        outcome, error, summary = "succeeded", None, ""
        try:
            async with self.desk.asking_once(agent.name):
                result = await asyncio.wait_for(agent.run(ctx), RUN_TIMEOUT)
            if isinstance(result, Finished):
                outcome, summary = result.outcome, result.summary
                if outcome in PROBLEM_OUTCOMES:
                    error = (summary.strip().splitlines() or [outcome])[0][:500]
            else:
                summary = result or ""
        except OutOfBounds as exc:
            outcome, error = "failed", f"out of bounds: {exc}"
        except asyncio.TimeoutError:
            outcome, error = "failed", f"took longer than {RUN_TIMEOUT:.0f} s"
        except asyncio.CancelledError:
            outcome, error = "failed", "interrupted: the daemon stopped during the run"
            raise
        except Exception as exc:  # noqa: BLE001 - a failing agent never takes the daemon down
            log.exception("agent %s failed", agent.name)
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            calls = llm.take_calls() if llm is not None and hasattr(llm, "take_calls") else []
            notes = "; ".join(collapsed(ctx.notes))
            finished = run.model_copy(update={
                "finished_at": utc_iso(self.now()), "duration_ms": round((time.monotonic() - t0) * 1000, 1),
                "outcome": outcome, "error": error, "summary": (summary + ("; " if summary and notes else "") + notes)[:2000],
                "inputs": ctx.inputs, "artifacts": ctx.artifact_ids, "actions": ctx.action_ids,
                "llm": [LlmUse(**{k: getattr(c, k) for k in LlmUse.model_fields}) for c in calls],
                "llm_available": llm is not None,
            })
            ctx.progress.end()  # no progress event may follow the run's end
            await asyncio.shield(self.store.agents.finish_run(finished))
            self.bus.publish("agent.finished", {"id": run.id, "agent": agent.name, "outcome": outcome, "summary": finished.summary,
                                                "error": error, "trace_id": run.trace_id, "llm": llm_status})
            if outcome == "failed":
                log.error("agent %s run %s failed: %s (it retries on its next trigger)", agent.name, run.id, error)
            elif outcome == "stopped":
                log.warning("agent %s run %s stopped: %s", agent.name, run.id, error)
        if outcome in PROBLEM_OUTCOMES:
            await self._tell(finished)
        return finished

    async def _tell(self, run: AgentRun) -> None:
        """One notification for a run that failed or stopped, unless the agent's previous run
        ended the same way (then the person already knows: an agent every 10 minutes must not
        repeat it). Keyed by the run, so a run is never told twice."""
        recent = await self.store.agents.runs(run.agent, 2)
        before = next((r for r in recent if r.id != run.id), None)
        if before is not None and before.outcome == run.outcome and before.error == run.error:
            return
        verb = "failed" if run.outcome == "failed" else "stopped"
        await self.desk.notify_person(
            {"title": f"Agent {run.agent} {verb}"[:200],
             "body": (f"{run.error or run.summary}\n\n`oxymus agents history {run.agent}` shows the run; "
                      "`oxymus log --problems` lists it.")[:1000],
             "urgency": "normal", "kind": "agent", "facts": [f"agent-run:{run.id}"]},
            by="agents", reason=f"agent {run.agent} run {run.id} {verb}", key=f"agent-run:{run.id}", trace_id=run.trace_id,
        )

    async def _llm_for_run(self) -> tuple[Any, str]:
        if self.llm is None:
            return None, "LLM unavailable: not configured"
        try:
            status = await self.llm.status()
        except Exception as exc:  # noqa: BLE001
            return None, f"LLM unavailable: {exc}"
        if not status.available:
            reason = status.reason
            return None, reason if reason.lower().startswith("llm unavailable") else f"LLM unavailable: {reason}"
        return self.llm, "available"

    # --- views ----------------------------------------------------------------------------

    async def describe(self) -> list[dict[str, Any]]:
        out = []
        for name, agent in sorted(self.agents.items()):
            last = await self.store.agents.runs(name, 1)
            job = self.jobs.get(name)
            out.append({
                "name": name, "role": agent.role, "reads": list(agent.reads), "proposes": list(agent.proposes),
                "trigger": agent.describe_trigger(), "enabled": agent.settings.enabled,
                "next_run": utc_iso(job.next_run_time) if job is not None and job.next_run_time else None,
                "last_run": last[0].model_dump(mode="json") if last else None,
            })
        return out


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "item"
