"""A fake GitHub REST API on loopback, for tests and the demo.

It speaks GitHub's wire format closely enough for the real PyGithub client:
realistic JSON shapes, its own host written into every absolute URL it returns,
`ETag` on every GET and `304 Not Modified` to a matching `If-None-Match` (which,
as on GitHub, costs no quota), `X-RateLimit-*` headers from two buckets (`core`
and `search`), and a 403 once a bucket is empty.

Everything it serves comes from a `GitHubState` that tests mutate directly;
every request is recorded there, and faults can be queued for the next requests.

    from github_server import serve

    with serve() as gh:                         # a running FakeGitHub
        pr = gh.state.add_pull("octo/app", "Fix the frobnicator")   # by gh.state.me
        gh.state.add_check_run(pr.head_sha, "tests", conclusion="failure")
        gh.state.fail_next("bad_gateway")        # the next request answers 502
        mark = gh.state.mark()
        ...  # point a client at gh.url with the token gh.state.token
        assert all(r.status == 304 for r in gh.state.requests_since(mark))

In a test module, `from github_server import github_server  # noqa: F401` brings in
the pytest fixture of the same name (a fresh server per test). For a frozen clock,
`serve(GitHubState(clock=lambda: FROZEN.timestamp()))`: rate-limit windows then
reset by that clock, so `retry_after` comes out exact.

Endpoints (GET unless said): /user, /rate_limit, /search/issues (the qualifiers
`is:open|closed|pr|issue`, `author:`, `assignee:`, `review-requested:` (each with
`@me` or a login), `repo:`, `label:`, `archived:`; bare words match titles; any
other qualifier is refused with 422 so a test never silently gets a wrong answer),
/repos/{o}/{r}, /repos/{o}/{r}/issues/{n}, /repos/{o}/{r}/pulls/{n},
/repos/{o}/{r}/commits/{ref}/status, /repos/{o}/{r}/commits/{ref}/check-runs,
/repos/{o}/{r}/issues/{n}/comments (GET lists, oldest first, in pages of `per_page`
(default 30, at most 100) with a `Link` header; POST adds; 201 with the comment),
DELETE /repos/{o}/{r}/issues/comments/{id} (204; 404 if there is no such comment, 403
if someone else wrote it).
Tests seed comments with `state.add_comment(...)` and count them with
`state.comments_on(repo, number)`.

`serve(prefix="/api/v3")` mounts the API under a path, as GitHub Enterprise does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Literal

import pytest

from loopback import LoopbackHandler

DOCS = "https://docs.github.com/rest"
EPOCH = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.timezone.utc)  # the fake's first timestamp

FaultKind = Literal["unauthorized", "rate_limited", "too_many_requests", "bad_gateway", "malformed", "slow", "error"]


# ---------------------------------------------------------------- state


@dataclass
class FakeIssue:
    """An issue. Pull requests are issues too (they share the number space), see FakePull."""

    repo: str  # "owner/name"
    number: int
    title: str
    author: str
    state: Literal["open", "closed"] = "open"
    body: str = ""
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    comments: int = 0
    created_at: dt.datetime = EPOCH
    updated_at: dt.datetime = EPOCH
    id: int = 0

    @property
    def is_pull(self) -> bool:
        return False


@dataclass
class FakePull(FakeIssue):
    """A pull request: an issue with a head commit, a draft flag and requested reviewers."""

    head_sha: str = ""
    head_ref: str = "feature"
    base_ref: str = "main"
    draft: bool = False
    requested_reviewers: list[str] = field(default_factory=list)

    @property
    def is_pull(self) -> bool:
        return True


@dataclass
class FakeStatus:
    """One commit status (the older Statuses API): `state` is error, failure, pending or success."""

    context: str
    state: Literal["error", "failure", "pending", "success"]
    description: str = ""
    id: int = 0
    created_at: dt.datetime = EPOCH


@dataclass
class FakeCheckRun:
    """One check run (the Checks API). `conclusion` is None until `status` is completed."""

    name: str
    status: Literal["queued", "in_progress", "completed", "waiting", "requested", "pending"] = "completed"
    conclusion: str | None = "success"
    id: int = 0
    started_at: dt.datetime = EPOCH


@dataclass
class FakeComment:
    repo: str
    number: int
    body: str
    author: str
    id: int = 0
    created_at: dt.datetime = EPOCH


@dataclass
class RateBucket:
    """One rate-limit bucket (`core`: 5000 an hour; `search`: 30 a minute). `reset` is epoch seconds."""

    resource: str
    limit: int
    remaining: int
    reset: int
    window: int = 3600

    @property
    def used(self) -> int:
        return self.limit - self.remaining


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the mount prefix or the query
    query: dict[str, str]
    status: int
    if_none_match: str | None
    body: Any = None  # the parsed JSON body of a POST
    user_agent: str | None = None

    @property
    def conditional(self) -> bool:
        return self.if_none_match is not None


@dataclass
class Fault:
    kind: FaultKind
    path: str | None = None  # only requests whose path contains this
    method: str | None = None  # only requests with this method (GET, POST)
    retry_after: int | None = None  # too_many_requests: the Retry-After header
    delay: float = 0.0  # slow: seconds before answering
    body: bytes | None = None  # malformed: the bytes sent (default: truncated JSON)
    status: int = 500  # error: the status sent
    message: str = ""  # error: GitHub's `message`


class GitHubState:
    """Everything the fake serves, mutated by tests, guarded by one lock.

    `me` is the login the token belongs to (what `@me` means); `token` is the only
    token accepted. Timestamps come from a fake clock that moves one minute on every
    change, so `updated_at` orders items deterministically. `clock` (epoch seconds)
    decides when a rate-limit bucket resets.
    """

    def __init__(self, *, me: str = "octocat", token: str = "ghp_fake_token_for_tests", clock: Callable[[], float] = time.time):
        self.lock = threading.RLock()
        self.me = me
        self.token = token
        self.clock = clock
        self.items: dict[tuple[str, int], FakeIssue] = {}
        self.statuses: dict[str, list[FakeStatus]] = {}
        self.check_runs: dict[str, list[FakeCheckRun]] = {}
        self.comments: list[FakeComment] = []
        self.archived_repos: set[str] = set()
        now = int(clock())
        self.core = RateBucket("core", 5000, 5000, now + 3600, 3600)
        self.search = RateBucket("search", 30, 30, now + 60, 60)
        self.requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._ids = itertools.count(1001)
        self._minutes = itertools.count(1)
        self._user_ids: dict[str, int] = {}

    # -- building state

    def tick(self) -> dt.datetime:
        """The fake clock's next timestamp (one minute later than the last)."""
        return EPOCH + dt.timedelta(minutes=next(self._minutes))

    def next_id(self) -> int:
        return next(self._ids)

    def user_id(self, login: str) -> int:
        with self.lock:
            return self._user_ids.setdefault(login, 583231 + len(self._user_ids))

    def _number(self, repo: str) -> int:
        return 1 + max((n for (r, n) in self.items if r == repo), default=0)

    def add_issue(self, repo: str, title: str, *, author: str | None = None, assignees: list[str] | tuple = (),
                  labels: list[str] | tuple = (), body: str = "", number: int | None = None) -> FakeIssue:
        with self.lock:
            now = self.tick()
            issue = FakeIssue(repo, number or self._number(repo), title, author or self.me, body=body, labels=list(labels),
                              assignees=list(assignees), created_at=now, updated_at=now, id=self.next_id())
            self.items[(repo, issue.number)] = issue
            return issue

    def add_pull(self, repo: str, title: str, *, author: str | None = None, draft: bool = False, head_sha: str | None = None,
                 requested_reviewers: list[str] | tuple = (), assignees: list[str] | tuple = (), labels: list[str] | tuple = (),
                 head_ref: str | None = None, body: str = "", number: int | None = None) -> FakePull:
        with self.lock:
            now = self.tick()
            n = number or self._number(repo)
            pull = FakePull(repo, n, title, author or self.me, body=body, labels=list(labels), assignees=list(assignees),
                            created_at=now, updated_at=now, id=self.next_id(), head_sha=head_sha or _sha(f"{repo}#{n}@{now}"),
                            head_ref=head_ref or f"branch-{n}", draft=draft, requested_reviewers=list(requested_reviewers))
            self.items[(repo, n)] = pull
            return pull

    def push(self, pull: FakePull, sha: str | None = None) -> str:
        """A new head commit on the pull request (bumps `updated_at`, as a push does)."""
        with self.lock:
            pull.updated_at = self.tick()
            pull.head_sha = sha or _sha(f"{pull.repo}#{pull.number}@{pull.updated_at}")
            return pull.head_sha

    def close(self, item: FakeIssue) -> None:
        with self.lock:
            item.state = "closed"
            item.updated_at = self.tick()

    def touch(self, item: FakeIssue) -> None:
        with self.lock:
            item.updated_at = self.tick()

    def add_comment(self, item: FakeIssue, body: str, *, author: str | None = None) -> FakeComment:
        """A comment on the issue or pull request, as if posted now (bumps `updated_at`, as GitHub does)."""
        with self.lock:
            now = self.tick()
            comment = FakeComment(item.repo, item.number, body, author or self.me, self.next_id(), now)
            self.comments.append(comment)
            item.comments += 1
            item.updated_at = now
            return comment

    def delete_comment(self, repo: str, comment_id: int) -> FakeComment | None:
        """Remove the comment (as its author deleting it does); None if repo has no such comment."""
        with self.lock:
            comment = next((c for c in self.comments if c.repo == repo and c.id == comment_id), None)
            if comment is not None:
                self.comments.remove(comment)
                item = self.items.get((repo, comment.number))
                if item is not None:
                    item.comments -= 1
                    item.updated_at = self.tick()
            return comment

    def comments_on(self, repo: str, number: int) -> list[FakeComment]:
        """The comments on repo#number, oldest first."""
        with self.lock:
            return [c for c in self.comments if (c.repo, c.number) == (repo, number)]

    def set_status(self, sha: str, context: str, state: str, description: str = "") -> FakeStatus:
        """Set the commit status for `context` (replacing an earlier one, as the combined view does)."""
        with self.lock:
            statuses = [s for s in self.statuses.get(sha, []) if s.context != context]
            status = FakeStatus(context, state, description, self.next_id(), self.tick())  # type: ignore[arg-type]
            self.statuses[sha] = [*statuses, status]
            return status

    def add_check_run(self, sha: str, name: str, *, status: str = "completed", conclusion: str | None = "success") -> FakeCheckRun:
        """Add a check run on `sha` (replacing an earlier one of the same name: GitHub's `filter=latest`)."""
        with self.lock:
            runs = [r for r in self.check_runs.get(sha, []) if r.name != name]
            run = FakeCheckRun(name, status, conclusion if status == "completed" else None, self.next_id(), self.tick())  # type: ignore[arg-type]
            self.check_runs[sha] = [*runs, run]
            return run

    # -- faults and the request log

    def fail_next(self, kind: FaultKind, times: int = 1, *, path: str | None = None, retry_after: int | None = None,
                  delay: float = 0.0, body: bytes | None = None, status: int = 500, message: str = "",
                  method: str | None = None) -> None:
        """Make the next `times` requests (whose path contains `path` and whose method is `method`, if given) fail this way.

        unauthorized: 401 Bad credentials. rate_limited: 403 with X-RateLimit-Remaining: 0
        (the bucket itself is left alone; set `state.core.remaining = 0` for a real
        exhaustion). too_many_requests: 429 with Retry-After (default 60). bad_gateway:
        502 with an HTML body. malformed: 200 with a body that is not JSON (or `body`).
        slow: answer normally after `delay` seconds. error: `status` with GitHub's error
        body saying `message` (a 404, or a 403 for an SSO-protected org). Faults cost no quota.
        """
        if kind not in FaultKind.__args__:  # type: ignore[attr-defined]
            raise ValueError(f"unknown fault {kind!r}; one of {FaultKind.__args__}")  # type: ignore[attr-defined]
        with self.lock:
            for _ in range(times):
                self._faults.append(Fault(kind, path, method, retry_after, delay, body, status, message))

    def take_fault(self, path: str, method: str | None = None) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if (fault.path is None or fault.path in path) and (fault.method is None or fault.method == method):
                    self._faults.remove(fault)
                    return fault
            return None

    def mark(self) -> int:
        """A cursor into the request log, for `requests_since`."""
        with self.lock:
            return len(self.requests)

    def requests_since(self, mark: int = 0) -> list[RecordedRequest]:
        with self.lock:
            return list(self.requests[mark:])

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def bucket_for(self, path: str) -> RateBucket:
        bucket = self.search if path.startswith("/search/") else self.core
        now = self.clock()
        if now >= bucket.reset:  # a new window
            bucket.remaining = bucket.limit
            bucket.reset = int(now) + bucket.window
        return bucket


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def _ts(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- JSON shapes


class Shapes:
    """GitHub's JSON for the fake's state; `api` is the API root URL, `web` the HTML root."""

    def __init__(self, state: GitHubState, api: str, web: str):
        self.state, self.api, self.web = state, api, web

    def user(self, login: str) -> dict:
        api = f"{self.api}/users/{login}"
        uid = self.state.user_id(login)
        return {
            "login": login, "id": uid, "node_id": f"MDQ6VXNlcj{uid}", "avatar_url": f"{self.web}/avatars/u/{uid}?v=4",
            "gravatar_id": "", "url": api, "html_url": f"{self.web}/{login}", "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}", "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs", "repos_url": f"{api}/repos", "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events", "type": "User", "user_view_type": "public", "site_admin": False,
        }

    def me(self) -> dict:
        return {
            **self.user(self.state.me), "name": "The Octocat", "company": None, "blog": "", "location": None, "email": None,
            "hireable": None, "bio": None, "twitter_username": None, "public_repos": 8, "public_gists": 0, "followers": 0,
            "following": 0, "created_at": "2011-01-25T18:44:36Z", "updated_at": _ts(EPOCH),
        }

    def repo(self, full_name: str) -> dict:
        owner, name = full_name.split("/", 1)
        api = f"{self.api}/repos/{full_name}"
        rid = int(hashlib.sha1(full_name.encode()).hexdigest()[:8], 16)
        return {
            "id": rid, "node_id": f"R_kgDO{rid}", "name": name, "full_name": full_name, "private": False, "owner": self.user(owner),
            "html_url": f"{self.web}/{full_name}", "description": None, "fork": False, "url": api,
            "pulls_url": f"{api}/pulls{{/number}}", "issues_url": f"{api}/issues{{/number}}",
            "statuses_url": f"{api}/statuses/{{sha}}", "commits_url": f"{api}/commits{{/sha}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}", "labels_url": f"{api}/labels{{/name}}",
            "created_at": _ts(EPOCH), "updated_at": _ts(EPOCH), "pushed_at": _ts(EPOCH),
            "git_url": f"git://{self.web.split('://', 1)[1]}/{full_name}.git", "clone_url": f"{self.web}/{full_name}.git",
            "homepage": None, "size": 108, "stargazers_count": 0, "watchers_count": 0, "language": "Python",
            "has_issues": True, "has_projects": True, "has_wiki": False, "forks_count": 0,
            "archived": full_name in self.state.archived_repos, "disabled": False, "open_issues_count": sum(
                1 for i in self.state.items.values() if i.repo == full_name and i.state == "open"),
            "license": None, "allow_forking": True, "is_template": False, "topics": [], "visibility": "public",
            "forks": 0, "open_issues": 0, "watchers": 0, "default_branch": "main",
        }

    def label(self, repo: str, name: str) -> dict:
        lid = int(hashlib.sha1(f"{repo}:{name}".encode()).hexdigest()[:8], 16)
        return {"id": lid, "node_id": f"LA_kwDO{lid}", "url": f"{self.api}/repos/{repo}/labels/{urllib.parse.quote(name)}",
                "name": name, "color": "d73a4a", "default": name in ("bug", "enhancement", "documentation"), "description": None}

    def _issue_urls(self, item: FakeIssue) -> dict:
        api = f"{self.api}/repos/{item.repo}/issues/{item.number}"
        kind = "pull" if item.is_pull else "issues"
        return {
            "url": api, "repository_url": f"{self.api}/repos/{item.repo}", "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments", "events_url": f"{api}/events", "html_url": f"{self.web}/{item.repo}/{kind}/{item.number}",
            "timeline_url": f"{api}/timeline",
        }

    def issue(self, item: FakeIssue, *, score: float | None = None) -> dict:
        """An issue as /repos/{o}/{r}/issues/{n} and search results give it (PRs get a `pull_request` object)."""
        out = {
            **self._issue_urls(item), "id": item.id, "node_id": f"I_kwDO{item.id}", "number": item.number, "title": item.title,
            "user": self.user(item.author), "labels": [self.label(item.repo, name) for name in item.labels], "state": item.state,
            "locked": False, "assignee": self.user(item.assignees[0]) if item.assignees else None,
            "assignees": [self.user(a) for a in item.assignees], "milestone": None, "comments": item.comments,
            "created_at": _ts(item.created_at), "updated_at": _ts(item.updated_at),
            "closed_at": _ts(item.updated_at) if item.state == "closed" else None, "author_association": "OWNER",
            "type": None, "active_lock_reason": None, "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
            "body": item.body or None, "reactions": self.reactions(f"{self._issue_urls(item)['url']}/reactions"),
            "performed_via_github_app": None, "state_reason": None if item.state == "open" else "completed",
        }
        if isinstance(item, FakePull):
            out["draft"] = item.draft
            pulls = f"{self.api}/repos/{item.repo}/pulls/{item.number}"
            html = f"{self.web}/{item.repo}/pull/{item.number}"
            out["pull_request"] = {"url": pulls, "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "merged_at": None}
        if score is not None:
            out["score"] = score
        return out

    def reactions(self, url: str) -> dict:
        return {"url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}

    def pull(self, pull: FakePull) -> dict:
        api = f"{self.api}/repos/{pull.repo}"
        url = f"{api}/pulls/{pull.number}"
        html = f"{self.web}/{pull.repo}/pull/{pull.number}"
        owner = pull.repo.split("/", 1)[0]

        def branch(ref: str, sha: str) -> dict:
            return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": self.user(owner), "repo": self.repo(pull.repo)}

        return {
            "url": url, "id": pull.id, "node_id": f"PR_kwDO{pull.id}", "html_url": html, "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch", "issue_url": f"{api}/issues/{pull.number}", "number": pull.number, "state": pull.state,
            "locked": False, "title": pull.title, "user": self.user(pull.author), "body": pull.body or None,
            "created_at": _ts(pull.created_at), "updated_at": _ts(pull.updated_at),
            "closed_at": _ts(pull.updated_at) if pull.state == "closed" else None, "merged_at": None,
            "merge_commit_sha": None, "assignee": self.user(pull.assignees[0]) if pull.assignees else None,
            "assignees": [self.user(a) for a in pull.assignees],
            "requested_reviewers": [self.user(r) for r in pull.requested_reviewers], "requested_teams": [],
            "labels": [self.label(pull.repo, name) for name in pull.labels], "milestone": None, "draft": pull.draft,
            "commits_url": f"{url}/commits", "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}", "comments_url": f"{api}/issues/{pull.number}/comments",
            "statuses_url": f"{api}/statuses/{pull.head_sha}",
            "head": branch(pull.head_ref, pull.head_sha), "base": branch(pull.base_ref, _sha(f"{pull.repo}@{pull.base_ref}")),
            "_links": {
                "self": {"href": url}, "html": {"href": html}, "issue": {"href": f"{api}/issues/{pull.number}"},
                "comments": {"href": f"{api}/issues/{pull.number}/comments"}, "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"}, "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{api}/statuses/{pull.head_sha}"},
            },
            "author_association": "OWNER", "auto_merge": None, "active_lock_reason": None, "merged": False,
            "mergeable": True, "rebaseable": True, "mergeable_state": "clean", "merged_by": None, "comments": pull.comments,
            "review_comments": 0, "maintainer_can_modify": False, "commits": 1, "additions": 10, "deletions": 2, "changed_files": 1,
        }

    def commit(self, repo: str, sha: str) -> dict:
        api = f"{self.api}/repos/{repo}"
        author = {"name": "The Octocat", "email": "octocat@example.com", "date": _ts(EPOCH)}
        return {
            "sha": sha, "node_id": f"C_kwDO{sha[:12]}", "url": f"{api}/commits/{sha}", "html_url": f"{self.web}/{repo}/commit/{sha}",
            "comments_url": f"{api}/commits/{sha}/comments",
            "commit": {"url": f"{api}/git/commits/{sha}", "author": author, "committer": author, "message": "Change things",
                       "tree": {"url": f"{api}/git/trees/{_sha(sha)}", "sha": _sha(sha)}, "comment_count": 0,
                       "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}},
            "author": self.user(self.state.me), "committer": self.user(self.state.me), "parents": [],
            "stats": {"additions": 10, "deletions": 2, "total": 12}, "files": [],
        }

    def combined_status(self, repo: str, sha: str) -> dict:
        statuses = self.state.statuses.get(sha, [])
        states = {s.state for s in statuses}
        combined = ("failure" if states & {"failure", "error"} else "pending" if "pending" in states or not statuses else "success")
        return {
            "state": combined, "sha": sha, "total_count": len(statuses),
            "statuses": [{
                "url": f"{self.api}/repos/{repo}/statuses/{sha}", "avatar_url": f"{self.web}/avatars/u/1?v=4", "id": s.id,
                "node_id": f"SC_kwDO{s.id}", "state": s.state, "description": s.description or None,
                "target_url": f"{self.web}/ci/{s.id}", "context": s.context, "created_at": _ts(s.created_at),
                "updated_at": _ts(s.created_at),
            } for s in statuses],
            "repository": self.repo(repo), "commit_url": f"{self.api}/repos/{repo}/commits/{sha}",
            "url": f"{self.api}/repos/{repo}/commits/{sha}/status",
        }

    def check_run(self, repo: str, sha: str, run: FakeCheckRun) -> dict:
        url = f"{self.api}/repos/{repo}/check-runs/{run.id}"
        done = run.status == "completed"
        return {
            "id": run.id, "name": run.name, "node_id": f"CR_kwDO{run.id}", "head_sha": sha, "external_id": "",
            "url": url, "html_url": f"{self.web}/{repo}/runs/{run.id}", "details_url": f"{self.web}/{repo}/actions/runs/{run.id}",
            "status": run.status, "conclusion": run.conclusion, "started_at": _ts(run.started_at),
            "completed_at": _ts(run.started_at + dt.timedelta(minutes=3)) if done else None,
            "output": {"title": None, "summary": None, "text": None, "annotations_count": 0, "annotations_url": f"{url}/annotations"},
            "check_suite": {"id": run.id + 500000},
            "app": {"id": 15368, "slug": "github-actions", "node_id": "MDM6QXBwMTUzNjg", "name": "GitHub Actions",
                    "owner": self.user("github"), "description": "Automate your workflow from idea to production",
                    "external_url": "https://help.github.com/en/actions", "html_url": f"{self.web}/apps/github-actions",
                    "created_at": "2018-07-30T09:30:17Z", "updated_at": "2024-04-10T20:33:16Z",
                    "permissions": {"checks": "write", "contents": "write"}, "events": ["check_run", "push"]},
            "pull_requests": [],
        }

    def comment(self, c: FakeComment, item: FakeIssue) -> dict:
        api = f"{self.api}/repos/{c.repo}/issues/comments/{c.id}"
        return {
            "url": api, "html_url": f"{self._issue_urls(item)['html_url']}#issuecomment-{c.id}",
            "issue_url": f"{self.api}/repos/{c.repo}/issues/{c.number}", "id": c.id, "node_id": f"IC_kwDO{c.id}",
            "user": self.user(c.author), "created_at": _ts(c.created_at), "updated_at": _ts(c.created_at),
            "author_association": "OWNER", "body": c.body, "reactions": self.reactions(f"{api}/reactions"),
            "performed_via_github_app": None,
        }

    def rate_limit(self) -> dict:
        def one(b: RateBucket) -> dict:
            return {"limit": b.limit, "used": b.used, "remaining": b.remaining, "reset": b.reset, "resource": b.resource}

        return {"resources": {"core": one(self.state.core), "search": one(self.state.search)}, "rate": one(self.state.core)}


# ---------------------------------------------------------------- search


class QueryError(ValueError):
    pass


def search_matches(state: GitHubState, q: str) -> list[FakeIssue]:
    """The items a GitHub search query selects, honestly for the qualifiers the fake knows."""
    tests: list[Callable[[FakeIssue], bool]] = []

    def who(value: str) -> str:
        return state.me if value == "@me" else value

    for token in q.split():
        key, sep, value = token.partition(":")
        if not sep:
            tests.append(lambda i, w=token.lower(): w in i.title.lower())
        elif key == "is" and value in ("open", "closed"):
            tests.append(lambda i, v=value: i.state == v)
        elif key == "is" and value in ("pr", "issue"):
            tests.append(lambda i, v=value: i.is_pull == (v == "pr"))
        elif key == "author":
            tests.append(lambda i, v=who(value): i.author == v)
        elif key == "assignee":
            tests.append(lambda i, v=who(value): v in i.assignees)
        elif key == "review-requested":
            tests.append(lambda i, v=who(value): isinstance(i, FakePull) and v in i.requested_reviewers)
        elif key == "repo":
            tests.append(lambda i, v=value: i.repo == v)
        elif key == "label":
            tests.append(lambda i, v=value: v in i.labels)
        elif key == "archived" and value in ("true", "false"):
            tests.append(lambda i, v=value == "true": (i.repo in state.archived_repos) == v)
        else:
            raise QueryError(f"the fake GitHub server does not understand {token!r}")
    return [i for i in state.items.values() if all(t(i) for t in tests)]


# ---------------------------------------------------------------- HTTP


class _Reply(Exception):
    """Raised by a route to answer with an error status."""

    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body


def _error(status: int, message: str, **extra: Any) -> _Reply:
    return _Reply(status, {"message": message, "documentation_url": DOCS, "status": str(status), **extra})


ROUTES: list[tuple[str, re.Pattern, str]] = [
    (m, re.compile(p), name) for m, p, name in [
        ("GET", r"/user", "get_user"),
        ("GET", r"/rate_limit", "get_rate_limit"),
        ("GET", r"/search/issues", "search_issues"),
        ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)", "get_repo"),
        ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)", "get_issue"),
        ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<number>\d+)", "get_pull"),
        ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<ref>[^/]+)", "get_commit"),
        ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<ref>[^/]+)/status", "get_status"),
        ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<ref>[^/]+)/check-runs", "get_check_runs"),
        ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/comments", "list_comments"),
        ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/comments", "create_comment"),
        ("DELETE", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<comment_id>\d+)", "delete_comment"),
    ]
]


class _Handler(LoopbackHandler):
    server: "_Server"

    # -- the request

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        state = fake.state
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        if fake.prefix and path.startswith(fake.prefix):
            path = path[len(fake.prefix):] or "/"
        query = dict(urllib.parse.parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        inm = self.headers.get("If-None-Match")
        body_in: Any = None

        fault = state.take_fault(path, method)
        if fault is not None and fault.kind == "slow":
            fake.stopping.wait(fault.delay)
            fault = None
        if fault is not None:
            status = self._fault(fault, path)
            state.record(RecordedRequest(method, path, query, status, inm, user_agent=self.headers.get("User-Agent")))
            return

        with state.lock:
            bucket = state.bucket_for(path)
            counted = path != "/rate_limit"  # GET /rate_limit is free on GitHub
            charged = False
            try:
                if not self._authorized():
                    raise _error(401, "Bad credentials")
                if counted and bucket.remaining <= 0:
                    raise _error(403, f"API rate limit exceeded for user ID {state.user_id(state.me)}. If you reach out to "
                                      "GitHub Support for help, please include the request ID ABCD:1234:5678.",
                                 documentation_url=f"{DOCS}/overview/rate-limits-for-the-rest-api")
                charged = counted
                if raw:
                    try:
                        body_in = json.loads(raw)
                    except ValueError:
                        raise _error(400, "Problems parsing JSON")
                status, out, extra = self._route(method, path, query, body_in)
            except _Reply as reply:
                status, out, extra = reply.status, reply.body, {}
            payload = None if status == 204 else json.dumps(out, separators=(",", ":")).encode()  # 204: no body
            etag = f'W/"{hashlib.sha256(payload).hexdigest()[:40]}"' if method == "GET" and status == 200 else None
            not_modified = etag is not None and inm is not None and _etag_matches(inm, etag)
            if charged and not not_modified:  # a 304 to a conditional request is free, as on GitHub
                bucket.remaining = max(0, bucket.remaining - 1)
            headers = {**self._rate_headers(bucket), **extra}
            state.record(RecordedRequest(method, path, query, 304 if not_modified else status, inm, body_in,
                                         self.headers.get("User-Agent")))
        if etag:
            headers["ETag"] = etag
        self._send(304 if not_modified else status, None if not_modified else payload, headers)

    def _authorized(self) -> bool:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() in ("token", "bearer") and token == self.server.fake.state.token

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any, dict[str, str]]:
        for m, pattern, name in ROUTES:
            match = pattern.fullmatch(path)
            if match and m == method:
                return getattr(self, name)(query=query, body=body, **match.groupdict())
        raise _error(404, "Not Found")

    def _fault(self, fault: Fault, path: str) -> int:
        state = self.server.fake.state
        bucket = state.search if path.startswith("/search/") else state.core
        headers = self._rate_headers(bucket)
        if fault.kind == "unauthorized":
            status, body = 401, _error(401, "Bad credentials").body
        elif fault.kind == "rate_limited":
            headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Used": str(bucket.limit)})
            status, body = 403, _error(403, "API rate limit exceeded for user ID 583231.",
                                       documentation_url=f"{DOCS}/overview/rate-limits-for-the-rest-api").body
        elif fault.kind == "too_many_requests":
            headers["Retry-After"] = str(fault.retry_after if fault.retry_after is not None else 60)
            status, body = 429, _error(429, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.").body
        elif fault.kind == "error":
            status, body = fault.status, _error(fault.status, fault.message or "Server Error").body
        elif fault.kind == "bad_gateway":
            page = b"<html><body><h1>502 Bad Gateway</h1>The server received an invalid response.</body></html>\n"
            self._send(502, page, {**headers, "Content-Type": "text/html"})
            return 502
        else:  # malformed
            self._send(200, fault.body if fault.body is not None else b'{"total_count": 3, "incomplete_results": false, "items": [{"url": ',
                       {**headers, "ETag": '"malformed"'})
            return 200
        self._send(status, json.dumps(body).encode(), headers)
        return status

    def _rate_headers(self, bucket: RateBucket) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(bucket.limit), "X-RateLimit-Remaining": str(bucket.remaining),
                "X-RateLimit-Reset": str(bucket.reset), "X-RateLimit-Used": str(bucket.used), "X-RateLimit-Resource": bucket.resource}

    def _send(self, status: int, payload: bytes | None, headers: dict[str, str]) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8", **headers}
        try:
            self.send_response(status)
            self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
            self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            self.send_header("Cache-Control", "private, max-age=60, s-maxage=60")
            self.send_header("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
            self.send_header("X-GitHub-Request-Id", f"FAKE:{id(self):X}")
            for name, value in headers.items():
                self.send_header(name, value)
            if payload is not None:  # a 304 has no body and no length
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload is not None:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    # -- routes: each returns (status, JSON body, extra headers)

    def _shapes(self) -> Shapes:
        return self.server.fake.shapes

    def _item(self, repo: str, number: str) -> FakeIssue:
        item = self.server.fake.state.items.get((repo, int(number)))
        if item is None:
            raise _error(404, "Not Found")
        return item

    def get_user(self, **_: Any):
        return 200, self._shapes().me(), {}

    def get_rate_limit(self, **_: Any):
        return 200, self._shapes().rate_limit(), {}

    def search_issues(self, query: dict[str, str], **_: Any):
        state = self.server.fake.state
        q = query.get("q", "")
        if not q:
            raise _error(422, "Validation Failed", errors=[{"resource": "Search", "field": "q", "code": "missing"}])
        try:
            found = search_matches(state, q)
        except QueryError as e:
            raise _error(422, "Validation Failed", errors=[{"message": str(e), "resource": "Search", "field": "q", "code": "invalid"}])
        sort = query.get("sort")
        key = (lambda i: i.updated_at) if sort == "updated" else (lambda i: i.created_at)
        found.sort(key=key, reverse=query.get("order", "desc") != "asc")
        per_page = max(1, min(100, int(query.get("per_page", 30))))
        page = max(1, int(query.get("page", 1)))
        shown = found[(page - 1) * per_page: page * per_page]
        body = {"total_count": len(found), "incomplete_results": False,
                "items": [self._shapes().issue(i, score=1.0) for i in shown]}
        return 200, body, self._page_links("/search/issues", query, page, per_page, len(found))

    def _page_links(self, path: str, query: dict[str, str], page: int, per_page: int, total: int) -> dict[str, str]:
        """GitHub's `Link` header (prev, next, last, first) for one page of `total` items."""
        last = max(1, -(-total // per_page))
        links = []
        for rel, n in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
            if 1 <= n <= last and n != page:
                links.append(f'<{self.server.fake.url}{path}?{urllib.parse.urlencode({**query, "page": n})}>; rel="{rel}"')
        return {"Link": ", ".join(links)} if links else {}

    def get_repo(self, repo: str, **_: Any):
        if not any(r == repo for r, _n in self.server.fake.state.items):
            raise _error(404, "Not Found")
        return 200, self._shapes().repo(repo), {}

    def get_issue(self, repo: str, number: str, **_: Any):
        return 200, self._shapes().issue(self._item(repo, number)), {}

    def get_pull(self, repo: str, number: str, **_: Any):
        item = self._item(repo, number)
        if not isinstance(item, FakePull):
            raise _error(404, "Not Found")
        return 200, self._shapes().pull(item), {}

    def get_commit(self, repo: str, ref: str, **_: Any):
        return 200, self._shapes().commit(repo, ref), {}

    def get_status(self, repo: str, ref: str, **_: Any):
        return 200, self._shapes().combined_status(repo, ref), {}

    def get_check_runs(self, repo: str, ref: str, query: dict[str, str], **_: Any):
        runs = self.server.fake.state.check_runs.get(ref, [])
        per_page = max(1, min(100, int(query.get("per_page", 30))))
        page = max(1, int(query.get("page", 1)))
        shown = runs[(page - 1) * per_page: page * per_page]
        return 200, {"total_count": len(runs), "check_runs": [self._shapes().check_run(repo, ref, r) for r in shown]}, {}

    def list_comments(self, repo: str, number: str, query: dict[str, str], **_: Any):
        item = self._item(repo, number)
        found = self.server.fake.state.comments_on(repo, item.number)
        per_page = max(1, min(100, int(query.get("per_page", 30))))
        page = max(1, int(query.get("page", 1)))
        shown = found[(page - 1) * per_page: page * per_page]
        links = self._page_links(f"/repos/{repo}/issues/{item.number}/comments", query, page, per_page, len(found))
        return 200, [self._shapes().comment(c, item) for c in shown], links

    def create_comment(self, repo: str, number: str, body: Any, **_: Any):
        state = self.server.fake.state
        item = self._item(repo, number)
        if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"]:
            raise _error(422, "Validation Failed", errors=[{"resource": "IssueComment", "field": "body", "code": "missing_field"}])
        comment = state.add_comment(item, body["body"])
        out = self._shapes().comment(comment, item)
        return 201, out, {"Location": out["url"]}


    def delete_comment(self, repo: str, comment_id: str, **_: Any):
        state = self.server.fake.state
        comment = next((c for c in state.comments if c.repo == repo and c.id == int(comment_id)), None)
        if comment is None:
            raise _error(404, "Not Found")
        if comment.author != state.me:  # only the author (or an admin, which the fake's user never is) may delete
            raise _error(403, "Must have admin rights to Repository.")
        state.delete_comment(repo, comment.id)
        return 204, None, {}


def _etag_matches(if_none_match: str, etag: str) -> bool:
    def bare(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    return if_none_match.strip() == "*" or bare(etag) in {bare(t) for t in if_none_match.split(",")}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: "FakeGitHub"


class FakeGitHub:
    """The running fake: `url` is the API root to give a client, `state` what it serves."""

    def __init__(self, state: GitHubState | None = None, *, prefix: str = ""):
        self.state = state or GitHubState()
        self.prefix = prefix.rstrip("/")
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self.url = f"http://{self.host}{self.prefix}"
        self.shapes = Shapes(self.state, self.url, f"http://{self.host}")
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-github", daemon=True)

    def start(self) -> "FakeGitHub":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes any `slow` fault
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> "FakeGitHub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve(state: GitHubState | None = None, *, prefix: str = "") -> Iterator[FakeGitHub]:
    """Run a fake GitHub on 127.0.0.1 (a free port) for the duration of the block."""
    with FakeGitHub(state, prefix=prefix) as fake:
        yield fake


@pytest.fixture
def github_server() -> Iterator[FakeGitHub]:
    """A fresh fake GitHub per test."""
    with serve() as fake:
        yield fake


__all__ = [
    "FakeCheckRun", "FakeComment", "FakeGitHub", "FakeIssue", "FakePull", "FakeStatus", "Fault", "FaultKind", "GitHubState",
    "RateBucket", "RecordedRequest", "github_server", "serve",
]
