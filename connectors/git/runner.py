"""Running git for the write side (`git.commit`, `git.push`): a configured repository,
its git processes through `oxymus.kernel.gitrun`, and how their failures are classified
(retry or give up) in prepare and in execute.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from oxymus.actions.effects import ActionContext, ActionInvalid, EffectError, Permanent, Transient
from oxymus.connectors.git.source import KIND_REPO, discover, text
from oxymus.kernel import gitrun

if TYPE_CHECKING:
    from oxymus.connectors.git import GitConfig

T = TypeVar("T")


# Before the subcommand on every call: paths printed raw (with -z) rather than
# C-quoted, and nothing that could wait on a terminal.
GLOBAL_ARGS = ("--no-pager", "-c", "core.quotepath=off", "-c", "color.ui=false")
# Refuse to commit as a guessed identity (user@host.(none)): the person must say who they are.
IDENTITY_ARGS = ("-c", "user.useConfigOnly=true")

TRAILER = "Oxymus-Action"
HISTORY_SEARCHED = 500  # commits of HEAD's history searched for an earlier run's trailer
MAX_BODY = 200_000  # characters of preview body; a person cannot review more anyway

NOT_CONFIGURED = "payload.repo: no [git] section in config.toml; add the repo to [git] repos"

# How git says a failure that retrying can fix, and one it cannot. Permanent ones are
# tried first: "unable to access ... returned error: 403" is an auth failure.
PERMANENT_PATTERNS = re.compile(
    r"rejected|non-fast-forward|fetch first|Authentication failed|Permission denied|could not read (Username|Password)"
    r"|terminal prompts disabled|does not appear to be a git repository|Repository not found"
    r"|returned error: (401|403|404)|HTTP (401|403|404)",
    re.IGNORECASE,
)
TRANSIENT_PATTERNS = re.compile(
    r"Could not resolve host|Connection refused|Connection timed out|Operation timed out|timed out"
    r"|unable to access|hung up unexpectedly|Network is unreachable|No route to host|Connection reset"
    r"|early EOF|Temporary failure in name resolution|returned error: (5\d\d|429)|HTTP (5\d\d|429)",
    re.IGNORECASE,
)
LOCK_PATTERNS = re.compile(r"\.lock'?: File exists|index\.lock|cannot lock ref|Unable to create .*\.lock", re.IGNORECASE)
IDENTITY_PATTERNS = re.compile(
    r"Please tell me who you are|identity unknown|unable to auto-detect email|no (email|name) was given", re.IGNORECASE
)


# ------------------------------------------------------------------ running git


class GitFailed(Exception):
    """A git process that failed or did not finish; classified by the caller's phase."""

    def __init__(self, label: str, what: str, run: gitrun.Run):
        self.label, self.what, self.run = label, what, run
        super().__init__(f"{label}: {run.failure(f'git {what}') or f'git {what} failed'}")

    @property
    def stderr(self) -> str:
        return self.run.stderr.decode("utf-8", errors="replace")

    def line(self, pattern: re.Pattern[str]) -> str:
        """git's own line matching `pattern` (the informative one), else its fatal line."""
        if self.run.problem is not None:
            return f"git {self.what} {self.run.problem}"
        for ln in self.stderr.splitlines():
            if pattern.search(ln):
                ln = ln.strip()
                for prefix in ("fatal: ", "error: ", "remote: "):
                    ln = ln.removeprefix(prefix)
                return ln if len(ln) <= 240 else ln[:239] + "…"
        return gitrun.git_message(self.run.stderr, self.run.returncode)


@dataclasses.dataclass(frozen=True)
class Repo:
    """A configured repository, ready to run git in."""

    path: Path  # the real path; git runs here
    label: str  # as the payload spells it, for messages
    git: str
    env: dict[str, str]
    timeout: float

    def with_env(self, **extra: str) -> Repo:
        return dataclasses.replace(self, env={**self.env, **extra})

    async def run(self, *args: str, timeout: float | None = None) -> gitrun.Run:
        return await gitrun.run_git(self.git, self.path, (*GLOBAL_ARGS, *args), self.env, timeout or self.timeout)

    async def out(self, *args: str, timeout: float | None = None) -> bytes:
        """stdout of `git args...`; GitFailed unless it succeeds."""
        run = await self.run(*args, timeout=timeout)
        if run.problem is not None or run.returncode != 0:
            raise GitFailed(self.label, _what(args), run)
        return run.stdout

    async def rev(self, name: str) -> str | None:
        """The full id of commit `name`, or None if there is no such commit."""
        run = await self.run("rev-parse", "--verify", "-q", f"{name}^{{commit}}")
        if run.problem is not None or run.returncode not in (0, 1):
            raise GitFailed(self.label, "rev-parse", run)
        return run.stdout.decode("ascii", errors="replace").strip() if run.returncode == 0 else None

    async def is_ancestor(self, older: str, newer: str) -> bool:
        run = await self.run("merge-base", "--is-ancestor", older, newer)
        if run.problem is not None or run.returncode not in (0, 1):
            raise GitFailed(self.label, "merge-base", run)
        return run.returncode == 0

    async def empty_tree(self) -> str:
        # Not written (no -w); git knows the empty tree in either object format.
        return (await self.out("hash-object", "-t", "tree", "--stdin")).decode("ascii").strip()


def _what(args: tuple[str, ...]) -> str:
    """The subcommand in `args` (after any `-c x=y`), for messages."""
    it = iter(args)
    for a in it:
        if a == "-c":
            next(it, None)
        elif not a.startswith("-"):
            return a
    return "command"


def split0(raw: bytes) -> list[str]:
    return [os.fsdecode(p) for p in raw.split(b"\0") if p]


def classify(exc: GitFailed) -> EffectError:
    """The failure as execution reports it: retry (Transient) or give up (Permanent)."""
    run, where = exc.run, f"{exc.label}: git {exc.what}"
    if run.problem is not None:
        if run.problem.startswith("timed out"):
            return Transient(f"{where} {run.problem}")
        return Permanent(f"{where}: {run.problem}")
    err = exc.stderr
    if IDENTITY_PATTERNS.search(err):
        return Permanent(
            f"{exc.label}: git has no identity to commit as; set user.name and user.email "
            "(git config --global user.name 'Your Name'; git config --global user.email you@example.com)"
        )
    if LOCK_PATTERNS.search(err):
        return Transient(f"{where}: another git process is using the repository ({exc.line(LOCK_PATTERNS)})")
    if PERMANENT_PATTERNS.search(err):
        return Permanent(f"{where} failed: {exc.line(PERMANENT_PATTERNS)}")
    if TRANSIENT_PATTERNS.search(err):
        return Transient(f"{where} failed: {exc.line(TRANSIENT_PATTERNS)}")
    return Permanent(str(exc))


async def preparing(step: Awaitable[T]) -> T:
    """prepare() refuses the proposal, naming the repo, when git itself fails."""
    try:
        return await step
    except GitFailed as exc:
        raise ActionInvalid(f"payload.repo: {exc}") from None


async def executing(step: Awaitable[T]) -> T:
    """execute() turns a refusal (the repo is gone, no longer configured) into a
    Permanent failure and classifies git's own failures."""
    try:
        return await step
    except ActionInvalid as exc:
        raise Permanent(str(exc)) from None
    except GitFailed as exc:
        raise classify(exc) from None


# ------------------------------------------------------------------ the repository


async def locate(config: GitConfig | None, raw: str, ctx: ActionContext) -> Repo:
    """The repository `raw` names, if it is one the person configured; else ActionInvalid."""
    if config is None:
        raise ActionInvalid(NOT_CONFIGURED)
    git = shutil.which("git")
    if git is None:
        raise ActionInvalid("payload.repo: git is not installed: no `git` program on PATH")
    real = Path(os.path.realpath(ctx.resolve(raw)))
    # The read side's discovery, so "configured" means exactly the repos that are watched.
    targets, _ = await asyncio.to_thread(discover, list(config.repos), list(config.roots), ctx.resolve)
    target = next((t for t in targets if t.kind == KIND_REPO and t.real_path == real), None)
    if target is None:
        raise ActionInvalid(
            f"payload.repo: {raw} is not a repository Oxymus watches; add it to [git] repos = [...] "
            "(or its parent folder to [git] roots) in config.toml"
        )
    if target.error is not None:
        raise ActionInvalid(f"payload.repo: {target.error}")
    env = gitrun.git_env(dict(os.environ), real)
    # Literal pathspecs: a path named `*.md` or `:(top)` means that file, not a pattern.
    env.update(GIT_EDITOR=":", GIT_SEQUENCE_EDITOR=":", GIT_PAGER="cat", GIT_MERGE_AUTOEDIT="no", GIT_LITERAL_PATHSPECS="1")
    repo = Repo(real, raw, git, env, ctx.timeout)
    top = (await repo.out("rev-parse", "--show-toplevel")).rstrip(b"\n")
    if os.path.realpath(os.fsdecode(top)) != os.fspath(real):
        raise ActionInvalid(f"payload.repo: {raw} is inside the repository {text(top)}, not the top of one")
    return repo


@contextlib.asynccontextmanager
async def scratch_index(repo: Repo) -> AsyncIterator[Repo]:
    """`repo` with git reading a copy of its index: whatever git refreshes as it
    reads (`git diff` does, optional locks or not) lands in the copy."""
    where = (await repo.out("rev-parse", "--git-path", "index")).rstrip(b"\n")
    index = repo.path / os.fsdecode(where)  # absolute stays absolute
    with tempfile.TemporaryDirectory(prefix="oxymus-git-") as tmp:
        copy = Path(tmp) / "index"
        await asyncio.to_thread(_copy_if_exists, index, copy)
        yield repo.with_env(GIT_INDEX_FILE=os.fspath(copy))


def _copy_if_exists(src: Path, dst: Path) -> None:
    try:
        shutil.copyfile(src, dst)
    except FileNotFoundError:
        pass  # no index yet: git reads an empty one, which is the truth


async def find_commit(repo: Repo, key: str) -> tuple[str, str] | None:
    """(sha, subject) of the commit in HEAD's recent history carrying `key` as its trailer."""
    if await repo.rev("HEAD") is None:
        return None
    raw = await repo.out(
        "log", f"-n{HISTORY_SEARCHED}", "--no-show-signature",
        f"--format=%H%x00%s%x00%(trailers:key={TRAILER},valueonly)%x1e", "HEAD",
    )
    for record in raw.split(b"\x1e"):
        sha, _, rest = record.strip(b"\n").partition(b"\0")
        subj, _, values = rest.partition(b"\0")
        if key in (v.strip() for v in values.decode("utf-8", errors="replace").splitlines()):
            return sha.decode("ascii"), subj.decode("utf-8", errors="replace")
    return None
