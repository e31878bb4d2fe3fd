"""Every TOML value Oxymus writes (config.toml defaults, bills.add's table, TOML front
matter, the demo config) goes through here, so they all quote and escape the same way.

Strings, numbers, booleans and dates are formatted by tomli-w, which escapes what TOML
needs escaped (quotes, backslashes, newlines, every control character). This module
only keeps arrays and inline tables on one line, as a person writes them by hand, and
offers digit grouping (`5_000_000`) for large integers where readability matters.
"""

from __future__ import annotations

import re
from typing import Any

import tomli_w

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def value(v: Any, *, group_digits: bool = False) -> str:
    """`v` as one inline TOML value; `group_digits` writes integers of 10_000 and up with underscores."""
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(item, group_digits=group_digits) for item in v) + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{key(k)} = {value(item, group_digits=group_digits)}" for k, item in v.items()) + " }"
    if group_digits and isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000:
        return f"{v:_}"
    line = tomli_w.dumps({"v": v})
    assert line.startswith("v = ") and line.endswith("\n") and line.count("\n") == 1, line
    return line[len("v = "):-1]


def key(k: str) -> str:
    """A key: bare when it can be, else a quoted string."""
    return k if _BARE_KEY.match(k) else value(k)
