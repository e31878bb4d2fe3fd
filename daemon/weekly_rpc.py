"""RPC methods for the weekly review: review.weekly_get, review.weekly_step, review.weekly_finish.

The record (one per ISO week, `store.weekly`) says where the review stands, so a review
left at any step resumes there whichever client opens it. The week is the reflection
agent's (`reviewed_week`: the week of its most recent review day), and what the review
shows is that agent's `weekly_review` artifact for it, made now by running the agent
when there is none yet (as the morning review runs the planner). Every side effect goes
through the desk: an answer to one of the review's questions becomes a `memory.update`
(op add, a `reflection` or `decision` record) proposed as the person, with the artifact
and the question as its inputs, so the record's history says where it came from; the
reflection's own proposals are decided through the usual approve/deny/snooze methods.
"""

from __future__ import annotations

import hashlib
import logging

from oxymus.actions.errors import ActionError
from oxymus.actions.model import InputRef, Proposer
from oxymus.agents import weekly as wk
from oxymus.agents.reflection_review import Week, reviewed_week
from oxymus.client import protocol as proto
from oxymus.client import wire
from oxymus.daemon.agents import AgentRuntime
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session
from oxymus.sources.contract import utc_iso

log = logging.getLogger("oxymus.daemon.weekly")

REFLECTION = "reflection"
APPROVALS_SHOWN = 500
SETTLE = 10.0  # seconds an answer's memory record is waited for before the reply says it is on its way


def the_week(rt: AgentRuntime) -> Week:
    """The week under review: the reflection's (its review weekdays), or today's ISO week without it."""
    agent = rt.agents.get(REFLECTION)
    weekdays = agent.effective_trigger.weekdays if agent is not None else None
    return reviewed_week(rt.now().astimezone(rt.zone).date(), weekdays, rt.zone)


async def weekly_status(rt: AgentRuntime) -> proto.WeeklyStatus:
    week = the_week(rt)
    record = await rt.store.weekly.get(week.key)
    return proto.WeeklyStatus(week=week.key, status="none" if record is None else record.status,
                              step=record.step if record is not None and record.status == "open" else None,
                              finished_at=record.finished_at if record is not None else None)


def check_decisions(decisions: dict[str, str]) -> None:
    bad = [k for k in decisions if not k.startswith("action:")]
    if bad:
        raise wire.RpcError(wire.INVALID_INPUT, f"a proposal decision is keyed action:<id>; not {', '.join(bad)}")


class WeeklyHandlers:
    def __init__(self, agents: AgentRuntime, desk):
        self.rt = agents
        self.store = agents.store
        self.desk = desk

    async def _record(self, week: str, session: Session | None) -> wk.WeeklyRecord:
        record = await self.store.weekly.get(week)
        if record is None:
            now = utc_iso(self.rt.now())
            record = wk.WeeklyRecord(week=week, started_at=now, updated_at=now)
            if session is not None:
                await self.store.weekly.save(record, actor=session.client, verb="review.weekly_started")
        return record

    async def _artifact(self, week: str, make: bool):
        """(artifact, why there is none): the reflection's review of `week`; with `make`, the agent runs when it is missing."""
        found = await self.store.agents.artifacts("weekly_review", agent=REFLECTION, key=week, limit=1)
        if not found and make and REFLECTION in self.rt.agents:
            run = await self.rt.run(REFLECTION, "by the weekly review")
            found = await self.store.agents.artifacts("weekly_review", agent=REFLECTION, key=week, limit=1)
            if not found:
                return None, f"the reflection agent could not write the review of {week}: {run.error or run.summary or run.outcome}"
        if not found:
            return None, f"no weekly review of {week} yet, and the reflection agent is not enabled ([agents.reflection])"
        return found[0], None

    async def _fresh(self, record: wk.WeeklyRecord) -> wk.WeeklyRecord:
        """The record with each answer's action status as it is now."""
        answers = {}
        for qid, answer in record.answers.items():
            action = await self.store.actions.get(answer.action_id) if answer.action_id else None
            answers[qid] = answer.model_copy(update={"status": action.status}) if action is not None else answer
        return record.model_copy(update={"answers": answers})

    async def _waiting(self, week: str):
        queue = await self.store.actions.list(("awaiting_approval",), limit=APPROVALS_SHOWN)
        return [a for a in queue if wk.proposal_of(a, week)]

    async def _view(self, week: Week, record: wk.WeeklyRecord, make: bool = True) -> wk.WeeklyView:
        art, error = await self._artifact(week.key, make)
        view = wk.WeeklyView(week=week.key, record=await self._fresh(record), start=week.monday.isoformat(),
                             end=week.sunday.isoformat(), error=error, approvals=await self._waiting(week.key))
        if art is None:
            return view
        sections, questions = wk.read_artifact(art.content, art.data)
        done = wk.done_lines(view.record, questions, len(view.approvals)) if record.status == "done" else []
        return view.model_copy(update={"artifact_id": art.id, "path": art.path, "headline": art.data.get("headline"),
                                       "narrative": art.data.get("narrative"), "sections": sections, "questions": questions,
                                       "done": done})

    # ---- methods -------------------------------------------------------------------------

    @rpc("review.weekly_get")
    async def get(self, session: Session, p: proto.NoParams) -> wk.WeeklyView:
        week = the_week(self.rt)
        return await self._view(week, await self._record(week.key, session))

    @rpc("review.weekly_step")
    async def step(self, session: Session, p: proto.WeeklyStepParams) -> proto.WeeklyStepResult:
        week = the_week(self.rt)
        record = await self._record(week.key, None)
        if p.answers and p.step != "questions":
            raise wire.RpcError(wire.INVALID_INPUT, f"answers belong to the Questions step, not to {p.step!r}")
        if p.decisions and p.step != "proposals":
            raise wire.RpcError(wire.INVALID_INPUT, f"proposal decisions belong to the Proposals step, not to {p.step!r}")
        check_decisions(p.decisions)
        go_to = p.go_to or wk.next_weekly_step(p.step)
        if go_to == "done" and record.status != "done":
            raise wire.RpcError(wire.INVALID_INPUT, "a weekly review is finished with review.weekly_finish, not by moving to `done`")
        answers, problems = dict(record.answers), []
        if p.answers:
            answers, problems = await self._answer(session, week.key, record, p.answers)
        record = record.model_copy(update={"answers": answers, "decisions": {**record.decisions, **p.decisions},
                                           "step": go_to, "updated_at": utc_iso(self.rt.now())})
        await self.store.weekly.save(record, actor=session.client, verb="review.weekly_step")
        return proto.WeeklyStepResult(record=record, problems=problems)

    async def _answer(self, session: Session, week: str, record: wk.WeeklyRecord,
                      given: dict[str, proto.WeeklyAnswerIn]) -> tuple[dict[str, wk.WeeklyAnswer], list[str]]:
        """Each answer with words becomes a memory.update proposed as the person (the policy plane decides)."""
        art, error = await self._artifact(week, make=False)
        if art is None:
            raise wire.RpcError(wire.INVALID_INPUT, f"nothing to answer: {error}")
        _, questions = wk.read_artifact(art.content, art.data)
        by_id = {q.id: q for q in questions}
        unknown = [k for k in given if k not in by_id]
        if unknown:
            raise wire.RpcError(wire.INVALID_INPUT, f"no question {', '.join(unknown)} in the review of {week} "
                                                    f"(questions: {', '.join(by_id) or 'none'})")
        answers, problems = dict(record.answers), []
        for qid, a in given.items():
            text = a.text.strip()
            if not text:
                continue  # skipped: nothing to record
            answer = wk.WeeklyAnswer(text=text, kind=a.kind)
            question = by_id[qid].text
            digest = hashlib.sha256(f"{a.kind}\n{text}".encode()).hexdigest()[:12]
            try:
                action, _ = await self.desk.propose(
                    "memory.update", {"op": "add", "record": wk.answer_record(week, question, answer),
                                      "note": f"weekly review {week}: {question}"[:200]},
                    proposer=Proposer(type="user", name="user"), key=f"weekly:{week}:{qid}:{digest}",
                    reason=f"your answer to “{question}” in the weekly review of {week} ({session.client})",
                    inputs=[InputRef(kind="artifact", ref=f"weekly_review:{week}", note=art.id),
                            InputRef(kind="question", ref=f"{week}:{qid}", note=question[:500])],
                )
            except ActionError as exc:
                problems.append(f"{qid} ({question}): not recorded: {exc}")
                continue
            if action.status == "approved" and await self.store.actions.pause_state() is None:
                action = await self.desk.wait_settled(action, timeout=SETTLE)  # your own record is written at once
            if action.status == "failed":
                problems.append(f"{qid} ({question}): the memory record was not written: {action.error or 'failed'}")
            if action.status == "denied":
                problems.append(f"{qid} ({question}): the policy refused the memory record: "
                                f"{action.decision.reason if action.decision else 'denied'}")
            answers[qid] = answer.model_copy(update={"action_id": action.id, "status": action.status})
        return answers, problems

    @rpc("review.weekly_finish")
    async def finish(self, session: Session, p: proto.WeeklyFinishParams) -> proto.WeeklyFinishResult:
        check_decisions(p.decisions)
        week = the_week(self.rt)
        record = await self._fresh(await self._record(week.key, session))
        record = record.model_copy(update={"decisions": {**record.decisions, **p.decisions}})
        view = await self._view(week, record, make=False)
        now = utc_iso(self.rt.now())
        record = record.model_copy(update={"status": "done", "step": "done", "updated_at": now,
                                           "finished_at": record.finished_at or now})
        await self.store.weekly.save(record, actor=session.client, verb="review.weekly_done")
        lines = wk.done_lines(record, view.questions, len(view.approvals))
        answered = len(record.answers)
        summary = (f"weekly review of {week.key} recorded: {answered} answer{'s' if answered != 1 else ''} to memory; "
                   + lines[-1])
        return proto.WeeklyFinishResult(record=record, lines=lines, summary=summary)
