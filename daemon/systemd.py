"""What the daemon tells systemd when it runs as a `Type=notify` user service.

sd_notify's protocol is one datagram of `KEY=VALUE` lines to the socket named in
$NOTIFY_SOCKET (a path, or `@name` for the abstract namespace), so it is a few lines
here rather than a dependency. Outside systemd $NOTIFY_SOCKET is unset and every
call is a no-op.

The watchdog pings come from a task on the daemon's event loop: a loop that hangs
stops pinging, and systemd restarts the service (`WatchdogSec=` in the unit,
`Restart=on-failure`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("oxymus.daemon.systemd")

_failed_once = False


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send `state` (e.g. "READY=1") to systemd; False when not under systemd or the send failed."""
    global _failed_once
    env = os.environ if env is None else env
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address[0] == "@":
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        if not _failed_once:  # once: a vanished notify socket would otherwise log every watchdog ping
            log.warning("could not notify systemd at %s (%s): %s", env.get("NOTIFY_SOCKET"), state.split("\n")[0], exc)
            _failed_once = True
        return False
    return True


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of $WATCHDOG_USEC), or None when no watchdog is asked for."""
    env = os.environ if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):  # the watchdog is meant for another process
        return None
    return usec / 2 / 1_000_000


async def watchdog_forever(interval: float) -> None:
    """Ping systemd's watchdog from the event loop until cancelled."""
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval)
