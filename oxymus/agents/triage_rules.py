"""What the triage decides a capture becomes: the facts the rules know, the rules
(event, bill, memory, next action, with a confidence and a why), and the LLM's
answer merged with them, never trusted over what code can check.
`oxymus.agents.triage` gathers the facts and writes the suggestions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oxymus.agents.triage_models import SuggestedEvent, TriageSuggestion
from oxymus.memory import records as mem
from oxymus.time.timewords import Found, find_when, strip_spans

MAX_TEXT = 500

# ---------------------------------------------------------------- what the rules know


@dataclass
class Facts:
    """What triage knows besides the capture: read once per run."""

    now: dt.datetime
    zone: Any
    people: dict[str, str] = field(default_factory=dict)  # lowercase first name -> name as written
    sections: list[str] = field(default_factory=list)  # PLANS.md section titles that hold actions (or may)
    section_words: dict[str, set[str]] = field(default_factory=dict)  # section title -> its words and its goals' words
    default_section: str = "Next actions"
    events: list[tuple[str, dt.datetime, dt.datetime]] = field(default_factory=list)  # summary, start, end (aware)
    default_minutes: int = 30
    calendar: str | None = None
    calendars: list[str] | None = None  # the CalDAV calendars an event can go to (None: not known, assumed there)
    open_texts: dict[str, str] = field(default_factory=dict)  # normalised text -> the oldest open capture id with it


ACTION_VERBS = {
    "call", "phone", "ring", "email", "mail", "e-mail", "write", "fix", "buy", "send", "book", "order", "schedule",
    "ask", "check", "review", "read", "finish", "update", "renew", "pay", "cancel", "text", "message", "ping", "reply",
    "answer", "prepare", "clean", "submit", "file", "print", "return", "pick", "get", "make", "plan", "draft", "follow",
    "research", "install", "upgrade", "deploy", "publish", "refactor", "test", "contact", "invite", "organise",
    "organize", "set", "sort", "tidy", "backup", "back", "move", "sign", "register", "apply", "collect", "find",
    "look", "try", "learn", "watch", "listen", "visit", "bring", "take", "post", "share", "merge", "release", "tag",
    "close", "open", "remove", "delete", "add", "change", "replace", "repair", "clear", "confirm", "arrange", "cook",
    "wash", "water", "feed", "charge", "print", "scan", "upload", "download", "backport", "document", "outline",
    "translate", "design", "sketch", "compare", "measure", "pack", "unpack", "ship", "refund", "invoice", "thank",
    "congratulate", "remind", "discuss", "decide", "figure", "investigate", "debug", "benchmark", "profile",
}
EVENT_WORDS = re.compile(
    r"\b(meeting|meet|call|lunch|dinner|breakfast|brunch|coffee|appointment|appt|dentist|doctor|dr|standup|stand-up|sync|"
    r"interview|party|flight|train|visit|class|lesson|session|workshop|talk|demo|gym|yoga|haircut|concert|date|drinks|"
    r"run|hike|game|match|webinar|presentation|1:1|one-on-one|check-up|checkup|vet|therapy|birthday)\b", re.I)
JUNK = {"test", "testing", "asdf", "qwerty", "lol", "ok", "okay", "hmm", "hm", "xxx", "foo", "bar", "foobar", "todo", "?",
        "...", "blah", "x", "aaa", "jkl", "sdf", "hello", "hi"}
TODO_PREFIX = re.compile(
    r"^\s*(?:[-*]\s*)?(?:\[\s?\]\s*)?(?:(?:todo|to do|to-do|task)\s*[:\-]\s*|(?:i\s+)?(?:need|have|got)\s+to\s+|"
    r"(?:i\s+)?(?:must|should)\s+|remember\s+to\s+|don'?t\s+forget\s+to\s+|(?:please\s+))", re.I)
STOP_NAMES = {"i", "it", "this", "that", "the", "there", "we", "they", "he", "she", "you", "my", "our", "today",
              "tomorrow", "tonight", "what", "why", "how", "when", "where", "who", "a", "an", "maybe", "everything",
              "nothing", "someone", "somebody", "everyone", "here", "now", "next", "last", "monday", "tuesday",
              "wednesday", "thursday", "friday", "saturday", "sunday", "if", "so", "but", "and", "or", "also", "then"}
PREF_VERBS = r"(?:prefers|likes|loves|hates|dislikes|doesn'?t like|does not like|is allergic to|can'?t eat|cannot eat|drinks|eats|enjoys|avoids|wants)"
PERSON_VERBS = (r"(?:is|was|lives|lived|works|worked|moved|has|had|was born|studies|studied|got|just|started|joined|left|"
                r"speaks|married|turned|plays|teaches|runs|owns|'s birthday|’s birthday|birthday is)")
NAME = r"(?P<name>[A-ZÀ-ÖØ-Þ][\w'’-]+(?:\s[A-ZÀ-ÖØ-Þ][\w'’-]+)?)"

CURRENCIES = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD", "dollar": "USD",
              "dollars": "USD", "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "chf": "CHF"}
_CUR = r"(€|\$|£|eur|euros?|usd|dollars?|gbp|pounds?|chf)"
MONEY = re.compile(r"(?<![\w.,])(?:" + r"(?P<c1>€|\$|£|eur|usd|gbp|chf)\s?(?P<a1>\d[\d.,]*\d|\d)"
                   r"|(?P<a2>\d[\d.,]*\d|\d)\s?(?P<c2>" + _CUR[1:-1] + r"))(?![a-z])", re.I)
RECUR = [
    ("monthly", re.compile(r"\b(?:monthly|every\s+month|per\s+month|a\s+month|each\s+month|/\s?month|/mo)\b", re.I)),
    ("yearly", re.compile(r"\b(?:yearly|annually|annual|every\s+year|per\s+year|a\s+year|each\s+year|/\s?year|/yr)\b", re.I)),
    ("weekly", re.compile(r"\b(?:weekly|every\s+week|per\s+week|a\s+week|each\s+week|/\s?week|/wk)\b", re.I)),
]
DAY_OF_MONTH = re.compile(r"\b(?:on|every|due)\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)(?:\s+of\s+(?:the|each|every)\s+month)?\b", re.I)
BILL_WORDS = re.compile(
    r"\b(pay|rent|bill|invoice|fee|fees|subscription|renewal|renew|insurance|tax|taxes|due|membership|loan|mortgage|"
    r"utilities|electricity|gas|water|internet|phone\s+plan|licen[cs]e|domain|hosting|tuition|installment)\b", re.I)


# ---------------------------------------------------------------- the rules


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\w’'-]+", normalise(text)) if len(w) > 2}


def sentence(text: str) -> str:
    """One line, first letter up: "call Ana" -> "Call Ana" (a link stays as it is)."""
    text = " ".join(text.split())[:MAX_TEXT]
    if not text or re.match(r"^\w+://", text):
        return text
    return text[:1].upper() + text[1:]


def first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def parse_amount(raw: str) -> float | None:
    s = raw.strip().rstrip(".,")
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif "," in s:
        parts = s.split(",")
        s = s.replace(",", "") if len(parts[-1]) == 3 else s.replace(",", ".")
    elif s.count(".") > 1 or (s.count(".") == 1 and len(s.split(".")[-1]) == 3):
        s = s.replace(".", "")
    try:
        return float(s)
    except ValueError:
        return None


def bill_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "bill"


def _suggest(capture_id: str, to: str, confidence: float, why: str, label: str, **fields: Any) -> TriageSuggestion:
    return TriageSuggestion(capture_id=capture_id, to=to, confidence=round(max(0.0, min(1.0, confidence)), 2), why=why,
                            label=label, **fields)


def classify(capture_id: str, text: str, facts: Facts) -> TriageSuggestion:
    """The deterministic suggestion for one capture (no LLM)."""
    line = first_line(text)
    norm = normalise(text)
    # Noise and duplicates first: nothing else should be made of them.
    bare = re.sub(r"[\W_]+", "", norm)
    if not bare or norm.strip(" .!?") in JUNK or (len(bare) <= 2 and not bare.isdigit()):
        return _suggest(capture_id, "archive", 0.85, "looks like noise (no words to act on)", "archive (noise)")
    older = facts.open_texts.get(norm)
    if older is not None and older != capture_id:
        return _suggest(capture_id, "archive", 0.8, f"the same text is already in the inbox (capture {older})",
                        "archive (duplicate)")
    found = find_when(line, facts.now, facts.zone)
    bill = _bill(capture_id, line, found, facts)
    if bill is not None:
        return bill
    if found is not None and found.has_time:
        return _event(capture_id, line, found, facts)
    memory = _memory(capture_id, text, line, facts)
    if memory is not None:
        return memory
    action = _action(capture_id, line, found, facts)
    if action is not None:
        return action
    if found is not None:  # a day but no time, and no verb: still something to do on that day
        rest = sentence(found.rest(line)) or sentence(line)
        text_ = f"{rest} ({found.describe()})"
        return _suggest(capture_id, "plan_action", 0.45,
                        f"names a day ({found.describe()}) but no time, so not an event; add a time to make it one",
                        f"next action “{text_}” in {facts.default_section}", text=text_, section=facts.default_section,
                        notes=_when_notes(found))
    title = sentence(line)[: mem.MAX_TITLE]
    return _suggest(capture_id, "memory", 0.35, "no rule matched: kept as a note in memory",
                    f"memory fact “{title}”", record=mem.RecordFields(kind="fact", title=title, body=text.strip()))


def _when_notes(found: Found) -> list[str]:
    notes = list(found.notes)
    if found.ambiguous:
        notes.append(found.ambiguous)
    if found.past:
        notes.append(f"{found.describe()} is in the past")
    return notes


def no_calendar(facts: Facts) -> str | None:
    """Why an event could not be created (no CalDAV calendar, or not the one triage is set to), or None."""
    if facts.calendars is None:
        return None
    if not facts.calendars:
        return "no CalDAV calendar is configured ([[calendar.caldav]] in config.toml)"
    if facts.calendar is not None and facts.calendar not in facts.calendars:
        return f"[agents.triage] calendar = {facts.calendar!r} is not a configured CalDAV calendar ({', '.join(facts.calendars)})"
    return None


def _event(capture_id: str, line: str, found: Found, facts: Facts) -> TriageSuggestion:
    summary = sentence(found.rest(line))
    missing = no_calendar(facts)
    if missing is not None:
        # Only what can be carried out is offered: without a calendar to write to, the time goes into a next action.
        text_ = f"{summary[:400]} ({found.describe()})" if summary else sentence(line)
        return _suggest(capture_id, "plan_action", 0.6, f"names a time ({found.describe()}), but {missing}: as a next action",
                        f"next action “{text_}” in {facts.default_section}", text=text_, section=facts.default_section,
                        notes=_when_notes(found))
    end = found.end or (found.start.astimezone(dt.timezone.utc) + dt.timedelta(minutes=facts.default_minutes)).astimezone(facts.zone)
    confidence = 0.9 if EVENT_WORDS.search(line) else 0.8
    if not summary:  # "in 2 hours": a time and nothing else
        summary, confidence = "Reminder", 0.5
    notes = _when_notes(found)
    why = f"names a time: {found.describe()}"
    if found.end is None:
        why += f" ({facts.default_minutes} min unless you say)"
    if found.ambiguous:
        confidence -= 0.3
    if found.past:
        confidence = min(confidence, 0.3)
    utc = dt.timezone.utc
    for summary_, start, stop in facts.events:
        if start.astimezone(utc) < end.astimezone(utc) and found.start.astimezone(utc) < stop.astimezone(utc):
            notes.append(f"overlaps “{summary_}” {start.astimezone(facts.zone):%H:%M}–{stop.astimezone(facts.zone):%H:%M}")
    event = SuggestedEvent(summary=summary[:500], start=found.start.isoformat(), end=end.isoformat(), calendar=facts.calendar)
    shown = Found(start=found.start, end=end, has_time=True, spans=found.spans).describe()
    return _suggest(capture_id, "calendar_event", confidence, why, f"calendar: {summary}, {shown}", event=event, notes=notes)


def _bill(capture_id: str, line: str, found: Found | None, facts: Facts) -> TriageSuggestion | None:
    money = MONEY.search(line)
    if money is None:
        return None
    recur = next(((name, m) for name, regex in RECUR if (m := regex.search(line))), None)
    bill_word = BILL_WORDS.search(line)
    if recur is None and bill_word is None:
        return None
    amount = parse_amount(money.group("a1") or money.group("a2") or "")
    if amount is None:
        return None
    currency = CURRENCIES[(money.group("c1") or money.group("c2")).lower()]
    spans: list[tuple[int, int]] = [money.span()]
    day_of_month = DAY_OF_MONTH.search(line)
    if recur is not None:
        spans.append(recur[1].span())
    if day_of_month is not None:
        spans.append(day_of_month.span())
    if found is not None:
        spans.extend(found.spans)
    name = strip_spans(line, _merge(spans))
    name = re.sub(r"^(?:pay(?:\s+the)?|renew(?:\s+the)?|bill\s*:)\s+", "", name, flags=re.I)
    name = re.sub(r"\s+(?:due|is due|on|by|at|for)$", "", name, flags=re.I)
    name = sentence(name) or "Bill"
    table: dict[str, Any] = {"name": name[:200], "amount": amount, "currency": currency}
    missing = None
    notes: list[str] = _when_notes(found) if found is not None else []
    schedule = recur[0] if recur is not None else "once"
    table["schedule"] = schedule
    if schedule == "monthly":
        day = int(day_of_month.group(1)) if day_of_month else (found.day.day if found is not None else None)
        if day is None or not 1 <= day <= 31:
            missing = "the day of the month (“on the 1st”)"
        else:
            table["day"] = day
    elif schedule == "yearly":
        if found is None:
            missing = "a date (“on 3 dec”)"
        else:
            table["date"] = f"{found.day:%m-%d}"
    elif schedule == "weekly":
        if found is None:
            missing = "the first due date (“from monday”)"
        else:
            table["start"] = found.day.isoformat()
    else:
        if found is None:
            missing = "the due date (“on 2026-12-03”)"
        else:
            table["date"] = found.day.isoformat()
    amount_text = f"{amount:,.2f} {currency}".replace(".00 ", " ")
    if missing is not None:
        if recur is None:
            return None  # an amount and a bill word but no date: a next action is a better guess ("pay the plumber 120 EUR")
        text = sentence(line)
        return _suggest(capture_id, "plan_action", 0.5,
                        f"looks like a {schedule} bill ({amount_text}) but does not say {missing}; as a next action instead",
                        f"next action “{text}” in {facts.default_section}", text=text, section=facts.default_section)
    when = {"monthly": f"monthly on day {table.get('day')}", "yearly": f"yearly on {table.get('date')}",
            "weekly": f"weekly from {table.get('start')}", "once": f"once, on {table.get('date')}"}[schedule]
    confidence = 0.9 if recur is not None else 0.85
    if found is not None and found.ambiguous:
        confidence -= 0.25
    why = f"an amount ({amount_text}) and " + (f"a recurrence ({recur[1].group(0)})" if recur else f"a bill word ({bill_word.group(0)}) with a date")
    return _suggest(capture_id, "bill", confidence, why, f"bill: {name}, {amount_text} {when}", bill=table, notes=notes)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _memory(capture_id: str, text: str, line: str, facts: Facts) -> TriageSuggestion | None:
    def record(kind: str, confidence: float, why: str, tags: list[str] | None = None, tier: str = "warm",
               title: str | None = None) -> TriageSuggestion:
        t = sentence(title or line)[: mem.MAX_TITLE]
        fields = mem.RecordFields(kind=kind, title=t, body=text.strip(), tags=[x for x in (tags or []) if re.fullmatch(r"[\w-]{1,40}", x)],
                                  tier=tier)
        return _suggest(capture_id, "memory", confidence, why, f"memory {kind} “{t}”" + (f" ({tier})" if tier == "hot" else ""),
                        record=fields)

    if re.fullmatch(r"\s*(?:read|watch|see)?:?\s*https?://\S+\s*", line, re.I) and line.strip() == text.strip():
        url = re.search(r"https?://\S+", line).group(0)
        return record("fact", 0.55, "a link: kept in memory to find again", tags=["link"], title=url)
    m = re.match(r"^\s*(?:remember(?:\s+that)?|note|fyi|fact|til)\s*[:\-,]?\s+(?P<rest>.+)$", line, re.I)
    if m and not re.match(r"^\s*remember\s+to\b", line, re.I):
        return record("fact", 0.8, f"starts with “{line.split()[0]}”: something to keep", title=m.group("rest"))
    if re.match(r"^\s*(?:decided|decision\s*:|we\s+decided|i\s+decided|we'?re\s+going\s+with|going\s+with|settled\s+on|we\s+chose|i\s+chose)\b", line, re.I):
        return record("decision", 0.8, "records a decision")
    if re.search(r"\b(?:i\s+promised|promised\s+\w+|i\s+told\s+\w+\s+i'?d|i\s+owe|committed\s+to|i\s+agreed\s+to)\b", line, re.I):
        names = [re.sub(r"['’]s$", "", w).lower() for w in re.findall(r"\b[A-ZÀ-ÖØ-Þ][\w'’-]+", line)[:8]
                 if w.lower() not in STOP_NAMES and not line.lstrip().startswith(w)]
        return record("commitment", 0.75, "a promise made: kept in hot memory until it is done", tags=names[:3], tier="hot")
    if re.match(r"^\s*i\s+(?:prefer|like|love|hate|dislike|don'?t\s+like|never|always|want\s+to\s+avoid|work\s+best)\b", line, re.I):
        return record("preference", 0.8, "one of your own preferences: kept in hot memory", tier="hot")
    m = re.match(r"^\s*" + NAME + r"\s+" + PREF_VERBS + r"\b", line)
    if m and m.group("name").split()[0].lower() not in STOP_NAMES:
        name = m.group("name")
        known = name.split()[0].lower() in facts.people
        return record("preference", 0.85 if known else 0.75,
                      f"what {name} {'(someone you know) ' if known else ''}prefers", tags=[name.split()[0].lower()])
    m = re.match(r"^\s*" + NAME + r"(?:'s|’s)?\s+" + PERSON_VERBS + r"\b", line)
    if m and m.group("name").split()[0].lower() not in STOP_NAMES:
        name = m.group("name")
        first = name.split()[0].lower()
        known = first in facts.people
        if known or first not in {w.lower() for w in ACTION_VERBS}:
            return record("person", 0.8 if known else 0.65,
                          f"about {name}" + (" (already in memory)" if known else " (a name, by its capital letter)"), tags=[first])
    return None


def _action(capture_id: str, line: str, found: Found | None, facts: Facts) -> TriageSuggestion | None:
    prefix = TODO_PREFIX.match(line)
    rest = line[prefix.end():] if prefix else line
    first = re.match(r"[\w'-]+", rest.strip().lower())
    if first is None:
        return None
    verb = first.group(0)
    if verb not in ACTION_VERBS:
        if prefix is None:
            return None
        confidence, why = 0.7, f"marked as a task (“{prefix.group(0).strip()}”)"
    else:
        confidence = 0.85 if prefix else 0.8
        why = f"starts with a verb (“{verb}”)" + (f" after “{prefix.group(0).strip()}”" if prefix else "")
    notes: list[str] = []
    if found is not None:  # a day without a time: keep it, as a date that does not go stale
        body = sentence(strip_spans(rest, [(s - (prefix.end() if prefix else 0), e - (prefix.end() if prefix else 0))
                                           for s, e in found.spans if s >= (prefix.end() if prefix else 0)]))
        text = f"{body} ({found.describe()})"
        notes = _when_notes(found)
    else:
        text = sentence(rest)
    section, placed = place(text, facts)
    if placed:
        why += f"; its words match the section “{section}”"
    return _suggest(capture_id, "plan_action", confidence, why, f"next action “{text}” in {section}", text=text[:MAX_TEXT],
                    section=section, notes=notes)


def place(text: str, facts: Facts) -> tuple[str, bool]:
    """The PLANS.md section for an action: the one sharing most words with it (title and goals), else the default."""
    mine = words(text) - {w.lower() for w in ACTION_VERBS}
    best, score = facts.default_section, 0
    for title, section_words in facts.section_words.items():
        shared = len(mine & section_words)
        if shared > score:
            best, score = title, shared
    return best, score > 0


# ---------------------------------------------------------------- the LLM


class LlmTriage(BaseModel):
    """What the LLM may say about one capture. No times or dates: those come from code."""

    model_config = ConfigDict(extra="ignore")

    to: Literal["plan_action", "memory", "calendar_event", "bill", "archive"] = Field(description="what the capture becomes")
    confidence: float = Field(ge=0, le=1, description="how sure, 0 to 1")
    why: str = Field(min_length=1, max_length=300, description="one sentence")
    title: str = Field(default="", max_length=200, description="event summary, action text, memory title or bill name; without any time or date")
    section: str | None = Field(default=None, max_length=200, description="plan_action: one of the listed PLANS.md sections")
    memory_kind: Literal["person", "fact", "preference", "decision", "commitment"] | None = None
    tags: list[str] = Field(default_factory=list, max_length=8)


SYSTEM = (
    "You triage one captured note for a personal organiser. Decide what it becomes: a calendar event "
    "(only if a time is given in the facts), a bill (a payment with an amount), a next action in the plan (a task), "
    "a memory record (a person, a preference, a decision, a commitment or a fact), or archive (noise). "
    "Never state times or dates: they are computed by code and given to you as facts."
)


def llm_sections(text: str, found: Found | None, rules: TriageSuggestion, facts: Facts) -> list:
    from oxymus.agents.llm import Section

    when = "no time or date in it"
    if found is not None:
        when = f"{found.describe()}" + (" (a day, no time)" if not found.has_time else "") + (f"; {found.ambiguous}" if found.ambiguous else "")
    sections = [
        Section(name="capture", text=text[:2000], priority=10),
        Section(name="facts computed by code", text=f"time phrase: {when}\nrules suggest: {rules.label} ({rules.why})", priority=9),
        Section(name="PLANS.md sections", text="\n".join(f"- {s}" for s in facts.sections) or "- " + facts.default_section, priority=5),
        Section(name="people in memory", text=", ".join(sorted(facts.people.values())[:60]), priority=3),
    ]
    return sections


def merge_llm(answer: LlmTriage, rules: TriageSuggestion, text: str, facts: Facts) -> TriageSuggestion | None:
    """The LLM's classification made into a suggestion with code's times and amounts; None when it cannot be used."""
    line = first_line(text)
    found = find_when(line, facts.now, facts.zone)
    title = " ".join(answer.title.split())
    why = f"{answer.why.strip()} (LLM)"
    conf = min(answer.confidence, 0.95)
    cid = rules.capture_id
    if answer.to == "calendar_event":
        if found is None or not found.has_time:
            return None  # the LLM saw an event, code found no time: not an event
        base = _event(cid, line, found, facts)
        if base.to != "calendar_event":
            return None  # no calendar to write it to: the rules' suggestion stands
        summary = sentence(title) if title else base.event.summary
        if found.ambiguous or found.past:
            conf = min(conf, base.confidence)
        event = base.event.model_copy(update={"summary": summary[:500]})
        return base.model_copy(update={"confidence": round(conf, 2), "why": f"{why}; {base.why}", "event": event, "source": "llm",
                                       "label": base.label.replace(f"calendar: {base.event.summary},", f"calendar: {summary},", 1)})
    if answer.to == "bill":
        base = rules if rules.to == "bill" else _bill(cid, line, found, facts)
        if base is None or base.to != "bill" or base.bill is None:
            return None  # no amount or no due date that code could find
        bill = dict(base.bill)
        if title:
            bill["name"] = sentence(title)[:200]
        label = base.label.replace(f"bill: {base.bill['name']},", f"bill: {bill['name']},", 1)
        return base.model_copy(update={"confidence": round(min(conf, base.confidence + 0.05), 2), "why": f"{why}; {base.why}",
                                       "bill": bill, "source": "llm", "label": label})
    if answer.to == "plan_action":
        text_ = sentence(title) if title else (rules.text if rules.to == "plan_action" and rules.text else sentence(line))
        if found is not None and not found.has_time and f"({found.describe()})" not in text_:
            text_ = f"{text_} ({found.describe()})"
        section = next((s for s in facts.sections if answer.section and s.casefold() == answer.section.strip().casefold()), None)
        if section is None:
            section, _ = place(text_, facts)
        return _suggest(cid, "plan_action", conf, why, f"next action “{text_}” in {section}", text=text_[:MAX_TEXT],
                        section=section, source="llm", notes=_when_notes(found) if found is not None else [])
    if answer.to == "memory":
        kind = answer.memory_kind or (rules.record.kind if rules.record else "fact")
        t = sentence(title or (rules.record.title if rules.record else line))[: mem.MAX_TITLE]
        tags = [x.strip().lstrip("#").lower() for x in answer.tags if re.fullmatch(r"#?[\w-]{1,40}", x.strip())]
        tier = "hot" if kind in ("commitment",) or (rules.record is not None and rules.record.tier == "hot" and rules.record.kind == kind) else "warm"
        try:
            fields = mem.RecordFields(kind=kind, title=t or "Note", body=text.strip(), tags=tags, tier=tier)
        except ValidationError:
            return None
        return _suggest(cid, "memory", conf, why, f"memory {kind} “{fields.title}”" + (" (hot)" if tier == "hot" else ""),
                        record=fields, source="llm")
    return _suggest(cid, "archive", conf, why, "archive", source="llm")
