"""Agents: narrow specialists that turn state, memory and plans into artifacts and proposals.

`base.py` is the contract. Built-in specialists live beside it, one module each
(the larger ones keep their pure parts in a second module: `publisher_draft`,
`reflection_review`, `sentinel_notices`, `triage_rules`);
third parties register more under the entry point group `oxymus.agents`.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "oxymus.agents"
BUILTIN: dict[str, str] = {
    "planner": "oxymus.agents.planner:Planner",
    "triage": "oxymus.agents.triage:Triage",
    "sentinel": "oxymus.agents.sentinel:Sentinel",
    "publisher": "oxymus.agents.publisher:Publisher",
    "finance": "oxymus.agents.finance:Finance",
    "reflection": "oxymus.agents.reflection:Reflection",
    "steward": "oxymus.agents.steward:MemorySteward",
}

log = logging.getLogger("oxymus.agents")
_registry: dict[str, type] | None = None
_broken: dict[str, str] = {}


def _load(spec: str) -> type:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def agents() -> dict[str, type]:
    """Every available agent class by name. One that fails to load is left out and remembered."""
    global _registry
    if _registry is None:
        found: dict[str, type] = {}
        specs = dict(BUILTIN)
        specs.update({ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)})
        for name, spec in sorted(specs.items()):
            try:
                cls = _load(spec)
                if getattr(cls, "name", None) != name:
                    raise TypeError(f"{spec} is named {getattr(cls, 'name', None)!r}, not {name!r}")
            except Exception as exc:  # noqa: BLE001
                _broken[name] = f"agent {name!r} ({spec}) failed to load: {type(exc).__name__}: {exc}"
                continue
            found[name] = cls
        _registry = found
    return _registry


def broken_agents() -> dict[str, str]:
    agents()
    return dict(_broken)
