"""HTTP GET of an ICS feed with the standard library (blocking: call it in a thread).

No Oxymus imports: failures are `FetchError`s carrying the HTTP status and the
server's Retry-After, and the caller decides what they mean. The body is read in
chunks against a byte limit and a total deadline, so neither a huge nor a
trickling response can hold a poll. Conditional requests (ETag,
Last-Modified) let an unchanged feed cost one short 304.
"""

from __future__ import annotations

import email.utils
import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

CHUNK = 256 * 1024
USER_AGENT = "oxymus-calendar/0.1"


class FetchError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass
class Fetched:
    body: bytes | None  # None: 304 Not Modified
    etag: str | None = None
    last_modified: str | None = None


def human_size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n} bytes"


def display_url(url: str) -> str:
    """The URL for messages: no user:password@, no query string (links often carry tokens there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def http_url(url: str) -> str:
    """webcal:// and webcals:// are http(s) by another name."""
    lower = url.lower()
    if lower.startswith("webcals://"):
        return "https://" + url[10:]
    if lower.startswith("webcal://"):
        return "https://" + url[9:]
    return url


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (seconds from now)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET `url`; raise FetchError for anything but a 2xx body or a 304."""
    shown = display_url(url)
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5", "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"{shown}: the feed is {human_size(int(length))}, over the limit of {human_size(max_bytes)}")
            body = _read(response, shown, max_bytes, deadline, timeout)
            return Fetched(body, response.headers.get("ETag"), response.headers.get("Last-Modified"))
    except urllib.error.HTTPError as e:
        if e.code == 304:
            return Fetched(None, etag, last_modified)
        retry = retry_after_seconds(e.headers.get("Retry-After")) if e.headers else None
        reason = f" {e.reason}" if e.reason else ""
        raise FetchError(f"{shown} answered HTTP {e.code}{reason}", status=e.code, retry_after=retry) from None
    except urllib.error.URLError as e:
        raise FetchError(f"{shown}: {_reason(e.reason, timeout)}") from None
    except (TimeoutError, socket.timeout):
        raise FetchError(f"{shown}: timed out after {timeout:g} s") from None
    except (http.client.HTTPException, ssl.SSLError, OSError) as e:
        raise FetchError(f"{shown}: {_reason(e, timeout)}") from None


def _read(response, shown: str, max_bytes: int, deadline: float, timeout: float) -> bytes:
    gzip = "gzip" in (response.headers.get("Content-Encoding") or "").lower()
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    parts: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{shown}: timed out after {timeout:g} s (the body was still arriving)")
        chunk = response.read(CHUNK)
        if not chunk:
            break
        if inflate is not None:
            try:
                chunk = inflate.decompress(chunk, max_bytes + 1 - size)
            except zlib.error as e:
                raise FetchError(f"{shown}: the gzip body is corrupt ({e})") from None
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{shown}: the feed is over the limit of {human_size(max_bytes)}")
        parts.append(chunk)
    return b"".join(parts)


def _reason(reason, timeout: float) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host name ({reason.strerror or reason})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__
