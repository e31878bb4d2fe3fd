"""Checks that ask something else, each with a short timeout: every source, the notification server, Ollama.

A source is tried the way the daemon polls it: the connector's own `poll()` through
the plugin registry (polls have no side effects), so doctor needs no client of its own
and a third-party connector is checked like the built-ins.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from oxymus.doctor.result import Check, fail, ok, skip, warn
from oxymus.profile.config import CoreConfig
from oxymus.profile.paths import Paths

SOURCE_TIMEOUT = 10.0  # a whole poll; each request inside it gets REQUEST_TIMEOUT
REQUEST_TIMEOUT = 5.0
BUS_TIMEOUT = 5.0  # a loaded machine can take seconds to answer; a hung bus still ends the check
NOTIFICATIONS = "org.freedesktop.Notifications"


async def source_checks(paths: Paths, cfg: CoreConfig) -> list[Check]:
    from oxymus.sources import secrets
    from oxymus.sources.configured import build_sources
    from oxymus.sources.contract import PollContext

    try:
        sources = build_sources(cfg)
    except ValueError as exc:
        return [fail("sources", str(exc), "give each source in config.toml a name of its own")]
    if not sources:
        return [skip("sources", "none configured (see README: Sources of fresh state)")]
    ctx = PollContext(zone=cfg.time.tzinfo(), config_dir=Path(paths.config_dir), secret=secrets.get, timeout=REQUEST_TIMEOUT)
    return list(await asyncio.gather(*(_source_check(s, ctx) for s in sources)))


async def _source_check(source, ctx) -> Check:
    from oxymus.sources.contract import NeedsHuman, SourceUnavailable

    name = f"source {source.id}"
    section = f"[{source.id.split('.')[0]}]"
    try:
        result = await asyncio.wait_for(source.poll(ctx), SOURCE_TIMEOUT)
    except TimeoutError:
        return fail(name, f"no answer within {SOURCE_TIMEOUT:g} s",
                    f"check that it is reachable from here (network, VPN, URL in config.toml's {section})")
    except NeedsHuman as exc:
        return fail(name, str(exc), f"give it what it asks for (its secret, its credentials; `oxymus secret set {source.id}`)"
                    f", then `oxymus refresh {source.id}`")
    except SourceUnavailable as exc:
        return fail(name, str(exc), f"make it reachable or correct it in config.toml's {section}; "
                    "the daemon keeps retrying by itself")
    except Exception as exc:  # noqa: BLE001 - a connector's bug is shown as this source's problem
        return fail(name, f"the connector failed: {type(exc).__name__}: {exc}",
                    "a bug in the connector: report it with `oxymus doctor --json`")
    broken = [i for i in result.items if i.error]
    if broken or result.warnings:
        said = [f"{i.key}: {i.error}" for i in broken] + list(result.warnings)
        more = f" (and {len(said) - 3} more)" if len(said) > 3 else ""
        return warn(name, f"{len(result.items) - len(broken)} items read; " + "; ".join(said[:3]) + more,
                    f"correct or remove those entries (config.toml's {section}, or the file it names)")
    return ok(name, f"answers: {len(result.items)} item{'s' if len(result.items) != 1 else ''}")


async def notifications_check(daemon: dict | None) -> Check:
    """Is a notification server on the session bus this command sees, with buttons? And does the daemon see one?"""
    if sys.platform == "darwin":
        return skip("notifications", "macOS: notifications go to the Notification Center; not probed")
    daemon_says = (daemon or {}).get("notifications")
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        return warn("notifications", "no D-Bus session bus here (DBUS_SESSION_BUS_ADDRESS is not set)",
                    "run Oxymus in your desktop session; meanwhile approvals wait in the TUI and `oxymus approvals`")
    try:
        name, caps = await asyncio.wait_for(_ask_server(address), BUS_TIMEOUT)
    except TimeoutError:
        return warn("notifications", f"the session bus did not answer within {BUS_TIMEOUT:g} s ({address})",
                    "is the desktop session alive? notifications wait in the TUI until it is")
    except _NoServer as exc:
        return warn("notifications", f"no notification server on the session bus ({exc})",
                    "start one (dunst, mako, or your desktop's); until then approvals wait in the TUI and `oxymus approvals`")
    except Exception as exc:  # noqa: BLE001 - dbus-fast raises several kinds for a bus that cannot be reached
        return warn("notifications", f"cannot reach the session bus {address}: {type(exc).__name__}: {exc}",
                    "run Oxymus in your desktop session; meanwhile approvals wait in the TUI and `oxymus approvals`")
    if daemon_says:
        return warn("notifications", f"{name} answers here, but the daemon says: {daemon_says}",
                    "the daemon sees another session bus: restart it from this session (`oxymus down && oxymus up`); "
                    "for the service: `systemctl --user import-environment DBUS_SESSION_BUS_ADDRESS` and restart it")
    if "actions" not in caps:
        return warn("notifications", f"{name} shows notifications but has no buttons (capabilities: {', '.join(caps)})",
                    "approve in the TUI or with `oxymus approvals`; a server with actions (dunst, mako, GNOME, KDE) "
                    "shows Approve and Deny")
    return ok("notifications", f"{name} answers, with buttons")


class _NoServer(Exception):
    pass


async def _ask_server(address: str) -> tuple[str, list[str]]:
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    bus = await MessageBus(bus_address=address, bus_type=BusType.SESSION).connect()
    try:
        def call(member: str) -> Message:
            return Message(destination=NOTIFICATIONS, path="/org/freedesktop/Notifications",
                           interface=NOTIFICATIONS, member=member)

        info = await bus.call(call("GetServerInformation"))
        if info is None or info.message_type == MessageType.ERROR:
            raise _NoServer(info.error_name if info is not None else "no reply")
        caps = await bus.call(call("GetCapabilities"))
        if caps is None or caps.message_type == MessageType.ERROR:
            raise _NoServer(caps.error_name if caps is not None else "no reply")
        server, vendor, version, _spec = info.body
        return f"{server} {version}".strip(), list(caps.body[0])
    finally:
        bus.disconnect()


async def llm_check(cfg: CoreConfig) -> Check:
    llm = cfg.llm
    if not llm.enabled:
        return skip("ollama", "turned off ([llm] enabled = false): agents use their deterministic paths")
    from oxymus.agents.llm import Llm

    status = await Llm(llm).status(refresh=True)
    configured = "llm" in cfg.model_fields_set
    if status.available:
        return ok("ollama", f"{llm.model} is ready at {llm.host}")
    if not status.running:
        if not configured:
            return skip("ollama", f"no [llm] in config.toml and no Ollama at {llm.host}: agents use their deterministic paths")
        return warn("ollama", status.reason,
                    f"start Ollama (`ollama serve`) at {llm.host}, or set `enabled = false` under [llm]; "
                    "agents work without it")
    pulled = f" (pulled: {', '.join(status.models[:5])})" if status.models else ""
    return warn("ollama", f"Ollama answers at {llm.host}, but {status.reason}{pulled}",
                f"`ollama pull {llm.model}`, or set [llm] model to one that is pulled")
