"""The publisher's record mode: an `edited` post record published as one flow, to a git blog
(a real bare remote and clone in tmp_path) or to WordPress (tests/wordpress_server.py on loopback).

The agent runs in an AgentWorld (real store, desk, executor, PLANS.md keeper); the person's
one approval goes through the desk; the executor runs the steps and takes them back.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from agent_harness import AgentWorld
from git_helpers import git, isolated_git  # noqa: F401
from test_agent_publisher import blog, poll_git, push_elsewhere
from wordpress_server import serve

from oxymus.agents.publisher_posts import as_published, front_matter_tags, local_images

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

TODAY = "2026-11-23"
PLANS = "# Blog\n\n## Publishing order\n\n- [published 2026-10-01] Hello — hello\n- [draft] Why local-first — why-local-first\n"
DRAFT = '---\ntitle: "Why local-first"\ndate: 2026-11-20\ntags: [local-first, sync]\ndraft: true\n---\n\nYour files outlive every app.\n\n![the sync](<img/sync graph.png>)\n'
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))


@pytest.fixture(autouse=True)
def _git(isolated_git):
    pass


def write_draft(tmp_path: Path) -> Path:
    drafts = tmp_path / "drafts"
    (drafts / "img").mkdir(parents=True)
    (drafts / "img" / "sync graph.png").write_bytes(PNG)
    (drafts / "why-local-first.md").write_text(DRAFT)
    return drafts / "why-local-first.md"


async def edited_post(w: AgentWorld, path: Path, **fields):
    return await w.store.records.add("post", {"title": "Why local-first", "slug": "why-local-first", "path": str(path), **fields},
                                     status="edited")


async def approve_all(w: AgentWorld, flow) -> None:
    await w.desk.approve(flow.id)
    w.advance(seconds=30)  # past the undo grace
    await w.execute_due()


def test_the_front_matter_is_kept_with_draft_false(tmp_path):
    assert as_published(DRAFT).startswith('---\ntitle: "Why local-first"\ndate: 2026-11-20\ntags: [local-first, sync]\ndraft: false\n---\n\nYour files')
    assert front_matter_tags(DRAFT) == ["local-first", "sync"] and front_matter_tags('+++\ntags = ["a"]\n+++\n') == ["a"]
    assert front_matter_tags("---\ntags: [unclosed\n---\n") == [] and front_matter_tags("no front matter") == []
    assert as_published("---\ntitle: x\n---\nbody\n") == "---\ntitle: x\ndraft: false\n---\nbody\n"
    assert as_published('+++\ntitle = "x"\ndraft = true\n+++\nbody\n') == '+++\ntitle = "x"\ndraft = false\n+++\nbody\n'
    assert as_published("no front matter\n") == "no front matter\n"
    path = write_draft(tmp_path)
    found, missing = local_images(DRAFT + "![gone](img/none.png) ![web](https://x.example/a.png)", path.parent)
    assert found == {"img/sync graph.png": str(path.parent / "img" / "sync graph.png")} and missing == ["img/none.png"]


# ------------------------------------------------------------------ git


def git_world(tmp_path: Path, repo: Path) -> AgentWorld:
    config = (f'[git]\nrepos = ["{repo}"]\n\n[agents.publisher]\nrepo = "{repo}"\n'
              'url = "https://blog.example.org/posts/{slug}/"\n')
    return AgentWorld(tmp_path / "world", config_toml=config, plans=PLANS, only=["publisher"])


async def test_git_an_edited_post_is_committed_marked_and_pushed_and_its_record_published(tmp_path):
    remote, repo = blog(tmp_path)
    path = write_draft(tmp_path)
    async with git_world(tmp_path, repo) as w:
        await poll_git(w)
        post = await edited_post(w, path)
        run = await w.run("publisher")
        assert run.outcome == "succeeded", run.error
        [flow] = await w.actions(run)
        steps = await w.store.actions.flow_actions(flow.id)
        assert [s.kind for s in steps] == ["git.commit", "plans.edit", "record.update", "git.push"]
        assert flow.status == "awaiting_approval" and (await w.store.records.get(post.id)).status == "edited"
        rel = f"content/posts/{TODAY}-why-local-first.md"
        assert steps[0].payload["files"] == {rel: DRAFT.replace("draft: true", "draft: false")}

        await approve_all(w, flow)

        assert (await w.store.actions.get(flow.id)).status == "succeeded"
        assert git(remote, "show", f"main:{rel}") == DRAFT.replace("draft: true", "draft: false").rstrip("\n")
        assert f"- [published {TODAY}] Why local-first — why-local-first" in w.plans_path.read_text()
        done = await w.store.records.get(post.id)
        assert done.status == "published"
        assert done.fields["url"] == "https://blog.example.org/posts/why-local-first/" and done.fields["path"] == f"{repo}/{rel}"

        # Published: nothing more to propose for it.
        await poll_git(w)
        again = await w.run("publisher")
        assert [a for a in await w.actions(again) if a.kind == "flow"] == []


async def test_git_a_refused_push_takes_everything_back_and_the_record_is_edited_again(tmp_path):
    remote, repo = blog(tmp_path)
    path = write_draft(tmp_path)
    async with git_world(tmp_path, repo) as w:
        await poll_git(w)
        post = await edited_post(w, path)
        head, plans_before = git(repo, "rev-parse", "HEAD"), w.plans_path.read_bytes()
        run = await w.run("publisher")
        [flow] = await w.actions(run)
        push_elsewhere(tmp_path, remote)  # the remote moves on before the push
        await approve_all(w, flow)

        flow = await w.store.actions.get(flow.id)
        assert flow.status == "compensated", flow.error
        assert flow.error.startswith("step 4 (git.push) failed") and "the 3 steps done before it were taken back" in flow.error
        steps = [a for a in await w.store.actions.flow_actions(flow.id) if a.step]
        assert [s.status for s in steps] == ["compensated", "compensated", "compensated", "failed"]
        back = await w.store.records.get(post.id)
        assert back.status == "edited" and back.fields["path"] == str(path) and back.fields.get("url") is None
        assert w.plans_path.read_bytes() == plans_before
        assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""


async def test_git_a_repository_with_uncommitted_changes_stops_the_run_and_proposes_nothing(tmp_path):
    remote, repo = blog(tmp_path)
    path = write_draft(tmp_path)
    async with git_world(tmp_path, repo) as w:
        (repo / "hugo.toml").write_text("title = 'Changed'\n")
        await poll_git(w)
        await edited_post(w, path)
        run = await w.run("publisher")
        assert run.outcome == "stopped" and run.actions == []
        assert "1 uncommitted change to tracked files" in run.summary


# ------------------------------------------------------------------ WordPress


def wp_world(tmp_path: Path, url: str, publish_at: dt.datetime | None = None) -> AgentWorld:
    config = (f'[wordpress]\nurl = "{url}"\nuser = "ana"\npassword_command = "echo abcd EFGH 1234 ijkl MNOP 5678"\n\n'
              '[agents.publisher]\ntarget = "wordpress"\nurl = "' + url + '/{slug}/"\n')
    return AgentWorld(tmp_path / "world", config_toml=config, plans=PLANS, only=["publisher"])


async def test_wordpress_publish_now_with_its_image(tmp_path):
    path = write_draft(tmp_path)
    with serve() as wp:
        async with wp_world(tmp_path, wp.url) as w:
            wp.state.clock = w.now
            post = await edited_post(w, path)
            run = await w.run("publisher")
            assert run.outcome == "succeeded", run.error
            [flow] = await w.actions(run)
            steps = await w.store.actions.flow_actions(flow.id)
            assert [s.kind for s in steps] == ["wordpress.publish", "plans.edit", "record.update"]
            assert steps[0].payload["status"] == "publish" and "draft: true" not in steps[0].payload["content_markdown"]
            await approve_all(w, flow)

            assert (await w.store.actions.get(flow.id)).status == "succeeded"
            [live] = wp.state.posts.values()
            [media] = wp.state.media.values()
            assert live["status"] == "publish" and f'src="{media["source_url"]}"' in live["_content"]
            assert sorted(wp.state.tags[i]["name"] for i in live["tags"]) == ["local-first", "sync"]
            done = await w.store.records.get(post.id)
            assert done.status == "published" and done.fields["url"] == f"{wp.url}/why-local-first/" == live["link"]
            assert f"- [published {TODAY}] Why local-first — why-local-first" in w.plans_path.read_text()


async def test_wordpress_scheduled_then_published_on_a_later_run(tmp_path):
    path = write_draft(tmp_path)
    with serve() as wp:
        async with wp_world(tmp_path, wp.url) as w:
            wp.state.clock = w.now
            at = w.now() + dt.timedelta(days=2)
            post = await edited_post(w, path, publish_at=at.isoformat())
            run = await w.run("publisher")
            [flow] = await w.actions(run)
            publish = (await w.store.actions.flow_actions(flow.id))[0]
            assert publish.payload["status"] == "future" and publish.payload["date_gmt"].startswith(at.strftime("%Y-%m-%dT%H:%M"))
            await approve_all(w, flow)
            [live] = wp.state.posts.values()
            assert live["status"] == "future" and (await w.store.records.get(post.id)).status == "scheduled"

            # Before its time: nothing to do.
            early = await w.run("publisher")
            assert early.actions == [] and "nothing to publish" in early.summary
            # Its time passes, WordPress's cron publishes it; the next run moves the record.
            w.advance(days=3)
            wp.state.run_cron()
            later = await w.run("publisher")
            [move] = await w.actions(later)
            assert move.kind == "record.update" and move.payload["status"] == "published", later.summary
            assert move.payload["fields"] == {"url": live["link"]}
            await w.desk.approve(move.id)
            w.advance(seconds=30)
            await w.execute_due()
            done = await w.store.records.get(post.id)
            assert done.status == "published" and done.fields["url"] == f"{wp.url}/why-local-first/"


async def test_wordpress_down_for_good_takes_back_nothing_and_leaves_the_record_edited(tmp_path):
    path = write_draft(tmp_path)
    with serve() as wp:
        async with wp_world(tmp_path, wp.url) as w:
            wp.state.clock = w.now
            post = await edited_post(w, path)
            [flow] = await w.actions(await w.run("publisher"))
            wp.state.fail_next(500, times=20)
            await approve_all(w, flow)
            flow = await w.store.actions.get(flow.id)
            assert flow.status in ("failed", "compensated") and "500 internal_server_error" in flow.error
            assert (await w.store.records.get(post.id)).status == "edited" and wp.state.posts == {}
            assert f"[draft] Why local-first" in w.plans_path.read_text()


async def test_wordpress_a_scheduled_post_checked_with_a_wrong_password_says_whose(tmp_path):
    path = write_draft(tmp_path)
    with serve() as wp:
        wp.state.password = "another one"
        async with wp_world(tmp_path, wp.url) as w:
            past = w.now() - dt.timedelta(hours=1)
            await w.store.records.add("post", {"title": "Why local-first", "slug": "why-local-first", "path": str(path),
                                               "publish_at": past.isoformat()}, status="scheduled")
            run = await w.run("publisher")
            assert run.outcome == "succeeded" and run.actions == []
            assert "cannot ask WordPress whether it is live" in run.summary and "refused user 'ana'" in run.summary
            assert "oxymus secret set wordpress" in run.summary


async def test_wordpress_a_later_step_failing_moves_the_new_post_to_the_trash(tmp_path):
    path = write_draft(tmp_path)
    with serve() as wp:
        async with wp_world(tmp_path, wp.url) as w:
            wp.state.clock = w.now
            post = await edited_post(w, path)
            [flow] = await w.actions(await w.run("publisher"))
            # The person edits PLANS.md after the proposal: the mark, pinned to what was read, cannot be applied.
            w.plans_path.write_text(PLANS + "- [ ] Another post\n")
            await w.reload_plans()
            await approve_all(w, flow)

            flow = await w.store.actions.get(flow.id)
            assert flow.status == "compensated", flow.error
            assert flow.error.startswith("step 2 (plans.edit) failed") and "taken back" in flow.error
            publish, mark, update = [a for a in await w.store.actions.flow_actions(flow.id) if a.step]
            assert (publish.status, mark.status, update.status) == ("compensated", "failed", "cancelled")
            [live] = wp.state.posts.values()
            assert live["status"] == "trash"  # made by this flow: trashed (WordPress keeps it 30 days), not deleted
            assert (await w.store.records.get(post.id)).status == "edited"

            # The record is edited again (a new version): the next run proposes it again, and it goes through.
            run = await w.run("publisher")
            [again] = [a for a in await w.actions(run) if a.kind == "flow"]
            await approve_all(w, again)
            assert (await w.store.actions.get(again.id)).status == "succeeded"
            [new] = [p for p in wp.state.posts.values() if p["status"] == "publish"]
            assert new["slug"] == "why-local-first" and new["id"] != live["id"]
            assert (await w.store.records.get(post.id)).status == "published"


async def test_wordpress_without_a_url_template_the_record_gets_the_link_wordpress_returned(tmp_path):
    path = write_draft(tmp_path)
    with serve() as wp:
        config = (f'[wordpress]\nurl = "{wp.url}"\nuser = "ana"\npassword_command = "echo abcd EFGH 1234 ijkl MNOP 5678"\n\n'
                  '[agents.publisher]\ntarget = "wordpress"\n')
        async with AgentWorld(tmp_path / "world", config_toml=config, plans=PLANS, only=["publisher"]) as w:
            wp.state.clock = w.now
            post = await edited_post(w, path)
            [flow] = await w.actions(await w.run("publisher"))
            assert "fields" not in (await w.store.actions.flow_actions(flow.id))[2].payload or \
                "url" not in (await w.store.actions.flow_actions(flow.id))[2].payload["fields"]
            await approve_all(w, flow)
            assert (await w.store.records.get(post.id)).fields.get("url") is None

            run = await w.run("publisher")
            [move] = await w.actions(run)
            assert move.kind == "record.update" and move.payload["fields"] == {"url": f"{wp.url}/why-local-first/"}, run.summary
            await w.desk.approve(move.id)
            w.advance(seconds=30)
            await w.execute_due()
            assert (await w.store.records.get(post.id)).fields["url"] == f"{wp.url}/why-local-first/"
            again = await w.run("publisher")
            assert again.actions == []
