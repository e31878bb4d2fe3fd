"""The LLM adapter: the prompt budget's rules, and every way a call to Ollama ends.

All calls go through the real `ollama` client to the loopback fake in
tests/ollama_server.py; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ollama_server import FakeOllama, closed_url, ollama_server  # noqa: F401
from pydantic import BaseModel, Field

from oxymus.agents.llm import STATUS_TTL_S, Llm, LlmCall, Section, fit, marker
from oxymus.profile.config import ConfigError, LlmConfig, parse

MARKER = re.compile(r"\[… (\d+) characters omitted\]")


def lines(prefix: str, n: int, width: int = 9) -> str:
    """n lines of exactly `width` characters plus a newline each."""
    return "".join(f"{prefix}{i:0{width - len(prefix)}d}\n" for i in range(n))


def size(system: str, task: str, *sections: tuple[str, str]) -> int:
    """The full prompt size by the documented rendering: `## name` headings, blank lines between."""
    return len(system) + len("\n\n".join([*(f"## {n}\n{t}" for n, t in sections), task]))


# ---------------------------------------------------------------- fit()


def test_everything_fits_and_keeps_the_callers_order():
    sections = [Section(name="hot memory", text="a\nb", priority=1), Section(name="state", text="c", priority=5)]
    f = fit("be brief", sections, "Summarise.", 1000)
    assert f.refused is None
    assert f.system == "be brief"
    assert f.user == "## hot memory\na\nb\n\n## state\nc\n\nSummarise."
    assert f.chars == len(f.system) + len(f.user) == size("be brief", "Summarise.", ("hot memory", "a\nb"), ("state", "c"))
    assert [(s.name, s.kept, s.omitted, s.dropped) for s in f.sections] == [("hot memory", 3, 0, False), ("state", 1, 0, False)]


def test_the_exact_budget_keeps_everything_and_one_less_cuts():
    sections = [Section(name="memory", text=lines("m", 10))]
    full = size("sys", "task", ("memory", lines("m", 10)))
    at = fit("sys", sections, "task", full)
    assert at.chars == full and not at.sections[0].cut and MARKER.search(at.user) is None
    under = fit("sys", sections, "task", full - 1)
    assert under.chars <= full - 1 and under.sections[0].cut and MARKER.search(under.user)


def test_lowest_priority_is_cut_first_and_only_as_much_as_needed():
    hot, retrieved, state = lines("h", 20), lines("r", 20), lines("s", 20)
    sections = [Section(name="hot", text=hot, priority=3), Section(name="retrieved", text=retrieved, priority=1),
                Section(name="state", text=state, priority=2)]
    full = size("sys", "do", ("hot", hot), ("retrieved", retrieved), ("state", state))
    f = fit("sys", sections, "do", full - 50)
    by = {s.name: s for s in f.sections}
    assert not by["hot"].cut and not by["state"].cut
    assert by["retrieved"].cut and not by["retrieved"].dropped
    # Only as much as needed: 50 over, so at most the lines covering 50 + the marker go.
    assert 50 <= by["retrieved"].omitted <= 50 + len(marker(100)) + 10
    assert f.user.index("## hot") < f.user.index("## retrieved") < f.user.index("## state")
    assert hot in f.user and state in f.user


def test_a_cut_falls_on_a_line_boundary_and_says_how_much_went():
    text = lines("x", 30)
    f = fit("", [Section(name="notes", text=text)], "task", 150)
    shown = f.user.split("## notes\n", 1)[1].rsplit("\n\ntask", 1)[0]
    head, last = shown.rsplit("\n", 1)
    kept = head + "\n"
    assert text.startswith(kept) and kept.endswith("\n")  # whole lines only
    m = MARKER.fullmatch(last)
    assert m and int(m.group(1)) == len(text) - len(kept) == f.sections[0].omitted
    assert f.sections[0].kept == len(kept)
    assert f.chars <= 150


def test_equal_priorities_cut_the_later_section_first():
    a, b = lines("a", 10), lines("b", 10)
    full = size("", "t", ("a", a), ("b", b))
    f = fit("", [Section(name="a", text=a), Section(name="b", text=b)], "t", full - 15)
    assert not f.sections[0].cut and f.sections[1].cut


def test_a_section_is_dropped_rather_than_kept_below_its_min_chars():
    keep, small = lines("k", 5), lines("s", 10)  # 100 characters of `small`
    full = size("", "t", ("keep", keep), ("small", small))
    # 45 over: a cut would keep 50 characters, under min_chars=60, so it goes whole.
    f = fit("", [Section(name="keep", text=keep, priority=1), Section(name="small", text=small, min_chars=60)], "t", full - 45)
    assert f.sections[1].dropped and f.sections[1].kept == 0 and f.sections[1].omitted == 100
    assert "## small" not in f.user and MARKER.search(f.user) is None
    assert f.user == f"## keep\n{keep}\n\nt"
    # With a lower bar the same budget cuts it instead.
    g = fit("", [Section(name="keep", text=keep, priority=1), Section(name="small", text=small, min_chars=20)], "t", full - 45)
    assert g.sections[1].cut and g.sections[1].kept >= 20


def test_a_single_line_that_cannot_fit_is_dropped_whole():
    f = fit("", [Section(name="one", text="x" * 500)], "t", 200)
    assert f.sections[0].dropped and f.user == "t"


def test_dropping_continues_to_higher_priorities_until_it_fits():
    low, mid, high = lines("l", 10), lines("m", 10), lines("h", 10)
    sections = [Section(name="high", text=high, priority=3), Section(name="mid", text=mid, priority=2),
                Section(name="low", text=low, priority=1)]
    f = fit("", sections, "t", size("", "t", ("high", high)) + 70)
    by = {s.name: s for s in f.sections}
    assert by["low"].dropped and by["mid"].cut and not by["high"].cut


def test_the_task_and_system_are_never_cut():
    system, task = "S" * 300, "T" * 600
    f = fit(system, [Section(name="memory", text=lines("m", 50), priority=99)], task, 905)
    assert f.refused is None and f.system == system and f.user.endswith(task)
    assert f.sections[0].dropped and f.user == task


def test_a_task_too_large_is_refused():
    f = fit("S" * 50, [Section(name="m", text="x")], "T" * 60, 100)
    assert f.refused and f.refused.startswith("task too large")
    assert f.user == "" and f.sections[0].dropped
    assert fit("S" * 50, [], "T" * 50, 100).refused is None  # exactly the budget is allowed


def test_empty_sections_say_nothing():
    f = fit("", [Section(name="empty", text=""), Section(name="x", text="y")], "t", 100)
    assert f.user == "## x\ny\n\nt"
    assert f.sections[0].kept == 0 and not f.sections[0].dropped and not f.sections[0].cut


section_strategy = st.builds(
    Section,
    name=st.sampled_from(["hot memory", "retrieved memory", "state", "calendar"]),
    text=st.lists(st.text(alphabet="abc …é", max_size=30), max_size=12).map(lambda ls: "\n".join(ls)),
    priority=st.integers(0, 3),
    min_chars=st.integers(0, 60),
)


@settings(max_examples=300, deadline=None)
@given(system=st.text(max_size=40), task=st.text(min_size=1, max_size=40),
       sections=st.lists(section_strategy, max_size=5), budget=st.integers(0, 600))
def test_fit_properties(system, task, sections, budget):
    f = fit(system, sections, task, budget)
    if len(system) + len(task) > budget:
        assert f.refused
        return
    assert f.refused is None
    assert f.chars == len(f.system) + len(f.user) <= budget
    assert f.system == system and f.user.endswith(task)
    blocks = f.user[: len(f.user) - len(task)]
    for s, r in zip(sections, f.sections):
        assert r.kept + r.omitted == len(s.text)
        if r.dropped or not s.text:
            continue
        if r.cut:
            assert r.kept >= max(s.min_chars, 1) and s.text[r.kept - 1] == "\n"
            assert f"## {s.name}\n{s.text[:r.kept]}{marker(r.omitted)}\n\n" in blocks
        else:
            assert f"## {s.name}\n{s.text}\n\n" in blocks
    # In cutting order (lowest priority first, the later first among equals):
    # some dropped, then at most one cut, then the rest whole.
    order = sorted(range(len(sections)), key=lambda i: (sections[i].priority, -i))
    states = ["d" if f.sections[i].dropped else "c" if f.sections[i].cut else "w" for i in order if sections[i].text]
    assert re.fullmatch(r"d*c?w*", "".join(states)), states


# ---------------------------------------------------------------- the adapter


@pytest.fixture
def llm(ollama_server: FakeOllama) -> Llm:
    return Llm(LlmConfig(host=ollama_server.url, timeout_s=5, connect_timeout_s=1))


def only_call(llm: Llm) -> LlmCall:
    calls = llm.take_calls()
    assert len(calls) == 1, calls
    assert llm.calls == []
    return calls[0]


def test_importing_the_adapter_does_not_import_the_client():
    code = "import sys, oxymus.agents.llm; print(sorted({m.split('.')[0] for m in sys.modules} & {'ollama', 'httpx', 'anyio'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_config_section_defaults_and_validation():
    cfg = parse("").llm
    assert (cfg.enabled, cfg.host, cfg.model, cfg.timeout_s, cfg.connect_timeout_s, cfg.context_chars, cfg.temperature) == (
        True, "http://127.0.0.1:11434", "llama3.2", 60, 2, 12000, 0.2)
    assert parse('[llm]\nhost = "http://box:11434/"\n').llm.host == "http://box:11434"
    with pytest.raises(ConfigError, match=r"llm\.host: must be an http"):
        parse('[llm]\nhost = "localhost:11434"\n')


async def test_status_available(ollama_server, llm):
    status = await llm.status()
    assert status.available and status.running and status.model_present
    assert status.models == ["llama3.2:latest"]
    assert ollama_server.url in status.reason


async def test_status_model_missing(ollama_server, llm):
    ollama_server.state.models = ["qwen2.5:0.5b"]
    status = await llm.status()
    assert not status.available and status.running and not status.model_present
    assert status.reason == "model llama3.2 is not pulled (ollama pull llama3.2)"
    assert status.models == ["qwen2.5:0.5b"]


async def test_status_with_nothing_listening():
    url = closed_url()
    status = await Llm(LlmConfig(host=url, connect_timeout_s=1)).status()
    assert not status.available and not status.running and not status.model_present
    assert status.reason == f"LLM unavailable: Ollama is not running at {url}"


async def test_status_disabled_asks_nothing(ollama_server):
    llm = Llm(LlmConfig(host=ollama_server.url, enabled=False))
    status = await llm.status()
    assert not status.available and status.reason == "disabled in config"
    assert await llm.chat("s", [], "t") is None
    call = only_call(llm)
    assert (call.outcome, call.error) == ("unavailable", "disabled in config")
    assert ollama_server.state.requests == []


async def test_status_is_cached_for_a_while(ollama_server):
    now = [1000.0]
    llm = Llm(LlmConfig(host=ollama_server.url), clock=lambda: now[0])
    assert (await llm.status()).available
    ollama_server.state.models = []
    now[0] += STATUS_TTL_S - 1
    assert (await llm.status()).available  # still the cached answer
    assert ollama_server.state.paths() == ["/api/tags"]
    now[0] += 2
    assert not (await llm.status()).model_present
    assert (await llm.status(refresh=True)).reason.startswith("model llama3.2 is not pulled")
    assert ollama_server.state.paths() == ["/api/tags"] * 3


async def test_chat_sends_exactly_the_fitted_prompt(ollama_server, llm):
    ollama_server.state.answer_next("Three things matter today.")
    sections = [Section(name="hot memory", text="Ana prefers mornings."), Section(name="state", text="2 meetings")]
    answer = await llm.chat("You are terse.", sections, "Plan the day.")
    assert answer == "Three things matter today."
    [req] = ollama_server.state.requests
    assert req.path == "/api/chat" and req.model == "llama3.2" and req.stream is False
    assert req.options == {"temperature": 0.2} and req.format is None
    # Nothing is added: no date, no clock, no instruction the caller did not write.
    assert req.messages == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "## hot memory\nAna prefers mornings.\n\n## state\n2 meetings\n\nPlan the day."},
    ]
    call = only_call(llm)
    assert call.model == "llama3.2" and call.kind == "chat" and call.outcome == "ok" and call.error is None
    assert call.prompt_chars == len("You are terse.") + len(req.messages[1]["content"])
    assert call.response_chars == len(answer) and call.prompt_tokens and call.response_tokens
    assert [(s.name, s.kept) for s in call.prompt_sections] == [("hot memory", 21), ("state", 10)]
    assert 0 <= call.latency_ms < 5000 and call.started_at.tzinfo is not None


async def test_chat_streams_pieces_in_order(ollama_server, llm):
    ollama_server.state.answer_next("one two three four")
    seen: list[str] = []
    answer = await llm.chat("", [], "count", stream_to=seen.append)
    assert answer == "one two three four"
    assert seen == ["one ", "two ", "three ", "four"]
    [req] = ollama_server.state.requests
    assert req.stream is True and req.messages == [{"role": "user", "content": "count"}]
    call = only_call(llm)
    assert call.streamed and call.outcome == "ok" and call.response_chars == len(answer) and call.response_tokens == 4


async def test_the_prompt_sent_carries_the_truncation_marker(ollama_server):
    llm = Llm(LlmConfig(host=ollama_server.url, context_chars=1000))
    memory = lines("fact", 200)
    await llm.chat("sys", [Section(name="retrieved memory", text=memory), Section(name="state", text="ok", priority=1)], "Go.")
    [req] = ollama_server.state.requests
    m = MARKER.search(req.user_text)
    assert m and len(req.text) - 1 <= 1000  # text joins system and user with one newline
    call = only_call(llm)
    assert call.prompt_chars <= 1000
    [mem, state] = call.prompt_sections
    assert mem.cut and mem.omitted == int(m.group(1)) and not state.cut


async def test_a_task_too_large_is_refused_without_asking(ollama_server):
    llm = Llm(LlmConfig(host=ollama_server.url, context_chars=1000))
    assert await llm.chat("sys", [], "x" * 1001) is None
    call = only_call(llm)
    assert call.outcome == "error" and call.error.startswith("task too large")
    assert ollama_server.state.requests == []


class Triage(BaseModel):
    title: str
    urgent: bool
    steps: list[str] = Field(default_factory=list)


async def test_chat_json_validates_a_good_answer(ollama_server, llm):
    ollama_server.state.answer_next({"title": "Pay rent", "urgent": True, "steps": ["open bank app"]})
    result = await llm.chat_json("sys", [], "Triage this.", model_cls=Triage)
    assert result == Triage(title="Pay rent", urgent=True, steps=["open bank app"])
    [req] = ollama_server.state.requests
    assert req.format == Triage.model_json_schema()
    assert req.user_text.startswith("Triage this.") and '"urgent"' in req.user_text
    call = only_call(llm)
    assert call.structured and call.outcome == "ok"


@pytest.mark.parametrize("answer, problem", [
    ({"title": "x"}, "urgent: Field required"),
    ({"title": "x", "urgent": "maybe"}, "urgent: Input should be a valid boolean"),
    ("Sure! Here is the JSON: {", "Invalid JSON"),
])
async def test_chat_json_refuses_an_invalid_answer(ollama_server, llm, answer, problem):
    ollama_server.state.answer_next(answer)
    assert await llm.chat_json("sys", [], "Triage this.", model_cls=Triage) is None
    call = only_call(llm)
    assert call.outcome == "error" and call.error.startswith("invalid answer for Triage: ") and problem in call.error


async def test_chat_json_streams_too(ollama_server, llm):
    ollama_server.state.answer_next('{"title": "Call mum", "urgent": false}')
    seen: list[str] = []
    assert await llm.chat_json("", [], "t", model_cls=Triage, stream_to=seen.append) == Triage(title="Call mum", urgent=False)
    assert len(seen) > 1 and "".join(seen) == '{"title": "Call mum", "urgent": false}'


async def test_a_slow_answer_times_out(ollama_server):
    llm = Llm(LlmConfig(host=ollama_server.url, timeout_s=0.3))
    ollama_server.state.delay = 3
    assert await llm.chat("s", [], "t") is None
    call = only_call(llm)
    assert (call.outcome, call.error) == ("timeout", "no answer within 0.3s")
    assert 250 <= call.latency_ms < 2500


async def test_a_stream_that_takes_too_long_in_total_times_out(ollama_server):
    # Each chunk arrives well within the timeout; the whole answer does not.
    llm = Llm(LlmConfig(host=ollama_server.url, timeout_s=0.4))
    ollama_server.state.answer_next("a b c d e f g h i j k l")
    ollama_server.state.chunk_delay = 0.1
    seen: list[str] = []
    assert await llm.chat("s", [], "t", stream_to=seen.append) is None
    call = only_call(llm)
    assert call.outcome == "timeout" and 1 <= len(seen) < 12 and call.response_chars == len("".join(seen))


@pytest.mark.parametrize("stream", [False, True])
async def test_a_server_error_is_none_and_recorded(ollama_server, llm, stream):
    ollama_server.state.fail_with = 500
    assert await llm.chat("s", [], "t", stream_to=(lambda _: None) if stream else None) is None
    call = only_call(llm)
    assert call.outcome == "error" and call.error.startswith("Ollama answered 500: llama runner process")
    # A 5xx does not mark Ollama down: the next call asks again.
    ollama_server.state.fail_with = None
    assert await llm.chat("s", [], "t") == "Fake answer."


async def test_a_stream_broken_midway_is_none(ollama_server, llm):
    ollama_server.state.answer_next("a partial answer that breaks")
    ollama_server.state.break_stream_after = 2
    seen: list[str] = []
    assert await llm.chat("s", [], "t", stream_to=seen.append) is None
    assert seen == ["a ", "partial "]
    call = only_call(llm)
    assert call.outcome == "error" and "mid-answer" in call.error and call.response_chars == len("a partial ")


async def test_a_model_not_pulled_is_unavailable_and_not_asked_again(ollama_server):
    llm = Llm(LlmConfig(host=ollama_server.url, model="mistral"))
    assert await llm.chat("s", [], "t") is None
    assert await llm.chat("s", [], "t", stream_to=lambda _: None) is None
    first, second = llm.take_calls()
    assert first.outcome == second.outcome == "unavailable"
    assert first.error == second.error == "model mistral is not pulled (ollama pull mistral)"
    assert [r.status for r in ollama_server.state.requests] == [404]  # the second call knew already
    assert not (await llm.status()).model_present


async def test_a_tagged_model_is_matched_exactly(ollama_server):
    ollama_server.state.models = ["llama3.2:1b"]
    assert not (await Llm(LlmConfig(host=ollama_server.url)).status()).model_present
    llm = Llm(LlmConfig(host=ollama_server.url, model="llama3.2:1b"))
    assert (await llm.status()).available
    assert await llm.chat("s", [], "t") == "Fake answer."


@pytest.mark.parametrize("stream", [False, True])
async def test_nothing_listening_is_unavailable(stream):
    url = closed_url()
    llm = Llm(LlmConfig(host=url, connect_timeout_s=1))
    assert await llm.chat("s", [], "t", stream_to=(lambda _: None) if stream else None) is None
    call = only_call(llm)
    assert (call.outcome, call.error) == ("unavailable", f"LLM unavailable: Ollama is not running at {url}")
    assert not (await llm.status()).running  # remembered from the call


async def test_a_failing_stream_callback_propagates(ollama_server, llm):
    ollama_server.state.answer_next("one two")

    def broken(_piece: str) -> None:
        raise KeyError("bug in the caller")

    with pytest.raises(KeyError, match="bug in the caller"):
        await llm.chat("s", [], "t", stream_to=broken)
    call = only_call(llm)
    assert call.outcome == "error" and "KeyError" in call.error


async def test_generate(ollama_server, llm):
    ollama_server.state.answer_next("Dear Ana,", "streamed completion")
    assert await llm.generate("Write to Ana.", system="Be kind.") == "Dear Ana,"
    seen: list[str] = []
    assert await llm.generate("More.", sections=[Section(name="facts", text="she likes tea")], stream_to=seen.append) == (
        "streamed completion")
    assert seen == ["streamed ", "completion"]
    one, two = ollama_server.state.requests
    assert one.path == two.path == "/api/generate"
    assert (one.body["prompt"], one.body["system"], one.stream) == ("Write to Ana.", "Be kind.", False)
    assert (two.body["prompt"], "system" in two.body, two.stream) == ("## facts\nshe likes tea\n\nMore.", False, True)
    calls = llm.take_calls()
    assert [(c.kind, c.outcome, c.streamed) for c in calls] == [("generate", "ok", False), ("generate", "ok", True)]
    assert calls[0].prompt_chars == len("Write to Ana.") + len("Be kind.")


async def test_every_call_is_recorded_in_order_until_taken(ollama_server, llm):
    ollama_server.state.answer_next("fine", {"title": "t", "urgent": False})
    await llm.chat("s", [], "a")
    await llm.chat_json("s", [], "b", model_cls=Triage)
    ollama_server.state.fail_with = 503
    await llm.generate("c")
    assert [c.outcome for c in llm.calls] == ["ok", "ok", "error"]
    assert [c.kind for c in llm.take_calls()] == ["chat", "chat", "generate"]
    assert llm.take_calls() == []
    # The records are plain data, stored with the run as JSON.
    ollama_server.state.fail_with = None
    await llm.chat("s", [], "d")
    assert LlmCall.model_validate_json(json.dumps(llm.calls[0].model_dump(mode="json"))) == llm.calls[0]


async def test_status_when_something_listens_but_never_answers():
    import socket

    with socket.socket() as sock:  # accepts connections (the kernel's backlog) and says nothing
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        llm = Llm(LlmConfig(host=url, connect_timeout_s=0.2))
        status = await llm.status()
        assert not status.available and status.reason == f"LLM unavailable: Ollama at {url} did not answer within 0.2s"
        # A chat is then not attempted until the status is due again.
        assert await llm.chat("s", [], "t") is None
        assert only_call(llm).error == status.reason
