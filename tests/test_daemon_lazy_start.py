"""Issue 14, lazy starts: the daemon answers `hello` and `status` as soon as its store is open,
loads the rest in the background, and a request for what is not loaded yet waits for it.
The database's integrity check on a large file runs after start and is reported, not waited on."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from conftest import eventually, run_cli, wait_for, write_config

from oxymus.client import protocol, wire
from oxymus.client.sync_client import DaemonUnavailable, connect
from oxymus.daemon.events import EventBus
from oxymus.daemon.registry import Registry, rpc
from oxymus.daemon.rpc import RpcServer


def test_the_protocol_and_the_daemon_start_path_load_no_agent_connector_or_action_logic():
    code = (
        "import sys, json\n"
        "import oxymus.client.protocol as p, oxymus.daemon.main\n"
        "assert len(p.METHODS) > 40\n"
        "heavy = ('oxymus.agents', 'oxymus.connectors', 'oxymus.action_kinds', 'oxymus.actions.effects',"
        " 'oxymus.actions.model', 'oxymus.memory.records', 'oxymus.plans', 'oxymus.today', 'apscheduler')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_a_methods_models_are_resolved_on_first_use_and_kept():
    method = protocol.METHODS["today.get"]
    assert method.params is protocol.TodayParams and method.result is protocol.Today
    assert method.result is protocol.METHODS["today.get"].result
    assert protocol.METHODS["hello"].params is protocol.HelloParams


class _Early:
    @rpc("hello")
    async def hello(self, session, p: protocol.HelloParams) -> protocol.HelloResult:
        session.greeted = True
        return protocol.HelloResult(version="test", pid=os.getpid())

    @rpc("status.line")
    async def status_line(self, session, p: protocol.NoParams) -> protocol.StatusLineResult:
        return protocol.StatusLineResult(approvals=0, inbox=0)


class _Late(_Early):
    def __init__(self):
        self.calls = 0

    @rpc("state.sources")
    async def sources(self, session, p: protocol.NoParams) -> protocol.SourcesResult:
        self.calls += 1
        return protocol.SourcesResult(sources=[])


async def _call(reader, writer, method, params=None, id_=1):
    writer.write(wire.encode({"jsonrpc": "2.0", "method": method, "params": params or {}, "id": id_}))
    await writer.drain()
    return json.loads(await reader.readline())


async def test_a_call_for_a_method_not_loaded_yet_waits_for_it_then_is_answered_by_the_loaded_handler(tmp_path):
    path = str(tmp_path / "s.sock")
    server = RpcServer(path, EventBus(), Registry.bind(_Early(), only=frozenset({"hello", "status.line"})), loading=True)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(path)
        assert (await _call(reader, writer, "hello", {"protocol": protocol.PROTOCOL_VERSION}))["result"]["version"] == "test"
        waiting = asyncio.create_task(_call(reader, writer, "state.sources", id_=2))
        # It reached the server, which holds it: nothing answers it wrongly meanwhile.
        await eventually(lambda: any(s.busy for s in server.sessions), what="the call to reach the server")
        assert not waiting.done()
        late = _Late()
        server.loaded(Registry.bind(late, only=frozenset({"hello", "status.line", "state.sources"})))
        reply = await asyncio.wait_for(waiting, 10)
        assert reply == {"jsonrpc": "2.0", "id": 2, "result": {"sources": []}} and late.calls == 1
        unknown = await _call(reader, writer, "state.nope", id_=3)
        assert unknown["error"]["code"] == wire.METHOD_NOT_FOUND
        writer.close()
    finally:
        await server.close()


async def test_when_loading_fails_a_waiting_call_is_answered_with_why(tmp_path):
    path = str(tmp_path / "s.sock")
    server = RpcServer(path, EventBus(), Registry.bind(_Early(), only=frozenset({"hello", "status.line"})), loading=True)
    await server.start()
    try:
        reader, writer = await asyncio.open_unix_connection(path)
        await _call(reader, writer, "hello", {"protocol": protocol.PROTOCOL_VERSION})
        waiting = asyncio.create_task(_call(reader, writer, "state.sources", id_=2))
        await eventually(lambda: any(s.busy for s in server.sessions), what="the call to reach the server")
        server.failed("the daemon is stopping")
        reply = await asyncio.wait_for(waiting, 10)
        assert reply["error"]["code"] == wire.INTERNAL_ERROR and "the daemon is stopping" in reply["error"]["message"]
        writer.close()
    finally:
        await server.close()


def _garble(path: str, first: int = 2, count: int = 4, page: int = 4096) -> None:
    with open(path, "r+b") as fh:
        fh.seek((first - 1) * page)
        fh.write(os.urandom(count * page))


def test_a_large_databases_integrity_check_runs_after_start_and_its_finding_is_reported(profile):
    write_config(profile, "")
    for text in ("one", "two", "three"):
        assert run_cli("capture", text).returncode == 0
    _garble(profile.db_file)
    # Any file counts as large here: start must not wait for the check, whose finding comes later.
    env = {**os.environ, "OXYMUS_HOME": profile.home, "OXYMUS_INLINE_CHECK_BYTES": "0"}
    up = run_cli("up", env=env)
    assert up.returncode == 0, up.stderr
    try:
        def integrity():
            try:
                with connect(profile.socket, "pytest") as conn:
                    return conn.call("status")["integrity"]
            except DaemonUnavailable:
                return None

        found = wait_for(integrity, 30, what="the background integrity check's finding in status")
        assert f"{profile.db_file} is damaged" in found
        log = open(profile.log_file).read()
        assert "integrity check of" in log and "failed" in log
    finally:
        run_cli("down", env=env)
