"""What this installation can load: its connectors and agents, built in or from plugins.

Both are found the same way, by entry point group (`oxymus.connectors`,
`oxymus.agents`; record kinds too, `oxymus.record_kinds`, through `registry()`), and
imported only when first asked for. This module imports none of them itself, so the config, the daemon and the docs can list plugins without the
packages that implement them importing back (no cycle through the registry).
A plugin that fails to load is left out and remembered with the reason, so one bad
plugin cannot stop the config from loading or the daemon from starting.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

CONNECTOR_GROUP = "oxymus.connectors"
AGENT_GROUP = "oxymus.agents"
RECORD_KIND_GROUP = "oxymus.record_kinds"

# Built-in agents are listed here as well as found by entry point, so an agent runs
# from a plain checkout whose package metadata is stale.
BUILTIN_AGENTS: dict[str, str] = {
    "planner": "oxymus.agents.planner:Planner",
    "triage": "oxymus.agents.triage:Triage",
    "sentinel": "oxymus.agents.sentinel:Sentinel",
    "publisher": "oxymus.agents.publisher:Publisher",
    "finance": "oxymus.agents.finance:Finance",
    "reflection": "oxymus.agents.reflection:Reflection",
    "steward": "oxymus.agents.steward:MemorySteward",
    "distribution": "oxymus.agents.distribution:Distribution",
    "intake": "oxymus.agents.intake:Intake",
    "research": "oxymus.agents.research:Research",
    "editor": "oxymus.agents.editor:Editor",
}


def load(spec: str) -> type:
    """`module:attr` -> the object (an entry point's value)."""
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


class _Registry:
    """One kind of plugin: loaded once, by name; the broken ones remembered with why (and, with
    `check`, the ones that load but cannot work)."""

    def __init__(self, what: str, group: str, builtin: dict[str, str] | None = None, check=None) -> None:
        self.what, self.group, self.builtin, self.check = what, group, builtin or {}, check
        self.found: dict[str, type] | None = None
        self.broken: dict[str, str] = {}

    def all(self) -> dict[str, type]:
        if self.found is None:
            specs = dict(self.builtin)
            specs.update({ep.name: ep.value for ep in entry_points(group=self.group)})
            found: dict[str, type] = {}
            for name, spec in sorted(specs.items()):
                try:
                    cls = load(spec)
                    if getattr(cls, "name", None) != name:
                        raise TypeError(f"it loads {cls!r}, whose name is {getattr(cls, 'name', None)!r}, not {name!r}")
                    if self.check is not None:
                        self.check(cls)
                except Exception as exc:  # noqa: BLE001 - any plugin failure is reported, never fatal
                    self.broken[name] = f"{self.what} {name!r} ({spec}) failed to load: {type(exc).__name__}: {exc}"
                    continue
                found[name] = cls
            self.found = found
        return self.found


_connectors = _Registry("connector", CONNECTOR_GROUP)
_agents = _Registry("agent", AGENT_GROUP, BUILTIN_AGENTS)


def connectors() -> dict[str, type]:
    """Every installed connector class by name (built-ins and plugins alike)."""
    return _connectors.all()


def broken_connectors() -> dict[str, str]:
    """name -> why that connector could not be loaded."""
    _connectors.all()
    return dict(_connectors.broken)


def agents() -> dict[str, type]:
    """Every available agent class by name."""
    return _agents.all()


def broken_agents() -> dict[str, str]:
    """name -> why that agent could not be loaded."""
    _agents.all()
    return dict(_agents.broken)


def registry(what: str, group: str, builtin: dict[str, str] | None = None, check=None) -> _Registry:
    """A registry for another kind of plugin, found the same way; `check(cls)` raises for one
    that cannot work (record kinds: oxymus/records/kinds.py keeps theirs)."""
    return _Registry(what, group, builtin, check)
