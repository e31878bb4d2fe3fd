"""`git.push`: push one pinned commit to one branch of a named remote, never forced.

It is done already when the remote branch contains the commit, and refused when the
remote branch has moved somewhere the commit does not contain. `push_commit` is also
how a `git.commit` with `push` pushes.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oxymus.actions.effects import ActionContext, ActionInvalid, ActionSpec, Permanent, Prepared, Preview, Receipt
from oxymus.connectors.git.runner import (
    MAX_BODY, TRANSIENT_PATTERNS, GitFailed, Repo, executing, find_commit, locate, preparing,
)
from oxymus.connectors.git.source import _plural
from oxymus.kernel import gitrun

MAX_LOG_LINES = 100  # commits listed in a push preview
LS_REMOTE_PREPARE_TIMEOUT = 10.0  # prepare must stay quick; the remote is asked again at execution


# ------------------------------------------------------------------ git.push


class PushTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    remote: str = Field(default="origin", min_length=1, max_length=200, description="a remote configured in the repository")
    branch: str | None = Field(default=None, min_length=1, max_length=255, description="the remote branch; pinned to the current branch")


async def push_check(repo: Repo, target: PushTarget, timeout: float) -> tuple[PushTarget, str]:
    """prepare's side of a commit's push: the remote exists, the branch is pinned and
    valid, and the remote branch has nothing HEAD lacks. Returns the pinned target and
    the lines the preview shows about the push."""
    remote = target.remote
    remotes = (await repo.out("remote")).decode("utf-8", errors="replace").split()
    if remote.startswith("-") or remote not in remotes:
        have = f"it has {', '.join(remotes)}" if remotes else "it has none"
        raise ActionInvalid(f"payload.push.remote: {repo.label} has no remote {remote!r} ({have})")
    branch = target.branch
    if branch is None:
        run = await repo.run("symbolic-ref", "-q", "--short", "HEAD")
        if run.problem is not None or run.returncode not in (0, 1):
            raise GitFailed(repo.label, "symbolic-ref", run)
        if run.returncode == 1:
            raise ActionInvalid(f"payload.push.branch: HEAD is detached in {repo.label}; name the branch to push to")
        branch = run.stdout.decode("utf-8", errors="replace").strip()
    check = await repo.run("check-ref-format", f"refs/heads/{branch}")
    if branch.startswith("-") or check.returncode != 0:
        raise ActionInvalid(f"payload.push.branch: {branch!r} is not a valid branch name")
    where = f"{remote}/{branch}"
    head = await repo.rev("HEAD")
    tip, notes = await GitPushSpec._known_tip(repo, remote, branch, timeout)
    if tip is not None and not await has_commit(repo, tip):
        raise ActionInvalid(f"payload.push: {where} has commits not fetched here; pull, then propose again")
    if tip is not None and (head is None or not await repo.is_ancestor(tip, head)):
        raise ActionInvalid(f"payload.push: {where} has diverged from {repo.label}; pull, then propose again")
    lines = [f"then push the commit to {where} (not forced)"]
    if tip is None:
        lines.append(f"{where} does not exist yet: the push creates it")
    if head is not None:
        exclude = [f"^{tip}"] if tip is not None else ["--not", f"--remotes={remote}"]
        earlier = (await repo.out("log", "--oneline", "--no-decorate", f"-n{MAX_LOG_LINES}", head, *exclude)).decode(
            "utf-8", errors="replace")
        if earlier.strip():
            n = len(earlier.strip().splitlines())
            lines.append(f"the push also sends {_plural(n, 'earlier commit')} not yet on {where}:")
            lines.extend("  " + ln for ln in earlier.strip().splitlines())
    lines.extend(notes)
    return target.model_copy(update={"branch": branch}), "".join(f"{ln}\n" for ln in lines)


class PushPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo: str = Field(min_length=1, description="the repository's path (~ allowed), one configured under [git]")
    remote: str = Field(default="origin", min_length=1, max_length=200, description="a remote configured in the repository")
    branch: str | None = Field(default=None, min_length=1, max_length=255, description="the remote branch; pinned to the current branch")
    commit: str | None = Field(default=None, min_length=1, max_length=200, description="what to push; pinned to the branch's tip, full id")
    commit_key: str | None = Field(
        default=None, min_length=1, max_length=300,
        description="instead of `commit`: push the commit a git.commit earlier in the same flow makes, found by its idempotency key",
    )

    @model_validator(mode="after")
    def _one_commit(self) -> PushPayload:
        if self.commit is not None and self.commit_key is not None:
            raise ValueError("give `commit` or `commit_key`, not both")
        return self


FULL_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


async def remote_tip(repo: Repo, remote: str, branch: str, timeout: float | None = None) -> str | None:
    """The remote branch's commit as the remote says now; None if the branch does not exist there."""
    ref = f"refs/heads/{branch}"
    raw = await repo.out("ls-remote", "--refs", remote, ref, timeout=timeout)
    for line in raw.decode("utf-8", errors="replace").splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return sha
    return None


async def has_commit(repo: Repo, sha: str) -> bool:
    run = await repo.run("cat-file", "-e", f"{sha}^{{commit}}")
    if run.problem is not None:
        raise GitFailed(repo.label, "cat-file", run)
    return run.returncode == 0


async def push_commit(repo: Repo, remote: str, branch: str, commit: str) -> tuple[str | None, bool]:
    """Push `commit` to `remote`'s `branch`, fast-forward only: (the remote tip before,
    whether it was already there). Done already when the remote branch contains the
    commit; Permanent when it has diverged or refuses."""
    if not await has_commit(repo, commit):
        raise Permanent(f"{repo.label}: commit {commit[:7]} no longer exists; propose the push again")
    where = f"{remote}/{branch}"
    tip = await remote_tip(repo, remote, branch)
    if tip == commit:
        return tip, True
    if tip is not None:
        known = await has_commit(repo, tip)
        if not known:
            # The remote moved on since the last fetch: get its tip to compare.
            await repo.out("fetch", "--quiet", "--no-tags", "--no-recurse-submodules", remote, f"refs/heads/{branch}")
            known = await has_commit(repo, tip)
        if known and await repo.is_ancestor(commit, tip):
            return tip, True
        if not known or not await repo.is_ancestor(tip, commit):
            raise Permanent(f"{where} has diverged; pull and propose again")
    run = await repo.run("push", "--porcelain", "--no-follow-tags", "--no-recurse-submodules", remote, f"{commit}:refs/heads/{branch}")
    flag, summary = _push_status(run, f"refs/heads/{branch}")
    if flag == "=":
        return tip, True
    if flag == "!":
        if "non-fast-forward" in summary or "fetch first" in summary:
            raise Permanent(f"{where} has diverged; pull and propose again ({summary})")
        raise Permanent(f"{repo.label}: {where} refused the push: {summary}")
    if run.problem is not None or run.returncode != 0 or flag is None:
        raise GitFailed(repo.label, "push", run)
    return tip, False


class GitPushSpec(ActionSpec):
    kind: ClassVar[str] = "git.push"
    Payload: ClassVar[type[BaseModel]] = PushPayload
    scope = "external"
    risk = "high"
    description = "push one pinned commit to a branch of a configured repository's remote (never forced)"

    async def prepare(self, payload: PushPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        return await preparing(self._prepare(payload, ctx))

    async def _prepare(self, payload: PushPayload, ctx: ActionContext) -> Prepared:
        repo = await locate(self.config, payload.repo, ctx)
        remote = payload.remote
        remotes = (await repo.out("remote")).decode("utf-8", errors="replace").split()
        if remote.startswith("-") or remote not in remotes:
            have = f"it has {', '.join(remotes)}" if remotes else "it has none"
            raise ActionInvalid(f"payload.remote: {repo.label} has no remote {remote!r} ({have})")
        branch = payload.branch or await self._current_branch(repo)
        check = await repo.run("check-ref-format", f"refs/heads/{branch}")
        if branch.startswith("-") or check.returncode != 0:
            raise ActionInvalid(f"payload.branch: {branch!r} is not a valid branch name")
        if payload.commit_key is not None:
            return await self._prepare_later(repo, payload, remote, branch, ctx)
        commit = await self._commit(repo, payload.commit, branch)

        tip, note = await self._known_tip(repo, remote, branch, ctx.timeout)
        tip_known = tip is not None and await has_commit(repo, tip)
        where = f"{remote}/{branch}"
        if tip == commit or (tip_known and await repo.is_ancestor(commit, tip)):
            raise ActionInvalid(f"payload.commit: nothing to push: {where} already has {commit[:7]}")
        if tip_known and not await repo.is_ancestor(tip, commit):
            raise ActionInvalid(f"payload.commit: {where} has diverged from {commit[:7]}; pull and propose again")
        if tip is not None and not tip_known:
            note.append(f"{where} has commits not fetched here; the push is refused at execution unless it fast-forwards")
        if tip is None:
            note.append(f"{where} does not exist yet: the push creates it")

        exclude = [f"^{tip}"] if tip_known else ["--not", f"--remotes={remote}"]
        body, count = await self._outgoing(repo, commit, exclude, tip if tip_known else None)
        what = _plural(count, "commit") if count else commit[:7]
        summary = f"push {what} to {where} in {repo.label}"
        pinned = payload.model_copy(update={"branch": branch, "commit": commit})
        body = "".join(f"{n}\n" for n in note) + ("\n" if note else "") + body
        return Prepared(payload=pinned.model_dump(mode="json", exclude={"commit_key"}), preview=Preview(summary=summary, format="diff", body=body))

    async def _prepare_later(self, repo: Repo, payload: PushPayload, remote: str, branch: str, ctx: ActionContext) -> Prepared:
        """A push of a commit that an earlier step of its flow makes: what can be checked now is
        that the remote branch has nothing the local branch lacks (else the push would be refused)."""
        try:
            target, body = await push_check(repo, PushTarget(remote=remote, branch=branch), ctx.timeout)
        except ActionInvalid as exc:
            raise ActionInvalid(str(exc).replace("payload.push.", "payload.").replace("payload.push:", "payload.branch:")) from None
        where = f"{remote}/{branch}"
        found = await find_commit(repo, payload.commit_key or "")
        what = f"the commit {found[0][:7]}" if found else "the commit made before it in this flow"
        summary = f"push {what} to {where} in {repo.label}"
        body = body.partition("\n")[2]  # its first line says "then push": this is the push itself
        pinned = payload.model_copy(update={"branch": target.branch})
        return Prepared(payload=pinned.model_dump(mode="json"), preview=Preview(summary=summary, format="text", body=body))

    @staticmethod
    async def _current_branch(repo: Repo) -> str:
        run = await repo.run("symbolic-ref", "-q", "--short", "HEAD")
        if run.problem is not None or run.returncode not in (0, 1):
            raise GitFailed(repo.label, "symbolic-ref", run)
        if run.returncode == 1:
            raise ActionInvalid(f"payload.branch: HEAD is detached in {repo.label}; name the branch to push")
        return run.stdout.decode("utf-8", errors="replace").strip()

    @staticmethod
    async def _commit(repo: Repo, asked: str | None, branch: str) -> str:
        if asked is None:
            sha = await repo.rev(f"refs/heads/{branch}")
            if sha is None:
                raise ActionInvalid(f"payload.branch: {branch} has no commits in {repo.label}")
            return sha
        sha = None if asked.startswith("-") else await repo.rev(asked)
        if sha is None:
            raise ActionInvalid(f"payload.commit: {asked} is not a commit in {repo.label}")
        return sha

    @staticmethod
    async def _known_tip(repo: Repo, remote: str, branch: str, timeout: float) -> tuple[str | None, list[str]]:
        """The remote branch's tip: asked of the remote, or as last fetched if it cannot be reached."""
        try:
            return await remote_tip(repo, remote, branch, min(timeout, LS_REMOTE_PREPARE_TIMEOUT)), []
        except GitFailed as exc:
            tracking = await repo.rev(f"refs/remotes/{remote}/{branch}")
            return tracking, [f"could not ask {remote} ({exc.line(TRANSIENT_PATTERNS)}); compared with the last fetched {remote}/{branch}"]

    @staticmethod
    async def _outgoing(repo: Repo, commit: str, exclude: list[str], base: str | None) -> tuple[str, int]:
        """The log of the commits to push (those the remote is not known to have) and their --stat."""
        ids = (await repo.out("rev-list", "--reverse", commit, *exclude)).decode("ascii").split()
        if not ids:
            return "", 0
        log = await repo.out("log", "--oneline", "--no-decorate", f"-n{MAX_LOG_LINES}", commit, *exclude)
        lines = log.decode("utf-8", errors="replace")
        if len(ids) > MAX_LOG_LINES:
            lines += f"… and {_plural(len(ids) - MAX_LOG_LINES, 'older commit')}\n"
        if base is None:  # where the outgoing commits start: the parent of the oldest
            base = await repo.rev(f"{ids[0]}^") or await repo.empty_tree()
        stat_ = await repo.out("diff", "--stat", "--no-ext-diff", base, commit)
        body = lines + "\n" + stat_.decode("utf-8", errors="replace")
        return (body if len(body) <= MAX_BODY else body[:MAX_BODY] + "\n…\n"), len(ids)

    async def execute(self, payload: PushPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        return await executing(self._push(payload, ctx))

    async def _push(self, payload: PushPayload, ctx: ActionContext) -> Receipt:
        commit, branch, remote = payload.commit, payload.branch, payload.remote
        if remote.startswith("-") or (branch or "").startswith("-"):
            raise Permanent("payload.remote, payload.branch: a name cannot start with '-'")
        repo = await locate(self.config, payload.repo, ctx)
        if payload.commit_key is not None and branch is not None:
            found = await find_commit(repo, payload.commit_key)
            if found is None:
                raise Permanent(f"the commit to push (made by {payload.commit_key}) is not in {repo.label}'s history; nothing was pushed")
            commit = found[0]
        if commit is None or branch is None or not FULL_ID.match(commit):
            raise Permanent("payload.commit, payload.branch: not pinned; the push was never prepared")
        tip, already_done = await push_commit(repo, remote, branch, commit)
        return self._receipt(repo, payload, commit, branch, tip, already_done=already_done)

    @staticmethod
    def _receipt(repo: Repo, payload: PushPayload, commit: str, branch: str, previous: str | None, already_done: bool = False) -> Receipt:
        return Receipt(
            summary=f"pushed {commit[:7]} to {payload.remote}/{branch}",
            ref=commit,
            data={"commit": commit, "remote": payload.remote, "branch": branch, "repo": repo.label, "previous": previous},
            already_done=already_done,
        )


def _push_status(run: gitrun.Run, ref: str) -> tuple[str | None, str]:
    """(flag, summary) of `ref` in `git push --porcelain` output: ' ' fast-forward,
    '*' new, '=' up to date, '!' rejected; (None, '') if git printed no line for it."""
    for line in run.stdout.decode("utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[0]) == 1 and parts[1].endswith(f":{ref}"):
            return parts[0], parts[2].strip()
    return None, ""
