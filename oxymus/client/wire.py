"""JSON-RPC 2.0 framing: one JSON object per line, UTF-8.

Stdlib only: the capture command and the sync client use it without paying for
pydantic. The typed request/response models live in `oxymus.client.protocol`; a contract
test checks that what this module writes validates against them.
"""

from __future__ import annotations

import json

MAX_LINE = 1024 * 1024  # bytes, newline excluded
# Nesting allowed in a message. json.loads gives up with RecursionError near 1,000 levels, and
# anything that walks a message recursively later (pydantic, json.dumps) could fail below that.
MAX_DEPTH = 100

# JSON-RPC 2.0 reserved codes, then ours (-32000 .. -32099).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HANDSHAKE_REQUIRED = -32000
PROTOCOL_MISMATCH = -32001
LINE_TOO_LONG = -32002
FORBIDDEN = -32003
SHUTTING_DOWN = -32004
INVALID_INPUT = -32010  # the call was well-formed but its content is rejected (e.g. empty capture)
STORAGE_ERROR = -32011  # the store cannot write or read its file (a full disk, a damaged database); data: kind, path
SUPERSEDED = -32012  # a newer request of the same kind on this connection replaced this one (a search typed further)


class RpcError(Exception):
    """An error reply from the daemon (or one we are about to send)."""

    def __init__(self, code: int, message: str, data: object = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_obj(self) -> dict:
        err: dict = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


def encode(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def request(method: str, params: dict | None, req_id: int | str | None) -> dict:
    msg: dict = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    if req_id is not None:
        msg["id"] = req_id
    return msg


def result(req_id: int | str | None, value: object) -> dict:
    return {"jsonrpc": "2.0", "id": req_id, "result": value}


def error(req_id: int | str | None, err: RpcError) -> dict:
    return {"jsonrpc": "2.0", "id": req_id, "error": err.to_obj()}


def notification(method: str, params: dict) -> dict:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def decode(line: bytes) -> dict:
    """Parse one line from the peer; raises RpcError(PARSE_ERROR) for anything that is not a JSON object."""
    too_deep = RpcError(PARSE_ERROR, f"line is not valid JSON here: nested deeper than {MAX_DEPTH} levels")
    try:
        obj = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RpcError(PARSE_ERROR, f"line is not valid UTF-8 (byte {exc.start})") from None
    except ValueError as exc:
        raise RpcError(PARSE_ERROR, f"line is not valid JSON: {exc}") from None
    except RecursionError:
        raise too_deep from None
    if _depth_over(obj, MAX_DEPTH):
        raise too_deep
    if not isinstance(obj, dict):
        raise RpcError(INVALID_REQUEST, "a message must be a JSON object")
    return obj


def _depth_over(obj: object, limit: int) -> bool:
    """Whether containers nest deeper than `limit`; iterative, so depth itself cannot crash it."""
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def unwrap(reply: dict) -> object:
    """The result of a reply, or its error raised as RpcError."""
    if "error" in reply:
        err = reply["error"] or {}
        raise RpcError(int(err.get("code", INTERNAL_ERROR)), str(err.get("message", "error")), err.get("data"))
    return reply.get("result")
