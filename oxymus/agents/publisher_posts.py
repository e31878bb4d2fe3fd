"""The publisher's record mode: an `edited` post record is published as one flow, approved once.

A run (started by the agent graph when a post reaches `edited`, by hand, or on its
trigger) takes every `post` record in status `edited` that has a `path` (its Markdown
file, absolute or ~/...), and proposes per post one flow, by `[agents.publisher] target`:

- git (the default): a `git.commit` of the post (its front matter kept, `draft` set to
  false) into `posts_dir` of `repo` (PLANS.md, when it lives in the repository, patched
  in the same commit), a `plans.edit` marking the publishing-order entry with the post's
  slug `published <date>` (when PLANS.md lives elsewhere and has such an entry), a
  `record.update` (status `published`, `url` from the `url` template, `path` of the
  published file), and the `git.push` last: the one step that cannot be taken back. If it
  fails for good, the record, PLANS.md and the commit are taken back (the record is
  `edited` again). The repository is checked first as in PLANS.md mode (branch, clean
  tree, upstream): otherwise the run stops and says why.
- wordpress: a `wordpress.publish` (its local images uploaded; `status: future` with
  `date_gmt` when the record's `publish_at` is still ahead), the PLANS.md mark, and a
  `record.update` to `scheduled` (publish_at ahead) or `published` (`url` from the
  template when set; with no template a later run proposes the link WordPress returned,
  which is known only once the post is live).

A scheduled post whose `publish_at` has passed is looked up on WordPress (`wordpress`
read); once WordPress says `publish`, a `record.update` moves it to `published` with the
link WordPress gives.

Idempotency: a flow's key is `publisher:post:<record id>:<version>`; while one waits
nothing more is proposed for the post, a denied one is not proposed again until the
record changes (a new version), and a failed or taken-back one is proposed again with
`:2`, `:3`. The step actions are idempotent themselves (a commit trailer, a WordPress
lookup by slug).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from oxymus.actions.model import InputRef
from oxymus.agents.publisher_draft import display_title, posts_path, same_slug, slugify, strip_front_matter
from oxymus.plans import PlansError, set_proposal_status

WAITING = ("proposed", "awaiting_approval", "snoozed", "approved", "executing")
_DRAFT_YAML = re.compile(r"^draft\s*:.*$", re.MULTILINE)
_DRAFT_TOML = re.compile(r"^draft\s*=.*$", re.MULTILINE)


def as_published(text: str) -> str:
    """The post with `draft: false` in its front matter (added when missing); no front matter: unchanged."""
    for fence, pattern, line in (("---", _DRAFT_YAML, "draft: false"), ("+++", _DRAFT_TOML, "draft = false")):
        if text.startswith(fence + "\n"):
            end = text.find("\n" + fence + "\n", len(fence))
            if end == -1:
                return text
            head = text[len(fence) + 1:end + 1]
            head = pattern.sub(line, head) if pattern.search(head) else head + line + "\n"
            return fence + "\n" + head + text[end + 1:]
    return text


def local_images(markdown: str, base: Path) -> tuple[dict[str, str], list[str]]:
    """({src -> absolute path} of the local images that exist, the srcs that do not). Found the way
    wordpress.publish renders them (markdown-it), so `![a](<img/a b.png>)` is found as `img/a b.png`."""
    from markdown_it import MarkdownIt

    found: dict[str, str] = {}
    missing: list[str] = []
    for token in MarkdownIt("commonmark").parse(markdown):
        for child in token.children or ():
            src = urllib.parse.unquote(str(child.attrGet("src") or "")) if child.type == "image" else ""
            if not src or re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", src, re.IGNORECASE) or src in found or src in missing:
                continue
            path = Path(os.path.expanduser(src)) if src.startswith("~") else (base / src)
            if path.is_file():
                found[src] = os.fspath(path.resolve())
            else:
                missing.append(src)
    return found, missing


def front_matter_tags(text: str) -> list[str]:
    """The `tags` of the post's front matter (YAML between ---, TOML between +++); [] when none or unreadable."""
    for fence in ("---", "+++"):
        if text.startswith(fence + "\n"):
            end = text.find("\n" + fence + "\n", len(fence))
            head = text[len(fence) + 1:end + 1] if end != -1 else ""
            try:
                if fence == "---":
                    import yaml

                    meta = yaml.safe_load(head)
                else:
                    import tomllib

                    meta = tomllib.loads(head)
            except Exception:  # noqa: BLE001 - a front matter we cannot read gives no tags, not a failed run
                return []
            tags = meta.get("tags") if isinstance(meta, dict) else None
            if isinstance(tags, str):
                tags = [part.strip() for part in tags.split(",")]
            return [str(tag).strip() for tag in tags or [] if str(tag).strip()] if isinstance(tags, list) else []
    return []


def _moment(value: Any) -> dt.datetime | None:
    if not value:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def address(template: str | None, slug: str, day: dt.date) -> str | None:
    if not template:
        return None
    return template.format(slug=slug, date=day.isoformat(), year=f"{day.year:04d}", month=f"{day.month:02d}", day=f"{day.day:02d}")


async def publish_records(name: str, ctx: Any, s: Any, check_git: Callable[[], Awaitable[None]]) -> str | None:
    """Propose what the post records ask for; None when there is none to act on (PLANS.md mode goes on)."""
    edited = [p for p in await ctx.records("post", status="edited") if p.fields.get("path")]
    scheduled = await ctx.records("post", status="scheduled") if s.target == "wordpress" else []
    mine = [a for a in await ctx.actions(None, 1000) if a.proposer.type == "agent" and a.proposer.name == name]
    links = await _links(ctx, s, mine)
    if not edited and not scheduled and not links:
        return None
    lines: list[str] = list(links)
    if edited and s.target == "git":
        await check_git()
    for post in edited:
        lines.append(await _publish_one(ctx, s, post, mine))
    for post in scheduled:
        line = await _check_live(ctx, post, mine)
        if line:
            lines.append(line)
    return "; ".join(lines) if lines else "nothing to publish: every scheduled post waits for its time"


def _key(post: Any, mine: list[Any]) -> tuple[str | None, str]:
    """(the flow's key, or None with why nothing is proposed)."""
    prefix = f"publisher:post:{post.id}:"
    waiting = [a for a in mine if a.idempotency_key.startswith(prefix) and a.status in WAITING and a.kind == "flow"]
    if waiting:
        return None, f"“{post.title}” already waits for your decision (action {waiting[0].id})"
    key = f"{prefix}{post.version}"
    if any(a.idempotency_key == key and a.status == "denied" for a in mine):
        return None, f"you denied publishing this version of “{post.title}”; change the record to propose again"
    earlier = [a for a in mine if a.kind == "flow" and (a.idempotency_key == key or a.idempotency_key.startswith(key + ":"))]
    return (f"{key}:{len(earlier) + 1}" if earlier else key), ""


async def _plans_mark(ctx: Any, slug: str, today: dt.date) -> tuple[Any, Any, bytes | None]:
    """(the PLANS.md document, the entry with this slug not yet published, the patched bytes); Nones when none."""
    doc = await ctx.plans()
    if doc is None:
        return None, None, None
    entry = next((p for p in doc.proposals if slugify(p.slug or display_title(p.title) or p.title) == slug
                  and p.status != "published"), None)
    if entry is None:
        return doc, None, None
    try:
        data = await asyncio.to_thread(Path(doc.path).read_bytes)
        return doc, entry, set_proposal_status(data, entry.position, "published", today, expected_sha256=doc.sha256, path=doc.path)
    except (OSError, PlansError) as exc:
        ctx.note(f"PLANS.md entry “{entry.title}” cannot be marked published ({exc}); the post is published without it")
        return doc, None, None


async def _publish_one(ctx: Any, s: Any, post: Any, mine: list[Any]) -> str:
    key, why = _key(post, mine)
    if key is None:
        return why
    raw_path = str(post.fields["path"])
    path = Path(os.path.expanduser(raw_path))
    if not path.is_absolute():
        return f"“{post.title}”: its path {raw_path!r} is relative; give an absolute path or ~/..."
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"“{post.title}”: cannot read {raw_path}: {getattr(exc, 'strerror', None) or exc}"
    slug = slugify(str(post.fields.get("slug") or post.title))
    today = ctx.today()
    doc, entry, patched = await _plans_mark(ctx, slug, today)
    inputs = [InputRef(kind="record", ref=post.id, note=f"post, edited, version {post.version}"),
              InputRef(kind="file", ref=raw_path, note="the edited post")]
    if entry is not None:
        inputs.append(InputRef(kind="plans", ref=doc.path, note=f"entry {entry.position} “{entry.title}”"))
    mark = ("plans.edit", {"op": "set_proposal_status", "proposal": str(entry.position), "status": "published",
                           "date": today.isoformat(), "expected_sha256": doc.sha256}) if entry is not None else None
    if s.target == "wordpress":
        steps, what = _wordpress_steps(ctx, s, post, text, path, slug, today, mark)
    else:
        steps, what = _git_steps(s, post, text, slug, today, mark, doc, entry, patched, key)
    flow = await ctx.propose_flow(f"Publish “{post.title}”", steps, reason=f"the post “{post.title}” is edited: {what}",
                                  inputs=inputs, key=key, confidence=1.0)
    if flow is None:
        return f"“{post.title}”: publishing it could not be proposed"
    return f"“{post.title}”: {what} ({flow.status.replace('_', ' ')}, flow {flow.id}, {len(steps)} steps)"


def _git_steps(s: Any, post: Any, text: str, slug: str, today: dt.date, mark: Any, doc: Any, entry: Any,
               patched: bytes | None, key: str) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    repo = Path(os.path.realpath(os.path.expanduser(s.repo)))
    existing = same_slug(repo / s.posts_dir, s, slug)
    rel = f"{s.posts_dir}/{existing}".removeprefix("./") if existing else posts_path(s, slug, today)
    files = {rel: as_published(text)}
    plans_rel = None
    if entry is not None and patched is not None:
        plans_real = Path(os.path.realpath(doc.path))
        if plans_real.is_relative_to(repo) and (repo / os.path.relpath(plans_real, repo)).is_file():
            plans_rel = os.path.relpath(plans_real, repo).replace(os.sep, "/")
            files[plans_rel] = patched.decode("utf-8")
    message = f"Publish: {post.title}\n\nAdds {rel}" + (f" and marks it published in {plans_rel}" if plans_rel else "") + "."
    fields: dict[str, Any] = {"path": os.path.join(s.repo, rel)}
    if url := address(s.url, slug, today):
        fields["url"] = url
    # The push comes last: it alone cannot be taken back. If it fails for good, the record
    # update, the PLANS.md mark and the commit before it are, and the post is `edited` again.
    steps: list[tuple[str, dict[str, Any]]] = [("git.commit", {"repo": s.repo, "files": files, "message": message})]
    if mark is not None and plans_rel is None:
        steps.append(mark)
    steps.append(("record.update", {"id": post.id, "status": "published", "fields": fields, "note": "published"}))
    steps.append(("git.push", {"repo": s.repo, "remote": s.remote, "branch": s.branch, "commit_key": f"{key}:step:1"}))
    return steps, f"commit {rel}, mark it published and push to {s.remote}/{s.branch}"


def _wordpress_steps(ctx: Any, s: Any, post: Any, text: str, path: Path, slug: str, today: dt.date,
                     mark: Any) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    body = strip_front_matter(text)
    media, missing = local_images(body, path.parent)
    for src in missing:
        ctx.note(f"“{post.title}”: the image {src} is not a file next to {path}; left as written")
    at = _moment(post.fields.get("publish_at"))
    future = at is not None and at > ctx.now()
    publish: dict[str, Any] = {"title": post.title, "slug": slug, "content_markdown": body, "status": "future" if future else "publish",
                               "media": media}
    tags: list[str] = []
    for tag in [*s.tags, *front_matter_tags(text)]:
        if tag.lower() not in (t.lower() for t in tags):
            tags.append(tag)
    if tags:
        publish["tags"] = tags
    if future:
        publish["date_gmt"] = at.astimezone(dt.timezone.utc).isoformat()
    update: dict[str, Any] = {"id": post.id, "status": "scheduled" if future else "published", "note": "sent to WordPress"}
    if not future and (url := address(s.url, slug, today)):
        update["fields"] = {"url": url}
    # WordPress first: it is the step that fails most (network, password), and failing
    # first leaves nothing to take back; it can be taken back itself (draft or trash) if
    # the PLANS.md mark after it fails. And the record reaches `published` (which starts
    # distribution) only once the post is live.
    steps: list[tuple[str, dict[str, Any]]] = [("wordpress.publish", publish)]
    if mark is not None:
        steps.append(mark)
    steps.append(("record.update", update))
    what = f"schedule it on WordPress for {publish['date_gmt']}" if future else "publish it on WordPress"
    return steps, what + (f" with {len(media)} image(s)" if media else "")


async def _links(ctx: Any, s: Any, mine: list[Any]) -> list[str]:
    """Published to WordPress with no `url` template: the record gets the link WordPress returned
    (known only once the post is live, so it is a move of its own, after the flow)."""
    if s.target != "wordpress" or s.url:
        return []
    given = {}
    for a in mine:
        m = re.fullmatch(r"publisher:post:([^:]+):.*:step:1", a.idempotency_key)
        if m and a.kind == "wordpress.publish" and a.status == "succeeded" and a.receipt and a.receipt.data.get("status") == "publish":
            given[m.group(1)] = str(a.receipt.data.get("link") or "")
    if not given:
        return []
    said = []
    for post in await ctx.records("post", status="published"):
        link = given.get(post.id)
        key = f"publisher:post:{post.id}:link:{post.version}"
        if not link or post.fields.get("url") == link or any(a.idempotency_key == key for a in mine):
            continue
        action = await ctx.propose("record.update", {"id": post.id, "fields": {"url": link}, "note": "its WordPress link"},
                                   reason=f"WordPress published “{post.title}” at {link}",
                                   inputs=[InputRef(kind="record", ref=post.id, note=f"post, published, version {post.version}")],
                                   confidence=1.0, key=key)
        if action is not None:
            said.append(f"“{post.title}”: its WordPress link {link} set on the record (action {action.id})")
    return said


async def _check_live(ctx: Any, post: Any, mine: list[Any]) -> str | None:
    """A scheduled post whose time has passed: published on WordPress yet? Then its record follows."""
    at = _moment(post.fields.get("publish_at"))
    if at is None or at > ctx.now():
        return None
    key = f"publisher:post:{post.id}:live:{post.version}"
    if any(a.idempotency_key == key for a in mine):
        return None
    slug = slugify(str(post.fields.get("slug") or post.title))
    try:
        found = await ctx.wordpress_post(slug)
    except Exception as exc:  # noqa: BLE001 - WordPress unreachable or refused: said, and tried on the next run
        return f"“{post.title}”: cannot ask WordPress whether it is live ({exc})"
    if found is None:
        return f"“{post.title}” is scheduled but WordPress has no post {slug!r}"
    if found.get("status") != "publish":
        return f"“{post.title}”: WordPress has it {found.get('status')}, not published yet"
    fields = {"url": str(found["link"])} if found.get("link") else {}
    action = await ctx.propose("record.update", {"id": post.id, "status": "published", "fields": fields, "note": "live on WordPress"},
                               reason=f"WordPress published “{post.title}” at {found.get('link')}",
                               inputs=[InputRef(kind="record", ref=post.id, note=f"post, scheduled, version {post.version}")],
                               confidence=1.0, key=key)
    return f"“{post.title}” is live on WordPress: moved to published" + ("" if action is None else f" (action {action.id})")
