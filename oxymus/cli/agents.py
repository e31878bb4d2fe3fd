"""`oxymus agents ...` and `oxymus artifacts`: the specialists, their runs and what they made."""

from __future__ import annotations

from typing import Any

from oxymus.actions.explain import local as local_time
from oxymus.cli.base import EXIT_FAIL, EXIT_OK, daemon_call, print_json, time_zone


def register(command) -> None:
    agents = command("agents", None, "the agents: list them, run one now, see their runs")
    sub = agents.add_subparsers(title="agents commands", metavar="ACTION", required=True)

    def acommand(name: str, handler, help: str):
        q = sub.add_parser(name, help=help, description=help)
        q.set_defaults(handler=handler)
        return q

    q = acommand("list", cmd_agents_list, "every agent: what it is for, what it may read and propose, when it runs, its last run")
    q.add_argument("--json", action="store_true", help="print JSON")
    q = acommand("run", cmd_agents_run, "run an agent now and print what it did")
    q.add_argument("name")
    q.add_argument("--json", action="store_true", help="print the run record as JSON")
    q = acommand("history", cmd_agents_history, "agent runs, newest first: trigger, outcome, summary, LLM use")
    q.add_argument("name", nargs="?", help="only this agent")
    q.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    q.add_argument("--json", action="store_true", help="print JSON")

    q = acommand("graph", cmd_agents_graph, "who produces which record status, who takes it over, who validates, "
                                            "who carries out side effects (from the agents' declarations; no daemon needed)")
    form = q.add_mutually_exclusive_group()
    form.add_argument("--dot", action="store_true", help="print a Graphviz digraph")
    form.add_argument("--mermaid", action="store_true", help="print a Mermaid flowchart")
    form.add_argument("--json", action="store_true", help="print JSON")

    p = command("artifacts", cmd_artifacts, "what agents made: day plans, weekly reviews, triage suggestions, digests, briefs")
    p.add_argument("kind", nargs="?", help="e.g. day_plan, weekly_review, brief")
    p.add_argument("--key", help="e.g. a date (YYYY-MM-DD) for a day plan, a record's id for a brief")
    p.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")
    p.add_argument("--full", action="store_true", help="print each one's whole content")
    p.add_argument("--json", action="store_true", help="print JSON")


def _run_line(run: dict[str, Any], zone) -> str:
    took = f"{run['duration_ms'] / 1000:.1f}s" if run.get("duration_ms") is not None else "running"
    llm = ""
    if run.get("llm"):
        ok = sum(1 for c in run["llm"] if c["outcome"] == "ok")
        llm = f"  llm {ok}/{len(run['llm'])}"
    elif run.get("llm_available") is False:
        llm = "  (no LLM)"
    text = run.get("error") or run.get("summary") or ""
    return (f"{local_time(run['started_at'], zone, '%m-%d %H:%M')}  {run['agent']:<11} {run['outcome']:<9} {took:>6}"
            f"  {run['trigger'][:28]:<28}{llm}  {text}")


def cmd_agents_list(args) -> int:
    result = daemon_call("agents list", "agents.list", {})
    if args.json:
        print_json(result)
        return EXIT_OK
    zone = time_zone()
    print(f"LLM: {result['llm']}")
    for a in result["agents"]:
        state = "" if a["enabled"] else "  (disabled)"
        print(f"\n{a['name']}{state}: {a['trigger']}" + (f"; next {local_time(a['next_run'], zone, '%a %H:%M')}" if a.get("next_run") else ""))
        print(f"  {a['role'].splitlines()[0]}")
        print(f"  reads: {', '.join(a['reads']) or '-'}")
        print(f"  proposes: {', '.join(a['proposes']) or '-'}")
        if a.get("last_run"):
            print(f"  last: {_run_line(a['last_run'], zone)}")
    for name, why in result.get("broken", {}).items():
        print(f"\n{name}: BROKEN: {why}")
    return EXIT_OK


def cmd_agents_graph(args) -> int:
    from oxymus.action_kinds import action_specs
    from oxymus.agents import graph
    from oxymus.cli.base import load_config, resolve_paths
    from oxymus.plugins import agents
    from oxymus.records.kinds import registered

    try:
        config = load_config(resolve_paths())
    except Exception:  # noqa: BLE001 - a broken config must not hide the graph; the kinds' scopes are the same
        config = None
    scopes = {kind: spec.scope for kind, spec in action_specs(config).items()}
    installed = agents()
    triggers = {}
    for name in installed:  # a trigger changed in config is the one shown
        trig = getattr(getattr(getattr(config, "agents", None), name, None), "trigger", None)
        if trig is not None:
            also = installed[name].also_on
            triggers[name] = trig.describe() + (f"; on {', '.join(also)}" if also and trig.on is None else "")
    found = graph.build(installed, registered(), scopes, triggers)
    if args.json:
        print_json(found.model_dump(mode="json"))
    else:
        print(graph.dot(found) if args.dot else graph.mermaid(found) if args.mermaid else graph.text(found), end="")
    return EXIT_OK


def cmd_agents_run(args) -> int:
    run = daemon_call("agents run", "agents.run", {"name": args.name}, timeout=600)
    if args.json:
        print_json(run)
    else:
        print(_run_line(run, time_zone()))
        if run["actions"]:
            print(f"  proposed {len(run['actions'])} action(s): `oxymus approvals` shows those waiting for you")
    return EXIT_OK if run["outcome"] == "succeeded" else EXIT_FAIL


def cmd_agents_history(args) -> int:
    params: dict[str, Any] = {"limit": args.limit}
    if args.name:
        params["agent"] = args.name
    runs = daemon_call("agents history", "agents.history", params)["runs"]
    if args.json:
        print_json(runs)
        return EXIT_OK
    zone = time_zone()
    for run in runs:
        print(_run_line(run, zone))
    if not runs:
        print("no runs yet")
    return EXIT_OK


def cmd_artifacts(args) -> int:
    params: dict[str, Any] = {"limit": args.limit}
    if args.kind:
        params["kind"] = args.kind
    if args.key:
        params["key"] = args.key
    found = daemon_call("artifacts", "artifacts.list", params)["artifacts"]
    if args.json:
        print_json(found)
        return EXIT_OK
    zone = time_zone()
    for art in found:
        print(f"{local_time(art['created_at'], zone, '%m-%d %H:%M')}  {art['agent']:<11} {art['kind']:<16} {art['key']:<12} {art['title']}"
              + (f"\n  {art['path']}" if art.get("path") else ""))
        if args.full:
            print("\n" + art["content"].rstrip() + "\n")
    if not found:
        print("no artifacts yet")
    return EXIT_OK
