"""`metrics.get`: the compounding metrics, computed on a store reader thread (they read whole months of
the audit log, actions and runs, which must not hold up the writer or the short reads)."""

from __future__ import annotations

from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.metrics import models as m
from oxymus.store.repos import Store


class MetricsHandlers:
    def __init__(self, store: Store, desk):
        self.store = store
        self.desk = desk  # its clock (OXYMUS_NOW pins it) and the person's zone, the ones decisions are stamped with

    @rpc("metrics.get")
    async def get(self, session: Session, p: m.MetricsParams) -> m.MetricsResult:
        from oxymus.metrics.compute import compute

        now, zone = self.desk.now(), self.desk.zone
        return await self.store.read(lambda db: compute(db, now=now, zone=zone, months=p.months))
