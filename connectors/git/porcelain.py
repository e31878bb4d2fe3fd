"""Raw git: the commands a poll runs, and parsers for what they print.

No Oxymus types here, only git's formats: `git status --porcelain=v2 --branch
--show-stash`, one `git log -1` line, and the files in a git dir that say an
operation (merge, rebase, ...) is under way. Everything is pure or reads only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# `--no-optional-locks` is GIT_OPTIONAL_LOCKS=0 as a flag: status must not refresh
# and write the index (or take index.lock) behind the user's back.
STATUS_ARGS = ("--no-optional-locks", "status", "--porcelain=v2", "--branch", "--show-stash")
# %H: the commit (so the answer can be remembered by it); %h: abbreviated the way
# this repository's git abbreviates; %ct: committer time (epoch); %s: subject.
# A subject cannot contain NUL, so NUL separates the fields.
LOG_ARGS = ("--no-optional-locks", "log", "-1", "--no-show-signature", "--format=%H%x00%h%x00%ct%x00%s")

# Variables that would point git at another repository than the one named by -C.
REPO_ENV_VARS = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_PREFIX",
)

OPERATIONS = ("merge", "rebase", "am", "cherry-pick", "revert", "bisect")


class ParseError(ValueError):
    """git printed something these parsers do not understand; str() says what."""


def git_env(base: dict[str, str], repo: Path) -> dict[str, str]:
    """The environment for git in `repo`: read-only, C locale, never prompting, and
    never wandering above `repo` to find a repository (so a broken `.git` is an
    error, not the status of whatever repository contains `repo`)."""
    env = {k: v for k, v in base.items() if k not in REPO_ENV_VARS}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CEILING_DIRECTORIES"] = os.fsdecode(repo.parent)
    return env


@dataclass
class Status:
    """What `git status --porcelain=v2 --branch --show-stash` says."""

    oid: str | None = None  # None before the first commit ("(initial)")
    head: str | None = None  # branch name, None when detached
    detached: bool = False
    upstream: str | None = None
    ahead: int = 0
    behind: int = 0
    upstream_gone: bool = False  # an upstream is configured but its ref is missing
    stashes: int = 0
    staged: int = 0
    unstaged: int = 0
    untracked: int = 0
    conflicted: int = 0
    changed: int = 0  # tracked paths with any change (staged or not), conflicts excluded


def _xy(fields: list[str], line: str) -> str:
    if len(fields) < 2 or len(fields[1]) != 2:
        raise ParseError(f"bad entry {line[:80]!r}")
    return fields[1]


def parse_status(text: str) -> Status:
    """Parse porcelain v2 (without -z: paths with odd characters arrive quoted, on one line)."""
    st = Status()
    seen_oid = False
    seen_ab = False
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# "):
            key, _, value = line[2:].partition(" ")
            if key == "branch.oid":
                seen_oid = True
                st.oid = None if value == "(initial)" else value
            elif key == "branch.head":
                if value == "(detached)":
                    st.detached = True
                elif not value:
                    raise ParseError(f"bad header {line[:80]!r}")
                else:
                    st.head = value
            elif key == "branch.upstream":
                st.upstream = value or None
            elif key == "branch.ab":
                parts = value.split(" ")
                if len(parts) != 2 or not parts[0].startswith("+") or not parts[1].startswith("-"):
                    raise ParseError(f"bad header {line[:80]!r}")
                try:
                    st.ahead, st.behind = int(parts[0][1:]), int(parts[1][1:])
                except ValueError:
                    raise ParseError(f"bad header {line[:80]!r}") from None
                seen_ab = True
            elif key == "stash":
                try:
                    st.stashes = int(value)
                except ValueError:
                    raise ParseError(f"bad header {line[:80]!r}") from None
            # other headers: newer git may add some; they are not ours to fail on
            continue
        kind = line[0]
        if kind in "12":
            xy = _xy(line.split(" ", 2), line)
            st.changed += 1
            if xy[0] != ".":
                st.staged += 1
            if xy[1] != ".":
                st.unstaged += 1
        elif kind == "u":
            _xy(line.split(" ", 2), line)
            st.conflicted += 1
        elif kind == "?":
            st.untracked += 1
        elif kind == "!":
            pass  # ignored files, only listed with --ignored
        else:
            raise ParseError(f"unexpected line {line[:80]!r}")
    if not seen_oid:
        raise ParseError("no '# branch.oid' header")
    if st.head is None and not st.detached:
        raise ParseError("no '# branch.head' header")
    if st.upstream is not None and not seen_ab:
        st.upstream_gone = True
    return st


@dataclass(frozen=True)
class LastCommit:
    oid: str
    short: str
    time: int  # seconds since the epoch
    subject: str


def parse_log(raw: bytes) -> LastCommit:
    """One `%H%x00%h%x00%ct%x00%s` line. The subject's bytes are whatever the commit
    holds, so they are decoded leniently."""
    parts = raw.rstrip(b"\n").split(b"\x00")
    if len(parts) != 4:
        raise ParseError(f"unexpected git log output {raw[:80]!r}")
    try:
        oid, short = parts[0].decode("ascii"), parts[1].decode("ascii")
        when = int(parts[2])
    except (UnicodeDecodeError, ValueError):
        raise ParseError(f"unexpected git log output {raw[:80]!r}") from None
    if not oid or not short:
        raise ParseError(f"unexpected git log output {raw[:80]!r}")
    return LastCommit(oid, short, when, parts[3].decode("utf-8", errors="replace"))


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
