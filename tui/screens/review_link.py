"""What the morning review asks of the daemon, and what it is told back (past-tense messages).

`REVIEW` (`review.get`) is asked when the review opens: where today's review stopped and
each step's data. `STEP` records a step's decisions and where the review stands now
(`review.step`), so leaving at any step resumes there; `FINISH` writes the day plan with
the chosen top three (`review.finish`). Inbox suggestions and approvals are carried out
through the link's own `accept`/`triage` and `screens/decisions.py`, as in their sections.
"""

from __future__ import annotations

from textual.message import Message

from oxymus.agents.review import ReviewView
from oxymus.client.protocol import ReviewFinishResult, ReviewStepResult
from oxymus.tui.link.live import Command, LiveQuery


class ReviewMessage(Message):
    bubble = False


class ReviewLoaded(ReviewMessage):
    """Today's review as the daemon has it: the record (its step) and every step's data."""

    def __init__(self, view: ReviewView) -> None:
        super().__init__()
        self.view = view


class ReviewFailed(ReviewMessage):
    """Loading, recording a step or finishing was refused, or the daemon could not be asked (`what`: get, step, finish)."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__()
        self.what = what
        self.reason = reason


class ReviewStepped(ReviewMessage):
    """The daemon stored a step's decisions; `problems` are those it could not carry out."""

    def __init__(self, result: ReviewStepResult) -> None:
        super().__init__()
        self.result = result


class ReviewFinished(ReviewMessage):
    """The day plan is written with the chosen top three and the review is recorded as done."""

    def __init__(self, result: ReviewFinishResult) -> None:
        super().__init__()
        self.result = result


REVIEW = LiveQuery("review.get", "review.get", lambda a: ReviewLoaded(a.value), ReviewView,
                   failed=lambda error, _p: ReviewFailed("get", error))
STEP = Command("review.step", lambda result, _r: ReviewStepped(result), lambda error, _r: ReviewFailed("step", error),
               ReviewStepResult)
FINISH = Command("review.finish", lambda result, _r: ReviewFinished(result), lambda error, _r: ReviewFailed("finish", error),
                 ReviewFinishResult, invalidates=("artifact.saved",))


