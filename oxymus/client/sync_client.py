"""The synchronous client the CLI uses to reach the daemon.

Stdlib only (socket + json), so `oxymus capture` stays fast. Results come back as
plain dicts; callers that want types validate them with `oxymus.client.protocol` models.
The TUI uses `oxymus.client.async_client`, which speaks the same wire format.
"""

from __future__ import annotations

import socket

from oxymus import PROTOCOL_VERSION
from oxymus.client import wire


class DaemonUnavailable(Exception):
    """Nothing is listening on the profile's socket (or it went away mid-call)."""


class Connection:
    def __init__(self, path: str, *, timeout: float = 10.0):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError) as exc:
            self.sock.close()
            raise DaemonUnavailable(f"no daemon is listening on {path} ({exc.strerror or exc})") from None
        except socket.timeout:
            self.sock.close()
            raise DaemonUnavailable(f"the daemon on {path} did not accept the connection in time") from None
        except OSError as exc:  # e.g. a path too long for AF_UNIX, or no permission
            self.sock.close()
            raise DaemonUnavailable(f"cannot connect to {path}: {exc.strerror or exc}") from None
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def pipeline(self, calls: list[tuple[str, dict | None]]) -> list[object]:
        """Send every call at once, then read the replies: one round trip for several calls.

        Raises the first error reply as wire.RpcError after reading them all.
        """
        ids = []
        out = bytearray()
        for method, params in calls:
            self._next_id += 1
            ids.append(self._next_id)
            out += wire.encode(wire.request(method, params, self._next_id))
        try:
            self.sock.sendall(out)
            replies = {}
            while len(replies) < len(ids):
                msg = self._read()
                if "id" in msg and msg["id"] in ids:
                    replies[msg["id"]] = msg
                elif msg.get("method") == "event":
                    self.events.append(msg.get("params") or {})
                elif "error" in msg:
                    wire.unwrap(msg)  # an error addressed to no request (refused, line too long)
        except (ConnectionError, BrokenPipeError, socket.timeout) as exc:
            raise DaemonUnavailable(f"lost the connection to the daemon on {self.path} ({exc})") from None
        return [wire.unwrap(replies[i]) for i in ids]

    def call(self, method: str, params: dict | None = None) -> object:
        return self.pipeline([(method, params)])[0]

    def read_event(self) -> dict:
        """Block until the next pushed event (after `subscribe`)."""
        if self.events:
            return self.events.pop(0)
        while True:
            msg = self._read()
            if msg.get("method") == "event":
                return msg.get("params") or {}
            if "error" in msg:
                wire.unwrap(msg)

    def _read(self) -> dict:
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the daemon closed the connection")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return wire.decode(line)


def hello_params(client: str) -> dict:
    return {"protocol": PROTOCOL_VERSION, "client": client}


def connect(path: str, client: str = "oxymus-cli", *, timeout: float = 10.0) -> Connection:
    """A connection that has completed the handshake."""
    conn = Connection(path, timeout=timeout)
    try:
        conn.call("hello", hello_params(client))
    except BaseException:
        conn.close()
        raise
    return conn
