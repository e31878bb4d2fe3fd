"""What the weekly review asks of the daemon, and what it is told back (past-tense messages).

`WEEKLY` (`review.weekly_get`) is asked when the review opens: where the week's review
stopped, the reflection's review of the week (the daemon runs the agent when there is
none yet), its questions and the proposals waiting. `WEEKLY_STEP` records a step (the
answers, which the daemon turns into memory records through actions) and where the
review stands now; `WEEKLY_FINISH` records it as done with the Proposals step's decisions.
The proposals themselves are decided through `screens/decisions.py`, as in Approvals.
"""

from __future__ import annotations

from textual.message import Message

from oxymus.agents.weekly import WeeklyView
from oxymus.client.protocol import WeeklyFinishResult, WeeklyStepResult
from oxymus.tui.link.live import Command, LiveQuery


class WeeklyMessage(Message):
    bubble = False


class WeeklyLoaded(WeeklyMessage):
    """The week's review as the daemon has it: the record (its step) and every step's data."""

    def __init__(self, view: WeeklyView) -> None:
        super().__init__()
        self.view = view


class WeeklyFailed(WeeklyMessage):
    """Loading, recording a step or finishing was refused, or the daemon could not be asked (`what`: get, step, finish)."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__()
        self.what = what
        self.reason = reason


class WeeklyStepped(WeeklyMessage):
    """The daemon stored a step (and the answers' memory records); `problems` are those it could not record."""

    def __init__(self, result: WeeklyStepResult) -> None:
        super().__init__()
        self.result = result


class WeeklyFinished(WeeklyMessage):
    """The week's review is recorded as done; `lines` say what was recorded."""

    def __init__(self, result: WeeklyFinishResult) -> None:
        super().__init__()
        self.result = result


WEEKLY = LiveQuery("review.weekly_get", "review.weekly_get", lambda a: WeeklyLoaded(a.value), WeeklyView,
                   failed=lambda error, _p: WeeklyFailed("get", error))
WEEKLY_STEP = Command("review.weekly_step", lambda result, _r: WeeklyStepped(result),
                      lambda error, _r: WeeklyFailed("step", error), WeeklyStepResult)
WEEKLY_FINISH = Command("review.weekly_finish", lambda result, _r: WeeklyFinished(result),
                        lambda error, _r: WeeklyFailed("finish", error), WeeklyFinishResult)
