"""The WordPress REST wire (wp/v2): Basic auth with an application password, JSON in and out.

This module knows HTTP and WordPress's JSON shapes, nothing of actions. Blocking
(urllib, no new HTTP dependency): callers run it in a worker thread. Every failure is
a `WordPressError` carrying the HTTP status (0: no answer) and WordPress's own error
body, `{"code", "message", "data": {"status"}}`, quoted as sent.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

# Every status a post can have that an authenticated lookup should see: a post this
# action made and then moved to draft must still be found, so it is updated, not doubled.
ANY_STATUS = "publish,future,draft,pending,private"


class WordPressError(Exception):
    def __init__(self, status: int, message: str, code: str = "", retry_after: float | None = None, timed_out: bool = False,
                 term_id: int | None = None):
        super().__init__(message)
        self.term_id = term_id
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.timed_out = timed_out


class WordPressApi:
    def __init__(self, url: str, user: str, password: str, timeout: float):
        self.url = url.rstrip("/")
        self.root = f"{self.url}/wp-json/wp/v2"
        self.user = user
        self.timeout = timeout
        token = base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
        self._auth = f"Basic {token}"

    def request(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None,
                data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        url = self.root + path + (("?" + urllib.parse.urlencode(query)) if query else "")
        sent = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            sent["Content-Type"] = "application/json"
        sent["Authorization"] = self._auth
        sent.setdefault("Accept", "application/json")
        req = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the configured site
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise _error(exc) from None
        except (TimeoutError, socket.timeout):
            raise WordPressError(0, f"no answer within {self.timeout:g} s", timed_out=True) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise WordPressError(0, f"no answer within {self.timeout:g} s", timed_out=True) from None
            raise WordPressError(0, f"cannot reach {self.url}: {getattr(reason, 'strerror', None) or reason}") from None
        except (ConnectionError, OSError) as exc:
            raise WordPressError(0, f"cannot reach {self.url}: {exc.strerror or exc}") from None
        try:
            return json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError):
            raise WordPressError(200, f"{url} did not answer JSON: {raw[:80]!r}", code="not_json") from None

    # --- posts ------------------------------------------------------------------------

    def find_post(self, slug: str) -> dict[str, Any] | None:
        found = self.request("GET", "/posts", query={"slug": slug, "status": ANY_STATUS, "context": "edit"})
        if not isinstance(found, list):
            raise WordPressError(200, f"GET /posts answered {type(found).__name__}, not a list", code="bad_shape")
        return found[0] if found else None

    def get_post(self, post_id: int) -> dict[str, Any]:
        return self.request("GET", f"/posts/{post_id}", query={"context": "edit"})

    def create_post(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/posts", body=fields)

    def update_post(self, post_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/posts/{post_id}", body=fields)

    def trash_post(self, post_id: int) -> dict[str, Any]:
        return self.request("DELETE", f"/posts/{post_id}")

    # --- tags -------------------------------------------------------------------------

    def tag_id(self, name: str) -> int:
        """The id of the tag with this name, created when there is none."""
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        found = self.request("GET", "/tags", query={"slug": slug})
        if isinstance(found, list) and found:
            return int(found[0]["id"])
        try:
            return int(self.request("POST", "/tags", body={"name": name})["id"])
        except WordPressError as exc:
            if exc.code == "term_exists" and exc.term_id:  # made in between (or under another slug)
                return exc.term_id
            raise

    # --- media ------------------------------------------------------------------------

    def find_media(self, slug: str) -> dict[str, Any] | None:
        found = self.request("GET", "/media", query={"slug": slug})
        return found[0] if isinstance(found, list) and found else None

    def upload_media(self, filename: str, content: bytes, mime: str) -> dict[str, Any]:
        quoted = filename.replace('"', "")
        return self.request("POST", "/media", data=content, headers={
            "Content-Type": mime, "Content-Disposition": f'attachment; filename="{quoted}"'})


def _error(exc: urllib.error.HTTPError) -> WordPressError:
    status = exc.code
    try:
        raw = exc.read()
    except OSError:
        raw = b""
    code, message, term_id = "", "", None
    try:
        body = json.loads(raw.decode("utf-8"))
        if isinstance(body, dict):
            code, message = str(body.get("code") or ""), str(body.get("message") or "")
            data = body.get("data")
            if isinstance(data, dict) and isinstance(data.get("term_id"), int):
                term_id = data["term_id"]
    except (UnicodeDecodeError, ValueError):
        pass
    retry_after = None
    given = exc.headers.get("Retry-After") if exc.headers else None
    if given and given.strip().isdigit():
        retry_after = float(given.strip())
    said = f"{status} {code}: {message}" if code else f"{status} {exc.reason or ''}".strip()
    return WordPressError(status, said, code=code, retry_after=retry_after, term_id=term_id)
