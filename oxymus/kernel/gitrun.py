"""Running git: the one subprocess runner, git's environment, and what a git dir says.

The core (the publisher agent) and the git connector both run git through here: no
shell, stdin closed, the process leading its own group so a timeout or a cancel kills
git and whatever it started, and an environment that points git at the repository
named by `-C` only, in the C locale, never prompting, never taking optional locks.
Stdlib only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

# Variables that would point git at another repository than the one named by -C.
REPO_ENV_VARS = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_PREFIX",
)

OPERATIONS = ("merge", "rebase", "am", "cherry-pick", "revert", "bisect")


def without_repo_vars(base: dict[str, str]) -> dict[str, str]:
    """`base` without the variables that would point git (or a tool running git) elsewhere."""
    return {k: v for k, v in base.items() if k not in REPO_ENV_VARS}


def git_env(base: dict[str, str], repo: Path) -> dict[str, str]:
    """The environment for git in `repo`: read-only, C locale, never prompting, and
    never wandering above `repo` to find a repository (so a broken `.git` is an
    error, not the status of whatever repository contains `repo`)."""
    env = without_repo_vars(base)
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CEILING_DIRECTORIES"] = os.fsdecode(repo.parent)
    return env


def git_message(stderr: bytes, returncode: int) -> str:
    """The line of git's stderr that says what went wrong (its `fatal:` line if any)."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    chosen = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[0] if lines else "")
    for prefix in ("fatal: ", "error: "):
        if chosen.startswith(prefix):
            chosen = chosen[len(prefix):]
            break
    if not chosen:
        return f"exit status {returncode}"
    return chosen if len(chosen) <= 240 else chosen[:239] + "…"


@dataclass
class Run:
    """One finished process, or why it did not finish."""

    returncode: int = -1
    stdout: bytes = b""
    stderr: bytes = b""
    problem: str | None = None  # timed out, could not start
    timed_out: bool = False

    def failure(self, what: str) -> str | None:
        if self.problem is not None:
            return f"{what} {self.problem}"
        if self.returncode != 0:
            return f"{what} failed: {git_message(self.stderr, self.returncode)}"
        return None


def kill_group(proc: asyncio.subprocess.Process | subprocess.Popen) -> None:
    """Kill the process and anything it started (it leads its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


async def run_process(argv: list[str] | tuple[str, ...], *, env: dict[str, str], timeout: float,
                      cwd: str | os.PathLike | None = None, merge_stderr: bool = False, name: str | None = None) -> Run:
    """Run argv (no shell) in its own process group; never raises except when cancelled
    (the process is then killed). With `merge_stderr`, stderr goes into stdout. `name`
    is how a failure to start names the program (default: argv[0])."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            env=env, start_new_session=True,
        )
    except OSError as exc:
        return Run(problem=f"could not start {name or os.fsdecode(argv[0])}: {exc.strerror or exc}")
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        kill_group(proc)
        await proc.wait()
        return Run(problem=f"timed out after {timeout:g} s", timed_out=True)
    except BaseException:
        kill_group(proc)
        raise
    return Run(proc.returncode if proc.returncode is not None else -1, out, err or b"")


_spawner: concurrent.futures.ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    # Its own threads, not asyncio's default executor (min(32, CPUs + 4) threads shared with
    # every other to_thread): 50 repositories' git processes must not starve the rest.
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="oxymus-spawn")
        return _spawner


def run_blocking(argv: list[str] | tuple[str, ...], *, env: dict[str, str], timeout: float,
                 cwd: str | os.PathLike | None = None, name: str | None = None, cancelled: threading.Event | None = None,
                 started: list | None = None) -> Run:
    """`run_process` for a worker thread: the same process group, timeout and kill. `started`
    gets the Popen (so the caller can kill it); a set `cancelled` kills it as soon as it starts."""
    try:
        # close_fds and no preexec_fn: CPython then starts the child with vfork(), so
        # the cost does not grow with the daemon's memory.
        proc = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, start_new_session=True, close_fds=True,
        )
    except OSError as exc:
        return Run(problem=f"could not start {name or os.fsdecode(argv[0])}: {exc.strerror or exc}")
    if started is not None:
        started.append(proc)
    if cancelled is not None and cancelled.is_set():
        kill_group(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        proc.communicate()
        return Run(problem=f"timed out after {timeout:g} s", timed_out=True)
    except BaseException:
        kill_group(proc)
        proc.wait()
        raise
    return Run(proc.returncode, out, err or b"")


async def run_git(git: str, repo: Path, args: tuple[str, ...], env: dict[str, str], timeout: float) -> Run:
    """Run `git -C repo args...` from a worker thread; never raises except when cancelled
    (git is then killed)."""
    cancelled, started = threading.Event(), []
    call = functools.partial(run_blocking, (git, "-C", repo, *args), env=env, timeout=timeout, name="git",
                             cancelled=cancelled, started=started)
    future = asyncio.get_running_loop().run_in_executor(_pool(), call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancelled.set()
        for proc in started:
            kill_group(proc)
        raise


def find_git_dir(worktree: Path) -> Path | None:
    """The git dir of a working tree, as git finds it: `.git` itself, or the
    directory a `.git` file names (`gitdir: ...`, used by linked worktrees and
    submodules; relative to the worktree). None if neither makes sense."""
    dot_git = worktree / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        with open(dot_git, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    text = head.decode("utf-8", errors="surrogateescape").strip()
    if not text.startswith("gitdir:"):
        return None
    target = Path(text[len("gitdir:"):].strip())
    if not target.is_absolute():
        target = worktree / target
    return target if target.is_dir() else None


def operation_in_progress(git_dir: Path) -> str | None:
    """The operation a stopped command left under way, read from the git dir the way
    `git status` does: rebase (or am) first, since `rebase -r` can also leave a
    MERGE_HEAD, then merge, cherry-pick, revert (a stopped sequence counts too), bisect."""
    if (git_dir / "rebase-merge").is_dir():
        return "rebase"
    if (git_dir / "rebase-apply").is_dir():
        return "am" if (git_dir / "rebase-apply" / "applying").exists() else "rebase"
    if (git_dir / "MERGE_HEAD").exists():
        return "merge"
    if (git_dir / "CHERRY_PICK_HEAD").exists():
        return "cherry-pick"
    if (git_dir / "REVERT_HEAD").exists():
        return "revert"
    todo = git_dir / "sequencer" / "todo"
    if todo.is_file():
        try:
            with open(todo, "rb") as f:
                first = f.readline().split(maxsplit=1)
        except OSError:
            first = []
        if first and first[0] in (b"pick", b"p"):
            return "cherry-pick"
        if first and first[0] == b"revert":
            return "revert"
    if (git_dir / "BISECT_LOG").exists():
        return "bisect"
    return None


def operation(worktree: Path) -> str | None:
    """The operation under way in a working tree; None also when the git dir cannot be
    read (git then fails too, and that is the error reported)."""
    try:
        git_dir = find_git_dir(worktree)
        return operation_in_progress(git_dir) if git_dir is not None else None
    except OSError:
        return None
