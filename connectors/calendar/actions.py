"""`calendar.create_event`: add one timed event to a configured CalDAV calendar.

ICS files and URLs are read-only to Oxymus; only `[[calendar.caldav]]` entries can
be written to, with the same password (keyring `calendar.NAME`) the poll uses.

Idempotency: the event's UID is derived from the action's idempotency key, so a
retry after a crash looks the UID up first and, finding it, reports the event as
already created. caldav also stores the event under a URL made from the UID, so
two attempts can never leave two copies.

Compensation (a later step of a flow failed) deletes the event by the same UID,
with `If-Match` on the copy it checked, and only if the server's copy is still what
Oxymus wrote: an event someone edited since is left alone, and the refusal says so.

Times are written in UTC: the event happens once, so UTC is exact, and calendar
clients show it in their own zone. The preview shows it in the person's zone.

Imported by `CalendarConnector.actions()` at config load: icalendar and caldav are
imported only when an event is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from oxymus.actions.effects import (
    ActionContext, ActionInvalid, ActionSpec, EffectError, Permanent, Prepared, Preview, Receipt, Transient,
)
from oxymus.connectors.calendar.config import CalDavEntry, CalendarConfig

if TYPE_CHECKING:
    from oxymus.connectors.calendar.dav import DavAdded, DavDeleted, DavError

MAX_LENGTH = dt.timedelta(days=7)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# 4xx a server may also send while busy or starting: worth another attempt
_RETRYABLE_4XX = {408, 425, 429}


class CreateEventPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendar: str = Field(description="the name of a configured [[calendar.caldav]] entry", examples=["personal"])
    calendar_name: str | None = Field(
        default=None, description="which calendar on that server (default: the first in the entry's `calendars`, or the only one)"
    )
    summary: str = Field(min_length=1, max_length=500, description="the event's title")
    start: dt.datetime = Field(description="with a time zone, e.g. 2025-11-24T09:00:00+01:00")
    end: dt.datetime = Field(description="with a time zone; after start, at most 7 days later")
    description: str = Field(default="", max_length=10_000)
    location: str = Field(default="", max_length=500)


class CreateEvent(ActionSpec):
    kind: ClassVar[str] = "calendar.create_event"
    Payload: ClassVar[type[BaseModel]] = CreateEventPayload
    scope = "external"
    risk = "medium"
    description = "add a timed event to a CalDAV calendar"

    config: CalendarConfig

    async def prepare(self, payload: CreateEventPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        self._entry(payload)
        _check(payload)
        return Prepared(payload=payload.model_dump(mode="json"), preview=self._preview(payload, ctx.zone))

    def preview(self, payload: CreateEventPayload) -> Preview:  # type: ignore[override]
        return self._preview(payload, ZoneInfo("UTC"))

    async def execute(self, payload: CreateEventPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        entry, password = await self._account(payload, ctx)
        if not ctx.idempotency_key:
            raise Permanent("calendar.create_event needs an idempotency key to derive the event's UID")
        uid = event_uid(ctx.idempotency_key)
        ics = event_ics(payload, uid=uid, stamp=ctx.now(), action_id=ctx.action_id)
        added = await asyncio.to_thread(_add, entry, password, payload.calendar_name, uid, ics, ctx.timeout)
        where = _where(payload.calendar, payload.calendar_name)
        what = f"{_quoted(payload.summary)} {when(payload.start, payload.end, ctx.zone)} on {where}"
        data = {"uid": uid, "calendar": payload.calendar, "collection": added.collection,
                "start": _utc(payload.start).isoformat(), "end": _utc(payload.end).isoformat()}
        if not added.created:
            return Receipt(summary=f"{what} was already created", ref=uid, data=data, already_done=True)
        return Receipt(summary=f"created {what}", ref=uid, data=data)

    compensable = True

    async def compensate(self, payload: CreateEventPayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """Delete the event by its UID, unless someone edited it since Oxymus wrote it."""
        entry, password = await self._account(payload, ctx)
        uid = receipt.data.get("uid") or receipt.ref or (event_uid(ctx.compensates_key) if ctx.compensates_key else "")
        if not uid:
            raise Permanent("calendar.create_event: neither the receipt nor the key names the event to delete")
        calendar = receipt.data.get("collection") or payload.calendar_name
        gone = await asyncio.to_thread(_delete, entry, password, calendar, uid, lambda ics: edited(ics, uid, payload), ctx.timeout)
        what = f"{_quoted(payload.summary)} {when(payload.start, payload.end, ctx.zone)} on {_where(payload.calendar, payload.calendar_name)}"
        data = {"uid": uid, "calendar": payload.calendar, "collection": gone.collection}
        if gone.kept is not None:
            raise Permanent(f"event {what} was edited since ({gone.kept}); delete it by hand if it should go")
        if not gone.deleted:
            return Receipt(summary=f"{what} was already gone", ref=uid, data=data, already_done=True)
        return Receipt(summary=f"deleted {what}", ref=uid, data=data)

    # -- helpers

    async def _account(self, payload: CreateEventPayload, ctx: ActionContext) -> tuple[CalDavEntry, str]:
        """The entry to write to and its password; Permanent when the config or the secret changed since the proposal."""
        try:
            entry = self._entry(payload)
            _check(payload)
        except ActionInvalid as e:
            raise Permanent(str(e)) from None
        password = await asyncio.to_thread(ctx.secret, entry.secret_spec())  # a password_command may run
        if password is None:
            raise Permanent(entry.no_password())
        return entry, password

    def _entry(self, payload: CreateEventPayload) -> CalDavEntry:
        """The CalDAV entry the payload names; ActionInvalid naming the field otherwise."""
        config = self.config or CalendarConfig()
        for entry in config.caldav:
            if entry.source_name() == payload.calendar:
                _check_calendar_name(payload, entry)
                return entry
        if any(entry.source_name() == payload.calendar for entry in config.ics):
            raise ActionInvalid(
                f"payload.calendar: {payload.calendar!r} is an ICS calendar, which Oxymus reads but cannot write to; "
                f"name a CalDAV calendar ({_names(config)})"
            )
        raise ActionInvalid(f"payload.calendar: no CalDAV calendar named {payload.calendar!r} ({_names(config)})")

    def _preview(self, payload: CreateEventPayload, zone: ZoneInfo) -> Preview:
        where = _where(payload.calendar, payload.calendar_name)
        summary = f"calendar block {when(payload.start, payload.end, zone)} {_quoted(payload.summary)} on {where}"
        lines = [
            f"Title:    {payload.summary}",
            f"When:     {_long(payload.start, zone)} – {_long(payload.end, zone)} ({_length(payload.end - payload.start)})",
            f"Calendar: {where}",
        ]
        if payload.location:
            lines.append(f"Location: {payload.location}")
        if payload.description:
            lines += ["", payload.description]
        return Preview(summary=summary, format="event", body="\n".join(lines))


def _check_calendar_name(payload: CreateEventPayload, entry: CalDavEntry) -> None:
    # Oxymus polls only the calendars the entry lists: an event written elsewhere
    # would never show up in its own views.
    if payload.calendar_name is None or not entry.calendars:
        return
    if payload.calendar_name.casefold() not in {c.casefold() for c in entry.calendars}:
        listed = ", ".join(entry.calendars)
        raise ActionInvalid(f"payload.calendar_name: {payload.calendar_name!r} is not among the calendars of {entry.source_name()} ({listed})")


def _check(payload: CreateEventPayload) -> None:
    if not payload.summary.strip():
        raise ActionInvalid("payload.summary: the title is blank")
    for field in ("start", "end"):
        value: dt.datetime = getattr(payload, field)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ActionInvalid(f"payload.{field}: {value.isoformat()} has no time zone; give one, e.g. {value.isoformat()}+01:00")
    if payload.end <= payload.start:
        raise ActionInvalid(f"payload.end: must be after payload.start ({payload.start.isoformat()})")
    if payload.end - payload.start > MAX_LENGTH:
        raise ActionInvalid(f"payload.end: an event may last at most 7 days; this one lasts {_length(payload.end - payload.start)}")


def _names(config: CalendarConfig) -> str:
    names = [e.source_name() for e in config.caldav]
    return f"configured: {', '.join(names)}" if names else "none is configured: add a [[calendar.caldav]] entry"


def _where(calendar: str, calendar_name: str | None) -> str:
    """`personal`, or `personal/Work` when the payload names the calendar on the server."""
    return calendar if calendar_name is None else f"{calendar}/{calendar_name}"


# ---------------------------------------------------------------- the event


def event_uid(idempotency_key: str) -> str:
    """The same key always gives the same UID, so a retry finds the event it made."""
    return f"oxymus-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@oxymus"


def event_ics(payload: CreateEventPayload, *, uid: str, stamp: dt.datetime, action_id: str) -> str:
    """One VCALENDAR holding the VEVENT, times in UTC."""
    from icalendar import Calendar, Event

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(payload.start))
    event.add("dtend", _utc(payload.end))
    event.add("summary", payload.summary)
    if payload.description:
        event.add("description", payload.description)
    if payload.location:
        event.add("location", payload.location)
    if action_id:
        event.add("x-oxymus-action", action_id)
    cal = Calendar()
    cal.add("prodid", "-//Oxymus//calendar.create_event//EN")
    cal.add("version", "2.0")
    cal.add_component(event)
    return cal.to_ical().decode()


def _add(entry: CalDavEntry, password: str, calendar_name: str | None, uid: str, ics: str, timeout: float) -> DavAdded:
    """Runs in a worker thread: the DavError of the wire becomes Transient or Permanent."""
    from oxymus.connectors.calendar.dav import DavError, add_event_once

    try:
        return add_event_once(entry.url, entry.username, password, timeout=timeout, uid=uid, ics=ics,
                              calendar=calendar_name, only=entry.calendars)
    except DavError as e:
        raise _effect_error(e, entry) from None


def edited(ics: str, uid: str, payload: CreateEventPayload) -> str | None:
    """What differs between the server's copy of the event and what Oxymus wrote; None if nothing does."""
    from icalendar import Calendar

    try:
        events = [ev for ev in Calendar.from_ical(ics).walk("VEVENT") if str(ev.get("UID", "")) == uid]
    except ValueError as e:
        return f"the server's copy does not parse: {e}"
    if len(events) != 1:
        return "it now has several occurrences" if events else "the server's copy holds no such event"
    (event,) = events
    changes = []
    if int(event.get("SEQUENCE", 0) or 0) > 0:
        changes.append(f"SEQUENCE is {event['SEQUENCE']}")
    if "LAST-MODIFIED" in event:
        changes.append("it has a LAST-MODIFIED")
    if "RRULE" in event or "RDATE" in event:
        changes.append("it now repeats")
    for name, wanted in (("SUMMARY", payload.summary), ("DESCRIPTION", payload.description), ("LOCATION", payload.location)):
        if str(event.get(name, "")) != wanted:
            changes.append(f"its {name.lower()} changed")
    for name, wanted in (("DTSTART", payload.start), ("DTEND", payload.end)):
        value = event.decoded(name, None)
        if not isinstance(value, dt.datetime) or value.tzinfo is None or value != wanted:
            changes.append(f"its {'start' if name == 'DTSTART' else 'end'} moved")
    return ", ".join(changes) or None


def _delete(entry: CalDavEntry, password: str, calendar_name: str | None, uid: str, changed, timeout: float) -> DavDeleted:
    """Runs in a worker thread: the DavError of the wire becomes Transient or Permanent."""
    from oxymus.connectors.calendar.dav import DavError, delete_event_once

    try:
        return delete_event_once(entry.url, entry.username, password, timeout=timeout, uid=uid, calendar=calendar_name,
                                 only=entry.calendars, changed=changed)
    except DavError as e:
        raise _effect_error(e, entry) from None


def _effect_error(e: DavError, entry: CalDavEntry) -> EffectError:
    name = entry.source_name()
    if e.kind == "login":
        # A 403 to a write may also be a calendar this account can only read.
        maybe = f", and whether {entry.username} may write to this calendar" if e.status == 403 else ""
        check = (f"check what `{entry.password_command}` prints" if entry.password_command
                 else f"check the password with `oxymus secret set {entry.secret_name()}`")
        return Permanent(f"{name}: {e}: {check}{maybe}")
    if e.kind == "not-found":
        return Permanent(f"{name}: {e}")
    if e.status is not None and 400 <= e.status < 500 and e.status not in _RETRYABLE_4XX:
        return Permanent(f"{name}: {e}")
    return Transient(f"{name}: {e}", retry_after=e.retry_after)


# ---------------------------------------------------------------- words


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


def _day(moment: dt.datetime) -> str:
    # Not strftime: %a and %b follow the process locale, and this text is stored.
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]}"


def when(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> str:
    """`Tue 24 Nov 09:00–11:00`, or `Tue 24 Nov 22:00–Wed 25 Nov 01:00` across midnight, in `zone`."""
    a, b = start.astimezone(zone), end.astimezone(zone)
    if a.date() == b.date():
        return f"{_day(a)} {a:%H:%M}–{b:%H:%M}"
    return f"{_day(a)} {a:%H:%M}–{_day(b)} {b:%H:%M}"


def _long(moment: dt.datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{_day(local)} {local.year} {local:%H:%M} {local.tzname() or zone.key}"


def _length(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p) or "0 min"


def _quoted(text: str) -> str:
    flat = " ".join(text.split())
    return f'"{flat if len(flat) <= 80 else flat[:79] + "…"}"'
