"""Everything the daemon runs besides answering `hello` and `status`: the scheduler, sources,
the plans keeper, the action desk and executor, agents, housekeeping.

`main` imports this module (in a thread) and builds it right after the socket answers, so a
start costs only the store and the server up front; requests for methods these serve wait
for them in the RPC server (never fail, never answer from a half-built daemon).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from oxymus.action_kinds import action_specs
from oxymus.daemon.agents import AgentRuntime
from oxymus.daemon.backups import DailyBackups
from oxymus.daemon.coordinator import Coordinator
from oxymus.daemon.desk import ActionDesk
from oxymus.daemon.events import EventBus
from oxymus.daemon.executor import Executor
from oxymus.daemon.local_effects import DaemonLocalEffects
from oxymus.daemon.plans import PlansKeeper
from oxymus.daemon.registry import Registry
from oxymus.daemon.scheduling import make_scheduler
from oxymus.daemon.service import Service
from oxymus.daemon.system_rpc import SystemHandlers
from oxymus.daemon.watcher import CaptureWatcher
from oxymus.profile.config import CoreConfig as Config
from oxymus.profile.paths import Paths
from oxymus.sources import secrets
from oxymus.store.repos import Store

log = logging.getLogger("oxymus.daemon")


class Parts:
    """Built on the event loop (constructors only: no IO), then `start()`ed; `stop()` undoes
    whatever `start()` got to, in reverse, also after a start that failed halfway."""

    def __init__(self, paths: Paths, config: Config, store: Store, bus: EventBus, stop: asyncio.Event,
                 system: SystemHandlers, now=None):
        zone = config.time.tzinfo()
        self.store = store
        self.watcher = CaptureWatcher(store, bus)
        self.scheduler = make_scheduler(zone)  # the one APScheduler: source polls and agent triggers
        self.coordinator = Coordinator(store, bus, config, Path(paths.config_dir), secret=keyring_secret,
                                       scheduler=self.scheduler, now=now)
        self.keeper = PlansKeeper(plans_path(paths, config), store, bus, max_bytes=config.plans.max_bytes)
        self.desk = ActionDesk(
            store, bus, action_specs(config), policy_path=paths.policy_file, zone=zone,
            config_dir=paths.config_dir, secret=keyring_secret, now=now,
        )
        self.desk.local = DaemonLocalEffects(store, self.keeper, self.desk.now, bus)
        self.desk.policy()  # read now, so a broken policy.toml is reported at start
        self.executor = Executor(self.desk)
        self.agents = AgentRuntime(
            store, bus, self.desk, zone=zone, artifacts_dir=os.path.join(paths.data_dir, "artifacts"),
            settings=agent_settings(config), keeper=self.keeper, coordinator=self.coordinator, llm=make_llm(config),
            hot_budget_words=config.memory.hot_budget_words, scheduler=self.scheduler, now=now,
            cache_dir=os.path.join(paths.data_dir, "cache"),
        )
        backups = DailyBackups(paths.db_file, paths.backup_dir, config.backup.keep)
        self.service = Service(store, self.watcher, self.coordinator, paths.socket, stop, bus=bus,
                               memory_config=config.memory, plans=self.keeper, desk=self.desk, agents=self.agents,
                               audit_keep_days=config.audit.keep_days, backups=backups, system=system)
        self._undo: list[Callable[[], Awaitable[None]]] = []
        self._maintenance: asyncio.Task | None = None

    def registry(self) -> Registry:
        return self.service.registry()

    async def start(self) -> None:
        await self.watcher.start()
        self._undo.append(self.watcher.stop)
        self.scheduler.start()
        self._undo.append(self._stop_scheduler)
        await self.coordinator.start()
        self._undo.append(self.coordinator.stop)
        await self.keeper.start()
        self._undo.append(self.keeper.stop)
        await self.executor.start()
        self._undo.append(self.executor.stop)
        self.desk.notices.start()  # watches for a notification server to show what it missed
        self._undo.append(self.desk.notices.stop)
        # OXYMUS_AGENTS=off: nothing runs by itself (tests, debugging); `oxymus agents run NAME` still works.
        scheduled = os.environ.get("OXYMUS_AGENTS", "on").lower() not in ("off", "0", "no", "false")
        if not scheduled:
            log.info("agents are not scheduled (OXYMUS_AGENTS=off); `oxymus agents run NAME` runs one")
        self._undo.append(self.agents.stop)
        await self.agents.start(schedule=scheduled)
        self._maintenance = asyncio.create_task(self.service.maintain_forever(), name="memory-maintenance")

    async def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()  # housekeeping: nothing to wait for, the store's transactions are atomic
        for undo in reversed(self._undo):
            await undo()

    async def _stop_scheduler(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


def keyring_secret(name: str) -> str | None:
    """The keyring's half of a secret lookup; PollContext.secret tries the environment and commands first.

    A missing keyring raises SecretStoreUnavailable, which the context turns into
    NeedsHuman only when nothing else gave the secret."""
    return secrets.get(name)


def plans_path(paths: Paths, config: Config) -> str:
    """[plans] file, with ~ and paths relative to the config dir resolved; default: the data dir."""
    if not config.plans.file:
        return os.path.join(paths.data_dir, "PLANS.md")
    path = os.path.expanduser(config.plans.file)
    return path if os.path.isabs(path) else os.path.join(paths.config_dir, path)


def agent_settings(config: Config) -> dict:
    """[agents.NAME] sections, validated by each agent's own settings model."""
    section = getattr(config, "agents", None)
    if section is None:
        return {}
    return {name: value for name, value in section if value is not None}


def make_llm(config: Config):
    """The LLM adapter, or None when the config turns it off (agents then use their deterministic paths)."""
    llm_config = getattr(config, "llm", None)
    if llm_config is None or not llm_config.enabled:
        return None
    from oxymus.agents.llm import Llm

    return Llm(llm_config)
