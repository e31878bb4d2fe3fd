"""wordpress.publish against a WordPress REST API on loopback (tests/wordpress_server.py).

The action goes through the real desk and executor of an AgentWorld: proposed, approved,
executed with its retries, its receipt stored; compensation through the same machinery.
"""

from __future__ import annotations

import datetime as dt

import pytest
from agent_harness import AgentWorld
from wordpress_server import WPState, serve

from oxymus.actions.model import Proposer

AGENT = Proposer(type="agent", name="publisher", run_id="01JRUN00000000000000000PUB")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def config(url: str, password: str = "abcd EFGH 1234 ijkl MNOP 5678", timeout: float = 5, user: str = "ana") -> str:
    # password_command runs without a shell: echo joins its arguments with spaces, as WordPress shows the password.
    return f'[wordpress]\nurl = "{url}"\nuser = "{user}"\npassword_command = "echo {password}"\ntimeout = {timeout}\n'


@pytest.fixture
def wp():
    state = WPState()
    with serve(state) as server:
        yield server


async def approve_and_run(w: AgentWorld, action):
    if action.status == "awaiting_approval":
        await w.desk.approve(action.id)
    w.advance(seconds=30)  # past the undo grace
    await w.execute_due()
    return await w.store.actions.get(action.id)


async def test_publish_now_uploads_the_image_and_rewrites_its_src(tmp_path, wp):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "Chart One.png").write_bytes(PNG)
    wp.state.clock = lambda: dt.datetime.now(dt.timezone.utc)
    async with AgentWorld(tmp_path / "w", config_toml=config(wp.url), only=[]) as w:
        wp.state.clock = w.now
        payload = {"title": "Why local-first", "slug": "why-local-first",
                   "content_markdown": "Hello *world*.\n\n![a chart](<img/Chart One.png>)\n\n![remote](https://x.example/r.png)\n",
                   "media": {"img/Chart One.png": str(tmp_path / "img" / "Chart One.png")}}
        action, _ = await w.desk.propose("wordpress.publish", payload, proposer=AGENT, reason="edited")
        assert action.status == "awaiting_approval" and action.preview.summary == f"publish “Why local-first” on {wp.url}"
        assert len(action.payload["media_sha256"]["img/Chart One.png"]) == 64
        done = await approve_and_run(w, action)

        assert done.status == "succeeded", done.error
        [post] = wp.state.posts.values()
        assert post["status"] == "publish" and post["slug"] == "why-local-first" and post["_title"] == "Why local-first"
        [media] = wp.state.media.values()
        assert media["source_url"].endswith("/chart-one-" + media["slug"].rsplit("-", 1)[1] + ".png")
        assert wp.state.uploads[media["source_url"].rsplit("/", 1)[1]] == PNG
        assert f'<img src="{media["source_url"]}" alt="a chart" />' in post["_content"]
        assert '<img src="https://x.example/r.png"' in post["_content"] and "<em>world</em>" in post["_content"]
        assert done.receipt.ref == f"{wp.url}/why-local-first/" and done.receipt.data["created"] is True
        assert done.receipt.data["media"] == {"img/Chart One.png": media["source_url"]}

        # Again (a crash lost the receipt, or the person republishes): the post is found by slug and
        # the image by its name and hash: no second post, no second upload.
        again, _ = await w.desk.propose("wordpress.publish", payload, proposer=AGENT, reason="again", key="second")
        again = await approve_and_run(w, again)
        assert again.status == "succeeded" and again.receipt.already_done
        assert len(wp.state.posts) == 1 and len(wp.state.media) == 1
        assert [r for r in wp.state.requests if r[0] == "POST" and r[1].startswith("/wp-json/wp/v2/media")].__len__() == 1


async def test_a_crash_between_create_and_receipt_updates_instead_of_doubling(tmp_path, wp):
    async with AgentWorld(tmp_path / "w", config_toml=config(wp.url), only=[]) as w:
        wp.state.clock = w.now
        # What the first attempt did before the crash: the post exists, as a draft with older text.
        with wp.state.lock:
            wp.state.posts[7] = {"id": 7, "type": "post", "slug": "hello", "status": "draft", "_title": "Hello", "_content": "old",
                                 "_excerpt": "", "date_gmt": "2026-11-01T00:00:00", "date": "2026-11-01T00:00:00",
                                 "link": f"{wp.url}/?p=7"}
        action, _ = await w.desk.propose("wordpress.publish", {"title": "Hello", "slug": "hello", "content": "<p>new</p>"},
                                         proposer=AGENT, reason="edited")
        done = await approve_and_run(w, action)
        assert done.status == "succeeded", done.error
        assert list(wp.state.posts) == [7] and wp.state.posts[7]["status"] == "publish" and wp.state.posts[7]["_content"] == "<p>new</p>"
        assert done.receipt.data["created"] is False and done.receipt.data["status_before"] == "draft"

        # Taken back (a later step of its flow failed): an existing post goes back to draft, never to the trash.
        spec = w.desk.spec("wordpress.publish")
        back = await spec.compensate(spec.parse(done.payload), done.receipt, w.desk.context(done))
        assert wp.state.posts[7]["status"] == "draft" and back.summary == "moved post 7 back to draft"


async def test_schedule_with_status_future(tmp_path, wp):
    async with AgentWorld(tmp_path / "w", config_toml=config(wp.url), only=[]) as w:
        wp.state.clock = w.now
        when = w.now() + dt.timedelta(days=2)
        payload = {"title": "Later", "slug": "later", "content_markdown": "Soon.", "status": "future", "date_gmt": when.isoformat()}
        done = await approve_and_run(w, (await w.desk.propose("wordpress.publish", payload, proposer=AGENT, reason="x"))[0])
        [post] = wp.state.posts.values()
        assert done.status == "succeeded" and post["status"] == "future"
        assert post["date_gmt"] == when.replace(tzinfo=None, microsecond=0).isoformat()
        assert "scheduled for" in done.receipt.summary
        assert wp.state.run_cron() == [] and post["status"] == "future"
        w.advance(days=3)
        assert wp.state.run_cron() == [post["id"]] and post["status"] == "publish"

        past = {**payload, "slug": "past", "date_gmt": (w.now() - dt.timedelta(hours=1)).isoformat()}
        with pytest.raises(Exception, match="date_gmt: .* is not in the future"):
            await w.desk.propose("wordpress.publish", past, proposer=AGENT, reason="x")


async def test_a_wrong_password_fails_naming_the_user_and_the_secret(tmp_path, wp):
    async with AgentWorld(tmp_path / "w", config_toml=config(wp.url, password="wrong pass"), only=[]) as w:
        done = await approve_and_run(w, (await w.desk.propose(
            "wordpress.publish", {"title": "T", "slug": "t", "content": "<p>x</p>"}, proposer=AGENT, reason="x"))[0])
        assert done.status == "failed" and done.attempts == 1  # not retried: retrying cannot help
        assert "refused user 'ana'" in done.error and "incorrect_password" in done.error
        assert "The provided password is an invalid application password." in done.error
        assert "oxymus secret set wordpress" in done.error and wp.state.posts == {}


async def test_no_rest_api_at_the_url(tmp_path, wp):
    async with AgentWorld(tmp_path / "w", config_toml=config(wp.url + "/blog"), only=[]) as w:
        done = await approve_and_run(w, (await w.desk.propose(
            "wordpress.publish", {"title": "T", "slug": "t", "content": "<p>x</p>"}, proposer=AGENT, reason="x"))[0])
        assert done.status == "failed" and f"no WordPress REST API at {wp.url}/blog/wp-json/wp/v2/" in done.error
        assert "rest_no_route" in done.error and "[wordpress] url" in done.error


@pytest.mark.parametrize("fault", [500, 429, "hang"])
async def test_server_errors_rate_limits_and_timeouts_are_retried(tmp_path, wp, fault):
    async with AgentWorld(tmp_path / "w", config_toml=config(wp.url, timeout=0.5), only=[]) as w:
        wp.state.clock = w.now
        if fault == "hang":
            wp.state.hang_next(3)
        else:
            wp.state.fail_next(fault, times=2)
        done = await approve_and_run(w, (await w.desk.propose(
            "wordpress.publish", {"title": "T", "slug": "t", "content": "<p>x</p>"}, proposer=AGENT, reason="x"))[0])
        assert done.status == "succeeded", done.error
        assert done.attempts == (2 if fault == "hang" else 3)
        assert len(wp.state.posts) == 1


def test_a_bad_payload_names_the_field():
    from oxymus.connectors.wordpress.publish import PublishPayload

    with pytest.raises(ValueError, match="status future needs date_gmt"):
        PublishPayload.model_validate({"title": "T", "slug": "t", "content": "x", "status": "future"})
    with pytest.raises(ValueError, match="content_markdown or content"):
        PublishPayload.model_validate({"title": "T", "slug": "t"})
    with pytest.raises(ValueError, match="not an absolute path"):
        PublishPayload.model_validate({"title": "T", "slug": "t", "content": "x", "media": {"a.png": "a.png"}})
