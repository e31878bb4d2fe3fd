"""Docs cannot drift: every command, setting and RPC method is documented, and the README's
quick start is what CI runs."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from oxymus import reference
from oxymus.client import protocol
from oxymus.profile import config

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "docs" / "reference.md").read_text()
README = (ROOT / "README.md").read_text()


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="argparse's help layout differs between Python versions")
def test_reference_is_regenerated(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert reference.render() == REFERENCE, "run: python -m oxymus.reference --write"


def test_every_cli_command_is_documented():
    commands = reference.cli_commands()
    assert {"capture", "inbox", "status", "up", "down", "daemon", "init", "demo"} <= set(commands)
    for name in commands:
        assert f"### `oxymus {name}`" in REFERENCE or f"#### `oxymus {name}`" in REFERENCE, name


def test_every_config_key_is_documented():
    for key, _field in config.fields():
        assert f"| `{key}` |" in REFERENCE, key


def test_every_rpc_method_and_event_is_documented():
    for name in protocol.METHODS:
        assert f"### `{name}`" in REFERENCE, name
    for topic in protocol.EVENT_TOPICS:
        assert f"| `{topic}` |" in REFERENCE, topic


def test_readme_quick_start_is_two_commands_and_ci_runs_the_second():
    block = re.search(r"## Quick start.*?```(?:sh|bash)?\n(.*?)```", README, re.S)
    assert block, "README has a Quick start code block"
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].split("#")[0].strip() == "./dev test" and "./dev test" in ci
    assert commands[0].split("#")[0].strip() == "./dev demo"


def test_architecture_doc_states_the_invariants():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for phrase in ("never import Textual", "only through the daemon", "policy plane"):
        assert phrase in text, phrase


def test_today_json_shape_is_documented_in_the_readme():
    from oxymus.models import SourceView
    from oxymus.today import view as today

    section = README.split("### `oxymus today --json`", 1)[1].split("\n### ", 1)[0]
    for model in (today.Today, today.TodayEvent, today.TodayDeadline, today.TodayBill, today.TodayRepo,
                  today.TodayPullRequest, today.TodayIssue, today.TodayProblem, SourceView):
        for name in model.model_fields:
            assert f"`{name}" in section, f"{model.__name__}.{name} is not in README's today --json table"


def test_every_agent_that_proposes_documents_how_its_confidence_is_derived():
    agents = reference.builtin_agents()
    proposing = {name: cls for name, cls in agents.items() if cls.proposes}
    assert {"planner", "steward", "reflection", "publisher", "finance", "sentinel"} <= set(proposing)
    for name, cls in proposing.items():
        assert len(cls.confidence_rule.split()) >= 10, f"{name} proposes but does not say how its confidence is derived"
        assert f"### `{name}`\n\nProposes: " in REFERENCE and f"Confidence: {cls.confidence_rule}" in REFERENCE, name
