"""Parsing PLANS.md: realistic files read into exactly the expected model, and the
corners of Markdown that must not be misread (fences, comments, setext headings,
tabs, CRLF, a BOM, non-UTF-8 bytes)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxymus.plans import Action, Goal, PlansDocument, PlansError, Proposal, Section, Unparsed, parse
from oxymus.plans.ids import action_id

FIXTURES = Path(__file__).parent / "plans_fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def act(line, text, section, *, done=False, done_date=None, end_line=None, indent=0, depth=0, marker="-", parent=None, occurrence=1):
    return Action(
        id=action_id(section, text, occurrence),
        text=text,
        done=done,
        done_date=done_date,
        line=line,
        end_line=end_line or line,
        indent=indent,
        depth=depth,
        marker=marker,
        parent=parent.id if parent else None,
        section=section,
    )


def prop(position, line, title, status, form, section, *, date=None, slug=None, end_line=None):
    return Proposal(position=position, title=title, status=status, date=date, slug=slug, line=line, end_line=end_line or line, form=form, section=section)


# -- the developer's PLANS.md ----------------------------------------------------------

TOP = ("Plans for the winter",)
GOALS = (*TOP, "Goals")
NEXT = (*TOP, "Next actions")
PUB = (*TOP, "Publishing order")


def developer_expected(data: bytes) -> PlansDocument:
    release = act(21, "Release 0.2", NEXT)
    changelog = act(23, "Write the changelog", NEXT, indent=2, depth=1, parent=release)
    return PlansDocument(
        path="PLANS.md",
        sha256=sha(data),
        newline="\n",
        bom=False,
        final_newline=True,
        line_count=58,
        front_matter="title: Plans\nupdated: 2026-11-18\ntags: [oxymus, plans]\n",
        sections=(
            Section(level=1, title="Plans for the winter", line=7, end_line=58, path=(), style="atx"),
            Section(level=2, title="Goals", line=11, end_line=18, path=TOP, style="atx"),
            Section(level=2, title="Next actions", line=19, end_line=45, path=TOP, style="atx"),
            Section(level=2, title="Publishing order", line=46, end_line=58, path=TOP, style="atx"),
        ),
        goals=(
            Goal(text="ship Oxymus 0.2 before the holidays", line=9, section=TOP, source="label"),
            Goal(text="Keep the daemon under 40 MB of memory", line=13, section=GOALS, source="list"),
            Goal(text="Write one post a month", line=14, section=GOALS, source="list", done=False),
            Goal(text="Café ✓ 東京: give the talk in Tokyo", line=15, section=GOALS, source="list"),
        ),
        actions=(
            act(14, "Write one post a month", GOALS),
            release,
            act(22, "Tag the release candidate", NEXT, done=True, done_date="2026-11-20", indent=2, depth=1, parent=release),
            changelog,
            act(24, "Collect merged PRs", NEXT, done_date="2026-11-21", indent=4, depth=2, parent=changelog),
            act(25, "Fix the flaky socket test", NEXT, done=True, done_date="2026-11-19"),
            act(26, "Review the PR from Zoë about calendar time zones", NEXT, end_line=27),
            act(29, "Book the Café ✓ 東京 venue", NEXT),
            act(30, "Renew the domain (done 2026-02-30)", NEXT),
            act(34, "Order a second monitor", NEXT, marker="*"),
            act(35, "Back up the laptop", NEXT, marker="+"),
            act(58, "ask Sam for a review", PUB, indent=3, depth=1),
        ),
        proposals=(
            prop(1, 48, "Why I moved to SQLite", "published", "bracket", PUB, date="2026-11-01", slug="why-sqlite"),
            prop(2, 49, "Local-first sync, part 2", "draft", "bracket", PUB),
            prop(3, 50, "Café ✓ 東京: notes from a conference", "scheduled", "bracket", PUB, date="2026-12-03", slug="tokyo-notes"),
            prop(4, 51, "Writing a daemon in asyncio", "published", "paren", PUB, date="2026-10-15"),
            prop(5, 52, "A post about blockchains", "dropped", "paren", PUB),
            prop(6, 54, "A keyboard-first TUI", "proposed", "plain", PUB),
            prop(7, 56, "Notes on pydantic 2", "published", "bracket", PUB),
        ),
        unparsed=(
            Unparsed(line=17, end_line=17, text="- ", reason="a goal with no text", section=GOALS),
            Unparsed(
                line=28,
                end_line=28,
                text="- [-] Port the TUI to another toolkit",
                reason="unknown checkbox mark '[-]': write '[ ]' for an open action or '[x]' for a done one",
                section=NEXT,
            ),
            Unparsed(
                line=30,
                end_line=30,
                text="- [ ] Renew the domain (done 2026-02-30)",
                reason="'2026-02-30' in the done date is not a calendar date",
                section=NEXT,
            ),
            Unparsed(
                line=53,
                end_line=53,
                text="6. [wip] Testing Textual apps",
                reason="not a publishing entry: unknown status 'wip': expected one of proposed, draft, scheduled, published, dropped, "
                "optionally followed by a date YYYY-MM-DD",
                section=PUB,
            ),
            Unparsed(
                line=55,
                end_line=55,
                text="8. Shipping to PyPI (published yesterday)",
                reason="not a publishing entry: 'yesterday' is not a date: write it as YYYY-MM-DD",
                section=PUB,
            ),
        ),
    )


def test_developer_plans_read_exactly():
    data = load("developer.md")
    doc = parse(data)
    expected = developer_expected(data)
    # Field by field first, for a readable failure; then the whole model.
    for name in ("sections", "goals", "actions", "proposals", "unparsed"):
        assert getattr(doc, name) == getattr(expected, name), name
    assert doc == expected


def test_crlf_variant_reads_the_same_apart_from_newline_and_hash():
    lf, crlf = load("developer.md"), load("developer_crlf.md")
    assert crlf == lf.replace(b"\n", b"\r\n"), "fixture bytes were converted (see plans_fixtures/.gitattributes)"
    doc = parse(crlf)
    assert doc.newline == "\r\n"
    assert doc == developer_expected(lf).model_copy(
        update={"sha256": sha(crlf), "newline": "\r\n", "front_matter": "title: Plans\r\nupdated: 2026-11-18\r\ntags: [oxymus, plans]\r\n"}
    )


def test_ids_are_pinned():
    """Ids are stored by callers; changing how they are made is a breaking change."""
    doc = parse(load("developer.md"))
    key = "Plans for the winter\x1fNext actions\x1eRelease 0.2"
    assert doc.actions[1].id == hashlib.sha256(key.encode()).hexdigest()[:12] == "771002e77c70"
    assert [a.id for a in doc.actions[:4]] == ["950577cf675a", "771002e77c70", "8bdc14fb06e7", "51baac04b9d4"]


# -- the writer's plans: other bullets, label goals, duplicates, a publishing queue -----

W = ("Writing plans 2027",)
WEEK = (*W, "This week")
QUEUE = (*W, "Publishing queue")


def test_writer_plans_read_exactly():
    data = load("writer.md")
    doc = parse(data, "writer/PLANS.md")
    assert doc.path == "writer/PLANS.md"
    assert doc.front_matter is None
    assert doc.sections == (
        Section(level=1, title="Writing plans 2027", line=1, end_line=38, path=(), style="atx"),
        Section(level=2, title="Non-goals", line=5, end_line=8, path=W, style="atx"),
        Section(level=2, title="Current goals", line=9, end_line=14, path=W, style="atx"),
        Section(level=2, title="This week", line=15, end_line=28, path=W, style="atx"),
        Section(level=3, title="Errands", line=25, end_line=28, path=WEEK, style="atx"),
        Section(level=2, title="Publishing queue", line=29, end_line=38, path=W, style="atx"),
    )
    goals = (*W, "Current goals")
    assert doc.goals == (
        Goal(text="finish the first draft of the novel by June.", line=3, section=W, source="label"),
        Goal(text="Finish the novel draft", line=11, section=goals, source="list"),
        Goal(text="Read 30 books", line=12, section=goals, source="list", done=True),
        Goal(text="submit two short stories", line=13, section=goals, source="list"),
        Goal(text="write 500 words a day", line=23, section=WEEK, source="label"),
    )
    assert doc.actions == (
        act(12, "Read 30 books", goals, done=True, marker="2."),
        act(17, "Outline chapter 12", WEEK, marker="1)"),
        act(18, "Send chapter 11 to Ana", WEEK, done=True, done_date="2026-11-17", marker="2)"),
        act(19, "Reply to the editor", WEEK, marker="3)"),
        act(20, "Invoice the magazine", WEEK, done=True, marker="*"),
        act(21, "Call the printer", WEEK, marker="+"),
        act(22, "Reply to the editor", WEEK, occurrence=2),
        act(27, "Reply to the editor", (*WEEK, "Errands")),
    )
    assert len({a.id for a in doc.actions}) == len(doc.actions)
    assert doc.proposals == (
        prop(1, 31, "The lighthouse keeper", "draft", "bracket", QUEUE, slug="lighthouse"),
        prop(2, 32, "Winter in Lisbon", "proposed", "checkbox", QUEUE),
        prop(3, 33, "A short story about bees", "published", "checkbox", QUEUE),
        prop(4, 34, "The night train", "scheduled", "paren", QUEUE, date="2027-01-10"),
        prop(5, 35, "Salt and ash", "published", "bracket", QUEUE, date="2026-09-01"),
        prop(6, 38, "[The reading list](https://example.com/list)", "draft", "paren", QUEUE),
    )
    assert doc.unparsed == (
        Unparsed(line=36, end_line=36, text="-", reason="not a publishing entry: no title", section=QUEUE),
        Unparsed(
            line=37,
            end_line=37,
            text="- [RFC] On editing",
            reason="not a publishing entry: unknown status 'RFC': expected one of proposed, draft, scheduled, published, dropped, "
            "optionally followed by a date YYYY-MM-DD",
            section=QUEUE,
        ),
    )


# -- setext headings, HTML comments, tabs, a BOM, mixed endings, no final newline -------


def test_setext_comments_tabs_bom_read_exactly():
    data = load("setext.md")
    assert data.startswith(b"\xef\xbb\xbf") and not data.endswith(b"\n") and b"\t- [ ]" in data
    doc = parse(data)
    plan, nxt = ("Project plan",), ("Project plan", "Next actions")
    tabbed = act(11, "Tabbed parent", nxt)
    child = act(12, "Tabbed child", nxt, indent=4, depth=1, parent=tabbed)
    four = act(14, "Four-space parent", nxt)
    assert doc == PlansDocument(
        path="PLANS.md",
        sha256=sha(data),
        newline="\r\n",
        bom=True,
        final_newline=False,
        line_count=26,
        sections=(
            Section(level=1, title="Project plan", line=1, end_line=21, path=(), style="setext"),
            Section(level=2, title="Next actions", line=8, end_line=21, path=plan, style="setext"),
            Section(level=1, title="Goals", line=22, end_line=26, path=(), style="setext"),
        ),
        goals=(
            Goal(text="Stay healthy", line=25, section=("Goals",), source="list"),
            Goal(text="Run 5 km", line=26, section=("Goals",), source="list", done=True),
        ),
        actions=(
            tabbed,
            child,
            act(13, "Tabbed grandchild", nxt, done=True, indent=8, depth=2, parent=child),
            four,
            act(15, "Four-space child", nxt, indent=4, depth=1, parent=four),
            act(26, "Run 5 km", ("Goals",), done=True, marker="*"),
        ),
    )


# -- corners ------------------------------------------------------------------------------


def test_bytes_that_are_not_utf8_name_their_line():
    data = "# Plans\n\n- [ ] café\n".encode() + b"- [ ] caf\xe9\n"
    with pytest.raises(PlansError) as err:
        parse(data, "notes/PLANS.md")
    assert err.value.path == "notes/PLANS.md" and err.value.line == 4
    assert str(err.value).startswith("notes/PLANS.md:4: not valid UTF-8")


def test_empty_and_bom_only_files():
    for data in (b"", b"\xef\xbb\xbf"):
        doc = parse(data)
        assert (doc.line_count, doc.actions, doc.sections, doc.final_newline) == (0, (), (), False)
        assert doc.bom == bool(data)


def test_nothing_inside_code_or_comments_or_front_matter_is_read():
    text = "\n".join(
        [
            "---",
            "- [ ] yaml, not an action",
            "...",
            "````md",
            "```",
            "- [ ] still in the outer fence",
            "```",
            "````",
            "- [ ] real one",
            "",
            "Text.",
            "",
            "    - [ ] indented code",
            "",
            "<!-- - [ ] one-line comment --> - [ ] and the rest of its line",
            "<!--",
            "# not a heading",
            "-->",
            "  ```",
            "  - [ ] fence inside nothing",
            "```",
            "- [x] real two",
        ]
    )
    doc = parse(text.encode())
    assert doc.front_matter == "- [ ] yaml, not an action\n"
    assert [(a.line, a.text) for a in doc.actions] == [(9, "real one"), (22, "real two")]
    assert doc.sections == () and doc.unparsed == ()


def test_unclosed_fence_and_comment_are_reported_not_dropped():
    doc = parse(b"# A\n- [ ] before\n```sh\n- [ ] lost\n")
    assert [a.text for a in doc.actions] == ["before"]
    assert doc.unparsed == (
        Unparsed(line=3, end_line=4, text="```sh\n- [ ] lost", reason="this code fence (```) is never closed: everything after it is read as code", section=("A",)),
    )
    doc = parse(b"<!-- todo\n- [ ] hidden")
    assert doc.actions == () and doc.unparsed[0].reason.startswith("this HTML comment is never closed")
    assert doc.unparsed[0].text == "<!-- todo\n- [ ] hidden"


def test_front_matter_needs_a_closing_line():
    doc = parse(b"---\n- [ ] an action after a rule\n")
    assert doc.front_matter is None and [a.text for a in doc.actions] == ["an action after a rule"]
    assert parse(b"---\n---\n# T\n").front_matter == ""


@pytest.mark.parametrize("indent", ["  ", "    ", "\t", "   "])
def test_nesting_with_any_indentation(indent):
    text = f"- [ ] a\n{indent}- [ ] b\n{indent}{indent}- [x] c\n- [ ] d\n"
    doc = parse(text.encode())
    by_text = {a.text: a for a in doc.actions}
    assert [(a.text, a.depth) for a in doc.actions] == [("a", 0), ("b", 1), ("c", 2), ("d", 0)]
    assert by_text["c"].parent == by_text["b"].id and by_text["b"].parent == by_text["a"].id and by_text["d"].parent is None


def test_numbered_items_nest_the_way_people_write_them():
    doc = parse(b"1. [ ] first\n  - [ ] under first\n2. [ ] second\n10) [x] tenth\n")
    assert [(a.marker, a.depth, a.text) for a in doc.actions] == [("1.", 0, "first"), ("-", 1, "under first"), ("2.", 0, "second"), ("10)", 0, "tenth")]


def test_wrapped_and_lazy_lines_join_the_item_text():
    doc = parse(b"- [ ] one\n  two\nthree\n- [ ] four\n\n  not part of four's text\n")
    assert [(a.text, a.line, a.end_line) for a in doc.actions] == [("one two three", 1, 3), ("four", 4, 4)]


def test_a_paragraph_line_starting_with_a_number_is_not_a_list():
    doc = parse(b"Goal: reach 1000 readers by the end of\n2027. Then rest.\n")
    assert doc.goals == (Goal(text="reach 1000 readers by the end of 2027. Then rest.", line=1, section=(), source="label"),)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("- [x] a (done 2026-11-20)", ("a", True, "2026-11-20")),
        ("- [x] a (Done: 2026-11-20)", ("a", True, "2026-11-20")),
        ("- [x] a (completed 2026-11-20)  ", ("a", True, "2026-11-20")),
        ("- [x] a ✓ 2026-11-20", ("a", True, "2026-11-20")),
        ("- [x] a ✔️2026-11-20", ("a", True, "2026-11-20")),
        ("- [x] a ✅ 2026-11-20", ("a", True, "2026-11-20")),
        ("- [ ] a (done 2026-11-20)", ("a", False, "2026-11-20")),
        ("- [x] a (done yesterday)", ("a (done yesterday)", True, None)),
        ("- [x] a ✓ done", ("a ✓ done", True, None)),
        ("- [x] a (done 2026-11-20) later", ("a (done 2026-11-20) later", True, None)),
    ],
)
def test_done_dates(line, expected):
    (a,) = parse(line.encode()).actions
    assert (a.text, a.done, a.done_date) == expected


@pytest.mark.parametrize(
    "title, is_goals",
    [("Goals", True), ("goals for 2027", True), ("🎯 Goal", True), ("Q4 goals:", True), ("Goals & non-goals", True), ("Non-goals", False), ("Goalkeeper", False)],
)
def test_which_headings_hold_goals(title, is_goals):
    doc = parse(f"## {title}\n\n- Learn to sail\n".encode())
    assert bool(doc.goals) is is_goals


@pytest.mark.parametrize(
    "title, is_publishing",
    [("Publishing order", True), ("Blog publishing queue", True), ("PUBLISHING PLAN for Q1", True), ("Publishing", False), ("Published", False)],
)
def test_which_headings_hold_the_publishing_order(title, is_publishing):
    doc = parse(f"## {title}\n\n- [draft] A post\n".encode())
    assert bool(doc.proposals) is is_publishing


@pytest.mark.parametrize(
    "item, expected",
    [
        ("1. [published 2026-11-01] Title — slug-1", ("Title", "published", "2026-11-01", "slug-1", "bracket")),
        ("- [draft] Title", ("Title", "draft", None, None, "bracket")),
        ("- [Scheduled: 2026-12-01] Title -- `the-slug`", ("Title", "scheduled", "2026-12-01", "the-slug", "bracket")),
        ("- Title (published 2026-11-01)", ("Title", "published", "2026-11-01", None, "paren")),
        ("- Title (published on 2026-11-01)", ("Title", "published", "2026-11-01", None, "paren")),
        ("- ~~Title~~ (dropped)", ("Title", "dropped", None, None, "paren")),
        ("- ~~Title~~", ("Title", "dropped", None, None, "plain")),
        ("- Title — Part two", ("Title — Part two", "proposed", None, None, "plain")),
        ("- Title (part 2)", ("Title (part 2)", "proposed", None, None, "plain")),
        ("* [ ] Title", ("Title", "proposed", None, None, "checkbox")),
        ("+ [X] Title", ("Title", "published", None, None, "checkbox")),
        ("- [Title](https://x.y) (draft)", ("[Title](https://x.y)", "draft", None, None, "paren")),
        ("- [draft] Title <!-- for Ana -->", ("Title", "draft", None, None, "bracket")),
    ],
)
def test_publishing_entry_forms(item, expected):
    doc = parse(f"## Publishing plan\n{item}\n".encode())
    assert doc.unparsed == ()
    (p,) = doc.proposals
    assert (p.title, p.status, p.date, p.slug, p.form) == expected


@pytest.mark.parametrize(
    "item, reason",
    [
        ("- [wip] Title", "unknown status 'wip'"),
        ("- []  Title", "unknown status ' '"),
        ("- [draft]", "no title"),
        ("- [published 2026-13-01] Title", "'2026-13-01' is not a real date: there is no month 13"),
        ("- [published 2026-02-30] Title", "'2026-02-30' is not a real date: February 2026 has 28 days"),
        ("- Title (published yesterday)", "'yesterday' is not a date"),
        ("- Title (published2026-01-01)", "cannot read 'published2026-01-01'"),
    ],
)
def test_unreadable_publishing_entries_are_kept_with_a_reason(item, reason):
    doc = parse(f"# Publishing queue\n\n{item}\n\nAfter.\n".encode())
    assert doc.proposals == ()
    (u,) = doc.unparsed
    assert (u.line, u.text, u.section) == (3, item, ("Publishing queue",))
    assert reason in u.reason


def test_publishing_positions_skip_unreadable_entries_and_nested_items_are_actions():
    doc = parse(b"## Publishing order\n1. [draft] A\n2. [bogus] B\n3. C\n   - [ ] outline C\n")
    assert [(p.position, p.title) for p in doc.proposals] == [(1, "A"), (2, "C")]
    assert [(a.text, a.depth) for a in doc.actions] == [("outline C", 1)]


def test_malformed_checkboxes_are_reported():
    doc = parse(b"- [] empty\n- [~] cancelled\n- [a] a link-like bracket\n")
    assert [(u.line, u.reason.split(":")[0]) for u in doc.unparsed] == [(1, "empty checkbox '[]'"), (2, "unknown checkbox mark '[~]'")]
    assert doc.actions == ()


def test_ids_survive_edits_elsewhere_and_checking():
    before = parse(b"# P\n- [ ] a\n- [ ] b\n")
    after = parse(b"# P\n\nIntro.\n\n- [ ] zero\n- [x] a (done 2026-01-01)\n    - [ ] b\n")
    ids = {a.text: a.id for a in after.actions}
    assert ids["a"] == before.actions[0].id and ids["b"] == before.actions[1].id
    moved = parse(b"# Q\n- [ ] a\n")
    assert moved.actions[0].id != before.actions[0].id


def test_lone_cr_endings_and_whitespace_only_lines():
    doc = parse(b"# T\r- [ ] a\r \t\r- [ ] b")
    assert [(a.line, a.text) for a in doc.actions] == [(2, "a"), (4, "b")] and doc.newline == "\n"


def test_model_round_trips_through_json():
    doc = parse(load("developer.md"))
    assert PlansDocument.model_validate_json(doc.model_dump_json()) == doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_parse_never_raises_on_any_text(text):
    doc = parse(text.encode("utf-8"))
    assert doc.line_count >= 0


MARKDOWNISH = st.lists(
    st.sampled_from(
        ["\n", "\r\n", "\r", " ", "\t", "    ", "- ", "* ", "1. ", "2) ", "[ ] ", "[x] ", "[-] ", "# ", "## ", "===", "---", "```", "~~~",
         "<!--", "-->", "> ", "Goal: ", "Goals", "Publishing order", "(done 2026-11-20)", "✓ 2026-02-30", "[draft ", "(published ", "]", ")",
         "~~", "—", "word", "Café ✓ 東京", "\ufeff", "\x00"]
    ),
    max_size=80,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWNISH, st.booleans())
def test_parse_never_raises_on_markdownish_text(text, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    doc = parse(data)
    lines = doc.line_count
    for thing in (*doc.actions, *doc.goals, *doc.proposals, *doc.sections, *doc.unparsed):
        assert 1 <= thing.line <= lines


def test_the_package_is_pure():
    """Stdlib and pydantic only: no Textual, no store, no asyncio."""
    code = (
        "import sys, json\n"
        "import oxymus.plans, oxymus.plans.patch\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    third_party = {m for m in json.loads(out) if not m.startswith("_")}
    assert third_party <= {"oxymus", "pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection"}
    out = subprocess.run([sys.executable, "-c", "import sys, oxymus.plans.patch; print(sorted(m for m in sys.modules if m.startswith(('asyncio', 'oxymus.store', 'sqlite3'))))"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
