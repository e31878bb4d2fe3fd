"""`git.commit` and `git.push` against real repositories and a local bare remote.

Every repository is made by the git CLI in tmp_path; no global or system gitconfig
is read (identity comes from the environment), so the machine's settings cannot
change what is tested. Each test goes through the executor's path: parse, prepare,
parse the stored payload, execute.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from git_helpers import IDENTITY, git, isolated_git  # noqa: F401

from oxymus.actions.effects import ActionContext, ActionInvalid, Permanent, Prepared, Receipt, Transient
from oxymus.connectors.git import GitConfig, GitConnector
from oxymus.connectors.git.actions import GitCommitSpec, GitFailed, GitPushSpec, classify
from oxymus.connectors.git.source import Run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

@pytest.fixture(autouse=True)
def _git(isolated_git):
    """Neither the helpers nor the actions read the machine's gitconfig."""


def commit_file(repo: Path, name: str, content: str, message: str | None = None) -> str:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(content)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message or f"write {name}")
    return git(repo, "rev-parse", "HEAD")


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    for name, content in (files or {"file.txt": "base\n"}).items():
        commit_file(path, name, content)
    return path


def with_remote(tmp_path: Path) -> tuple[Path, Path]:
    """A bare `origin` and a clone of it with one pushed commit on main."""
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    clone = tmp_path / "blog"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    commit_file(clone, "file.txt", "base\n", "base")
    git(clone, "push", "-q", "-u", "origin", "main")
    return remote, clone


def ctx(tmp_path: Path, key: str = "K1", timeout: float = 20.0) -> ActionContext:
    return ActionContext(zone=ZoneInfo("UTC"), config_dir=tmp_path, idempotency_key=key, action_id="a1", timeout=timeout)


def commit_spec(*repos: Path, roots: tuple[Path, ...] = ()) -> GitCommitSpec:
    return GitCommitSpec(GitConfig(repos=[str(r) for r in repos], roots=[str(r) for r in roots]))


def push_spec(*repos: Path) -> GitPushSpec:
    return GitPushSpec(GitConfig(repos=[str(r) for r in repos]))


async def prepare(spec, payload: dict, c: ActionContext) -> Prepared:
    return await spec.prepare(spec.parse(payload), c)


async def execute(spec, prepared: Prepared, c: ActionContext) -> Receipt:
    # As the executor does: the stored (pinned) payload is parsed again.
    return await spec.execute(spec.parse(prepared.payload), c)


def count(repo: Path, rev: str = "HEAD") -> int:
    return int(git(repo, "rev-list", "--count", rev))


def snapshot(git_dir: Path) -> dict[str, tuple[int, str]]:
    """Every file under a git dir with its mtime and content hash."""
    out = {}
    for p in sorted(git_dir.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(git_dir))] = (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def test_the_connector_declares_both_kinds():
    specs = {s.kind: s for s in GitConnector.actions(None)}
    assert set(specs) == {"git.commit", "git.push"}
    assert (specs["git.commit"].scope, specs["git.commit"].risk) == ("own_files", "medium")
    assert (specs["git.push"].scope, specs["git.push"].risk) == ("external", "high")
    config = GitConfig(repos=["~/blog"])
    assert all(s.config is config for s in GitConnector.actions(config))


# ------------------------------------------------------------------ git.commit


async def test_commit_of_modified_untracked_and_deleted_files(tmp_path):
    repo = make_repo(tmp_path / "blog", {"a.md": "alpha\n", "b.md": "beta\n", "other.md": "other\n"})
    (repo / "a.md").write_text("alpha 2\n")
    (repo / "b.md").unlink()
    (repo / "posts").mkdir()
    (repo / "posts" / "new.md").write_text("brand new\n")
    (repo / "other.md").write_text("not mine\n")  # changed, but not listed
    spec, c = commit_spec(repo), ctx(tmp_path)

    prepared = await prepare(spec, {"repo": str(repo), "paths": ["a.md", "b.md", "./posts/"], "message": "Publish post\n\nBody."}, c)

    assert prepared.preview.summary == f"commit 3 files in {repo}: Publish post"
    assert prepared.preview.format == "diff"
    body = prepared.preview.body
    assert "-alpha\n+alpha 2" in body
    assert "deleted file mode" in body and "-beta" in body
    assert "new file mode" in body and "+++ b/posts/new.md" in body and "+brand new" in body
    assert "other.md" not in body
    assert prepared.payload["paths"] == ["a.md", "b.md", "posts"]
    assert len(prepared.payload["digest"]) == 64

    receipt = await execute(spec, prepared, c)

    head = git(repo, "rev-parse", "HEAD")
    assert receipt.ref == head and not receipt.already_done
    assert receipt.summary == f"committed {head[:7]} in {repo}: Publish post"
    assert receipt.data == {"sha": head, "repo": str(repo), "paths": ["a.md", "b.md", "posts"]}
    assert git(repo, "show", "--name-status", "--format=", "HEAD").splitlines() == ["M\ta.md", "D\tb.md", "A\tposts/new.md"]
    assert git(repo, "log", "-1", "--format=%B") == "Publish post\n\nBody.\n\nOxymus-Action: K1"
    assert git(repo, "status", "--porcelain") == "M other.md"


async def test_what_the_user_staged_elsewhere_is_not_committed(tmp_path):
    repo = make_repo(tmp_path / "blog", {"a.md": "a\n", "staged.md": "s\n"})
    (repo / "staged.md").write_text("s 2\n")
    git(repo, "add", "staged.md")
    (repo / "new.md").write_text("n\n")
    git(repo, "add", "new.md")
    (repo / "a.md").write_text("a 2\n")
    spec, c = commit_spec(repo), ctx(tmp_path)

    prepared = await prepare(spec, {"repo": str(repo), "paths": ["a.md"], "message": "Only a"}, c)
    assert "staged.md" not in prepared.preview.body and "new.md" not in prepared.preview.body
    await execute(spec, prepared, c)

    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "a.md"
    assert sorted(git(repo, "diff", "--cached", "--name-only").splitlines()) == ["new.md", "staged.md"]
    assert git(repo, "status", "--porcelain").splitlines() == ["A  new.md", "M  staged.md"]


async def test_executing_twice_with_the_same_key_commits_once(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / "file.txt").write_text("changed\n")
    spec, c = commit_spec(repo), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["file.txt"], "message": "Change"}, c)

    first = await execute(spec, prepared, c)
    commit_file(repo, "later.txt", "the person kept working\n")  # the trailer is found below HEAD too
    again = await execute(spec, prepared, c)

    assert not first.already_done and again.already_done
    assert again.ref == first.ref and again.summary == first.summary
    assert count(repo) == 3
    assert git(repo, "log", "--format=%s").splitlines() == ["write later.txt", "Change", "write file.txt"]


async def test_a_file_changed_after_approval_is_refused(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / "file.txt").write_text("approved\n")
    spec, c = commit_spec(repo), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["file.txt"], "message": "Change"}, c)
    (repo / "file.txt").write_text("edited after approval\n")

    with pytest.raises(Permanent, match="changed since it was approved; propose the commit again"):
        await execute(spec, prepared, c)
    assert count(repo) == 1
    assert git(repo, "diff", "--cached", "--name-only") == ""


async def test_a_new_untracked_file_under_a_folder_after_approval_is_refused(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / "posts").mkdir()
    (repo / "posts" / "one.md").write_text("1\n")
    spec, c = commit_spec(repo), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["posts"], "message": "Posts"}, c)
    (repo / "posts" / "two.md").write_text("2\n")

    with pytest.raises(Permanent, match="changed since"):
        await execute(spec, prepared, c)


async def test_prepare_writes_nothing_to_the_repository(tmp_path):
    repo = make_repo(tmp_path / "blog", {"a.md": "a\n", "b.md": "b\n"})
    (repo / "a.md").write_text("a 2\n")
    (repo / "new.md").write_text("n\n")
    # Stale stat data in the index: the kind git's diff refreshes (and writes) as it reads.
    os.utime(repo / "b.md", (1, 1))
    before = snapshot(repo / ".git")

    await prepare(commit_spec(repo), {"repo": str(repo), "paths": ["a.md", "b.md", "new.md"], "message": "m"}, ctx(tmp_path))

    assert snapshot(repo / ".git") == before


async def test_commit_in_a_repository_without_commits(tmp_path):
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README.md").write_text("hello\n")
    spec, c = commit_spec(repo), ctx(tmp_path)

    prepared = await prepare(spec, {"repo": str(repo), "paths": ["README.md"], "message": "First"}, c)
    assert prepared.preview.summary == f"commit 1 file in {repo}: First"
    assert "+hello" in prepared.preview.body and "new file mode" in prepared.preview.body
    receipt = await execute(spec, prepared, c)

    assert count(repo) == 1 and receipt.ref == git(repo, "rev-parse", "HEAD")
    assert (await execute(spec, prepared, c)).already_done


async def test_a_deletion_the_user_already_staged_is_committed(tmp_path):
    repo = make_repo(tmp_path / "blog", {"a.md": "a\n", "gone.md": "g\n"})
    git(repo, "rm", "-q", "gone.md")
    spec, c = commit_spec(repo), ctx(tmp_path)

    prepared = await prepare(spec, {"repo": str(repo), "paths": ["gone.md"], "message": "Remove"}, c)
    await execute(spec, prepared, c)

    assert git(repo, "show", "--name-status", "--format=", "HEAD") == "D\tgone.md"


async def test_a_repository_under_a_configured_root_is_accepted(tmp_path):
    repo = make_repo(tmp_path / "code" / "blog")
    (repo / "file.txt").write_text("x\n")
    spec = commit_spec(roots=(tmp_path / "code",))
    prepared = await prepare(spec, {"repo": "code/blog", "paths": ["file.txt"], "message": "m"}, ctx(tmp_path))
    assert prepared.preview.summary == "commit 1 file in code/blog: m"


async def test_a_repository_not_configured_is_refused(tmp_path):
    configured = make_repo(tmp_path / "blog")
    other = make_repo(tmp_path / "other")
    (other / "file.txt").write_text("x\n")
    payload = {"repo": str(other), "paths": ["file.txt"], "message": "m"}

    with pytest.raises(ActionInvalid, match=r"^payload\.repo: .*other is not a repository Oxymus watches; add it to \[git\] repos"):
        await prepare(commit_spec(configured), payload, ctx(tmp_path))
    with pytest.raises(ActionInvalid) as info:
        await prepare(GitCommitSpec(None), payload, ctx(tmp_path))
    assert str(info.value) == "payload.repo: no [git] section in config.toml; add the repo to [git] repos"
    # A subfolder of a configured repository is not that repository.
    (configured / "sub").mkdir()
    with pytest.raises(ActionInvalid, match="not a repository Oxymus watches"):
        await prepare(commit_spec(configured), {**payload, "repo": str(configured / "sub")}, ctx(tmp_path))


@pytest.mark.parametrize("path,why", [
    ("../outside.txt", "outside the repository"),
    ("posts/../../outside.txt", "outside the repository"),
    ("/etc/passwd", "is absolute"),
    (".git/config", "inside .git"),
])
async def test_paths_must_stay_inside_the_repository(tmp_path, path, why):
    repo = make_repo(tmp_path / "blog")
    (repo / "file.txt").write_text("x\n")
    (tmp_path / "outside.txt").write_text("secret\n")
    with pytest.raises(ActionInvalid, match=rf"^payload\.paths\[1\]: .*{why}"):
        await prepare(commit_spec(repo), {"repo": str(repo), "paths": ["file.txt", path], "message": "m"}, ctx(tmp_path))


async def test_nothing_to_commit_and_unknown_paths_are_refused(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "debug.log").write_text("x\n")
    spec, c = commit_spec(repo), ctx(tmp_path)

    with pytest.raises(ActionInvalid, match=r"^payload\.paths: nothing to commit in .*blog"):
        await prepare(spec, {"repo": str(repo), "paths": ["file.txt"], "message": "m"}, c)
    with pytest.raises(ActionInvalid, match=r"^payload\.paths: typo\.txt matches no file"):
        await prepare(spec, {"repo": str(repo), "paths": [".gitignore", "typo.txt"], "message": "m"}, c)
    with pytest.raises(ActionInvalid, match=r"^payload\.paths: debug\.log is ignored"):
        await prepare(spec, {"repo": str(repo), "paths": [".gitignore", "debug.log"], "message": "m"}, c)


def test_the_payload_shape_is_checked_by_parse():
    spec = GitCommitSpec(None)
    from pydantic import ValidationError

    for bad in (
        {"repo": "r", "paths": [], "message": "m"},
        {"repo": "r", "paths": ["a"] * 201, "message": "m"},
        {"repo": "r", "paths": ["a"], "message": ""},
        {"repo": "r", "paths": ["a"], "message": "m" * 10_001},
        {"repo": "r", "paths": ["a"], "message": "m", "extra": 1},
    ):
        with pytest.raises(ValidationError):
            spec.parse(bad)


async def test_a_held_index_lock_is_transient(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / "file.txt").write_text("x\n")
    spec, c = commit_spec(repo), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["file.txt"], "message": "m"}, c)
    (repo / ".git" / "index.lock").write_text("")

    with pytest.raises(Transient, match="another git process is using the repository"):
        await execute(spec, prepared, c)
    assert count(repo) == 1

    (repo / ".git" / "index.lock").unlink()
    assert not (await execute(spec, prepared, c)).already_done
    assert count(repo) == 2


async def test_no_identity_is_permanent_and_stages_nothing(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "blog")
    (repo / "new.txt").write_text("x\n")
    spec, c = commit_spec(repo), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["new.txt"], "message": "m"}, c)
    for name in IDENTITY:
        monkeypatch.delenv(name)

    with pytest.raises(Permanent, match="set user.name and user.email"):
        await execute(spec, prepared, c)
    assert git(repo, "status", "--porcelain") == "?? new.txt"


async def test_a_vanished_repository_is_permanent(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / "file.txt").write_text("x\n")
    spec, c = commit_spec(repo), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["file.txt"], "message": "m"}, c)
    shutil.rmtree(repo)

    with pytest.raises(Permanent, match=rf"{repo}: no such directory"):
        await execute(spec, prepared, c)


async def test_a_commit_that_times_out_is_transient(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / "file.txt").write_text("x\n")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nsleep 30\n")
    hook.chmod(0o755)
    spec = commit_spec(repo)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["file.txt"], "message": "m"}, ctx(tmp_path))

    with pytest.raises(Transient, match="git commit timed out"):
        await execute(spec, prepared, ctx(tmp_path, timeout=1.0))
    assert count(repo) == 1


async def test_a_failing_hook_is_permanent_with_its_message(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / "file.txt").write_text("x\n")
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'fatal: lint failed' >&2\nexit 1\n")
    hook.chmod(0o755)
    spec, c = commit_spec(repo), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["file.txt"], "message": "m"}, c)

    with pytest.raises(Permanent, match="lint failed"):
        await execute(spec, prepared, c)


# ------------------------------------------------------------------ git.push


async def test_push_to_a_bare_remote_and_again(tmp_path):
    remote, clone = with_remote(tmp_path)
    commit_file(clone, "one.md", "1\n", "First post")
    tip = commit_file(clone, "two.md", "2\n", "Second post")
    spec, c = push_spec(clone), ctx(tmp_path)

    prepared = await prepare(spec, {"repo": str(clone)}, c)

    assert prepared.payload == {"repo": str(clone), "remote": "origin", "branch": "main", "commit": tip}
    assert prepared.preview.summary == f"push 2 commits to origin/main in {clone}"
    assert prepared.preview.format == "diff"
    body = prepared.preview.body
    assert "First post" in body and "Second post" in body and "base" not in body.split("\n\n")[0]
    assert "one.md" in body and "two.md" in body and "2 files changed" in body

    receipt = await execute(spec, prepared, c)
    assert receipt.ref == tip and not receipt.already_done
    assert receipt.summary == f"pushed {tip[:7]} to origin/main"
    assert count(remote, "main") == 3

    again = await execute(spec, prepared, c)
    assert again.already_done and again.ref == tip
    assert count(remote, "main") == 3


async def test_push_of_a_pinned_commit_pushes_exactly_it(tmp_path):
    remote, clone = with_remote(tmp_path)
    pinned = commit_file(clone, "one.md", "1\n", "Approved")
    spec, c = push_spec(clone), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(clone)}, c)
    commit_file(clone, "two.md", "2\n", "Not approved")  # HEAD moves on after approval

    await execute(spec, prepared, c)

    assert git(remote, "rev-parse", "main") == pinned
    assert count(remote, "main") == 2


async def test_push_to_a_diverged_remote_is_permanent(tmp_path):
    remote, clone = with_remote(tmp_path)
    commit_file(clone, "mine.md", "mine\n", "Mine")
    spec, c = push_spec(clone), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(clone)}, c)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    theirs = commit_file(other, "theirs.md", "theirs\n", "Theirs")
    git(other, "push", "-q", "origin", "main")

    with pytest.raises(Permanent, match="origin/main has diverged; pull and propose again"):
        await execute(spec, prepared, c)
    assert git(remote, "rev-parse", "main") == theirs
    # Now that the remote's tip is fetched, a new proposal is refused up front.
    with pytest.raises(ActionInvalid, match="origin/main has diverged"):
        await prepare(spec, {"repo": str(clone)}, c)


async def test_push_already_done_by_someone_else_is_already_done(tmp_path):
    remote, clone = with_remote(tmp_path)
    pinned = commit_file(clone, "one.md", "1\n")
    spec, c = push_spec(clone), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(clone)}, c)
    git(clone, "push", "-q", "origin", "main")
    # The remote moved past the commit (another clone built on it): still done.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    commit_file(other, "later.md", "later\n")
    git(other, "push", "-q", "origin", "main")

    receipt = await execute(spec, prepared, c)
    assert receipt.already_done and receipt.ref == pinned
    assert count(remote, "main") == 3


async def test_push_creates_a_new_remote_branch(tmp_path):
    remote, clone = with_remote(tmp_path)
    git(clone, "checkout", "-q", "-b", "draft")
    tip = commit_file(clone, "draft.md", "d\n", "Draft")
    spec, c = push_spec(clone), ctx(tmp_path)

    prepared = await prepare(spec, {"repo": str(clone)}, c)
    assert prepared.preview.summary == f"push 1 commit to origin/draft in {clone}"
    assert "does not exist yet" in prepared.preview.body
    await execute(spec, prepared, c)

    assert git(remote, "rev-parse", "draft") == tip
    assert git(remote, "rev-parse", "main") != tip


async def test_push_to_a_removed_remote_is_permanent(tmp_path):
    remote, clone = with_remote(tmp_path)
    commit_file(clone, "one.md", "1\n")
    spec, c = push_spec(clone), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(clone)}, c)
    shutil.rmtree(remote)

    with pytest.raises(Permanent, match="does not appear to be a git repository"):
        await execute(spec, prepared, c)


async def test_push_to_an_unreachable_server_is_transient(tmp_path):
    remote, clone = with_remote(tmp_path)
    commit_file(clone, "one.md", "1\n")
    spec, c = push_spec(clone), ctx(tmp_path)
    prepared = await prepare(spec, {"repo": str(clone)}, c)
    git(clone, "remote", "set-url", "origin", "http://127.0.0.1:9/blog.git")  # nothing listens on discard

    with pytest.raises(Transient, match="Connection refused|Failed to connect"):
        await execute(spec, prepared, c)


async def test_push_proposals_that_cannot_work_are_refused(tmp_path):
    remote, clone = with_remote(tmp_path)
    spec, c = push_spec(clone), ctx(tmp_path)

    with pytest.raises(ActionInvalid, match=r"^payload\.commit: nothing to push: origin/main already has"):
        await prepare(spec, {"repo": str(clone)}, c)
    commit_file(clone, "one.md", "1\n")
    with pytest.raises(ActionInvalid, match=r"^payload\.remote: .* has no remote 'upstream' \(it has origin\)"):
        await prepare(spec, {"repo": str(clone), "remote": "upstream"}, c)
    with pytest.raises(ActionInvalid, match=r"^payload\.commit: nope is not a commit"):
        await prepare(spec, {"repo": str(clone), "commit": "nope"}, c)
    with pytest.raises(ActionInvalid, match=r"^payload\.branch: 'bad\.\.name' is not a valid branch name"):
        await prepare(spec, {"repo": str(clone), "branch": "bad..name"}, c)
    git(clone, "checkout", "-q", "--detach")
    with pytest.raises(ActionInvalid, match=r"^payload\.branch: HEAD is detached"):
        await prepare(spec, {"repo": str(clone)}, c)
    with pytest.raises(ActionInvalid, match="not a repository Oxymus watches"):
        await prepare(push_spec(tmp_path / "elsewhere"), {"repo": str(clone)}, c)


async def test_push_of_a_named_commit_on_a_detached_head(tmp_path):
    remote, clone = with_remote(tmp_path)
    first = commit_file(clone, "one.md", "1\n", "One")
    commit_file(clone, "two.md", "2\n", "Two")
    git(clone, "checkout", "-q", "--detach")
    spec, c = push_spec(clone), ctx(tmp_path)

    prepared = await prepare(spec, {"repo": str(clone), "branch": "main", "commit": "HEAD~1"}, c)
    assert prepared.payload["commit"] == first
    assert prepared.preview.summary == f"push 1 commit to origin/main in {clone}"
    await execute(spec, prepared, c)
    assert git(remote, "rev-parse", "main") == first


def _failed(stderr: str, problem: str | None = None) -> GitFailed:
    return GitFailed("~/blog", "push", Run(128, b"", stderr.encode(), problem))


@pytest.mark.parametrize("stderr,kind,shown", [
    ("fatal: unable to access 'https://h/r.git/': Could not resolve host: h\n", Transient, "Could not resolve host"),
    ("ssh: connect to host h port 22: Connection refused\nfatal: Could not read from remote repository.\n", Transient, "Connection refused"),
    ("fatal: the remote end hung up unexpectedly\n", Transient, "hung up unexpectedly"),
    ("fatal: unable to access 'https://h/r.git/': The requested URL returned error: 403\n", Permanent, "returned error: 403"),
    ("remote: Invalid username or password.\nfatal: Authentication failed for 'https://h/r.git/'\n", Permanent, "Authentication failed"),
    ("git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.\n", Permanent, "Permission denied"),
    (" ! [rejected]        main -> main (non-fast-forward)\nerror: failed to push some refs\n", Permanent, "rejected"),
    ("fatal: Unable to create '/r/.git/index.lock': File exists.\n", Transient, "index.lock"),
])
def test_git_failures_are_classified_with_gits_own_line(stderr, kind, shown):
    error = classify(_failed(stderr))
    assert type(error) is kind
    assert shown in str(error) and str(error).startswith("~/blog: git push")


def test_a_timeout_is_transient():
    assert type(classify(_failed("", problem="timed out after 20 s"))) is Transient


# ------------------------------------------------------------------ git.commit that writes files and pushes


def tree_snapshot(repo: Path) -> dict[str, tuple[int, str]]:
    """Every file of a repository, working tree and .git, with its mtime and content hash."""
    out = {}
    for p in sorted(repo.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(repo))] = (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


POST = "---\ntitle: \"Hello\"\n---\n\nA post.\n"


def publish(clone: Path, **extra) -> dict:
    return {"repo": str(clone), "files": {"content/posts/hello.md": POST, "PLANS.md": "- [published 2026-11-23] Hello\n"},
            "message": "Publish: Hello", "push": {"remote": "origin", "branch": "main"}, **extra}


async def test_commit_writes_files_then_pushes_and_again_is_already_done(tmp_path):
    remote, clone = with_remote(tmp_path)
    commit_file(clone, "PLANS.md", "- [draft] Hello\n", "plans")
    git(clone, "push", "-q", "origin", "main")
    spec, c = commit_spec(clone), ctx(tmp_path, key="publisher:abc:hello:2026-11-23:1234")
    before = tree_snapshot(clone)

    prepared = await prepare(spec, publish(clone), c)

    assert tree_snapshot(clone) == before  # prepare wrote nothing, not even the index
    assert prepared.preview.summary == f"commit 2 files in {clone}: Publish: Hello, and push to origin/main"
    body = prepared.preview.body
    assert body.startswith("then push the commit to origin/main (not forced)\n")
    assert "new file mode 100644\n--- /dev/null\n+++ b/content/posts/hello.md\n" in body and '+title: "Hello"' in body
    assert "--- a/PLANS.md\n+++ b/PLANS.md\n" in body and "-- [draft] Hello\n+- [published 2026-11-23] Hello\n" in body
    payload = prepared.payload
    assert payload["push"] == {"remote": "origin", "branch": "main"} and payload["paths"] == []
    assert payload["replaces"]["content/posts/hello.md"] == "absent"
    assert payload["replaces"]["PLANS.md"] == hashlib.sha256(b"<file>- [draft] Hello\n").hexdigest()
    assert len(payload["digest"]) == 64
    assert spec.risk_of(spec.parse(payload)) == "high" and spec.scope_of(spec.parse(payload)) == "external"

    receipt = await execute(spec, prepared, c)

    head = git(clone, "rev-parse", "HEAD")
    assert receipt.ref == head and not receipt.already_done
    assert receipt.summary == f"committed {head[:7]} in {clone}: Publish: Hello; pushed to origin/main"
    assert receipt.data["files"] == ["PLANS.md", "content/posts/hello.md"] and receipt.data["pushed"]["remote"] == "origin"
    assert git(remote, "rev-parse", "main") == head
    assert git(remote, "show", "main:content/posts/hello.md") + "\n" == POST
    assert git(remote, "log", "-1", "--format=%B", "main").endswith("Oxymus-Action: publisher:abc:hello:2026-11-23:1234")
    assert sorted(git(clone, "show", "--name-only", "--format=", "HEAD").splitlines()) == ["PLANS.md", "content/posts/hello.md"]
    assert git(clone, "status", "--porcelain") == ""

    again = await execute(spec, prepared, c)
    assert again.already_done and again.ref == head
    assert count(remote, "main") == 3


async def test_a_crash_between_commit_and_push_commits_once_and_pushes_on_retry(tmp_path, monkeypatch):
    from oxymus.connectors.git import actions

    remote, clone = with_remote(tmp_path)
    spec, c = commit_spec(clone), ctx(tmp_path)
    prepared = await prepare(spec, publish(clone), c)

    async def died(*args, **kwargs):
        raise SystemExit("the daemon died after the commit")

    monkeypatch.setattr(actions, "push_commit", died)
    with pytest.raises(SystemExit):
        await execute(spec, prepared, c)
    assert count(clone) == 2 and count(remote, "main") == 1
    monkeypatch.undo()

    retry = await execute(spec, prepared, c)  # the commit is found by its trailer; the push happens now
    assert not retry.already_done and count(clone) == 2
    assert git(remote, "rev-parse", "main") == git(clone, "rev-parse", "HEAD") == retry.ref


async def test_a_crash_after_writing_the_files_commits_them_on_retry(tmp_path):
    remote, clone = with_remote(tmp_path)
    spec, c = commit_spec(clone), ctx(tmp_path)
    payload = publish(clone)
    prepared = await prepare(spec, payload, c)
    # An attempt wrote the files and died before committing.
    for name, content in payload["files"].items():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        (clone / name).write_text(content)

    receipt = await execute(spec, prepared, c)
    assert count(clone) == 2 and count(remote, "main") == 2 and receipt.ref == git(remote, "rev-parse", "main")


async def test_a_file_changed_after_approval_is_not_overwritten(tmp_path):
    remote, clone = with_remote(tmp_path)
    spec, c = commit_spec(clone), ctx(tmp_path)
    prepared = await prepare(spec, publish(clone), c)
    (clone / "PLANS.md").write_text("the person started writing here\n")

    with pytest.raises(Permanent, match="changed since it was approved"):
        await execute(spec, prepared, c)
    assert (clone / "PLANS.md").read_text() == "the person started writing here\n"
    assert not (clone / "content").exists() and count(clone) == 1 and count(remote, "main") == 1


async def test_files_that_would_overwrite_or_escape_are_refused(tmp_path):
    remote, clone = with_remote(tmp_path)
    commit_file(clone, "tracked.md", "t\n")
    commit_file(clone, ".gitignore", "public/\n")
    spec, c = commit_spec(clone), ctx(tmp_path)
    base = {"repo": str(clone), "message": "m"}

    (clone / "tracked.md").write_text("unsaved work\n")
    with pytest.raises(ActionInvalid, match=r"^payload\.files\['tracked\.md'\]: tracked\.md has uncommitted changes"):
        await prepare(spec, {**base, "files": {"tracked.md": "new\n"}}, c)
    (clone / "mine.md").write_text("mine\n")
    with pytest.raises(ActionInvalid, match=r"^payload\.files\['mine\.md'\]: mine\.md is not committed"):
        await prepare(spec, {**base, "files": {"mine.md": "new\n"}}, c)
    with pytest.raises(ActionInvalid, match=r"^payload\.files\['public/x\.html'\]: public/x\.html is ignored"):
        await prepare(spec, {**base, "files": {"public/x.html": "x\n"}}, c)
    (tmp_path / "elsewhere").mkdir()
    (clone / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ActionInvalid, match=r"^payload\.files\['link/post\.md'\]: link is a symbolic link"):
        await prepare(spec, {**base, "files": {"link/post.md": "x\n"}}, c)
    with pytest.raises(ActionInvalid, match=r"^payload\.files\['\.\./out\.md'\]: .*outside the repository"):
        await prepare(spec, {**base, "files": {"../out.md": "x\n"}}, c)
    with pytest.raises(ActionInvalid, match=r"^payload\.files\['\.git/hooks/pre-commit'\]: .*inside \.git"):
        await prepare(spec, {**base, "files": {".git/hooks/pre-commit": "x\n"}}, c)
    with pytest.raises(ActionInvalid, match=r"also under payload\.paths \(posts\)"):
        await prepare(spec, {**base, "paths": ["posts"], "files": {"posts/a.md": "x\n"}}, c)
    with pytest.raises(ActionInvalid, match=r"^payload\.paths: nothing to commit"):
        await prepare(spec, {**base, "files": {"file.txt": "base\n"}}, c)  # already exactly that
    assert not (tmp_path / "elsewhere" / "post.md").exists() and not (clone / "public").exists()
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="give paths to commit, files to write, or both"):
        spec.parse({"repo": "r", "message": "m", "files": {}})


async def test_a_push_that_cannot_fast_forward_is_refused_before_approval(tmp_path):
    remote, clone = with_remote(tmp_path)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    commit_file(other, "theirs.md", "theirs\n", "Theirs")
    git(other, "push", "-q", "origin", "main")
    spec, c = commit_spec(clone), ctx(tmp_path)

    with pytest.raises(ActionInvalid, match=r"^payload\.push: origin/main has commits not fetched here; pull"):
        await prepare(spec, publish(clone), c)
    git(clone, "fetch", "-q")
    commit_file(clone, "mine.md", "mine\n", "Mine")
    with pytest.raises(ActionInvalid, match=r"^payload\.push: origin/main has diverged"):
        await prepare(spec, publish(clone), c)
    with pytest.raises(ActionInvalid, match=r"^payload\.push\.remote: .* has no remote 'upstream'"):
        await prepare(spec, publish(clone, push={"remote": "upstream"}), c)


async def test_a_push_also_names_the_earlier_unpushed_commits(tmp_path):
    remote, clone = with_remote(tmp_path)
    commit_file(clone, "draft.md", "d\n", "An earlier commit")
    spec, c = commit_spec(clone), ctx(tmp_path)

    prepared = await prepare(spec, publish(clone, push={"remote": "origin"}), c)  # the branch is pinned: main

    assert prepared.payload["push"] == {"remote": "origin", "branch": "main"}
    assert "the push also sends 1 earlier commit not yet on origin/main:\n" in prepared.preview.body
    assert "An earlier commit" in prepared.preview.body
    await execute(spec, prepared, c)
    assert count(remote, "main") == 3


async def test_a_plain_commit_keeps_its_payload_shape_and_risk(tmp_path):
    repo = make_repo(tmp_path / "blog")
    (repo / "file.txt").write_text("x\n")
    spec = commit_spec(repo)
    prepared = await prepare(spec, {"repo": str(repo), "paths": ["file.txt"], "message": "m"}, ctx(tmp_path))
    assert set(prepared.payload) == {"repo", "paths", "message", "digest"}
    assert spec.risk_of(spec.parse(prepared.payload)) == "medium" and spec.scope_of(spec.parse(prepared.payload)) == "own_files"


async def test_files_without_push_write_and_commit_keeping_the_mode(tmp_path):
    repo = make_repo(tmp_path / "blog", {"run.sh": "#!/bin/sh\necho 1\n"})
    (repo / "run.sh").chmod(0o755)
    git(repo, "add", "run.sh")
    git(repo, "commit", "-q", "-m", "exec")
    spec, c = commit_spec(repo), ctx(tmp_path)

    prepared = await prepare(spec, {"repo": str(repo), "files": {"run.sh": "#!/bin/sh\necho 2\n"}, "message": "Two"}, c)
    assert "push" not in prepared.payload and "-echo 1\n+echo 2\n" in prepared.preview.body
    receipt = await execute(spec, prepared, c)

    assert (repo / "run.sh").read_text().endswith("echo 2\n") and os.access(repo / "run.sh", os.X_OK)
    assert receipt.data == {"sha": receipt.ref, "repo": str(repo), "paths": [], "files": ["run.sh"]}
    assert git(repo, "status", "--porcelain") == ""
