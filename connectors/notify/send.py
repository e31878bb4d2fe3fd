"""`notify.send`: one desktop notification, optionally with buttons that approve or deny another action.

Notifications go through desktop-notifier (D-Bus `org.freedesktop.Notifications` on
Linux). Button presses arrive later as D-Bus signals on the connection that sent
the notification, so the notifier (and its connection) lives at module level, one
per session bus, for as long as the daemon runs: a notifier created per call would
be gone when the person clicks.

Idempotency: a shown notification cannot be looked up afterwards, so there is
nothing to check before sending. A crash between the server's reply and the stored
receipt therefore shows the notification a second time on retry, which is harmless;
apart from that, each call sends exactly one notification and never retries inside.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import contextvars
import inspect
import logging
import os
import re
import socket
import sys
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import unquote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from oxymus.actions.effects import ActionContext, ActionSpec, Preview, Receipt, Transient
from oxymus.connectors.notify.config import Kind, NotifyConfig
from oxymus.sources.contract import utc_iso

log = logging.getLogger("oxymus.connectors.notify")

# C0 and C1 controls except tab and newline; D-Bus strings cannot carry NUL at all.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Lone surrogates (from undecodable file names or surrogateescape) cannot be sent as UTF-8.
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _clean(value: Any, one_line: bool) -> Any:
    if not isinstance(value, str):
        return value  # let the type check name the field
    text = _SURROGATES.sub("\ufffd", value.replace("\r\n", "\n").replace("\r", "\n"))
    if one_line:
        text = " ".join(text.replace("\t", " ").split("\n"))
    return _CONTROLS.sub("", text).strip()


OneLine = Annotated[str, BeforeValidator(lambda v: _clean(v, one_line=True))]
Text = Annotated[str, BeforeValidator(lambda v: _clean(v, one_line=False))]

# desktop-notifier sends the action key "default" for a click on the notification
# body, so a button with that id could never be told apart from a click.
RESERVED_BUTTON_IDS = frozenset({"default"})


class Button(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z_]{1,20}$", description="what is reported when pressed, e.g. approve")
    label: OneLine = Field(min_length=1, max_length=40, description="the text on the button")

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_BUTTON_IDS:
            raise ValueError(f"{value!r} is reserved for a click on the notification itself")
        return value


class NotifyPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: OneLine = Field(min_length=1, max_length=200, description="one line")
    body: Text = Field(default="", max_length=2000)
    urgency: Literal["low", "normal", "critical"] = "normal"
    buttons: list[Button] = Field(default_factory=list, max_length=3)
    decides: str | None = Field(
        default=None, min_length=1, validate_default=True,
        description="the id of the action the buttons approve or deny",
    )
    kind: Kind = Field(default="general", description="what it is about: its [notify.kinds] switch")
    facts: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=50,
        description="fact keys it announces, e.g. bill:<id>@<due>:overdue:<date>; a notification whose every fact "
                    "was already announced (by any agent) is not sent again",
    )

    @field_validator("buttons")
    @classmethod
    def _distinct(cls, buttons: list[Button]) -> list[Button]:
        ids = [b.id for b in buttons]
        if len(set(ids)) != len(ids):
            raise ValueError(f"button ids must differ, got {ids}")
        return buttons

    @field_validator("decides")
    @classmethod
    def _buttons_need_a_target(cls, value: str | None, info: Any) -> str | None:
        # A press is only ever reported as a decision on another action; without one
        # the buttons would do nothing when clicked.
        if value is None and info.data.get("buttons"):
            raise ValueError("buttons need the id of the action they decide")
        return value


# --- is there a bus? -----------------------------------------------------------


def bus_available() -> tuple[bool, str]:
    """(True, where) if desktop notifications can reach a notification service, else (False, why not).

    On Linux this opens and closes a connection to DBUS_SESSION_BUS_ADDRESS, because
    desktop-notifier does not fail on a missing bus, it only logs. It does not check
    that a notification server is running on the bus (that is a retryable failure).
    """
    if sys.platform in ("darwin", "win32"):
        return True, "the system's notification center"
    if not sys.platform.startswith("linux"):
        return False, f"desktop notifications are not supported on {sys.platform}"
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        return False, "DBUS_SESSION_BUS_ADDRESS is unset"
    problems = []
    for transport, options in _parse_address(address):
        where, why = _probe(transport, options)
        if why is None:
            return True, f"session bus at {where}"
        problems.append(f"{where}: {why}")
    return False, "; ".join(problems) or f"DBUS_SESSION_BUS_ADDRESS is not a D-Bus address: {address!r}"


def _parse_address(address: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for entry in filter(None, address.split(";")):
        transport, _, rest = entry.partition(":")
        options = dict(kv.split("=", 1) for kv in rest.split(",") if "=" in kv)
        out.append((transport, {k: unquote(v) for k, v in options.items()}))
    return out


def _probe(transport: str, options: dict[str, str]) -> tuple[str, str | None]:
    """(a readable location, None if something accepts connections there or the reason it does not)."""
    where = f"{transport}:"
    try:
        if transport == "unix" and ("path" in options or "abstract" in options):
            where = options.get("path") or "@" + options["abstract"]
            target = options["path"] if "path" in options else "\0" + options["abstract"]
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1.0)
                s.connect(target)
            return where, None
        if transport == "tcp" and "port" in options:
            where = f"{options.get('host', 'localhost')}:{options['port']}"
            with socket.create_connection((options.get("host", "localhost"), int(options["port"])), timeout=1.0):
                return where, None
    except (OSError, ValueError) as exc:
        return where, (getattr(exc, "strerror", None) or str(exc)).lower()
    return where, "a transport Oxymus cannot connect to"


# --- one notifier per bus ----------------------------------------------------


@dataclass
class _Live:
    loop: asyncio.AbstractEventLoop
    notifier: Any  # desktop_notifier.DesktopNotifier, imported lazily


_notifiers: dict[str, _Live] = {}
# Strong references to running button handlers: the loop only keeps weak ones.
_pending: set[asyncio.Future[Any]] = set()


def _notifier_for(app_name: str) -> Any:
    from desktop_notifier import DesktopNotifier

    loop = asyncio.get_running_loop()
    for key in [k for k, live in _notifiers.items() if live.loop.is_closed()]:
        del _notifiers[key]
    key = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    live = _notifiers.get(key)
    if live is None or live.loop is not loop:
        # A dbus-fast connection belongs to the loop it was opened on.
        live = _notifiers[key] = _Live(loop, DesktopNotifier(app_name=app_name, app_icon=None))
    live.notifier.app_name = app_name
    return live.notifier


async def _after_failure(notifier: Any) -> None:
    """Start afresh next time if the connection is gone or nothing waits on it for clicks.

    desktop-notifier never reconnects a lost connection, and it keeps the one it
    opened before a failed introspection (no server yet) while opening another on
    the next try; closing it here keeps a daemon that retries against a missing
    server from collecting connections. (`bus` is desktop-notifier's attribute.)
    """
    bus = getattr(getattr(notifier, "_backend", None), "bus", None)
    alive = bus is not None and getattr(bus, "connected", False)
    if alive and await notifier.get_current_notifications():
        return
    for key, live in list(_notifiers.items()):
        if live.notifier is notifier:
            del _notifiers[key]
    if alive:
        await _disconnect(bus)


async def _disconnect(bus: Any) -> None:
    # disconnect() only shuts the socket down; the loop closes it on the next read.
    bus.disconnect()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(bus.wait_for_disconnect(), 2.0)


async def close_notifiers() -> None:
    """Close the bus connections of the notifiers on this loop (daemon shutdown, tests); later clicks are lost."""
    loop = asyncio.get_running_loop()
    for key, live in list(_notifiers.items()):
        if live.loop is loop:
            del _notifiers[key]
            bus = getattr(getattr(live.notifier, "_backend", None), "bus", None)
            if bus is not None and getattr(bus, "connected", False):
                await _disconnect(bus)


# desktop-notifier logs a failed send (with its exception) instead of raising. The
# handler below hands that exception to the send in progress in the same task.
_failures: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar("notify_failures", default=None)


class _FailureCatcher(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sink = _failures.get()
        if sink is not None and record.exc_info and record.exc_info[1] is not None:
            sink.append(record.exc_info[1])


_catcher = _FailureCatcher(logging.WARNING)
logging.getLogger("desktop_notifier").addHandler(_catcher)


def _as_effect_error(exc: BaseException) -> Transient:
    from dbus_fast.errors import DBusError

    if isinstance(exc, DBusError):
        if exc.type in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
            return Transient("no notification server on the session bus (org.freedesktop.Notifications): is a notification daemon running?")
        return Transient(f"the notification server refused the notification: {exc.type}: {exc.text}")
    if isinstance(exc, (OSError, EOFError)):
        return Transient(f"lost the D-Bus session bus: {exc}")
    return Transient(f"the notification could not be sent: {type(exc).__name__}: {exc}")


# --- button presses ------------------------------------------------------------


def _on_press(loop: asyncio.AbstractEventLoop, ctx: ActionContext, target: str, button: str):
    """The callback desktop-notifier calls (with no arguments) when `button` is pressed."""

    def fire() -> None:
        try:
            result = ctx.button_pressed(target, button)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                _pending.add(task)
                task.add_done_callback(_finished(target, button))
        except Exception:
            log.exception("handling button %r for action %s failed", button, target)

    def pressed() -> None:
        log.info("notification button %r pressed for action %s", button, target)
        try:
            loop.call_soon_threadsafe(fire)
        except RuntimeError:  # the loop is closed: the daemon is shutting down
            log.warning("button %r for action %s pressed after shutdown; ignored", button, target)

    return pressed


def _finished(target: str, button: str):
    def done(task: asyncio.Future[Any]) -> None:
        _pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("handling button %r for action %s failed", button, target, exc_info=task.exception())

    return done


# --- the action kind -------------------------------------------------------------


class NotifySend(ActionSpec):
    kind: ClassVar[str] = "notify.send"
    Payload: ClassVar[type[BaseModel]] = NotifyPayload
    scope = "local"
    risk = "low"
    description = "a desktop notification, optionally with buttons that approve or deny another action"
    max_attempts = 3

    def __init__(self, config: NotifyConfig | None = None):
        super().__init__(config if config is not None else NotifyConfig())

    def available(self) -> tuple[bool, str]:
        """Always proposable: without a desktop a notification still reaches a TUI or the missed list."""
        if not self.config.enabled:
            return True, "recorded only (notify.enabled is false)"
        ok, why = bus_available()
        return True, "" if ok else f"no D-Bus session bus ({why}): notifications go to the TUI or `oxymus notifications`"

    def preview(self, payload: NotifyPayload) -> Preview:  # type: ignore[override]
        lines = [payload.body] if payload.body else []
        if payload.buttons:
            lines.append("buttons: " + "  ".join(f"[{b.label}]" for b in payload.buttons) + f"  (decide {payload.decides})")
        return Preview(summary=f"notify ({payload.urgency}): {payload.title}", format="message", body="\n\n".join(lines))

    async def watch(self, on_back) -> None:
        """Run until cancelled, calling `on_back()` whenever a notification server appears."""
        from oxymus.connectors.notify.watch import watch_server

        async def back() -> None:
            await close_notifiers()  # its capabilities may differ from the last server's
            await on_back()

        await watch_server(back)

    def schedule(self, payload: NotifyPayload, now: dt.datetime, zone: dt.tzinfo, recent: list[str]) -> tuple[str, str | None]:
        """When it may be shown: ("silenced", None) for a kind switched off, ("held", UTC ISO) for quiet
        hours or the rate limit, ("pending", None) for now. `recent`: the sorted UTC ISO times the
        notifications counted by the rate limit were or will be shown, from an hour ago on."""
        config: NotifyConfig = self.config
        if not config.kind_on(payload.kind):
            return "silenced", None
        at = now
        if payload.urgency != "critical":
            at = config.quiet_until(now, zone) or now
        if config.max_per_hour is not None and payload.kind != "approval":
            times = [dt.datetime.fromisoformat(t) for t in recent]
            while True:
                window = [t for t in times if at - dt.timedelta(hours=1) < t <= at]
                if len(window) < config.max_per_hour:
                    break
                # The hour frees up when the oldest shown within it leaves it.
                at = min(window) + dt.timedelta(hours=1, milliseconds=1)
            if payload.urgency != "critical":
                at = config.quiet_until(at, zone) or at
        return ("held", utc_iso(at)) if at > now else ("pending", None)

    async def execute(self, payload: NotifyPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """Show it on the desktop if there is one. No bus or no server is no failure: the receipt says
        `desktop: unavailable` and the daemon passes it on to the TUIs or the missed list."""
        config: NotifyConfig = self.config
        data: dict[str, Any] = {"urgency": payload.urgency, "buttons": [b.id for b in payload.buttons], "decides": payload.decides}
        if not config.enabled:
            return Receipt(summary=f"recorded, not shown (notify.enabled is false): {payload.title}",
                           data={**data, "shown": False, "desktop": "off", "note": "notify.enabled is false"})

        if not config.kind_on(payload.kind):
            return Receipt(summary=f"recorded, not shown (notify.kinds.{payload.kind} is false): {payload.title}",
                           data={**data, "shown": False, "desktop": "off", "note": f"notify.kinds.{payload.kind} is false"})
        ok, why = await asyncio.to_thread(bus_available)
        if not ok:
            return _unshown(payload, data, f"no D-Bus session bus ({why})")

        from desktop_notifier import Button as DNButton
        from desktop_notifier import Capability, Notification, Urgency

        loop = asyncio.get_running_loop()
        notifier = _notifier_for(config.app_name)
        buttons, body, plain = payload.buttons, payload.body, False
        if buttons:
            try:
                capabilities = await asyncio.wait_for(notifier.get_capabilities(), ctx.timeout)
            except Exception as exc:  # noqa: BLE001 - no server, or one that does not answer
                await _after_failure(notifier)
                return _unshown(payload, data, _as_effect_error(exc).args[0] if not isinstance(exc, asyncio.TimeoutError)
                                else f"the notification server did not answer within {ctx.timeout:g}s")
            if Capability.BUTTONS not in capabilities:
                # A server without action buttons (some minimal ones) still shows the text; the
                # decision waits in Oxymus, so the text says where.
                buttons, plain = [], True
                body = (f"{body}\n" if body else "") + f"Open Oxymus (oxymus tui) to approve, or: oxymus approve {payload.decides}"
        dispatched: list[bool] = []
        notification = Notification(
            title=payload.title,
            message=body[:2000],
            urgency=Urgency(payload.urgency),
            buttons=tuple(
                DNButton(title=b.label, identifier=b.id, on_pressed=_on_press(loop, ctx, payload.decides or "", b.id))
                for b in buttons
            ),
            timeout=config.timeout_s if config.timeout_s is not None else -1,
            # desktop-notifier calls this only once the server took the notification.
            on_dispatched=lambda: dispatched.append(True),
            # The identifier stays desktop-notifier's fresh UUID: it maps the server's ids
            # back to notifications and refuses a value it already holds, so reusing the
            # action id would break a retry after a lost reply.
        )
        failures: list[BaseException] = []
        token = _failures.set(failures)
        try:
            identifier = await asyncio.wait_for(notifier.send_notification(notification), ctx.timeout)
        except asyncio.TimeoutError:
            await _after_failure(notifier)
            return _unshown(payload, data, f"the notification server did not answer within {ctx.timeout:g}s")
        finally:
            _failures.reset(token)
        if not dispatched:
            await _after_failure(notifier)
            if failures and _no_server(failures[0]):
                return _unshown(payload, data, _as_effect_error(failures[0]).args[0])
            if failures:
                raise _as_effect_error(failures[0]) from failures[0]
            # Failed without an exception we could see (its logging turned down).
            raise Transient("the notification server did not accept the notification")
        note = "shown without buttons: the notification server has none" if plain else None
        return Receipt(summary=f"notified: {payload.title}" + (" (without buttons)" if plain else ""), ref=identifier,
                       data={**data, "shown": True, "desktop": "shown_plain" if plain else "shown", "note": note,
                             "app_name": config.app_name})


def _no_server(exc: BaseException) -> bool:
    """Nobody to show it right now (no server on the bus, or the bus gone): not a failure of the notification."""
    from dbus_fast.errors import DBusError

    if isinstance(exc, DBusError):
        return exc.type in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner")
    return isinstance(exc, (OSError, EOFError))


def _unshown(payload: NotifyPayload, data: dict[str, Any], why: str) -> Receipt:
    log.info("notification not shown on the desktop: %s", why)
    return Receipt(summary=f"not shown on the desktop ({why}): {payload.title}",
                   data={**data, "shown": False, "desktop": "unavailable", "note": why})
