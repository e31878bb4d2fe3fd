"""Raw git: the commands a poll runs, and parsers for what they print.

No Oxymus types here, only git's formats: `git status --porcelain=v2 --branch
--show-stash` and one `git log -1` line. Everything is pure. git's environment and
the files in a git dir that say an operation is under way are in `oxymus.kernel.gitrun`.
"""

from __future__ import annotations

from dataclasses import dataclass

# `--no-optional-locks` is GIT_OPTIONAL_LOCKS=0 as a flag: status must not refresh
# and write the index (or take index.lock) behind the user's back.
STATUS_ARGS = ("--no-optional-locks", "status", "--porcelain=v2", "--branch", "--show-stash")
# %H: the commit (so the answer can be remembered by it); %h: abbreviated the way
# this repository's git abbreviates; %ct: committer time (epoch); %s: subject.
# A subject cannot contain NUL, so NUL separates the fields.
LOG_ARGS = ("--no-optional-locks", "log", "-1", "--no-show-signature", "--format=%H%x00%h%x00%ct%x00%s")


class ParseError(ValueError):
    """git printed something these parsers do not understand; str() says what."""


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
