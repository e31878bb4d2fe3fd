"""What an agent's LLM has written so far, told to clients while it streams: `agent.progress`.

A run's context hands `RunProgress` to the LLM adapter as its `stream_to`; every
piece of the answer counts, and the one debouncer (oxymus.kernel.debounce) sends at
most one `agent.progress` event per `interval` seconds, always with the newest count,
so the last one sent says what had arrived when the stream paused or ended:

    {"id": run id, "agent": name, "what": "drafting", "chars": so far, "pieces": so far,
     "tail": the last TAIL_CHARS characters, on one line}

Progress is a passing state, not a fact: it is published to subscribers only, never
written to the audit log or the store. The runtime calls `end()` before it publishes
the run's `agent.finished`, so no progress follows it; clients clear the run's
progress on `agent.finished` (a stream that broke midway included: the run then ends
on its deterministic path).
"""

from __future__ import annotations

from typing import Any, Callable

from oxymus.kernel.debounce import Debouncer

TOPIC = "agent.progress"
INTERVAL_S = 0.25  # at most four events a second per run
TAIL_CHARS = 80


class RunProgress:
    """Counts one run's streamed LLM text and publishes it, throttled. Call it with each piece."""

    def __init__(self, publish: Callable[[str, dict[str, Any]], None], agent: str, run_id: str, *,
                 what: str = "drafting", interval: float = INTERVAL_S) -> None:
        self._publish = publish
        self.agent = agent
        self.run_id = run_id
        self.what = what
        self.interval = interval  # 0: an event per piece, at once (tests check their order)
        self.chars = 0
        self.pieces = 0
        self.published = 0
        self._tail = ""
        self._ended = False
        self._debouncer = Debouncer(interval, self._send, name=f"progress-{run_id}")

    def __call__(self, piece: str) -> None:
        if not piece or self._ended:
            return
        self.chars += len(piece)
        self.pieces += 1
        self._tail = (self._tail + piece)[-TAIL_CHARS * 2:]
        if self.interval <= 0:
            self.publish()
        else:
            self._debouncer()

    def end(self) -> None:
        """The run is over: nothing more is sent (a pending event is dropped)."""
        self._ended = True
        self._debouncer.cancel()

    @property
    def tail(self) -> str:
        """The end of the text so far, its whitespace folded to single spaces (one line)."""
        return " ".join(self._tail.split())[-TAIL_CHARS:]

    def data(self) -> dict[str, Any]:
        return {"id": self.run_id, "agent": self.agent, "what": self.what, "chars": self.chars,
                "pieces": self.pieces, "tail": self.tail}

    def publish(self) -> None:
        self.published += 1
        self._publish(TOPIC, self.data())

    async def _send(self) -> None:
        if not self._ended:
            self.publish()
