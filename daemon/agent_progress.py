"""What an agent's LLM has written so far, told to clients while it streams: `agent.progress`.

A run's context hands `RunProgress` to the LLM adapter as its `stream_to`; every
piece of the answer counts, and at most one `agent.progress` event per `interval`
seconds goes out on the bus (the first piece at once), carrying

    {"id": run id, "agent": name, "what": "drafting", "chars": so far, "pieces": so far,
     "tail": the last TAIL_CHARS characters, on one line}

Progress is a passing state, not a fact: it is published to subscribers only, never
written to the audit log or the store. Clients clear it when `agent.finished` for the
run arrives (a stream that broke midway included: the run then ends on its
deterministic path).
"""

from __future__ import annotations

import time
from typing import Any, Callable

TOPIC = "agent.progress"
INTERVAL_S = 0.25  # at most four events a second per run
TAIL_CHARS = 80


class RunProgress:
    """Counts one run's streamed LLM text and publishes it, throttled. Call it with each piece."""

    def __init__(self, publish: Callable[[str, dict[str, Any]], None], agent: str, run_id: str, *,
                 what: str = "drafting", interval: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._publish = publish
        self.agent = agent
        self.run_id = run_id
        self.what = what
        self.interval = interval
        self._clock = clock
        self.chars = 0
        self.pieces = 0
        self.published = 0
        self._tail = ""
        self._last: float | None = None

    def __call__(self, piece: str) -> None:
        if not piece:
            return
        self.chars += len(piece)
        self.pieces += 1
        self._tail = (self._tail + piece)[-TAIL_CHARS * 2:]
        now = self._clock()
        if self._last is None or now - self._last >= self.interval:
            self._last = now
            self.publish()

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
