"""The GitHub REST wire: conditional GETs through PyGithub's requester, rate limits, errors.

This module knows HTTP and GitHub's JSON; it knows nothing of state items. It is
imported only inside a poll (it imports PyGithub, ~250 ms).

Conditional requests: every GET remembers the response's ETag and parsed body,
keyed by the full URL with its query; the next GET of the same URL sends
`If-None-Match`, and a `304 Not Modified` (which GitHub does not count against the
rate limit) returns the remembered body. Entries not asked for during a whole poll
are dropped at its end (`end_poll`), so the cache holds one poll's worth.

Errors become the two classes the coordinator understands: `NeedsHuman` for a
refused token, `SourceUnavailable` (with `retry_after` when GitHub says when) for
everything transient or unexpected. `RequestFailed` (a `SourceUnavailable`) marks a
plain 4xx on one URL, so a caller can confine it to one item.
"""

from __future__ import annotations

import datetime as dt
import http
import json
import math
import urllib.parse
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import Auth, Github
from pydantic import BaseModel, ConfigDict, ValidationError

from oxymus.sources.contract import NeedsHuman, SourceUnavailable

MAX_RETRY_AFTER = 3600.0  # never wait longer than this on GitHub's say-so
DEFAULT_RETRY_AFTER = 60.0  # rate limited, and GitHub named no time
CHECK_RUN_PAGES = 10  # at most 1000 check runs on one commit

M = TypeVar("M", bound=BaseModel)


# ---------------------------------------------------------------- wire models (only the fields we read)


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireUser(Wire):
    login: str


class WireLabel(Wire):
    name: str


class WirePullRef(Wire):
    url: str


class SearchItem(Wire):
    """One result of /search/issues (an issue, or a PR when `pull_request` is set)."""

    html_url: str
    number: int
    title: str
    user: WireUser | None = None
    repository_url: str
    labels: list[WireLabel] = []
    updated_at: dt.datetime
    draft: bool | None = None
    pull_request: WirePullRef | None = None

    @property
    def repo(self) -> str:
        """The repository as owner/name, from `repository_url` (…/repos/owner/name)."""
        return self.repository_url.rstrip("/").rsplit("/repos/", 1)[-1]


class SearchPage(Wire):
    total_count: int
    incomplete_results: bool = False
    items: list[dict[str, Any]]  # validated one by one, so one bad item is skipped, not the page


class WireHead(Wire):
    sha: str


class WirePull(Wire):
    head: WireHead
    draft: bool = False


class WireStatus(Wire):
    context: str
    state: str


class CombinedStatus(Wire):
    state: str
    total_count: int = 0
    statuses: list[WireStatus]


class WireCheckRun(Wire):
    name: str
    status: str
    conclusion: str | None = None


class CheckRunsPage(Wire):
    total_count: int
    check_runs: list[WireCheckRun]


# ---------------------------------------------------------------- errors


class RequestFailed(SourceUnavailable):
    """GitHub answered a plain 4xx (not 401, not a rate limit) for one URL."""

    def __init__(self, message: str, status: int, url: str):
        super().__init__(message)
        self.status = status
        self.url = url


def malformed(url: str, detail: str) -> SourceUnavailable:
    return SourceUnavailable(f"GitHub answered with a malformed body from {url}: {detail}")


def validation_summary(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def _clock(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%H:%M:%S UTC")


# ---------------------------------------------------------------- the client


def whole_seconds(timeout: float) -> int:
    """PyGithub asserts an int timeout (per connect and per read): whole seconds, rounded up."""
    return max(1, math.ceil(timeout))


def make_github(base_url: str, token: str, timeout: float) -> Github:
    """A PyGithub client that never waits on its own; the poll and the action both use it."""
    # retry=None: PyGithub's default retry sleeps until the rate limit resets (up to
    # an hour) inside a poll or an action; the coordinator and the executor own
    # backoff. No request spacing either. lazy: an object (a repo, an issue) costs no
    # request until one of its values is read.
    return Github(base_url=base_url.rstrip("/"), auth=Auth.Token(token), retry=None, timeout=whole_seconds(timeout),
                  seconds_between_requests=None, seconds_between_writes=None, per_page=100, lazy=True)


@dataclass
class RateState:
    """One rate-limit bucket as of the last response from it (`reset`: epoch seconds)."""

    limit: int
    remaining: int
    reset: float


@dataclass
class _Cached:
    etag: str
    body: Any


class GitHubApi:
    """One PyGithub client and its ETag cache; used from one thread at a time."""

    def __init__(self, *, base_url: str, token: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.timeout = whole_seconds(timeout)
        self.github = make_github(self.base_url, token, timeout)
        self.rate: dict[str, RateState] = {}
        self._cache: dict[str, _Cached] = {}
        self._used: set[str] = set()
        self.requests = 0  # sent since creation
        self.not_modified = 0  # of which answered 304

    def close(self) -> None:
        self.github.close()

    def url(self, path_or_url: str, params: dict[str, Any] | None = None) -> str:
        """The absolute URL, with its query, as shown in messages and used as the cache key."""
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        return f"{url}?{urllib.parse.urlencode(params)}" if params else url

    def get(self, path_or_url: str, model: type[M], params: dict[str, Any] | None = None, *, now: dt.datetime) -> M:
        """GET and validate against `model`, conditionally when this URL was fetched before."""
        url = self.url(path_or_url, params)
        cached = self._cache.get(url)
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if cached is not None:
            headers["If-None-Match"] = cached.etag
        try:
            status, response_headers, body = self.github.requester.requestJson("GET", path_or_url, parameters=params, headers=headers)
        except requests.Timeout:
            raise SourceUnavailable(f"GitHub did not answer within {self.timeout:g} s: GET {url}") from None
        except requests.ConnectionError as e:
            raise SourceUnavailable(f"cannot reach GitHub: GET {url}: {network_reason(e)}") from None
        except (requests.RequestException, OSError, RuntimeError) as e:  # RuntimeError: PyGithub refusing a redirect
            raise SourceUnavailable(f"GitHub request failed: GET {url}: {e}") from None
        self.requests += 1
        self._note_rate(response_headers)
        self._used.add(url)
        if status == 304 and cached is not None:
            self.not_modified += 1
            return cached.body
        if status != 200:
            self._raise_for(status, response_headers, body, url, now)
        try:
            parsed = model.model_validate(json.loads(body))
        except ValueError as e:  # json.JSONDecodeError and pydantic's ValidationError are ValueErrors
            detail = validation_summary(e) if isinstance(e, ValidationError) else f"not JSON ({e})"
            raise malformed(url, detail) from None
        etag = response_headers.get("etag")
        if etag:
            self._cache[url] = _Cached(etag, parsed)
        else:
            self._cache.pop(url, None)
        return parsed

    def end_poll(self) -> None:
        """Forget cached bodies that this poll did not ask for (closed PRs, old head commits)."""
        self._cache = {url: c for url, c in self._cache.items() if url in self._used}
        self._used = set()

    # -- rate limits

    def _note_rate(self, headers: dict[str, Any]) -> None:
        try:
            resource = headers.get("x-ratelimit-resource", "core")
            self.rate[resource] = RateState(int(float(headers["x-ratelimit-limit"])), int(float(headers["x-ratelimit-remaining"])),
                                            float(headers["x-ratelimit-reset"]))
        except (KeyError, ValueError):
            pass  # no (or odd) rate headers: GitHub Enterprise with rate limiting off

    def check_budget(self, resource: str, needed: int, now: dt.datetime) -> None:
        """Raise SourceUnavailable until the reset if `resource` has fewer than `needed` requests left.

        Known from the last response only, so the first poll always goes ahead.
        """
        rate = self.rate.get(resource)
        if rate is None or rate.remaining >= needed:
            return
        wait = rate.reset - now.timestamp()
        if wait <= 0:
            return  # the window has reset since
        raise SourceUnavailable(
            f"GitHub {resource} rate limit nearly used up ({rate.remaining} of {rate.limit} requests left); "
            f"pausing until it resets at {_clock(rate.reset)}", retry_after=min(wait, MAX_RETRY_AFTER))

    # -- errors

    def _raise_for(self, status: int, headers: dict[str, Any], body: str, url: str, now: dt.datetime) -> None:
        message = error_message(body)
        phrase = status_phrase(status)
        if status == 401:
            raise NeedsHuman(f"GitHub refused the token (401 {message or phrase})")
        if is_rate_limited(status, headers, message):
            retry_after, when = retry_after_from(headers, now)
            raise SourceUnavailable(f"GitHub rate limit exceeded ({status} {message or phrase}); {when}: GET {url}",
                                    retry_after=retry_after)
        if status >= 500:
            raise SourceUnavailable(f"GitHub answered {status} {phrase}: GET {url}")
        if 400 <= status < 500:
            raise RequestFailed(f"GitHub answered {status} {message or phrase}: GET {url}", status, url)
        raise SourceUnavailable(f"GitHub answered an unexpected {status} {phrase}: GET {url}")


def is_rate_limited(status: int, headers: dict[str, Any], message: str) -> bool:
    """A 429, or a 403 that is GitHub's primary (quota used up) or secondary rate limit."""
    return status == 429 or status == 403 and (headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message.lower())


def retry_after_from(headers: dict[str, Any], now: dt.datetime) -> tuple[float, str]:
    """Seconds to wait, from Retry-After or else X-RateLimit-Reset, bounded; and words for it."""
    try:
        seconds = float(headers["retry-after"])
        return max(0.0, min(seconds, MAX_RETRY_AFTER)), f"retry after {seconds:g} s"
    except (KeyError, ValueError):
        pass
    try:
        reset = float(headers["x-ratelimit-reset"])
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER, f"retry in {DEFAULT_RETRY_AFTER:g} s"
    return max(1.0, min(reset - now.timestamp(), MAX_RETRY_AFTER)), f"resets at {_clock(reset)}"


def error_message(body: str) -> str:
    """GitHub's `message` from an error body, or a short excerpt of a body that is not JSON."""
    try:
        data = json.loads(body)
    except ValueError:
        text = " ".join(body.split())
        return text[:120] if text and not text.startswith("<") else ""
    return str(data.get("message") or "") if isinstance(data, dict) else ""


def status_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "(unknown status)"


def network_reason(error: BaseException) -> str:
    """The innermost cause of a requests error ("connection refused"), not a connection pool's repr."""
    inner = error
    for _ in range(8):
        if isinstance(inner, ConnectionRefusedError):
            return "connection refused"
        wrapped = inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else None
        nxt = getattr(inner, "reason", None) or wrapped or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException):
            break
        inner = nxt
    return str(inner) or type(inner).__name__
