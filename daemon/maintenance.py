"""Housekeeping every few hours: the daily backup, memory's mechanical upkeep and audit log retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from oxymus.memory import records as mem
from oxymus.store.repos import Store
from oxymus.store.storage_errors import StorageError

log = logging.getLogger("oxymus.daemon.service")


class Maintenance:
    def __init__(self, store: Store, *, bus=None, memory_config=None, audit_keep_days: int = 400, backups=None):
        self.store = store
        self.bus = bus
        self.memory_config = memory_config
        self.audit_keep_days = audit_keep_days
        self.backups = backups  # DailyBackups, or None (tests that build a bare service)

    async def memory_maintain(self) -> mem.MaintenanceReport:
        cfg = self.memory_config
        report = await self.store.memory.maintain(
            dt.datetime.now(dt.timezone.utc), cfg.hot_days if cfg else 14, cfg.warm_days if cfg else 120,
        )
        if report.moves or report.summaries:
            log.info("memory maintenance: %d record(s) aged, %d summary(ies) written", len(report.moves), len(report.summaries))
            if self.bus is not None:
                self.bus.publish("memory.changed", {"id": None, "verb": "maintained", "moved": len(report.moves)})
        return report

    async def forever(self, every: float = 6 * 3600) -> None:
        """Housekeeping every few hours: the daily backup, memory's mechanical upkeep, the search
        planner's vocabulary snapshot and audit log retention.

        Memory: records age by the tier rules the person configured ([memory] hot_days,
        warm_days) and each past month's warm records get a deterministic summary. These
        are rules, not judgements, so they run here, directly. The memory steward agent
        (oxymus/agents/steward.py) does the judgement parts as proposals: moving hot
        records to warm when hot memory is over its word budget, and rewriting a
        month's summary with the LLM."""
        while True:
            # The backup first: at start it is the one that cannot wait (the last may be days old).
            jobs = ([self.backups.backup_if_due] if self.backups is not None else []) + [self.memory_maintain, self.memory_vocab, self.prune_audit]
            for job in jobs:
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except StorageError as exc:  # a full disk is not a bug: say it without a traceback
                    log.error("%s failed; will retry: %s", job.__name__, exc)
                except Exception:
                    log.exception("%s failed; will retry", job.__name__)
            await asyncio.sleep(every)

    async def memory_vocab(self) -> int | None:
        """A new vocabulary snapshot for the search planner when memory changed enough (oxymus/store/memory_vocab.py)."""
        terms = await self.store.memory.refresh_vocab()
        if terms is not None:
            log.info("memory search: vocabulary snapshot of %d terms taken", terms)
        return terms

    async def prune_audit(self) -> int:
        if not self.audit_keep_days:
            return 0
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=self.audit_keep_days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        pruned = await self.store.audit.prune(cutoff)
        if pruned:
            log.info("audit log: pruned %d routine record(s) older than %d days", pruned, self.audit_keep_days)
        return pruned
