"""The memory domain's error, apart from the record models so the RPC server names it without loading them."""

from __future__ import annotations


class MemoryError(ValueError):  # noqa: A001 - a domain error, not the builtin
    """A memory operation that cannot be done as asked; str() is the message for the user."""
