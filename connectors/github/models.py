"""What the GitHub source stores: the `data` of its state items, and how CI is summed up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CiState = Literal["success", "failure", "pending", "none"]

KIND_REVIEW_REQUEST = "github.review_request"
KIND_PR = "github.pr"
KIND_ISSUE = "github.issue"

# Check-run conclusions that mean the check failed; "neutral", "skipped" and "stale" do not.
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled", "action_required", "startup_failure"})
# Check-run statuses that mean it has not finished.
UNFINISHED_STATUSES = frozenset({"queued", "in_progress", "waiting", "requested", "pending"})


class PullRequest(BaseModel):
    """A pull request: one that asks for my review (`github.review_request`) or one of mine (`github.pr`)."""

    model_config = ConfigDict(frozen=True)

    number: int
    title: str
    repo: str = Field(description='"owner/name"')
    url: str = Field(description="the PR's web page (html_url)")
    author: str = Field(description="login of who opened it")
    draft: bool = False
    updated_at: str = Field(description="UTC ISO-8601")
    ci: CiState | None = Field(
        default=None,
        description="combined CI of the head commit (statuses and check runs); set for my PRs, None when not looked up",
    )
    failing_checks: list[str] = Field(default_factory=list, description="names of failed check runs and status contexts")
    head_sha: str | None = Field(default=None, description="the head commit the CI state is for (my PRs)")


class Issue(BaseModel):
    """An open issue assigned to me (`github.issue`)."""

    model_config = ConfigDict(frozen=True)

    number: int
    title: str
    repo: str = Field(description='"owner/name"')
    url: str = Field(description="the issue's web page (html_url)")
    labels: list[str] = Field(default_factory=list)
    updated_at: str = Field(description="UTC ISO-8601")


def combine_ci(statuses: Iterable[tuple[str, str]], check_runs: Iterable[tuple[str, str, str | None]]) -> tuple[CiState, list[str]]:
    """One CI state from commit statuses `(context, state)` and check runs `(name, status, conclusion)`.

    failure if any check run concluded failure/timed_out/cancelled/action_required or
    any status is failure/error; else pending if any is still running or pending;
    else success if there was anything at all; else none. Also the failing names.
    """
    failing: list[str] = []
    pending = seen = False
    for context, state in statuses:
        seen = True
        if state in ("failure", "error"):
            failing.append(context)
        elif state == "pending":
            pending = True
    for name, status, conclusion in check_runs:
        seen = True
        if status in UNFINISHED_STATUSES:
            pending = True
        elif status == "completed" and conclusion in FAILED_CONCLUSIONS:
            failing.append(name)
    failing = list(dict.fromkeys(failing))  # unique, in order
    if failing:
        return "failure", failing
    if pending:
        return "pending", []
    return ("success" if seen else "none"), []
