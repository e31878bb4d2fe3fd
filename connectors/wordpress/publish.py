"""`wordpress.publish`: publish (or schedule) one post on a WordPress site, with its local images.

The post's Markdown becomes HTML with markdown-it-py (CommonMark, raw HTML kept); each
local image the payload names is uploaded to the media library (POST /wp/v2/media) and
its `src` rewritten to the `source_url` WordPress returns. `status: future` with a
future `date_gmt` schedules the post; WordPress publishes it then.

Idempotency: a post is (site, slug). Before creating, the post is looked up by slug
among every status (authenticated), and an existing one is updated rather than a second
created, so a retry after a crash between the create and the stored receipt finds the
first. An image is uploaded under `<name>-<first 8 hex of its sha256>.<ext>`, and
looked up by that slug first: the same file is never uploaded twice, a changed one is.
The receipt keeps the post's id, link and status, whether this action created it, the
status it had before, and every image's URL.

Compensation (a later step of the flow failed): a post this action created is moved to
the trash (DELETE, not forced: WordPress keeps it 30 days); one that existed before gets
its earlier status back (draft, pending, private). One that was already published before
is left alone with a message: its old content is not kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import mimetypes
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oxymus.actions.effects import (
    ActionContext, ActionInvalid, ActionSpec, EffectError, Permanent, Prepared, Preview, Receipt, Transient,
)
from oxymus.connectors.wordpress.api import WordPressApi, WordPressError
from oxymus.connectors.wordpress.config import SECRET_NAME, WordPressConfig

MAX_CONTENT = 1_000_000
MAX_MEDIA_BYTES = 50_000_000
RESTORABLE = ("draft", "pending", "private")


class PublishPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500, description="the post's title")
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,199}$", description="the post's slug: how it is found again")
    content_markdown: str | None = Field(default=None, max_length=MAX_CONTENT, description="the body in Markdown (converted to HTML)")
    content: str | None = Field(default=None, max_length=MAX_CONTENT, description="or the body as HTML")
    status: Literal["publish", "future"] = Field(default="publish", description="publish now, or future: at date_gmt")
    date_gmt: dt.datetime | None = Field(default=None, description="when it is (or was) published, UTC; needed for future")
    excerpt: str | None = Field(default=None, max_length=5000, description="the excerpt")
    tags: list[str] = Field(default_factory=list, max_length=50, description="tag names (made on the site when missing)")
    media: dict[str, str] = Field(default_factory=dict, max_length=100,
                                  description="local images: the src as the post writes it -> the file's absolute path")
    media_sha256: dict[str, str] | None = Field(default=None, description="pinned by prepare: each image's sha256")

    @model_validator(mode="after")
    def _check(self) -> PublishPayload:
        if (self.content_markdown is None) == (self.content is None):
            raise ValueError("give content_markdown or content (HTML), one of them")
        if self.status == "future" and self.date_gmt is None:
            raise ValueError("status future needs date_gmt")
        for src, path in self.media.items():
            if not os.path.isabs(os.path.expanduser(path)):
                raise ValueError(f"media[{src!r}]: {path!r} is not an absolute path")
        return self

    def when(self) -> str | None:
        """date_gmt as WordPress writes it: naive, UTC."""
        if self.date_gmt is None:
            return None
        moment = self.date_gmt if self.date_gmt.tzinfo else self.date_gmt.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()


def render(payload: PublishPayload, urls: dict[str, str]) -> str:
    """The post's HTML, each local image's src replaced by its uploaded URL."""
    if payload.content is not None:
        html = payload.content
        for src, url in urls.items():
            html = re.sub(r'(\bsrc=["\'])' + re.escape(src) + r'(["\'])', lambda m: m.group(1) + url + m.group(2), html)
        return html
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")
    env: dict[str, Any] = {}
    tokens = md.parse(payload.content_markdown or "", env)
    for token in tokens:
        for child in token.children or ():
            if child.type != "image":
                continue
            # markdown-it percent-encodes a src (`<img/a b.png>` becomes img/a%20b.png): match either form.
            src = str(child.attrGet("src"))
            url = urls.get(src) or urls.get(urllib.parse.unquote(src))
            if url:
                child.attrSet("src", url)
    return md.renderer.render(tokens, md.options, env)


def media_name(path: str, digest: str) -> tuple[str, str]:
    """(the file name uploaded, the slug WordPress gives it): the content's hash is in both."""
    stem, ext = os.path.splitext(os.path.basename(path))
    clean = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "image"
    return f"{clean}-{digest[:8]}{ext.lower()}", f"{clean}-{digest[:8]}"


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


class WordPressPublish(ActionSpec):
    kind: ClassVar[str] = "wordpress.publish"
    Payload: ClassVar[type[BaseModel]] = PublishPayload
    scope = "external"
    risk = "medium"
    description = "publish or schedule a post (and upload its images) on the WordPress site of [wordpress]"
    compensable = True

    config: WordPressConfig

    def _site(self) -> WordPressConfig:
        config = self.config or WordPressConfig()
        if not config.url or not config.user:
            missing = "url" if not config.url else "user"
            raise Permanent(f"[wordpress] {missing} is not set in config.toml")
        return config

    async def prepare(self, payload: PublishPayload, ctx: ActionContext) -> Prepared:  # type: ignore[override]
        try:
            self._site()
        except Permanent as exc:
            raise ActionInvalid(str(exc)) from None
        if payload.status == "future" and payload.date_gmt is not None:
            moment = payload.date_gmt if payload.date_gmt.tzinfo else payload.date_gmt.replace(tzinfo=dt.timezone.utc)
            if moment <= ctx.now():
                raise ActionInvalid(f"payload.date_gmt: {payload.when()} is not in the future; use status publish")
        pinned: dict[str, str] = {}
        for src, path in payload.media.items():
            full = os.path.expanduser(path)
            try:
                if os.path.getsize(full) > MAX_MEDIA_BYTES:
                    raise ActionInvalid(f"payload.media[{src!r}]: {path} is larger than {MAX_MEDIA_BYTES // 1_000_000} MB")
                pinned[src] = await asyncio.to_thread(_sha256, full)
            except OSError as exc:
                raise ActionInvalid(f"payload.media[{src!r}]: cannot read {path}: {exc.strerror or exc}") from None
        payload = payload.model_copy(update={"media_sha256": pinned})
        return Prepared(payload=payload.model_dump(mode="json"), preview=self.preview(payload))

    def preview(self, payload: PublishPayload) -> Preview:  # type: ignore[override]
        site = (self.config.url if self.config and self.config.url else "WordPress")
        what = (f"schedule “{payload.title}” on {site} for {payload.when()} UTC" if payload.status == "future"
                else f"publish “{payload.title}” on {site}")
        lines = [f"slug: {payload.slug}", *([f"tags: {', '.join(payload.tags)}"] if payload.tags else []),
                 *(f"image: {src} ({path})" for src, path in payload.media.items()), ""]
        body = payload.content_markdown if payload.content_markdown is not None else payload.content or ""
        return Preview(summary=what, format="text", body="\n".join(lines) + body[:4000])

    async def _api(self, ctx: ActionContext) -> WordPressApi:
        config = self._site()
        password = await asyncio.to_thread(ctx.secret, config.secret_spec())  # a password_command may run
        if not password:
            raise Permanent(f"no application password for [wordpress] user {config.user!r}: {config.secret_spec().ways()}")
        return WordPressApi(config.url or "", config.user or "", password.strip(), min(config.timeout, ctx.timeout))

    async def execute(self, payload: PublishPayload, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        api = await self._api(ctx)
        try:
            return await asyncio.to_thread(self._publish, api, payload)
        except WordPressError as exc:
            raise effect_error(exc, api, f"publish “{payload.title}”") from None

    def _publish(self, api: WordPressApi, payload: PublishPayload) -> Receipt:
        urls: dict[str, str] = {}
        for src, path in payload.media.items():
            full = os.path.expanduser(path)
            try:
                digest = _sha256(full)
                if payload.media_sha256 and payload.media_sha256.get(src) not in (None, digest):
                    raise Permanent(f"the image {path} changed since it was approved; propose the post again")
                name, slug = media_name(full, digest)
                found = api.find_media(slug)
                if found is None:
                    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
                    found = api.upload_media(name, Path(full).read_bytes(), mime)
            except OSError as exc:
                raise Permanent(f"cannot read the image {path}: {exc.strerror or exc}") from None
            urls[src] = str(found.get("source_url") or "")
        fields: dict[str, Any] = {"title": payload.title, "slug": payload.slug, "content": render(payload, urls),
                                  "status": payload.status}
        if payload.when():
            fields["date_gmt"] = payload.when()
        if payload.excerpt is not None:
            fields["excerpt"] = payload.excerpt
        if payload.tags:
            fields["tags"] = [api.tag_id(name) for name in payload.tags]
        existing = api.find_post(payload.slug)
        if existing is not None and "id" not in existing:
            raise Permanent(f"WordPress at {api.url} answered the lookup of {payload.slug!r} without a post id")
        if existing is None:
            post, created, before = api.create_post(fields), True, None
        else:
            before = str(existing.get("status") or "")
            same = (before == payload.status and _raw(existing.get("content")) == fields["content"]
                    and _raw(existing.get("title")) == payload.title
                    and ("tags" not in fields or sorted(existing.get("tags") or []) == sorted(fields["tags"])))
            post, created = (existing, False) if same else (api.update_post(int(existing["id"]), fields), False)
            if same:
                return _receipt(post, payload, urls, created=False, before=before, already=True)
        return _receipt(post, payload, urls, created=created, before=before, already=False)

    async def compensate(self, payload: PublishPayload, receipt: Receipt, ctx: ActionContext) -> Receipt:  # type: ignore[override]
        api = await self._api(ctx)
        post_id = int(receipt.data.get("id") or 0)
        if not post_id:
            raise Permanent(f"the receipt of “{payload.title}” names no post id; take it back by hand on {api.url}")
        before = receipt.data.get("status_before")
        try:
            return await asyncio.to_thread(self._take_back, api, post_id, receipt, before)
        except WordPressError as exc:
            raise effect_error(exc, api, f"take back “{payload.title}”") from None

    @staticmethod
    def _take_back(api: WordPressApi, post_id: int, receipt: Receipt, before: str | None) -> Receipt:
        # Only a post this very action created is trashed; after a crash between create and
        # receipt the retry saw it as existing, so it is drafted instead: never trash what may be someone's.
        try:
            current = api.get_post(post_id)
        except WordPressError as exc:
            if exc.status in (404, 410):
                return Receipt(summary=f"post {post_id} was already gone", ref=receipt.ref, already_done=True, data={"id": post_id})
            raise
        status = str(current.get("status") or "")
        if receipt.data.get("created"):
            if status == "trash":
                return Receipt(summary=f"post {post_id} was already in the trash", ref=receipt.ref, already_done=True,
                               data={"id": post_id})
            api.trash_post(post_id)
            return Receipt(summary=f"moved post {post_id} to the trash", ref=receipt.ref, data={"id": post_id})
        if before == "publish":
            raise Permanent(f"post {post_id} ({receipt.ref}) was published before this action updated it; its earlier "
                            "content is not kept, restore it by hand (WordPress keeps revisions)")
        back = before if before in RESTORABLE else "draft"
        if status == back:
            return Receipt(summary=f"post {post_id} was already {back}", ref=receipt.ref, already_done=True, data={"id": post_id})
        api.update_post(post_id, {"status": back})
        return Receipt(summary=f"moved post {post_id} back to {back}", ref=receipt.ref, data={"id": post_id, "status": back})


def _raw(field: Any) -> str | None:
    return str(field.get("raw")) if isinstance(field, dict) and field.get("raw") is not None else None


def _receipt(post: Any, payload: PublishPayload, urls: dict[str, str], *, created: bool, before: str | None,
             already: bool) -> Receipt:
    if not isinstance(post, dict) or "id" not in post:
        # urllib turns a POST redirected (http -> https, say) into a GET, whose answer is a list.
        raise Permanent(f"WordPress did not answer with the post for “{payload.title}”; is [wordpress] url the site's "
                        "exact address (https, with or without www)?")
    link, status = str(post.get("link") or ""), str(post.get("status") or "")
    verb = f"scheduled for {post.get('date_gmt')} UTC" if status == "future" else status.replace("publish", "published")
    summary = f"“{payload.title}” {verb} at {link}" + (" (already so)" if already else "")
    return Receipt(summary=summary, ref=link or None, already_done=already, data={
        "id": post.get("id"), "link": link, "status": status, "date_gmt": post.get("date_gmt"), "created": created,
        "status_before": before, "media": urls})


def effect_error(exc: WordPressError, api: WordPressApi, doing: str) -> EffectError:
    """WordPress's answer as the executor's two classes: retry it, or tell the person what to fix."""
    if exc.status == 0:
        return Transient(f"WordPress at {api.url}: {exc.message} ({doing})")
    if exc.status == 429:
        return Transient(f"WordPress at {api.url} is rate limiting ({exc.message})", retry_after=exc.retry_after)
    if exc.status >= 500:
        return Transient(f"WordPress at {api.url} answered {exc.message} ({doing})", retry_after=exc.retry_after)
    if exc.status in (401, 403):
        return Permanent(f"WordPress at {api.url} refused user {api.user!r} ({exc.message}): check [wordpress] user and its "
                         f"application password (`oxymus secret set {SECRET_NAME}` or [wordpress] password_command), "
                         "and that the user may publish posts")
    if exc.status == 404 and exc.code in ("", "rest_no_route"):
        return Permanent(f"no WordPress REST API at {api.root}/ ({exc.message}): check [wordpress] url")
    return Permanent(f"WordPress at {api.url} refused to {doing}: {exc.message}")
