"""The LLM adapter: optional help from a local Ollama, never a dependency.

Agents work without an LLM and may do better with one. So every call here ends in
an answer or in None (Ollama not running, the model not pulled, a timeout, a 5xx,
an answer that fails validation), and an agent given None takes its deterministic
path. Only programming errors raise. Every call, failed or not, is recorded as an
`LlmCall` (model, prompt size and what of it was cut, latency, outcome) that the
agent runtime takes with `Llm.take_calls()` and stores with the run, so why a run
came out as it did can be answered later.

Dates, times and zones are never asked of the LLM. Small models get weekdays,
"in three days", daylight-saving changes and zone conversions wrong, confidently.
Agents compute every date, time, duration and zone in code (`oxymus.time.when`, the
configured zone) and give the results to the LLM as facts ("Friday 14 March, in
3 days"); the LLM only words, ranks or summarises them. Nothing here adds a date
or a clock to a prompt either.

Prompts are built under a character budget by `fit()`, a pure function:

- a prompt is `system` + ordered sections + the task; the sections keep the order
  the caller gave, each rendered as a `## name` heading over its text;
- the system text and the task are never cut; if they alone exceed the budget the
  call is refused (outcome "error", "task too large");
- when over budget, sections are cut lowest priority first (on equal priority the
  later one first), each only as much as needed, keeping its first lines (callers
  put the most relevant first) and ending with `[… N characters omitted]`;
- cuts fall on line boundaries; a section that would keep fewer than its
  `min_chars` (or no line at all) is dropped entirely;
- the result says, per section, what was kept, cut or dropped.

Structured answers: `chat_json` constrains Ollama to a JSON schema and validates
the answer with pydantic; an invalid answer is None, never a half-trusted object.

ollama and httpx are imported inside the functions that use them, so importing
this module stays cheap on paths that never talk to an LLM.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import ipaddress
import json
import ssl
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oxymus.profile.config import LlmConfig

if TYPE_CHECKING:
    import httpx

STATUS_TTL_S = 30.0  # agents ask before every run; Ollama is probed at most this often
SEPARATOR = "\n\n"
JSON_HINT = "\n\nAnswer with a JSON object only, matching this JSON schema:\n"

Outcome = Literal["ok", "unavailable", "timeout", "error"]
M = TypeVar("M", bound=BaseModel)


def marker(omitted: int) -> str:
    """The line that ends a cut section."""
    return f"[… {omitted} characters omitted]"


# ---------------------------------------------------------------- the budget


class Section(BaseModel):
    """One named block of context: "hot memory", "retrieved memory", "state"...

    `priority`: higher is kept longer. `min_chars`: below this many characters of
    its own text the section is useless, so it is dropped rather than cut further.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    text: str
    priority: int = 0
    min_chars: int = Field(default=0, ge=0)


class SectionFit(BaseModel):
    """What one section became in the prompt."""

    name: str
    chars: int  # of the section's text as given
    kept: int  # of those, how many are in the prompt
    omitted: int  # how many were cut (all of them when dropped)
    dropped: bool = False

    @property
    def cut(self) -> bool:
        return self.omitted > 0 and not self.dropped


class Fitted(BaseModel):
    """A prompt fitted to a budget: the system text, the user message, and what was cut."""

    system: str
    user: str
    chars: int  # len(system) + len(user): what the budget limits
    budget: int
    sections: list[SectionFit]
    refused: str | None = None  # why nothing may be sent


def _heading(name: str) -> str:
    return f"## {name}\n"


def _cost(name: str, text: str) -> int:
    return len(_heading(name)) + len(text) + len(SEPARATOR)


def _cut(text: str, room: int, min_chars: int) -> int | None:
    """The longest line-boundary prefix length k such that text[:k] plus the marker fits
    in `room` characters and keeps at least `min_chars` (and at least one line); None if none does."""
    boundaries = [i + 1 for i, ch in enumerate(text) if ch == "\n" and i + 1 < len(text)]
    for k in reversed(boundaries):
        if k < max(min_chars, 1):
            break
        if k + len(marker(len(text) - k)) <= room:
            return k
    return None


def fit(system: str, sections: Sequence[Section], task: str, budget: int) -> Fitted:
    """The prompt for `system`, `sections` and `task` within `budget` characters (rules: module doc)."""
    fixed = len(system) + len(task)
    if fixed > budget:
        return Fitted(
            system=system, user="", chars=0, budget=budget,
            sections=[SectionFit(name=s.name, chars=len(s.text), kept=0, omitted=len(s.text), dropped=True) for s in sections],
            refused=f"task too large: the system text and task are {fixed} characters, the budget is {budget}",
        )
    # kept[i]: characters of section i's text kept; None once dropped. Empty sections say nothing.
    kept: list[int | None] = [len(s.text) if s.text else None for s in sections]
    total = fixed + sum(_cost(s.name, s.text) for s in sections if s.text)
    for i in sorted(range(len(sections)), key=lambda i: (sections[i].priority, -i)):
        over = total - budget
        if over <= 0:
            break
        s = sections[i]
        if kept[i] is None:
            continue
        old = _cost(s.name, s.text)
        k = _cut(s.text, len(s.text) - over, s.min_chars)
        if k is None:
            kept[i] = None
            total -= old
        else:
            kept[i] = k
            total -= old - _cost(s.name, s.text[:k] + marker(len(s.text) - k))
    blocks: list[str] = []
    fits: list[SectionFit] = []
    for s, k in zip(sections, kept):
        if k is None:
            fits.append(SectionFit(name=s.name, chars=len(s.text), kept=0, omitted=len(s.text), dropped=bool(s.text)))
            continue
        shown = s.text if k == len(s.text) else s.text[:k] + marker(len(s.text) - k)
        blocks.append(_heading(s.name) + shown)
        fits.append(SectionFit(name=s.name, chars=len(s.text), kept=k, omitted=len(s.text) - k))
    user = SEPARATOR.join([*blocks, task])
    assert len(system) + len(user) == total <= budget, (len(system) + len(user), total, budget)
    return Fitted(system=system, user=user, chars=total, budget=budget, sections=fits)


# ---------------------------------------------------------------- records


class LlmCall(BaseModel):
    """One call to the LLM, as stored with the agent run that made it."""

    model: str
    kind: Literal["chat", "generate"]
    prompt_chars: int
    prompt_sections: list[SectionFit] = Field(default_factory=list)
    structured: bool = False  # asked for JSON matching a schema
    streamed: bool = False
    response_chars: int = 0  # for a stream that broke, what arrived before it did
    prompt_tokens: int | None = None  # as Ollama counted them, when it said
    response_tokens: int | None = None
    latency_ms: int = 0
    outcome: Outcome = "ok"
    error: str | None = None
    started_at: dt.datetime


class LlmStatus(BaseModel):
    """Whether the LLM can be asked, and if not, a reason a person can act on."""

    available: bool  # the configured model can be asked now
    running: bool  # Ollama answered (it may still lack the model)
    model_present: bool  # the configured model is pulled
    reason: str
    models: list[str] = Field(default_factory=list)


class _Failure(Exception):
    """An expected failure: the call ends in None with this outcome and reason."""

    def __init__(self, outcome: Outcome, reason: str):
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


class _CallerError(Exception):
    """An exception raised by the caller's `stream_to`: a programming error, so it propagates."""

    def __init__(self, original: BaseException):
        super().__init__(repr(original))
        self.original = original


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx builds a fresh context (~50 ms of CPU) for every client unless given one;
    # a client per call is simplest (no event-loop binding), so the context is shared.
    # The system's trust store, so a self-hosted Ollama behind a private CA works.
    return ssl.create_default_context()


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_model(models: list[str], wanted: str) -> bool:
    # Ollama lists "llama3.2:latest" for a model asked for as "llama3.2".
    return wanted in models or (":" not in wanted and f"{wanted}:latest" in models)


def _malformed(exc: ValidationError) -> bool:
    """A ValidationError from parsing Ollama's answer (not from a request we built wrongly)."""
    return exc.title in ("ChatResponse", "GenerateResponse", "ListResponse", "Message")


def _summary(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where + ': ' if where else ''}{first['msg']}{more}"


# ---------------------------------------------------------------- the adapter


class Llm:
    """The configured Ollama model, asked by agents; `calls` records every call since `take_calls()`."""

    def __init__(self, config: LlmConfig, *, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.calls: list[LlmCall] = []
        self._clock = clock
        self._status: LlmStatus | None = None
        self._status_at = 0.0

    def take_calls(self) -> list[LlmCall]:
        """The calls recorded since the last take (for the run that made them), clearing them."""
        calls, self.calls = self.calls, []
        return calls

    # -- status

    async def status(self, *, refresh: bool = False) -> LlmStatus:
        """Whether the model can be asked; probes `/api/tags` at most every STATUS_TTL_S unless `refresh`."""
        cached = self._cached()
        if cached is not None and not refresh:
            return cached
        status = await self._probe()
        self._remember(status)
        return status

    def _cached(self) -> LlmStatus | None:
        if self._status is not None and self._clock() - self._status_at < STATUS_TTL_S:
            return self._status
        return None

    def _remember(self, status: LlmStatus) -> None:
        self._status, self._status_at = status, self._clock()

    def _not_running(self) -> str:
        return f"LLM unavailable: Ollama is not running at {self.config.host}"

    def _not_pulled(self) -> str:
        return f"model {self.config.model} is not pulled (ollama pull {self.config.model})"

    async def _probe(self) -> LlmStatus:
        cfg = self.config
        if not cfg.enabled:
            return LlmStatus(available=False, running=False, model_present=False, reason="disabled in config")
        import httpx
        import ollama

        try:
            async with self._client(httpx.Timeout(cfg.connect_timeout_s)) as client:
                listing = await client.list()
        except (ConnectionError, httpx.ConnectError, httpx.ConnectTimeout):
            return LlmStatus(available=False, running=False, model_present=False, reason=self._not_running())
        except httpx.TimeoutException:
            reason = f"LLM unavailable: Ollama at {cfg.host} did not answer within {cfg.connect_timeout_s:g}s"
            return LlmStatus(available=False, running=False, model_present=False, reason=reason)
        except ollama.ResponseError as exc:
            reason = f"LLM unavailable: Ollama at {cfg.host} answered {exc.status_code}: {exc.error}"
            return LlmStatus(available=False, running=True, model_present=False, reason=reason)
        except (httpx.HTTPError, json.JSONDecodeError, ValidationError) as exc:
            if isinstance(exc, ValidationError) and not _malformed(exc):
                raise
            reason = f"LLM unavailable: unexpected answer from {cfg.host} ({type(exc).__name__})"
            return LlmStatus(available=False, running=False, model_present=False, reason=reason)
        models = [m.model for m in listing.models if m.model]
        if _has_model(models, cfg.model):
            return LlmStatus(available=True, running=True, model_present=True, reason=f"{cfg.model} is ready at {cfg.host}", models=models)
        return LlmStatus(available=False, running=True, model_present=False, reason=self._not_pulled(), models=models)

    def _client(self, timeout: httpx.Timeout) -> Any:
        import ollama

        # The client's default timeout is none. A proxy from the environment must not
        # capture calls to a local Ollama (httpx does not exempt loopback by itself).
        return ollama.AsyncClient(host=self.config.host, timeout=timeout, trust_env=not _is_loopback(self.config.host),
                                  verify=_tls_context())

    # -- calls

    async def chat(self, system: str, sections: Sequence[Section], task: str, *,
                   json_schema: dict[str, Any] | None = None,
                   stream_to: Callable[[str], None] | None = None) -> str | None:
        """The model's answer to `task` given `system` and `sections` (fitted to the budget), or None.

        With `stream_to`, each piece of the answer is passed to it as it arrives; a
        stream that breaks still ends in None, after some pieces were passed.
        """
        fitted = fit(system, sections, task, self.config.context_chars)
        text, _record = await self._call("chat", fitted, json_schema, stream_to)
        return text

    async def chat_json(self, system: str, sections: Sequence[Section], task: str, *, model_cls: type[M],
                        stream_to: Callable[[str], None] | None = None) -> M | None:
        """The answer as a validated `model_cls`, or None (recorded as "error" when the answer was invalid)."""
        schema = model_cls.model_json_schema()
        # Ollama constrains the output to the schema; a small model also needs to be told
        # what the fields mean, so the schema goes into the task (which is never cut).
        task = task + JSON_HINT + json.dumps(schema, separators=(",", ":"))
        fitted = fit(system, sections, task, self.config.context_chars)
        text, record = await self._call("chat", fitted, schema, stream_to)
        if text is None:
            return None
        try:
            return model_cls.model_validate_json(text)
        except ValidationError as exc:
            record.outcome, record.error = "error", f"invalid answer for {model_cls.__name__}: {_summary(exc)}"
            return None

    async def generate(self, prompt: str, *, system: str = "", sections: Sequence[Section] = (),
                       json_schema: dict[str, Any] | None = None,
                       stream_to: Callable[[str], None] | None = None) -> str | None:
        """A completion of `prompt` over /api/generate, under the same budget and rules as `chat`."""
        fitted = fit(system, sections, prompt, self.config.context_chars)
        text, _record = await self._call("generate", fitted, json_schema, stream_to)
        return text

    async def _call(self, kind: Literal["chat", "generate"], fitted: Fitted, json_schema: dict[str, Any] | None,
                    stream_to: Callable[[str], None] | None) -> tuple[str | None, LlmCall]:
        record = LlmCall(
            model=self.config.model, kind=kind, prompt_chars=fitted.chars, prompt_sections=fitted.sections,
            structured=json_schema is not None, streamed=stream_to is not None,
            started_at=dt.datetime.now(dt.timezone.utc),
        )
        started = time.perf_counter()
        text: str | None = None
        try:
            text = await self._ask(kind, fitted, json_schema, stream_to, record)
            record.outcome, record.error = "ok", None
        except _Failure as failure:
            record.outcome, record.error = failure.outcome, failure.reason
        except _CallerError as caller:
            record.outcome, record.error = "error", f"stream_to raised {caller.original!r}"
            raise caller.original from None
        except BaseException as exc:  # cancelled, or a bug: recorded, then raised
            cancelled = isinstance(exc, asyncio.CancelledError)
            record.outcome, record.error = "error", "cancelled" if cancelled else f"{type(exc).__name__}: {exc}"
            raise
        finally:
            record.latency_ms = round((time.perf_counter() - started) * 1000)
            self.calls.append(record)
        return text, record

    async def _ask(self, kind: Literal["chat", "generate"], fitted: Fitted, json_schema: dict[str, Any] | None,
                   stream_to: Callable[[str], None] | None, record: LlmCall) -> str:
        cfg = self.config
        if not cfg.enabled:
            raise _Failure("unavailable", "disabled in config")
        if fitted.refused:
            raise _Failure("error", fitted.refused)
        cached = self._cached()
        if cached is not None and not cached.available:
            # Known down or missing the model: do not make every agent wait to find out again.
            raise _Failure("unavailable", cached.reason)
        import httpx
        import ollama

        stream = stream_to is not None
        options = {"temperature": cfg.temperature}
        try:
            # httpx's read timeout is per chunk; this bounds the whole call.
            async with asyncio.timeout(cfg.timeout_s):
                async with self._client(httpx.Timeout(cfg.timeout_s, connect=cfg.connect_timeout_s)) as client:
                    if kind == "chat":
                        messages = ([{"role": "system", "content": fitted.system}] if fitted.system else [])
                        messages.append({"role": "user", "content": fitted.user})
                        reply = await client.chat(model=cfg.model, messages=messages, options=options,
                                                  format=json_schema or None, stream=stream)
                    else:
                        reply = await client.generate(model=cfg.model, prompt=fitted.user, system=fitted.system or None,
                                                      options=options, format=json_schema or None, stream=stream)
                    if stream_to is None:
                        text = _piece(reply)
                        record.response_chars = len(text)
                        _count(record, reply)
                        return text
                    pieces: list[str] = []
                    async with contextlib.aclosing(reply):  # closes the response if stream_to raises
                        async for part in reply:
                            piece = _piece(part)
                            if piece:
                                pieces.append(piece)
                                record.response_chars += len(piece)
                                try:
                                    stream_to(piece)
                                except Exception as exc:
                                    raise _CallerError(exc) from exc
                            if part.done:
                                _count(record, part)
                    return "".join(pieces)
        except (ConnectionError, httpx.ConnectError, httpx.ConnectTimeout):
            # One-shot calls raise ConnectionError, streaming ones httpx.ConnectError.
            self._remember(LlmStatus(available=False, running=False, model_present=False, reason=self._not_running()))
            raise _Failure("unavailable", self._not_running()) from None
        except (TimeoutError, httpx.TimeoutException):
            raise _Failure("timeout", f"no answer within {cfg.timeout_s:g}s") from None
        except ollama.ResponseError as exc:
            if exc.status_code == 404 or "not found" in str(exc.error).lower():
                self._remember(LlmStatus(available=False, running=True, model_present=False, reason=self._not_pulled()))
                raise _Failure("unavailable", self._not_pulled()) from None
            where = f"answered {exc.status_code}" if exc.status_code > 0 else "failed mid-answer"
            raise _Failure("error", f"Ollama {where}: {exc.error}") from None
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise _Failure("error", f"unexpected answer from Ollama: {type(exc).__name__}: {exc}") from None
        except ValidationError as exc:
            if not _malformed(exc):
                raise
            raise _Failure("error", f"unexpected answer from Ollama: {_summary(exc)}") from None


def _piece(part: Any) -> str:
    """The text in one chat or generate response (or stream chunk)."""
    message = getattr(part, "message", None)
    if message is not None:
        return message.content or ""
    return getattr(part, "response", None) or ""


def _count(record: LlmCall, part: Any) -> None:
    record.prompt_tokens = part.prompt_eval_count
    record.response_tokens = part.eval_count


__all__ = [
    "Fitted", "Llm", "LlmCall", "LlmStatus", "Section", "SectionFit", "STATUS_TTL_S", "fit", "marker",
]
