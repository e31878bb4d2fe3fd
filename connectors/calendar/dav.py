"""CalDAV: list a user's calendars, fetch their raw iCalendar objects, add one event (blocking: call in a thread).

No Oxymus imports: failures become `DavError` with a `kind` ("login", "unavailable",
"bad-response", "not-found"), and the caller maps them; `session()` is the one place
that translates caldav's and the network's exceptions, for reads and writes alike.
Objects come back as the server stores them (masters with their overrides,
VTIMEZONEs included), never expanded by the server, so the one expansion in
`expand.py` applies to CalDAV and ICS alike.

Why the synchronous client in a thread rather than `caldav.aio`: the sync
`DAVClient` is caldav's long-standing, most-exercised path; a poll makes a handful
of requests every few minutes, so a worker thread costs nothing, and the parsing
and expansion after the download are CPU work that belongs off the event loop anyway.
Every request carries `timeout`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit


class DavError(Exception):
    def __init__(self, kind: str, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


@dataclass
class DavObject:
    collection: str  # the calendar's display name (or the last part of its URL)
    href: str
    data: str


@dataclass
class DavFetch:
    objects: list[DavObject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def fetch_calendars(
    url: str,
    username: str,
    password: str,
    *,
    timeout: float,
    start: dt.datetime,
    end: dt.datetime,
    only: list[str] | None = None,
) -> DavFetch:
    """Events overlapping [start, end) and all open to-dos, from every calendar (or those named in `only`)."""
    with session(url, username, password, timeout=timeout) as client:
        return _fetch(client, _display(url), start, end, only or [])


@dataclass
class DavAdded:
    collection: str  # the calendar written to (its display name, or the last part of its URL)
    created: bool  # False: an event with this UID was already there


def add_event_once(
    url: str,
    username: str,
    password: str,
    *,
    timeout: float,
    uid: str,
    ics: str,
    calendar: str | None,
    only: list[str] | None = None,
) -> DavAdded:
    """Add the event `ics` (whose UID is `uid`) unless the calendar already holds that UID.

    `calendar` names the calendar (display name or URL part, any case); None means
    the first of `only`, or the server's only calendar. A name the server lacks, or
    None with several calendars to choose from, is a `DavError("not-found")`.
    """
    from caldav.lib import error as caldav_error

    shown = _display(url)
    with session(url, username, password, timeout=timeout) as client:
        name, cal = _pick_calendar(_named_calendars(client), calendar or (only[0] if only else None), shown)
        try:
            cal.get_event_by_uid(uid)
            return DavAdded(name, created=False)
        except caldav_error.NotFoundError:
            pass
        try:
            # no_overwrite: a retry racing an earlier attempt still left running in its
            # thread is refused by the server rather than writing twice.
            cal.add_event(ics, no_overwrite=True)
        except (caldav_error.UidConflictError, caldav_error.ConsistencyError):
            return DavAdded(name, created=False)
        return DavAdded(name, created=True)


@dataclass
class DavDeleted:
    collection: str  # the calendar looked in (its display name, or the last part of its URL)
    deleted: bool  # False: no event with this UID was there (already gone)
    kept: str | None = None  # why the event was left alone (`changed` said it was edited)


def delete_event_once(
    url: str,
    username: str,
    password: str,
    *,
    timeout: float,
    uid: str,
    calendar: str | None,
    only: list[str] | None = None,
    changed: Callable[[str], str | None],
) -> DavDeleted:
    """Delete the event with UID `uid` unless `changed(its iCalendar text)` names a change.

    `calendar` is chosen as in `add_event_once`. The DELETE carries `If-Match` with the
    (strong) ETag of the copy `changed` judged, so an edit landing in between is not
    deleted either (the server's 412 becomes `kept`).
    """
    from caldav.lib import error as caldav_error

    shown = _display(url)
    with session(url, username, password, timeout=timeout) as client:
        name, cal = _pick_calendar(_named_calendars(client), calendar or (only[0] if only else None), shown)
        try:
            event = cal.get_event_by_uid(uid)
            event.load()  # the exact bytes and the strong ETag the conditional DELETE needs
        except caldav_error.NotFoundError:
            return DavDeleted(name, deleted=False)
        data = event.raw_data if event.raw_data is not None else event.data
        why = changed(data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data or ""))
        if why is not None:
            return DavDeleted(name, deleted=False, kept=why)
        try:
            tag = event.etag
            # A server without a strong ETag gets a plain DELETE: the check above is then the only guard.
            event.delete(if_match=tag if tag and not tag.startswith("W/") else False)
        except caldav_error.NotFoundError:
            return DavDeleted(name, deleted=False)
        except (caldav_error.ETagMismatchError, caldav_error.ScheduleTagMismatchError):
            return DavDeleted(name, deleted=False, kept="it changed on the server while Oxymus was deleting it")
        return DavDeleted(name, deleted=True)


_caldav_ready = threading.Lock()
_caldav_warm = False


def _caldav() -> Any:
    """The caldav module, with its class-level feature cache built once, under a lock.

    caldav builds `FeatureSet`'s feature tree lazily and publishes the empty dict before
    filling it, so two clients made at once in two threads (a poll and an approved event
    at the daemon's start) could see half a tree and fail with `KeyError: 'http'`. Every
    caldav client here is made through `session()`, so building the tree here first makes
    the rest of caldav's lookups reads.
    """
    global _caldav_warm
    import caldav

    if not _caldav_warm:
        with _caldav_ready:
            if not _caldav_warm:
                from caldav.compatibility_hints import FeatureSet

                for name in FeatureSet.FEATURES:
                    FeatureSet.find_feature(name)
                _caldav_warm = True
    return caldav


@contextlib.contextmanager
def session(url: str, username: str, password: str, *, timeout: float) -> Iterator[Any]:
    """A `caldav.DAVClient` for the account; caldav and network failures inside the block become `DavError`."""
    caldav = _caldav()
    from caldav.lib import error as caldav_error
    from lxml import etree

    shown = _display(url)
    try:
        with caldav.DAVClient(url=url, username=username, password=password, timeout=timeout) as client:
            yield client
    except caldav_error.AuthorizationError as e:
        status = e.status or (403 if "forbidden" in (e.reason or "").lower() else 401)
        raise DavError("login", f"the server refused the login for {username} ({status})", status=status) from None
    except caldav_error.DAVError as e:
        # caldav puts the server's "STATUS REASON\n\nBODY" in `reason` or, from some paths, in args[0]
        detail = e.reason if e.reason and e.reason != "no reason" else (e.args[0] if e.args else "")
        first = next((line.strip() for line in str(detail or "").splitlines() if line.strip()), "")[:200]
        status = e.status or _status_of(first)
        if status and not first.startswith(str(status)):
            first = f"HTTP {status} {first}".strip()
        retry = getattr(e, "retry_after_seconds", None)
        raise DavError("unavailable", f"{shown} answered {first or type(e).__name__}", status=status, retry_after=retry) from None
    except etree.LxmlError as e:
        raise DavError("bad-response", f"{shown} sent a malformed response: {e}") from None
    except OSError as e:  # niquests' errors (connection refused, timeouts) are OSErrors
        raise DavError("unavailable", f"cannot reach {shown}: {_network_reason(e, timeout)}") from None


def _named_calendars(client) -> list[tuple[str, str, Any]]:
    """(display name or URL part, URL part, calendar) for each of the principal's calendars, in the server's order."""
    named = []
    for cal in client.principal().calendars():
        ident = unquote(urlsplit(str(cal.url)).path.rstrip("/").rsplit("/", 1)[-1])
        try:
            display = cal.get_display_name()
        except Exception:  # noqa: BLE001 - a missing display name is not an error
            display = None
        named.append((display or ident, ident, cal))
    return named


def _is_named(item: tuple[str, str, Any], names: set[str]) -> bool:
    """Whether the calendar answers to one of `names` (casefolded), by display name or URL part."""
    return item[0].casefold() in names or item[1].casefold() in names


def _have(named: list[tuple[str, str, Any]]) -> str:
    return ", ".join(sorted(name for name, _, _ in named)) or "none"


def _pick_calendar(named: list[tuple[str, str, Any]], wanted: str | None, shown: str) -> tuple[str, Any]:
    if wanted is None:
        if len(named) == 1:
            return named[0][0], named[0][2]
        # Writing to an arbitrary one of several calendars would surprise the person.
        raise DavError("not-found", f"{shown} has {len(named) or 'no'} calendars ({_have(named)}): name the one to write to")
    for item in named:
        if _is_named(item, {wanted.casefold()}):
            return item[0], item[2]
    raise DavError("not-found", f"{shown}: no calendar named {wanted!r} (the server has: {_have(named)})")


def _fetch(client, shown: str, start: dt.datetime, end: dt.datetime, only: list[str]) -> DavFetch:
    out = DavFetch()
    named = all_calendars = _named_calendars(client)
    if only:
        found = {n.casefold() for name, ident, _ in named for n in (name, ident)}
        for name in only:
            if name.casefold() not in found:
                out.warnings.append(f"{shown}: no calendar named {name!r} (the server has: {_have(named)})")
        wanted = {n.casefold() for n in only}
        named = [item for item in named if _is_named(item, wanted)]
    if not all_calendars:
        out.warnings.append(f"{shown}: the server lists no calendars for this user")
    # One more day on each side: the server reads floating times and all-day
    # events in its own zone; expand.py filters to the exact window.
    start, end = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
    for name, _, cal in named:
        seen: set[str] = set()
        events = cal.search(start=start, end=end, event=True, expand=False, post_filter=False)
        todos = cal.search(todo=True, include_completed=False)
        for obj in [*events, *todos]:
            href = str(obj.url)
            if href in seen:
                continue
            seen.add(href)
            data = obj.data
            if isinstance(data, bytes):
                data = data.decode("utf-8", errors="replace")
            out.objects.append(DavObject(name, href, data or ""))
    return out


def _display(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _status_of(reason: str | None) -> int | None:
    head = (reason or "").strip()[:3]
    return int(head) if head.isdigit() else None


def _network_reason(e: OSError, timeout: float) -> str:
    text = f"{type(e).__name__}: {e}"
    lowered = text.lower()
    if "timeout" in lowered or "timed out" in lowered:
        return f"timed out after {timeout:g} s"
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "getaddrinfo" in lowered or "nodename" in lowered:
        return "cannot resolve the host name"
    return text[:300]
