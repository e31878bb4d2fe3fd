"""The daemon's one APScheduler: source polls (`daemon/coordinator.py`) and agent triggers
(`daemon/agents.py`) are jobs on the same scheduler, which the daemon's main owns.

Jobs coalesce (a run missed while the laptop slept happens once, not once per missed
time), never overlap themselves and are never dropped for being late. Each user names
its jobs with its own prefix (`poll:`, `agent:`), so ids cannot collide.
"""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def make_scheduler(zone) -> AsyncIOScheduler:
    """A scheduler with the daemon's job defaults; start it inside the running event loop."""
    return AsyncIOScheduler(timezone=zone, job_defaults=dict(JOB_DEFAULTS))


class SharedJobs:
    """One component's view of a scheduler it may not own: add and find its jobs, remove them at stop.

    Without a scheduler given, the component makes (and starts, and shuts down) its own,
    as a component used on its own (in tests) always did.
    """

    def __init__(self, prefix: str, zone, scheduler: AsyncIOScheduler | None = None):
        self.prefix = prefix
        self.zone = zone
        self.shared = scheduler
        self.scheduler: AsyncIOScheduler | None = None  # set while this component's jobs are scheduled
        self._ids: list[str] = []

    def begin(self) -> AsyncIOScheduler:
        if self.shared is not None:
            self.scheduler = self.shared
        else:
            self.scheduler = make_scheduler(self.zone)
        return self.scheduler

    def add(self, func, trigger, *, key: str, **kwargs) -> None:
        assert self.scheduler is not None, "begin() first"
        job_id = self.prefix + key
        self.scheduler.add_job(func, trigger, id=job_id, replace_existing=True, **kwargs)
        self._ids.append(job_id)

    def run(self) -> None:
        """Start the scheduler if this component owns it (a shared one is started by its owner)."""
        if self.scheduler is not None and self.shared is None:
            self.scheduler.start()

    def get(self, key: str):
        return self.scheduler.get_job(self.prefix + key) if self.scheduler is not None else None

    def end(self) -> None:
        if self.scheduler is None:
            return
        if self.shared is None:
            self.scheduler.shutdown(wait=False)
        else:
            for job_id in self._ids:
                if self.scheduler.get_job(job_id) is not None:
                    self.scheduler.remove_job(job_id)
        self._ids = []
        self.scheduler = None
