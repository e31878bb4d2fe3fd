"""RPC methods for agents and their artifacts."""

from __future__ import annotations

from oxymus.agents.base import AgentRun
from oxymus.client import protocol as proto
from oxymus.daemon.agents import AgentRuntime
from oxymus.daemon.registry import rpc
from oxymus.daemon.rpc import Session


class AgentHandlers:
    def __init__(self, runtime: AgentRuntime):
        self.rt = runtime

    @rpc("agents.list")
    async def list(self, session: Session, p: proto.NoParams) -> proto.AgentsListResult:
        _, llm = await self.rt._llm_for_run()
        return proto.AgentsListResult(agents=[proto.AgentInfo.model_validate(a) for a in await self.rt.describe()],
                                      broken=self.rt.broken, llm=llm)

    @rpc("agents.run")
    async def run(self, session: Session, p: proto.AgentRunParams) -> AgentRun:
        return await self.rt.run(p.name, f"by hand ({session.client})")

    @rpc("agents.history")
    async def history(self, session: Session, p: proto.AgentsHistoryParams) -> proto.AgentsHistoryResult:
        return proto.AgentsHistoryResult(runs=await self.rt.store.agents.runs(p.agent, p.limit, trace_id=p.trace_id))

    @rpc("artifacts.list")
    async def artifacts(self, session: Session, p: proto.ArtifactsParams) -> proto.ArtifactsResult:
        found = await self.rt.store.agents.artifacts(p.kind, agent=p.agent, key=p.key, limit=p.limit)
        return proto.ArtifactsResult(artifacts=found)
