"""A fake Ollama server on loopback, for tests.

It speaks enough of Ollama's HTTP API for the real `ollama` Python client:
`GET /api/tags` (the models pulled), `POST /api/chat` and `POST /api/generate`,
streamed (ndjson over chunked transfer: chunks with `"done": false`, then a final
`"done": true` with durations and counts) or not (`"stream": false`), `format`
(a JSON schema: the programmed answer is sent as JSON), and Ollama's 404
`{"error": "model 'x' not found"}` for a model it does not have. `GET /` answers
"Ollama is running", as Ollama does.

Everything it serves comes from an `OllamaState` that tests program directly, and
every request is recorded there (with its parsed JSON body) for assertions:

    from ollama_server import serve

    with serve() as fake:                       # a running FakeOllama
        fake.state.answer_next("Hello", {"title": "x"})   # the next two answers
        fake.state.respond_with(lambda req: req.user_text.upper())  # then this
        fake.state.delay = 2.0                  # seconds before each answer (timeouts)
        fake.state.fail_with = 500              # chat/generate answer 500 until reset to None
        ...  # point the client at fake.url
        assert "[… " in fake.state.requests[-1].user_text

In a test module, `from ollama_server import ollama_server  # noqa: F401` brings in
the pytest fixture of the same name (a fresh server per test, with "llama3.2:latest"
pulled). `closed_url()` is a loopback URL with nothing listening.

A model asked for without a tag ("llama3.2") is the one listed as "llama3.2:latest",
as in Ollama. Answers are streamed a word at a time (whitespace kept), so a stream
of a multi-word answer always has several chunks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any, Union

import pytest

from loopback import LoopbackHandler

DEFAULT_MODELS = ("llama3.2:latest",)
DEFAULT_ANSWER = "Fake answer."

Reply = Union[str, dict, list]  # a str is sent as is; a dict or list as its JSON text
Answer = Union[Reply, Callable[["OllamaRequest"], Reply]]


@dataclass(frozen=True)
class OllamaRequest:
    """One request as the fake received it."""

    method: str
    path: str
    body: Any  # the parsed JSON body (None for GET)
    status: int  # what the fake answered

    def _get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default) if isinstance(self.body, dict) else default

    @property
    def model(self) -> str | None:
        return self._get("model")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self._get("messages", [])

    @property
    def stream(self) -> bool:
        return self._get("stream", True)  # Ollama streams unless told not to

    @property
    def format(self) -> Any:
        return self._get("format")

    @property
    def options(self) -> dict[str, Any]:
        return self._get("options", {})

    @property
    def system_text(self) -> str:
        """The system prompt: the system messages of a chat, or a generate's `system`."""
        if self.path == "/api/generate":
            return self._get("system", "") or ""
        return "\n".join(m.get("content") or "" for m in self.messages if m.get("role") == "system")

    @property
    def user_text(self) -> str:
        """What the user side asked: the user messages of a chat, or a generate's `prompt`."""
        if self.path == "/api/generate":
            return self._get("prompt", "") or ""
        return "\n".join(m.get("content") or "" for m in self.messages if m.get("role") == "user")

    @property
    def text(self) -> str:
        """Everything the model was given, for searching a prompt."""
        return f"{self.system_text}\n{self.user_text}"


class OllamaState:
    """What the fake serves, programmed by tests, guarded by one lock.

    `models`: the names /api/tags lists (and chat/generate accept).
    Answers: queued ones first (`answer_next`), then `respond_with`'s, then DEFAULT_ANSWER.
    `delay`: seconds before answering chat/generate (a slow model load; for timeouts).
    `chunk_delay`: seconds between streamed chunks.
    `fail_with`: an HTTP status chat/generate answer with, e.g. 500, until set back to None.
    `break_stream_after`: a stream sends this many chunks, then Ollama's mid-stream error line.
    `hold_stream_after`: a stream sends this many chunks, then waits until `release` is set
    (a test looks at what the client shows mid-answer, then lets it finish).
    """

    def __init__(self, models: tuple[str, ...] | list[str] = DEFAULT_MODELS):
        self.lock = threading.RLock()
        self.models: list[str] = list(models)
        self.queue: deque[Answer] = deque()
        self.responder: Answer | None = None
        self.delay = 0.0
        self.chunk_delay = 0.0
        self.fail_with: int | None = None
        self.fail_message = "llama runner process has terminated: signal: killed"
        self.break_stream_after: int | None = None
        self.hold_stream_after: int | None = None
        self.release = threading.Event()
        self.requests: list[OllamaRequest] = []

    def answer_next(self, *answers: Answer) -> None:
        """Queue answers for the next chat/generate requests, one each, in order."""
        with self.lock:
            self.queue.extend(answers)

    def respond_with(self, answer: Answer | None) -> None:
        """The answer (or a function of the request giving it) once the queue is empty."""
        with self.lock:
            self.responder = answer

    def resolve(self, name: str) -> str | None:
        """The listed model a requested name means, as Ollama resolves it; None if not pulled."""
        with self.lock:
            if name in self.models:
                return name
            if ":" not in name and f"{name}:latest" in self.models:
                return f"{name}:latest"
            return None

    def take_answer(self, request: OllamaRequest) -> str:
        with self.lock:
            answer = self.queue.popleft() if self.queue else self.responder
        if answer is None:
            answer = "{}" if request.format else DEFAULT_ANSWER
        if callable(answer):
            answer = answer(request)
        return answer if isinstance(answer, str) else json.dumps(answer)

    def record(self, request: OllamaRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def inference(self) -> list[OllamaRequest]:
        """The chat and generate requests received, oldest first."""
        with self.lock:
            return [r for r in self.requests if r.path in ("/api/chat", "/api/generate")]

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _pieces(text: str) -> list[str]:
    """A word at a time with its trailing whitespace: joined, exactly the text."""
    return re.findall(r"\s+|\S+\s*", text) or [""]


class _Handler(LoopbackHandler):
    server: "_Server"

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        state = fake.state
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if path == "/" and method in ("GET", "HEAD"):
                self._plain(200, "Ollama is running", head=method == "HEAD")
                state.record(OllamaRequest(method, path, None, 200))
            elif path == "/api/tags" and method == "GET":
                state.record(OllamaRequest(method, path, None, 200))
                self._json(200, {"models": [self._model_entry(m) for m in list(state.models)]})
            elif path in ("/api/chat", "/api/generate") and method == "POST":
                self._infer(path, raw)
            elif path in ("/", "/api/tags", "/api/chat", "/api/generate"):
                state.record(OllamaRequest(method, path, None, 405))
                self._plain(405, "405 method not allowed")
            else:
                state.record(OllamaRequest(method, path, None, 404))
                self._plain(404, "404 page not found")
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    def _infer(self, path: str, raw: bytes) -> None:
        fake = self.server.fake
        state = fake.state
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            state.record(OllamaRequest("POST", path, None, 400))
            self._json(400, {"error": "invalid character in request body"})
            return
        name = body.get("model") if isinstance(body, dict) else None
        resolved = state.resolve(name) if name else None
        if not name:
            status, error = 400, "model is required"
        elif resolved is None:
            status, error = 404, f"model '{name}' not found"
        elif state.fail_with is not None:
            status, error = state.fail_with, state.fail_message
        else:
            status, error = 200, None
        request = OllamaRequest("POST", path, body, status)
        state.record(request)  # before any delay: a test sees requests whose client gave up
        if error is not None:
            self._json(status, {"error": error})
            return
        if state.delay and fake.stopping.wait(state.delay):
            return
        text = state.take_answer(request)
        chat = path == "/api/chat"
        prompt_chars = len(request.text)
        pieces = _pieces(text)

        def chunk(piece: str) -> dict[str, Any]:
            out: dict[str, Any] = {"model": name, "created_at": _now()}
            if chat:
                out["message"] = {"role": "assistant", "content": piece}
            else:
                out["response"] = piece
            return out

        def final(content: str) -> dict[str, Any]:
            out = chunk(content)
            out.update(done=True, done_reason="stop", total_duration=1_200_000_000, load_duration=100_000_000,
                       prompt_eval_count=max(1, prompt_chars // 4), prompt_eval_duration=300_000_000,
                       eval_count=len(pieces), eval_duration=800_000_000)
            if not chat:
                # Ollama returns the conversation's tokens for a follow-up generate.
                out["context"] = list(range(1, 1 + min(32, max(1, prompt_chars // 4))))
            return out

        if not request.stream:
            self._json(200, final(text))
            return
        self._start_stream()
        for index, piece in enumerate(pieces):
            if state.break_stream_after is not None and index >= state.break_stream_after:
                self._chunk({"error": "an error was encountered while running the model: unexpected EOF"})
                self._end_stream()
                return
            if state.hold_stream_after is not None and index == state.hold_stream_after:
                while not state.release.wait(0.05):
                    if fake.stopping.is_set():
                        return
            self._chunk({**chunk(piece), "done": False})
            if state.chunk_delay and fake.stopping.wait(state.chunk_delay):
                return
        self._chunk(final(""))
        self._end_stream()

    @staticmethod
    def _model_entry(name: str) -> dict[str, Any]:
        digest = hashlib.sha256(name.encode()).hexdigest()
        family = name.split(":", 1)[0].rstrip("0123456789.") or "llama"
        return {
            "name": name, "model": name, "modified_at": "2025-01-06T09:00:00.000000000Z",
            "size": 2_019_393_189, "digest": digest,
            "details": {"parent_model": "", "format": "gguf", "family": family, "families": [family],
                        "parameter_size": "3.2B", "quantization_level": "Q4_K_M"},
        }

    # -- writing

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8")

    def _plain(self, status: int, text: str, head: bool = False) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8", head=head)

    def _send(self, status: int, payload: bytes, content_type: str, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if not head:
            self.wfile.write(payload)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: "FakeOllama"


class FakeOllama:
    """The running fake: `url` is the host to give a client, `state` what it serves."""

    def __init__(self, state: OllamaState | None = None):
        self.state = state or OllamaState()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-ollama", daemon=True)

    def start(self) -> "FakeOllama":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes any delayed answer
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> "FakeOllama":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve(state: OllamaState | None = None) -> Iterator[FakeOllama]:
    """Run a fake Ollama on 127.0.0.1 (a free port) for the duration of the block."""
    with FakeOllama(state) as fake:
        yield fake


def closed_url() -> str:
    """A loopback URL where nothing listens (a port just released), for "Ollama is not running"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def ollama_server() -> Iterator[FakeOllama]:
    """A fresh fake Ollama per test, with llama3.2:latest pulled."""
    with serve() as fake:
        yield fake


__all__ = ["Answer", "FakeOllama", "OllamaRequest", "OllamaState", "closed_url", "ollama_server", "serve"]
