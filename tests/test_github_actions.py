"""github.comment with the real PyGithub against the loopback fake GitHub: posted once, failures classified."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from github_server import FakeGitHub, github_server, serve  # noqa: F401 - github_server is a fixture
from pydantic import ValidationError
from radicale_server import free_port

from oxymus.actions.effects import ActionContext, ActionInvalid, Permanent, Prepared, Receipt, Transient
from oxymus.connectors.github import GitHubConfig, GitHubConnector
from oxymus.connectors.github.actions import Comment, has_marker, marker

REPO = "octo/app"


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


@pytest.fixture
def gh(github_server: FakeGitHub) -> FakeGitHub:
    github_server.state.add_issue(REPO, "The frobnicator is broken", number=12)
    return github_server


def spec_for(url: str) -> Comment:
    (spec,) = GitHubConnector.actions(GitHubConfig(api_url=url))
    assert isinstance(spec, Comment)
    return spec


def make_ctx(tmp_path: Path, token: str | None, *, key: str = "K1") -> ActionContext:
    secrets = {"github": token} if token is not None else {}
    return ActionContext(zone=ZoneInfo("Europe/Berlin"), config_dir=tmp_path, secret=secrets.get,
                         idempotency_key=key, action_id="01ACTION", timeout=5)


def payload(**over) -> dict:
    return {"repo": REPO, "number": 12, "body": "Fixed in #13, please check.", **over}


async def prepare(spec: Comment, data: dict, ctx: ActionContext) -> Prepared:
    return await spec.prepare(spec.parse(data), ctx)


async def run(spec: Comment, data: dict, ctx: ActionContext) -> Receipt:
    prepared = await prepare(spec, data, ctx)
    return await spec.execute(spec.parse(prepared.payload), ctx)


def bodies(gh: FakeGitHub, number: int = 12) -> list[str]:
    return [c.body for c in gh.state.comments_on(REPO, number)]


# ---------------------------------------------------------------- the spec, the payload, the preview


def test_the_connector_declares_the_action_even_without_a_section():
    (spec,) = GitHubConnector.actions(None)
    assert spec.kind == "github.comment" and spec.scope == "external" and spec.risk == "medium"
    assert spec.config.api_url == "https://api.github.com"


async def test_prepare_previews_the_message_without_the_network(tmp_path):
    spec = spec_for(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    prepared = await prepare(spec, payload(), make_ctx(tmp_path, None))
    assert prepared.preview.summary == "comment on octo/app#12"
    assert prepared.preview.format == "message" and prepared.preview.body == "Fixed in #13, please check."
    assert prepared.payload == payload()


@pytest.mark.parametrize(
    "over, field",
    [
        ({"repo": "octo"}, "repo"),
        ({"repo": "octo/app/extra"}, "repo"),
        ({"repo": "octo/.."}, "repo"),
        ({"repo": "-octo/app"}, "repo"),
        ({"number": 0}, "number"),
        ({"body": ""}, "body"),
        ({"body": "x" * 65_001}, "body"),
        ({"labels": ["bug"]}, "labels"),
    ],
)
def test_the_payload_is_validated(over, field):
    with pytest.raises(ValidationError) as err:
        spec_for("http://127.0.0.1:9").parse(payload(**over))
    assert err.value.errors()[0]["loc"][0] == field


async def test_a_blank_body_is_refused_naming_the_field(tmp_path):
    with pytest.raises(ActionInvalid, match=r"^payload\.body: the comment is blank"):
        await prepare(spec_for("http://127.0.0.1:9"), payload(body=" \n "), make_ctx(tmp_path, None))


def test_the_marker_is_a_whole_hidden_line_and_unsafe_keys_are_hashed():
    line = marker("01J9ZK3Q")
    assert line == "<!-- oxymus-action: 01J9ZK3Q -->"
    assert has_marker(f"Done.\n\n{line}", line) and has_marker(f"Done.\n\n{line}\r\n", line)
    assert not has_marker(f"> Done.\n>\n> {line}", line)  # someone quoting our comment
    assert not has_marker(None, line)
    hashed = marker("a --> b")
    assert hashed.startswith("<!-- oxymus-action: sha256-") and hashed.count("-->") == 1
    assert hashed == marker("a --> b") != marker("a --> c")


# ---------------------------------------------------------------- posting


async def test_comment_is_posted_once_with_the_hidden_marker(tmp_path, gh):
    mark = gh.state.mark()
    receipt = await run(spec_for(gh.url), payload(), make_ctx(tmp_path, gh.state.token))
    assert bodies(gh) == ["Fixed in #13, please check.\n\n<!-- oxymus-action: K1 -->"]
    (comment,) = gh.state.comments_on(REPO, 12)
    assert receipt.ref == f"http://{gh.host}/octo/app/issues/12#issuecomment-{comment.id}"
    assert receipt.summary == "commented on octo/app#12" and receipt.already_done is False
    assert [(r.method, r.path) for r in gh.state.requests_since(mark)] == [
        ("GET", "/repos/octo/app/issues/12/comments"), ("POST", "/repos/octo/app/issues/12/comments"),
    ]


async def test_twice_with_the_same_key_posts_one_comment(tmp_path, gh):
    spec = spec_for(gh.url)
    first = await run(spec, payload(), make_ctx(tmp_path, gh.state.token))
    again = await run(spec, payload(), make_ctx(tmp_path, gh.state.token))
    assert (first.already_done, again.already_done) == (False, True)
    assert again.ref == first.ref and again.summary == "already commented on octo/app#12"
    assert len(bodies(gh)) == 1
    other = await run(spec, payload(), make_ctx(tmp_path, gh.state.token, key="K2"))
    assert other.already_done is False and len(bodies(gh)) == 2


async def test_the_marker_is_found_on_a_later_page(tmp_path, gh):
    issue = gh.state.items[(REPO, 12)]
    for n in range(150):
        gh.state.add_comment(issue, f"comment {n}", author="someone")
        if n == 120:
            gh.state.add_comment(issue, "Posted before a crash.\n\n<!-- oxymus-action: K1 -->")
    mark = gh.state.mark()
    receipt = await run(spec_for(gh.url), payload(), make_ctx(tmp_path, gh.state.token))
    assert receipt.already_done is True and receipt.ref.endswith(f"#issuecomment-{gh.state.comments_on(REPO, 12)[121].id}")
    requests = gh.state.requests_since(mark)
    assert [(r.method, r.query.get("page")) for r in requests] == [("GET", None), ("GET", "2")]
    assert len(bodies(gh)) == 151


async def test_on_a_pull_request_and_under_an_enterprise_prefix(tmp_path):
    with serve(prefix="/api/v3") as gh:
        pull = gh.state.add_pull(REPO, "Add the frobnicator")
        receipt = await run(spec_for(gh.url), payload(number=pull.number), make_ctx(tmp_path, gh.state.token))
        assert receipt.ref.startswith(f"http://{gh.host}/octo/app/pull/{pull.number}#issuecomment-")
        assert len(bodies(gh, pull.number)) == 1


async def test_the_token_can_come_from_github_token(tmp_path, gh, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", gh.state.token)
    receipt = await run(spec_for(gh.url), payload(), make_ctx(tmp_path, None))
    assert receipt.already_done is False and len(bodies(gh)) == 1


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_500_is_transient_and_the_retry_posts_once(tmp_path, gh, method):
    gh.state.fail_next("error", status=500, method=method)
    spec = spec_for(gh.url)
    ctx = make_ctx(tmp_path, gh.state.token)
    prepared = await prepare(spec, payload(), ctx)
    with pytest.raises(Transient, match=r"GitHub answered 500 Server Error: comment on octo/app#12"):
        await spec.execute(spec.parse(prepared.payload), ctx)
    assert bodies(gh) == []
    receipt = await spec.execute(spec.parse(prepared.payload), ctx)
    assert receipt.already_done is False and len(bodies(gh)) == 1


async def test_a_502_html_page_is_transient(tmp_path, gh):
    gh.state.fail_next("bad_gateway")
    with pytest.raises(Transient, match="GitHub answered 502 Bad Gateway"):
        await run(spec_for(gh.url), payload(), make_ctx(tmp_path, gh.state.token))


async def test_429_is_transient_with_retry_after(tmp_path, gh):
    gh.state.fail_next("too_many_requests", retry_after=30, method="POST")
    with pytest.raises(Transient) as err:
        await run(spec_for(gh.url), payload(), make_ctx(tmp_path, gh.state.token))
    assert err.value.retry_after == 30
    assert "secondary rate limit" in str(err.value) and "retry after 30 s" in str(err.value)


async def test_an_exhausted_quota_waits_until_the_reset(tmp_path, gh):
    gh.state.fail_next("rate_limited")
    with pytest.raises(Transient) as err:
        await run(spec_for(gh.url), payload(), make_ctx(tmp_path, gh.state.token))
    assert 3500 < err.value.retry_after <= 3600
    assert "resets at" in str(err.value)


async def test_a_bad_or_missing_token_is_permanent_with_the_hint(tmp_path, gh):
    with pytest.raises(Permanent) as err:
        await run(spec_for(gh.url), payload(), make_ctx(tmp_path, "ghp_wrong"))
    assert str(err.value) == ("GitHub refused the token (401 Bad credentials): run `oxymus secret set github` "
                              "with a token that may comment on octo/app")
    with pytest.raises(Permanent) as err:
        await run(spec_for(gh.url), payload(), make_ctx(tmp_path, None))
    assert str(err.value) == ("no GitHub token: set GH_TOKEN or GITHUB_TOKEN, set [github] password_command "
                             "or run `oxymus secret set github`")
    gh.state.fail_next("error", status=403, message="Resource not accessible by personal access token", method="POST")
    with pytest.raises(Permanent, match=r"\(403 Resource not accessible by personal access token\): run `oxymus secret set github`"):
        await run(spec_for(gh.url), payload(), make_ctx(tmp_path, gh.state.token))
    assert bodies(gh) == []


async def test_an_unknown_issue_is_permanent(tmp_path, gh):
    with pytest.raises(Permanent) as err:
        await run(spec_for(gh.url), payload(number=99), make_ctx(tmp_path, gh.state.token))
    assert str(err.value) == "no issue or PR octo/app#99 (or the token cannot see it)"


async def test_a_422_is_permanent_with_github_s_message(tmp_path, gh):
    gh.state.fail_next("error", status=422, message="Validation Failed", method="POST")
    with pytest.raises(Permanent) as err:
        await run(spec_for(gh.url), payload(), make_ctx(tmp_path, gh.state.token))
    assert str(err.value) == "GitHub refused the comment on octo/app#12: Validation Failed"


async def test_no_server_is_transient(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(Transient) as err:
        await run(spec_for(url), payload(), make_ctx(tmp_path, "ghp_any"))
    assert str(err.value) == f"cannot reach GitHub at {url}: connection refused"


# ---------------------------------------------------------------- compensation (a later step of the flow failed)


def undo_ctx(tmp_path: Path, token: str | None, key: str = "K1") -> ActionContext:
    """The compensation's own context: its own key, and the key the comment was posted with."""
    ctx = make_ctx(tmp_path, token, key=f"undo-{key}")
    ctx.compensates_key = key
    return ctx


def test_the_kind_says_it_can_be_taken_back():
    assert Comment.compensable is True


async def test_compensate_deletes_the_marked_comment_and_twice_is_already_done(tmp_path, gh):
    spec = spec_for(gh.url)
    issue = gh.state.items[(REPO, 12)]
    gh.state.add_comment(issue, "Before ours", author="someone")
    receipt = await run(spec, payload(), make_ctx(tmp_path, gh.state.token))
    await run(spec, payload(), make_ctx(tmp_path, gh.state.token, key="K2"))  # another action's comment stays
    gh.state.add_comment(issue, "A reply after ours", author="someone")
    mark = gh.state.mark()
    undone = await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, gh.state.token))
    assert undone.summary == "deleted the comment on octo/app#12" and undone.already_done is False
    assert undone.ref == receipt.ref
    assert bodies(gh) == ["Before ours", "Fixed in #13, please check.\n\n<!-- oxymus-action: K2 -->", "A reply after ours"]
    assert issue.comments == 3
    comment_id = receipt.ref.rsplit("-", 1)[1]
    assert [(r.method, r.path, r.status) for r in gh.state.requests_since(mark)] == [
        ("GET", "/repos/octo/app/issues/12/comments", 200), ("DELETE", f"/repos/octo/app/issues/comments/{comment_id}", 204),
    ]
    again = await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, gh.state.token))
    assert again.already_done is True and again.summary == "the comment on octo/app#12 was already gone"
    assert len(bodies(gh)) == 3


async def test_the_fake_answers_a_delete_as_github_does(tmp_path, gh):
    import requests

    issue = gh.state.items[(REPO, 12)]
    theirs = gh.state.add_comment(issue, "Not yours", author="someone")
    headers = {"Authorization": f"token {gh.state.token}"}
    url = f"{gh.url}/repos/{REPO}/issues/comments"
    assert requests.delete(f"{url}/{theirs.id}", headers=headers, timeout=5).status_code == 403
    assert requests.delete(f"{url}/99999", headers=headers, timeout=5).status_code == 404
    mine = gh.state.add_comment(issue, "Mine")
    answer = requests.delete(f"{url}/{mine.id}", headers=headers, timeout=5)
    assert answer.status_code == 204 and answer.content == b""
    assert bodies(gh) == ["Not yours"]


async def test_a_comment_edited_since_is_left_alone(tmp_path, gh):
    spec = spec_for(gh.url)
    receipt = await run(spec, payload(), make_ctx(tmp_path, gh.state.token))
    (comment,) = gh.state.comments_on(REPO, 12)
    comment.body = comment.body.replace("please check", "please check (edited: also fixes #14)")
    with pytest.raises(Permanent) as err:
        await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, gh.state.token))
    assert str(err.value) == (f"the comment {receipt.ref} on octo/app#12 was edited since Oxymus posted it; "
                              "delete it by hand if it should go")
    assert len(bodies(gh)) == 1


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_a_500_while_compensating_is_transient_and_the_retry_deletes(tmp_path, gh, method):
    spec = spec_for(gh.url)
    receipt = await run(spec, payload(), make_ctx(tmp_path, gh.state.token))
    gh.state.fail_next("error", status=500, method=method)
    with pytest.raises(Transient, match=r"GitHub answered 500 Server Error: delete the comment on octo/app#12"):
        await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, gh.state.token))
    assert len(bodies(gh)) == 1
    undone = await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, gh.state.token))
    assert undone.already_done is False and bodies(gh) == []


async def test_429_while_compensating_is_transient_with_retry_after(tmp_path, gh):
    spec = spec_for(gh.url)
    receipt = await run(spec, payload(), make_ctx(tmp_path, gh.state.token))
    gh.state.fail_next("too_many_requests", retry_after=45, method="DELETE")
    with pytest.raises(Transient) as err:
        await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, gh.state.token))
    assert err.value.retry_after == 45 and len(bodies(gh)) == 1


async def test_a_token_that_may_not_delete_is_permanent_with_the_hint(tmp_path, gh):
    spec = spec_for(gh.url)
    receipt = await run(spec, payload(), make_ctx(tmp_path, gh.state.token))
    gh.state.fail_next("error", status=403, message="Resource not accessible by personal access token", method="DELETE")
    with pytest.raises(Permanent) as err:
        await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, gh.state.token))
    assert str(err.value) == ("GitHub refused the token (403 Resource not accessible by personal access token): run "
                              "`oxymus secret set github` with a token that may delete comments on octo/app")
    with pytest.raises(Permanent, match="no GitHub token"):
        await spec.compensate(spec.parse(payload()), receipt, undo_ctx(tmp_path, None))
    assert len(bodies(gh)) == 1
