"""Editing PLANS.md: every edit touches exactly the intended line(s), keeps the newline
style, the BOM and the final-newline state, reads back as the intended change, and
is refused when the bytes are not the ones the caller parsed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxymus.plans import PlansConflict, PlansError, parse
from oxymus.plans.patch import add_action, apply_to_file, diff, set_done, set_proposal_status

FIXTURES = Path(__file__).parent / "plans_fixtures"
NAMES = ["developer.md", "developer_crlf.md", "writer.md", "setext.md"]


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def changed_lines(old: bytes, new: bytes) -> set[int]:
    """1-based numbers of the lines that differ, for an edit that keeps the line count."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(a) == len(b), "the edit added or removed lines"
    return {i for i, (x, y) in enumerate(zip(a, b), 1) if x != y}


def insertion(old: bytes, new: bytes) -> bytes:
    """The bytes inserted, asserting that `new` is `old` with one run of bytes inserted."""
    p = 0
    while p < len(old) and old[p] == new[p]:
        p += 1
    inserted = new[p : len(new) - (len(old) - p)]
    assert new == old[:p] + inserted + old[p:], "not a pure insertion"
    assert inserted
    return inserted


def without(items, **fields):
    return [i.model_copy(update=fields) for i in items]


def assert_format_kept(old: bytes, new: bytes):
    assert new.startswith(b"\xef\xbb\xbf") == old.startswith(b"\xef\xbb\xbf")
    if old not in (b"", b"\xef\xbb\xbf"):  # an empty file gets a final newline
        assert new.endswith((b"\n", b"\r")) == old.endswith((b"\n", b"\r"))
    if b"\n" in old and old.count(b"\r\n") == old.count(b"\n"):
        assert new.count(b"\r\n") == new.count(b"\n"), "a CRLF file stays CRLF"
    if b"\r" not in old:
        assert b"\r" not in new


# -- set_done ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_set_done_changes_only_that_action(name):
    data = load(name)
    doc = parse(data)
    assert doc.actions
    for a in doc.actions:
        for done, date in ((not a.done, None), (True, "2026-12-01"), (False, None)):
            new = set_done(data, a.id, done, date, expected_sha256=doc.sha256)
            if new == data:
                assert a.done == done and (date is None or a.done_date == date) and (done or a.done_date is None)
                continue
            assert changed_lines(data, new) <= {a.line, a.end_line}
            assert_format_kept(data, new)
            after = parse(new)
            got = after.action(a.id)
            assert got.done is done
            assert got.done_date == (date if done and date else None if not done else a.done_date)
            assert got == a.model_copy(update={"done": got.done, "done_date": got.done_date})
            assert [x for x in after.actions if x.id != a.id] == [x for x in doc.actions if x.id != a.id]
            assert (after.sections, after.proposals) == (doc.sections, doc.proposals)
            assert without([g for g in after.goals], done=None) == without([g for g in doc.goals], done=None)
            assert [u for u in after.unparsed if u.line != a.line] == [u for u in doc.unparsed if u.line != a.line]


@pytest.mark.parametrize("name", NAMES)
def test_set_done_and_back_restores_the_bytes(name):
    data = load(name)
    doc = parse(data)
    for a in doc.actions:
        if a.done_date is not None:
            continue
        flipped = set_done(data, a.id, not a.done, expected_sha256=doc.sha256)
        back = set_done(flipped, a.id, a.done, expected_sha256=parse(flipped).sha256)
        if a.done and b"[X]" in data.splitlines()[a.line - 1]:
            assert changed_lines(data, back) == {a.line}  # checking always writes a lowercase x
            assert back.splitlines()[a.line - 1] == data.splitlines()[a.line - 1].replace(b"[X]", b"[x]", 1)
        else:
            assert back == data
        if not a.done:
            dated = set_done(data, a.id, True, "2026-12-01", expected_sha256=doc.sha256)
            assert set_done(dated, a.id, False, expected_sha256=parse(dated).sha256) == data


def test_set_done_exact_bytes():
    data = "- [ ] Write tests  \n  - [X] Café ✓ 2026-11-20\n- [x] Ship (done 2026-11-01)\n".encode()
    doc = parse(data)
    write, cafe, ship = doc.actions
    h = doc.sha256
    assert set_done(data, write.id, True, "2026-12-01", expected_sha256=h) == "- [x] Write tests (done 2026-12-01)  \n  - [X] Café ✓ 2026-11-20\n- [x] Ship (done 2026-11-01)\n".encode()
    assert set_done(data, write.id, True, expected_sha256=h) == data.replace(b"[ ] Write", b"[x] Write")
    assert set_done(data, cafe.id, True, "2026-11-21", expected_sha256=h) == data.replace("✓ 2026-11-20".encode(), "✓ 2026-11-21".encode())
    assert set_done(data, cafe.id, False, expected_sha256=h) == data.replace("[X] Café ✓ 2026-11-20".encode(), "[ ] Café".encode())
    assert set_done(data, ship.id, False, expected_sha256=h) == data.replace(b"[x] Ship (done 2026-11-01)", b"[ ] Ship")
    assert set_done(data, ship.id, True, expected_sha256=h) == data


def test_set_done_on_a_wrapped_action_dates_its_last_line():
    data = b"- [ ] Review the PR\r\n  about time zones\r\n"
    (a,) = parse(data).actions
    new = set_done(data, a.id, True, "2026-12-01", expected_sha256=parse(data).sha256)
    assert new == b"- [x] Review the PR\r\n  about time zones (done 2026-12-01)\r\n"


def test_set_done_refuses_unknown_ids_and_bad_arguments():
    data = b"- [ ] a\n"
    h = parse(data).sha256
    with pytest.raises(PlansError, match="no action with id 'nope'"):
        set_done(data, "nope", True, expected_sha256=h)
    a = parse(data).actions[0].id
    with pytest.raises(ValueError, match="2026-13-01 is not a real date: there is no month 13"):
        set_done(data, a, True, "2026-13-01", expected_sha256=h)
    with pytest.raises(ValueError, match="only goes with done=True"):
        set_done(data, a, False, "2026-12-01", expected_sha256=h)


# -- add_action ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("title", ["Next actions", "NEXT  actions", "Someday / maybe", None, "Goals"])
def test_add_action_only_inserts_and_reads_back(name, title):
    data = load(name)
    doc = parse(data)
    new = add_action(data, "Call the bank about 東京", title, expected_sha256=doc.sha256)
    inserted = insertion(data, new)
    assert_format_kept(data, new)
    after = parse(new)
    (added,) = [a for a in after.actions if a.text == "Call the bank about 東京"]
    assert not added.done and added.done_date is None
    if title is None:
        assert added.section == ()
    else:
        assert " ".join(added.section[-1].split()).casefold() == " ".join(title.split()).casefold()
    assert inserted.count(b"[ ] Call the bank") == 1
    # Everything that was there reads the same, only further down.
    stay = ("line", "end_line")
    assert without([a for a in after.actions if a.id != added.id], **dict.fromkeys(stay, 0)) == without(doc.actions, **dict.fromkeys(stay, 0))
    assert without(after.proposals, **dict.fromkeys(stay, 0)) == without(doc.proposals, **dict.fromkeys(stay, 0))
    assert without(after.unparsed, **dict.fromkeys(stay, 0)) == without(doc.unparsed, **dict.fromkeys(stay, 0))


def test_add_action_exact_bytes():
    dev = load("developer.md")
    h = parse(dev).sha256
    lines = dev.splitlines(keepends=True)
    # The last item of the first list under "Next actions" is line 30.
    assert add_action(dev, "Call the bank", expected_sha256=h) == b"".join(lines[:30] + [b"- [ ] Call the bank\n"] + lines[30:])
    # A missing section goes at the end, after one blank line, at the level of the top sections.
    assert add_action(dev, "Learn Go", "Someday", expected_sha256=h) == dev + b"\n## Someday\n\n- [ ] Learn Go\n"
    # None: the text before the first heading (here, after the front matter).
    assert add_action(dev, "Inbox zero", None, expected_sha256=h) == b"".join(lines[:5] + [b"\n", b"- [ ] Inbox zero\n"] + lines[5:])

    writer = load("writer.md")
    wl = writer.splitlines(keepends=True)
    new = add_action(writer, "Print the proofs", "This week", expected_sha256=parse(writer).sha256)
    assert new == b"".join(wl[:19] + [b"4) [ ] Print the proofs\n"] + wl[19:])

    setext = load("setext.md")
    sl = setext.splitlines(keepends=True)
    new = add_action(setext, "Water the plants", expected_sha256=parse(setext).sha256)
    assert new == b"".join(sl[:15] + [b"- [ ] Water the plants\r\n"] + sl[15:])
    new = add_action(setext, "Water the plants", "Someday", expected_sha256=parse(setext).sha256)
    assert new == setext + b"\r\n\r\n# Someday\r\n\r\n- [ ] Water the plants"


@pytest.mark.parametrize(
    "before, after",
    [
        (b"", b"## Next actions\n\n- [ ] x\n"),
        (b"\xef\xbb\xbf", b"\xef\xbb\xbf## Next actions\n\n- [ ] x\n"),
        (b"# Plans", b"# Plans\n\n## Next actions\n\n- [ ] x"),
        (b"## Next actions\n## Later\n", b"## Next actions\n\n- [ ] x\n\n## Later\n"),
        (b"## Next actions\n\nIntro.\n\n## Later\n", b"## Next actions\n\nIntro.\n\n- [ ] x\n\n## Later\n"),
        (b"## Next actions\n1. [ ] a\n1. [ ] b\n", b"## Next actions\n1. [ ] a\n1. [ ] b\n1. [ ] x\n"),
        (b"## Next actions\n8. [ ] a\n9. [ ] b\n", b"## Next actions\n8. [ ] a\n9. [ ] b\n10. [ ] x\n"),
        (b"## Next actions\n  *   [ ] a\n  *   [ ] b\n", b"## Next actions\n  *   [ ] a\n  *   [ ] b\n  *   [ ] x\n"),
        (b"## Next actions\n\t- [ ] code, not a list\n", b"## Next actions\n\t- [ ] code, not a list\n\n- [ ] x\n"),
        (b"## Next actions\n- a\n  - [ ] sub\n\n  more of a\n- b\n", b"## Next actions\n- a\n  - [ ] sub\n\n  more of a\n- b\n- [ ] x\n"),
        (b"## Next actions\n- [ ] a\n```\ncode\n```\n", b"## Next actions\n- [ ] a\n- [ ] x\n```\ncode\n```\n"),
        (b"# Publishing order\n- [draft] A\n", b"# Publishing order\n- [draft] A\n\n# Next actions\n\n- [ ] x\n"),
        (b"Title\n=====\nNext actions\n---\n- [ ] a", b"Title\n=====\nNext actions\n---\n- [ ] a\n- [ ] x"),
    ],
)
def test_add_action_cases(before, after):
    assert add_action(before, "x", expected_sha256=parse(before).sha256) == after


def test_add_action_refuses_what_would_not_read_back():
    data = b"## Publishing queue\n- [draft] A\n"
    with pytest.raises(PlansError, match="publishing order"):
        add_action(data, "x", "Publishing queue", expected_sha256=parse(data).sha256)
    data = b"## Next actions\n```\n- [ ] a\n"
    with pytest.raises(PlansError, match="would not read back"):
        add_action(data, "x", expected_sha256=parse(data).sha256)
    for bad in ("two\nlines", "cr\rhere", "  ", "sep\u2028arator"):
        with pytest.raises(ValueError):
            add_action(b"", bad, expected_sha256=parse(b"").sha256)


# -- set_proposal_status -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["developer.md", "developer_crlf.md", "writer.md"])
def test_set_proposal_status_changes_only_that_entry(name):
    data = load(name)
    doc = parse(data)
    assert doc.proposals
    for p in doc.proposals:
        for status, date in (("published", "2026-12-24"), ("draft", None), ("proposed", None), ("scheduled", "2027-01-02")):
            new = set_proposal_status(data, p.position, status, date, expected_sha256=doc.sha256)
            if (p.status, p.date) == (status, date):
                assert new == data
                continue
            assert changed_lines(data, new) <= {p.line, p.end_line} and changed_lines(data, new)
            assert_format_kept(data, new)
            after = parse(new)
            got = after.proposals[p.position - 1]
            assert got == p.model_copy(update={"status": status, "date": date, "form": got.form})
            assert got.form == p.form or (p.form, got.form) in (("checkbox", "bracket"), ("plain", "paren"))
            assert [x for x in after.proposals if x.position != p.position] == [x for x in doc.proposals if x.position != p.position]
            assert (after.actions, after.sections, after.goals, after.unparsed) == (doc.actions, doc.sections, doc.goals, doc.unparsed)


@pytest.mark.parametrize(
    "line, status, date, expected",
    [
        ("1. [published 2026-11-01] Why — why", "draft", None, "1. [draft] Why — why"),
        ("- [draft] Title", "published", "2026-11-02", "- [published 2026-11-02] Title"),
        ("- [Draft:2026-01-01] Title", "scheduled", "2026-01-03", "- [scheduled 2026-01-03] Title"),
        ("- Title (published 2026-11-01)", "published", "2026-11-05", "- Title (published 2026-11-05)"),
        ("- ~~Title~~ (dropped)", "proposed", None, "- ~~Title~~ (proposed)"),
        ("- Title  ", "scheduled", "2026-12-01", "- Title (scheduled 2026-12-01)  "),
        ("- Title (part 2)", "draft", None, "- Title (part 2) (draft)"),
        ("- [ ] Title", "published", None, "- [x] Title"),
        ("- [X] Title", "proposed", None, "- [ ] Title"),
        ("- [ ] Title", "published", "2026-11-01", "- [published 2026-11-01] Title"),
        ("- [x] Title", "draft", None, "- [draft] Title"),
    ],
)
def test_set_proposal_status_keeps_the_form(line, status, date, expected):
    data = f"## Publishing plan\r\n\r\n{line}\r\n- Other".encode()
    new = set_proposal_status(data, 1, status, date, expected_sha256=parse(data).sha256)
    assert new == f"## Publishing plan\r\n\r\n{expected}\r\n- Other".encode()


def test_proposals_are_chosen_by_position_title_or_slug():
    data = "## Publishing order\n- [draft] Café ✓ 東京 — tokyo\n- Twice\n- twice\n".encode()
    h = parse(data).sha256
    by_title = set_proposal_status(data, "café ✓ 東京", "published", expected_sha256=h)
    assert by_title == set_proposal_status(data, "tokyo", "published", expected_sha256=h) == set_proposal_status(data, 1, "published", expected_sha256=h)
    with pytest.raises(PlansError, match="2 proposals are titled 'Twice'"):
        set_proposal_status(data, "Twice", "draft", expected_sha256=h)
    with pytest.raises(PlansError, match="no proposal titled 'Nope'"):
        set_proposal_status(data, "Nope", "draft", expected_sha256=h)
    with pytest.raises(PlansError, match="no proposal at position 4: the publishing order has 3"):
        set_proposal_status(data, 4, "draft", expected_sha256=h)
    with pytest.raises(ValueError, match="unknown status 'done'"):
        set_proposal_status(data, 1, "done", expected_sha256=h)
    with pytest.raises(TypeError):
        set_proposal_status(data, True, "draft", expected_sha256=h)


# -- conflicts, files, diffs -------------------------------------------------------------


def test_every_patch_refuses_bytes_it_was_not_given_the_hash_of():
    data = load("developer.md")
    doc = parse(data)
    stale = parse(data.replace(b"Release 0.2", b"Release 0.3")).sha256
    for call in (
        lambda: set_done(data, doc.actions[1].id, True, expected_sha256=stale),
        lambda: add_action(data, "x", expected_sha256=stale),
        lambda: set_proposal_status(data, 1, "draft", expected_sha256=stale),
    ):
        with pytest.raises(PlansConflict) as err:
            call()
        assert err.value.expected_sha256 == stale and err.value.actual_sha256 == doc.sha256
        assert "changed since it was read" in str(err.value)


def test_apply_to_file_writes_atomically_and_keeps_the_mode(tmp_path):
    path = tmp_path / "PLANS.md"
    data = load("developer_crlf.md")
    path.write_bytes(data)
    path.chmod(0o640)
    doc = parse(data, str(path))
    old, new = apply_to_file(path, set_done, doc.sha256, action_id=doc.actions[1].id, done=True, date="2026-12-01")
    written = path.read_bytes()
    assert (old, new) == (doc.sha256, parse(written).sha256)
    assert changed_lines(data, written) == {21}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["PLANS.md"], "no temporary file is left behind"
    # The same hash again is now stale: the file changed since it was read.
    with pytest.raises(PlansConflict):
        apply_to_file(path, add_action, doc.sha256, text="x")
    assert path.read_bytes() == written


def test_apply_to_file_writes_through_a_symlink_and_skips_no_op_writes(tmp_path):
    real = tmp_path / "dotfiles" / "PLANS.md"
    real.parent.mkdir()
    real.write_bytes(b"# P\n- [x] done\n")
    link = tmp_path / "PLANS.md"
    link.symlink_to(real)
    doc = parse(link.read_bytes())
    inode = real.stat().st_ino
    assert apply_to_file(link, set_done, doc.sha256, action_id=doc.actions[0].id, done=True) == (doc.sha256, doc.sha256)
    assert real.stat().st_ino == inode, "an edit that changes nothing does not write"
    apply_to_file(link, add_action, doc.sha256, text="next", section_title="P")
    assert link.is_symlink() and real.read_bytes() == b"# P\n- [x] done\n- [ ] next\n"


def test_apply_to_file_names_a_missing_file(tmp_path):
    with pytest.raises(PlansError, match="PLANS.md: cannot read"):
        apply_to_file(tmp_path / "PLANS.md", add_action, "0" * 64, text="x")


def test_diff_previews_the_change():
    old = b"# P\n- [ ] a\n- [ ] b"
    new = add_action(old, "c", "P", expected_sha256=parse(old).sha256)
    assert diff(old, new, "PLANS.md") == (
        "--- a/PLANS.md\n+++ b/PLANS.md\n@@ -1,3 +1,4 @@\n # P\n - [ ] a\n-- [ ] b\n\\ No newline at end of file\n+- [ ] b\n+- [ ] c\n\\ No newline at end of file\n"
    )
    assert diff(old, old) == ""


# -- properties over generated documents -----------------------------------------------

WORDS = st.sampled_from(["alpha", "beta", "Café", "東京", "fix", "the", "bug", "Zoë", "v2", "(note)", "✓", "`code`", "[link](x)"])
TEXT = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)
TITLES = st.one_of(st.sampled_from(["Next actions", "Goals", "Publishing order", "Notes", "Someday", "Café ✓ 東京"]), TEXT)


@st.composite
def checklist(draw, depth=0, unit="  "):
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        bullet = draw(st.sampled_from(["-", "*", "+", "1.", "2)"]))
        mark = draw(st.sampled_from([" ", "x", "X", None]))
        text = draw(TEXT)
        suffix = draw(st.sampled_from(["", "", " (done 2026-11-20)", " ✓ 2026-11-21", "  "]))
        box = f"[{mark}] " if mark is not None else ""
        lines.append(f"{unit * depth}{bullet} {box}{text}{suffix}")
        if draw(st.booleans()):
            lines.append(f"{unit * depth}  {draw(TEXT)}")
        if depth < 2 and draw(st.booleans()):
            lines += draw(checklist(depth + 1, unit))
    return lines


@st.composite
def block(draw):
    kind = draw(st.sampled_from(["atx", "setext", "para", "goal", "list", "list", "list", "fence", "comment", "blank", "indented"]))
    if kind == "atx":
        return ["#" * draw(st.integers(1, 4)) + " " + draw(TITLES)]
    if kind == "setext":
        return ["", draw(TITLES), draw(st.sampled_from(["===", "---"]))]
    if kind in ("para", "goal"):
        return [("Goal: " if kind == "goal" else "") + draw(TEXT), *([draw(TEXT)] if draw(st.booleans()) else [])]
    if kind == "list":
        return draw(checklist(0, draw(st.sampled_from(["  ", "    ", "\t"]))))
    if kind == "fence":
        fence = draw(st.sampled_from(["```", "~~~", "````"]))
        return [fence + draw(st.sampled_from(["", "md", " python title=x"])), "- [ ] " + draw(TEXT), "# " + draw(TEXT), fence]
    if kind == "comment":
        return ["<!--", "- [x] " + draw(TEXT), "-->"]
    if kind == "indented":
        return ["", "Code:", "", "    - [ ] " + draw(TEXT), ""]
    return [""]


@st.composite
def documents(draw) -> bytes:
    lines = []
    if draw(st.booleans()):
        lines += ["---", "title: x", "---"]
    for b in draw(st.lists(block(), min_size=1, max_size=8)):
        lines += b
    style = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    ends = [draw(st.sampled_from(["\n", "\r\n"])) if style == "mixed" else style for _ in lines]
    body = "".join(line + end for line, end in zip(lines, ends))
    if not draw(st.booleans()):
        body = body[: -len(ends[-1])]
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + body.encode()


PROPERTY = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(documents())
def test_set_done_there_and_back_restores_every_byte(data):
    doc = parse(data)
    for a in doc.actions:
        if a.done_date is not None:
            continue
        there = set_done(data, a.id, not a.done, expected_sha256=doc.sha256)
        back = set_done(there, a.id, a.done, expected_sha256=parse(there).sha256)
        line = data.splitlines()[a.line - 1]
        assert back == data or (a.done and b"[X]" in line and changed_lines(data, back) == {a.line})
        if not a.done:
            dated = set_done(data, a.id, True, "2026-01-31", expected_sha256=doc.sha256)
            assert parse(dated).action(a.id).done_date == "2026-01-31"
            assert set_done(dated, a.id, False, expected_sha256=parse(dated).sha256) == data


@PROPERTY
@given(documents(), st.sampled_from(["Next actions", "Someday", None]))
def test_add_action_only_inserts(data, title):
    doc = parse(data)
    try:
        new = add_action(data, "zzz new action", title, expected_sha256=doc.sha256)
    except PlansError as exc:
        assert "publishing order" in str(exc)
        return
    insertion(data, new)
    assert_format_kept(data, new)
    after = parse(new)
    assert {a.id for a in after.actions} - {a.id for a in doc.actions} == {next(a.id for a in after.actions if a.text == "zzz new action")}
    assert {a.id for a in doc.actions} <= {a.id for a in after.actions}
