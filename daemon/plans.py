"""Keeps PLANS.md read: parses it when it changes on disk, and applies Oxymus' edits to it.

The file is the user's and the source of truth. It is re-read when its size or
mtime changes: the directory is watched (inotify; a stat every `interval` seconds
where there is none), so an idle daemon does not wake to look. An edit is a minimal
patch against the exact bytes last parsed: if the file changed on disk in between,
the edit is refused (`PlansConflict`), never applied blindly. Every edit is
recorded in the audit log with the file's hash before and after.
Edits arrive as `plans.edit` actions (oxymus/plans/edit_action.py) through the
policy plane and the executor; the audit line carries the action's trace.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os

from oxymus import plans
from oxymus.client import wire
from oxymus.daemon.events import EventBus
from oxymus.daemon.file_changes import FileChanges
from oxymus.daemon.tasks import cancel
from oxymus.kernel.ulid import new_ulid
from oxymus.store.repos import Store
from oxymus.time.clock import now_iso

log = logging.getLogger("oxymus.daemon.plans")
MAX_BYTES = 2**20  # the default of [plans] max_bytes
SETTLE_S = 0.2  # how long PLANS.md must stand still after a change before it is read


class PlansKeeper:
    def __init__(self, path: str, store: Store, bus: EventBus, interval: float = 1.0, max_bytes: int = MAX_BYTES):
        self.path = path
        self.max_bytes = max_bytes
        self.store = store
        self.bus = bus
        self.interval = interval
        self.document: plans.PlansDocument | None = None
        self.error: str | None = None
        self.read_at: str | None = None
        self._stat: tuple[int, int] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._changes: FileChanges | None = None

    async def start(self) -> None:
        # Watching starts before the first read, so a change in between is not missed.
        directory, name = os.path.split(os.path.abspath(self.path))
        self._changes = FileChanges(directory, {name}, poll_interval=self.interval)
        self._changes.start()
        await self.reload()
        self._task = asyncio.create_task(self._watch(self._changes), name="plans-watcher")

    async def stop(self) -> None:
        await cancel(self._task)
        if self._changes is not None:
            self._changes.close()

    def _current_stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    async def _settle(self) -> None:
        """Until the file stands still for SETTLE_S: an editor that truncates and then writes (rather
        than renaming a new file into place) would otherwise be read empty or half written, and that
        would become the "last good" plan."""
        last = self._current_stat()
        while True:
            await asyncio.sleep(SETTLE_S)
            now = self._current_stat()
            if now == last:
                return
            last = now

    async def _watch(self, changes: FileChanges) -> None:
        while True:
            await changes.wait()
            try:
                await self._settle()
                if self._current_stat() != self._stat:
                    await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watching %s failed; will retry", self.path)

    async def reload(self) -> None:
        async with self._lock:
            await self._reload()

    async def _reload(self) -> None:
        before = (self.document.sha256 if self.document else None, self.error)
        self._stat = self._current_stat()
        if self._stat is None:
            self.document, self.error = None, None
        else:
            try:
                # Both in a thread: a big file must not stall the daemon's other requests.
                data = await asyncio.to_thread(_read, self.path, self.max_bytes)
                self.document = await asyncio.to_thread(plans.parse, data, self.path)
                self.error = None
            except plans.PlansError as exc:
                # Keep what we understood last; say what is wrong now.
                self.error = str(exc)
            except OSError as exc:
                self.error = f"{self.path}: cannot read: {exc.strerror}"
        self.read_at = now_iso()
        after = (self.document.sha256 if self.document else None, self.error)
        if after != before:
            if self.error and self.error != before[1]:
                log.warning("%s", self.error)
            self.bus.publish("plans.changed", {"path": self.path, "sha256": after[0], "error": self.error})

    async def edit(self, op: str, kwargs: dict, *, expected_sha256: str | None, actor: str,
                   trace_id: str | None = None, journal: str | None = None) -> tuple[str | None, str, str, dict]:
        """Apply one patch; returns (old sha, new sha, diff, the hunk that takes it back). Raises RpcError on conflict or bad input.

        With `journal` (an action's idempotency key), the hunk is written to the audit log
        (`plans.editing`) before the file: a retry after a crash that finds the edit already
        made can still take it back byte for byte (`journaled()`)."""
        patch = {"set_done": plans.set_done, "add_action": plans.add_action, "set_proposal_status": plans.set_proposal_status,
                 "revert": plans.revert}[op]
        async with self._lock:
            if self._current_stat() != self._stat:
                await self._reload()  # the file moved under us; compare against what is there now
            expected = expected_sha256 or (self.document.sha256 if self.document else None)
            try:
                if self._stat is None:
                    if op != "add_action":
                        raise wire.RpcError(wire.INVALID_INPUT, f"{self.path} does not exist yet")
                    old_sha, new_sha, diff = None, *await asyncio.to_thread(_create_with, self.path, patch, kwargs)
                    old, new = b"", await asyncio.to_thread(_read, self.path)
                else:
                    if expected is None:
                        raise wire.RpcError(wire.INVALID_INPUT, f"{self.error or self.path + ': not read yet'}; fix the file first")
                    old = await asyncio.to_thread(_read, self.path, self.max_bytes)
                    if journal:
                        planned = await asyncio.to_thread(lambda: patch(old, expected_sha256=expected, path=self.path, **kwargs))
                        if planned != old:
                            await self.store.audit.append(
                                actor=actor, verb="plans.editing", subject=self.path, trace_id=trace_id or new_ulid(),
                                details={"key": journal, "op": op, "sha_before": plans.parse(old, self.path).sha256,
                                         "sha_after": plans.parse(planned, self.path).sha256, "hunk": plans.hunk(old, planned)},
                            )
                    old_sha, new_sha = await asyncio.to_thread(plans.apply_to_file, self.path, patch, expected, **kwargs)
                    new = await asyncio.to_thread(_read, self.path, self.max_bytes)
                    diff = plans.diff(old, new, os.path.basename(self.path))
            except plans.PlansConflict:
                raise wire.RpcError(
                    wire.INVALID_INPUT,
                    f"{self.path} changed on disk since it was read; look at it again and retry (nothing was written)",
                ) from None
            except (plans.PlansError, ValueError, TypeError) as exc:
                raise wire.RpcError(wire.INVALID_INPUT, str(exc)) from None
            await self.store.audit.append(
                actor=actor, verb="plans.edited", subject=self.path, trace_id=trace_id or new_ulid(),
                details={"op": op, **{k: str(v) for k, v in kwargs.items()}, "sha_before": old_sha, "sha_after": new_sha},
            )
            await self._reload()
        return old_sha, new_sha, diff, plans.hunk(old, new)


async def journaled(store, key: str, trace_id: str | None, sha_now: str) -> dict | None:
    """The journal line of the edit made under `key` that left the file as it is now (`sha_now`), if any."""
    if not trace_id:
        return None
    for event in await store.audit.query(trace_id=trace_id, verb="plans.editing", limit=100):
        if event.details.get("key") == key and event.details.get("sha_after") == sha_now:
            return event.details
    return None


def _read(path: str, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes; PlansError naming its size and the limit when it is over `max_bytes`."""
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = os.fstat(fh.fileno()).st_size
            raise plans.PlansError(
                path, None,
                f"is {_mb(size)}, over the limit of {_mb(max_bytes)} for a plans file ([plans] max_bytes): "
                "Oxymus does not read it; move old parts to another file or raise the limit",
            )
        return data


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def _create_with(path: str, patch, kwargs: dict) -> tuple[str, str]:
    """The file does not exist: make it from the patch applied to an empty document, exclusively."""
    empty = b""
    data = patch(empty, expected_sha256=plans.parse(empty, path).sha256, path=path, **kwargs)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return plans.parse(data, path).sha256, plans.diff(empty, data, os.path.basename(path))


def today_iso(zone) -> str:
    return dt.datetime.now(zone).date().isoformat()
