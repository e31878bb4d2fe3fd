"""Which repositories may have changed since they were last asked: one token per repository.

A repository's token is a short string that is the same at two polls only if
nothing that `git status` or `git log -1` read changed in between, so the git source
can reuse the answer it got under that token instead of running git again.

- With inotify (Linux), one descriptor watches, per repository: every folder of the
  working tree (not `.git`, not a nested repository's folders, symlinks not
  followed), the git dir (HEAD, index, packed-refs, config, FETCH_HEAD, the marker
  files of a merge or a rebase), its common dir in a linked worktree, every folder
  under `refs/` and `logs/refs` (the stash's reflog). Any event in them bumps the
  repository's generation; the token is the descriptor's instance and the generation.
  Events are read only when tokens are asked for (at each poll): the kernel queues
  them meanwhile, and a full queue (an overflow) starts a new instance, so every token
  changes. A folder created in a watched tree is watched at once; a watched folder
  that is moved or deleted, or a new folder in the git dir, makes its repository's
  watches be set up again.
- A repository that cannot be watched whole (more than `max_dirs` folders, a quarter
  of the user's inotify watches (`fs.inotify.max_user_watches`) already taken by the
  source, the limit reached, a folder unreadable) has no token: git runs every time,
  as before.
- Without inotify, the token is a digest of the `lstat` of every entry in those same
  folders (what git itself compares), with no token when any of them changed in the
  last `RACY_S` seconds (a write within the file system's time granularity could
  otherwise go unseen, git's "racy" case).

Tokens are read before git runs, so a change made while git runs shows up at the
next poll. Not seen (documented weaknesses): a change to a global excludes file or
to `~/.gitconfig`, and a commit inside a submodule that changes no file.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from oxymus.kernel import gitrun, inotify

log = logging.getLogger("oxymus.connectors.git.watch")

MAX_DIRS = 4000  # folders per repository; beyond it git runs at every poll
MAX_SHARE = 4  # use at most 1/MAX_SHARE of the user's inotify watches (editors and sync tools need theirs)
MAX_STAT_ENTRIES = 50_000  # entries the stat fallback looks at per repository
RACY_S = 2.0
_MASK = inotify.CHANGES | inotify.IN_ONLYDIR | inotify.IN_DONT_FOLLOW
_NEW_DIR = inotify.IN_CREATE | inotify.IN_MOVED_TO
_RESET = inotify.IN_DELETE_SELF | inotify.IN_MOVE_SELF | inotify.IN_IGNORED
_instances = itertools.count(1)


class _TooMany(Exception):
    pass


@dataclass
class _Repo:
    generation: int = 0
    wds: set[int] = field(default_factory=set)
    watched: bool = False  # every folder is watched: the token can be trusted
    reset: bool = True  # set the watches up (again) before the next token


@dataclass(frozen=True)
class _Dir:
    repo: str
    path: str
    recursive: bool  # a new folder inside it gets watched too (work tree, refs)


def _parts(worktree: Path) -> list[tuple[str, bool]]:
    """The folders to watch besides the working tree: (path, recursive)."""
    git_dir = gitrun.find_git_dir(worktree)
    if git_dir is None:
        raise OSError(f"{worktree}: no readable git dir")
    common = git_dir
    try:
        line = (git_dir / "commondir").read_text(encoding="utf-8", errors="surrogateescape").strip()
        if line:
            common = (git_dir / line).resolve()
    except FileNotFoundError:
        pass
    parts = [(os.fspath(git_dir), False)]
    if common != git_dir:
        parts.append((os.fspath(common), False))
    parts += [(os.fspath(common / "refs"), True), (os.fspath(common / "logs" / "refs"), False)]
    return parts


def _subdirs(path: str) -> list[str]:
    """The folders to descend into: not `.git`, not symlinks, not a nested repository."""
    out = []
    with os.scandir(path) as it:
        for entry in it:
            if entry.name == ".git":
                continue
            if entry.is_dir(follow_symlinks=False):
                if os.path.isdir(os.path.join(entry.path, ".git")):
                    continue  # a repository of its own: its changes are not this one's status
                out.append(entry.path)
    return out


def _watch_budget() -> int:
    try:
        with open("/proc/sys/fs/inotify/max_user_watches") as f:
            return max(100, int(f.read()) // MAX_SHARE)
    except (OSError, ValueError):
        return 8192 // MAX_SHARE


class RepoWatch:
    """Tokens for a set of repositories (keys are their real paths), kept between polls."""

    def __init__(self, *, use_inotify: bool = True, max_dirs: int | None = None):
        self.max_dirs = max_dirs or MAX_DIRS
        self.budget = _watch_budget()
        self._repos: dict[str, _Repo] = {}
        self._dirs: dict[int, dict[str, _Dir]] = {}  # wd -> repo -> what it is for that repo
        self._ino: inotify.Inotify | None = None
        self._instance = 0
        self.method = "stat"
        if use_inotify:
            self._ino, why = inotify.Inotify.open()
            if self._ino is None:
                log.info("%s: repositories are checked by stat before each poll", why)
            else:
                self._instance, self.method = next(_instances), "inotify"

    def close(self) -> None:
        if self._ino is not None:
            self._ino.close()

    def tokens(self, worktrees: dict[str, Path]) -> dict[str, str | None]:
        """Each repository's token now (None: cannot tell, ask git). Blocking file system work."""
        if self._ino is None:
            return {key: _stat_token(path) for key, path in worktrees.items()}
        for gone in set(self._repos) - set(worktrees):
            self._unwatch(gone)
            del self._repos[gone]
        self._drain()
        if self._ino is None:  # an overflow, and inotify could not be opened again
            return {key: _stat_token(path) for key, path in worktrees.items()}
        out: dict[str, str | None] = {}
        for key, path in worktrees.items():
            repo = self._repos.setdefault(key, _Repo())
            if repo.reset:
                self._setup(key, path, repo)
            out[key] = f"i{self._instance}.{repo.generation}" if repo.watched else None
        return out

    # -- inotify

    def _drain(self) -> None:
        assert self._ino is not None
        events = self._ino.read()
        if any(e.overflow for e in events):
            log.info("inotify queue overflowed: every repository is asked again")
            self._ino.close()
            self._ino, _ = inotify.Inotify.open()
            self._instance = next(_instances)
            self._dirs.clear()
            for repo in self._repos.values():
                repo.wds.clear()
                repo.reset = True
            if self._ino is None:
                self.method = "stat"
            return
        for ev in events:
            for d in list(self._dirs.get(ev.wd, {}).values()):
                repo = self._repos.get(d.repo)
                if repo is None or repo.reset:
                    continue
                repo.generation += 1
                if ev.mask & _RESET:
                    repo.reset = True
                elif ev.mask & _NEW_DIR and ev.mask & inotify.IN_ISDIR:
                    if not d.recursive:
                        repo.reset = True  # a new folder in the git dir (logs/, refs/, rebase-merge/)
                    elif ev.name != ".git":
                        try:
                            self._watch_tree(d.repo, repo, os.path.join(d.path, ev.name), True)
                        except (OSError, _TooMany):
                            repo.reset = True

    def _setup(self, key: str, worktree: Path, repo: _Repo) -> None:
        self._unwatch(key)
        repo.reset, repo.watched = False, False
        repo.generation += 1
        try:
            self._watch_tree(key, repo, os.fspath(worktree), True)
            for path, recursive in _parts(worktree):
                if os.path.isdir(path):
                    self._watch_tree(key, repo, path, recursive)
        except _TooMany:
            log.info("%s: more than %d folders, or the watch budget (%d) spent: git runs at every poll",
                     worktree, self.max_dirs, self.budget)
            self._unwatch(key)
            return
        except OSError as exc:
            log.info("%s: cannot watch (%s), git runs at every poll", worktree, exc.strerror or exc)
            self._unwatch(key)
            repo.reset = exc.errno != errno.ENOSPC  # ENOSPC stays until watches are freed; other errors retry
            return
        repo.watched = True

    def _watch_tree(self, key: str, repo: _Repo, top: str, recursive: bool) -> None:
        assert self._ino is not None
        stack = [top]
        while stack:
            path = stack.pop()
            if len(repo.wds) >= self.max_dirs or len(self._dirs) >= self.budget:
                raise _TooMany
            wd = self._ino.add(path, _MASK)  # before listing: a folder made meanwhile is seen either way
            repo.wds.add(wd)
            self._dirs.setdefault(wd, {})[key] = _Dir(key, path, recursive)
            if recursive:
                stack.extend(_subdirs(path))

    def _unwatch(self, key: str) -> None:
        repo = self._repos.get(key)
        if repo is None:
            return
        for wd in repo.wds:
            users = self._dirs.get(wd)
            if users is not None:
                users.pop(key, None)
                if not users:
                    del self._dirs[wd]
                    if self._ino is not None:
                        self._ino.remove(wd)
        repo.wds.clear()


# ---------------------------------------------------------------- stat fallback


def _stat_token(worktree: Path) -> str | None:
    """A digest of every entry's lstat in the folders git reads; None when it cannot be trusted."""
    h = hashlib.blake2b(digest_size=16)
    newest = 0
    count = 0
    try:
        tops = [(os.fspath(worktree), True), *_parts(worktree)]
    except OSError:
        return None
    for top, recursive in tops:
        stack = [top]
        while stack:
            path = stack.pop()
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except FileNotFoundError:
                h.update(f"{path} missing\0".encode("utf-8", "surrogateescape"))
                continue
            except OSError:
                return None
            for entry in entries:
                count += 1
                if count > MAX_STAT_ENTRIES:
                    return None
                if entry.name == ".git" and recursive:
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
                h.update(f"{entry.path}\0{st.st_mode}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0"
                         .encode("utf-8", "surrogateescape"))
                if recursive and stat.S_ISDIR(st.st_mode) and not os.path.isdir(os.path.join(entry.path, ".git")):
                    stack.append(entry.path)
    if time.time_ns() - newest < RACY_S * 1e9:
        return None
    return "s" + h.hexdigest()
