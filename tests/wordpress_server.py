"""A WordPress REST API (wp/v2) on loopback, for tests: posts and media, written from the
REST API Handbook's reference (developer.wordpress.org/rest-api/reference/posts, /media).

    with serve(clock=lambda: NOW) as wp:          # a running FakeWordPress
        wp.state.fail_next(500, times=2)           # the next two requests answer 500
        ...  # point [wordpress] url at wp.url, user wp.state.user, password wp.state.password
        wp.state.run_cron()                        # future posts whose date passed go live

What it speaks:
- Basic auth with an application password: WordPress shows it in groups of four
  (`abcd efgh ...`) and strips everything but letters and digits before comparing, so
  spaces are allowed. A wrong one is `401 incorrect_password`; an unknown user
  `401 invalid_username`.
- /wp-json/wp/v2/posts: GET lists (filters `slug` (comma-separated), `status`
  (comma-separated; anything but `publish` needs auth, else `400 rest_invalid_param`),
  `context=edit` needs auth, else `401 rest_forbidden_context`); POST creates (`201`;
  without auth `401 rest_cannot_create`). `status=future` with a `date_gmt` that has passed
  is published at once, as wp_insert_post does, and `publish` with a future date becomes
  `future`; a slug taken by another post gets `-2` appended, as WordPress does.
- /posts/<id>: GET (`404 rest_post_invalid_id`), POST updates (`401 rest_cannot_edit`
  without auth), DELETE moves to the trash (its slug gets `__trashed`, as WordPress does;
  again: `410 rest_already_trashed`),
  `?force=true` deletes ({"deleted": true, "previous": ...}).
- /tags: GET lists (filter `slug`), POST creates ({name}; an existing one: `400 term_exists`
  with its `term_id`); a post's `tags` are tag ids (an unknown one: `400 rest_invalid_param`).
- /media: POST uploads the raw body (`Content-Disposition: attachment; filename=...`
  required: `400 rest_upload_no_content_disposition`; empty: `400 rest_upload_no_data`),
  `201` with id and source_url; GET lists (filter `slug`).
- Any other path under /wp-json/: `404 rest_no_route`.
- Faults for tests: `fail_next(status, times)` (500, 429 with Retry-After, ...),
  `hang_next(seconds)` (the answer comes that late).
Every request is recorded in `state.requests` as (method, path with query).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from loopback import LoopbackHandler

ROOT = "/wp-json/wp/v2"


def _err(status: int, code: str, message: str, **data: Any) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message, "data": {"status": status, **data}}


@dataclass
class WPState:
    user: str = "ana"
    password: str = "abcd EFGH 1234 ijkl MNOP 5678"
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    url: str = ""
    posts: dict[int, dict[str, Any]] = field(default_factory=dict)
    media: dict[int, dict[str, Any]] = field(default_factory=dict)
    tags: dict[int, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[tuple[int, float]] = field(default_factory=list)  # (status or 0 for a hang, seconds)
    next_id: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, times: int = 1) -> None:
        with self.lock:
            self.faults += [(status, 0.0)] * times

    def hang_next(self, seconds: float) -> None:
        with self.lock:
            self.faults.append((0, seconds))

    def run_cron(self) -> list[int]:
        """What WordPress's cron does: a future post whose date has come is published. The ids published."""
        now = self._now()
        done = []
        with self.lock:
            for post in self.posts.values():
                if post["status"] == "future" and _parse(post["date_gmt"]) <= now:
                    post["status"] = "publish"
                    post["link"] = f"{self.url}/{post['slug']}/"  # a scheduled post's link is plain (?p=) until then
                    done.append(post["id"])
        return done

    def by_slug(self, slug: str) -> list[dict[str, Any]]:
        return [p for p in self.posts.values() if p["slug"] == slug]

    def _now(self) -> dt.datetime:
        return self.clock().astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "")).replace(tzinfo=None)


def _shown(post: dict[str, Any], edit: bool) -> dict[str, Any]:
    out = {k: v for k, v in post.items() if not k.startswith("_")}
    out["title"] = {"rendered": post["_title"], **({"raw": post["_title"]} if edit else {})}
    out["content"] = {"rendered": post["_content"], "protected": False, **({"raw": post["_content"]} if edit else {})}
    out["excerpt"] = {"rendered": post["_excerpt"], "protected": False, **({"raw": post["_excerpt"]} if edit else {})}
    return out


class WPHandler(LoopbackHandler):
    state: WPState

    def _serve(self, method: str) -> None:
        st = self.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        st.requests.append((method, self.path))
        with st.lock:
            fault = st.faults.pop(0) if st.faults else None
        if fault is not None:
            status, seconds = fault
            if status == 0:
                time.sleep(seconds)  # the server hangs; the client's timeout is what is tested
            elif status == 429:
                return self._send(*_err(429, "too_many_requests", "Too many requests."), headers={"Retry-After": "1"})
            else:
                return self._send(*_err(status, "internal_server_error", "There has been a critical error on this website."))
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if not url.path.startswith(ROOT + "/"):
            return self._send(*_err(404, "rest_no_route", "No route was found matching the URL and request method."))
        auth = self._auth()
        if isinstance(auth, tuple):
            return self._send(*auth)
        path = url.path[len(ROOT):]
        with st.lock:
            if path == "/posts" and method == "GET":
                return self._send(*self._list(query, auth))
            if path == "/posts" and method == "POST":
                if not auth:
                    return self._send(*_err(401, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user."))
                return self._send(*self._save(None, self._json(raw)))
            m = re.fullmatch(r"/posts/(\d+)", path)
            if m:
                post = st.posts.get(int(m.group(1)))
                if post is None:
                    return self._send(*_err(404, "rest_post_invalid_id", "Invalid post ID."))
                if method == "GET":
                    if post["status"] != "publish" and not auth:
                        return self._send(*_err(401, "rest_forbidden", "Sorry, you are not allowed to do that."))
                    return self._send(200, _shown(post, auth and query.get("context") == "edit"))
                if not auth:
                    return self._send(*_err(401, "rest_cannot_edit", "Sorry, you are not allowed to edit this post."))
                if method == "POST":
                    return self._send(*self._save(post, self._json(raw)))
                if method == "DELETE":
                    if query.get("force") == "true":
                        del st.posts[post["id"]]
                        return self._send(200, {"deleted": True, "previous": _shown(post, True)})
                    if post["status"] == "trash":
                        return self._send(*_err(410, "rest_already_trashed", "The post has already been trashed."))
                    # wp_trash_post: the slug gets a __trashed suffix, so a new post can take the slug.
                    post.update(status="trash", slug=post["slug"] + "__trashed")
                    return self._send(200, _shown(post, True))
            if path == "/tags" and method == "GET":
                found = [g for g in st.tags.values() if "slug" not in query or g["slug"] in query["slug"].split(",")]
                return self._send(200, found)
            if path == "/tags" and method == "POST":
                if not auth:
                    return self._send(*_err(401, "rest_cannot_create", "Sorry, you are not allowed to create terms in this taxonomy."))
                name = str(self._json(raw).get("name") or "").strip()
                if not name:
                    return self._send(*_err(400, "rest_missing_callback_param", "Missing parameter(s): name", params=["name"]))
                slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                same = next((g for g in st.tags.values() if g["slug"] == slug), None)
                if same is not None:
                    return self._send(*_err(400, "term_exists", "A term with the name provided already exists in this taxonomy.",
                                            term_id=same["id"]))
                tag = {"id": st._id(), "count": 0, "name": name, "slug": slug, "taxonomy": "post_tag", "link": f"{st.url}/tag/{slug}/"}
                st.tags[tag["id"]] = tag
                return self._send(201, tag)
            if path == "/media" and method == "POST":
                if not auth:
                    return self._send(*_err(401, "rest_cannot_create", "Sorry, you are not allowed to upload media as this user."))
                return self._send(*self._upload(raw))
            if path == "/media" and method == "GET":
                found = [m for m in st.media.values() if "slug" not in query or m["slug"] in query["slug"].split(",")]
                return self._send(200, found)
        return self._send(*_err(404, "rest_no_route", "No route was found matching the URL and request method."))

    # --- pieces -------------------------------------------------------------------------

    def _auth(self) -> bool | tuple[int, dict[str, Any]]:
        given = self.headers.get("Authorization")
        if not given:
            return False
        kind, _, token = given.partition(" ")
        try:
            user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return _err(401, "rest_not_logged_in", "You are not currently logged in.")
        if kind != "Basic":
            return _err(401, "rest_not_logged_in", "You are not currently logged in.")
        if user != self.state.user:
            return _err(401, "invalid_username", "Unknown username. Check again or try your email address.")
        strip = lambda s: re.sub(r"[^a-z\d]", "", s, flags=re.IGNORECASE)  # noqa: E731 - as WordPress compares
        if strip(password) != strip(self.state.password):
            return _err(401, "incorrect_password", "The provided password is an invalid application password.")
        return True

    def _json(self, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {"_invalid": True}

    def _list(self, query: dict[str, str], auth: bool) -> tuple[int, Any]:
        statuses = query.get("status", "publish").split(",")
        if not auth and statuses != ["publish"]:
            return _err(400, "rest_invalid_param", "Invalid parameter(s): status", params={"status": "Status is forbidden."})
        edit = query.get("context") == "edit"
        if edit and not auth:
            return _err(401, "rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.")
        slugs = query["slug"].split(",") if query.get("slug") else None
        found = [p for p in self.state.posts.values() if p["status"] in statuses and (slugs is None or p["slug"] in slugs)]
        return 200, [_shown(p, edit) for p in sorted(found, key=lambda p: p["date_gmt"], reverse=True)]

    def _save(self, post: dict[str, Any] | None, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        st = self.state
        if body.get("_invalid"):
            return _err(400, "rest_invalid_json", "Invalid JSON body passed.")
        status = body.get("status", post["status"] if post else "draft")
        if status not in ("publish", "future", "draft", "pending", "private"):
            return _err(400, "rest_invalid_param", "Invalid parameter(s): status", params={"status": "status is not one of publish, future, draft, pending, private, trash."})
        now = st._now()
        when = now
        if body.get("date_gmt"):
            try:
                when = _parse(str(body["date_gmt"]))
            except ValueError:
                return _err(400, "rest_invalid_param", "Invalid parameter(s): date_gmt", params={"date_gmt": "Invalid date."})
        elif post is not None:
            when = _parse(post["date_gmt"])
        # wp_insert_post: a future date makes a published post scheduled, a past one publishes a scheduled post.
        if status in ("publish", "future"):
            status = "future" if when > now else "publish"
        created = post is None
        if created:
            post = {"id": st._id(), "type": "post", "_title": "", "_content": "", "_excerpt": "", "slug": ""}
            st.posts[post["id"]] = post
        slug = str(body.get("slug") or post["slug"] or re.sub(r"[^a-z0-9]+", "-", str(body.get("title", "")).lower()).strip("-"))
        base, n = slug, 2
        while any(p["slug"] == slug and p["id"] != post["id"] for p in st.posts.values()):
            slug, n = f"{base}-{n}", n + 1
        post.update(slug=slug, status=status, date_gmt=when.isoformat(), date=when.isoformat(), modified_gmt=now.isoformat(),
                    link=f"{st.url}/{slug}/" if status == "publish" else f"{st.url}/?p={post['id']}")
        if "tags" in body:
            if not all(isinstance(i, int) and i in st.tags for i in body["tags"]):
                return _err(400, "rest_invalid_param", "Invalid parameter(s): tags", params={"tags": "tags[0] is not of type integer."})
            post["tags"] = list(body["tags"])
        post.setdefault("tags", [])
        for key in ("title", "content", "excerpt"):
            if key in body:
                value = body[key]
                post["_" + key] = str(value.get("raw", "") if isinstance(value, dict) else value)
        return (201 if created else 200), _shown(post, True)

    def _upload(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        st = self.state
        disposition = self.headers.get("Content-Disposition") or ""
        m = re.search(r'filename="?([^";]+)"?', disposition)
        if not m:
            return _err(400, "rest_upload_no_content_disposition", "No Content-Disposition supplied.")
        if not raw:
            return _err(400, "rest_upload_no_data", "No data supplied.")
        name = m.group(1)
        stem = name.rsplit(".", 1)[0]
        slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
        mid = st._id()
        now = st._now().isoformat()
        source = f"{st.url}/wp-content/uploads/2026/11/{name}"
        st.uploads[name] = raw
        item = {"id": mid, "date": now, "date_gmt": now, "slug": slug, "status": "inherit", "type": "attachment",
                "link": f"{st.url}/{slug}/", "title": {"raw": stem, "rendered": stem}, "media_type": "image",
                "mime_type": self.headers.get("Content-Type") or "application/octet-stream", "source_url": source}
        st.media[mid] = item
        return 201, item

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(data)


@dataclass
class FakeWordPress:
    url: str
    state: WPState


@contextlib.contextmanager
def serve(state: WPState | None = None, clock: Callable[[], dt.datetime] | None = None) -> Iterator[FakeWordPress]:
    st = state or WPState()
    if clock is not None:
        st.clock = clock
    handler = type("Handler", (WPHandler,), {"state": st})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    st.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeWordPress(st.url, st)
    finally:
        server.shutdown()
        server.server_close()
