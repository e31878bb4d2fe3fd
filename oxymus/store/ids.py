"""One resolver for every id a person types: the whole id, or an unambiguous start of one.

Ids are ULIDs (upper-case Crockford base32), so a prefix is matched case-insensitively
by upper-casing it and asking the primary key's index for the range it starts; that
costs what a lookup by the whole id costs. Shorter than MIN_PREFIX characters, only a
whole id matches: four characters of a ULID are its first milliseconds' worth of
time, and fewer would match half the table.
"""

from __future__ import annotations

MIN_PREFIX = 4
SHOWN = 5  # candidates named in an "ambiguous" error

# What a person may name by id, and where it lives. A fixed map: table names never come from input.
TABLES = {"capture": "captures", "memory record": "memory_records", "action": "actions", "record": "records"}


class IdError(LookupError):
    """No such id, or a prefix that fits several: the message says which, for the person."""


def queries(noun: str) -> tuple[str, str]:
    """(the exact lookup, the prefix range lookup) for one kind of thing."""
    table = TABLES[noun]
    return (f"SELECT id FROM {table} WHERE id = ?",
            f"SELECT id FROM {table} WHERE id >= ? AND id < ? ORDER BY id LIMIT {SHOWN + 1}")


def prefix_params(text: str) -> tuple[str, str]:
    prefix = text.strip().upper()
    return prefix, prefix + "\U0010ffff"


def pick(noun: str, text: str, found: list[str]) -> str:
    """The one id the text names, from what the prefix lookup found; IdError otherwise."""
    shown = text.strip()
    if len(found) == 1:
        return found[0]
    if not found:
        hint = f" (give at least {MIN_PREFIX} characters of its id)" if len(shown) < MIN_PREFIX else ""
        raise IdError(f"no {noun} {shown!r}{hint}")
    names = ", ".join(found[:SHOWN]) + (", …" if len(found) > SHOWN else "")
    raise IdError(f"{shown!r} is ambiguous: {names} (give more of the id)")


async def resolve(store, noun: str, text: str) -> str:
    """The whole id of the `noun` that `text` names (a whole id or a unique start of one, any case)."""
    exact_sql, prefix_sql = queries(noun)
    row = await store.fetchone(exact_sql, (text.strip().upper(),))
    if row is not None:
        return row[0]
    if len(text.strip()) < MIN_PREFIX:
        return pick(noun, text, [])
    return pick(noun, text, [r[0] for r in await store.fetchall(prefix_sql, prefix_params(text))])
