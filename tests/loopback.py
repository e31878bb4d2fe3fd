"""What our loopback fake servers (GitHub, Ollama) share: a quiet HTTP/1.1 keep-alive handler
with TCP_NODELAY (without it, small responses stall ~40 ms on Nagle's algorithm) that hands
every method to `_serve(method)`."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler
from typing import Any


class LoopbackHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive (and chunked streams), as real clients expect

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        raise NotImplementedError
