"""Fault injection for crash tests: kill this process with SIGKILL at a named point.

`OXYMUS_FAULT_KILL=executor.effect_done:3` kills the daemon the 3rd time it passes
that point: the moments between an effect and its receipt that crash tests must
cover. Unset (always, outside tests), `point()` is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_spec = os.environ.get("OXYMUS_FAULT_KILL", "")
_name, _, _nth = _spec.partition(":")
_count = 0


def point(name: str) -> None:
    global _count
    if not _spec or name != _name:
        return
    _count += 1
    if _count >= int(_nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
