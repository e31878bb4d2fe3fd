"""The publisher: drafts the next post of the publishing order and asks to publish it.

An `edited` post record comes first: it is published as one flow, to the git blog or to
WordPress (`target`), as oxymus/agents/publisher_posts.py says; what follows is the run
when no post record is edited (PLANS.md mode, git only).

One run follows the flow a person would (by hand by default; `trigger.at` for a daily run):

1. State. The blog repository (`repo`) must be one the git source watches (it has a
   `git.repo` item: `[git] repos` or `roots`), and, read fresh and read-only: on
   `branch`, no merge/rebase/cherry-pick under way, no uncommitted change to a tracked
   file, not behind its upstream as last fetched, and `remote`'s `branch` (asked with
   `git ls-remote`) holding nothing the repository lacks. Otherwise the run ends
   `stopped` (you have to act first) and says why; nothing is proposed.
2. Plans. The publishing order of PLANS.md; the next post is the first entry whose
   status is `proposed` or `draft`. None: the run says there is nothing to publish.
3. Draft. In a scratch clone (`git clone --no-hardlinks`, deleted after the run) it
   sees the last post added under `posts_dir`, then drafts the post file at
   `posts_dir/filename`: the front matter is code's (title, date, slug, tags, author,
   `draft: false`; YAML `---` or TOML `+++`), the body the LLM's, written from the
   facts (the entry, the notes indented under it in PLANS.md, related hot and warm
   memory, the plan's goals, the last post for voice) and validated (non-empty
   Markdown of some length, no front matter, no placeholders); without an LLM, or
   when its answer is not usable, a structured template from the same facts. With
   no facts at all (no notes, no related memory, no goal) and no LLM it stops rather
   than propose an empty post.
4. Tracking. The entry becomes `published <date>` (`oxymus.plans.set_proposal_status`
   on the exact bytes parsed).
5. Validation. The draft (and PLANS.md, when it lives in the repository) is written
   into the clone, `build` is run there (an argv list, or a string split like a shell
   would, never through one; `build_timeout`); a non-zero exit fails the run (`failed`) with the
   output's tail in the summary, and nothing is proposed. The clone's staged diff goes
   into the `post_draft` artifact with the draft and the build's result.
6. Approval. One flow (oxymus/actions/flows.py), approved once: a `git.commit` carrying
   `files` (the post, plus the patched PLANS.md when it is in the repository), a
   `plans.edit` (set_proposal_status, pinned to the hash read) when PLANS.md lives
   elsewhere, and a `git.push` of that commit ({remote, branch}) last, because it
   alone cannot be taken back. Its preview shows every step and the diff.
7. Commit, edit and push happen only when the person approves, in order, done by the
   executor. If the push fails for good (the remote moved on), the PLANS.md edit and
   the commit are taken back, and the next run proposes again.

Nothing in a run writes to the person's repository or to PLANS.md: every side effect
is one of those proposals, through the policy plane.

Idempotency. A publication is (repository, slug): while one of this agent's
proposals for it waits (or is approved, or executing), a run proposes nothing and
says which action waits. The key is `publisher:<repo id>:<slug>:<date>:<draft id>`
(repo id: 12 hex of the sha256 of the repository's real path, so no home path ends
up in a public commit trailer; draft id: 12 hex of the sha256 of title, slug and
body, not the date); each step's key is the flow's with `:step:N`. After
the person denies a draft, a run proposes again only a changed draft (another draft
id): the template's draft changes when its facts do (notes, memory, goals), an LLM
draft with each run; setting the entry to `scheduled` or `dropped` stops it. An
expired, failed or taken-back flow (a push refused, say) is proposed again with `:2`, `:3`
on the key. A commit of this agent for the slug that succeeded while PLANS.md still
lists the entry as not published stops the run: it asks the person to mark it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import re
import shlex
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, Finished, RecordPort, Trigger
from oxymus.agents.confidence import Confidence, derive
from oxymus.agents.publisher_draft import (
    Facts,
    PostBody,
    check_llm_body,
    display_title,
    front_matter,
    keywords,
    notes_under,
    posts_path,
    same_slug,
    slugify,
    strip_front_matter,
    template_body,
)
from oxymus.kernel import gitrun
from oxymus.plans import PlansDocument, PlansError, Proposal, set_proposal_status

WAITING = ("proposed", "awaiting_approval", "snoozed", "approved", "executing")
NEXT = ("proposed", "draft")
GIT_TIMEOUT = 30.0
CLONE_TIMEOUT = 120.0
TAIL_LINES = 15
TAIL_CHARS = 1200
MAX_MEMORY = 5
FILENAME_FIELDS = {"date", "slug", "year", "month", "day"}


# ------------------------------------------------------------------ settings


class PublisherSettings(AgentSettings):
    """`[agents.publisher]`"""

    repo: str | None = Field(default=None, description="the blog repository: an absolute path or ~/...; also listed in [git] repos (or under roots)",
                             examples=["~/code/blog"])
    posts_dir: str = Field(default="content/posts", description="the folder of posts, relative to the repository")
    filename: str = Field(default="{date}-{slug}.md", description="the post's file name under posts_dir: {date} {slug} {year} {month} {day}; may hold folders ({slug}/index.md)")
    front_matter: Literal["yaml", "toml"] = Field(default="yaml", description="yaml: between --- lines (Jekyll, Hugo, Eleventy); toml: between +++ lines (Hugo)")
    build: str | list[str] | None = Field(default=None, description='the build or lint command run in a scratch clone before asking, e.g. "hugo --minify" (split like a shell would, run without one) or an argv list; none: no check',
                                         examples=["hugo --minify"])
    build_timeout: float = Field(default=120, gt=0, le=240, description="seconds the build may take; longer counts as a failure")
    branch: str = Field(default="main", description="the branch the repository must be on; the commit is pushed to it")
    remote: str = Field(default="origin", description="the remote to push to")
    author: str | None = Field(default=None, description="the front matter's author (none: left out)",
                                  examples=["Ada Lovelace"])
    tags: list[str] = Field(default_factory=list, description="tags every post gets, before the ones taken from the plan")
    target: Literal["git", "wordpress"] = Field(default="git", description="where an edited post record is published: git (the blog repository) or wordpress ([wordpress])")
    url: str | None = Field(default=None, description="a published post's address, set on its record: {slug} {date} {year} {month} {day}",
                            examples=["https://blog.example.org/posts/{slug}/"])

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return value if value is None or _template_names(value) is None else value

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("~") or os.path.isabs(value)):
            raise ValueError(f"{value!r} is relative; give an absolute path or one starting with ~")
        return value

    @field_validator("posts_dir")
    @classmethod
    def _posts_dir(cls, value: str) -> str:
        return _relative(value, "posts_dir", allow_dot=True)

    @field_validator("filename")
    @classmethod
    def _filename(cls, value: str) -> str:
        if "slug" not in _template_names(value):
            raise ValueError("the file name needs {slug}, so two posts cannot share it")
        return _relative(value, "filename")

    @field_validator("build")
    @classmethod
    def _build(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is None:
            return None
        try:
            argv = shlex.split(value) if isinstance(value, str) else value
        except ValueError as exc:
            raise ValueError(f"cannot split {value!r}: {exc}") from None
        if not argv or not argv[0].strip():
            raise ValueError("an empty command; leave build out for no check")
        return value

    def build_argv(self) -> list[str] | None:
        if self.build is None:
            return None
        return shlex.split(self.build) if isinstance(self.build, str) else list(self.build)


def _template_names(value: str) -> set[str]:
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None
    if names - FILENAME_FIELDS:
        raise ValueError(f"unknown field {{{sorted(names - FILENAME_FIELDS)[0]}}} (use {', '.join('{' + f + '}' for f in sorted(FILENAME_FIELDS))})")
    return names


def _relative(value: str, what: str, allow_dot: bool = False) -> str:
    norm = os.path.normpath(value.strip()).replace(os.sep, "/")
    if not value.strip() or os.path.isabs(value) or norm == ".." or norm.startswith("../"):
        raise ValueError(f"{what} must be a path inside the repository, not {value!r}")
    if norm == "." and not allow_dot:
        raise ValueError(f"{what} must name a file")
    if norm.split("/", 1)[0] == ".git":
        raise ValueError(f"{what} cannot be inside .git")
    return norm


# ------------------------------------------------------------------ processes


def _git_env(cwd: Path) -> dict[str, str]:
    env = gitrun.git_env(dict(os.environ), cwd)
    env["GIT_PAGER"] = "cat"
    return env


@dataclass
class Ran:
    code: int | None  # None: did not finish (timed out, or could not start)
    out: str
    problem: str = ""


async def run_command(argv: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> Ran:
    """Run argv (no shell) in cwd, stdout and stderr together; killed with its process group on timeout."""
    run = await gitrun.run_process(argv, cwd=cwd, env=env if env is not None else dict(os.environ), timeout=timeout,
                                   merge_stderr=True)
    if run.problem is not None:
        return Ran(None, "", f"took longer than {timeout:g} s" if run.timed_out else run.problem)
    return Ran(run.returncode, run.stdout.decode("utf-8", errors="replace"))


async def git(repo: Path, *args: str, timeout: float = GIT_TIMEOUT) -> Ran:
    return await run_command(["git", "-C", os.fspath(repo), "--no-pager", "-c", "core.quotepath=off", *args], repo, timeout, _git_env(repo))


def tail(text: str) -> str:
    lines = [ln for ln in text.rstrip().splitlines()][-TAIL_LINES:]
    out = "\n".join(lines)
    return out if len(out) <= TAIL_CHARS else "…" + out[-TAIL_CHARS:]


def _why(r: Ran, what: str) -> str:
    if r.code is None:
        return f"{what} {r.problem}"
    last = next((ln.strip() for ln in reversed(r.out.splitlines()) if ln.strip()), f"exit status {r.code}")
    return f"{what} failed: {last.removeprefix('fatal: ').removeprefix('error: ')}"


class Stop(Exception):
    """The run ends here; str() is its summary."""


class Failed(Stop):
    """The run ends here because its job failed (the build, the scratch clone): the run is `failed`."""


class Blocked(Stop):
    """The run cannot do its job until the person acts (the repository is not ready): the run is `stopped`."""


def post_confidence(built: bool, f: Facts, asked: bool, written_by: str) -> Confidence:
    """See `Publisher.confidence_rule`."""
    support = min(2, sum(1 for kind in (f.notes, f.memory, f.goals) if kind))
    llm = "none" if not asked else "validated" if written_by == "llm" else "invalid"
    return derive("strong" if built else "moderate", support=support, llm=llm)


# ------------------------------------------------------------------ the agent


class Publisher(Agent):
    name = "publisher"
    role = (
        "The publisher turns the next entry of the publishing order in PLANS.md into a post in the blog's "
        "repository: it checks the repository, drafts the post with correct front matter and a complete body, "
        "marks the entry published, runs the blog's build, and asks the person once, with the diff, before "
        "committing and pushing. An edited post record it publishes as it stands, to the git blog or to WordPress, "
        "in one flow with its PLANS.md mark and its record's move. As a writer it drafts in the person's voice from "
        "their own notes and memory, plainly, without inventing facts, numbers, names or dates."
    )
    reads = ("plans", "state:git.repo", "memory:hot", "memory:warm", "actions", "records:post", "wordpress")
    proposes = ("git.commit", "plans.edit", "git.push", "record.update", "wordpress.publish")
    # Its work lists: edited post records (oxymus/agents/publisher_posts.py), else PLANS.md's publishing order.
    consumes = (RecordPort(kind="post", status="edited"),)
    produces = (RecordPort(kind="post", status="scheduled"), RecordPort(kind="post", status="published"))
    validates = ("the blog builds with the draft",)
    trigger = Trigger()
    Settings = PublisherSettings
    confidence_rule = (
        "A publication is strong when the blog's build passed on the draft, moderate with no build set; each kind "
        "of fact it was drafted from (notes under the entry, related memory, a goal) is a supporting signal, at "
        "most two. With an LLM, its body validated, or did not and the template was used."
    )

    async def run(self, ctx) -> str:
        try:
            return await self._run(ctx)
        except Failed as failed:
            return Finished.failed(str(failed))
        except Blocked as blocked:
            return Finished.stopped(str(blocked))
        except Stop as stop:
            return str(stop)

    async def _run(self, ctx) -> str:
        s: PublisherSettings = ctx.settings  # type: ignore[assignment]
        from oxymus.agents.publisher_posts import publish_records

        async def check_git() -> None:
            if not s.repo:
                raise Blocked("no blog repository: set repo under [agents.publisher] (and list it in [git] repos)")
            await self._check_repo(ctx, Path(os.path.realpath(os.path.expanduser(s.repo))), s)

        done = await publish_records(self.name, ctx, s, check_git)
        if done is not None or s.target != "git":
            return done or "nothing to publish: no post record is edited or scheduled"
        if not s.repo:
            raise Stop("no blog repository: set repo under [agents.publisher] (and list it in [git] repos)")
        repo = Path(os.path.realpath(os.path.expanduser(s.repo)))
        repo_id = hashlib.sha256(os.fsencode(repo)).hexdigest()[:12]

        doc = await ctx.plans()
        if doc is None:
            raise Stop("no PLANS.md to read the publishing order from")
        proposal = next((p for p in doc.proposals if p.status in NEXT), None)
        if proposal is None:
            published = sum(1 for p in doc.proposals if p.status == "published")
            if not doc.proposals:
                raise Stop("nothing to publish: PLANS.md has no publishing order")
            raise Stop(f"nothing to publish: no entry of the publishing order is proposed or draft ({published} of {len(doc.proposals)} published)")
        title = display_title(proposal.title) or proposal.title
        slug = slugify(proposal.slug or title)
        today = ctx.today()
        commit_prefix, plans_prefix = f"publisher:{repo_id}:{slug}:", f"publisher:plans:{repo_id}:{slug}:"

        mine = [a for a in await ctx.actions(None, 500) if a.proposer.type == "agent" and a.proposer.name == self.name]
        waiting = [a for a in mine if a.idempotency_key.startswith((commit_prefix, plans_prefix)) and a.status in WAITING]
        if waiting:
            ids = ", ".join(a.id for a in waiting)
            raise Stop(f"“{title}” already waits for your decision (action {ids}); nothing new proposed")
        done = [a for a in mine if a.kind == "git.commit" and a.idempotency_key.startswith(commit_prefix) and a.status == "succeeded"]
        if done:
            sha = (done[0].receipt.ref or "")[:7] if done[0].receipt else ""
            raise Stop(f"“{title}” was already committed and pushed ({sha or done[0].id}) but PLANS.md still lists it as "
                       f"{proposal.status}; mark it published there")

        await self._check_repo(ctx, repo, s)
        inputs = [InputRef(kind="plans", ref=doc.path, note=f"entry {proposal.position} “{title}” ({proposal.status}), line {proposal.line}"),
                  InputRef(kind="state", ref=f"git.repo {repo}", note=f"on {s.branch}")]

        try:
            data = await asyncio.to_thread(Path(doc.path).read_bytes)
        except OSError as exc:
            raise Stop(f"cannot read {doc.path}: {exc.strerror or exc}") from None
        if hashlib.sha256(data).hexdigest() != doc.sha256:
            raise Stop(f"{doc.path} changed since it was read; run again in a moment")
        plans_real = Path(os.path.realpath(doc.path))
        plans_rel = os.path.relpath(plans_real, repo).replace(os.sep, "/") if plans_real.is_relative_to(repo) else None
        try:
            patched = set_proposal_status(data, proposal.position, "published", today, expected_sha256=doc.sha256, path=doc.path)
        except PlansError as exc:
            raise Stop(f"cannot mark “{title}” published: {exc}") from None

        with tempfile.TemporaryDirectory(prefix="oxymus-publish-") as tmp:
            site = Path(tmp) / "site"
            await self._clone(repo, site, s)
            if plans_rel is not None and not (site / plans_rel).is_file():
                plans_rel = None  # PLANS.md is in the folder but not in the repository: edited as its own file

            post_rel = posts_path(s, slug, today)
            if (site / post_rel).exists() or os.path.lexists(repo / post_rel):
                raise Stop(f"{post_rel} already exists in {s.repo}; nothing proposed")
            existing = same_slug(site / s.posts_dir, s, slug)
            if existing:
                raise Stop(f"a post for “{slug}” already exists ({s.posts_dir}/{existing}); mark the entry published in PLANS.md "
                           "or give it another slug")

            facts = await self._facts(ctx, doc, data, proposal, title, slug, today, s, site, inputs)
            body, written_by = await self._body(ctx, facts)
            if body is None:
                raise Stop(f"“{title}” has nothing to draft from: no notes under it in PLANS.md, no related memory, no goal, "
                           "and no LLM; add a few notes (indented under the entry) and run again")
            post = front_matter(s.front_matter, facts, s.author) + "\n" + body

            files = {post_rel: post}
            if plans_rel is not None:
                try:
                    files[plans_rel] = patched.decode("utf-8")
                except UnicodeDecodeError:
                    raise Stop(f"{doc.path} is not UTF-8 text; it cannot be committed with the post") from None
            for rel, content in files.items():
                (site / rel).parent.mkdir(parents=True, exist_ok=True)
                (site / rel).write_bytes(content.encode("utf-8"))

            build = await self._build(site, s)
            diff = await self._diff(site, sorted(files))
            draft_id = hashlib.sha256(f"{title}\0{slug}\0{body}".encode()).hexdigest()[:12]
            await ctx.artifact(
                "post_draft", slug, f"Draft: {title}", post,
                data={"path": post_rel, "date": today.isoformat(), "repo": s.repo, "written_by": written_by, "draft_id": draft_id,
                      "build": build, "plans_in_repo": plans_rel, "last_post": facts.last_post[0] if facts.last_post else None,
                      "diff": diff[:100_000]},
                filename=f"{today.isoformat()}-{slug}.md".replace("/", "-"),
            )
            if build is not None and not build["ok"]:
                raise Failed(f"build failed ({build['command']}: {build['why']}); nothing proposed. Output:\n{build['tail']}")

        key = f"{commit_prefix}{today.isoformat()}:{draft_id}"
        flows_ = [a for a in mine if a.flow_id is None]  # a flow's steps carry its key with ':step:N'
        denied = [a for a in flows_ if a.idempotency_key.startswith(commit_prefix) and a.status == "denied"
                  and a.idempotency_key.split(":")[4:5] == [draft_id]]
        if denied:
            raise Stop(f"you denied this very draft of “{title}” (action {denied[0].id}); it is proposed again when the draft "
                       "changes (its notes, related memory), or set the entry to scheduled or dropped in PLANS.md")
        earlier = [a for a in flows_ if a.idempotency_key == key or a.idempotency_key.startswith(key + ":")]
        if earlier:  # expired, failed or taken back after a failure: ask again
            key = f"{key}:{len(earlier) + 1}"

        built = f"; {build['command']} passed" if build is not None else ""
        reason = (f"Publish “{title}”, entry {proposal.position} of the publishing order in PLANS.md: {post_rel} drafted "
                  f"({'by the LLM' if written_by == 'llm' else 'from your notes'}){built}, and the entry marked published "
                  f"{today.isoformat()}.")
        message = (f"Publish: {title}\n\nAdds {post_rel}" + (f" and marks it published in {plans_rel}" if plans_rel else "")
                   + f" (entry {proposal.position} of the publishing order).")
        # One flow, one approval: commit, (mark PLANS.md published when it lives outside the
        # blog), then push. The push comes last because it alone cannot be taken back: if
        # it fails, the PLANS.md edit and the commit are, and the next run proposes again.
        steps: list[tuple[str, dict[str, Any]]] = [("git.commit", {"repo": s.repo, "files": files, "message": message})]
        if plans_rel is None:
            steps.append(("plans.edit", {"op": "set_proposal_status", "proposal": str(proposal.position), "status": "published",
                                         "date": today.isoformat(), "expected_sha256": doc.sha256}))
        steps.append(("git.push", {"repo": s.repo, "remote": s.remote, "branch": s.branch, "commit_key": f"{key}:step:1"}))
        sure = post_confidence(build is not None, facts, ctx.llm is not None, written_by).value
        flow = await ctx.propose_flow(f"Publish “{title}”", steps, reason=reason, inputs=inputs, key=key, confidence=sure)
        if flow is None:
            return f"drafted “{title}” as {post_rel}{built}, but publishing it could not be proposed"
        if flow.status == "denied":
            return f"“{title}”: publishing this draft is denied by policy ({flow.decision.rule}; action {flow.id})"
        where = "PLANS.md marked published, " if plans_rel is None else f"{plans_rel} marked published in the commit, "
        return (f"drafted “{title}” as {post_rel}{built}; commit, {where}push to {s.remote}/{s.branch} "
                f"{_status(flow.status)} (flow {flow.id}, {len(steps)} steps)")

    # --- steps --------------------------------------------------------------------------

    async def _check_repo(self, ctx, repo: Path, s: PublisherSettings) -> None:
        items = await ctx.state(["git.repo"])
        item = next((i for i in items if os.path.realpath(i.key) == os.fspath(repo)), None)
        if item is None:
            raise Blocked(f"{s.repo} is not a repository Oxymus watches; add it to [git] repos in config.toml")
        if item.error:
            raise Blocked(f"{s.repo}: {item.error}")
        if item.data.get("operation"):
            raise Blocked(f"a {item.data['operation']} is in progress in {s.repo}; finish it first")

        status = await git(repo, "status", "--porcelain=v2", "--branch")
        if status.code != 0:
            raise Blocked(f"{s.repo}: {_why(status, 'git status')}")
        head, ahead_behind, changed, conflicted = None, (0, 0), 0, 0
        for line in status.out.splitlines():
            if line.startswith("# branch.head "):
                head = line.split(" ", 2)[2]
            elif line.startswith("# branch.ab "):
                a, b = line.split(" ")[2:4]
                ahead_behind = (int(a), -int(b))
            elif line[:2] in ("1 ", "2 "):
                changed += 1
            elif line.startswith("u "):
                conflicted += 1
        operation = await asyncio.to_thread(gitrun.operation, repo)
        if operation:
            raise Blocked(f"a {operation} is in progress in {s.repo}; finish it first")
        if head != s.branch:
            where = "HEAD is detached" if head in (None, "(detached)") else f"it is on {head}"
            raise Blocked(f"{s.repo} is not on {s.branch} ({where}); switch to {s.branch} first")
        if conflicted or changed:
            n = conflicted + changed
            raise Blocked(f"{s.repo} has {n} uncommitted change{'s' if n != 1 else ''} to tracked files; commit or stash them first")
        if ahead_behind[1]:
            raise Blocked(f"{s.repo} is behind its upstream by {ahead_behind[1]}; pull first")
        remote = await git(repo, "ls-remote", "--refs", s.remote, f"refs/heads/{s.branch}")
        if remote.code != 0:
            ctx.note(f"could not ask {s.remote} for {s.branch} ({_why(remote, 'git ls-remote')}); compared with the last fetch only")
            return
        tip = next((ln.split("\t")[0] for ln in remote.out.splitlines() if ln.endswith(f"\trefs/heads/{s.branch}")), None)
        if tip is None:
            return  # the push creates the branch
        known = await git(repo, "cat-file", "-e", f"{tip}^{{commit}}")
        if known.code != 0:
            raise Blocked(f"{s.remote}/{s.branch} has commits {s.repo} does not have; pull first")
        ancestor = await git(repo, "merge-base", "--is-ancestor", tip, "HEAD")
        if ancestor.code == 1:
            raise Blocked(f"{s.repo} is behind or has diverged from {s.remote}/{s.branch}; pull first")

    async def _clone(self, repo: Path, site: Path, s: PublisherSettings) -> None:
        args = ["clone", "--quiet", "--no-hardlinks", "--branch", s.branch]
        if (repo / ".gitmodules").is_file():
            args.append("--recurse-submodules")
        cloned = await run_command(["git", "--no-pager", *args, "--", os.fspath(repo), os.fspath(site)], site.parent, CLONE_TIMEOUT,
                           _git_env(site.parent))
        if cloned.code != 0:
            raise Failed(f"could not make a scratch copy of {s.repo}: {_why(cloned, 'git clone')}")

    async def _facts(self, ctx, doc: PlansDocument, data: bytes, proposal: Proposal, title: str, slug: str, today: dt.date,
                     s: PublisherSettings, site: Path, inputs: list[InputRef]) -> Facts:
        notes = notes_under(data, doc, proposal)
        words = keywords(title) or keywords(slug.replace("-", " "))
        note_words = keywords(" ".join(" ".join([n.text, *n.children]) for n in notes))
        found: dict[str, tuple[int, int, float, Any]] = {}
        for tier_rank, tier in enumerate(("hot", "warm")):
            for word in words[:5]:
                for hit in await ctx.memory(tier, word, limit=10):
                    r = hit.record
                    n, _, score, _ = found.get(r.id, (0, tier_rank, 0.0, r))
                    found[r.id] = (n + 1, tier_rank, max(score, hit.score), r)
        # Related: a record matching most of the title's words (stemmed by the index: "plans" finds "plan").
        ranked = sorted((t for t in found.values() if 2 * t[0] > min(len(words), 5)), key=lambda t: (-t[0], t[1], -t[2]))[:MAX_MEMORY]
        memory = [(t[3].title, t[3].body) for t in ranked]
        if ranked:
            inputs.append(InputRef(kind="memory", ref=",".join(t[3].id for t in ranked), note="related to the entry's title"))

        topic = set(words) | set(note_words)
        goals = [g.text for g in doc.goals if not g.done and topic & set(keywords(g.text))]
        tags: list[str] = []
        for tag in s.tags:
            if slugify(tag) not in tags:
                tags.append(slugify(tag))
        after = [i for i, t in enumerate(proposal.section) if re.search(r"publish|queue|order|posts", t, re.IGNORECASE)]
        for sec in proposal.section[after[0] + 1:] if after else ():
            if slugify(sec) not in tags:
                tags.append(slugify(sec))
        for goal in goals:
            for word in keywords(goal):
                if word in topic and word not in tags:
                    tags.append(word)
        last = await self._last_post(site, s)
        return Facts(title, slug, today, notes, memory, goals, tags[:6], last)

    async def _last_post(self, site: Path, s: PublisherSettings) -> tuple[str, str] | None:
        r = await git(site, "log", "-1", "--diff-filter=A", "--name-only", "--format=", "--", s.posts_dir)
        name = next((ln for ln in r.out.splitlines() if ln.strip()), None) if r.code == 0 else None
        if not name:
            return None
        try:
            text = (site / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return name, strip_front_matter(text)

    async def _body(self, ctx, f: Facts) -> tuple[str | None, str]:
        if ctx.llm is not None:
            from oxymus.agents.llm import Section

            sections = [
                Section(name="the entry", text=f"title: {f.title}\nslug: {f.slug}\npublished on: {f.date:%A %d %B %Y}", priority=10),
                Section(name="notes under it in PLANS.md", text="\n".join(
                    f"- {n.text}" + "".join(f"\n  - {c}" for c in n.children) for n in f.notes) or "(none)", priority=9),
                Section(name="related memory", text="\n\n".join(f"### {t}\n{b}" for t, b in f.memory) or "(none)", priority=7, min_chars=200),
                Section(name="goals of the plan", text="\n".join(f"- {g}" for g in f.goals) or "(none)", priority=6),
            ]
            if not f.empty:
                sections.append(Section(name="an outline from the notes (follow its order, write it properly)",
                                        text=template_body(f), priority=5, min_chars=300))
            if f.last_post:
                sections.append(Section(name=f"the last post, {f.last_post[0]} (for voice and format only)",
                                        text=f.last_post[1][:4000], priority=1, min_chars=400))
            task = (f"Write the complete body of the blog post “{f.title}” in Markdown: an opening paragraph, then "
                    "sections with ## headings, then a short close. Use only the facts above: invent no facts, numbers, "
                    "names, quotes or dates. No front matter, no title heading, no placeholders.")
            answer = await ctx.llm.chat_json(self.role, sections, task, model_cls=PostBody, stream_to=ctx.progress)
            if answer is not None:
                body, why = check_llm_body(answer.body, f.title)
                if body is not None:
                    return body, "llm"
                ctx.note(f"the LLM's draft was not usable ({why}); the draft is built from the notes")
            else:
                ctx.note("the LLM gave no usable answer; the draft is built from the notes")
        if f.empty:
            return None, "template"
        return template_body(f), "template"

    async def _build(self, site: Path, s: PublisherSettings) -> dict[str, Any] | None:
        argv = s.build_argv()
        if argv is None:
            return None
        shown = s.build if isinstance(s.build, str) else shlex.join(argv)
        env = gitrun.without_repo_vars(dict(os.environ))
        ran = await run_command(argv, site, s.build_timeout, env)
        ok = ran.code == 0
        why = "" if ok else (ran.problem if ran.code is None else f"exit status {ran.code}")
        return {"command": shown, "ok": ok, "exit": ran.code, "why": why, "tail": tail(ran.out)}

    async def _diff(self, site: Path, names: list[str]) -> str:
        added = await git(site, "add", "-A", "--", *names)
        if added.code != 0:
            raise Stop(f"cannot add the draft in the scratch copy: {_why(added, 'git add')}")
        diff = await git(site, "diff", "--cached", "--no-ext-diff", "--", *names)
        return diff.out if diff.code == 0 else ""


def _status(status: str) -> str:
    return {"awaiting_approval": "waits for your approval", "approved": "approved by policy", "denied": "denied by policy"}.get(
        status, status.replace("_", " "))
