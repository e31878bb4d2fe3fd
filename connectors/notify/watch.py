"""Watch for the notification server coming back, so what it missed is shown then.

On the session bus, `NameOwnerChanged` for org.freedesktop.Notifications says when a
server takes the name. With no bus at all (or once it dies), the bus is probed again
every `retry_s` seconds; connecting to a bus where a server already runs counts as the
server coming back, since it may have started while nobody watched.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable

log = logging.getLogger("oxymus.connectors.notify")

NAME = "org.freedesktop.Notifications"
RETRY_S = 30.0


async def _has_owner(bus) -> bool:
    from dbus_fast import Message, MessageType

    reply = await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                   interface="org.freedesktop.DBus", member="NameHasOwner", signature="s", body=[NAME]))
    return reply is not None and reply.message_type == MessageType.METHOD_RETURN and bool(reply.body[0])


async def watch_server(on_back: Callable[[], Awaitable[None]], retry_s: float = RETRY_S) -> None:
    """Call `on_back` whenever a notification server appears; runs until cancelled."""
    from dbus_fast import Message, MessageType
    from dbus_fast.aio import MessageBus

    had_owner: bool | None = None  # unknown until the first look
    while True:
        address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        bus = None
        try:
            if not address:
                raise OSError("DBUS_SESSION_BUS_ADDRESS is unset")
            bus = await asyncio.wait_for(MessageBus(bus_address=address).connect(), 5.0)
            appeared = asyncio.Event()

            def handler(msg: Message) -> bool:
                if (msg.message_type == MessageType.SIGNAL and msg.member == "NameOwnerChanged"
                        and msg.body and msg.body[0] == NAME and msg.body[2]):
                    appeared.set()
                return False

            bus.add_message_handler(handler)
            await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                   interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                                   body=[f"type='signal',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='{NAME}'"]))
            owner = await _has_owner(bus)
            if owner and had_owner is not True:  # also at start: what was missed before it
                await _call(on_back)
            had_owner = owner
            lost = asyncio.ensure_future(bus.wait_for_disconnect())
            while True:
                seen = asyncio.ensure_future(appeared.wait())
                done, _ = await asyncio.wait({seen, lost}, return_when=asyncio.FIRST_COMPLETED)
                if lost in done:
                    seen.cancel()
                    raise OSError("the session bus went away")
                appeared.clear()
                had_owner = True
                log.info("a notification server appeared on the session bus")
                await _call(on_back)
        except asyncio.CancelledError:
            if bus is not None:
                bus.disconnect()
            raise
        except Exception as exc:  # noqa: BLE001 - no bus now: look again later
            if had_owner is not False:
                log.info("watching for a notification server: %s; looking again every %gs", exc, retry_s)
            had_owner = False
            if bus is not None:
                bus.disconnect()
        await asyncio.sleep(retry_s)


async def _call(on_back: Callable[[], Awaitable[None]]) -> None:
    try:
        await on_back()
    except Exception:  # noqa: BLE001 - a failed redelivery must not end the watch
        log.exception("delivering what the notification server missed failed")
