"""Binding RPC handlers to the methods the core declares.

`oxymus.client.protocol.METHODS` declares every method: its name, summary, params model and
result model (the clients and docs/reference.md read it without importing the daemon).
A handler says which declared method it serves with `@rpc("name")`; `Registry.bind()`
collects the marked methods of the daemon's handler objects and refuses to start unless
every declared method has exactly one handler whose annotations are the declared models.
The server dispatches only through the registry, so only declared methods are callable.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from oxymus.client.protocol import METHODS, Method

Handler = Callable[[Any, Any], Awaitable[BaseModel]]  # (Session, params) -> result

_MARK = "__rpc_method__"


def rpc(name: str) -> Callable[[Callable], Callable]:
    """Mark a handler method as the one serving the declared RPC method `name`."""
    if name not in METHODS:
        raise RuntimeError(f"@rpc({name!r}): no such method is declared in oxymus.client.protocol.METHODS")

    def mark(fn: Callable) -> Callable:
        setattr(fn, _MARK, name)
        return fn

    return mark


class Registry:
    """Declared methods bound to their handlers: what the RPC server dispatches from."""

    def __init__(self, handlers: dict[str, Handler]):
        self._handlers = handlers

    @classmethod
    def bind(cls, *objects: object, only: frozenset[str] | None = None) -> "Registry":
        """Every declared method bound (or, with `only`, just those: what the daemon answers
        while it is still loading the rest)."""
        handlers: dict[str, Handler] = {}
        owners: dict[str, str] = {}
        for obj in objects:
            for attr, fn in inspect.getmembers(type(obj), inspect.isfunction):
                name = getattr(fn, _MARK, None)
                if name is None or (only is not None and name not in only):
                    continue
                where = f"{type(obj).__name__}.{attr}"
                if name in handlers:
                    raise RuntimeError(f"two handlers for RPC method {name!r}: {owners[name]} and {where}")
                _check_types(METHODS[name], fn, where)
                handlers[name] = getattr(obj, attr)
                owners[name] = where
        missing = (set(METHODS) if only is None else set(only)) - set(handlers)
        if missing:
            raise RuntimeError(f"no handler for RPC methods: {sorted(missing)}")
        return cls(handlers)

    def lookup(self, name: str) -> tuple[Method, Handler] | None:
        """The declaration and handler of a callable method; None for anything else."""
        method = METHODS.get(name)
        handler = self._handlers.get(name)
        if method is None or handler is None:
            return None
        return method, handler

    def names(self) -> list[str]:
        return sorted(self._handlers)


def _check_types(method: Method, fn: Callable, where: str) -> None:
    """The handler takes the declared params model and returns the declared result model."""
    hints = typing.get_type_hints(fn)
    params = [p for p in inspect.signature(fn).parameters if p not in ("self",)]
    takes = hints.get(params[-1]) if params else None
    if takes is not method.params:
        raise RuntimeError(f"{where} serves {method.name!r} but takes {takes!r}, not the declared {method.params.__name__}")
    if hints.get("return") is not method.result:
        raise RuntimeError(f"{where} serves {method.name!r} but returns {hints.get('return')!r}, "
                           f"not the declared {method.result.__name__}")
