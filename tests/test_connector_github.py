"""The GitHub source against a fake GitHub on loopback, through the real PyGithub client.

Time is frozen: the poll context and the fake's rate-limit windows share one clock.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from github_server import FakeGitHub, GitHubState, serve

from oxymus.connectors.github import GitHubConfig
from oxymus.connectors.github.models import combine_ci
from oxymus.connectors.github.source import GitHubSource
from oxymus.sources.contract import NeedsHuman, PollContext, PollResult, Source, SourceUnavailable

NOW = dt.datetime(2025, 3, 3, 12, 0, tzinfo=dt.timezone.utc)
REVIEW_QUERY = "is:open is:pr review-requested:@me archived:false"


@pytest.fixture(autouse=True)
def no_env_token(monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


@pytest.fixture
def gh() -> FakeGitHub:
    with serve(GitHubState(clock=NOW.timestamp)) as fake:
        yield fake


def make_ctx(token: str | None, *, timeout: float = 5.0) -> PollContext:
    return PollContext(zone=ZoneInfo("UTC"), config_dir=Path("/nonexistent"), now=lambda: NOW,
                       secret=lambda name: token if name == "github" else None, timeout=timeout)


class Harness:
    """A source pointed at the fake, and a context holding the fake's token."""

    def __init__(self, gh: FakeGitHub, **config):
        self.gh = gh
        self.source = GitHubSource(GitHubConfig(api_url=gh.url, **config))
        self.ctx = make_ctx(gh.state.token)

    async def poll(self, ctx: PollContext | None = None) -> PollResult:
        return await self.source.poll(ctx or self.ctx)

    async def items(self) -> dict[str, dict]:
        """kind:key -> data, for the poll's items."""
        result = await self.poll()
        return {f"{i.kind} {i.key}": i.data for i in result.items}


def web(gh: FakeGitHub, path: str) -> str:
    return f"http://{gh.host}/{path}"


def test_source_shape():
    source = GitHubSource(GitHubConfig(interval=120, stale_after=900))
    assert isinstance(source, Source)
    assert (source.id, source.interval, source.stale_after) == ("github", 120, 900)


async def test_review_requests_my_prs_and_assigned_issues(gh):
    s = gh.state
    wanted = s.add_pull("octo/lib", "Add the widget", author="hubot", requested_reviewers=["octocat"], draft=True)
    s.add_pull("octo/lib", "Not for me", author="hubot", requested_reviewers=["someone"])
    s.close(s.add_pull("octo/lib", "Closed", author="hubot", requested_reviewers=["octocat"]))
    s.add_pull("old/attic", "In an archived repo", author="hubot", requested_reviewers=["octocat"])
    s.archived_repos.add("old/attic")
    mine = s.add_pull("octo/app", "Fix the frobnicator")
    s.add_check_run(mine.head_sha, "tests", conclusion="success")
    s.add_pull("octo/app", "Assigned PR is not an issue", author="hubot", assignees=["octocat"])
    issue = s.add_issue("octo/app", "Crash on start", author="hubot", assignees=["octocat"], labels=["bug", "p1"])
    s.add_issue("octo/app", "Someone else's", author="hubot", assignees=["hubot"])
    s.close(s.add_issue("octo/app", "Done", assignees=["octocat"]))

    h = Harness(gh)
    result = await h.poll()

    assert result.warnings == []
    assert [(i.kind, i.key) for i in result.items] == [
        ("github.review_request", web(gh, "octo/lib/pull/1")),
        ("github.pr", web(gh, "octo/app/pull/1")),
        ("github.issue", web(gh, "octo/app/issues/3")),
    ]
    review, pr, assigned = result.items
    assert review.data == {
        "number": 1, "title": "Add the widget", "repo": "octo/lib", "url": web(gh, "octo/lib/pull/1"), "author": "hubot",
        "draft": True, "updated_at": wanted.updated_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "ci": None, "failing_checks": [],
        "head_sha": None,  # a review request: its CI is not looked up
    }
    assert pr.data == {
        "number": 1, "title": "Fix the frobnicator", "repo": "octo/app", "url": web(gh, "octo/app/pull/1"), "author": "octocat",
        "draft": False, "updated_at": mine.updated_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "ci": "success", "failing_checks": [],
        "head_sha": pr.data["head_sha"],
    }
    assert len(pr.data["head_sha"]) == 40
    assert assigned.data == {
        "number": 3, "title": "Crash on start", "repo": "octo/app", "url": web(gh, "octo/app/issues/3"),
        "labels": ["bug", "p1"], "updated_at": issue.updated_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    for item in result.items:
        assert (item.source, item.observed_at, item.starts_at, item.ends_at, item.error) == (
            "github", "2025-03-03T12:00:00.000Z", None, None, None)
    # the real PyGithub client did the talking
    assert {r.user_agent for r in s.requests} == {"PyGithub/Python"}


CI_CASES = {
    "nothing": ([], [], "none", []),
    "checks only, green": ([], [("build", "completed", "success"), ("lint", "completed", "skipped")], "success", []),
    "checks only, failed": ([], [("build", "completed", "success"), ("lint", "completed", "failure"),
                                 ("e2e", "completed", "timed_out"), ("deploy", "completed", "action_required")],
                            "failure", ["lint", "e2e", "deploy"]),
    "checks only, cancelled": ([], [("build", "completed", "cancelled")], "failure", ["build"]),
    "checks only, running": ([], [("build", "completed", "success"), ("e2e", "in_progress", None)], "pending", []),
    "checks only, queued": ([], [("build", "queued", None)], "pending", []),
    "statuses only, green": ([("ci/jenkins", "success")], [], "success", []),
    "statuses only, pending": ([("ci/jenkins", "pending")], [], "pending", []),
    "statuses only, error": ([("ci/jenkins", "error"), ("coverage", "failure")], [], "failure", ["ci/jenkins", "coverage"]),
    "both, green": ([("ci/jenkins", "success")], [("build", "completed", "success")], "success", []),
    "both, status fails": ([("ci/jenkins", "failure")], [("build", "completed", "success")], "failure", ["ci/jenkins"]),
    "both, check pending": ([("ci/jenkins", "success")], [("build", "in_progress", None)], "pending", []),
    "both, failure beats pending": ([("ci/jenkins", "pending")], [("build", "completed", "failure")], "failure", ["build"]),
}


@pytest.mark.parametrize("statuses, runs, ci, failing", CI_CASES.values(), ids=CI_CASES.keys())
async def test_ci_of_my_pull_requests(gh, statuses, runs, ci, failing):
    pr = gh.state.add_pull("octo/app", "Mine")
    for context, state in statuses:
        gh.state.set_status(pr.head_sha, context, state)
    for name, status, conclusion in runs:
        gh.state.add_check_run(pr.head_sha, name, status=status, conclusion=conclusion)

    data = (await Harness(gh).items())[f"github.pr {web(gh, 'octo/app/pull/1')}"]

    assert (data["ci"], data["failing_checks"]) == (ci, failing)


def test_combine_ci_ignores_neutral_and_stale_conclusions():
    assert combine_ci([], [("a", "completed", "neutral"), ("b", "completed", "stale")]) == ("success", [])
    assert combine_ci([("x", "failure"), ("x", "error")], [("x", "completed", "failure")]) == ("failure", ["x"])


async def test_an_idle_poll_costs_no_quota_and_returns_the_same_items(gh):
    s = gh.state
    s.add_pull("octo/lib", "Review me", author="hubot", requested_reviewers=["octocat"])
    for n in range(2):
        pr = s.add_pull("octo/app", f"Mine {n}")
        s.add_check_run(pr.head_sha, "tests", status="in_progress", conclusion=None)
        s.set_status(pr.head_sha, "ci/jenkins", "success")
    s.add_issue("octo/app", "Assigned", author="hubot", assignees=["octocat"])
    h = Harness(gh)
    first = await h.poll()
    core, search = s.core.remaining, s.search.remaining
    assert (core, search) == (5000 - 2 * 3, 30 - 3)  # per PR of mine: pull, status, check runs; three searches
    mark = s.mark()

    second = await h.poll()

    idle = s.requests_since(mark)
    assert len(idle) == 3 + 2 * 3
    assert all(r.conditional and r.status == 304 for r in idle), [(r.path, r.status) for r in idle]
    assert (s.core.remaining, s.search.remaining) == (core, search)
    assert second == first
    assert h.source._api is not None and h.source._api.not_modified == len(idle)


async def test_changes_show_up_and_cost_only_what_changed(gh):
    s = gh.state
    pr = s.add_pull("octo/app", "Mine")
    s.add_check_run(pr.head_sha, "tests", status="in_progress", conclusion=None)
    h = Harness(gh)
    assert (await h.items())[f"github.pr {web(gh, 'octo/app/pull/1')}"]["ci"] == "pending"

    s.add_check_run(pr.head_sha, "tests", conclusion="failure")  # the run finished
    new = s.add_pull("octo/app", "Another")
    mark = s.mark()
    items = await h.items()

    assert items[f"github.pr {web(gh, 'octo/app/pull/1')}"]["failing_checks"] == ["tests"]
    assert items[f"github.pr {web(gh, 'octo/app/pull/2')}"]["title"] == "Another"
    asked = s.requests_since(mark)
    assert {r.query["q"]: r.status for r in asked if r.path == "/search/issues"} == {
        REVIEW_QUERY: 304, "is:open is:issue assignee:@me archived:false": 304,
        "is:open is:pr author:@me archived:false": 200,  # a new PR
    }
    charged = {r.path for r in asked if r.status == 200}
    assert {
        f"/repos/octo/app/commits/{pr.head_sha}/check-runs",  # the run that finished
        "/repos/octo/app/pulls/2", f"/repos/octo/app/commits/{new.head_sha}/status",
        f"/repos/octo/app/commits/{new.head_sha}/check-runs",
    } <= charged
    # (pulls/1 and the first commit's status embed the repository, whose open-issue count moved)

    sha = s.push(pr)  # a new head commit: its CI is asked afresh
    s.set_status(sha, "ci/jenkins", "pending")
    items = await h.items()
    first = items[f"github.pr {web(gh, 'octo/app/pull/1')}"]
    assert (first["ci"], first["failing_checks"]) == ("pending", [])

    s.close(pr)
    assert f"github.pr {web(gh, 'octo/app/pull/1')}" not in await h.items()


async def test_max_items_caps_each_query_most_recent_first(gh):
    for n in range(5):
        gh.state.add_issue("octo/app", f"Issue {n}", assignees=["octocat"])
    items = await Harness(gh, max_items=3).items()
    assert [d["title"] for d in items.values()] == ["Issue 4", "Issue 3", "Issue 2"]


async def test_results_beyond_one_page_are_fetched(gh):
    for n in range(103):
        gh.state.add_issue("octo/app", f"Issue {n}", assignees=["octocat"])
    mark = gh.state.mark()
    items = await Harness(gh, max_items=102).items()
    assert len(items) == 102
    pages = [r.query.get("page", "1") for r in gh.state.requests_since(mark) if "is:issue" in r.query.get("q", "")]
    assert pages == ["1", "2"]


async def test_github_enterprise_path_prefix():
    with serve(GitHubState(clock=NOW.timestamp), prefix="/api/v3") as fake:
        pr = fake.state.add_pull("corp/app", "Mine")
        fake.state.add_check_run(pr.head_sha, "tests", conclusion="failure")
        items = await Harness(fake).items()
    assert items[f"github.pr http://{fake.host}/corp/app/pull/1"]["failing_checks"] == ["tests"]


# ---------------------------------------------------------------- tokens


async def test_missing_token_needs_the_human(gh):
    with pytest.raises(NeedsHuman) as e:
        await Harness(gh).poll(make_ctx(None))
    assert str(e.value) == ("no GitHub token: set GH_TOKEN or GITHUB_TOKEN, set [github] password_command "
                             "or run `oxymus secret set github`")
    assert gh.state.requests == []


async def test_github_token_env_is_used_when_the_keyring_has_none(gh, monkeypatch):
    gh.state.add_issue("octo/app", "Assigned", assignees=["octocat"])
    monkeypatch.setenv("GITHUB_TOKEN", gh.state.token)
    result = await Harness(gh).poll(make_ctx(None))
    assert [i.kind for i in result.items] == ["github.issue"]


async def test_the_env_token_wins_over_the_keyring_as_in_gh(gh, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", gh.state.token)
    await Harness(gh).poll(make_ctx("ghp_stale"))  # the keyring's token would be refused
    monkeypatch.setenv("GH_TOKEN", "ghp_wrong")  # gh's own variable comes first
    with pytest.raises(NeedsHuman, match="GitHub refused the token"):
        await Harness(gh).poll(make_ctx(None))


async def test_env_token_works_with_no_keyring_backend(gh, monkeypatch):
    import keyring
    from keyring.backends import fail

    from oxymus.sources import secrets

    gh.state.add_issue("octo/app", "Assigned", assignees=["octocat"])
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        ctx = PollContext(zone=ZoneInfo("UTC"), config_dir=Path("/nonexistent"), now=lambda: NOW, secret=secrets.get)
        with pytest.raises(NeedsHuman) as e:
            await Harness(gh).poll(ctx)
        assert str(e.value) == (
            "no github secret: no OS keyring is available (NoKeyringError); set GH_TOKEN or GITHUB_TOKEN "
            "or set [github] password_command, or install and unlock a keyring"
        )
        monkeypatch.setenv("GITHUB_TOKEN", gh.state.token)
        result = await Harness(gh).poll(ctx)
    finally:
        keyring.set_keyring(before)
    assert [i.kind for i in result.items] == ["github.issue"]


async def test_token_from_password_command(gh, tmp_path):
    script = tmp_path / "token"
    script.write_text(f"#!/bin/sh\necho {gh.state.token}\n")
    script.chmod(0o700)
    gh.state.add_issue("octo/app", "Assigned", assignees=["octocat"])
    result = await Harness(gh, password_command=str(script)).poll(make_ctx("ghp_stale"))
    assert [i.kind for i in result.items] == ["github.issue"]


async def test_a_refused_token_needs_the_human(gh):
    h = Harness(gh)
    with pytest.raises(NeedsHuman) as e:
        await h.poll(make_ctx("ghp_wrong"))
    assert str(e.value) == "GitHub refused the token (401 Bad credentials)"
    gh.state.fail_next("unauthorized")
    with pytest.raises(NeedsHuman, match=r"^GitHub refused the token \(401 Bad credentials\)$"):
        await h.poll()
    await h.poll()  # and once fixed, it recovers


# ---------------------------------------------------------------- rate limits


async def test_an_exhausted_rate_limit_waits_until_the_reset(gh):
    gh.state.search.remaining = 0
    gh.state.search.reset = int(NOW.timestamp()) + 42
    h = Harness(gh)
    with pytest.raises(SourceUnavailable) as e:
        await h.poll()
    assert e.value.retry_after == 42
    assert "GitHub rate limit exceeded (403 API rate limit exceeded for user ID" in str(e.value)
    assert "resets at 12:00:42 UTC" in str(e.value)
    assert "/search/issues" in str(e.value)

    # the next poll does not even ask: the last answer said the bucket is empty
    mark = gh.state.mark()
    with pytest.raises(SourceUnavailable) as e:
        await h.poll()
    assert e.value.retry_after == 42
    assert str(e.value) == "GitHub search rate limit nearly used up (0 of 30 requests left); pausing until it resets at 12:00:42 UTC"
    assert gh.state.requests_since(mark) == []


async def test_a_rate_limit_fault_uses_the_reset_header(gh):
    gh.state.add_pull("octo/app", "Mine")
    gh.state.core.reset = int(NOW.timestamp()) + 1234
    gh.state.fail_next("rate_limited", path="/pulls/")
    with pytest.raises(SourceUnavailable) as e:
        await Harness(gh).poll()
    assert e.value.retry_after == 1234
    assert "/repos/octo/app/pulls/1" in str(e.value)


async def test_reset_far_away_is_bounded_to_an_hour(gh):
    gh.state.search.remaining = 0
    gh.state.search.reset = int(NOW.timestamp()) + 86400
    with pytest.raises(SourceUnavailable) as e:
        await Harness(gh).poll()
    assert e.value.retry_after == 3600


async def test_low_quota_pauses_polling_before_any_request(gh):
    gh.state.core.remaining = 52
    gh.state.core.reset = int(NOW.timestamp()) + 600
    gh.state.add_pull("octo/app", "Mine")
    h = Harness(gh)
    await h.poll()  # spends three: 49 left
    mark = gh.state.mark()
    with pytest.raises(SourceUnavailable) as e:
        await h.poll()
    assert str(e.value) == "GitHub core rate limit nearly used up (49 of 5000 requests left); pausing until it resets at 12:10:00 UTC"
    assert e.value.retry_after == 600
    assert gh.state.requests_since(mark) == []


async def test_429_honours_retry_after(gh):
    gh.state.fail_next("too_many_requests", retry_after=7)
    with pytest.raises(SourceUnavailable) as e:
        await Harness(gh).poll()
    assert e.value.retry_after == 7
    assert str(e.value).startswith("GitHub rate limit exceeded (429 You have exceeded a secondary rate limit.")
    assert "retry after 7 s" in str(e.value)


# ---------------------------------------------------------------- transient failures and bad answers


async def test_502_is_transient_and_names_the_url(gh):
    gh.state.fail_next("bad_gateway")
    with pytest.raises(SourceUnavailable) as e:
        await Harness(gh).poll()
    assert e.value.retry_after is None
    assert str(e.value).startswith(f"GitHub answered 502 Bad Gateway: GET {gh.url}/search/issues?q=is%3Aopen+is%3Apr+review-requested")


async def test_a_body_that_is_not_json_is_transient_and_names_the_url(gh):
    gh.state.fail_next("malformed")
    with pytest.raises(SourceUnavailable) as e:
        await Harness(gh).poll()
    assert str(e.value).startswith(f"GitHub answered with a malformed body from {gh.url}/search/issues?q=is%3Aopen")
    assert "not JSON" in str(e.value)


async def test_a_body_missing_fields_is_transient_and_names_the_url(gh):
    pr = gh.state.add_pull("octo/app", "Mine")
    gh.state.fail_next("malformed", path="/check-runs", body=b'{"total_count": 1}')
    with pytest.raises(SourceUnavailable) as e:
        await Harness(gh).poll()
    assert str(e.value) == (f"GitHub answered with a malformed body from {gh.url}/repos/octo/app/commits/{pr.head_sha}"
                            "/check-runs?per_page=100: check_runs: Field required")


async def test_one_malformed_search_result_is_skipped_with_a_warning(gh):
    gh.state.add_issue("octo/app", "Assigned", assignees=["octocat"])
    bad = {"total_count": 1, "incomplete_results": False, "items": [{"html_url": "http://x/o/r/pull/9", "title": "no number"}]}
    gh.state.fail_next("malformed", path="/search/", body=json.dumps(bad).encode())
    result = await Harness(gh).poll()
    assert [i.kind for i in result.items] == ["github.issue"]
    [warning] = result.warnings
    assert warning.startswith("skipped a malformed search result (http://x/o/r/pull/9) from ")
    assert "number: Field required (and 2 more)" in warning


async def test_one_unreadable_pull_request_is_an_item_error_not_a_failed_poll(gh):
    gh.state.add_pull("octo/app", "Mine")
    gh.state.add_issue("octo/app", "Assigned", assignees=["octocat"])
    gh.state.fail_next("error", path="/pulls/1", status=403, message="Resource protected by organization SAML enforcement.")
    result = await Harness(gh).poll()
    pr, issue = result.items
    assert pr.error == (f"CI state unknown: GitHub answered 403 Resource protected by organization SAML enforcement.: "
                        f"GET {gh.url}/repos/octo/app/pulls/1")
    assert pr.data["ci"] is None
    assert result.warnings == [f"{web(gh, 'octo/app/pull/1')}: {pr.error}"]


async def test_a_server_slower_than_the_timeout_is_transient(gh):
    h = Harness(gh)
    gh.state.fail_next("slow", delay=10)
    ctx = make_ctx(gh.state.token, timeout=0.5)  # PyGithub takes whole seconds: 1 s
    with pytest.raises(SourceUnavailable) as e:
        await h.poll(ctx)
    assert str(e.value).startswith(f"GitHub did not answer within 1 s: GET {gh.url}/search/issues?q=")
    await h.poll(ctx)  # the next poll gets through


async def test_connection_refused_is_transient():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = GitHubSource(GitHubConfig(api_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(SourceUnavailable) as e:
        await source.poll(make_ctx("ghp_x"))
    assert str(e.value).startswith(f"cannot reach GitHub: GET http://127.0.0.1:{port}/search/issues?q=")
    assert str(e.value).endswith(": connection refused")
