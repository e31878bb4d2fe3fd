"""git's write side: the `git.commit` and `git.push` action kinds.

Both act only on repositories the person configured (`[git] repos`, or a direct
subfolder of a `[git] roots` folder), compared by real path, and run git the way
the read side does (`oxymus.kernel.gitrun.run_git`: no shell, own process group, killed on
timeout), with no prompt, pager or editor.

`git.commit` commits the changes under a list of paths, and nothing else. Its
`prepare()` pins a digest of those changes (the files' paths and contents as the
person sees them in the preview) and must not write to the repository: git's diff
refreshes the index it reads even with optional locks off, so prepare's git
commands read a scratch copy of the index in a temporary folder. `execute()`
finds an earlier run by the `Oxymus-Action: <key>` trailer, refuses if the files
moved since approval, stages the paths and commits them with `--only`, which
leaves whatever else the person had staged staged and uncommitted. If the commit
itself fails (a hook, a signing error), the paths stay staged.

`git.commit` may also carry `files` (path -> the full UTF-8 text to write there)
and `push` ({remote, branch}): one approval for "write these files, commit them,
push". prepare() writes nothing: each file must be absent or committed and clean
(nothing of the person's is overwritten), its preview is the diff from what is
there to the new text, and the digest pins what each file replaces (`replaces`)
and the new text. execute() writes the files atomically, commits exactly them
(and `paths`) with the trailer, then pushes that commit the way `git.push` does.
A retry after a crash finds a file already holding its new text (written, not
committed), the commit by its trailer, and the push done when the remote branch
has the commit. With `push` the risk is high and the scope external
(`risk_of`, `scope_of`).

`git.push` pushes one pinned commit to one branch of a named remote, never forced.
It is done already when the remote branch contains the commit, and refused when
the remote branch has moved somewhere the commit does not contain.

This module is `git.commit`; `git.push` is `push.py` (imported here, so both kinds
import from here), and both run git through `runner.py`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import posixpath
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oxymus.actions.effects import (
    ActionContext, ActionInvalid, ActionSpec, NotCompensable, Permanent, Prepared, Preview, Receipt, Risk, Scope,
    Transient,
)

# GitPushSpec, GitFailed and classify are imported from here too (the connector, the tests).
from oxymus.connectors.git.push import FULL_ID, GitPushSpec, PushTarget, push_check, push_commit  # noqa: F401
from oxymus.connectors.git.runner import (  # noqa: F401
    IDENTITY_ARGS, MAX_BODY, TRAILER, GitFailed, Repo, classify, executing, find_commit, locate, preparing,
    scratch_index, split0,
)
from oxymus.connectors.git.source import _plural, text
from oxymus.kernel import gitrun
from oxymus.kernel.files import write_atomic
from oxymus.kernel.textdiff import unified_diff

MAX_NEW_FILE_DIFFS = 100  # untracked files shown in full in a commit preview
MAX_FILES = 50  # files one commit may write
MAX_FILE_CHARS = 1_000_000  # characters of one file written by a commit
ABSENT = "absent"  # what `replaces` says of a file that does not exist yet


# ------------------------------------------------------------------ git.commit


class CommitPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo: str = Field(min_length=1, description="the repository's path (~ allowed), one configured under [git]")
    paths: list[str] = Field(default_factory=list, max_length=200,
                             description="files or folders whose changes to commit, relative to the repository")
    files: dict[str, str] | None = Field(
        default=None, description="files to write before committing: path (relative to the repository) -> its full UTF-8 text",
    )
    message: str = Field(min_length=1, max_length=10_000, description="the commit message")
    push: PushTarget | None = Field(default=None, description="after committing, push the commit to this remote branch")
    digest: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$",
        description="pinned by prepare: sha256 of the changes approved; execution refuses if they moved",
    )
    replaces: dict[str, str] | None = Field(
        default=None, description="pinned by prepare: per file of `files`, sha256 of what it holds now ('absent' if nothing)",
    )

    @model_validator(mode="after")
    def _something(self) -> CommitPayload:
        if not self.paths and not self.files:
            raise ValueError("give paths to commit, files to write, or both")
        if self.files is not None:
            if len(self.files) > MAX_FILES:
                raise ValueError(f"files: at most {MAX_FILES} files")
            for name, content in self.files.items():
                if len(content) > MAX_FILE_CHARS:
                    raise ValueError(f"files[{name!r}]: more than {MAX_FILE_CHARS} characters")
        return self


def clean_paths(paths: Iterable[str]) -> list[str]:
    """The paths normalised (`./a/` -> `a`), deduplicated; ActionInvalid for one that
    is absolute, leaves the repository or reaches into `.git`."""
    out: list[str] = []
    for i, raw in enumerate(paths):
        where = f"payload.paths[{i}]"
        if not raw.strip() or "\0" in raw:
            raise ActionInvalid(f"{where}: empty path")
        if raw.startswith("/") or os.path.isabs(raw):
            raise ActionInvalid(f"{where}: {raw} is absolute; give paths relative to the repository")
        norm = posixpath.normpath(raw)
        if norm == ".." or norm.startswith("../"):
            raise ActionInvalid(f"{where}: {raw} is outside the repository")
        if norm.split("/", 1)[0] == ".git":
            raise ActionInvalid(f"{where}: {raw} is inside .git")
        if norm not in out:
            out.append(norm)
    return out


def subject(message: str) -> str:
    return next((ln.strip() for ln in message.splitlines() if ln.strip()), "")


@dataclasses.dataclass
class Changes:
    """What committing `paths` would change, relative to `base` (HEAD, or the empty tree)."""

    base: str
    tracked: list[str]  # differ from base: modified, deleted, added to the index, type changed
    untracked: list[str]  # new files, not ignored
    present: set[str]  # paths in the index or untracked under the pathspecs, and their folders
    known: set[str]  # present, plus what only HEAD has (a deletion already staged)

    @property
    def files(self) -> list[str]:
        return sorted(set(self.tracked) | set(self.untracked))

    def matches(self, path: str) -> bool:
        return bool(self.known) if path == "." else path in self.known

    def stageable(self, path: str) -> bool:
        return bool(self.present) if path == "." else path in self.present


async def changes(repo: Repo, paths: list[str]) -> Changes:
    """Read with a scratch index: nothing here writes to the repository."""
    async with scratch_index(repo) as scratch:
        base = await scratch.rev("HEAD") or await scratch.empty_tree()
        tracked = split0(await scratch.out("diff", "--name-only", "-z", "--no-renames", "--ignore-submodules=all", base, "--", *paths))
        listed = split0(await scratch.out("ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard", "--", *paths))
    untracked, present = [], set()
    for entry in listed:
        tag, _, name = entry.partition(" ")
        if tag == "?":
            untracked.append(name)
        present.add(name)
    return Changes(base, tracked, untracked, with_folders(present), with_folders(present | set(tracked)))


def with_folders(names: set[str]) -> set[str]:
    out = set(names)
    for name in names:
        while (name := posixpath.dirname(name)) and name not in out:
            out.add(name)
    return out


def digest(root: Path, files: list[str]) -> str:
    """sha256 over each file's path and what is there now (content, link target, or deleted)."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(os.fsencode(name) + b"\0")
        for chunk in _state(root / name):
            h.update(chunk)
        h.update(b"\0\0")
    return h.hexdigest()


def _state(path: Path) -> Iterable[bytes]:
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            yield b"<symlink>" + os.fsencode(os.readlink(path))
        elif stat.S_ISREG(st.st_mode):
            yield b"<executable>" if st.st_mode & 0o111 else b"<file>"
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    yield chunk
        else:
            yield b"<other>"
    except FileNotFoundError:
        yield b"<deleted>"
    except OSError as exc:
        # Still a stable digest; git then fails to stage the file and says why.
        yield f"<unreadable {exc.errno}>".encode()


async def commit_diff(repo: Repo, paths: list[str], ch: Changes) -> str:
    """The unified diff a commit of `paths` would record: tracked changes against
    `base`, then each untracked file as a new file."""
    parts: list[str] = []
    async with scratch_index(repo) as scratch:
        if ch.tracked:
            raw = await scratch.out("diff", "--no-ext-diff", "--no-textconv", "--no-renames", "--ignore-submodules=all", ch.base, "--", *paths)
            parts.append(raw.decode("utf-8", errors="replace"))
        for name in ch.untracked[:MAX_NEW_FILE_DIFFS]:
            # --no-index compares two files outside any index: exit 1 means they differ.
            run = await scratch.run("diff", "--no-index", "--no-ext-diff", "--no-textconv", "--", "/dev/null", name)
            if run.problem is None and run.returncode in (0, 1):
                parts.append(run.stdout.decode("utf-8", errors="replace"))
            else:
                parts.append(f"new file {text(name)} (cannot show it: {run.failure('git diff')})\n")
            if sum(map(len, parts)) > MAX_BODY:
                break
    more = len(ch.untracked) - MAX_NEW_FILE_DIFFS
    if more > 0:
        parts.append(f"… and {_plural(more, 'more new file')}\n")
    body = "".join(parts)
    return body if len(body) <= MAX_BODY else body[:MAX_BODY] + "\n… (diff cut here)\n"


def idempotency_key(ctx: ActionContext) -> str:
    key = ctx.idempotency_key.strip()
    if not key or "\n" in key or "\r" in key:
        raise Permanent("no usable idempotency key: a commit could not be found again after a crash")
    return key


# ------------------------------------------------------------------ files a commit writes


def clean_files(files: dict[str, str] | None) -> dict[str, str]:
    """`files` with each path normalised like `paths`; ActionInvalid naming the path
    when one leaves the repository, reaches into `.git`, repeats another, or its text
    is not UTF-8."""
    out: dict[str, str] = {}
    for raw, content in (files or {}).items():
        where = f"payload.files[{raw!r}]"
        try:
            [name] = clean_paths([raw])
        except ActionInvalid as exc:
            raise ActionInvalid(f"{where}: {str(exc).split(': ', 1)[1]}") from None
        if name == "." or raw.endswith("/"):
            raise ActionInvalid(f"{where}: a file's path, not a folder")
        if name in out:
            raise ActionInvalid(f"{where}: {name} is given twice")
        try:
            content.encode("utf-8")
        except UnicodeEncodeError:
            raise ActionInvalid(f"{where}: the text is not valid UTF-8") from None
        out[name] = content
    return out


def under(name: str, path: str) -> bool:
    return path == "." or name == path or name.startswith(path + "/")


def _unsafe(root: Path, name: str) -> str | None:
    """Why writing `name` under `root` could land outside it or clobber something
    that is not a file: a symlink on the way, a file where a folder must be."""
    parts = name.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        try:
            st = os.lstat(root / prefix)
        except FileNotFoundError:
            return None  # nothing further down exists either
        except OSError as exc:
            return f"cannot look at {prefix}: {exc.strerror or exc}"
        if stat.S_ISLNK(st.st_mode):
            return f"{prefix} is a symbolic link"
        last = i == len(parts)
        if not last and not stat.S_ISDIR(st.st_mode):
            return f"{prefix} is not a folder"
        if last and not stat.S_ISREG(st.st_mode):
            return "is not a regular file"
    return None


def _state_hash(path: Path) -> str:
    """sha256 of what is at `path` (as `digest` sees it), or ABSENT."""
    if not os.path.lexists(path):
        return ABSENT
    h = hashlib.sha256()
    for chunk in _state(path):
        h.update(chunk)
    return h.hexdigest()


def _holds(path: Path, content: str) -> bool:
    """`path` is a regular file holding exactly `content` (a write that already happened)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as f:
            return f.read() == content.encode("utf-8")
    except OSError:
        return False


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None


def full_digest(paths_digest: str, files: dict[str, str], replaces: dict[str, str], push: PushTarget | None) -> str:
    """The digest of a commit that writes files (or pushes): the changes under `paths`,
    each file's path, what it replaces and its new text, and where it is pushed."""
    h = hashlib.sha256(b"oxymus git.commit v2\0" + paths_digest.encode() + b"\0")
    for name in sorted(files):
        h.update(os.fsencode(name) + b"\0" + replaces.get(name, "").encode() + b"\0")
        h.update(hashlib.sha256(files[name].encode("utf-8")).hexdigest().encode() + b"\0")
    if push is not None:
        h.update(f"push\0{push.remote}\0{push.branch or ''}\0".encode())
    return h.hexdigest()


def file_diff(name: str, old: str | None, new: str) -> str:
    """A git-style unified diff of one written file, for the preview."""
    head = f"diff --git a/{name} b/{name}\n"
    if old is None:
        head += "new file mode 100644\n"
    return head + unified_diff(old or "", new, "/dev/null" if old is None else f"a/{name}", f"b/{name}")


async def check_files(repo: Repo, files: dict[str, str]) -> tuple[dict[str, str], list[str], str]:
    """Read-only checks before writing `files`: each is absent, or committed and clean
    (so nothing uncommitted is overwritten), not ignored, reached through no symlink.
    Returns (what each replaces, the files that change, their diff)."""
    names = sorted(files)
    for name in names:
        why = await asyncio.to_thread(_unsafe, repo.path, name)
        if why is not None:
            raise ActionInvalid(f"payload.files[{name!r}]: {why}")
    ch = await changes(repo, names)
    dirty = sorted(set(ch.tracked) | set(ch.untracked))
    if dirty:
        what = "is not committed" if dirty[0] in ch.untracked else "has uncommitted changes"
        raise ActionInvalid(f"payload.files[{dirty[0]!r}]: {dirty[0]} {what} in {repo.label}; commit or remove it first")
    async with scratch_index(repo) as scratch:
        # check-ignore takes paths, not pathspecs, and refuses the literal-pathspec
        # setting; "./" keeps a name that starts with ':' from reading as magic.
        plain = scratch.with_env(GIT_LITERAL_PATHSPECS="0")
        for name in names:
            run = await plain.run("check-ignore", "-q", "--", f"./{name}")  # 0: ignored, 1: not
            if run.problem is not None or run.returncode not in (0, 1):
                raise GitFailed(repo.label, "check-ignore", run)
            if run.returncode == 0:
                raise ActionInvalid(f"payload.files[{name!r}]: {name} is ignored by .gitignore in {repo.label}")
    replaces: dict[str, str] = {}
    changed: list[str] = []
    parts: list[str] = []
    for name in names:
        if os.path.lexists(repo.path / name) and name not in ch.present:
            raise ActionInvalid(f"payload.files[{name!r}]: {name} is ignored by .gitignore in {repo.label}")
        replaces[name] = await asyncio.to_thread(_state_hash, repo.path / name)
        old = await asyncio.to_thread(_read_text, repo.path / name)
        if old != files[name]:
            changed.append(name)
            parts.append(file_diff(name, old, files[name]))
    body = "".join(parts)
    return replaces, changed, body if len(body) <= MAX_BODY else body[:MAX_BODY] + "\n… (diff cut here)\n"


def write_file(root: Path, name: str, content: str) -> None:
    """Write `content` to root/name atomically (same folder, fsync, rename), keeping an
    existing file's mode; folders on the way are made."""
    target = root / name
    why = _unsafe(root, name)
    if why is not None:
        raise Permanent(f"{name}: {why}; not written")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, content.encode("utf-8"))  # not a symlink (checked above): its own mode is kept


class GitCommitSpec(ActionSpec):
    kind: ClassVar[str] = "git.commit"
    Payload: ClassVar[type[BaseModel]] = CommitPayload
    scope = "own_files"
    risk = "medium"
    description = "commit the changes under some paths of a configured repository (or files it writes), and nothing else staged; optionally push"

    def risk_of(self, payload: CommitPayload) -> Risk:  # type: ignore[override]
        """A commit that also pushes leaves the machine: as risky as git.push."""
        return "high" if payload.push is not None else "medium"

    def scope_of(self, payload: CommitPayload) -> Scope:  # type: ignore[override]
        return "external" if payload.push is not None else "own_files"

    def performs(self, payload: CommitPayload) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[override]
        """A commit that pushes performs a git.push too: rules about pushes judge that part."""
        commit = payload.model_dump(mode="json", exclude={"push"})
        if payload.push is None:
            return [(self.kind, commit)]
        push = {"repo": payload.repo, "remote": payload.push.remote, "branch": payload.push.branch, "commit": None}
        return [(self.kind, commit), (GitPushSpec.kind, push)]

    async def prepare(self, payload: CommitPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        return await preparing(self._prepare(payload, ctx))

    async def _prepare(self, payload: CommitPayload, ctx: ActionContext) -> Prepared:
        paths = clean_paths(payload.paths)
        files = clean_files(payload.files)
        for name in files:
            for p in paths:
                if under(name, p):
                    raise ActionInvalid(f"payload.files[{name!r}]: {name} is also under payload.paths ({p}); give it in one of them")
        if not payload.message.strip():
            raise ActionInvalid("payload.message: empty commit message")
        repo = await locate(self.config, payload.repo, ctx)
        operation = await asyncio.to_thread(gitrun.operation, repo.path)
        if operation is not None:
            raise ActionInvalid(f"payload.repo: a {operation} is in progress in {repo.label}; finish it first")
        ch = await changes(repo, paths) if paths else None
        if ch is not None:
            unmatched = [p for p in paths if not ch.matches(p)]
            if unmatched:
                p = unmatched[0]
                why = "is ignored by .gitignore" if os.path.lexists(repo.path / p) else "matches no file"
                raise ActionInvalid(f"payload.paths: {p} {why} in {repo.label}")
        committed = ch.files if ch is not None else []
        replaces, written, files_body = await check_files(repo, files) if files else ({}, [], "")
        if not committed and not written:
            what = ", ".join([*paths, *files])
            raise ActionInvalid(f"payload.paths: nothing to commit in {repo.label}: no changes under {what}")
        pinned = await asyncio.to_thread(digest, repo.path, committed) if ch is not None else ""
        push, push_body = (await push_check(repo, payload.push, ctx.timeout)) if payload.push is not None else (None, "")
        body = (await commit_diff(repo, paths, ch) if ch is not None and committed else "") + files_body
        count = len(set(committed) | set(written))
        summary = f"commit {_plural(count, 'file')} in {repo.label}: {subject(payload.message)}"
        update: dict = {"paths": paths, "digest": pinned}
        if files or push is not None:
            update.update(files=files or None, replaces=replaces or None, push=push,
                          digest=full_digest(pinned, files, replaces, push))
        if push is not None:
            summary += f", and push to {push.remote}/{push.branch}"
            body = push_body + "\n" + body
        payload = payload.model_copy(update=update)
        if len(body) > MAX_BODY:
            body = body[:MAX_BODY] + "\n… (diff cut here)\n"
        stored = payload.model_dump(mode="json")
        for optional in ("files", "push", "replaces"):  # a plain commit's payload keeps its shape
            if stored[optional] is None:
                del stored[optional]
        return Prepared(payload=stored, preview=Preview(summary=summary, format="diff", body=body))

    def preview(self, payload: CommitPayload) -> Preview:  # type: ignore[override]
        push = f", and push to {payload.push.remote}/{payload.push.branch or 'its branch'}" if payload.push else ""
        return Preview(summary=f"commit in {payload.repo}: {subject(payload.message)}{push}", format="diff")

    async def execute(self, payload: CommitPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        return await executing(self._commit(payload, ctx))

    async def _commit(self, payload: CommitPayload, ctx: ActionContext) -> Receipt:
        key = idempotency_key(ctx)
        paths = clean_paths(payload.paths)
        try:
            files = clean_files(payload.files)
        except ActionInvalid as exc:
            raise Permanent(str(exc)) from None
        push = payload.push
        if push is not None and (push.branch is None or push.remote.startswith("-") or push.branch.startswith("-")):
            raise Permanent("payload.push: not pinned; the commit was never prepared")
        repo = await locate(self.config, payload.repo, ctx)
        found = await find_commit(repo, key)
        done = found is not None
        if found is None:
            found = await self._write_and_commit(repo, payload, paths, files, key)
        if push is None:
            return self._receipt(repo, paths, *found, already_done=done, files=files)
        sha = found[0]
        try:
            previous, pushed = await push_commit(repo, push.remote, push.branch or "", sha)
        except GitFailed as exc:
            err = classify(exc)
            why = f"committed {sha[:7]} in {repo.label}, but the push to {push.remote}/{push.branch} failed: {err}"
            raise (Transient(why) if isinstance(err, Transient) else Permanent(why)) from None
        except Permanent as exc:
            raise Permanent(f"committed {sha[:7]} in {repo.label}, but not pushed: {exc}") from None
        return self._receipt(repo, paths, *found, already_done=done and pushed, files=files, push=push, previous=previous)

    async def _write_and_commit(self, repo: Repo, payload: CommitPayload, paths: list[str], files: dict[str, str],
                                key: str) -> tuple[str, str]:
        if payload.digest is None or (files and payload.replaces is None):
            raise Permanent("payload.digest: missing; the commit was never prepared")
        ch = await changes(repo, paths) if paths else None
        pinned = await asyncio.to_thread(digest, repo.path, ch.files) if ch is not None else ""
        what = ", ".join([*paths, *files])
        moved = Permanent(f"{what} in {repo.label} changed since it was approved; propose the commit again")
        if files or payload.push is not None:
            replaces = payload.replaces or {}
            for name, content in files.items():
                now = await asyncio.to_thread(_state_hash, repo.path / name)
                # What it held at approval, or already the new text: an attempt that wrote it and then died.
                if now != replaces.get(name) and not await asyncio.to_thread(_holds, repo.path / name, content):
                    raise moved
            pinned = full_digest(pinned, files, replaces, payload.push)
        if pinned != payload.digest:
            raise moved
        # Checked before writing or staging, so a missing identity leaves the repository as it was.
        await repo.out(*IDENTITY_ARGS, "var", "GIT_AUTHOR_IDENT")
        await repo.out(*IDENTITY_ARGS, "var", "GIT_COMMITTER_IDENT")
        for name, content in files.items():
            try:
                await asyncio.to_thread(write_file, repo.path, name, content)
            except OSError as exc:
                raise Permanent(f"{repo.label}: cannot write {name}: {exc.strerror or exc}") from None
        # A deletion already staged matches nothing `git add` can see (it would fail);
        # it needs no staging anyway, and `commit --only` still takes it.
        stage = [p for p in paths if ch is not None and ch.stageable(p)] + sorted(files)
        if stage:
            await repo.out("add", "-A", "--", *stage)
        # --only: the commit holds HEAD plus these paths; anything else the person
        # staged stays staged. --cleanup=whitespace keeps the approved message as is.
        await repo.out(
            *IDENTITY_ARGS, "commit", "--quiet", "--only", "--cleanup=whitespace",
            "-m", payload.message, "-m", f"{TRAILER}: {key}", "--", *paths, *sorted(files),
        )
        found = await find_commit(repo, key)
        if found is None:  # a commit-msg hook dropped the trailer
            sha = await repo.rev("HEAD")
            found = (sha or "", subject(payload.message))
        return found

    compensable = True

    async def compensate(self, payload: CommitPayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        """Move the branch back over the commit, only while its tip is still that commit; a
        commit that was pushed is not taken back (that would rewrite the remote's history)."""
        pushed = receipt.data.get("pushed")
        sha = str(receipt.data.get("sha") or receipt.ref or "")
        if pushed:
            raise NotCompensable(f"{sha[:7]} was pushed to {pushed.get('remote')}/{pushed.get('branch')}; "
                                 "taking it back would rewrite the remote's history")
        if not FULL_ID.match(sha):
            raise Permanent("the commit's receipt names no commit")
        repo = await locate(self.config, payload.repo, ctx)
        return await executing(self._uncommit(repo, payload, sha))

    async def _uncommit(self, repo: Repo, payload: CommitPayload, sha: str) -> Receipt:
        left = f"{sha[:7]} was left in {repo.label}: revert it by hand if it should go"
        run = await repo.run("symbolic-ref", "-q", "HEAD")
        if run.problem is not None or run.returncode not in (0, 1):
            raise GitFailed(repo.label, "symbolic-ref", run)
        if run.returncode == 1:
            raise Permanent(f"HEAD is detached in {repo.label}; {left}")
        ref = run.stdout.decode("utf-8", errors="replace").strip()
        branch = ref.removeprefix("refs/heads/")
        parent = await repo.rev(f"{sha}^")
        if parent is None:
            raise Permanent(f"{sha[:7]} is the first commit of {repo.label}; {left}")
        tip = await repo.rev("HEAD")
        files = clean_files(payload.files)
        paths = clean_paths(payload.paths)
        already = tip == parent and not await repo.is_ancestor(sha, parent)
        if not already:
            if tip != sha:
                raise Permanent(f"{branch} in {repo.label} moved on since {sha[:7]} (its tip is {tip[:7] if tip else 'gone'}); {left}")
            for name, content in files.items():
                if not await asyncio.to_thread(_holds, repo.path / name, content):
                    raise Permanent(f"{name} in {repo.label} was changed after the commit; {left}")
            # Compare-and-swap: the branch moves only from that very commit.
            await repo.out(*IDENTITY_ARGS, "update-ref", "-m", f"oxymus: take back {sha[:7]}", ref, parent, sha)
        # The index and the files it wrote go back to what they were; the person's own
        # changes it committed (`paths`) stay in the working tree, uncommitted as before.
        names = [*paths, *sorted(files)]
        if names:
            await repo.out("reset", "-q", parent, "--", *names)
        for name, content in files.items():
            if (await repo.run("cat-file", "-e", f"{parent}:{name}")).returncode == 0:
                await repo.out("checkout", "-q", parent, "--", name)
            elif await asyncio.to_thread(_holds, repo.path / name, content):
                await asyncio.to_thread((repo.path / name).unlink)
        summary = f"took back {sha[:7]}: {branch} in {repo.label} is at {parent[:7]} again"
        return Receipt(summary=summary + (" (already so)" if already else ""), ref=parent, already_done=already,
                       data={"repo": repo.label, "branch": branch, "commit": sha, "parent": parent, "files": sorted(files)})

    @staticmethod
    def _receipt(repo: Repo, paths: list[str], sha: str, subj: str, already_done: bool = False, *,
                 files: dict[str, str] | None = None, push: PushTarget | None = None, previous: str | None = None) -> Receipt:
        data: dict = {"sha": sha, "repo": repo.label, "paths": paths}
        summary = f"committed {sha[:7]} in {repo.label}: {subj}"
        if files:
            data["files"] = sorted(files)
        if push is not None:
            data["pushed"] = {"remote": push.remote, "branch": push.branch, "previous": previous}
            summary += f"; pushed to {push.remote}/{push.branch}"
        return Receipt(summary=summary, ref=sha, data=data, already_done=already_done)
