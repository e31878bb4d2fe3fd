"""Lead facts out of an email or a capture, by code (no model): who, company, domain, need, budget, dates.

The intake agent calls this first; what it finds is cheap, explainable and testable,
and each fact carries a confidence (0..1) and where it was found, so a proposal can
say why it believes a field and a policy rule can ask for a threshold. What the
rules do not find stays None: a guess from thin evidence gets a low confidence
rather than a confident wrong value.

Pure: no I/O, no clock (relative dates need `today`), no import of a connector; the
caller passes the email's parts (the mail connector's reader gives them).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Where = Literal["from", "signature", "body", "subject", "text", "address"]

FREE_MAIL = frozenset("""
gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.es yahoo.de ymail.com hotmail.com hotmail.co.uk hotmail.fr
hotmail.es hotmail.de outlook.com outlook.es outlook.fr live.com live.co.uk msn.com icloud.com me.com mac.com aol.com
proton.me protonmail.com pm.me gmx.com gmx.de gmx.net gmx.at web.de mail.com yandex.ru yandex.com mail.ru fastmail.com
fastmail.fm zoho.com tutanota.com tuta.io hey.com qq.com 163.com 126.com orange.fr free.fr laposte.net t-online.de
libero.it virgilio.it telefonica.net btinternet.com comcast.net verizon.net att.net sbcglobal.net seznam.cz wp.pl
""".split())

MONTHS = {m: i for i, names in enumerate([
    (), ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec")]) for m in names}
WEEKDAYS = {d: i for i, d in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "couple of": 2, "few": 3}
CURRENCIES = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD", "us$": "USD", "dollars": "USD",
              "£": "GBP", "gbp": "GBP", "pounds": "GBP", "chf": "CHF", "cad": "CAD", "aud": "AUD", "sek": "SEK", "nok": "NOK",
              "dkk": "DKK", "jpy": "JPY", "¥": "JPY", "inr": "INR", "₹": "INR", "pln": "PLN"}
COMPANY_SUFFIX = r"(?:Inc\.?|Ltd\.?|LLC|GmbH|AG|S\.?L\.?|S\.?A\.?|SAS|SARL|B\.?V\.?|N\.?V\.?|Oy|AB|ApS|Pty|PLC|plc|Co\.|Corp\.?|S\.r\.l\.|Srl)"
CLOSINGS = re.compile(r"^(?:best(?: regards| wishes)?|kind regards|warm regards|regards|thanks(?: a lot| again)?|thank you|cheers|"
                      r"sincerely|yours(?: truly| sincerely)?|all the best|many thanks|saludos|un saludo|cordialement|"
                      r"viele grüße|mit freundlichen grüßen|groeten|ciao|talk soon|speak soon)[,.!]?$", re.I)
NEED_VERBS = (r"(?:wants?|would like|'d like|needs?|is looking for|are looking for|'re looking for|looking for|asked for|asks for|"
              r"is interested in|are interested in|interested in|would love|requests?|requested|wondering if you could|"
              r"hoping you could|could you|can you)")


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)

    confidence: float = Field(ge=0, le=1)
    where: Where
    evidence: str = Field(default="", description="the words it was read from")


class TextFact(Fact):
    value: str


class Person(Fact):
    name: str | None = None
    email: str | None = None


class Money(Fact):
    amount: float
    amount_max: float | None = Field(default=None, description="the top of a range: 5-10k")
    currency: str | None = Field(default=None, description="ISO 4217; None when the text names none")


class DateFact(Fact):
    start: dt.date
    end: dt.date = Field(description="the last day meant: the day itself, the week's Sunday, the month's last day")
    precision: Literal["day", "week", "month", "quarter"]


class LeadFacts(BaseModel):
    who: Person | None = None
    company: TextFact | None = None
    domain: TextFact | None = None
    need: TextFact | None = None
    budget: Money | None = None
    dates: list[DateFact] = Field(default_factory=list)


# ------------------------------------------------------------------ anchored search


def anchored(pattern: re.Pattern[str], anchor: re.Pattern[str], text: str, back: int, ahead: int = 48) -> list[re.Match[str]]:
    """The matches of `pattern.finditer(text)` that hold an anchor (a month name at a word's start,
    a digit), tried only near `anchor`'s hits: the anchor must start at most `back` characters
    after the match starts and end at most `ahead` before it ends.

    A pattern that opens with optional words ("in", "early", a currency) is tried by the
    regex engine at every position of the text; most positions are nowhere near a month or
    a number, and a long message made the date and budget patterns most of intake's time.
    """
    out: list[re.Match[str]] = []
    last_end = 0
    for hit in anchor.finditer(text):
        if hit.start() < last_end:
            continue  # inside a match already found
        pos = max(last_end, hit.start() - back)
        while pos > last_end and text[pos - 1].isalnum():
            pos -= 1  # start at a word's or a number's start, as a scan from the left would
        end = min(len(text), hit.end() + ahead)
        while pos <= hit.start():
            m = pattern.search(text, pos, end)
            if m is None or m.start() > hit.start():
                break
            if m.end() > hit.start():
                out.append(m)
                last_end = m.end()
                break
            pos = max(m.end(), m.start() + 1)  # a match without this anchor ("formay"): not one the pattern is for
    return out


# ------------------------------------------------------------------ entry points


def from_email(*, from_name: str = "", from_email: str = "", subject: str = "", body: str = "",
               today: dt.date) -> LeadFacts:
    """Facts from an email's sender, subject and text body (quoted replies are ignored)."""
    text = strip_quoted(body)
    main, signature = split_signature(text)
    email = from_email.strip().lower() or None
    domain = _domain(email)
    if domain is None:
        domain = _signature_site(signature)
    name, name_conf, name_where = _clean_name(from_name), 0.9, "from"
    if not name or "@" in name:
        name, name_conf, name_where = _signature_name(signature), 0.7, "signature"
    if not name and email:
        name, name_conf, name_where = _name_from_local(email), 0.35, "address"
    who = Person(name=name or None, email=email, confidence=name_conf if name else 0.9, where=name_where if name else "from",
                 evidence=f"{from_name} <{from_email}>".strip()) if (name or email) else None
    company = _signature_company(signature) or _company_in_text(main, "body")
    if company is None and domain is not None:
        company = TextFact(value=_company_from_domain(domain.value), confidence=0.5, where="address", evidence=domain.value)
    subject_clean = re.sub(r"^(?:(?:re|fwd?|aw|tr|sv)\s*:\s*)+", "", subject.strip(), flags=re.I)
    need = _need(main, "body") or _need(subject_clean, "subject")
    if need is None and subject_clean:
        need = TextFact(value=_one_line(subject_clean), confidence=0.4, where="subject", evidence=subject)
    budget = _budget(main, "body") or _budget(subject_clean, "subject")
    dates = _dates(subject_clean, today, "subject") + _dates(main, today, "body")
    return LeadFacts(who=who, company=company, domain=domain, need=need, budget=budget, dates=_dedupe(dates))


def from_text(text: str, *, today: dt.date) -> LeadFacts:
    """Facts from a capture such as "lead: Acme wants a workshop in March, budget 5k"."""
    body = re.sub(r"^\s*(?:lead|prospect|client|inquiry|enquiry)\s*[:\-]\s*", "", text.strip(), flags=re.I)
    email_match = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", body)
    email = email_match.group(0).lower() if email_match else None
    name = None
    # A person is two or three capitalized words next to "from/at Company", an address, or after "contact:".
    m = (re.search(r"\b([A-Z][a-zà-ÿ'-]+(?:\s+[A-Z][a-zà-ÿ'-]+){1,2})\s*(?:\(|<|,\s*[\w.+-]+@|\s(?:from|at|of)\s+[A-Z])", body)
         or re.search(r"\b(?:contact|via|from)\s*:?\s+([A-Z][a-zà-ÿ'-]+\s+[A-Z][a-zà-ÿ'-]+)\b", body))
    if m and not ({w.lower() for w in m.group(1).split()} & (set(MONTHS) | set(WEEKDAYS))):
        name = m.group(1)
    who = Person(name=name, email=email, confidence=0.6 if name else 0.85, where="text",
                 evidence=(m.group(0) if m else email) or "") if (name or email) else None
    domain = _domain(email)
    if domain is not None:
        domain = domain.model_copy(update={"where": "text"})
    company = _company_in_text(body, "text")
    if company is None and domain is not None:
        company = TextFact(value=_company_from_domain(domain.value), confidence=0.5, where="text", evidence=domain.value)
    need = _need(body, "text")
    if need is None and len(rest := _trim_need(body).split()) >= 2:
        need = TextFact(value=_one_line(" ".join(rest)), confidence=0.3, where="text", evidence=body[:200])
    return LeadFacts(who=who, company=company, domain=domain, need=need, budget=_budget(body, "text"),
                     dates=_dedupe(_dates(body, today, "text")))


# ------------------------------------------------------------------ text shape


def strip_quoted(body: str) -> str:
    """The body without quoted replies ("> ..." lines, and everything under "On ... wrote:" or a forwarded header)."""
    out = []
    for line in body.replace("\r\n", "\n").split("\n"):
        if re.match(r"^\s*(?:On .{4,200} wrote:|El .{4,200} escribió:|Le .{4,200} a écrit :|Am .{4,200} schrieb .{0,80}:|"
                    r"-{2,}\s*(?:Original Message|Forwarded message)\s*-{2,}|From: .+@.+)\s*$", line):
            break
        if not line.lstrip().startswith(">"):
            out.append(line)
    return "\n".join(out).strip()


def split_signature(text: str) -> tuple[str, list[str]]:
    """(the message, the signature's lines): after "-- ", else after a closing like "Best," near the end."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ", "—"):
            return "\n".join(lines[:i]).strip(), [ln.strip() for ln in lines[i + 1:] if ln.strip()]
    start = max(0, len(lines) - 12)
    for i in range(len(lines) - 1, start - 1, -1):
        if CLOSINGS.match(lines[i].strip()):
            return "\n".join(lines[:i]).strip(), [ln.strip() for ln in lines[i + 1:] if ln.strip()]
    return text.strip(), []


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


# ------------------------------------------------------------------ who, company, domain


def _domain(email: str | None) -> TextFact | None:
    if not email or "@" not in email:
        return None
    domain = email.rpartition("@")[2].strip(".>").lower()
    if not domain or domain in FREE_MAIL or "." not in domain:
        return None
    return TextFact(value=domain, confidence=0.9, where="from", evidence=email)


def _signature_site(signature: list[str]) -> TextFact | None:
    for line in signature:
        m = re.search(r"\b(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})\b", line, re.I)
        if m and "@" not in line[max(0, m.start() - 1):m.end()] and m.group(1).lower() not in FREE_MAIL:
            return TextFact(value=m.group(1).lower(), confidence=0.6, where="signature", evidence=line)
    return None


def _clean_name(name: str) -> str:
    name = name.strip().strip('"').strip("'").strip()
    if "," in name and len(name.split(",")) == 2:  # "Ruiz, Ana"
        last, first = (p.strip() for p in name.split(","))
        name = f"{first} {last}"
    name = re.sub(r"\s*\((?:via|at|from)?[^)]*\)\s*$", "", name)  # "Ana Ruiz (Acme)", "Bo (via Forms)"
    return " ".join(name.split())


def _signature_name(signature: list[str]) -> str | None:
    for line in signature[:2]:
        if re.fullmatch(r"[A-ZÀ-Ý][\w'’-]+(?:\s+(?:[A-ZÀ-Ý][\w'’.-]*|de|van|von|da|del|la|le)){0,3}", line) and not re.search(COMPANY_SUFFIX, line):
            return line
    return None


def _name_from_local(email: str) -> str | None:
    local = email.partition("@")[0]
    parts = [p for p in re.split(r"[._-]+", local) if p.isalpha() and len(p) > 1]
    if not 1 < len(parts) <= 3 or local.lower() in ("info", "hello", "contact", "sales", "team", "office", "admin"):
        return None
    return " ".join(p.capitalize() for p in parts)


def _signature_company(signature: list[str]) -> TextFact | None:
    for line in signature[:6]:
        m = re.search(rf"([A-Z][\w&'’.-]*(?:\s+[A-Z0-9][\w&'’.-]*){{0,3}}\s+{COMPANY_SUFFIX})(?=\W|$)", line)
        if m:
            return TextFact(value=m.group(1).strip(" ,"), confidence=0.85, where="signature", evidence=line)
    for line in signature[:6]:
        m = re.search(r"(?:\||,|—|–|-|@|\bat\b)\s*([A-Z][\w&'’.-]*(?:\s+[A-Z][\w&'’.-]*){0,2})\s*$", line)
        if m and not re.match(r"(?:CEO|CTO|COO|CFO|Head|Director|Manager|Founder|Partner|Lead)\b", m.group(1)):
            return TextFact(value=m.group(1), confidence=0.6, where="signature", evidence=line)
    return None


_NOT_COMPANY = {"i", "we", "you", "he", "she", "they", "it", "the", "this", "that", "hi", "hello", "hey", "dear", "my", "our",
                "a", "an", "can", "could", "would", "please", "also", "just", "thanks", "re", "fwd"}


def _company_in_text(text: str, where: Where) -> TextFact | None:
    # "I'm Ana from Acme", "I work at Acme Labs", "on behalf of Acme", "here at Acme"
    word = r"[A-Z][\w&'’-]*(?:\.\w+)*"  # Startup.io keeps its dot; "Bakery. We" ends at it
    m = re.search(rf"\b(?:from|at|with|on behalf of|for)\s+((?:{word})(?:\s+(?:{word}|&))*"
                  rf"(?:\s+{COMPANY_SUFFIX})?)", text)
    candidates = []
    if m:
        candidates.append((m.group(1), 0.65, m.group(0)))
    # "Acme wants ...", "Acme Labs needs ...": a capitalized name opening the sentence, then a need verb.
    m2 = re.match(rf"\s*({word}(?:\s+{word}){{0,2}})\s+{NEED_VERBS}\b", text)
    if m2:
        candidates.insert(0, (m2.group(1), 0.7, m2.group(0)))
    for value, conf, evidence in candidates:
        value = value.strip(" .,")
        first = value.split()[0].lower()
        if first in _NOT_COMPANY or first in MONTHS or first in WEEKDAYS:
            continue
        return TextFact(value=value, confidence=conf, where=where, evidence=evidence.strip())
    return None


def _company_from_domain(domain: str) -> str:
    parts = domain.split(".")
    # acme.co.uk -> acme; mail.acme.io -> acme
    core = parts[-3] if len(parts) >= 3 and len(parts[-2]) <= 3 and len(parts[-1]) == 2 else parts[-2]
    return core.replace("-", " ").title() if core.islower() else core


# ------------------------------------------------------------------ need


def _need(text: str, where: Where) -> TextFact | None:
    for sentence in re.split(r"(?<=[.!?])\s+|\n{2,}|\n(?=[-*•])", text):
        m = re.search(rf"\b{NEED_VERBS}\s+(.+)", sentence, re.I | re.S)
        if not m:
            continue
        need = _trim_need(m.group(1))
        if len(need.split()) < 2 and not re.search(r"\w{4,}", need):
            continue
        return TextFact(value=_one_line(need), confidence=0.7 if where != "subject" else 0.55, where=where,
                        evidence=_one_line(sentence, 300))
    return None


def _trim_need(text: str) -> str:
    """The need itself: without the budget, the dates and the politeness around it."""
    text = re.split(r"[,;]\s*(?:budget|with a budget|for around|around|about|approx|roughly|ideally|maybe|probably|"
                    r"total|paying|can pay|could pay|willing to pay|up to|and (?:the|our) budget)\b|\.\s|\?|\n|\bbudget\b", text, maxsplit=1, flags=re.I)[0]
    text = re.split(r",?\s+(?:€|\$|£|(?:EUR|USD|GBP|CHF)\b)\s?\d|,\s*\d", text, maxsplit=1)[0]
    when = (r"(?:in|by|on|for|before|after|around|during|until|from|starting|next|this|early|mid|late|end of|start of|beginning of)"
            r"(?:\s+(?:the|next|this|early|mid|late|end of|start of))?\s+(?:-?\s*)?")
    text = re.sub(rf"\s+{when}(?:(?:\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+)?{_MONTH_RE}(?:\s+\d{{1,2}})?(?:\s+20\d\d)?|\d{{4}}-\d\d-\d\d|Q[1-4]|week|month|"
                  r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b.*$", "", text, flags=re.I)
    text = re.sub(r"\s+(?:next week|next month|this week|this month|tomorrow|today|asap)\b.*$", "", text, flags=re.I)
    text = re.sub(r"\s*[.!,;:]+$", "", text.strip())
    text = re.sub(r"(?:\s+(?:for|at|of|with|to|in|on|by|around|about|costing|worth))+$", "", text, flags=re.I)  # left by a cut amount
    text = re.sub(r"^(?:to\s+(?:have|get|book|hire|organi[sz]e)\s+|some\s+help\s+with\s+|help\s+with\s+)", "", text, flags=re.I)
    return text.strip()


# ------------------------------------------------------------------ budget

_NUM = r"\d{1,3}(?:[,.\s’']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
_MULT = r"(?:\s?(?:k|K|m|M|thousand|million|mil|grand))?"
_CUR_BEFORE = r"(?P<cb>€|\$|£|¥|₹|US\$|(?:EUR|USD|GBP|CHF|CAD|AUD|SEK|NOK|DKK|JPY|INR|PLN)\b)"
_CUR_AFTER = r"(?P<ca>€|\$|£|(?:EUR|USD|GBP|CHF|CAD|AUD|SEK|NOK|DKK|JPY|INR|PLN|euros?|dollars|pounds)\b)"
_BUDGET = re.compile(
    rf"{_CUR_BEFORE}\s?(?P<a1>{_NUM})(?P<m1>{_MULT})(?:\s?(?:-|–|to)\s?(?:{_CUR_BEFORE.replace('cb', 'cb2')})?\s?(?P<b1>{_NUM})(?P<n1>{_MULT}))?"
    rf"|(?P<a2>{_NUM})(?P<m2>{_MULT})(?:\s?(?:-|–|to)\s?(?P<b2>{_NUM})(?P<n2>{_MULT}))?\s?{_CUR_AFTER}"
    rf"|(?P<kw>budget|pay(?:ing)?|spend|up to|max(?:imum)?|around|about)\b[^\d\n€$£]{{0,20}}?{_CUR_BEFORE.replace('cb', 'cb3')}?\s?"
    rf"(?P<a3>{_NUM})(?P<m3>{_MULT})(?:\s?(?:-|–|to)\s?(?P<b3>{_NUM})(?P<n3>{_MULT}))?(?:\s?{_CUR_AFTER.replace('ca', 'ca3')})?(?!\s?(?:%|percent|people|persons|participants|days?|hours?|weeks?|months?|years?|h\b))",
    re.I)


_DIGITS = re.compile(r"\d+")


def _amount(number: str, mult: str) -> float | None:
    n = number.replace(" ", "").replace("’", "").replace("'", "")
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", n):
        n = re.sub(r"[.,]", "", n)  # 5,000 or 5.000: thousands
    elif re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+[.,]\d{1,2}", n):
        n = re.sub(r"[.,]", "", n[:-3]) + "." + n[-2:] if n[-3] in ".," else re.sub(r"[.,]", "", n[:-2]) + "." + n[-1]
    else:
        n = n.replace(",", ".")
    try:
        value = float(n)
    except ValueError:
        return None
    m = mult.strip().lower()
    if m in ("k", "thousand", "grand"):
        value *= 1_000
    elif m in ("m", "million", "mil"):
        value *= 1_000_000
    return value


def _budget(text: str, where: Where) -> Money | None:
    best: Money | None = None
    for m in anchored(_BUDGET, _DIGITS, text, back=40):
        g = m.groupdict()
        for a, mult, b, nmult in (("a1", "m1", "b1", "n1"), ("a2", "m2", "b2", "n2"), ("a3", "m3", "b3", "n3")):
            if g[a]:
                break
        high_mult = g[nmult] or ""
        amount = _amount(g[a], g[mult] or high_mult)  # "5-10k": the k counts for both ends
        high = _amount(g[b], high_mult or g[mult] or "") if g[b] else None
        if amount is None or amount == 0:
            continue
        sign = (g.get("cb") or g.get("ca") or g.get("cb3") or g.get("ca3") or "").lower()
        currency = CURRENCIES.get(sign.rstrip("s") if sign in ("euros",) else sign) if sign else None
        if currency is None and sign:
            currency = sign.upper()
        if a == "a3" and not (g[mult] or amount >= 100 or sign):
            continue  # "about 3": a count, not money
        if re.match(r"(?:19|20)\d\d$", g[a]) and not currency and not g[mult]:
            continue  # a year
        context = text[max(0, m.start() - 40):m.end() + 10].lower()
        conf = 0.6 + (0.25 if re.search(r"budget|cost|price|pay|spend|fee|quote|invest", context) else 0) + (0.1 if currency else -0.1)
        found = Money(amount=amount, amount_max=high if high and high > amount else None, currency=currency,
                      confidence=round(min(conf, 0.95), 2), where=where, evidence=m.group(0).strip())
        if best is None or found.confidence > best.confidence:
            best = found
    return best


# ------------------------------------------------------------------ dates


def _month_start(year: int, month: int) -> dt.date:
    return dt.date(year, month, 1)


def _month_end(year: int, month: int) -> dt.date:
    return (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)


def _next_month_year(month: int, today: dt.date) -> int:
    return today.year if month >= today.month else today.year + 1


def _day(start: dt.date, conf: float, where: Where, ev: str) -> DateFact:
    return DateFact(start=start, end=start, precision="day", confidence=conf, where=where, evidence=ev)


_WEEKDAY = re.compile(r"\b(?P<next>next |this |on |coming )?(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
                      re.I)
_WEEKDAY_WORD = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day", re.I)
_MONTH_WORD = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.I)
_MONTH_RE = r"(?P<month>january|february|march|april|may|june|july|august|september|october|november|december|" \
            r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"


def _dates(text: str, today: dt.date, where: Where) -> list[DateFact]:
    found: list[tuple[int, DateFact]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, fact: DateFact | None) -> None:
        if fact is None or any(s < m.end() and m.start() < e for s, e in taken):
            return
        taken.append((m.start(), m.end()))
        found.append((m.start(), fact))

    for m in re.finditer(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        try:
            add(m, _day(dt.date(int(m[1]), int(m[2]), int(m[3])), 0.95, where, m[0]))
        except ValueError:
            pass
    # "March 14", "March 14th, 2027", "14 March", "14th of March 2027"
    day_month = re.compile(rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH_RE}|{_MONTH_RE.replace('month', 'month2')}"
                           rf"\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b)(?:,?\s+(?P<y>20\d\d))?", re.I)
    for m in anchored(day_month, _MONTH_WORD, text, back=12):
        month = MONTHS[(m["month"] or m["month2"]).lower().rstrip(".")]
        day = int(m["d1"] or m["d2"])
        year = int(m["y"]) if m["y"] else None
        if year is None:
            year = today.year
            try:
                if dt.date(year, month, day) < today:
                    year += 1
            except ValueError:
                continue
        try:
            add(m, _day(dt.date(year, month, day), 0.85, where, m[0]))
        except ValueError:
            pass
    # "in March", "early April", "March 2027", "by May": a lone month; lowercase only after a preposition
    lone = re.compile(rf"\b(?P<pre>in|by|early|mid|mid-|late|end of|start of|beginning of|before|after|until|during|from|for|around)?"
                      rf"\s*{_MONTH_RE}\b(?:\s+(?P<y>20\d\d))?", re.I)
    for m in anchored(lone, _MONTH_WORD, text, back=20):
        word = m["month"]
        month = MONTHS[word.lower().rstrip(".")]
        if not m["pre"] and not word[0].isupper():
            continue
        if word.lower() in ("may", "mar", "jan", "jun", "dec", "sep", "oct", "nov", "aug", "apr", "feb", "jul") and not m["pre"] and not m["y"]:
            continue  # "May I ask", "Mar" alone: too often not a date
        year = int(m["y"]) if m["y"] else _next_month_year(month, today)
        add(m, DateFact(start=_month_start(year, month), end=_month_end(year, month), precision="month",
                        confidence=0.8 if (m["pre"] or m["y"]) else 0.6, where=where, evidence=m[0].strip()))
    for m in re.finditer(r"\bQ([1-4])(?:\s+(20\d\d))?\b", text):
        q = int(m[1])
        year = int(m[2]) if m[2] else (today.year if q >= (today.month - 1) // 3 + 1 else today.year + 1)
        add(m, DateFact(start=dt.date(year, 3 * q - 2, 1), end=_month_end(year, 3 * q), precision="quarter",
                        confidence=0.75, where=where, evidence=m[0]))
    monday = today - dt.timedelta(days=today.weekday())
    # (a word the pattern needs, the pattern, what a match means): a pattern whose word is not in
    # the text is not run at all.
    relative = [
        ("today", r"\btoday\b", lambda m: _day(today, 0.8, where, m[0])),
        ("tomorrow", r"\btomorrow\b", lambda m: _day(today + dt.timedelta(days=1), 0.85, where, m[0])),
        ("tomorrow", r"\bday after tomorrow\b", lambda m: _day(today + dt.timedelta(days=2), 0.85, where, m[0])),
        ("week", r"\b(?:this|the current) week\b", lambda m: _week(monday, 0.75, where, m[0])),
        ("week", r"\bnext week\b", lambda m: _week(monday + dt.timedelta(days=7), 0.8, where, m[0])),
        ("week", r"\b(?:the )?week after next\b", lambda m: _week(monday + dt.timedelta(days=14), 0.8, where, m[0])),
        ("month", r"\bthis month\b", lambda m: _month(today.year, today.month, 0.75, where, m[0])),
        ("month", r"\bnext month\b", lambda m: _month(today.year + (today.month == 12), today.month % 12 + 1, 0.8, where, m[0])),
        ("month", r"\b(?:the )?end of (?:the|this) month\b", lambda m: _day(_month_end(today.year, today.month), 0.7, where, m[0])),
        ("in ", r"\bin (?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few) (?P<u>days?|weeks?|months?)\b",
         lambda m: _in(m, today, where)),
    ]
    lowered = text.lower()
    for word, pattern, make in relative:
        if word in lowered:
            for m in re.finditer(pattern, text, re.I):
                add(m, make(m))
    for m in anchored(_WEEKDAY, _WEEKDAY_WORD, text, back=8):
        add(m, _weekday(m, today, where))
    return [fact for _, fact in sorted(found, key=lambda pair: pair[0])]


def _week(monday: dt.date, conf: float, where: Where, ev: str) -> DateFact:
    return DateFact(start=monday, end=monday + dt.timedelta(days=6), precision="week", confidence=conf, where=where, evidence=ev)


def _month(year: int, month: int, conf: float, where: Where, ev: str) -> DateFact:
    return DateFact(start=_month_start(year, month), end=_month_end(year, month), precision="month", confidence=conf,
                    where=where, evidence=ev)


def _in(m: re.Match, today: dt.date, where: Where) -> DateFact:
    raw = m["n"].lower().removeprefix("a ").strip() if m["n"].lower() not in ("a", "an") else m["n"].lower()
    n = int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw, NUMBER_WORDS.get(m["n"].lower(), 1))
    unit = m["u"].lower().rstrip("s")
    if unit == "day":
        return _day(today + dt.timedelta(days=n), 0.75, where, m[0])
    if unit == "week":
        start = today + dt.timedelta(weeks=n)
        return _week(start - dt.timedelta(days=start.weekday()), 0.7, where, m[0])
    month0 = today.month - 1 + n
    return _month(today.year + month0 // 12, month0 % 12 + 1, 0.7, where, m[0])


def _weekday(m: re.Match, today: dt.date, where: Where) -> DateFact | None:
    target = WEEKDAYS[m["wd"].lower()]
    ahead = (target - today.weekday()) % 7
    prefix = (m["next"] or "").strip().lower()
    if prefix == "next":
        # "next Friday": the Friday of next week, as most people mean it (even said on a Monday).
        ahead = (7 - today.weekday()) + target
    elif ahead == 0:
        ahead = 0 if prefix in ("this", "") else 7
    conf = 0.75 if prefix else 0.55
    return _day(today + dt.timedelta(days=ahead), conf, where, m[0].strip())


def _dedupe(dates: list[DateFact]) -> list[DateFact]:
    seen: set[tuple[dt.date, dt.date]] = set()
    out = []
    for d in dates:
        if (d.start, d.end) not in seen:
            seen.add((d.start, d.end))
            out.append(d)
    return out
