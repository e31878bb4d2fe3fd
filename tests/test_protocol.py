"""The wire format and the typed protocol agree; the stdlib fast paths speak the same language."""

from __future__ import annotations

import json

import pytest

from oxymus.cli import build_parser
from oxymus.cli import capture as capture_cmd
from oxymus.client import protocol, wire
from oxymus.client.sync_client import hello_params
from oxymus.kernel.ulid import is_ulid, new_ulid, ulid_ms


def test_requests_written_by_the_stdlib_client_validate_against_the_models():
    for method, params in [
        ("hello", hello_params("oxymus-capture")),
        ("capture.add", {"text": "x", "source": "cli", "id": new_ulid()}),
        ("inbox.list", {"status": "open", "limit": 10}),
        ("status", None),
    ]:
        line = wire.encode(wire.request(method, params, 1))
        assert line.endswith(b"\n") and b"\n" not in line[:-1]
        req = protocol.Request.model_validate(json.loads(line))
        protocol.METHODS[req.method].params.model_validate(req.params or {})


def test_replies_use_one_envelope():
    ok = protocol.Reply.model_validate(wire.result(3, {"a": 1}))
    assert ok.result == {"a": 1} and ok.error is None
    bad = protocol.Reply.model_validate(wire.error(3, wire.RpcError(wire.METHOD_NOT_FOUND, "nope")))
    assert bad.error.code == wire.METHOD_NOT_FOUND
    with pytest.raises(wire.RpcError) as info:
        wire.unwrap(wire.error(3, wire.RpcError(wire.INVALID_PARAMS, "bad", {"x": 1})))
    assert (info.value.code, info.value.data) == (wire.INVALID_PARAMS, {"x": 1})


@pytest.mark.parametrize("line, code", [
    (b"{not json", wire.PARSE_ERROR),
    (b"\xff\xfe", wire.PARSE_ERROR),
    (b"[1, 2]", wire.INVALID_REQUEST),
    (b"42", wire.INVALID_REQUEST),
])
def test_decode_rejects_garbage_with_the_right_code(line, code):
    with pytest.raises(wire.RpcError) as info:
        wire.decode(line)
    assert info.value.code == code


def test_every_method_has_typed_params_and_result():
    for method in protocol.METHODS.values():
        # What Params is for: unknown params are refused. A part declaring its methods in its own
        # module (oxymus/records/protocol.py) has its own base, as it cannot import this module back.
        assert issubclass(method.params, protocol.Params) or method.params.model_config.get("extra") == "forbid", method.name
        assert method.result.model_json_schema()


def test_capture_fast_parser_agrees_with_argparse():
    parser = build_parser()
    for argv in (["hello", "world"], ["--source", "mail", "a", "b"], ["--json", "-"], ["--source=x", "--", "--not-a-flag"]):
        fast = capture_cmd.parse(argv)
        ns = parser.parse_args(["capture", *argv])
        assert fast is not None
        words, source, as_json = fast
        assert (words, source, as_json) == (ns.text, ns.source, ns.json)
    assert capture_cmd.parse(["--help"]) is None
    with pytest.raises(capture_cmd.UsageError):
        capture_cmd.parse([])
    with pytest.raises(capture_cmd.UsageError):
        capture_cmd.parse(["--bogus", "x"])


def test_ulids_sort_by_time_and_are_monotonic_within_a_millisecond():
    ids = [new_ulid(ms=1_000) for _ in range(100)] + [new_ulid(ms=1_001)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(is_ulid(i) for i in ids) and ulid_ms(ids[-1]) == 1_001
