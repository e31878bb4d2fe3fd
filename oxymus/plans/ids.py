"""Stable action ids: a short hash of where an action is and what it says.

The checkbox state, the done-date suffix, the indentation and the line number are
not part of it, so checking an item off or editing other lines keeps its id. Two
identical items in the same section are told apart by their order.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence


def normalise(text: str) -> str:
    """NFC, with every run of whitespace collapsed to one space and the ends trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def action_id(section: Sequence[str], text: str, occurrence: int = 1) -> str:
    key = "\x1f".join(normalise(t) for t in section) + "\x1e" + normalise(text)
    if occurrence > 1:
        key += f"\x1e{occurrence}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
