"""The daemon's lifecycle: lock, store, server, signals, graceful stop."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from pathlib import Path

from oxymus import __version__
from oxymus.action_kinds import action_specs
from oxymus.daemon import logs, systemd
from oxymus.daemon.agents import AgentRuntime
from oxymus.daemon.backups import DailyBackups
from oxymus.daemon.coordinator import Coordinator
from oxymus.daemon.desk import ActionDesk
from oxymus.daemon.events import EventBus
from oxymus.daemon.executor import Executor
from oxymus.daemon.local_effects import DaemonLocalEffects
from oxymus.daemon.lock import AlreadyRunning, ProfileLock
from oxymus.daemon.plans import PlansKeeper
from oxymus.daemon.rpc import RpcServer
from oxymus.daemon.scheduling import make_scheduler
from oxymus.daemon.service import Service
from oxymus.daemon.watcher import CaptureWatcher
from oxymus.profile import stop_reason
from oxymus.profile.config import CoreConfig as Config
from oxymus.profile.paths import Paths
from oxymus.sources import secrets
from oxymus.store import health, storage_errors
from oxymus.store.migrations import SchemaError
from oxymus.store.repos import Store
from oxymus.time import clock

log = logging.getLogger("oxymus.daemon")


def run(paths: Paths, config: Config, *, foreground: bool = True) -> int:
    """Run until SIGTERM/SIGINT or `daemon.shutdown`; returns the exit status."""
    os.umask(0o077)  # the WAL holds recent captures: nothing we write is for other users
    try:
        now = clock.pinned(os.environ.get(clock.PIN_ENV))  # tests pin the daemon's day; unset: real time
    except ValueError as exc:
        print(f"oxymus daemon: {exc}", file=sys.stderr)
        return 2
    paths.ensure()
    lock = ProfileLock(paths.lock_file)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        print(f"oxymus daemon: already running: {exc}", file=sys.stderr)
        return 1
    try:
        logs.setup(
            paths.log_file, config.daemon.log_level, to_stderr=foreground,
            max_bytes=config.daemon.log_max_bytes, backups=config.daemon.log_backups,
        )
        # Before anything opens it for writing: a damaged file is named and left as it is.
        health.check(paths.db_file)
        return asyncio.run(_serve(paths, config, now))
    except Exception as exc:
        problem = exc if isinstance(exc, SchemaError) else storage_errors.classify(exc, paths.db_file)
        if problem is None:
            stop_reason.record(paths.stop_reason_file, f"the daemon failed: {type(exc).__name__}: {exc} (see {paths.log_file})")
            raise
        log.error("%s", problem)
        stop_reason.record(paths.stop_reason_file, str(problem))
        print(f"oxymus daemon: {problem}", file=sys.stderr)
        return 1
    finally:
        lock.release()


async def _serve(paths: Paths, config: Config, now=None) -> int:
    # We hold the lock, so any socket file here is a leftover from a daemon that died.
    if os.path.exists(paths.socket):
        log.warning("removing stale socket %s left by a previous daemon", paths.socket)
        os.unlink(paths.socket)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    store = await Store.open(paths.db_file)
    bus = EventBus()
    watcher = CaptureWatcher(store, bus)
    scheduler = make_scheduler(config.time.tzinfo())  # the one APScheduler: source polls and agent triggers
    coordinator = Coordinator(store, bus, config, Path(paths.config_dir), secret=keyring_secret, scheduler=scheduler,
                              now=now)
    keeper = PlansKeeper(plans_path(paths, config), store, bus, max_bytes=config.plans.max_bytes)
    desk = ActionDesk(
        store, bus, action_specs(config), policy_path=paths.policy_file, zone=config.time.tzinfo(),
        config_dir=paths.config_dir, secret=keyring_secret, now=now,
    )
    desk.local = DaemonLocalEffects(store, keeper, desk.now, bus)
    desk.policy()  # read now, so a broken policy.toml is reported at start
    executor = Executor(desk)
    agents = AgentRuntime(
        store, bus, desk, zone=config.time.tzinfo(), artifacts_dir=os.path.join(paths.data_dir, "artifacts"),
        settings=agent_settings(config), keeper=keeper, coordinator=coordinator, llm=make_llm(config),
        hot_budget_words=config.memory.hot_budget_words, scheduler=scheduler, now=now,
    )
    backups = DailyBackups(paths.db_file, paths.backup_dir, config.backup.keep)
    service = Service(store, watcher, coordinator, paths.socket, stop, bus=bus, memory_config=config.memory, plans=keeper, desk=desk, agents=agents,
                      audit_keep_days=config.audit.keep_days, backups=backups)
    server = RpcServer(paths.socket, bus, service.registry(), db_path=paths.db_file)
    service.server = server
    try:
        await watcher.start()
        scheduler.start()
        await server.start()
        await coordinator.start()
        await keeper.start()
        await executor.start()
        desk.notices.start()  # watches for a notification server to show what it missed
        # OXYMUS_AGENTS=off: nothing runs by itself (tests, debugging); `oxymus agents run NAME` still works.
        scheduled = os.environ.get("OXYMUS_AGENTS", "on").lower() not in ("off", "0", "no", "false")
        if not scheduled:
            log.info("agents are not scheduled (OXYMUS_AGENTS=off); `oxymus agents run NAME` runs one")
        await agents.start(schedule=scheduled)
        maintenance = asyncio.create_task(service.maintain_forever(), name="memory-maintenance")
        stop_reason.clear(paths.stop_reason_file)
        log.info(
            "oxymus %s ready (pid %d) on %s, database %s (schema v%d)",
            __version__, os.getpid(), paths.socket, paths.db_file, await store.schema_version(),
        )
        # Under systemd (Type=notify): started only now that the socket answers; then the loop proves it lives.
        systemd.notify(f"READY=1\nSTATUS=serving on {paths.socket}")
        # What start-up made (modules, classes, schemas, config) lives as long as the daemon; every
        # full collection would walk it again with the GIL held, and every request wait meanwhile
        # (50,000 objects: tens of ms, on each gen-2 pass a big poll sets off). Frozen, they are
        # left out; refcounting still frees them.
        gc.collect()
        gc.freeze()
        if (interval := systemd.watchdog_interval()) is not None:
            watchdog = asyncio.create_task(systemd.watchdog_forever(interval), name="systemd-watchdog")
        await stop.wait()
    finally:
        # Also on a failed start: an open store keeps a non-daemon thread alive and the
        # process would hang instead of exiting with its error.
        log.info("stopping: finishing in-flight requests")
        systemd.notify("STOPPING=1\nSTATUS=stopping")
        bus.publish("daemon.stopping", {})
        if "watchdog" in locals():
            watchdog.cancel()  # a slow, orderly stop is bounded by TimeoutStopSec, not by the watchdog
        if "maintenance" in locals():
            maintenance.cancel()  # housekeeping: nothing to wait for, the store's transactions are atomic
        await agents.stop()
        await desk.notices.stop()
        await executor.stop()
        await keeper.stop()
        await coordinator.stop()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await server.close()
        await watcher.stop()
        await store.close()
        log.info("stopped")
    return 0


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
