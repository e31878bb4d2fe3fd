"""The daemon's lifecycle: lock, store, server, signals, graceful stop.

A start does the least before the socket answers: the store opened (and migrated), the
server bound with the handlers of `hello`, `status` and a few more (`system_rpc.EARLY`).
Then, in the background, the rest (`daemon/parts.py`: scheduler, sources, actions, agents)
is imported in a thread, built and started; a request for a method it serves waits for it.
The database's integrity check runs after start too, except on a small file (see
INLINE_CHECK_BYTES): a large one would hold `oxymus up` for seconds.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys

from oxymus import __version__
from oxymus.daemon import logs, systemd
from oxymus.daemon.events import EventBus
from oxymus.daemon.lock import AlreadyRunning, ProfileLock
from oxymus.daemon.registry import Registry
from oxymus.daemon.rpc import RpcServer
from oxymus.daemon.system_rpc import EARLY, SystemHandlers
from oxymus.profile import stop_reason
from oxymus.profile.config import CoreConfig as Config
from oxymus.profile.paths import Paths
from oxymus.store import health, storage_errors
from oxymus.store.migrations import SchemaError
from oxymus.store.repos import Store
from oxymus.time import clock

log = logging.getLogger("oxymus.daemon")

# A file this small is checked before it is opened, as it always was (a few milliseconds), so a
# damaged one is refused before anything writes to it; a larger one after start, in the background.
INLINE_CHECK_BYTES = 8 * 1024 * 1024
CHECK_ENV = "OXYMUS_INLINE_CHECK_BYTES"  # tests make a small file take the background path


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
        inline = _size(paths.db_file) <= int(os.environ.get(CHECK_ENV, INLINE_CHECK_BYTES))
        if inline:  # before anything opens it for writing: a damaged file is named and left as it is
            health.check(paths.db_file)
        return asyncio.run(_serve(paths, config, now, check_later=not inline))
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


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


async def _serve(paths: Paths, config: Config, now=None, *, check_later: bool = False) -> int:
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
    system = SystemHandlers(store, None, paths.socket, stop)
    server = RpcServer(paths.socket, bus, Registry.bind(system, only=EARLY), db_path=paths.db_file, loading=True)
    system.server = server
    loaded: dict = {}  # "parts": the Parts once built; "failed": why they could not be
    background: list[asyncio.Task] = []
    try:
        await server.start()
        stop_reason.clear(paths.stop_reason_file)
        log.info(
            "oxymus %s ready (pid %d) on %s, database %s (schema v%d); loading sources, actions and agents",
            __version__, os.getpid(), paths.socket, paths.db_file, await store.schema_version(),
        )
        _tell_starter()
        # Under systemd (Type=notify): started only now that the socket answers; then the loop proves it lives.
        systemd.notify(f"READY=1\nSTATUS=serving on {paths.socket}")
        # What start-up made (modules, classes, schemas, config) lives as long as the daemon; every
        # full collection would walk it again with the GIL held, and every request wait meanwhile
        # (50,000 objects: tens of ms, on each gen-2 pass a big poll sets off). Frozen, they are
        # left out; refcounting still frees them.
        gc.collect()
        gc.freeze()
        if (interval := systemd.watchdog_interval()) is not None:
            background.append(asyncio.create_task(systemd.watchdog_forever(interval), name="systemd-watchdog"))
        background.append(asyncio.create_task(_load(paths, config, store, bus, stop, system, server, now, loaded),
                                              name="load"))
        if check_later:
            background.append(asyncio.create_task(_check_integrity(paths.db_file, system), name="integrity-check"))
        await stop.wait()
    finally:
        # Also on a failed start: an open store keeps a non-daemon thread alive and the
        # process would hang instead of exiting with its error.
        log.info("stopping: finishing in-flight requests")
        systemd.notify("STOPPING=1\nSTATUS=stopping")
        bus.publish("daemon.stopping", {})
        for task in background:
            task.cancel()  # the watchdog: a slow, orderly stop is bounded by TimeoutStopSec
        await asyncio.gather(*background, return_exceptions=True)
        if server.loading:
            server.failed("the daemon is stopping")  # requests waiting for the parts get an answer
        if "parts" in loaded:
            await loaded["parts"].stop()
        await server.close()
        await store.close()
        log.info("stopped")
    if "failed" in loaded:
        print(f"oxymus daemon: {loaded['failed']}", file=sys.stderr)
        return 1
    return 0


async def _load(paths: Paths, config: Config, store: Store, bus: EventBus, stop: asyncio.Event,
                system: SystemHandlers, server: RpcServer, now, loaded: dict) -> None:
    """Import, build and start the rest; a failure stops the daemon, as a failed start did."""
    try:
        # The imports (agents, connectors' contract, APScheduler...) are most of a start's CPU:
        # in a thread, so hello and status are answered meanwhile.
        parts_mod = await asyncio.to_thread(_import_parts)
        parts = parts_mod.Parts(paths, config, store, bus, stop, system, now=now)
        loaded["parts"] = parts
        registry = parts.registry()
        await parts.start()
        server.loaded(registry)
        await _tell_early_clients(store, bus)
        log.info("oxymus %s loaded its sources, actions and agents", __version__)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        problem = storage_errors.classify(exc, paths.db_file)
        why = str(problem) if problem is not None else f"{type(exc).__name__}: {exc}"
        log.error("the daemon could not load: %s", why, exc_info=problem is None)
        stop_reason.record(paths.stop_reason_file, f"the daemon failed: {why} (see {paths.log_file})")
        loaded["failed"] = why
        server.failed(why)
        stop.set()


async def _tell_early_clients(store: Store, bus: EventBus) -> None:
    """A client that read `status` while we were starting (a TUI that started us) took no
    approvals and no pause from it: what differs from that is published as the usual events."""
    from oxymus.actions.model import OPEN  # loaded with the parts

    waiting, snoozed = await store.actions.count(OPEN), await store.actions.count(("snoozed",))
    if waiting:
        bus.publish("approvals.changed", {"waiting": waiting, "snoozed": snoozed})
    pause = await store.actions.pause_state()
    if pause is not None:
        bus.publish("pause.changed", {"pause": pause.model_dump()})


def _tell_starter() -> None:
    """The process that started us (`oxymus up`, the TUI) waits on a pipe for this byte."""
    fd = os.environ.pop("OXYMUS_READY_FD", None)  # popped: the daemon's own children never see it
    if fd is None:
        return
    try:
        os.write(int(fd), b"1")
        os.close(int(fd))
    except (OSError, ValueError) as exc:
        log.warning("could not tell the starting process that the daemon answers: %s", exc)


def _import_parts():
    from oxymus.daemon import parts

    return parts


async def _check_integrity(db_file: str, system: SystemHandlers) -> None:
    """`PRAGMA quick_check` on its own read-only connection, off the loop; damage is said loudly
    (log, `status`), and `oxymus doctor` runs the same check."""
    problem = await asyncio.to_thread(health.inspect, db_file)
    if problem is None:
        log.info("integrity check of %s: ok", db_file)
        return
    system.integrity = str(problem)
    log.error("integrity check of %s failed: %s", db_file, problem)
