"""`github.comment`: post one comment on an issue or pull request.

Idempotency: the posted body ends with a hidden marker line carrying the action's
idempotency key (`<!-- oxymus-action: KEY -->`). Before posting, every page of the
issue's comments is read; a comment with that marker line means an earlier attempt
got through (its answer lost to a crash or a timeout), and its URL is the receipt.

The client is the read side's (`api.make_github`): same base URL, token (GH_TOKEN or
GITHUB_TOKEN, else `[github] password_command`, else keyring `github`) and timeout, and no PyGithub retry or rate-limit
sleep: the executor owns backoff, from the `retry_after` a `Transient` carries.

Compensation (a later step of a flow failed) finds the comment by the same marker
and deletes it, unless its text is no longer what Oxymus posted.

Imported by `GitHubConnector.actions()` at config load: PyGithub is imported only
when a comment is posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oxymus.actions.effects import (
    ActionContext, ActionInvalid, ActionSpec, EffectError, Permanent, Prepared, Preview, Receipt, Transient,
)
from oxymus.connectors.github.config import GitHubConfig
from oxymus.connectors.github.source import SECRET_NAME, no_token, read_token

if TYPE_CHECKING:
    from github import Github
    from github.GithubException import GithubException

REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"
MAX_BODY = 65_000  # GitHub's limit is 65,536 characters: room left for the marker line
_SAFE_KEY = re.compile(r"[A-Za-z0-9._:-]{1,200}")


class CommentPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo: str = Field(pattern=REPO_PATTERN, description="owner/name", examples=["octo/app"])
    number: int = Field(gt=0, description="the issue or pull request number")
    body: str = Field(min_length=1, max_length=MAX_BODY, description="the comment, in GitHub Markdown")

    @field_validator("repo")
    @classmethod
    def _not_a_dot_path(cls, value: str) -> str:
        # "." and ".." would walk the API path out of /repos/owner/
        if value.split("/", 1)[1] in (".", ".."):
            raise ValueError("a repository cannot be named . or ..")
        return value


class Comment(ActionSpec):
    kind: ClassVar[str] = "github.comment"
    Payload: ClassVar[type[BaseModel]] = CommentPayload
    scope = "external"
    risk = "medium"
    description = "post a comment on a GitHub issue or pull request"

    config: GitHubConfig

    async def prepare(self, payload: CommentPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        if not payload.body.strip():
            raise ActionInvalid("payload.body: the comment is blank")
        return Prepared(payload=payload.model_dump(mode="json"), preview=self.preview(payload))

    def preview(self, payload: CommentPayload) -> Preview:  # type: ignore[override]
        return Preview(summary=f"comment on {_ref(payload)}", format="message", body=payload.body)

    async def execute(self, payload: CommentPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        if not ctx.idempotency_key:
            raise Permanent("github.comment needs an idempotency key for the comment's marker")
        config, token = await self._account(ctx)
        url, created = await asyncio.to_thread(
            _post_once, config.api_url, token, ctx.timeout, payload, marker(ctx.idempotency_key), ctx.now()
        )
        data = {"repo": payload.repo, "number": payload.number}
        if not created:
            return Receipt(summary=f"already commented on {_ref(payload)}", ref=url, data=data, already_done=True)
        return Receipt(summary=f"commented on {_ref(payload)}", ref=url, data=data)

    compensable = True

    async def compensate(self, payload: CommentPayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """Delete the comment that carries the effect's marker, unless someone edited it since."""
        if not ctx.compensates_key:
            raise Permanent("github.comment: the key the comment was posted with is needed to find it")
        config, token = await self._account(ctx)
        url = await asyncio.to_thread(
            _delete_once, config.api_url, token, ctx.timeout, payload, marker(ctx.compensates_key), ctx.now()
        )
        data = {"repo": payload.repo, "number": payload.number}
        if url is None:
            return Receipt(summary=f"the comment on {_ref(payload)} was already gone", ref=receipt.ref, data=data, already_done=True)
        return Receipt(summary=f"deleted the comment on {_ref(payload)}", ref=url, data=data)


    async def _account(self, ctx: ActionContext) -> tuple[GitHubConfig, str]:
        config = self.config or GitHubConfig()
        token = await asyncio.to_thread(read_token, ctx, config)  # a password_command may run
        if not token:
            raise Permanent(no_token(config))
        return config, token


def _ref(payload: CommentPayload) -> str:
    return f"{payload.repo}#{payload.number}"


def marker(idempotency_key: str) -> str:
    """The hidden line that names the action; a key that could break out of the HTML comment is hashed."""
    safe = _SAFE_KEY.fullmatch(idempotency_key) and "--" not in idempotency_key
    shown = idempotency_key if safe else "sha256-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<!-- oxymus-action: {shown} -->"


def has_marker(body: str | None, line: str) -> bool:
    # A whole line only: a quote of our comment ("> <!-- … -->") is someone else's.
    return any(candidate.strip() == line for candidate in (body or "").splitlines())


def with_marker(body: str, line: str) -> str:
    return f"{body.rstrip()}\n\n{line}"


# ---------------------------------------------------------------- the wire (in a worker thread)


@contextlib.contextmanager
def _client(base_url: str, token: str, timeout: float, payload: CommentPayload, now: dt.datetime,
            doing: str = "comment on") -> Iterator[Github]:
    """A PyGithub client; GitHub's and the network's failures inside the block become Transient or Permanent."""
    import requests
    from github.GithubException import GithubException

    from oxymus.connectors.github.api import make_github, network_reason, whole_seconds

    github = make_github(base_url, token, timeout)
    try:
        yield github
    except GithubException as e:
        raise _github_error(e, payload, now, doing) from None
    except requests.Timeout:
        raise Transient(f"GitHub did not answer within {whole_seconds(timeout)} s: {doing} {_ref(payload)}") from None
    except requests.ConnectionError as e:
        raise Transient(f"cannot reach GitHub at {base_url}: {network_reason(e)}") from None
    except (requests.RequestException, OSError) as e:
        raise Transient(f"GitHub request failed: {doing} {_ref(payload)}: {e}") from None
    finally:
        github.close()


def _post_once(base_url: str, token: str, timeout: float, payload: CommentPayload, line: str, now: dt.datetime) -> tuple[str, bool]:
    """(the comment's html_url, whether it was posted now); raises Transient or Permanent."""
    with _client(base_url, token, timeout, payload, now) as github:
        issue = github.get_repo(payload.repo).get_issue(payload.number)  # lazy: no request yet
        for comment in issue.get_comments():  # every page
            if has_marker(comment.body, line):
                return comment.html_url, False
        return issue.create_comment(with_marker(payload.body, line)).html_url, True


def _delete_once(base_url: str, token: str, timeout: float, payload: CommentPayload, line: str, now: dt.datetime) -> str | None:
    """The html_url of the comment deleted now, or None when no comment carries the marker any more.

    A comment whose text is no longer what Oxymus posted (someone edited it) is
    left alone: Permanent, naming it.
    """
    from github.GithubException import UnknownObjectException

    with _client(base_url, token, timeout, payload, now, doing="delete the comment on") as github:
        issue = github.get_repo(payload.repo).get_issue(payload.number)
        for comment in issue.get_comments():
            if not has_marker(comment.body, line):
                continue
            if _normal(comment.body) != _normal(with_marker(payload.body, line)):
                raise Permanent(f"the comment {comment.html_url} on {_ref(payload)} was edited since Oxymus posted it; "
                                "delete it by hand if it should go")
            try:
                comment.delete()
            except UnknownObjectException:  # deleted in between: gone all the same
                return None
            return comment.html_url
        return None


def _normal(body: str | None) -> str:
    return (body or "").replace("\r\n", "\n").rstrip()


def _github_error(e: GithubException, payload: CommentPayload, now: dt.datetime, doing: str = "comment on") -> EffectError:
    from oxymus.connectors.github.api import is_rate_limited, retry_after_from, status_phrase

    status, headers = e.status, {k.lower(): v for k, v in (e.headers or {}).items()}
    message = _message_of(e.data)
    said = f"{status} {message or status_phrase(status)}"
    if is_rate_limited(status, headers, message):
        retry_after, when = retry_after_from(headers, now)
        return Transient(f"GitHub rate limit exceeded ({said}); {when}", retry_after=retry_after)
    if status >= 500:
        return Transient(f"GitHub answered {said}: {doing} {_ref(payload)}")
    posting = doing == "comment on"
    if status in (401, 403):
        return Permanent(f"GitHub refused the token ({said}): run `oxymus secret set {SECRET_NAME}` with a token "
                         f"that may {'comment on' if posting else 'delete comments on'} {payload.repo}")
    if status == 404:
        return Permanent(f"no issue or PR {_ref(payload)} (or the token cannot see it)")
    if status == 422:
        refused = "the comment on" if posting else f"to {doing}"
        return Permanent(f"GitHub refused {refused} {_ref(payload)}: {_validation(e.data) or said}")
    return Permanent(f"GitHub answered {said}: {doing} {_ref(payload)}")


def _message_of(data: Any) -> str:
    """GitHub's `message`, or the start of a body that is not GitHub's JSON (PyGithub wraps it as {"data": …})."""
    if not isinstance(data, dict):
        return ""
    if data.get("message"):
        return str(data["message"])
    text = " ".join(str(data.get("data") or "").split())
    return text[:120] if text and not text.startswith("<") else ""


def _validation(data: Any) -> str:
    """`Validation Failed: body is too long (maximum is 65536 characters)`, from a 422's `errors`."""
    if not isinstance(data, dict):
        return ""
    details = []
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            details.append(str(error.get("message") or " ".join(str(error.get(k, "")) for k in ("field", "code")).strip()))
        else:
            details.append(str(error))
    message = str(data.get("message") or "")
    return f"{message}: {'; '.join(d for d in details if d)}" if details else message
