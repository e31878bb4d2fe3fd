"""Text out of a parsed email: decoded headers, addresses, the body as plain text.

Everything here is lenient by design: mail in the wild has unknown charsets, bytes
that are not in the charset it names, and HTML-only bodies. Bad bytes become U+FFFD,
an unknown charset is read as UTF-8 (then Latin-1 never fails), and every result is
capped so one 40 MB message cannot fill memory or the store.
"""

from __future__ import annotations

import codecs
import re
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser

MAX_BODY_CHARS = 64_000  # the body kept per message: ample for a person's email, not for a pasted log
MAX_HTML_CHARS = 2_000_000  # HTML read before stripping; the rest is cut unread
MAX_HEADER_CHARS = 2_000

_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr", "section",
          "article", "header", "footer", "ul", "ol", "dd", "dt"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}


def clean(text: str) -> str:
    """`text` with lone surrogates (undecodable header bytes) replaced, so it is valid UTF-8 everywhere."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


Headers = Message | dict[str, str]  # a dict: `header_map(msg)`, each lookup then costs no scan of the headers


def header_map(msg: Message) -> dict[str, str]:
    """The message's headers by lower-case name (the first of each), read once."""
    out: dict[str, str] = {}
    for name, value in msg.items():
        out.setdefault(name.lower(), value)
    return out


def header(msg: Headers, name: str) -> str | None:
    """A header's value, RFC 2047 words decoded, folded lines unfolded; None if absent."""
    raw = msg.get(name.lower()) if isinstance(msg, dict) else msg.get(name)
    if raw is None:
        return None
    value = clean(str(raw))
    if "=?" in value:
        try:
            parts = []
            for chunk, charset in decode_header(value):
                if isinstance(chunk, bytes):
                    parts.append(decode_bytes(chunk, charset))
                else:
                    parts.append(chunk)
            # decode_header drops the spaces between an encoded word and plain text; put one back.
            value = "".join(parts) if len(parts) == 1 else _join_words(parts)
        except (ValueError, LookupError, AssertionError):
            pass  # a broken encoded word stays as written: still readable
    value = re.sub(r"\s*\r?\n\s+", " ", value).strip()
    return value[:MAX_HEADER_CHARS]


def _join_words(parts: list[str]) -> str:
    out = ""
    for part in parts:
        if out and not out.endswith(" ") and not part.startswith(" "):
            out += " "
        out += part
    return re.sub(r"  +", " ", out)


def addresses(msg: Headers, *names: str) -> list[tuple[str, str]]:
    """(display name, address) of every address in the named headers, names decoded."""
    values = [v for n in names for v in [header(msg, n)] if v]
    if not values:
        return []
    if len(values) == 1 and (simple := _SIMPLE.match(values[0])):
        # The common "Name <a@b>" or bare "a@b": getaddresses' full RFC 5322 parse costs more than the rest of a message.
        return [((simple.group(1) or simple.group(2) or "").strip(), simple.group(3) or simple.group(4))]
    return [(name.strip(), addr.strip()) for name, addr in getaddresses(values) if addr and "@" in addr]


_SIMPLE = re.compile(r'^\s*(?:"([^"\\<>]*)"|([^",<>()\\;:@]*?))\s*<([^<>\s",()@]+@[^<>\s",()@]+)>\s*$'
                     r'|^\s*([^<>\s",()@:;]+@[^<>\s",()@:;]+)\s*$')


def message_ids(value: str | None) -> list[str]:
    """The `<...>` ids in an In-Reply-To or References header, in order, each once."""
    if not value:
        return []
    found = re.findall(r"<[^<>\s]+>", value)
    if not found and value.strip():
        found = [w for w in value.split() if "@" in w]  # ids written without brackets, as some clients do
    return list(dict.fromkeys(found))


def decode_bytes(data: bytes, charset: str | None) -> str:
    name = (charset or "utf-8").strip().strip('"').lower() or "utf-8"
    if name in ("unknown-8bit", "x-unknown", "us-ascii", "ascii"):
        name = "utf-8"  # 8-bit bytes labelled ascii are nearly always UTF-8 (or Latin-1, tried below)
    try:
        codecs.lookup(name)
    except LookupError:
        name = "utf-8"
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        if name == "utf-8":
            # Mostly UTF-8 with a few bad bytes reads best as UTF-8 with U+FFFD; not UTF-8 at all is Latin-1/cp1252.
            text = data.decode("utf-8", "replace")
            return text if text.count("\ufffd") * 20 < max(len(text), 1) else data.decode("cp1252", "replace")
        return data.decode(name, "replace")


def body(msg: Message) -> tuple[str, bool, bool]:
    """(the body as text, whether it was cut at MAX_BODY_CHARS, whether it came from HTML).

    text/plain is preferred; else the first text/html, stripped to text. Attachments
    (a Content-Disposition of attachment, or a file name) are never read as the body.
    """
    plain = html = None
    for part in msg.walk() if msg.is_multipart() else [msg]:
        if part.is_multipart():
            continue
        disposition = str(part.get("Content-Disposition", "")).lower()
        if "attachment" in disposition or part.get_filename():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html is None:
            html = part
        if plain is not None:
            break
    if plain is None and html is None and not msg.is_multipart() and msg.get_content_maintype() == "text":
        plain = msg  # text/enriched, text/x-whatever: its text is still the best there is
    chosen, from_html = (plain, False) if plain is not None else (html, True)
    if chosen is None:
        return "", False, False
    try:
        payload = chosen.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding: fall back to the raw text
        payload = None
    if not isinstance(payload, bytes):
        raw = chosen.get_payload()
        payload = clean(raw).encode("utf-8", "replace") if isinstance(raw, str) else b""
    text = decode_bytes(payload, chosen.get_content_charset())
    if from_html:
        text = html_to_text(text[:MAX_HTML_CHARS])
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cut = len(text) > MAX_BODY_CHARS
    return text[:MAX_BODY_CHARS], cut, from_html


class _Stripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """HTML as the text a person reads: no tags, scripts or styles; entities decoded; blank runs collapsed."""
    parser = _Stripper()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient, but a pathological input must not lose the message
        return re.sub(r"<[^>]*>", " ", html)
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?|notifications?)(?:[+\-._].*)?$", re.I)


def automated(fields: dict[str, str], sender: str | None) -> str:
    """Why this message was sent by a machine or to a list (RFC 3834, RFC 2369, RFC 2919), or "" for a person's mail.

    A list post, a newsletter, an auto-reply or a bounce is no lead and no one to answer: a reply
    to it would reach a list, a robot, or start an auto-reply loop."""
    if fields.get("list-id"):
        return "a mailing list (List-Id)"
    if fields.get("list-unsubscribe"):
        return "a newsletter (List-Unsubscribe)"
    auto = (fields.get("auto-submitted") or "").strip().lower()
    if auto and not auto.startswith("no"):
        return f"sent automatically (Auto-Submitted: {auto.split(';')[0]})"
    precedence = (fields.get("precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"bulk mail (Precedence: {precedence})"
    if sender and _NO_REPLY.match(sender.split("@", 1)[0]):
        return f"from a no-reply address ({sender})"
    return ""
