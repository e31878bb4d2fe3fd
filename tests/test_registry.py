"""The RPC registry: handlers bind to the methods the core declares, each exactly once, with the declared models."""

from __future__ import annotations

import asyncio

import pytest

from oxymus.client import protocol
from oxymus.daemon.registry import Registry, rpc
from oxymus.daemon.service import Service


class _Agents:
    llm = None
    store = None


class _Desk:
    repo = None


def full_service() -> Service:
    return Service(object(), object(), object(), "sock", asyncio.Event(), desk=_Desk(), agents=_Agents())


def test_every_declared_method_has_exactly_one_handler_and_nothing_else_is_callable():
    registry = full_service().registry()
    assert registry.names() == sorted(protocol.METHODS)
    method, handler = registry.lookup("memory.search")
    assert method is protocol.METHODS["memory.search"] and callable(handler)
    assert registry.lookup("memory.nope") is None and registry.lookup("__init__") is None


def test_an_undeclared_name_is_refused_where_it_is_written():
    with pytest.raises(RuntimeError, match="'memory.nope'.*not declared|no such method is declared"):
        rpc("memory.nope")


def test_a_second_handler_for_a_method_is_refused():
    class Twice:
        @rpc("status")
        async def status(self, session, p: protocol.NoParams) -> protocol.StatusResult: ...

    service = full_service()
    with pytest.raises(RuntimeError, match="two handlers for RPC method 'status'"):
        Registry.bind(service.system, Twice())


def test_a_missing_handler_is_refused():
    service = full_service()
    with pytest.raises(RuntimeError, match=r"no handler for RPC methods: \['actions.approve', .*'agents.history'"):
        Registry.bind(service.system, service.state, service.captures, service.memory, service.plans)


def test_a_handler_with_other_models_than_declared_is_refused():
    class Wrong:
        @rpc("status")
        async def status(self, session, p: protocol.HelloParams) -> protocol.StatusResult: ...

    with pytest.raises(RuntimeError, match="takes .*HelloParams.*not the declared NoParams"):
        Registry.bind(Wrong())
