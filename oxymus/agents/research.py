"""Research: a brief for a lead, project or post, every fact citing its source.

Started by the agent graph when a post reaches `idea`, a lead `qualified` or a project
`active` (the record's id in its event), and on its trigger (hourly) or `oxymus agents run
research` for every such record that has no brief yet. Per record it gathers:

1. the ask: the record's own fields and notes (cited `rec ID`);
2. the client and earlier work: the client record (a project's `client`, a post's project's
   client, a lead's by domain, address or company name), that client's projects and their
   posts, and other leads from the same domain or company;
3. goals it serves: open goals of PLANS.md sharing a word with the record (`PLANS.md:LINE`);
4. from the notes: lines of the notes folders (`[agents.research] notes`, markdown, indexed
   with FTS5 in a derived file, `research_notes.py`), cited `folder/path.md:LINE`;
5. related memory: memory records found by the record's words, hot first, then warm and cold.

Without an LLM the brief is those facts, organised (`research_brief.deterministic`). With
one, it is the LLM's summary, each sentence checked against its citations; sentences that
fail are dropped, and too few left means the deterministic brief after all. The brief says
which it is and what was dropped.

The brief is an artifact of kind `brief` keyed by the record's id (`oxymus artifacts brief
--key ID --full`, and shown by `oxymus records show ID` and the TUI's record page), also
written to a file. For a post at `idea` the agent proposes `record.update` moving it to
`brief`, linked to the brief's file; for a lead or a project the brief is all (no status
change). Idempotency: the proposal's key carries the post's id and version, so one is
never proposed twice while it waits, and a denied one is not proposed again for that
version (an edit of the post makes a new version, and a new brief). A lead or project
gets a brief once.
"""

from __future__ import annotations

import os
import re
import sqlite3
from typing import Any

from pydantic import Field

from oxymus.actions.model import InputRef
from oxymus.agents.base import Agent, AgentSettings, RecordPort, Trigger
from oxymus.agents.research_brief import BriefHead, Fact, check_summary, content_words, deterministic, summarised

CONSUMED = {("post", "idea"), ("lead", "qualified"), ("project", "active")}
# Canonical kinds are gathered as records; a summary lists other records by id, which says nothing itself.
MEMORY_KINDS_SKIPPED = {"lead", "client", "project", "product", "post", "summary"}
# Words that alone do not make a goal about a record ("does not work" and "deep work").
GENERIC_WORDS = frozenset("run work make get take time way thing use need want people good new first last next day week "
                          "month year able own keep leave start end help".split())
_LIST_MARK = re.compile(r"^\s*(?:[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+|#+\s+|>\s?)")


def note_text(lines: list[str]) -> str:
    """Cited note lines as one fact: list marks and heading hashes off, wrapped lines joined."""
    return " ".join(_LIST_MARK.sub("", line).strip() for line in lines if line.strip())


def merged_hits(hits: list[Any]) -> list[tuple[str, str, str]]:
    """(cite, text, source text) per run of consecutive lines of one file, in the order their first line
    ranked: a sentence wrapped over three lines is one fact (`notes/a.md:3-5`), not three halves."""
    by_file: dict[str, list[Any]] = {}
    for hit in hits:
        by_file.setdefault(hit.path, []).append(hit)
    runs: list[tuple[int, list[Any]]] = []
    rank = {id(h): i for i, h in enumerate(hits)}
    for group in by_file.values():
        ordered = sorted({h.line: h for h in group}.values(), key=lambda h: h.line)
        run: list[Any] = []
        for hit in ordered:
            if run and hit.line != run[-1].line + 1:
                runs.append((min(rank[id(h)] for h in run), run))
                run = []
            run.append(hit)
        if run:
            runs.append((min(rank[id(h)] for h in run), run))
    out = []
    for _rank, run in sorted(runs, key=lambda r: r[0]):
        name = run[0].cite.rpartition(":")[0]
        where = f"{run[0].line}" if len(run) == 1 else f"{run[0].line}-{run[-1].line}"
        text = note_text([h.text for h in run])
        out.append((f"{name}:{where}", text, " ".join(f"{h.text} {h.context}" for h in run)))
    return out


class ResearchSettings(AgentSettings):
    """`[agents.research]`"""

    notes: str | list[str] = Field(
        default_factory=list,
        description="notes folders: one, or a list (absolute or ~/...); their *.md files, recursively, are indexed and searched",
        examples=["~/notes"])
    max_sources: int = Field(default=30, ge=1, le=200, description="at most this many cited facts in one brief")
    max_note_lines: int = Field(default=8, ge=0, le=100, description="at most this many lines from the notes in one brief")
    max_memory: int = Field(default=6, ge=0, le=100, description="at most this many related memory records in one brief")
    max_note_bytes: int = Field(default=2_000_000, ge=1_000, description="a note file larger than this is skipped (and said so)")
    max_briefs_per_run: int = Field(default=10, ge=1, le=500, description="at most this many briefs made in one run (the rest wait)")
    min_llm_sentences: int = Field(default=2, ge=1, le=50,
                                   description="fewer of the LLM's sentences than this pass the citation check: the brief is made without it")


def _folders(value: str | list[str]) -> tuple[list[str], list[str]]:
    """(the usable folders, absolute; problems naming the setting)."""
    given = [value] if isinstance(value, str) else list(value)
    good, bad = [], []
    for raw in given:
        path = os.path.expanduser(raw.strip())
        if not raw.strip():
            continue
        if not os.path.isabs(path):
            bad.append(f"[agents.research] notes: {raw!r} is not absolute or ~/...; skipped")
        elif not os.path.isdir(path):
            bad.append(f"[agents.research] notes: {raw!r} is not a folder; skipped")
        else:
            good.append(os.path.normpath(path))
    return list(dict.fromkeys(good)), bad


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _rec(r: Any) -> str:
    return f"rec {r.id}"


def record_words(record: Any, client: Any = None) -> list[str]:
    """The words a record is about: its title, need, company, domain, its client's name, then its notes."""
    f = record.fields
    domain = (f.get("domain") or "").split(".")[0]
    parts = [record.title, f.get("need") or "", f.get("company") or "", domain, client.title if client is not None else "",
             record.body[:500]]
    seen: list[str] = []
    for part in parts:
        for w in sorted(content_words(part), key=lambda w: part.lower().find(w)):
            if w not in seen:
                seen.append(w)
    return seen[:12]


class World:
    """The canonical records one run reads once, for every record it briefs."""

    def __init__(self, leads: list[Any], clients: list[Any], projects: list[Any], posts: list[Any]):
        self.leads, self.clients, self.projects, self.posts = leads, clients, projects, posts
        self.by_id = {r.id: r for r in [*leads, *clients, *projects, *posts]}

    def client_of(self, record: Any) -> Any:
        f = record.fields
        if record.kind == "client":
            return record
        if record.kind == "project":
            return self.by_id.get(f.get("client") or "")
        if record.kind == "post":
            project = self.by_id.get(f.get("project") or "")
            return self.client_of(project) if project is not None else None
        if record.kind == "lead":
            email = (f.get("email") or "").lower()
            domain = (f.get("domain") or email.partition("@")[2]).lower()
            company = (f.get("company") or "").lower()
            for c in self.clients:
                if (email and email in [e.lower() for e in c.fields.get("emails", [])]) or \
                   (domain and domain in [d.lower() for d in c.fields.get("domains", [])]) or \
                   (company and company == c.title.lower()):
                    return c
        return None

    def earlier_work(self, record: Any, client: Any) -> list[Any]:
        """Other records for the same client: its projects, their posts, leads from the same domain or company."""
        out: list[Any] = []
        projects = [p for p in self.projects if client is not None and p.fields.get("client") == client.id]
        if record.kind == "project" and record not in projects:
            projects.append(record)
        ids = {p.id for p in projects}
        out += [p for p in projects if p.id != record.id]
        out += [p for p in self.posts if p.fields.get("project") in ids and p.id != record.id]
        domains = {d.lower() for d in (client.fields.get("domains", []) if client is not None else [])}
        names = {client.title.lower()} if client is not None else set()
        if record.kind == "lead":
            if record.fields.get("domain"):
                domains.add(record.fields["domain"].lower())
            if record.fields.get("company"):
                names.add(record.fields["company"].lower())
        for lead in self.leads:
            if lead.id == record.id:
                continue
            if (lead.fields.get("domain") or "").lower() in domains or (lead.fields.get("company") or "").lower() in names - {""}:
                out.append(lead)
        return out


def describe(r: Any) -> str:
    f = r.fields
    extra = [r.status_label]
    for name in ("budget", "due", "need", "publish_at", "url"):
        if f.get(name) not in (None, ""):
            extra.append(f"{name} {_num(f[name])}")
    return f"{r.kind.capitalize()} “{r.title}” ({'; '.join(extra)})"


def ask_facts(record: Any, limit: int) -> list[Fact]:
    cite = _rec(record)
    facts = []
    for name, value in record.fields.items():
        if value in (None, "", []) or name in ("name", "title"):
            continue
        shown = ", ".join(map(_num, value)) if isinstance(value, list) else _num(value)
        facts.append(Fact(section="ask", text=f"{name.replace('_', ' ').capitalize()}: {shown}", cite=cite))
    for line in record.body.splitlines():
        if line.strip() and len(facts) < limit:
            facts.append(Fact(section="ask", text=line.strip()[:300], cite=cite))
    return facts[:limit]


class Research(Agent):
    name = "research"
    role = (
        "The research agent writes a brief for a lead, a project or a post that needs one: what is asked, the client "
        "and earlier work for them, the goals of PLANS.md it serves, what the person's notes and memory say about it. "
        "Every fact cites its source (a record, or a file and line); a sentence without a true citation is dropped."
    )
    reads = ("records:lead", "records:client", "records:project", "records:post", "memory:hot", "memory:warm", "memory:cold",
             "plans", "notes", "actions", "artifacts:brief")
    proposes = ("record.update",)
    consumes = (RecordPort(kind="post", status="idea"), RecordPort(kind="lead", status="qualified"),
                RecordPort(kind="project", status="active"))
    produces = (RecordPort(kind="post", status="brief"),)
    validates = ("every fact cites a gathered source; an LLM sentence whose citation does not hold is dropped",)
    trigger = Trigger(every="1h")
    Settings = ResearchSettings
    confidence_rule = (
        "0.9 for a post moved to brief on a brief without the LLM (every fact is a source's own words); 0.7 with the "
        "LLM's summary (each kept sentence passed the citation check, but the wording is the model's)."
    )

    async def run(self, ctx: Any) -> str:
        s: ResearchSettings = ctx.settings  # type: ignore[assignment]
        folders, bad = _folders(s.notes)
        for problem in bad:
            ctx.note(problem)
        world = World(await ctx.records("lead", limit=5000), await ctx.records("client", limit=5000),
                      await ctx.records("project", limit=5000), await ctx.records("post", limit=5000))
        candidates = self._candidates(ctx, world)
        have = await ctx.artifact_keys("brief")
        mine = {a.idempotency_key: a for a in await ctx.actions(limit=5000) if a.proposer.name == self.name}
        todo, skipped = [], 0
        for record in candidates:
            if record.kind == "post":
                if proposal_key(record) in mine:
                    skipped += 1  # waiting, or decided (a denied move is not asked again for this version)
                    continue
            elif record.id in have:
                skipped += 1
                continue
            todo.append(record)
        waiting = max(0, len(todo) - s.max_briefs_per_run)
        todo = todo[:s.max_briefs_per_run]
        made = with_llm = proposed = 0
        if todo:
            heads = [(r, world.client_of(r)) for r in todo]
            words = [record_words(r, c) for r, c in heads]
            notes = await self._notes(ctx, s, folders, words)
            plans = await ctx.plans()
            for (record, client), terms, hits in zip(heads, words, notes):
                facts = await self._facts(ctx, s, world, record, client, terms, hits, plans)
                content, data = await self._brief(ctx, s, record, facts)
                with_llm += data["path"] == "llm"
                art = await ctx.artifact("brief", record.id, f"Brief: {record.title}", content, data=data,
                                         filename=f"brief-{record.id}.md")
                made += 1
                if record.kind == "post":
                    proposed += await self._propose(ctx, record, art, data)
        parts = [f"{len(candidates)} record(s) needing a brief", f"{made} brief(s) made ({with_llm} with the LLM)",
                 f"{proposed} post(s) proposed to move to brief"]
        if skipped:
            parts.append(f"{skipped} already briefed or waiting")
        if waiting:
            parts.append(f"{waiting} left for the next run (max_briefs_per_run)")
        return ", ".join(parts)

    # --- which records ----------------------------------------------------------------------

    def _candidates(self, ctx: Any, world: World) -> list[Any]:
        wanted = [r for r in [*world.posts, *world.leads, *world.projects] if (r.kind, r.status) in CONSUMED and not r.problem]
        event = (ctx.event or {}).get("record") if isinstance(ctx.event, dict) else None
        if event and event.get("id"):
            # Started by the graph for one record: that one first, then whatever else is waiting.
            wanted.sort(key=lambda r: r.id != event["id"])
        return wanted

    # --- sources ----------------------------------------------------------------------------

    async def _notes(self, ctx: Any, s: ResearchSettings, folders: list[str], words: list[list[str]]) -> list[list[Any]]:
        if not folders or s.max_note_lines == 0:
            return [[] for _ in words]
        try:
            result = await ctx.search_notes(folders, words, limit=s.max_note_lines, max_file_bytes=s.max_note_bytes)
        except (OSError, sqlite3.Error) as exc:
            # The index is a derived file: without it the briefs go on from the other sources.
            ctx.note(f"the notes index cannot be used ({exc}); briefs made without the notes")
            return [[] for _ in words]
        for problem in result.report.problems[:20]:
            ctx.note(f"notes: {problem}")
        return result.hits

    async def _facts(self, ctx: Any, s: ResearchSettings, world: World, record: Any, client: Any, terms: list[str],
                     hits: list[Any], plans: Any) -> list[Fact]:
        facts = ask_facts(record, limit=max(4, s.max_sources // 3))
        cited = {record.id}
        if client is not None and client.id != record.id:
            emails = ", ".join(client.fields.get("emails", []))
            facts.append(Fact(section="client", text=f"Client: {client.title} ({client.status_label}"
                                                      + (f"; {emails}" if emails else "") + ")", cite=_rec(client)))
            cited.add(client.id)
        for other in world.earlier_work(record, client):
            if other.id not in cited:
                facts.append(Fact(section="client", text=describe(other), cite=_rec(other),
                                  source_text=describe(other) + " " + other.body))
                cited.add(other.id)
        facts += self._goals(record, terms, plans)
        for cite, text, source in merged_hits(hits):
            if text:
                facts.append(Fact(section="notes", text=text[:400], cite=cite, source_text=source))
        facts += await self._memory(ctx, s, terms, cited)
        return _capped(facts, s.max_sources)

    def _goals(self, record: Any, terms: list[str], plans: Any) -> list[Fact]:
        if plans is None:
            return []
        name = os.path.basename(plans.path) or "PLANS.md"
        mine = set(terms) | content_words(record.body)
        scored = []
        for goal in plans.goals:
            if goal.done:
                continue
            shared = content_words(goal.text) & mine
            if shared - GENERIC_WORDS:
                scored.append((-len(shared), goal.line, goal))
        return [Fact(section="goals", text=g.text, cite=f"{name}:{g.line}") for _n, _l, g in sorted(scored)[:5]]

    async def _memory(self, ctx: Any, s: ResearchSettings, terms: list[str], cited: set[str]) -> list[Fact]:
        """Memory records found by the record's words (each word a search: the search ANDs its words), hot first."""
        if s.max_memory == 0 or not terms:
            return []
        out: list[Fact] = []
        for tier in ("hot", "warm", "cold"):
            for term in terms[:4]:
                for hit in await ctx.memory(tier, term, limit=5):
                    r = hit.record
                    if r.id in cited or r.kind in MEMORY_KINDS_SKIPPED or r.archived:
                        continue
                    if not content_words(f"{r.title} {r.body}") & set(terms):
                        continue  # found by a prefix of the word only ("ana" in "analytics")
                    cited.add(r.id)
                    body = " ".join(r.body.split())
                    text = f"{r.kind.capitalize()} “{r.title}”" + (f": {hit.snippet or body[:200]}" if body else "")
                    out.append(Fact(section="memory", text=text[:320], cite=_rec(r), source_text=f"{r.title} {body}"))
                    if len(out) >= s.max_memory:
                        return out
        return out

    # --- the brief ----------------------------------------------------------------------------

    async def _brief(self, ctx: Any, s: ResearchSettings, record: Any, facts: list[Fact]) -> tuple[str, dict[str, Any]]:
        head = BriefHead(record_id=record.id, kind=record.kind, title=record.title, status=record.status_label,
                         version=record.version)
        data: dict[str, Any] = {"record_id": record.id, "record_kind": record.kind, "version": record.version,
                                "sources": [f.cite for f in facts], "facts": len(facts), "path": "deterministic"}
        if ctx.llm is None:
            data["llm"] = ctx.llm_status
            return deterministic(head, facts), data
        answer = await self._ask_llm(ctx, record, facts)
        if answer is None:
            data["llm"] = "the LLM did not answer"
            return deterministic(head, facts, llm_note="the LLM did not answer"), data
        check = check_summary(answer, facts, min_sentences=s.min_llm_sentences)
        data["dropped"] = [{"sentence": c.sentence, "why": c.why} for c in check.dropped]
        data["kept"] = len(check.kept)
        if not check.used:
            data["llm"] = check.why_not
            return deterministic(head, facts, llm_note=check.why_not, dropped=check.dropped), data
        data["path"] = "llm"
        model = getattr(getattr(ctx.llm, "config", None), "model", "the LLM")
        return summarised(head, facts, check, model), data

    async def _ask_llm(self, ctx: Any, record: Any, facts: list[Fact]) -> str | None:
        from oxymus.agents.llm import Section

        listing = "\n".join(f"[{f.cite}] {' '.join(f.text.split())}" for f in facts)
        task = (f"Write a brief of 3 to 6 sentences for the {record.kind} “{record.title}”: what is asked, for whom, "
                "what earlier work and which goals bear on it, what the notes say. Use only facts from the sources. "
                "End every sentence with the citation of each source it uses, in square brackets exactly as given "
                "(for example [rec 01ABC] or [notes/acme.md:12]). Plain sentences, no list, no heading.")
        return await ctx.llm.chat(self.role, [Section(name="sources", text=listing, priority=1)], task, stream_to=ctx.progress)

    async def _propose(self, ctx: Any, record: Any, art: Any, data: dict[str, Any]) -> int:
        payload: dict[str, Any] = {"id": record.id, "status": "brief", "expected_version": record.version,
                                   "note": f"research brief ({'LLM summary' if data['path'] == 'llm' else 'sources and facts'})"}
        if art.path:
            payload["links"] = [{"target_type": "file", "target_ref": art.path, "relation": "brief"}]
        action = await ctx.propose(
            "record.update", payload,
            reason=f"a brief for the post idea “{record.title}” ({data['facts']} cited facts): "
                   f"`oxymus artifacts brief --key {record.id} --full`",
            inputs=[InputRef(kind="record", ref=record.id, note=f"post, idea, version {record.version}"),
                    InputRef(kind="artifact", ref=art.id, note="the brief")],
            confidence=0.7 if data["path"] == "llm" else 0.9, key=proposal_key(record))
        return 1 if action is not None else 0


def proposal_key(record: Any) -> str:
    return f"research:brief:{record.id}:v{record.version}"


def _capped(facts: list[Fact], limit: int) -> list[Fact]:
    """At most `limit` facts, taking from every section in turn so none is crowded out."""
    if len(facts) <= limit:
        return facts
    by: dict[str, list[Fact]] = {}
    for f in facts:
        by.setdefault(f.section, []).append(f)
    chosen: list[Fact] = []
    while len(chosen) < limit:
        took = False
        for section in list(by):
            if by[section] and len(chosen) < limit:
                chosen.append(by[section].pop(0))
                took = True
        if not took:
            break
    order = {id(f): i for i, f in enumerate(facts)}
    return sorted(chosen, key=lambda f: order[id(f)])
