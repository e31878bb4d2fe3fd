"""The editor: checks each post at `draft` by code and hands it on as `edited`, or says what to fix.

It runs when a post record reaches `draft` (the agent graph starts it with that record),
every 30 minutes, and by `oxymus agents run editor`. The draft is the Markdown file at
the record's `path` field (absolute or ~/...); a post at draft with no path, or whose
file is missing, gets a note naming it, and nothing is proposed.

The checks are code (`oxymus.agents.editor_checks`): complete front matter (YAML `---` or
TOML `+++`), length between `min_words` and `max_words`, headings (a section heading in a
long post, no skipped level, no duplicate, no second H1 under a front-matter title), local
links and images that resolve (anchors against the headings), the `style` list's terms,
and the Flesch reading ease (textstat) against `min_readability`. Code blocks, inline code,
URLs and the front matter are never prose. With an LLM, its suggestions are listed in the
report, never applied.

A stub is refused: fewer than 80 words or 4 sentences of prose (whatever `min_words`
says), placeholder text (TODO, TBD, TK, lorem ipsum), or the publisher's outline made
without an LLM (`publisher_draft.template_body`). The run ends `stopped` saying why;
scheduled runs do not say it again for the same bytes (a run by hand does).

Outcome, per draft:
- clean: `record.update` to `edited`, with the checks' summary as its note;
- findings code can fix safely (style terms, a derivable slug or date, heading levels):
  a `file.patch` (the diff in its preview), as one flow with the `record.update` to
  `edited` after it when the patch fixes everything, else alone with what is left for
  the person in its reason;
- only findings it cannot fix: nothing proposed, the post stays at draft, and the
  `edit_report` artifact and the run's summary say what to do.

Every run writes an `edit_report` per draft version (key `<record id>:<sha256 prefix>`).
Idempotency: one proposal per (record, draft sha256), key `editor:<record id>:<sha256
prefix>:...`; a denied one is not proposed again for the same bytes (an edited file has
another hash); an expired one is proposed again. While a proposal for an earlier version
of the file waits, a changed file is not proposed for (the note says which action waits).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from oxymus.actions.file_patch import unified_diff
from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, Finished, RecordPort, Trigger
from oxymus.agents.editor_checks import Report, Rules, apply_fixes, check, stub_reason

MAX_DRAFT_BYTES = 1_000_000
AGAIN = ("expired", "cancelled")  # proposed again for the same bytes; any other status is an answer
WAITING = ("proposed", "awaiting_approval", "snoozed", "approved", "executing")  # one open proposal per post


class EditorSettings(AgentSettings):
    """`[agents.editor]`"""

    min_words: int = Field(default=300, ge=0, description="a draft shorter than this (words of prose, no code) is a finding")
    max_words: int = Field(default=3000, ge=1, description="a draft longer than this is a finding")
    front_matter: list[str] = Field(default_factory=lambda: ["title", "date", "slug"],
                                    description="keys the front matter must have; a missing slug or date is added by a patch")
    style: dict[str, str] = Field(default_factory=dict,
                                  description="term → preferred replacement, whole words, matched case-aware (never in code, URLs or front matter)",
                                  examples=[{"utilize": "use", "leverage": "use"}])
    min_readability: float | None = Field(default=50.0, ge=-100, le=121,
                                          description="the lowest Flesch reading ease allowed (60-70: plain English); none: not checked")
    links_root: str | None = Field(default=None,
                                   description="the folder site-absolute links (/images/x.png) resolve in, e.g. the site's static/ (absolute or ~/...); none: they are not checked",
                                   examples=["~/code/blog/static"])

    @field_validator("links_root")
    @classmethod
    def _root(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("~") or os.path.isabs(value)):
            raise ValueError(f"{value!r} is relative; give an absolute path or ~/...")
        return value

    @field_validator("max_words")
    @classmethod
    def _bounds(cls, value: int, info) -> int:
        low = info.data.get("min_words")
        if low is not None and value < low:
            raise ValueError(f"max_words {value} is under min_words {low}")
        return value

    def rules(self) -> Rules:
        return Rules(min_words=self.min_words, max_words=self.max_words, front_matter=self.front_matter, style=self.style,
                     min_readability=self.min_readability, links_root=self.links_root)


class Suggestion(BaseModel):
    line: int | None = Field(default=None, description="the line it is about, if one")
    text: str = Field(max_length=400, description="one concrete suggestion")


class Suggestions(BaseModel):
    """What the LLM is asked for."""

    suggestions: list[Suggestion] = Field(default_factory=list, max_length=10)


def report_text(title: str, path: str, report: Report, suggestions: list[Suggestion], outcome: str) -> str:
    lines = [f"# Edit report: {title}", "", f"File: {path}", f"Outcome: {outcome}", ""]
    score = f"{report.readability:.1f}" if report.readability is not None else "not scored"
    lines += [f"Words: {report.words}; sentences: {report.sentences}; Flesch reading ease: {score}", "", "## Checks", ""]
    from oxymus.agents.editor_checks import CHECKS

    for name in CHECKS:
        found = report.failed(name)
        lines.append(f"- {name}: " + ("passed" if not found else f"failed ({len(found)})"))
        lines += [f"  - {f.describe()}" + (" [fixed by the patch]" if f.fix else "") for f in found]
    other = [f for f in report.findings if f.check not in CHECKS]
    lines += [f"- {f.check}: {f.describe()}" for f in other]
    if report.unchecked_links:
        lines.append(f"- not checked (no links_root): {', '.join(report.unchecked_links[:10])}")
    if suggestions:
        lines += ["", "## Suggestions from the LLM (not applied)", ""]
        lines += ["- " + (f"line {s.line}: " if s.line else "") + s.text for s in suggestions]
    return "\n".join(lines) + "\n"


class Editor(Agent):
    name = "editor"
    role = (
        "The editor checks each post draft before it goes on: complete front matter, its length, its headings, "
        "links that resolve, the person's style list and how readable it is. It fixes by patch only what code "
        "can fix safely, asks the person before changing the file, and hands a clean draft on as edited. As a "
        "reviewer it suggests concrete improvements to clarity and structure, and never rewrites the post."
    )
    reads = ("records:post", "actions")
    proposes = ("file.patch", "record.update")
    consumes = (RecordPort(kind="post", status="draft"),)
    produces = (RecordPort(kind="post", status="edited"),)
    validates = ("front matter, length, headings, links, style terms and readability, by code",)
    trigger = Trigger(every="30m")
    Settings = EditorSettings
    confidence_rule = (
        "Certain (1.0): every finding and every fix is made by code from the draft's bytes and the settings; "
        "the LLM's suggestions are only listed in the report."
    )

    async def run(self, ctx: Any) -> "str | Finished":
        s: EditorSettings = ctx.settings  # type: ignore[assignment]
        posts = await ctx.records("post", "draft")
        wanted = ((ctx.event or {}).get("record") or {}).get("id")
        if wanted:
            posts = [p for p in posts if p.id == wanted]
        mine: dict[str, Any] = {a.idempotency_key: a for a in await ctx.actions(limit=5000)
                                if a.proposer.name == self.name and a.flow_id is None}
        done: list[str] = []
        stubs: list[str] = []
        for post in posts:
            outcome = await self._one(ctx, s, post, mine)
            if outcome is None:
                continue
            kind, text = outcome
            (stubs if kind == "stub" else done).append(text)
        if stubs:
            return Finished.stopped("; ".join(stubs + done))
        if not posts:
            return "no post at draft" + (f" with id {wanted}" if wanted else "")
        return "; ".join(done) if done else f"{len(posts)} draft(s), nothing new to check"

    async def _one(self, ctx, s: EditorSettings, post, mine: dict[str, Any]) -> tuple[str, str] | None:
        raw = post.fields.get("path")
        name = f"post '{post.title}' ({post.id})"
        if not raw:
            ctx.note(f"{name} is at draft but has no path field: nothing to edit")
            return None
        path = Path(os.path.expanduser(str(raw)))
        if not path.is_absolute():
            ctx.note(f"{name}: its path {raw!r} is relative; give an absolute path or ~/...")
            return None
        try:
            data = await asyncio.to_thread(_read, path)
        except OSError as exc:
            ctx.note(f"{name}: its draft {raw} cannot be read ({exc.strerror or exc}); nothing proposed")
            return None
        except ValueError as exc:
            ctx.note(f"{name}: {exc}; nothing proposed")
            return None
        sha = hashlib.sha256(data).hexdigest()
        prefix = f"editor:{post.id}:{sha[:16]}:"
        earlier = [a for k, a in mine.items() if k.startswith(prefix)]
        answered = [a for a in earlier if a.status not in AGAIN]
        if answered:
            a = answered[0]
            ctx.note(f"{name}: this draft was already proposed (action {a.id}, {a.status.replace('_', ' ')}); "
                     "it is checked again when the file changes")
            return None
        attempt = f":{len(earlier) + 1}" if earlier else ""
        waiting = [a for k, a in mine.items() if k.startswith(f"editor:{post.id}:") and a.status in WAITING]
        if waiting:
            ctx.note(f"{name}: the file changed, but action {waiting[0].id} for an earlier version still waits; "
                     "deny it to have this version checked")
            return None

        refused = await ctx.recall("refused") or {}
        if refused.get(post.id) == sha and not str(ctx.trigger).startswith("by hand"):
            # Said once (a stopped run is a problem the person hears about); the schedule does not repeat it.
            ctx.note(f"{name}: this draft was refused before ({refused.get(post.id + ':why', 'a stub')}); edit the file")
            return None

        report = await asyncio.to_thread(check, data, path, s.rules(), ctx.today())
        inputs = [InputRef(kind="record", ref=post.id, note=f"post, draft, version {post.version}"),
                  InputRef(kind="file", ref=str(raw), note=f"sha256 {sha[:16]}")]
        stub = stub_reason(report)
        suggestions = [] if stub or report.text is None else await self._suggest(ctx, post.title, report)
        if stub:
            await self._report(ctx, post, raw, sha, report, suggestions, f"refused: {stub}")
            await ctx.remember("refused", {**{k: v for k, v in refused.items() if not k.startswith(post.id)},
                                           post.id: sha, f"{post.id}:why": stub})
            return "stub", f"{name} refused: {stub}; nothing proposed"

        fixes = [f.fix for f in report.fixable() if f.fix is not None]
        left = report.unfixable()
        if not report.findings:
            outcome = "clean: proposed to move to edited"
        elif fixes and not left:
            outcome = f"a patch fixes all {len(report.findings)} finding(s); then edited"
        elif fixes:
            outcome = f"a patch fixes {len(fixes)} finding(s); {len(left)} left for you"
        else:
            outcome = f"{len(left)} finding(s) for you; it stays at draft"
        await self._report(ctx, post, raw, sha, report, suggestions, outcome)

        note = f"editor: {report.summary()}"[:200]
        to_edited = ("record.update", {"id": post.id, "status": "edited", "note": note})
        if not report.findings:
            action = await ctx.propose(*to_edited, reason=f"'{post.title}' passes every check: {report.summary()}",
                                       inputs=inputs, confidence=1.0, key=f"{prefix}edited{attempt}")
            return "done", f"{name}: clean, edited proposed" + ("" if action else " (could not be proposed)")
        if not fixes:
            for f in left[:5]:
                ctx.note(f"{name}: {f.describe()}")
            return "done", f"{name}: {len(left)} finding(s) to fix by hand ({_list(left)}); it stays at draft"
        assert report.text is not None
        new_text = apply_fixes(report.text, fixes)
        diff = unified_diff(data, new_text.encode("utf-8"), path.name)
        patch = ("file.patch", {"path": str(raw), "expected_sha256": sha, "content": new_text, "diff": diff})
        what = f"{len(fixes)} fix(es): {_list(report.fixable())}"
        if not left:
            flow = await ctx.propose_flow(f"Edit '{post.title}'", [patch, to_edited],
                                          reason=f"'{post.title}': {what}; with them it passes every check, so it moves to edited",
                                          inputs=inputs, confidence=1.0, key=f"{prefix}flow{attempt}")
            return "done", f"{name}: patch and edited proposed as one flow" + ("" if flow else " (could not be proposed)")
        action = await ctx.propose(*patch, reason=(f"'{post.title}': {what}. Left for you, it stays at draft: "
                                                   + "; ".join(f.describe() for f in left[:8]))[:2000],
                                   inputs=inputs, confidence=1.0, key=f"{prefix}patch{attempt}")
        return "done", (f"{name}: patch proposed ({len(fixes)} fix(es)); {len(left)} finding(s) left for you"
                        + ("" if action else " (could not be proposed)"))

    async def _report(self, ctx, post, raw: str, sha: str, report: Report, suggestions: list[Suggestion], outcome: str) -> None:
        await ctx.artifact(
            "edit_report", f"{post.id}:{sha[:16]}", f"Edit report: {post.title}",
            report_text(post.title, str(raw), report, suggestions, outcome),
            data={"record": post.id, "path": str(raw), "sha256": sha, "outcome": outcome, "words": report.words,
                  "sentences": report.sentences, "readability": report.readability,
                  "findings": [f.model_dump(mode="json") for f in report.findings],
                  "suggestions": [s.model_dump(mode="json") for s in suggestions]},
        )

    async def _suggest(self, ctx, title: str, report: Report) -> list[Suggestion]:
        if ctx.llm is None:
            return []
        from oxymus.agents.llm import Section

        numbered = "\n".join(f"{n}: {line}" for n, line in enumerate((report.text or "").splitlines(), 1))
        found = "\n".join(f"- {f.describe()}" for f in report.findings) or "(none)"
        sections = [Section(name="the draft, numbered lines", text=numbered, priority=10, min_chars=400),
                    Section(name="what the checks already found", text=found, priority=5)]
        task = (f"Suggest up to 5 concrete improvements to the draft “{title}” beyond what the checks found: clarity, "
                "structure, a missing step or example. Give the line each is about. Do not rewrite the post.")
        answer = await ctx.llm.chat_json(self.role, sections, task, model_cls=Suggestions, stream_to=ctx.progress)
        if answer is None:
            ctx.note("the LLM gave no usable suggestions")
            return []
        lines = len((report.text or "").splitlines())
        return [sg for sg in answer.suggestions if sg.text.strip() and (sg.line is None or 1 <= sg.line <= lines)][:5]


def _read(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(MAX_DRAFT_BYTES + 1)
    if len(data) > MAX_DRAFT_BYTES:
        raise ValueError(f"its draft {path} is over {MAX_DRAFT_BYTES} bytes, too big to be a post")
    return data


def _list(findings: list) -> str:
    shown = "; ".join(f.describe() for f in findings[:3])
    return shown + (f"; and {len(findings) - 3} more" if len(findings) > 3 else "")
