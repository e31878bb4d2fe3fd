"""ULIDs: sortable, unique ids (48-bit ms timestamp + 80 random bits, Crockford base32).

Monotonic within one process: two ids made in the same millisecond still sort in
creation order, which keeps "newest first" honest for rapid captures.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_last_ms = -1
_last_rand = 0


def new_ulid(ms: int | None = None) -> str:
    global _last_ms, _last_rand
    if ms is None:
        ms = time.time_ns() // 1_000_000
    if ms == _last_ms:
        rand = (_last_rand + 1) & ((1 << 80) - 1)
    else:
        rand = int.from_bytes(os.urandom(10), "big")
    _last_ms, _last_rand = ms, rand
    value = (ms << 80) | rand
    out = []
    for _ in range(26):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def ulid_ms(ulid: str) -> int:
    """The millisecond timestamp inside a ULID."""
    value = 0
    for ch in ulid[:10].upper():
        value = value * 32 + _ALPHABET.index(ch)
    return value


def is_ulid(text: str) -> bool:
    return len(text) == 26 and all(c in _ALPHABET for c in text.upper()) and text[0] in "01234567"
