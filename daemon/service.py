"""The daemon's RPC surface, put together: one handler object per area, each in its own module.

- `system_rpc`: hello, status, subscribe, daemon.shutdown
- `capture_rpc`: capture.add and the inbox
- `state_rpc`: today.get, state.refresh, state.sources
- `memory_rpc`: memory.*
- `plans_rpc`: plans.get, plans.edit
- `ui_rpc`: ui.set_theme (the TUI's theme, saved in config.toml through an action)
- `action_rpc`: actions, approvals, policy.explain, the pause, the audit log
- `agent_rpc`: agents and artifacts
- `review_rpc`: the morning review
- `weekly_rpc`: the weekly review
- `metrics_rpc`: metrics.get, the compounding metrics
- `maintenance`: the housekeeping loop (backups, memory upkeep, audit retention)
"""

from __future__ import annotations

import asyncio

from oxymus.daemon.capture_rpc import CaptureHandlers
from oxymus.daemon.coordinator import Coordinator
from oxymus.daemon.maintenance import Maintenance
from oxymus.daemon.memory_rpc import MemoryHandlers
from oxymus.daemon.plans_rpc import PlansHandlers
from oxymus.daemon.records_rpc import RecordHandlers
from oxymus.daemon.registry import Registry
from oxymus.daemon.state_rpc import StateHandlers
from oxymus.daemon.system_rpc import SystemHandlers
from oxymus.daemon.watcher import CaptureWatcher
from oxymus.store.repos import Store


class Service:
    def __init__(self, store: Store, watcher: CaptureWatcher, coordinator: Coordinator, socket_path: str, stop: asyncio.Event,
                 bus=None, memory_config=None, plans=None, desk=None, audit_keep_days: int = 400, agents=None,
                 backups=None, system: SystemHandlers | None = None):
        self.store = store
        self.desk = desk
        self.agents = agents
        self.maintenance = Maintenance(store, bus=bus, memory_config=memory_config, audit_keep_days=audit_keep_days,
                                       backups=backups)
        if system is None:
            system = SystemHandlers(store, coordinator, socket_path, stop, desk=desk, agents=agents)
        else:  # the one that answered hello and status while the rest loaded
            system.coordinator, system.desk, system.agents = coordinator, desk, agents
        self.system = system
        self.state = StateHandlers(store, coordinator)
        self.plans = PlansHandlers(store, plans, desk)
        self.captures = CaptureHandlers(store, watcher, self.plans, bus=bus, desk=desk)
        self.memory = MemoryHandlers(store, self.maintenance, bus=bus, memory_config=memory_config)
        self.records = RecordHandlers(store, bus=bus)

    @property
    def server(self):
        return self.system.server

    @server.setter
    def server(self, server) -> None:
        self.system.server = server  # for client counts in status

    async def maintain_forever(self, every: float = 6 * 3600) -> None:
        await self.maintenance.forever(every)

    def registry(self) -> Registry:
        """Every handler object bound to the methods `oxymus.client.protocol.METHODS` declares (checked: each exactly once)."""
        from oxymus.daemon.action_rpc import ActionHandlers
        from oxymus.daemon.agent_rpc import AgentHandlers
        from oxymus.daemon.ui_rpc import UiHandlers

        objects: list[object] = [self.system, self.state, self.captures, self.memory, self.plans, self.records]
        if self.desk is not None:
            from oxymus.daemon.metrics_rpc import MetricsHandlers

            objects.append(ActionHandlers(self.desk))
            objects.append(MetricsHandlers(self.store, self.desk))
            objects.append(UiHandlers(self.store, self.desk))
        if self.agents is not None:
            from oxymus.daemon.review_rpc import ReviewHandlers

            objects.append(AgentHandlers(self.agents))
            objects.append(ReviewHandlers(self.agents, self.captures, self.plans, self.desk))
            from oxymus.daemon.weekly_rpc import WeeklyHandlers

            objects.append(WeeklyHandlers(self.agents, self.desk))
        return Registry.bind(*objects)
