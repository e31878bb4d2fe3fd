"""The editor's checks on real draft files: each check, what is prose and what is not, stubs, fixes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from oxymus.agents.editor_checks import Rules, apply_fixes, check, stub_reason, template_shaped
from oxymus.agents.publisher_draft import Facts, Note, front_matter, template_body

TODAY = dt.date(2026, 12, 7)
PARAGRAPH = ("We moved the blog to a static site last spring. The build takes a few seconds and the pages load fast. "
             "Each post is a plain file in a folder, and the history lives in git. Nothing runs on the server but a web "
             "server that hands out files. ")


def clean_text(title: str = "Static sites") -> str:
    body = "\n\n".join(PARAGRAPH for _ in range(2))
    return (f'---\ntitle: "{title}"\ndate: 2026-12-01\nslug: "static-sites"\n---\n\n{body}\n\n## Why files\n\n{body}\n\n'
            f"## How it builds\n\n{body} See [why](#why-files) and ![the chart](chart.png).\n")


def write(tmp_path: Path, text: str | bytes, name: str = "2026-12-01-static-sites.md") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    (tmp_path / "chart.png").write_bytes(b"\x89PNG")
    return path


def run(path: Path, **rules):
    return check(path.read_bytes(), path, Rules(**{"min_words": 50, **rules}), TODAY)


def checks(report) -> list[tuple[str, int | None]]:
    return [(f.check, f.line) for f in report.findings]


def test_a_clean_draft_passes_every_check_with_a_readability_score(tmp_path):
    report = run(write(tmp_path, clean_text()))
    assert report.findings == [], [f.describe() for f in report.findings]
    assert report.words > 200 and report.readability is not None and report.readability > 50
    assert stub_reason(report) is None and "all 6 checks passed" in report.summary()


def test_yaml_front_matter_missing_keys_are_derived_and_inserted(tmp_path):
    path = write(tmp_path, clean_text().replace('date: 2026-12-01\nslug: "static-sites"\n', ""))
    report = run(path)
    assert checks(report) == [("front_matter", 3), ("front_matter", 3)]
    fixed = apply_fixes(report.text, [f.fix for f in report.fixable()])
    assert fixed.startswith('---\ntitle: "Static sites"\n')
    assert "date: 2026-12-01\n" in fixed and 'slug: "static-sites"\n' in fixed  # the date from the file name
    again = check(fixed.encode(), path, Rules(min_words=50), TODAY)
    assert again.findings == []


def test_toml_front_matter_is_read_and_a_malformed_one_names_its_line(tmp_path):
    toml = clean_text().replace('---\ntitle: "Static sites"\ndate: 2026-12-01\nslug: "static-sites"\n---',
                                '+++\ntitle = "Static sites"\ndate = 2026-12-01\n+++')
    report = run(write(tmp_path, toml))
    assert checks(report) == [("front_matter", 4)] and report.fixable()[0].fix.new == 'slug = "static-sites"\n'
    broken = run(write(tmp_path, toml.replace('date = 2026-12-01', 'date = = 2026'), "b.md"))
    assert [(f.check, f.line) for f in broken.findings if f.check == "front_matter"][0] == ("front_matter", 3)
    assert "malformed TOML front matter" in broken.findings[0].message
    yaml_broken = run(write(tmp_path, clean_text().replace('slug: "static-sites"', 'slug: [unclosed'), "c.md"))
    assert yaml_broken.findings[0].check == "front_matter" and "malformed YAML" in yaml_broken.findings[0].message
    assert yaml_broken.findings[0].line in (4, 5)
    none = run(write(tmp_path, clean_text().split("---\n", 2)[2], "d.md"))
    assert checks(none)[0] == ("front_matter", 1) and "no front matter" in none.findings[0].message


def test_length_bounds(tmp_path):
    path = write(tmp_path, clean_text())
    assert [f.message for f in run(path, min_words=1000).findings if f.check == "length"][0].endswith("under min_words 1000")
    assert [f.check for f in run(path, max_words=60).findings] == ["length"]


def test_headings_skipped_levels_duplicates_and_a_second_h1(tmp_path):
    text = clean_text().replace("## How it builds", "#### How it builds\n\n##### Deeper\n\nMore words here.\n\n## Why files")
    text = text.replace("---\n\nWe moved", "---\n\n# Static sites\n\nWe moved", 1)
    report = run(write(tmp_path, text))
    found = {(f.check, f.line): f for f in report.findings}
    h1 = found[("headings", 7)]
    assert "second H1" in h1.message and h1.fix is not None
    skips = [f for f in report.findings if "skips" in f.message]
    assert [f.message.split(" skips")[0] for f in skips] == ["“How it builds”", "“Deeper”"]
    assert any("repeats the heading of line" in f.message and f.fix is None for f in report.findings)
    fixed = apply_fixes(report.text, [f.fix for f in report.fixable()])
    assert "# Static sites" not in fixed.split("---", 2)[2]
    assert "\n### How it builds\n" in fixed and "\n#### Deeper\n" in fixed


def test_a_long_post_needs_a_section_heading(tmp_path):
    text = '---\ntitle: "Long"\ndate: 2026-12-01\nslug: "long"\n---\n\n' + "\n\n".join(PARAGRAPH for _ in range(10))
    report = run(write(tmp_path, text))
    assert [f.check for f in report.findings] == ["headings"] and "no section heading" in report.findings[0].message


def test_links_images_and_anchors_resolve_or_are_named(tmp_path):
    (tmp_path / "site" / "images").mkdir(parents=True)
    (tmp_path / "site" / "images" / "a.png").write_bytes(b"x")
    extra = ("\n[ok](#how-it-builds) [bad anchor](#nowhere) [web](https://example.org/x) [mail](mailto:a@b.c) "
             "![missing](img/gone.png) ![site](/images/a.png) [site gone](/images/b.png)\n\n[ref]: ./other.md\n")
    path = write(tmp_path, clean_text() + extra)
    report = run(path, links_root=str(tmp_path / "site"))
    messages = [f.message for f in report.findings]
    assert len(messages) == 4, messages
    assert "the anchor #nowhere matches no heading" in messages
    assert any("img/gone.png" in m for m in messages) and any("/images/b.png" in m for m in messages)
    assert any("./other.md" in m for m in messages)
    unrooted = run(path)
    assert unrooted.unchecked_links == ["/images/a.png", "/images/b.png"]


def test_style_terms_are_whole_words_case_aware_and_never_in_code_urls_or_front_matter(tmp_path):
    text = clean_text("We utilize things") + (
        "\nWe utilize tools. Utilize them; LEVERAGE it. Underutilized stays. `utilize` in code, "
        "[utilize](https://example.org/utilize) and <https://utilize.example>.\n\n```\nutilize here\n```\n")
    report = run(write(tmp_path, text), style={"utilize": "use", "leverage": "rely on"})
    style = [f for f in report.findings if f.check == "style"]
    assert [f.message.split(":")[0] for f in style] == ["“utilize”", "“Utilize”", "“LEVERAGE”", "“utilize”"]
    fixed = apply_fixes(report.text, [f.fix for f in style])
    assert "We use tools. Use them; RELY ON it. Underutilized stays. `utilize` in code, [use](https://example.org/utilize)" in fixed
    assert "utilize here" in fixed and 'title: "We utilize things"' in fixed and "<https://utilize.example>" in fixed


def test_readability_is_textstats_flesch_score(tmp_path):
    import textstat

    hard = ("Notwithstanding considerable organizational heterogeneity, institutional stakeholders systematically "
            "underestimate infrastructural interdependencies, consequently necessitating comprehensive reconsideration. ")
    text = '---\ntitle: "Hard"\ndate: 2026-12-01\nslug: "hard"\n---\n\n' + "\n\n".join(hard * 3 for _ in range(4))
    report = run(write(tmp_path, text), min_words=10, min_readability=50)
    assert [f.check for f in report.findings] == ["readability"]
    assert report.readability is not None and report.readability < 20
    assert abs(report.readability - textstat.flesch_reading_ease("\n".join(hard * 3 for _ in range(4)).strip())) < 15


def test_code_blocks_are_not_prose(tmp_path):
    code = "```python\n" + "\n".join(f"# TODO heading {i}\nprint('lorem ipsum')" for i in range(200)) + "\n```\n"
    indented = "\n" + "".join(f"    utilize({i})  # TODO\n" for i in range(50)) + "\n~~~~\nutilize\n~~~~\n"
    report = run(write(tmp_path, clean_text() + "\n" + code + indented), style={"utilize": "use"})
    assert report.findings == [] and report.words < 400
    # Indented under a list item it is the item's text: prose.
    listed = clean_text() + "\n- a point\n\n    We utilize more.\n"
    assert [f.check for f in run(write(tmp_path, listed, "l.md"), style={"utilize": "use"}).findings] == ["style"]


def test_a_draft_that_is_not_utf8_is_one_clear_finding(tmp_path):
    data = clean_text().encode("utf-8").replace(b"last spring", b"l\xe9st spring", 1)
    report = run(write(tmp_path, data))
    assert [(f.check, f.line) for f in report.findings] == [("encoding", 7)]
    assert "not UTF-8" in report.findings[0].message and "0xe9" in report.findings[0].message
    assert report.text is None and stub_reason(report) is None


def test_stubs_two_sentences_placeholders_and_the_publishers_template(tmp_path):
    two = '---\ntitle: "Short"\ndate: 2026-12-01\nslug: "short"\n---\n\nThis is a post. It is short.\n'
    assert "a stub" in stub_reason(run(write(tmp_path, two, "a.md"), min_words=0))
    todo = clean_text() + "\nTK: the numbers from March.\n"
    assert "placeholder" in stub_reason(run(write(tmp_path, todo, "b.md")))
    lorem = clean_text() + "\nLorem ipsum dolor sit amet.\n"
    assert "placeholder" in stub_reason(run(write(tmp_path, lorem, "c.md")))

    # The publisher's own no-LLM draft, made by its code from rich notes, is refused.
    facts = Facts(title="Local-first notes", slug="local-first-notes", date=TODAY,
                  notes=[Note("Why: files outlive apps, and a folder of text is easy to back up and to search"),
                         Note("What changed", ["sync moved to git", "the app became optional", "search is local now"]),
                         Note("Costs", ["a little setup on each machine", "conflicts are rare but need a person"]),
                         Note("the tools are boring on purpose"), Note("plain text needs no migration")],
                  memory=[("Sync notes", "Git sync runs every hour. It has not lost a note in two years of daily use.")],
                  goals=["Write about the tools behind the work"], tags=[])
    post = front_matter("yaml", facts, None) + "\n" + template_body(facts)
    report = run(write(tmp_path, post, "d.md"), min_words=0)
    assert template_shaped(report.text, report.title)
    assert stub_reason(report) is not None


def test_settings_refuse_a_relative_links_root_and_bounds_the_wrong_way_round():
    import pytest
    from pydantic import ValidationError

    from oxymus.agents.editor import EditorSettings

    with pytest.raises(ValidationError, match="relative"):
        EditorSettings.model_validate({"links_root": "static"})
    with pytest.raises(ValidationError, match="max_words 100 is under min_words 300"):
        EditorSettings.model_validate({"max_words": 100})
    s = EditorSettings.model_validate({"style": {"utilize": "use"}, "min_readability": None})
    assert s.rules().style == {"utilize": "use"} and s.rules().min_readability is None
