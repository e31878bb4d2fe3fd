"""The real daemon as a subprocess, driven over its socket and through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading

import pytest
from conftest import DaemonProcess, run_cli, wait_for

from oxymus import PROTOCOL_VERSION
from oxymus.client import wire
from oxymus.client.sync_client import Connection, DaemonUnavailable, connect
from oxymus.kernel.ulid import new_ulid
from oxymus.store import db, migrations


def raw(daemon, *lines: bytes, replies: int | None = None) -> list[dict]:
    """Send raw bytes on a fresh connection and read `replies` JSON lines back."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(daemon.paths.socket)
        for line in lines:
            s.sendall(line)
        out, buf = [], b""
        while len(out) < (replies if replies is not None else len(lines)):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, _, buf = buf.partition(b"\n")
                out.append(json.loads(line))
        return out


HELLO = wire.encode(wire.request("hello", {"protocol": PROTOCOL_VERSION, "client": "raw"}, 0))


# --- status, socket, security ------------------------------------------------------------

def test_status_reports_pid_uptime_socket_database_and_schema(daemon):
    with daemon.client() as c:
        st = c.call("status")
    assert st["pid"] == daemon.proc.pid
    assert st["socket"] == daemon.paths.socket and st["database"] == daemon.paths.db_file
    assert st["schema_version"] == migrations.LATEST and st["uptime_s"] >= 0 and st["protocol"] == PROTOCOL_VERSION
    result = run_cli("status", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["running"] is True


def test_status_when_not_running(profile):
    result = run_cli("status")
    assert result.returncode == 3 and "not running" in result.stdout.decode()
    data = json.loads(run_cli("status", "--json").stdout)
    assert data["running"] is False and data["paths"]["socket"] == profile.socket


def test_socket_is_owner_only(daemon):
    assert stat.S_IMODE(os.stat(daemon.paths.socket).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(daemon.paths.runtime_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(daemon.paths.db_file).st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another uid")
def test_peer_with_another_uid_is_refused(daemon):
    # Open the file modes so that only the SO_PEERCRED check stands in the way.
    os.chmod(daemon.paths.home, 0o755)
    os.chmod(daemon.paths.runtime_dir, 0o755)
    os.chmod(daemon.paths.socket, 0o666)
    code = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])\n"
        "s.sendall(sys.argv[2].encode() + b'\\n')\n"
        "data = b''\n"
        "while True:\n"
        "    chunk = s.recv(4096)\n"
        "    if not chunk: break\n"
        "    data += chunk\n"
        "sys.stdout.write(data.decode())\n"
    )
    hello = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "hello", "params": {"protocol": PROTOCOL_VERSION}})
    result = subprocess.run([sys.executable, "-c", code, daemon.paths.socket, hello], capture_output=True, timeout=20)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(replies) == 1 and replies[0]["error"]["code"] == wire.FORBIDDEN, replies
    assert "uid 65534" in replies[0]["error"]["message"]
    wait_for(lambda: "refused a connection from uid 65534" in open(daemon.paths.log_file).read(), what="log line")


# --- bad input never kills the daemon ------------------------------------------------------

def test_garbage_gets_json_rpc_errors_and_the_connection_survives(daemon):
    replies = raw(
        daemon,
        b"this is not json\n",
        b"\xff\xfe\xfd binary\n",
        b"[1,2,3]\n",
        b'{"jsonrpc": "2.0", "id": 7, "method": "status"}\n',  # before hello
        HELLO,
        b'{"jsonrpc": "1.0", "id": 8, "method": "status"}\n',
        b'{"jsonrpc": "2.0", "id": 9, "method": "os.system", "params": {"cmd": "rm -rf /"}}\n',
        b'{"jsonrpc": "2.0", "id": 10, "method": "capture.add", "params": {"text": 5}}\n',
        b'{"jsonrpc": "2.0", "id": 11, "method": "capture.add", "params": {"text": "  "}}\n',
        b'{"jsonrpc": "2.0", "id": 12, "method": "status"}\n',
    )
    codes = [r.get("error", {}).get("code") for r in replies]
    assert codes == [
        wire.PARSE_ERROR, wire.PARSE_ERROR, wire.INVALID_REQUEST, wire.HANDSHAKE_REQUIRED, None,
        wire.INVALID_REQUEST, wire.METHOD_NOT_FOUND, wire.INVALID_PARAMS, wire.INVALID_INPUT, None,
    ]
    assert [r.get("id") for r in replies][3:] == [7, 0, 8, 9, 10, 11, 12]
    assert replies[-1]["result"]["pid"] == daemon.proc.pid


def test_oversized_line_is_discarded_with_an_error(daemon):
    huge = b'{"jsonrpc":"2.0","id":1,"method":"capture.add","params":{"text":"' + b"x" * (wire.MAX_LINE + 10) + b'"}}\n'
    replies = raw(daemon, HELLO, huge, b'{"jsonrpc":"2.0","id":2,"method":"status"}\n')
    assert replies[1]["error"]["code"] == wire.LINE_TOO_LONG
    assert replies[2]["id"] == 2 and "pid" in replies[2]["result"]
    with daemon.client() as c:
        assert c.call("inbox.list")["captures"] == []


def test_deep_nesting_is_a_parse_error_not_a_crash(daemon):
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    in_params = (b'{"jsonrpc":"2.0","id":3,"method":"capture.add","params":{"text":"x","more":'
                 + b"[" * 500 + b"]" * 500 + b"}}\n")  # parses in Python, still refused
    replies = raw(daemon, HELLO, deep, in_params, b'{"jsonrpc":"2.0","id":4,"method":"status"}\n')
    message = "line is not valid JSON here: nested deeper than 100 levels"
    assert replies[1] == {"jsonrpc": "2.0", "id": None, "error": {"code": wire.PARSE_ERROR, "message": message}}
    assert replies[2]["error"] == {"code": wire.PARSE_ERROR, "message": message}
    assert replies[3]["id"] == 4 and replies[3]["result"]["pid"] == daemon.proc.pid
    assert "RecursionError" not in open(daemon.paths.log_file).read()


def test_protocol_version_mismatch_is_refused(daemon):
    bad_hello = wire.encode(wire.request("hello", {"protocol": PROTOCOL_VERSION + 1}, 1))
    (reply,) = raw(daemon, bad_hello)
    assert reply["error"]["code"] == wire.PROTOCOL_MISMATCH
    assert reply["error"]["data"] == {"server_protocol": PROTOCOL_VERSION}


def test_abrupt_disconnects_do_not_hurt(daemon):
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX)
        s.connect(daemon.paths.socket)
        s.sendall(HELLO[:10])
        s.close()
    with daemon.client() as c:
        assert c.call("status")["pid"] == daemon.proc.pid


# --- capture and events ----------------------------------------------------------------------

def test_capture_through_the_daemon_is_pushed_to_subscribers(daemon):
    with daemon.client("watcher") as watcher:
        watcher.call("subscribe", {"topics": ["capture.*"]})
        result = run_cli("capture", "buy", "oat", "milk")
        assert result.returncode == 0, result.stderr
        capture_id = result.stdout.decode().strip()
        event = watcher.read_event()
    assert event["topic"] == "capture.added"
    assert event["data"]["id"] == capture_id and event["data"]["text"] == "buy oat milk"
    inbox = json.loads(run_cli("inbox", "--json").stdout)
    assert [c["id"] for c in inbox] == [capture_id]


def test_capture_from_stdin_keeps_lines_and_unicode(daemon):
    text = "Gedanke über Zürich ☕\nsecond line\n\n  third, indented"
    result = run_cli("capture", "-", "--json", input=text + "\n")
    assert result.returncode == 0, result.stderr
    capture = json.loads(result.stdout)
    assert capture["text"] == text and capture["source"] == "stdin"


@pytest.mark.parametrize("args, stdin, message", [
    (["capture", "-"], b"caf\xe9 au lait\n", "stdin is not valid UTF-8 (line 1, byte 3)"),
    (["capture", "-"], b"\n\n", "empty"),
    (["capture"], None, "nothing to capture"),
    (["capture", "--source"], None, "--source needs a value"),
])
def test_bad_capture_input_is_a_clear_error(daemon, args, stdin, message):
    result = run_cli(*args, input=stdin)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    with daemon.client() as c:
        assert c.call("inbox.list")["captures"] == []


def test_capture_with_the_daemon_down_is_seen_when_it_starts(profile):
    result = run_cli("capture", "written", "offline")
    assert result.returncode == 0, result.stderr
    offline_id = result.stdout.decode().strip()
    d = DaemonProcess(profile).start()
    try:
        with d.client() as c:
            assert [x["id"] for x in c.call("inbox.list")["captures"]] == [offline_id]
    finally:
        d.stop()


def test_writes_by_other_processes_are_published_too(daemon):
    """A capture stored directly (daemon unreachable for that client) still reaches subscribers."""
    from oxymus.store import capture_sql

    with daemon.client() as watcher:
        watcher.call("subscribe")
        conn = db.connect(daemon.paths.db_file)
        row, _ = capture_sql.add_sync(conn, "written beside the daemon", "cli")
        conn.close()
        event = watcher.read_event()
    assert event["topic"] == "capture.added" and event["data"]["id"] == row["id"]


def test_retrying_a_capture_with_the_same_id_does_not_duplicate(daemon):
    cid = new_ulid()
    with daemon.client() as c:
        first = c.call("capture.add", {"text": "once", "id": cid})
        second = c.call("capture.add", {"text": "once", "id": cid})
        assert (first["created"], second["created"]) == (True, False)
        assert len(c.call("inbox.list")["captures"]) == 1


def test_inbox_is_newest_first_and_works_without_the_daemon(profile):
    for word in ("first", "second", "third"):
        assert run_cli("capture", word).returncode == 0
    offline = json.loads(run_cli("inbox", "--json").stdout)
    assert [c["text"] for c in offline] == ["third", "second", "first"]
    d = DaemonProcess(profile).start()
    try:
        online = json.loads(run_cli("inbox", "--json").stdout)
        assert online == offline
        text = run_cli("inbox").stdout.decode()
        assert text.index("third") < text.index("first")
    finally:
        d.stop()


# --- lifecycle: one daemon per profile, signals, crashes ----------------------------------------

def test_a_second_daemon_on_the_same_profile_is_refused(daemon):
    result = run_cli("daemon")
    assert result.returncode == 1
    assert f"already running: another daemon (pid {daemon.proc.pid})" in result.stderr.decode()
    with daemon.client() as c:
        assert c.call("status")["pid"] == daemon.proc.pid


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_gracefully_with_exit_0(profile, sig):
    d = DaemonProcess(profile).start()
    with d.client() as watcher:
        watcher.call("subscribe", {"topics": ["daemon.*"]})
        d.signal(sig)
        assert watcher.read_event()["topic"] == "daemon.stopping"
    assert d.wait() == 0
    assert not os.path.exists(profile.socket)
    assert "stopped" in open(profile.log_file).read()
    assert "stopped" in d.stderr, "foreground daemons log to stderr too"


def test_in_flight_writes_finish_before_exit(profile):
    d = DaemonProcess(profile).start()
    acked: list[str] = []
    with d.client() as c:
        # Pipeline many captures, then SIGTERM while they are being processed.
        ids = [new_ulid() for _ in range(200)]
        payload = b"".join(wire.encode(wire.request("capture.add", {"text": f"t{i}", "id": cid}, i + 1)) for i, cid in enumerate(ids))
        c.sock.sendall(payload)
        d.signal(signal.SIGTERM)
        try:
            while True:
                msg = c._read()
                if "result" in msg and isinstance(msg.get("result"), dict) and "capture" in msg["result"]:
                    acked.append(msg["result"]["capture"]["id"])
        except (ConnectionError, OSError):
            pass
    assert d.wait() == 0
    conn = db.connect(profile.db_file)
    stored = {r[0] for r in conn.execute("SELECT id FROM captures")}
    assert acked, "at least the request in flight when SIGTERM arrived is answered"
    assert set(acked) <= stored, "every acknowledged capture is durable"


def test_kill_9_then_restart_loses_nothing_acknowledged(profile):
    d = DaemonProcess(profile).start()
    acked: list[str] = []
    stop = threading.Event()

    def writer():
        try:
            with connect(profile.socket) as c:
                i = 0
                while not stop.is_set():
                    acked.append(c.call("capture.add", {"text": f"crash test {i}", "id": new_ulid()})["capture"]["id"])
                    i += 1
        except (DaemonUnavailable, wire.RpcError, OSError):
            pass

    t = threading.Thread(target=writer)
    t.start()
    wait_for(lambda: len(acked) >= 50, what="50 acknowledged captures")
    d.proc.kill()
    d.wait()
    stop.set()
    t.join(10)
    assert os.path.exists(profile.socket), "kill -9 leaves the socket behind"

    d2 = DaemonProcess(profile).start()  # must clean up the stale socket and take the lock
    try:
        with d2.client() as c:
            stored = {x["id"] for x in c.call("inbox.list", {"limit": 10000})["captures"]}
        assert set(acked) <= stored
        assert "removing stale socket" in open(profile.log_file).read()
    finally:
        d2.stop()


def test_up_and_down_from_the_cli(profile):
    result = run_cli("up")
    assert result.returncode == 0, result.stderr
    try:
        st = json.loads(run_cli("status", "--json").stdout)
        assert st["running"] and "daemon running, pid" in result.stdout.decode()
        again = run_cli("up")
        assert again.returncode == 0 and f"pid {st['pid']}" in again.stdout.decode()
    finally:
        down = run_cli("down")
    assert down.returncode == 0 and f"daemon stopped (pid {st['pid']})" in down.stdout.decode()
    assert run_cli("status").returncode == 3
    assert run_cli("down").stdout.decode().strip() == "daemon was not running"


def test_up_reports_why_the_daemon_could_not_start(profile):
    profile.ensure()
    with open(profile.db_file, "wb") as fh:
        fh.write(b"this is not an sqlite database at all" * 100)
    result = run_cli("up")
    assert result.returncode == 1
    assert "file is not a database" in result.stderr.decode()


def test_newer_schema_is_reported_not_crashed(profile):
    profile.ensure()
    conn = db.connect(profile.db_file)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    result = run_cli("daemon")
    assert result.returncode == 1 and "schema version 99 is newer" in result.stderr.decode()
    capture = run_cli("capture", "still here?")
    assert capture.returncode == 1 and "schema version 99" in capture.stderr.decode()


def test_connection_to_nothing_is_daemon_unavailable(profile):
    with pytest.raises(DaemonUnavailable, match="no daemon is listening"):
        Connection(profile.socket)
