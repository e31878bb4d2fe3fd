"""The calendar sources: Oxymus glue around `fetch` (HTTP), `dav` (CalDAV) and `expand` (iCalendar).

- `IcsSource` reads a local .ics file, a vdir folder (one .ics file per item, or
  one subfolder of them per calendar, as khal and vdirsyncer keep them) or an
  http(s)/webcal URL.
- `CalDavSource` reads every calendar of a CalDAV account (or the ones named),
  with the password from its `password_command` or the keyring entry `calendar.NAME`.

Both expand over the window [today - past_days, today + future_days] in the
person's zone and return `calendar.event` items (one per occurrence) and
`calendar.deadline` items (open to-dos with a due date); see `models.py` for the
data and keys, and `expand.py` for the time rules. Blocking work (HTTP, CalDAV,
file reads) runs in a worker thread; parsing and expanding run in a worker process
(`worker.py`), so a big calendar never holds the daemon's GIL. Problems that cost one event or one
file are warnings naming the file or URL and the line or UID; a source that cannot
be read at all raises `SourceUnavailable` (the previous state is kept) or, for a
refused login or missing password, `NeedsHuman`.

A poll that reads the same as the last stored one (a file's stat, a feed's or a
CalDAV answer's hash, and the same window) answers `PollResult.same_as_before`
without parsing: an unchanged 20,000-event calendar costs a stat or a hash.

Imported by `CalendarConnector.sources()` at config load: keep module-level
imports light (icalendar and caldav are imported inside the poll).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from oxymus.connectors.calendar.config import CalDavEntry, IcsEntry
from oxymus.connectors.calendar.models import CalendarEvent, Deadline
from oxymus.kernel.stoppable import run_stoppable
from oxymus.sources.contract import NeedsHuman, PollContext, PollResult, SourceUnavailable, StateItem, utc_iso

if TYPE_CHECKING:
    from oxymus.connectors.calendar.expand import Limits, Window
    from oxymus.connectors.calendar.worker import Rows

__all__ = ["CalDavSource", "CalendarEvent", "Deadline", "IcsSource", "MAX_BYTES"]

NO_TITLE = "(no title)"
MAX_BYTES = 50 * 2**20  # a feed or file bigger than this is refused with a clear message
_URL_SCHEMES = ("http://", "https://", "webcal://", "webcals://")


@dataclass
class _Document:
    """One expanded iCalendar document (as the worker's rows) and where it came from."""

    rows: Rows
    collection: str | None
    href: str | None


class _CalendarSource:
    def __init__(self, entry: IcsEntry | CalDavEntry, window: tuple[int, int], max_occurrences: int = 1000):
        self.entry = entry
        self.max_occurrences = max_occurrences
        self.name = entry.source_name()
        self.id = f"calendar.{self.name}"
        self.interval = entry.interval
        self.stale_after = entry.stale_after
        self.past_days, self.future_days = window
        self.days_kept = window  # the Source contract's name for it: today.get says when a date is outside

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    def _window(self, ctx: PollContext) -> Window:
        from oxymus.connectors.calendar.expand import Window

        today = ctx.today()
        return Window.of_days(
            today - dt.timedelta(days=self.past_days), today + dt.timedelta(days=self.future_days), ctx.zone
        )

    def _limits(self, stop: threading.Event) -> Limits:
        from oxymus.connectors.calendar.expand import Limits

        return Limits(max_occurrences=self.max_occurrences, stop=stop)

    def _result(self, ctx: PollContext, documents: list[_Document], warnings: list[str]) -> PollResult:
        """The items of the documents' rows (emptied on the way), the first document's winning a key.

        The rows come from our own worker in `CalendarEvent`/`Deadline` field order with every
        time already formatted, one per key and sorted, so items are built without validating
        each again and put in order by merging, not sorting. Rows are let go 500 at a time:
        freeing 20,000 at once, like one long sort, holds the GIL and the event loop waits.
        """
        observed = utc_iso(ctx.now())
        name, source = self.name, self.id
        seen: set[str] = set()  # keys of earlier documents: the same event in two calendars is one item
        runs: list[list[StateItem]] = []
        for doc in documents:
            warnings.extend(doc.rows["warnings"])
            events: list[StateItem] = []
            for uid, occ, summary, start, end, starts_at, ends_at, all_day, recurring, status, location, description, url in (
                    _drain(doc.rows["events"])):
                key = f"{uid}@{occ}"
                if key not in seen:
                    data = {"uid": uid, "summary": summary or NO_TITLE, "start": start, "end": end, "all_day": all_day,
                            "calendar": name, "collection": doc.collection, "recurring": recurring, "status": status,
                            "location": location, "description": description, "url": url, "href": doc.href}
                    events.append(StateItem.model_construct(
                        source=source, kind="calendar.event", key=key, observed_at=observed,
                        starts_at=starts_at, ends_at=ends_at, data=data, error=None,
                    ))
            todos: list[StateItem] = []
            for uid, occ, summary, due, starts_at, ends_at, all_day, recurring, status, priority in _drain(doc.rows["todos"]):
                key = f"todo:{uid}" + (f"@{occ}" if occ else "")
                if key not in seen:
                    data = {"uid": uid, "summary": summary or NO_TITLE, "due": due, "all_day": all_day, "calendar": name,
                            "collection": doc.collection, "priority": priority, "status": status, "recurring": recurring,
                            "href": doc.href}
                    todos.append(StateItem.model_construct(
                        source=source, kind="calendar.deadline", key=key, observed_at=observed,
                        starts_at=starts_at, ends_at=ends_at, data=data, error=None,
                    ))
            for run in (events, todos):
                run.reverse()  # _drain hands the rows over from the end
                seen.update(i.key for i in run)
                runs.append(run)
        ordered = list(heapq.merge(*runs, key=lambda i: (i.starts_at or "", i.kind, i.key)))
        return PollResult(items=ordered, warnings=warnings)

    def _expand(self, ctx: PollContext, data: bytes, origin: str, window: Window, limits: Limits) -> Rows:
        """The document's rows from the worker process; IcsError when it is unusable as a whole."""
        from oxymus.connectors.calendar import worker

        try:
            return worker.expand(data, origin, window, limits, ctx.timeout)
        except worker.WorkerFailed as e:
            raise SourceUnavailable(f"{self.id}: {e}") from None


def _drain(rows: list, chunk: int = 500):
    """The rows from the last to the first, each slice of `chunk` freed once read."""
    while rows:
        part = rows[-chunk:]
        del rows[-chunk:]
        yield from reversed(part)


def _fingerprint(what: str, window: Window) -> str:
    """What was read plus the window it was expanded over: a new day is a new expansion."""
    return f"{what} | {window.start.isoformat()}..{window.end.isoformat()} {window.zone.key}"


def _digest(*parts: bytes | str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


# ---------------------------------------------------------------- ICS files, vdir folders, URLs


class IcsSource(_CalendarSource):
    """A local .ics file, a vdir folder, or an http(s)/webcal URL."""

    def __init__(self, entry: IcsEntry, window: tuple[int, int], max_occurrences: int = 1000):
        super().__init__(entry, window, max_occurrences)
        self.path = entry.path
        self.is_url = entry.path.strip().lower().startswith(_URL_SCHEMES)
        # conditional GET state for URLs: an unchanged feed costs one 304
        self._etag: str | None = None
        self._last_modified: str | None = None
        self._body: bytes | None = None

    async def poll(self, ctx: PollContext) -> PollResult:
        window = self._window(ctx)
        if self.is_url:
            return await run_stoppable(lambda stop: self._poll_url(ctx, window, self._limits(stop)))
        path = ctx.resolve(self.path)
        return await run_stoppable(lambda stop: self._poll_path(ctx, path, window, self._limits(stop)))

    # -- URL

    def _poll_url(self, ctx: PollContext, window, limits) -> PollResult:
        from oxymus.connectors.calendar import fetch

        url = fetch.http_url(self.path.strip())
        shown = fetch.display_url(url)
        try:
            got = fetch.fetch(
                url, timeout=ctx.timeout, max_bytes=MAX_BYTES,
                etag=self._etag if self._body is not None else None,
                last_modified=self._last_modified if self._body is not None else None,
            )
        except fetch.FetchError as e:
            if e.status in (401, 403, 410):
                hint = "the link may have been reset or removed: check the URL" if e.status == 410 else (
                    "the feed needs a login or the private link was reset: check the URL"
                )
                raise NeedsHuman(f"{self.id}: {e} ({hint})") from None
            raise SourceUnavailable(f"{self.id}: {e}", retry_after=e.retry_after) from None
        if got.body is None:
            body = self._body  # 304: unchanged since the last poll
        else:
            body = got.body
        if body is None:  # a 304 we did not ask for
            raise SourceUnavailable(f"{self.id}: {shown} answered 304 Not Modified to a plain request")
        fingerprint = _fingerprint(f"body {_digest(body)}", window)
        if fingerprint == ctx.previous_fingerprint:
            result = PollResult.same_as_before(fingerprint)
        else:
            result = self._expand_one(ctx, body, shown, window, limits, None, None, fingerprint)
        # remember the body only once it has been read successfully
        self._body, self._etag, self._last_modified = body, got.etag, got.last_modified
        return result

    # -- files and folders

    def _poll_path(self, ctx: PollContext, path: Path, window, limits) -> PollResult:
        if path.is_dir():
            return self._poll_vdir(ctx, path, window, limits)
        try:
            st = path.stat()  # before the read: a write in between makes the next poll read again
            if st.st_size > MAX_BYTES:
                raise SourceUnavailable(f"{self.id}: {path} is {_size(st.st_size)}, over the limit of {_size(MAX_BYTES)}")
            fingerprint = _fingerprint(f"file {st.st_ino} {st.st_size} {st.st_mtime_ns}", window)
            if fingerprint == ctx.previous_fingerprint:
                return PollResult.same_as_before(fingerprint)
            data = path.read_bytes()
        except FileNotFoundError:
            raise SourceUnavailable(f"{self.id}: {path} not found") from None
        except OSError as e:
            raise SourceUnavailable(f"{self.id}: cannot read {path}: {e.strerror or e}") from None
        return self._expand_one(ctx, data, str(path), window, limits, None, str(path), fingerprint)

    def _expand_one(self, ctx, data: bytes, origin: str, window, limits, collection, href, fingerprint) -> PollResult:
        from oxymus.connectors.calendar.expand import IcsError

        try:
            rows = self._expand(ctx, data, origin, window, limits)
        except IcsError as e:
            # unreadable as a whole: keep the previous state until it is fixed
            raise SourceUnavailable(f"{self.id}: {e}") from None
        result = self._result(ctx, [_Document(rows, collection, href)], [])
        result.fingerprint = fingerprint
        return result

    def _poll_vdir(self, ctx: PollContext, folder: Path, window, limits) -> PollResult:
        from oxymus.connectors.calendar.expand import IcsError

        warnings: list[str] = []
        listing, seen = self._list_vdir(folder, warnings)
        fingerprint = _fingerprint(f"folder {_digest(*seen)}", window)
        if fingerprint == ctx.previous_fingerprint:
            return PollResult.same_as_before(fingerprint)
        documents: list[_Document] = []
        files = 0
        for collection, entries in listing:
            for item in entries:
                files += 1
                try:
                    if item.stat().st_size > MAX_BYTES:
                        warnings.append(f"{item}: over the limit of {_size(MAX_BYTES)}, skipped")
                        continue
                    data = item.read_bytes()
                except FileNotFoundError:
                    continue  # removed while we read the folder (a sync in progress)
                except OSError as e:
                    warnings.append(f"{item}: cannot read: {e.strerror or e}")
                    continue
                try:
                    rows = self._expand(ctx, data, str(item), window, limits)
                except IcsError as e:
                    warnings.append(f"{e}; file skipped")
                    continue
                documents.append(_Document(rows, collection, str(item)))
        if files == 0:
            warnings.append(f"{folder}: no .ics files in this folder or its subfolders")
        result = self._result(ctx, documents, warnings)
        result.fingerprint = fingerprint
        return result

    def _list_vdir(self, folder: Path, warnings: list[str]) -> tuple[list[tuple[str | None, list[Path]]], list[str]]:
        """Each collection's .ics files, and a line per file and name seen (path and stat) for the fingerprint."""
        try:
            collections = [(folder, _display_name(folder))]
            collections += [
                (sub, _display_name(sub) or sub.name)
                for sub in sorted(folder.iterdir())
                if sub.is_dir() and not sub.name.startswith(".")
            ]
        except OSError as e:
            raise SourceUnavailable(f"{self.id}: cannot list {folder}: {e.strerror or e}") from None
        listing: list[tuple[str | None, list[Path]]] = []
        seen: list[str] = []
        for path, collection in collections:
            seen.append(f"collection {path} {collection}")
            try:
                entries = sorted(p for p in path.iterdir() if p.suffix.lower() == ".ics" and not p.name.startswith("."))
            except OSError as e:
                warnings.append(f"{path}: cannot list: {e.strerror or e}")
                seen.append(f"unlistable {path}")
                continue
            for item in entries:
                try:
                    st = item.stat()
                    seen.append(f"{item} {st.st_ino} {st.st_size} {st.st_mtime_ns}")
                except OSError:
                    seen.append(f"{item} gone")
            listing.append((collection, entries))
        return listing, seen


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n} bytes"


def _display_name(folder: Path) -> str | None:
    """vdirsyncer keeps a calendar's name in a `displayname` file."""
    try:
        name = (folder / "displayname").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return name or None


# ---------------------------------------------------------------- CalDAV


class CalDavSource(_CalendarSource):
    """Every calendar of a CalDAV account (or those in `calendars`); password from a command or the keyring."""

    def __init__(self, entry: CalDavEntry, window: tuple[int, int], max_occurrences: int = 1000):
        super().__init__(entry, window, max_occurrences)
        self.url = entry.url
        self.username = entry.username
        self.calendars = list(entry.calendars)

    @property
    def secret_name(self) -> str:
        return self.entry.secret_name()

    async def poll(self, ctx: PollContext) -> PollResult:
        window = self._window(ctx)
        return await run_stoppable(lambda stop: self._poll(ctx, window, self._limits(stop)))

    def _poll(self, ctx: PollContext, window, limits) -> PollResult:
        from oxymus.connectors.calendar.dav import DavError, fetch_calendars
        from oxymus.connectors.calendar.expand import IcsError

        password = ctx.secret(self.entry.secret_spec())  # in the thread: a password_command may run
        if password is None:
            raise NeedsHuman(self.entry.no_password())
        try:
            fetched = fetch_calendars(
                self.url, self.username, password, timeout=ctx.timeout,
                start=window.start, end=window.end, only=self.calendars,
            )
        except DavError as e:
            if e.kind == "login":
                raise NeedsHuman(f"{self.id}: {e}") from None
            raise SourceUnavailable(f"{self.id}: {e}", retry_after=e.retry_after) from None
        warnings = list(fetched.warnings)
        fingerprint = _fingerprint(
            "objects " + _digest(*(f"{o.collection}\0{o.href}\0{o.data}" for o in fetched.objects), *warnings), window,
        )
        if fingerprint == ctx.previous_fingerprint:
            return PollResult.same_as_before(fingerprint)
        documents = []
        for obj in fetched.objects:
            try:
                documents.append(_Document(self._expand(ctx, obj.data, obj.href, window, limits), obj.collection, obj.href))
            except IcsError as e:
                warnings.append(f"{e}; object skipped")
        result = self._result(ctx, documents, warnings)
        result.fingerprint = fingerprint
        return result
