"""Incremental git polls: a repository nothing changed in is not asked again, and every kind of change is seen.

Real repositories in temp dirs, real git, real inotify (and the stat fallback). The
poll is driven the way the coordinator drives it: the fingerprint of the last poll is
handed back as `previous_fingerprint`. git runs are counted by wrapping the runner.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oxymus.connectors.git import GitConfig
from oxymus.connectors.git import source as git_source
from oxymus.connectors.git.source import GitSource
from oxymus.sources.contract import PollContext
from test_connector_git import NOW, REAL_GIT, commit, git, isolated_git, make_repo, with_remote  # noqa: F401

pytestmark = pytest.mark.skipif(REAL_GIT is None, reason="git is not installed")
MODES = [pytest.param(True, id="inotify", marks=pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux")),
         pytest.param(False, id="stat")]


@pytest.fixture
def runs(monkeypatch) -> list[tuple[str, str]]:
    """Each git process the source starts: (repository folder name, subcommand)."""
    seen: list[tuple[str, str]] = []
    real = git_source.run_git

    async def counting(git_path, repo, args, env, timeout):
        seen.append((Path(repo).name, args[1] if args[0].startswith("-") else args[0]))
        return await real(git_path, repo, args, env, timeout)

    monkeypatch.setattr(git_source, "run_git", counting)
    return seen


@pytest.fixture
def no_racy(monkeypatch):
    """The stat fallback distrusts anything written in the last 2 s; the tests age their files instead of waiting."""
    monkeypatch.setattr(git_source.watch, "RACY_S", 0.0)


class Daemon:
    """Polls a source as the coordinator does: the stored poll's fingerprint goes into the next."""

    def __init__(self, tmp_path: Path, source: GitSource):
        self.tmp_path, self.source = tmp_path, source
        self.fingerprint: str | None = None
        self.stored: dict[str, dict] = {}

    async def poll(self):
        ctx = PollContext(zone=ZoneInfo("UTC"), config_dir=self.tmp_path, now=lambda: NOW,
                          previous_fingerprint=self.fingerprint)
        result = await self.source.poll(ctx)
        if result.unchanged:
            assert result.fingerprint == self.fingerprint and not result.items
        else:
            self.stored = {i.key: i.data for i in result.items}
            self.fingerprint = result.fingerprint
        return result

    def data(self, repo: Path) -> dict:
        return self.stored[os.path.realpath(repo)]


def three_repos(tmp_path: Path) -> list[Path]:
    repos = [make_repo(tmp_path / f"r{i}") for i in range(3)]
    (repos[0] / "src" / "deep").mkdir(parents=True)
    commit(repos[0], "src/deep/code.py", "x = 1\n")
    return repos


@pytest.mark.parametrize("use_inotify", MODES)
async def test_nothing_changed_asks_no_git_and_one_change_asks_one_repository(tmp_path, runs, no_racy, use_inotify):
    repos = three_repos(tmp_path)
    source = GitSource(GitConfig(repos=[str(r) for r in repos]), use_inotify=use_inotify)
    assert source._watch is None
    d = Daemon(tmp_path, source)
    first = await d.poll()
    assert not first.unchanged and len(first.items) == 3 and first.fingerprint
    assert sorted(runs) == sorted([(r.name, c) for r in repos for c in ("status", "log")])
    assert source._watch.method == ("inotify" if use_inotify else "stat")

    runs.clear()
    again = await d.poll()
    assert again.unchanged and runs == []  # our own git runs changed nothing either

    (repos[0] / "src" / "deep" / "code.py").write_text("x = 2\n")  # an edited tracked file, deep down
    changed = await d.poll()
    assert not changed.unchanged and len(changed.items) == 3
    assert runs == [("r0", "status")]  # HEAD did not move: no log either
    assert d.data(repos[0])["unstaged"] == 1
    assert d.data(repos[1])["unstaged"] == 0  # reused as stored

    runs.clear()
    assert (await d.poll()).unchanged and runs == []


@pytest.mark.parametrize("use_inotify", MODES)
async def test_each_kind_of_change_is_seen_at_the_next_poll(tmp_path, runs, no_racy, use_inotify):
    remote, repo = with_remote(tmp_path)
    other = make_repo(tmp_path / "other")
    source = GitSource(GitConfig(repos=[str(repo), str(other)]), use_inotify=use_inotify)
    d = Daemon(tmp_path, source)
    await d.poll()

    async def after(change, check) -> None:
        change()
        runs.clear()
        result = await d.poll()
        assert not result.unchanged, change.__name__
        assert {name for name, _ in runs} == {"work"}, change.__name__
        check(d.data(repo))
        runs.clear()
        assert (await d.poll()).unchanged and runs == [], f"{change.__name__}: settled"

    def untracked():
        (repo / "new dir").mkdir()
        (repo / "new dir" / "notes.txt").write_text("new\n")

    def new_file_in_new_folder():
        # a folder made after the watches were set: a file written in it is still seen
        (repo / "new dir" / "more.txt").write_text("more\n")

    def staged():
        git(repo, "add", "new dir/notes.txt")

    def committed():
        git(repo, "commit", "-q", "-m", "notes")

    def branch_checkout():
        git(repo, "checkout", "-q", "-b", "feature")

    def pushed_elsewhere_and_fetched():
        elsewhere = tmp_path / "elsewhere"
        git(tmp_path, "clone", "-q", str(remote), str(elsewhere))
        commit(elsewhere, "theirs.txt", "theirs\n")
        git(elsewhere, "push", "-q", "origin", "main")
        git(repo, "fetch", "-q", "origin")

    def back_to_main():
        git(repo, "checkout", "-q", "main")

    def stashed():
        (repo / "file.txt").write_text("half done\n")
        git(repo, "stash", "-q")

    def chmod():
        os.chmod(repo / "file.txt", 0o755)

    await after(untracked, lambda s: s["untracked"] == 1 or pytest.fail(str(s)))
    await after(new_file_in_new_folder, lambda s: s["untracked"] == 1 or pytest.fail(str(s)))
    await after(staged, lambda s: s["staged"] == 1 or pytest.fail(str(s)))
    await after(committed, lambda s: (s["staged"], s["last_commit_subject"], s["ahead"]) == (0, "notes", 1) or pytest.fail(str(s)))
    await after(branch_checkout, lambda s: s["branch"] == "feature" or pytest.fail(str(s)))
    await after(back_to_main, lambda s: s["branch"] == "main" or pytest.fail(str(s)))
    await after(pushed_elsewhere_and_fetched, lambda s: s["behind"] == 1 or pytest.fail(str(s)))
    await after(stashed, lambda s: (s["stashes"], s["unstaged"]) == (1, 0) or pytest.fail(str(s)))
    await after(chmod, lambda s: s["unstaged"] == 1 or pytest.fail(str(s)))


async def test_only_stored_items_are_reused(tmp_path, runs):
    """A poll the coordinator did not store (its fingerprint never handed back) is not what gets reused."""
    repo = make_repo(tmp_path / "r")
    source = GitSource(GitConfig(repos=[str(repo)]))
    d = Daemon(tmp_path, source)
    await d.poll()
    stored = d.fingerprint
    (repo / "file.txt").write_text("edited\n")
    lost = await d.poll()  # say the store refused this one: the daemon keeps the older fingerprint
    assert d.data(repo)["unstaged"] == 1
    d.fingerprint = stored
    runs.clear()
    result = await d.poll()
    # nothing changed since `lost`, but that was never stored: the answer carries the items again,
    # read under the same token, so git is not asked
    assert not result.unchanged and result.fingerprint == lost.fingerprint
    assert result.items[0].data["unstaged"] == 1 and runs == []

    unknown = await source.poll(PollContext(zone=ZoneInfo("UTC"), config_dir=tmp_path, previous_fingerprint="git unknown"))
    assert not unknown.unchanged and len(unknown.items) == 1


async def test_a_repository_that_appears_or_goes_is_seen(tmp_path, runs):
    root = tmp_path / "code"
    make_repo(root / "a")
    source = GitSource(GitConfig(roots=[str(root)]))
    d = Daemon(tmp_path, source)
    await d.poll()
    make_repo(root / "b")
    result = await d.poll()
    assert [i.data["name"] for i in result.items] == ["a", "b"]
    runs.clear()
    assert (await d.poll()).unchanged
    import shutil

    shutil.rmtree(root / "b")
    result = await d.poll()
    assert [i.data["name"] for i in result.items] == ["a"] and runs == []


async def test_a_repository_too_big_to_watch_is_asked_every_time(tmp_path, runs, monkeypatch):
    repo = make_repo(tmp_path / "r")
    for i in range(5):
        (repo / f"d{i}").mkdir()
    monkeypatch.setattr(git_source.watch, "MAX_DIRS", 3)
    d = Daemon(tmp_path, GitSource(GitConfig(repos=[str(repo)])))
    await d.poll()
    runs.clear()
    result = await d.poll()
    # same answer, so unchanged; but git had to be asked to know it
    assert result.unchanged and runs == [("r", "status")]


async def test_a_cancelled_poll_kills_its_git(tmp_path, monkeypatch):
    """git started from a worker thread is still killed when the poll is cancelled (a coordinator timeout)."""
    import asyncio

    from oxymus.kernel import gitrun

    fake = tmp_path / "bin"
    fake.mkdir()
    pidfile = tmp_path / "pid"
    script = fake / "slowgit"
    script.write_text(f"#!/bin/sh\necho $$ > '{pidfile}'\nexec sleep 60\n")
    script.chmod(0o755)
    task = asyncio.ensure_future(gitrun.run_git(str(script), tmp_path, ("status",), dict(os.environ), 120))
    for _ in range(2000):  # until the child has written its pid (a deadline, not a sleep for state)
        if pidfile.exists() and pidfile.read_text().strip():
            break
        await asyncio.sleep(0.01)
    pid = int(pidfile.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(2000):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the git child outlived its cancelled poll")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
async def test_an_overflowing_event_queue_asks_every_repository_again(tmp_path, runs):
    """More changes between two polls than the kernel queues: nothing is known, so everything is asked."""
    repos = [make_repo(tmp_path / f"r{i}") for i in range(2)]
    flood = repos[0] / "flood"
    flood.mkdir()  # watched from the first poll on
    source = GitSource(GitConfig(repos=[str(r) for r in repos]))
    d = Daemon(tmp_path, source)
    await d.poll()
    instance = source._watch._instance
    with open("/proc/sys/fs/inotify/max_queued_events") as f:
        queue = int(f.read())
    for i in range(queue // 2 + 10):  # each file: a create, a modify and a close-write
        (flood / f"f{i}").write_bytes(b"x")
    runs.clear()
    result = await d.poll()
    assert source._watch._instance != instance
    assert sorted(name for name, _ in runs) == ["r0", "r1"]
    assert not result.unchanged and d.data(repos[0])["untracked"] == 1
    runs.clear()
    assert (await d.poll()).unchanged and runs == []
