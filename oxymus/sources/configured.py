"""The sources a config asks for, made by the installed connectors (the daemon polls them; `oxymus doctor` tries them).

A connector that cannot load or set up its sources stands in as a BrokenSource
whose every poll says why, so one bad connector never hides the others.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from oxymus.plugins import broken_connectors, connectors
from oxymus.sources.contract import BrokenSource, Source

if TYPE_CHECKING:
    from oxymus.profile.config import CoreConfig

log = logging.getLogger("oxymus.sources")


def build_sources(config: CoreConfig) -> list[Source]:
    """Every source the config asks for, from every installed connector."""
    sources: list[Source] = []
    for name, error in broken_connectors().items():
        if getattr(config, name, None) is not None:
            sources.append(BrokenSource(name, error))
    for name, cls in connectors().items():
        section = getattr(config, name, None)
        if section is None:
            continue
        try:
            sources.extend(cls.sources(section))
        except Exception as exc:  # one connector's bug must not keep the others (or the daemon) down
            log.exception("connector %s could not set up its sources", name)
            sources.append(BrokenSource(name, f"connector {name!r} could not start: {type(exc).__name__}: {exc}"))
    ids = [s.id for s in sources]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"two sources share the id(s) {sorted(duplicates)}")
    return sources
