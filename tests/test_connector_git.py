"""The git source against real repositories built with the git CLI in tmp_path.

Every repository here is made by `git` itself (no fixtures checked in, no mocks of
git's output except where a fake `git` on PATH stands in for one that hangs or
prints garbage). Config is isolated from the machine's: no global or system
gitconfig is read, by the helpers or by the source under test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oxymus.connectors.git import GitConfig, GitConnector, porcelain
from oxymus.connectors.git import source as git_source
from oxymus.connectors.git.source import GitSource, RepoStatus
from oxymus.sources.contract import PollContext, Source, SourceUnavailable, StateItem

REAL_GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(REAL_GIT is None, reason="git is not installed")

NOW = dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.timezone.utc)
COMMIT_DATE = "2026-03-01T12:00:00+00:00"
COMMIT_ISO = "2026-03-01T12:00:00.000Z"

ISOLATED = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_AUTHOR_DATE": COMMIT_DATE,
    "GIT_COMMITTER_DATE": COMMIT_DATE,
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
    "GIT_MERGE_AUTOEDIT": "no",
}


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch):
    """Neither the helpers nor the source read the machine's gitconfig."""
    for name, value in ISOLATED.items():
        monkeypatch.setenv(name, value)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str | bytes, check: bool = True, input: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false", *args],
        capture_output=True, input=input, env=os.environ.copy(), timeout=30,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {args!r} in {repo} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode(errors="replace").strip()


def commit(repo: Path, name: str, content: str, message: str | None = None) -> None:
    (repo / name).write_text(content)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message or f"write {name}")


def make_repo(path: Path, commits: int = 1) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    for i in range(commits):
        commit(path, "file.txt", f"version {i}\n", f"commit {i}")
    return path


def with_remote(tmp_path: Path, name: str = "work") -> tuple[Path, Path]:
    """A bare `origin` and a clone of it with one pushed commit on main."""
    remote = tmp_path / f"{name}-origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    commit(clone, "file.txt", "base\n", "base")
    git(clone, "push", "-q", "-u", "origin", "main")
    return remote, clone


def ctx(tmp_path: Path) -> PollContext:
    return PollContext(zone=ZoneInfo("UTC"), config_dir=tmp_path, now=lambda: NOW)


async def poll(tmp_path: Path, repos=(), roots=(), **kw) -> list[StateItem]:
    source = GitSource(GitConfig(repos=[str(r) for r in repos], roots=[str(r) for r in roots], **kw))
    result = await source.poll(ctx(tmp_path))
    return result.items


async def poll_one(tmp_path: Path, repo: Path) -> RepoStatus:
    items = await poll(tmp_path, [repo])
    assert len(items) == 1
    item = items[0]
    assert item.error is None, item.error
    assert item.kind == "git.repo" and item.source == "git"
    assert item.key == os.path.realpath(repo)
    assert item.starts_at is None and item.ends_at is None
    return RepoStatus.model_validate(item.data)


def by_key(items: list[StateItem]) -> dict[str, StateItem]:
    return {i.key: i for i in items}


# ------------------------------------------------------------------ the contract


def test_connector_makes_one_source_that_fits_the_protocol():
    config = GitConfig(repos=["~/x"], interval=30, stale_after=300)
    (source,) = GitConnector.sources(config)
    assert isinstance(source, Source)
    assert (source.id, source.interval, source.stale_after) == ("git", 30, 300)


# ------------------------------------------------------------------ branch and upstream


async def test_clean_repo_in_sync_with_its_upstream(tmp_path):
    _, repo = with_remote(tmp_path)
    s = await poll_one(tmp_path, repo)
    assert s.path == os.path.realpath(repo) and s.name == "work"
    assert (s.branch, s.detached, s.upstream, s.upstream_gone) == ("main", False, "origin/main", False)
    assert (s.ahead, s.behind, s.staged, s.unstaged, s.untracked, s.conflicted, s.stashes) == (0,) * 7
    assert s.head == git(repo, "rev-parse", "--short", "HEAD")
    assert (s.last_commit_at, s.last_commit_subject) == (COMMIT_ISO, "base")
    assert s.operation is None
    assert (s.needs_attention, s.attention) == (False, [])


async def test_observed_at_comes_from_the_context_clock(tmp_path):
    repo = make_repo(tmp_path / "r")
    (item,) = await poll(tmp_path, [repo])
    assert item.observed_at == "2026-03-14T09:26:53.000Z"


async def test_ahead_two_and_behind_one(tmp_path):
    remote, mine = with_remote(tmp_path)
    theirs = tmp_path / "theirs"
    git(tmp_path, "clone", "-q", str(remote), str(theirs))
    commit(theirs, "theirs.txt", "x\n")
    git(theirs, "push", "-q")
    commit(mine, "a.txt", "1\n")
    commit(mine, "b.txt", "2\n")
    git(mine, "fetch", "-q")
    s = await poll_one(tmp_path, mine)
    assert (s.ahead, s.behind) == (2, 1)
    assert s.needs_attention
    assert s.attention == ["2 unpushed commits", "behind upstream by 1"]


async def test_upstream_that_was_deleted_is_reported_gone(tmp_path):
    _, repo = with_remote(tmp_path)
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "push", "-q", "-u", "origin", "feature")
    git(repo, "push", "-q", "origin", "--delete", "feature")
    git(repo, "fetch", "-q", "--prune")
    s = await poll_one(tmp_path, repo)
    assert (s.branch, s.upstream, s.upstream_gone) == ("feature", "origin/feature", True)
    assert s.attention == ["upstream origin/feature is gone"]


async def test_branch_without_upstream(tmp_path):
    repo = make_repo(tmp_path / "local")
    s = await poll_one(tmp_path, repo)
    assert (s.branch, s.upstream, s.ahead, s.behind, s.upstream_gone) == ("main", None, 0, 0, False)
    assert not s.needs_attention


# ------------------------------------------------------------------ working tree


async def test_staged_unstaged_and_untracked_counts(tmp_path):
    repo = make_repo(tmp_path / "r", commits=0)
    for name in ("a", "b", "c", "d"):
        (repo / name).write_text(f"{name}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "four files")
    (repo / "a").write_text("a2\n")
    git(repo, "add", "a")  # staged only
    (repo / "b").write_text("b2\n")  # unstaged only
    (repo / "c").write_text("c2\n")
    git(repo, "add", "c")
    (repo / "c").write_text("c3\n")  # staged and unstaged
    git(repo, "rm", "-q", "d")  # staged deletion
    (repo / "new").write_text("n\n")
    git(repo, "add", "new")  # staged addition
    (repo / "u1").write_text("u\n")
    (repo / "u2").write_text("u\n")
    (repo / "udir").mkdir()
    (repo / "udir" / "x").write_text("x\n")
    (repo / "udir" / "y").write_text("y\n")  # an untracked folder counts once
    s = await poll_one(tmp_path, repo)
    assert (s.staged, s.unstaged, s.untracked, s.conflicted) == (4, 2, 3, 0)
    assert s.attention == ["8 uncommitted changes"]  # a, b, c, d, new + u1, u2, udir/


async def test_stash_count(tmp_path):
    repo = make_repo(tmp_path / "r")
    for i in range(2):
        (repo / "file.txt").write_text(f"wip {i}\n")
        git(repo, "stash", "-q")
    s = await poll_one(tmp_path, repo)
    assert s.stashes == 2
    assert (s.unstaged, s.needs_attention) == (0, False)


async def test_detached_head(tmp_path):
    repo = make_repo(tmp_path / "r", commits=3)
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    s = await poll_one(tmp_path, repo)
    assert (s.branch, s.detached, s.upstream) == (None, True, None)
    assert s.head == git(repo, "rev-parse", "--short", "HEAD")
    assert s.last_commit_subject == "commit 1"
    assert s.attention == ["detached HEAD"]


async def test_empty_repository_without_commits(tmp_path):
    repo = make_repo(tmp_path / "empty", commits=0)
    (repo / "todo").write_text("x\n")
    s = await poll_one(tmp_path, repo)
    assert (s.branch, s.detached, s.head) == ("main", False, None)
    assert (s.last_commit_at, s.last_commit_subject) == (None, None)
    assert s.untracked == 1 and s.attention == ["1 uncommitted change"]


# ------------------------------------------------------------------ operations in progress


def diverge(repo: Path) -> None:
    """main and `feature` both change file.txt differently."""
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "file.txt", "feature side\n", "feature change")
    git(repo, "checkout", "-q", "main")
    commit(repo, "file.txt", "main side\n", "main change")


async def test_merge_conflict_in_progress(tmp_path):
    repo = make_repo(tmp_path / "r")
    diverge(repo)
    git(repo, "merge", "feature", check=False)
    s = await poll_one(tmp_path, repo)
    assert (s.operation, s.conflicted, s.branch) == ("merge", 1, "main")
    assert s.attention == ["merge in progress", "1 conflicted file"]


async def test_rebase_stopped_on_a_conflict(tmp_path):
    repo = make_repo(tmp_path / "r")
    diverge(repo)
    git(repo, "checkout", "-q", "feature")
    git(repo, "rebase", "main", check=False)
    s = await poll_one(tmp_path, repo)
    assert (s.operation, s.conflicted, s.detached, s.branch) == ("rebase", 1, True, None)
    assert s.attention == ["rebase in progress", "1 conflicted file"]  # no "detached HEAD": rebase detaches


async def test_cherry_pick_in_progress(tmp_path):
    repo = make_repo(tmp_path / "r")
    diverge(repo)
    git(repo, "cherry-pick", "feature", check=False)
    s = await poll_one(tmp_path, repo)
    assert (s.operation, s.conflicted) == ("cherry-pick", 1)
    assert s.attention[:2] == ["cherry-pick in progress", "1 conflicted file"]


async def test_revert_in_progress(tmp_path):
    repo = make_repo(tmp_path / "r", commits=3)
    git(repo, "revert", "--no-edit", "HEAD~1", check=False)
    s = await poll_one(tmp_path, repo)
    assert (s.operation, s.conflicted) == ("revert", 1)


async def test_am_stopped_on_a_conflict(tmp_path):
    repo = make_repo(tmp_path / "r")
    diverge(repo)
    patch = git(repo, "format-patch", "-1", "feature", "-o", str(tmp_path / "patches"))
    git(repo, "am", patch, check=False)
    s = await poll_one(tmp_path, repo)
    assert s.operation == "am"
    assert s.attention[0] == "am in progress"


async def test_bisect_in_progress(tmp_path):
    repo = make_repo(tmp_path / "r", commits=5)
    git(repo, "bisect", "start")
    git(repo, "bisect", "bad")
    git(repo, "bisect", "good", "HEAD~4")
    s = await poll_one(tmp_path, repo)
    assert (s.operation, s.detached) == ("bisect", True)
    assert s.attention == ["bisect in progress"]


async def test_operation_in_a_linked_worktree_is_read_from_its_own_git_dir(tmp_path):
    repo = make_repo(tmp_path / "r")
    diverge(repo)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "feature")
    assert (wt / ".git").is_file()
    git(wt, "merge", "main", check=False)
    items = by_key(await poll(tmp_path, [repo, wt]))
    main_s = RepoStatus.model_validate(items[os.path.realpath(repo)].data)
    wt_s = RepoStatus.model_validate(items[os.path.realpath(wt)].data)
    assert (main_s.branch, main_s.operation, main_s.conflicted) == ("main", None, 0)
    assert (wt_s.branch, wt_s.operation, wt_s.conflicted) == ("feature", "merge", 1)


# ------------------------------------------------------------------ which repositories


async def test_roots_find_repositories_and_ignore_the_rest(tmp_path):
    root = tmp_path / "code"
    a = make_repo(root / "alpha")
    b = make_repo(root / "beta", commits=0)
    (root / "notes").mkdir()
    (root / "notes" / "x.md").write_text("x\n")
    (root / "README").write_text("not a folder\n")
    make_repo(root / "notes" / "deeper")  # not a direct subfolder: ignored
    wt = root / "gamma"
    git(a, "worktree", "add", "-q", "-b", "gamma", str(wt))  # .git is a file
    (root / "alias").symlink_to(a)  # the same repository twice
    items = await poll(tmp_path, repos=[a], roots=[root])
    assert [i.key for i in items] == [os.path.realpath(p) for p in (a, b, wt)]
    assert all(i.error is None for i in items)
    assert RepoStatus.model_validate(items[2].data).branch == "gamma"


async def test_relative_and_home_paths_are_resolved(tmp_path, monkeypatch):
    make_repo(tmp_path / "rel")
    home = tmp_path / "home"
    make_repo(home / "code" / "blog")
    monkeypatch.setenv("HOME", str(home))
    items = await poll(tmp_path, repos=["rel", "~/code/blog", "~/code/gone"])
    assert [i.key for i in items] == [str(tmp_path / "rel"), str(home / "code" / "blog"), str(home / "code" / "gone")]
    assert [i.error for i in items] == [None, None, "~/code/gone: no such directory"]


async def test_missing_root_is_an_error_item(tmp_path):
    repo = make_repo(tmp_path / "r")
    (tmp_path / "file").write_text("x\n")
    items = await poll(tmp_path, repos=[repo], roots=[tmp_path / "nowhere", tmp_path / "file"])
    assert [(i.kind, i.key, i.error) for i in items[1:]] == [
        ("git.root", str(tmp_path / "nowhere"), f"{tmp_path}/nowhere: no such directory"),
        ("git.root", str(tmp_path / "file"), f"{tmp_path}/file: not a directory"),
    ]
    assert items[1].data == {"path": str(tmp_path / "nowhere"), "name": "nowhere"}
    assert items[0].error is None


# ------------------------------------------------------------------ per-repository errors


async def test_repository_deleted_between_polls(tmp_path):
    keep = make_repo(tmp_path / "keep")
    gone = make_repo(tmp_path / "gone")
    source = GitSource(GitConfig(repos=[str(keep), str(gone)]))
    first = await source.poll(ctx(tmp_path))
    assert [i.error for i in first.items] == [None, None]
    shutil.rmtree(gone)
    second = await source.poll(ctx(tmp_path))
    kept, lost = second.items
    assert kept.error is None and kept.data == first.items[0].data
    assert (lost.kind, lost.key, lost.error) == ("git.repo", str(gone), f"{gone}: no such directory")
    assert lost.data == {"path": str(gone), "name": "gone"}


async def test_plain_folder_and_file_and_path_under_a_file(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    make_repo(tmp_path / "outer")  # plain/ is not inside it, but the next one is
    inner = tmp_path / "outer" / "sub"
    inner.mkdir()
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    items = await poll(tmp_path, repos=[plain, inner, afile, afile / "below"])
    assert [i.error for i in items] == [
        f"{plain}: not a git repository",
        f"{inner}: not a git repository",  # never the status of the repository around it
        f"{afile}: not a directory",
        f"{afile}/below: no such directory (a parent is not a directory)",
    ]
    assert all(i.kind == "git.repo" for i in items)


async def test_corrupted_repository_is_an_error_and_others_still_report(tmp_path):
    make_repo(tmp_path / "outer")  # git must not fall back to this one
    bad = make_repo(tmp_path / "outer" / "bad")
    (bad / ".git" / "HEAD").write_text("garbage\n")
    good = make_repo(tmp_path / "good")
    items = await poll(tmp_path, repos=[bad, good])
    assert items[0].key == str(bad)
    assert items[0].error == f"{bad}: not a git repository (git does not recognise its .git)"
    assert items[1].error is None


POLL_SCRIPT = """
import asyncio, json, sys
from pathlib import Path
from zoneinfo import ZoneInfo
from oxymus.connectors.git import GitConfig
from oxymus.connectors.git.source import GitSource
from oxymus.sources.contract import PollContext
ctx = PollContext(zone=ZoneInfo("UTC"), config_dir=Path(sys.argv[1]))
result = asyncio.run(GitSource(GitConfig(repos=sys.argv[2:])).poll(ctx))
print(json.dumps([[i.key, i.error] for i in result.items]))
"""


def poll_without_root_powers(tmp_path: Path, repos: list[Path]) -> list[list]:
    """Poll in a child process that keeps uid 0 but loses the capabilities that let
    root read through permission bits, so chmod 000 bites as it would for a user."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv is not installed")
    drop = "-dac_override,-dac_read_search"
    proc = subprocess.run(
        [setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}", sys.executable, "-c", POLL_SCRIPT, str(tmp_path), *map(str, repos)],
        capture_output=True, text=True, timeout=30,
    )
    if proc.returncode != 0 and proc.stderr.startswith("setpriv"):
        pytest.skip(f"cannot drop capabilities here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


async def test_unreadable_repository(tmp_path):
    locked = make_repo(tmp_path / "locked")  # the folder itself
    hidden = make_repo(tmp_path / "hidden")  # only its .git
    good = make_repo(tmp_path / "good")
    locked.chmod(0)
    (hidden / ".git").chmod(0)
    try:
        if os.geteuid() == 0:
            got = poll_without_root_powers(tmp_path, [locked, hidden, good])
        else:
            got = [[i.key, i.error] for i in await poll(tmp_path, [locked, hidden, good])]
    finally:
        locked.chmod(stat.S_IRWXU)
        (hidden / ".git").chmod(stat.S_IRWXU)
    assert got == [
        [str(locked), f"{locked}: permission denied"],
        [str(hidden), f"{hidden}: permission denied (cannot read its .git)"],
        [str(good), None],
    ]


async def test_git_not_installed(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "r")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(SourceUnavailable, match="git is not installed"):
        await poll(tmp_path, [repo])


def fake_git(tmp_path: Path, monkeypatch, status_script: str) -> None:
    """Put a `git` first on PATH that runs `status_script` for `status` and the real git otherwise."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    script = bindir / "git"
    script.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do if [ "$a" = status ]; then\n'
        f"{status_script}\n"
        "fi; done\n"
        f'exec {REAL_GIT} "$@"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")


async def test_git_that_hangs_is_killed_and_reported(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "r")
    fake_git(tmp_path, monkeypatch, "exec sleep 30")
    source = GitSource(GitConfig(repos=[str(repo)]), command_timeout=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    (item,) = (await source.poll(ctx(tmp_path))).items
    assert loop.time() - started < 5
    assert item.error == f"{repo}: git status timed out after 0.3 s"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def until(predicate, what: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
async def test_cancelled_poll_kills_git(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "r")
    pidfile = tmp_path / "git.pid"
    fake_git(tmp_path, monkeypatch, f'echo $$ > "{pidfile}"; exec sleep 30')
    task = asyncio.create_task(poll(tmp_path, [repo]))
    await until(lambda: pidfile.exists() and pidfile.read_text().strip(), "git to start")
    pid = int(pidfile.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: not _alive(pid), f"git (pid {pid}) to be killed")


async def test_unparsable_git_output_is_an_error_item(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "r")
    fake_git(tmp_path, monkeypatch, "printf '# branch.oid abc\\n# branch.head main\\nwhat is this\\n'; exit 0")
    (item,) = await poll(tmp_path, [repo])
    assert item.error == f"{repo}: could not parse git status output: unexpected line 'what is this'"


def test_status_parser_rejects_malformed_headers():
    with pytest.raises(porcelain.ParseError):
        porcelain.parse_status("# branch.oid abc\n# branch.head main\n# branch.ab +x -1\n")
    with pytest.raises(porcelain.ParseError):
        porcelain.parse_status("1 .M N... 100644 100644 100644 abc abc f\n")  # no headers
    st = porcelain.parse_status("# branch.oid abc\n# branch.head main\n# branch.future stuff\n2 R. N... 1 1 1 a b R100 new\told\n")
    assert (st.staged, st.unstaged, st.changed) == (1, 0, 1)


# ------------------------------------------------------------------ odd bytes, no writes, many repositories


async def test_non_utf8_commit_subject_and_folder_name(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    odd = os.path.join(os.fsencode(root), b"caf\xe9")
    os.mkdir(odd)
    repo = Path(os.fsdecode(odd))
    git(repo, "init", "-q")
    (repo / "f").write_text("x\n")
    git(repo, "add", "f")
    # `git commit` would turn a message that is not UTF-8 into UTF-8 (as Latin-1), so
    # the commit object is written by hand, bytes as they are.
    tree = git(repo, "write-tree")
    raw = (
        f"tree {tree}\nauthor Test <t@example.com> 1772366400 +0000\n"
        "committer Test <t@example.com> 1772366400 +0000\n\n"
    ).encode() + b"d\xe9j\xe0 vu \xff\n"
    oid = git(repo, "hash-object", "-t", "commit", "-w", "--stdin", input=raw)
    git(repo, "update-ref", "refs/heads/main", oid)
    (item,) = await poll(tmp_path, roots=[root])
    assert item.error is None
    assert item.key == f"{root}/caf\ufffd"
    s = RepoStatus.model_validate(item.data)
    assert s.name == "caf\ufffd"
    assert s.last_commit_subject == "d\ufffdj\ufffd vu \ufffd"
    item.model_dump_json()  # storable as it is


def git_dir_listing(repo: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _dirs, files in os.walk(repo / ".git"):
        for name in files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, repo)] = (st.st_mtime_ns, st.st_size)
    return out


async def test_poll_writes_nothing(tmp_path):
    repo = make_repo(tmp_path / "r", commits=2)
    (repo / "other.txt").write_text("o\n")
    git(repo, "add", "other.txt")
    git(repo, "commit", "-q", "-m", "other")
    # Stat info that no longer matches the index: a plain `git status` would refresh
    # and rewrite the index (taking index.lock) here.
    old = (repo / "other.txt").stat().st_mtime - 100
    os.utime(repo / "other.txt", (old, old))
    (repo / "file.txt").write_text("unstaged\n")
    before = git_dir_listing(repo)
    for _ in range(2):
        s = await poll_one(tmp_path, repo)
    assert s.unstaged == 1
    assert git_dir_listing(repo) == before
    assert not (repo / ".git" / "index.lock").exists()
    # ... and the check can fail: a plain `git status` does write.
    git(repo, "status")
    assert git_dir_listing(repo)[".git/index"] != before[".git/index"]


async def test_forty_repositories_polled_concurrently(tmp_path, monkeypatch):
    template = make_repo(tmp_path / "template", commits=2)
    root = tmp_path / "many"
    root.mkdir()
    for i in range(40):
        shutil.copytree(template, root / f"repo{i:02d}", symlinks=True)
    (root / "repo07" / "file.txt").write_text("dirty\n")

    in_flight: set[Path] = set()
    most = 0
    real_run = git_source.run_git

    async def counting_run(git_path, repo, args, env, timeout):
        nonlocal most
        in_flight.add(repo)
        most = max(most, len(in_flight))
        try:
            return await real_run(git_path, repo, args, env, timeout)
        finally:
            in_flight.discard(repo)

    monkeypatch.setattr(git_source, "run_git", counting_run)
    items = await poll(tmp_path, roots=[root], concurrency=4)
    assert len(items) == 40
    assert [i.key for i in items] == [os.path.realpath(root / f"repo{i:02d}") for i in range(40)]
    assert all(i.error is None for i in items)
    assert [i.data["name"] for i in items if i.data["needs_attention"]] == ["repo07"]
    assert 1 < most <= 4


async def test_log_runs_again_only_when_head_moves(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "r")
    calls: list[str] = []
    real_run = git_source.run_git

    async def recording_run(git_path, where, args, env, timeout):
        calls.append(args[1])
        return await real_run(git_path, where, args, env, timeout)

    monkeypatch.setattr(git_source, "run_git", recording_run)
    source = GitSource(GitConfig(repos=[str(repo)]))

    async def subject() -> str:
        (item,) = (await source.poll(ctx(tmp_path))).items
        return item.data["last_commit_subject"]

    assert await subject() == "commit 0"
    assert calls == ["status", "log"]
    (repo / "scratch.txt").write_text("a change in the working tree, HEAD where it was\n")
    assert await subject() == "commit 0"
    assert calls == ["status", "log", "status"]
    git(repo, "commit", "-q", "--amend", "-m", "amended")
    assert await subject() == "amended"
    assert calls == ["status", "log", "status", "status", "log"]
    (repo / "scratch.txt").write_text("another\n")
    assert await subject() == "amended"
    assert calls[-2:] == ["log", "status"]
