"""Lead facts by code: table-driven, from real-looking emails and captures, with a pinned today.

Each row states only what matters for it; `None` means "must not be found" (a wrong guess is
worse than none), a missing key means "not checked here".
"""

from __future__ import annotations

import datetime as dt

import pytest

from oxymus.agents.intake_extract import LeadFacts, from_email, from_text, split_signature, strip_quoted

TODAY = dt.date(2026, 12, 7)  # a Monday
D = dt.date


def check(facts: LeadFacts, want: dict) -> None:
    for key, expected in want.items():
        if key == "name":
            got = facts.who.name if facts.who else None
        elif key == "email":
            got = facts.who.email if facts.who else None
        elif key in ("company", "domain", "need"):
            fact = getattr(facts, key)
            got = fact.value if fact else None
        elif key == "budget":
            got = (facts.budget.amount, facts.budget.currency) if facts.budget else None
        elif key == "budget_max":
            got = facts.budget.amount_max if facts.budget else None
        elif key == "dates":
            got = [(d.start, d.end) for d in facts.dates]
        elif key == "first_date":
            got = (facts.dates[0].start, facts.dates[0].end, facts.dates[0].precision) if facts.dates else None
        else:
            raise KeyError(key)
        assert got == expected, f"{key}: {got!r} != {expected!r}\n{facts.model_dump_json(indent=2, exclude_none=True)}"


CAPTURES = [
    ("lead: Acme wants a workshop in March, budget 5k",
     {"company": "Acme", "need": "a workshop", "budget": (5000.0, None), "dates": [(D(2027, 3, 1), D(2027, 3, 31))],
      "domain": None, "email": None}),
    ("Globex needs a new website by next month, €5,000",
     {"company": "Globex", "need": "a new website", "budget": (5000.0, "EUR"), "dates": [(D(2027, 1, 1), D(2027, 1, 31))]}),
    ("prospect: Ana Ruiz from Initech (ana@initech.io) asked for a quote for a 2-day training on 2027-02-10, USD 12k",
     {"name": "Ana Ruiz", "email": "ana@initech.io", "company": "Initech", "domain": "initech.io",
      "need": "a quote for a 2-day training", "budget": (12000.0, "USD"), "dates": [(D(2027, 2, 10), D(2027, 2, 10))]}),
    ("lead - Umbrella Corp is looking for a security audit next week, budget 5-10k EUR",
     {"company": "Umbrella Corp", "need": "a security audit", "budget": (5000.0, "EUR"), "budget_max": 10000.0,
      "dates": [(D(2026, 12, 14), D(2026, 12, 20))]}),
    ("Call back Bo Lind <bo@gmail.com> — wants a logo redesign, can pay up to $1,500, before Friday",
     {"name": "Bo Lind", "email": "bo@gmail.com", "domain": None, "need": "a logo redesign", "budget": (1500.0, "USD"),
      "dates": [(D(2026, 12, 11), D(2026, 12, 11))]}),
    ("Stark Industries would like a keynote for their offsite on 14 May, £3k",
     {"company": "Stark Industries", "need": "a keynote for their offsite", "budget": (3000.0, "GBP"),
      "dates": [(D(2027, 5, 14), D(2027, 5, 14))]}),
    ("lead: Hooli needs help with data pipeline migration in Q2 2027",
     {"company": "Hooli", "need": "data pipeline migration", "budget": None,
      "first_date": (D(2027, 4, 1), D(2027, 6, 30), "quarter")}),
    ("met someone at a meetup who might want a talk, no budget mentioned",
     {"company": None, "budget": None, "dates": []}),
    ("Wayne Enterprises wants 3 workshops for 20 people in two weeks",
     {"company": "Wayne Enterprises", "budget": None, "first_date": (D(2026, 12, 21), D(2026, 12, 27), "week")}),
    ("lead: Initrode wants a site audit, budget: 12.500,50 €, start tomorrow",
     {"company": "Initrode", "need": "a site audit", "budget": (12500.5, "EUR"), "dates": [(D(2026, 12, 8), D(2026, 12, 8))]}),
    ("Vandelay Industries asked for a proposal by the end of the month; they mentioned 2026 as their founding year",
     {"company": "Vandelay Industries", "budget": None, "dates": [(D(2026, 12, 31), D(2026, 12, 31))]}),
    ("lead: Soylent wants a copywriting retainer, EUR 2k per month from January",
     {"company": "Soylent", "need": "a copywriting retainer", "budget": (2000.0, "EUR"),
      "dates": [(D(2027, 1, 1), D(2027, 1, 31))]}),
    ("Tyrell wants a brand refresh, 5k€, mid-January",
     {"company": "Tyrell", "need": "a brand refresh", "budget": (5000.0, "EUR"), "dates": [(D(2027, 1, 1), D(2027, 1, 31))]}),
    ("Cyberdyne would like an ML audit for $12,000.00 in 3 weeks",
     {"company": "Cyberdyne", "need": "an ML audit", "budget": (12000.0, "USD"), "dates": [(D(2026, 12, 28), D(2027, 1, 3))]}),
    ("lead: Oscorp needs a rebrand, budget 1.5M USD, Q3",
     {"company": "Oscorp", "need": "a rebrand", "budget": (1500000.0, "USD"), "dates": [(D(2027, 7, 1), D(2027, 9, 30))]}),
    ("Sirius Cybernetics is interested in a 3-day sprint starting 2027-01-11, about 20 people",
     {"company": "Sirius Cybernetics", "need": "a 3-day sprint", "budget": None,
      "dates": [(D(2027, 1, 11), D(2027, 1, 11))]}),
    ("we grew 30% this year, looking for a CFO coach",
     {"company": None, "need": "a CFO coach", "budget": None}),
]


@pytest.mark.parametrize("text, want", CAPTURES, ids=[c[0][:40] for c in CAPTURES])
def test_captures(text, want):
    check(from_text(text, today=TODAY), want)


SIG = "\n\nBest regards,\nAna Ruiz\nHead of Product | Acme Labs GmbH\n+49 30 1234567\nwww.acme-labs.io\n"

EMAILS = [
    dict(from_name="Ana Ruiz", from_email="ana.ruiz@acme-labs.io", subject="Workshop in March?",
         body="Hi,\n\nWe are looking for a two-day design workshop for our team of 12 in early March. "
              "Our budget is around €8,000.\nCould we talk next week?" + SIG,
         want={"name": "Ana Ruiz", "email": "ana.ruiz@acme-labs.io", "company": "Acme Labs GmbH", "domain": "acme-labs.io",
               "need": "a two-day design workshop for our team of 12", "budget": (8000.0, "EUR"),
               "dates": [(D(2027, 3, 1), D(2027, 3, 31)), (D(2026, 12, 14), D(2026, 12, 20))]}),
    dict(from_name="", from_email="john.doe@gmail.com", subject="Website",
         body="Hello! I'm John from Doe Bakery. We need a new website with online ordering before Christmas. "
              "Budget is 3-4k USD.\n\nThanks,\nJohn Doe\nDoe Bakery\n",
         want={"name": "John Doe", "email": "john.doe@gmail.com", "domain": None, "company": "Doe Bakery",
               "need": "a new website with online ordering before Christmas", "budget": (3000.0, "USD"), "budget_max": 4000.0}),
    dict(from_name="\"Lind, Bo\"", from_email="bo@lind-consulting.se", subject="Re: Re: follow-up",
         body="Thanks for the call. Could you send a quote for the audit we discussed? We'd start on 2027-01-18.\n\n"
              "On Fri, Dec 4, 2026 at 9:00 AM Me <me@example.org> wrote:\n> budget would be $99k\n> In April\n",
         want={"name": "Bo Lind", "domain": "lind-consulting.se", "company": "Lind Consulting",
               "need": "send a quote for the audit we discussed", "budget": None,
               "dates": [(D(2027, 1, 18), D(2027, 1, 18))]}),
    dict(from_name="Carla Mendes", from_email="carla@startup.io", subject="Quick question",
         body="Hey! May I ask whether you do mentoring? We're interested in a 6-month mentoring program for our founders. "
              "Happy to pay USD 12k.\n-- \nCarla Mendes\nCEO, Startup.io\n",
         want={"company": "Startup.io", "need": "a 6-month mentoring program for our founders", "budget": (12000.0, "USD"),
               "dates": []}),
    dict(from_name="Team Contoso", from_email="info@contoso.com", subject="Request for proposal: data migration",
         body="<p>Dear vendor,</p>\nContoso requests proposals for a data migration project. Deadline for submissions: "
              "January 15, 2027. Estimated value: €45,000.\n\nKind regards,\nProcurement\nContoso Ltd\n",
         want={"domain": "contoso.com", "company": "Contoso Ltd", "need": "proposals for a data migration project",
               "budget": (45000.0, "EUR"), "dates": [(D(2027, 1, 15), D(2027, 1, 15))]}),
    dict(from_name="Pierre Dubois", from_email="pierre.dubois@orange.fr", subject="Formation",
         body="Bonjour,\nWe would like a training session for 8 people on Thursday. Budget 2 500 €.\n\nCordialement,\nPierre\n",
         want={"name": "Pierre Dubois", "domain": None, "company": None, "need": "a training session for 8 people",
               "budget": (2500.0, "EUR"), "dates": [(D(2026, 12, 10), D(2026, 12, 10))]}),
    dict(from_name="", from_email="noreply@forms.example.com", subject="New contact form submission",
         body="Name: Dana Scully\nEmail: dana@fbi.example\nMessage: I need a speaker for our conference in June. "
              "Our budget is 5k.\n",
         want={"need": "a speaker for our conference", "budget": (5000.0, None), "dates": [(D(2027, 6, 1), D(2027, 6, 30))]}),
    dict(from_name="Li Wei", from_email="li.wei@megacorp.co.uk", subject="Partnership",
         body="Hi there, we're looking for an agency to run our Q1 campaign. Fee around £20,000. Next Tuesday works for a call.\n\n"
              "Cheers,\nLi\n",
         want={"domain": "megacorp.co.uk", "company": "Megacorp", "need": "an agency to run our Q1 campaign",
               "budget": (20000.0, "GBP"),
               "dates": [(D(2027, 1, 1), D(2027, 3, 31)), (D(2026, 12, 15), D(2026, 12, 15))]}),
    dict(from_name="Newsletter", from_email="news@shop.example.com", subject="Our December sale is on",
         body="Get 20% off everything this week. Unsubscribe anytime.",
         want={"budget": None}),
]


@pytest.mark.parametrize("case", EMAILS, ids=[c["subject"][:30] for c in EMAILS])
def test_emails(case):
    want = case.pop("want") if "want" in case else {}
    try:
        check(from_email(**{k: v for k, v in case.items()}, today=TODAY), want)
    finally:
        case["want"] = want


def test_every_fact_has_a_confidence_and_where_it_came_from():
    facts = from_email(from_name="Ana Ruiz", from_email="ana@acme.io", subject="Workshop",
                       body="We need a workshop in March, budget €5k.", today=TODAY)
    for fact in (facts.who, facts.company, facts.domain, facts.need, facts.budget, *facts.dates):
        assert fact is not None and 0 < fact.confidence <= 1 and fact.where
    assert facts.who.confidence > facts.company.confidence  # a From header beats a guess from the domain
    assert facts.company.where == "address" and facts.company.value == "Acme"


def test_quoted_text_and_signatures_are_split_off():
    assert strip_quoted("New text\n> old\nmore\nOn Mon, 1 Dec 2026, Bo wrote:\nold reply") == "New text\nmore"
    body, sig = split_signature("Hello\nplease quote\n\nThanks,\nAna\nAcme Ltd")
    assert body == "Hello\nplease quote" and sig == ["Ana", "Acme Ltd"]


@pytest.mark.parametrize("text, expect", [
    ("next Friday", (D(2026, 12, 18), D(2026, 12, 18))),  # said on a Monday: the Friday of next week
    ("on Friday", (D(2026, 12, 11), D(2026, 12, 11))),
    ("this week", (D(2026, 12, 7), D(2026, 12, 13))),
    ("in 3 days", (D(2026, 12, 10), D(2026, 12, 10))),
    ("in a month", (D(2027, 1, 1), D(2027, 1, 31))),
    ("late November", (D(2027, 11, 1), D(2027, 11, 30))),  # a month already past this year is next year's
    ("in December", (D(2026, 12, 1), D(2026, 12, 31))),
    ("March 3rd, 2027", (D(2027, 3, 3), D(2027, 3, 3))),
    ("the 2nd of February", (D(2027, 2, 2), D(2027, 2, 2))),
    ("2027-02-30", None),  # not a date
])
def test_dates_relative_to_today(text, expect):
    dates = from_text(f"something {text}", today=TODAY).dates
    assert ((dates[0].start, dates[0].end) if dates else None) == expect


def test_the_anchored_search_finds_what_a_full_scan_finds():
    """Dates and amounts are looked for only near a month name or a digit; on texts made of the words
    those patterns care about (and noise), that gives exactly the matches of scanning every position."""
    import random
    import re

    from oxymus.agents import intake_extract as ie

    words = ("in by early mid mid- late end of start beginning before after until during from for around the a "
             "March march Mar. May may June sept. September Dec december 14 14th 3rd 2027 2026 5k 5,000 5 000 10-15k "
             "€5k $ 5.000 EUR 3000 budget paying up to max about around € 12.5 million euros USD £ dollars people days "
             "hello workshop, offer; call. x1 a5 2026-03-14 Q2 of").split(" ")
    day_month = re.compile(rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{ie._MONTH_RE}|"
                           rf"{ie._MONTH_RE.replace('month', 'month2')}\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b)(?:,?\s+(?P<y>20\d\d))?", re.I)
    lone = re.compile(rf"\b(?P<pre>in|by|early|mid|mid-|late|end of|start of|beginning of|before|after|until|during|from|"
                      rf"for|around)?\s*{ie._MONTH_RE}\b(?:\s+(?P<y>20\d\d))?", re.I)
    rng = random.Random(15)
    for _ in range(3000):
        text = "".join(rng.choice(words) + rng.choice((" ", " ", " ", "  ", "\n", ", ", "")) for _ in range(rng.randint(1, 30)))
        for pattern, anchor, back in ((ie._BUDGET, ie._DIGITS, 40), (day_month, ie._MONTH_WORD, 12), (lone, ie._MONTH_WORD, 20)):
            every = [(m.start(), m.end()) for m in pattern.finditer(text)]
            got = [(m.start(), m.end()) for m in ie.anchored(pattern, anchor, text, back=back)]
            assert set(got) <= set(every), (pattern.pattern[:30], text)
            # Every match holding an anchor is found, but a month glued to a word ("formay": no anchor, no
            # date), and what a full scan finds starting inside a number ("7 dollars" after "5 202" was taken).
            want = [(s, e) for s, e in every if anchor.search(text, s, e) and not (s and text[s - 1:s + 1].isdigit())]
            assert set(want) <= set(got), (pattern.pattern[:30], text)
