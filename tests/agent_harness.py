"""A real agent runtime on a temp profile, for agent tests: real store, real desk with the real
action kinds, a PLANS.md keeper, an executor, and a clock the test controls.

    async with AgentWorld(tmp_path, config_toml=..., plans=..., now=...) as w:
        await w.state("calendar.personal", [item, ...])      # what a source would have polled
        run = await w.run("planner")                          # one run, recorded like the daemon does
        w.actions(run)                                        # the actions it proposed
        await w.execute_due()                                 # run what the policy allowed
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from oxymus.action_kinds import action_specs
from oxymus.actions.model import Action
from oxymus.daemon.agents import AgentRuntime
from oxymus.daemon.desk import ActionDesk
from oxymus.daemon.events import EventBus
from oxymus.daemon.executor import Executor
from oxymus.daemon.local_effects import DaemonLocalEffects
from oxymus.daemon.parts import agent_settings
from oxymus.daemon.plans import PlansKeeper
from oxymus.profile import config as config_mod
from oxymus.sources.contract import StateItem, utc_iso
from oxymus.store.repos import Store


class AgentWorld:
    def __init__(self, directory: Path, *, config_toml: str = "", plans: str | None = None, policy: str | None = None,
                 now: dt.datetime | None = None, zone: str = "Europe/Berlin", llm: Any = None, files: dict[str, str] | None = None,
                 only: list[str] | None = None):
        self.dir = Path(directory)
        self.config_dir = self.dir / "config"
        self.data_dir = self.dir / "data"
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.zone = ZoneInfo(zone)
        text = f'[time]\nzone = "{zone}"\n' + config_toml
        if "[notify]" not in config_toml:
            # No desktop here: notifications are recorded, not shown, so agents still propose them.
            text += "\n[notify]\nenabled = false\n"
        (self.config_dir / "config.toml").write_text(text)
        for name, content in (files or {}).items():
            (self.config_dir / name).write_text(content)
        self.plans_path = self.data_dir / "PLANS.md"
        if plans is not None:
            self.plans_path.write_text(plans)
        self.policy_path = self.config_dir / "policy.toml"
        if policy is not None:
            self.policy_path.write_text(policy)
        self.config = config_mod.parse(text, str(self.config_dir / "config.toml"))
        self.clock = now or dt.datetime(2026, 11, 23, 6, 30, tzinfo=self.zone).astimezone(dt.timezone.utc)
        self.llm = llm
        self.only = only

    def now(self) -> dt.datetime:
        return self.clock

    def advance(self, **delta: float) -> None:
        self.clock += dt.timedelta(**delta)

    async def __aenter__(self) -> "AgentWorld":
        self.store = await Store.open(str(self.data_dir / "oxymus.db"))
        self.bus = EventBus()
        self.keeper = PlansKeeper(str(self.plans_path), self.store, self.bus, interval=3600)
        await self.keeper.start()
        self.desk = ActionDesk(self.store, self.bus, action_specs(self.config), policy_path=str(self.policy_path),
                               zone=self.zone, config_dir=str(self.config_dir), now=self.now)
        self.desk.local = DaemonLocalEffects(self.store, self.keeper, self.now, self.bus)
        self.executor = Executor(self.desk, timeout=30)
        self.runtime = AgentRuntime(self.store, self.bus, self.desk, zone=self.zone, artifacts_dir=str(self.data_dir / "artifacts"),
                                    settings=agent_settings(self.config), keeper=self.keeper, llm=self.llm, now=self.now,
                                    only=self.only, hot_budget_words=self.config.memory.hot_budget_words)
        await self.runtime.start(schedule=False)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.runtime.stop()
        await self.keeper.stop()
        await self.store.close()

    # --- seeding ------------------------------------------------------------------------

    async def state(self, source: str, items: list[StateItem]) -> None:
        await self.store.state.replace(source, items)

    def item(self, source: str, kind: str, key: str, *, starts: dt.datetime | None = None, ends: dt.datetime | None = None,
             data: dict[str, Any] | None = None, error: str | None = None) -> StateItem:
        return StateItem(source=source, kind=kind, key=key, observed_at=utc_iso(self.clock),
                         starts_at=utc_iso(starts) if starts else None, ends_at=utc_iso(ends) if ends else None,
                         data=data or {}, error=error)

    def local(self, day_offset: int, hour: int, minute: int = 0) -> dt.datetime:
        """An aware time on a day relative to the world's today, in its zone."""
        today = self.clock.astimezone(self.zone).date()
        return dt.datetime.combine(today + dt.timedelta(days=day_offset), dt.time(hour, minute), self.zone)

    async def capture(self, text: str, source: str = "cli"):
        capture, _ = await self.store.captures.add(text, source)
        return capture

    async def reload_plans(self) -> None:
        await self.keeper.reload()

    # --- running ------------------------------------------------------------------------

    async def run(self, name: str, trigger: str = "by hand", event: dict[str, Any] | None = None):
        return await self.runtime.run(name, trigger, event)

    async def actions(self, run=None, statuses: list[str] | None = None) -> list[Action]:
        found = await self.store.actions.list(statuses, limit=1000)
        if run is not None:
            found = [a for a in found if a.id in run.actions]
        return found

    async def execute_due(self) -> None:
        """Run what is due until nothing is: a flow's next step (or compensation) becomes due as one settles."""
        for _ in range(100):
            due = await self.store.actions.due(utc_iso(self.clock + dt.timedelta(days=1)))
            moved = False
            for action in due:
                after = await self.executor.run_one(action)
                moved = moved or (after.status, after.attempts) != (action.status, action.attempts)
            if not moved:  # nothing due, or nothing could run (paused)
                return
        raise AssertionError("actions kept coming due")

    async def artifacts(self, kind: str | None = None):
        return await self.store.agents.artifacts(kind)

    def file(self, *parts: str) -> str:
        return os.path.join(str(self.data_dir), *parts)
