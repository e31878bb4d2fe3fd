"""The `git` source: one `git.repo` state item per watched repository.

Which repositories: every path in `[git].repos`, plus each direct subfolder of a
`[git].roots` folder that holds a `.git` (a directory, or a file as in linked
worktrees and submodules), deduplicated by real path.

Per repository a poll runs read-only git processes (never through a shell, each
killed after a timeout), at most `concurrency` repositories at once:

- `git status --porcelain=v2 --branch --show-stash`: HEAD's commit, branch,
  upstream, ahead and behind, stashes, staged/unstaged/untracked/conflicted counts;
- `git log -1`: the HEAD commit's abbreviated id, time and subject; only when HEAD
  is not the commit it was at the previous poll (a commit never changes, so its
  details are remembered by id), which makes most polls one process per repository.

A repository in which nothing git reads changed since the stored poll (its HEAD,
refs, index, git dir and working tree: `watch.py`, inotify or a stat walk) is not
asked again: its item from that poll is reused, and when no repository changed the
poll answers "unchanged" (`PollResult.same_as_before`) without running git at all.
git is started from worker threads (`gitrun.run_git`), never from the event loop.

The operation under way (merge, rebase, am, cherry-pick, revert, bisect) is read
from marker files in the git dir. Nothing is written: `GIT_OPTIONAL_LOCKS=0` keeps
`git status` from refreshing the index, so no `index.lock` is ever taken.

A repository that is missing, unreadable, not a repository, or where git fails,
times out or prints something unexpected becomes an item with `error` set (the
message names the path as the user wrote it); the others report normally. The
poll as a whole fails (SourceUnavailable) only when git is not installed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from oxymus.connectors.git import porcelain, watch
from oxymus.kernel import gitrun
from oxymus.kernel.gitrun import Run, run_git
from oxymus.sources.contract import PollContext, PollResult, SourceUnavailable, StateItem, utc_iso

if TYPE_CHECKING:
    from oxymus.connectors.git import GitConfig

KIND_REPO = "git.repo"
KIND_ROOT = "git.root"
COMMAND_TIMEOUT = 10.0  # seconds for one git process

Operation = Literal["merge", "rebase", "am", "cherry-pick", "revert", "bisect"]


class RepoStatus(BaseModel):
    """The `data` of a `git.repo` item."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="the repository's real path (symlinks resolved); also the item's key")
    name: str = Field(description="the folder's name")
    branch: str | None = Field(description="the checked-out branch; None when HEAD is detached")
    detached: bool = Field(description="HEAD is detached (also during a rebase or a bisect)")
    head: str | None = Field(description="HEAD's abbreviated commit id; None before the first commit")
    upstream: str | None = Field(description="the branch's upstream, e.g. origin/main; None if it has none")
    upstream_gone: bool = Field(description="an upstream is configured but its branch no longer exists")
    ahead: int = Field(description="commits on the branch that its upstream lacks (unpushed)")
    behind: int = Field(description="commits on the upstream that the branch lacks (as of the last fetch)")
    staged: int = Field(description="paths with changes in the index")
    unstaged: int = Field(description="tracked paths with changes in the working tree not in the index")
    untracked: int = Field(description="untracked paths (an untracked folder counts once)")
    conflicted: int = Field(description="unmerged paths")
    stashes: int = Field(description="entries in the stash")
    operation: Operation | None = Field(description="a stopped operation under way: merge, rebase, am, cherry-pick, revert, bisect")
    last_commit_at: str | None = Field(description="HEAD's committer time, UTC ISO-8601; None before the first commit")
    last_commit_subject: str | None = Field(description="HEAD's subject line; None before the first commit")
    needs_attention: bool = Field(description="attention is not empty")
    attention: list[str] = Field(description='short reasons to look at the repository, e.g. "3 unpushed commits"')


@dataclass
class Target:
    """A repository to poll (or a configured path that turned out not to be one)."""

    path: Path  # as resolved from the config; git runs in real_path
    real_path: Path
    label: str  # how messages name it: the user's spelling, e.g. ~/code/blog
    kind: str = KIND_REPO
    error: str | None = None  # set: report this instead of polling
    operation: str | None = None  # read from the git dir just before git runs


def text(value: str | os.PathLike) -> str:
    """A path (or name) as valid UTF-8 text: bytes that are not UTF-8 become U+FFFD."""
    return os.fsencode(value).decode("utf-8", errors="replace")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ------------------------------------------------------------------ discovery


def _missing(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such directory"
    if isinstance(exc, NotADirectoryError):
        return "no such directory (a parent is not a directory)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc)).lower()


def _repo_problem(path: Path) -> str | None:
    """Why `path` cannot be polled as a repository, or None if it looks like one."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return _missing(exc)
    if not stat.S_ISDIR(st.st_mode):
        return "not a directory"
    try:
        os.stat(path / ".git")
    except (FileNotFoundError, NotADirectoryError):
        return "not a git repository"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    return None


def _join_label(root_label: str, name: str) -> str:
    return root_label.rstrip("/") + "/" + name if root_label.rstrip("/") else "/" + name


def discover(repos: list[str], roots: list[str], resolve: Callable[[str], Path]) -> tuple[list[Target], list[str]]:
    """The targets of a poll, in config order (roots' repos by name), and warnings."""
    targets: list[Target] = []
    warnings: list[str] = []
    seen: set[str] = set()

    def add(target: Target) -> None:
        key = os.fspath(target.real_path)
        if key not in seen:
            seen.add(key)
            targets.append(target)

    for raw in repos:
        path = resolve(raw)
        real = Path(os.path.realpath(path))
        problem = _repo_problem(path)
        add(Target(path, real, raw, error=f"{raw}: {problem}" if problem else None))

    for raw in roots:
        root = resolve(raw)
        try:
            with os.scandir(root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except NotADirectoryError as exc:
            problem = "not a directory" if os.path.exists(root) else _missing(exc)
            add(Target(root, Path(os.path.realpath(root)), raw, KIND_ROOT, f"{raw}: {problem}"))
            continue
        except OSError as exc:
            add(Target(root, Path(os.path.realpath(root)), raw, KIND_ROOT, f"{raw}: {_missing(exc)}"))
            continue
        for entry in entries:
            label = _join_label(raw, text(entry.name))
            try:
                if not entry.is_dir():
                    continue
                os.stat(os.path.join(entry.path, ".git"))
            except (FileNotFoundError, NotADirectoryError):
                continue  # a plain folder, or a symlink to nowhere
            except OSError as exc:
                warnings.append(f"{label}: skipped, {(exc.strerror or str(exc)).lower()}")
                continue
            path = root / entry.name
            add(Target(path, Path(os.path.realpath(path)), label))
    return targets, warnings


# ------------------------------------------------------------------ processes


def _readable_git_dir(worktree: Path) -> bool:
    try:
        git_dir = gitrun.find_git_dir(worktree)
    except OSError:
        return False
    if git_dir is None:
        return os.access(worktree / ".git", os.R_OK)
    return os.access(git_dir, os.R_OK | os.X_OK) and os.access(git_dir / "HEAD", os.R_OK)


# ------------------------------------------------------------------ items


def attention(s: RepoStatus, changes: int) -> list[str]:
    """Short reasons a person should look at the repository, most pressing first.

    `changes` counts status entries (changed tracked paths plus untracked ones), as
    `git status --short | wc -l` would; conflicts have their own reason.
    """
    out: list[str] = []
    if s.operation is not None:
        out.append(f"{s.operation} in progress")
    if s.conflicted:
        out.append(_plural(s.conflicted, "conflicted file"))
    if s.detached and s.operation not in ("rebase", "am", "bisect"):  # those detach HEAD by design
        out.append("detached HEAD")
    if changes:
        out.append(_plural(changes, "uncommitted change"))
    if s.ahead:
        out.append(_plural(s.ahead, "unpushed commit"))
    if s.behind:
        out.append(f"behind upstream by {s.behind}")
    if s.upstream_gone:
        out.append(f"upstream {s.upstream} is gone")
    return out


def repo_status(target: Target, st: porcelain.Status, last: porcelain.LastCommit | None, operation: str | None) -> RepoStatus:
    status = RepoStatus(
        path=text(target.real_path),
        name=text(target.real_path.name),
        branch=st.head,
        detached=st.detached,
        head=last.short if last else (st.oid[:7] if st.oid else None),
        upstream=st.upstream,
        upstream_gone=st.upstream_gone,
        ahead=st.ahead,
        behind=st.behind,
        staged=st.staged,
        unstaged=st.unstaged,
        untracked=st.untracked,
        conflicted=st.conflicted,
        stashes=st.stashes,
        operation=operation,
        last_commit_at=utc_iso(dt.datetime.fromtimestamp(last.time, dt.timezone.utc)) if last else None,
        last_commit_subject=last.subject if last else None,
        needs_attention=False,
        attention=[],
    )
    reasons = attention(status, st.changed + st.untracked)
    return status.model_copy(update={"attention": reasons, "needs_attention": bool(reasons)})


@dataclass(frozen=True)
class _Kept:
    """A repository's item from a poll, and the token it was read under."""

    token: str
    item: StateItem
    last: porcelain.LastCommit | None


class GitSource:
    """All the configured repositories, polled together, asking git only where something changed.

    Each repository has a token (`watch.py`: inotify generations, or a stat digest)
    that stays the same while nothing git reads changes. The last few polls' items are
    kept with the token each was read under; a repository whose token now is one a
    kept item was read under is not asked again (that item is what git would say).
    The poll's fingerprint is the repositories' keys, tokens and a digest of each item;
    only when it equals the fingerprint the coordinator hands back (that of the last
    poll it stored) does the poll answer `PollResult.same_as_before`, so "unchanged"
    always means "what is stored". It also remembers what `git log` said about each
    repository's HEAD commit, keyed by the commit id (a commit never changes), so a
    repository that changed but whose HEAD stayed put costs one git process.
    """

    id = "git"
    KEEP = 3  # polls whose items are kept: the stored one, and the newer ones the coordinator may yet store

    def __init__(self, config: GitConfig, *, command_timeout: float = COMMAND_TIMEOUT, use_inotify: bool = True):
        self.config = config
        self.interval = config.interval
        self.stale_after = config.stale_after
        self.command_timeout = command_timeout
        self._use_inotify = use_inotify
        self._watch: watch.RepoWatch | None = None  # made in the poll's thread, on first use
        self._heads: dict[Path, porcelain.LastCommit] = {}  # real path -> its HEAD commit at the last poll
        self._kept: dict[str, dict[str, _Kept]] = {}  # fingerprint -> repository key -> its item

    def _prepare(self, resolve: Callable[[str], Path], previous: dict[str, _Kept] | None) -> tuple[list[Target], list[str], dict[str, str | None]]:
        """Discovery, each repository's token, and the operation under way where git will run: in a thread."""
        targets, warnings = discover(list(self.config.repos), list(self.config.roots), resolve)
        if self._watch is None:
            self._watch = watch.RepoWatch(use_inotify=self._use_inotify)
        tokens = self._watch.tokens({text(t.real_path): t.real_path for t in targets if t.error is None})
        for t in targets:
            key = text(t.real_path)
            kept = previous.get(key) if previous else None
            if t.error is None and (kept is None or tokens.get(key) != kept.token):
                t.operation = gitrun.operation(t.real_path)
        return targets, warnings, tokens

    async def poll(self, ctx: PollContext) -> PollResult:
        git = shutil.which("git")
        if git is None:
            raise SourceUnavailable("git is not installed: no `git` program on PATH")
        # An item read under the token a repository has now is right whichever poll read it; only
        # the whole answer "unchanged" must match what is stored (the fingerprint check below).
        previous: dict[str, _Kept] = {}
        for kept_poll in self._kept.values():  # oldest first, so the newest wins
            previous.update(kept_poll)
        targets, warnings, tokens = await asyncio.to_thread(self._prepare, ctx.resolve, previous)
        observed = utc_iso(ctx.now())
        timeout = min(self.command_timeout, ctx.timeout)
        limit = asyncio.Semaphore(self.config.concurrency)
        base_env = dict(os.environ)
        known, heads = self._heads, {}
        kept_now: dict[str, _Kept] = {}

        async def one(target: Target) -> StateItem:
            if target.error is not None:
                return self._error(target, observed, target.error)
            key = text(target.real_path)
            token = tokens.get(key)
            kept = previous.get(key) if previous else None
            if kept is not None and token is not None and kept.token == token:
                if kept.last is not None:
                    heads[target.real_path] = kept.last
                kept_now[key] = kept
                return kept.item
            async with limit:
                env = gitrun.git_env(base_env, target.real_path)
                message, st = self._status(target, await run_git(git, target.real_path, porcelain.STATUS_ARGS, env, timeout))
                if st is None:
                    return self._error(target, observed, message)
                last = None
                if st.oid is not None:  # None before the first commit, where git log fails
                    last = known.get(target.real_path)
                    if last is None or last.oid != st.oid:
                        message, last = self._log(target, await run_git(git, target.real_path, porcelain.LOG_ARGS, env, timeout))
                        if last is None:
                            return self._error(target, observed, message)
                    heads[target.real_path] = last
            status = repo_status(target, st, last, target.operation)
            item = StateItem(source=self.id, kind=KIND_REPO, key=status.path, observed_at=observed, data=status.model_dump())
            if token is not None:
                kept_now[key] = _Kept(token, item, last)
            return item

        items = await asyncio.gather(*(one(t) for t in targets))
        self._heads = heads
        fingerprint = _fingerprint(items, tokens, warnings)
        if fingerprint == ctx.previous_fingerprint:  # the stored items say just what these say
            return PollResult.same_as_before(fingerprint)
        self._kept[fingerprint] = kept_now
        while len(self._kept) > self.KEEP:
            del self._kept[next(iter(self._kept))]
        return PollResult(items=list(items), warnings=warnings, fingerprint=fingerprint)

    @staticmethod
    def _status(target: Target, run: Run) -> tuple[str, porcelain.Status | None]:
        failure = run.failure("git status")
        if failure is not None and b"not a git repository" in run.stderr:
            # the folder has a .git, but git does not recognise it: unreadable, or broken
            if _readable_git_dir(target.real_path):
                failure = "not a git repository (git does not recognise its .git)"
            else:
                failure = "permission denied (cannot read its .git)"
        if failure is not None:
            return f"{target.label}: {failure}", None
        try:
            return "", porcelain.parse_status(run.stdout.decode("utf-8", errors="replace"))
        except porcelain.ParseError as exc:
            return f"{target.label}: could not parse git status output: {exc}", None

    @staticmethod
    def _log(target: Target, run: Run) -> tuple[str, porcelain.LastCommit | None]:
        failure = run.failure("git log")
        if failure is not None:
            return f"{target.label}: {failure}", None
        try:
            return "", porcelain.parse_log(run.stdout)
        except porcelain.ParseError as exc:
            return f"{target.label}: could not parse git log output: {exc}", None

    def _error(self, target: Target, observed: str, message: str) -> StateItem:
        key = text(target.path)
        return StateItem(
            source=self.id, kind=target.kind, key=key, observed_at=observed,
            data={"path": key, "name": text(target.path.name)}, error=message,
        )


def _fingerprint(items: list[StateItem], tokens: dict[str, str | None], warnings: list[str]) -> str:
    """The repositories in order, each with its token and what its item says (not when it was observed)."""
    h = hashlib.blake2b(digest_size=16)
    for item in items:
        body = json.dumps([item.kind, item.data, item.error], sort_keys=True, default=str)
        h.update(f"{item.key}\0{tokens.get(item.key) or '-'}\0{body}\0".encode("utf-8", "surrogatepass"))
    for w in warnings:
        h.update(f"warning {w}\0".encode("utf-8", "surrogatepass"))
    return "git " + h.hexdigest()
