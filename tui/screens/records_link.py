"""What the Records section asks of the daemon, and what it is told back (past-tense messages).

`BOARD` lists every record (one call; the board filters by kind) when the link connects
and again after every `record.*` or `memory.*` event, so a move made anywhere (the CLI,
an agent's approved action) shows on an open board. `KINDS` is asked once per
connection: the kinds, their statuses and labels. `DETAIL` is one record with its links
and history; `MOVE` is a person's status move (`records.edit`).
"""

from __future__ import annotations

from textual.message import Message

from oxymus.records.model import Record, RecordDetail
from oxymus.records.protocol import RecordKindsResult, RecordsListResult
from oxymus.tui.link.live import Command, LiveQuery

BOARD_LIMIT = 5000  # records on the board: a one-person company's pipeline is far smaller


class RecordsMessage(Message):
    bubble = False


class RecordKindsLoaded(RecordsMessage):
    def __init__(self, result: RecordKindsResult) -> None:
        super().__init__()
        self.result = result


class RecordsLoaded(RecordsMessage):
    def __init__(self, result: RecordsListResult) -> None:
        super().__init__()
        self.result = result


class RecordDetailLoaded(RecordsMessage):
    def __init__(self, detail: RecordDetail) -> None:
        super().__init__()
        self.detail = detail


class RecordMoved(RecordsMessage):
    def __init__(self, record: Record) -> None:
        super().__init__()
        self.record = record


class RecordsFailed(RecordsMessage):
    """`what`: kinds, list, get or move; `record_id` when it was about one record."""

    def __init__(self, what: str, reason: str, record_id: str | None = None) -> None:
        super().__init__()
        self.what = what
        self.reason = reason
        self.record_id = record_id


KINDS = LiveQuery("records.kinds", "records.kinds", lambda a: RecordKindsLoaded(a.value), RecordKindsResult,
                  params=dict, replay=True, failed=lambda error, _p: RecordsFailed("kinds", error), offline_quiet=True)
BOARD = LiveQuery("records.board", "records.list", lambda a: RecordsLoaded(a.value), RecordsListResult,
                  params=lambda: {"limit": BOARD_LIMIT}, topics=("record.*", "memory.changed"), debounce=0.1, replay=True,
                  failed=lambda error, _p: RecordsFailed("list", error), offline_quiet=True)
DETAIL = LiveQuery("records.get", "records.get", lambda a: RecordDetailLoaded(a.value), RecordDetail,
                   failed=lambda error, p: RecordsFailed("get", error, p.get("id")))
MOVE = Command("records.edit", done=lambda record, _r: RecordMoved(record),
               failed=lambda error, r: RecordsFailed("move", error, r.params.get("id")), result=Record,
               invalidates=("record.changed",))
