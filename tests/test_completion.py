"""`oxymus completion bash|zsh|fish` sourced in the real shells, completing against a real daemon.

Each shell is driven without a terminal: bash by calling the completion function with
COMP_WORDS/COMP_CWORD set, zsh by calling it with `words`/`CURRENT` set and `compadd`
captured, fish by `complete -C`. The scripts call `oxymus` from PATH, so PATH starts
with this venv's bin.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli, start_daemon, wait_for
from oxymus.cli import build_parser, completion

BIN = str(Path(sys.executable).parent)
NEED_ME = '[[rule]]\nname = "memory needs me"\nkind = "memory.update"\noutcome = "require_approval"\n'


def _shell(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed, and CI must test its completion: install it (./dev test does, apt-get install {name})")
        pytest.skip(f"{name} is not installed")
    return found


def _script(home: Path, shell: str) -> Path:
    out = run_cli("completion", shell)
    assert out.returncode == 0, out.stderr
    path = home / f"oxymus.{shell}"
    path.write_bytes(out.stdout)
    return path


def _run(argv: list[str]) -> list[str]:
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"]}
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def bash(script: Path, *words: str) -> list[str]:
    """COMPREPLY for `oxymus WORDS...` with the cursor at the end of the last word."""
    array = " ".join(f"'{w}'" for w in ("oxymus", *words))
    code = f'source {script}; COMP_WORDS=({array}); COMP_CWORD={len(words)}; _oxymus; printf "%s\\n" "${{COMPREPLY[@]}}"'
    return _run([_shell("bash"), "--norc", "--noprofile", "-c", code])


def zsh(script: Path, *words: str) -> list[str]:
    """What `_oxymus` hands to compadd, narrowed by the typed prefix as compadd narrows it."""
    array = " ".join(f"'{w}'" for w in ("oxymus", *words))
    code = (f"source {script}; compadd() {{ shift; local w; for w in \"$@\"; do "
            f"[[ $w == ${{words[CURRENT]}}* ]] && print -r -- $w; done; return 0; }}; "
            f"words=({array}); CURRENT={len(words) + 1}; _oxymus")
    return _run([_shell("zsh"), "-f", "-c", code])


def fish(script: Path, line: str) -> list[str]:
    return _run([_shell("fish"), "--no-config", "-c", f"source {script}; complete -C '{line}'"])


@pytest.fixture
def waiting(profile, home):
    """A real daemon with one action waiting for approval and one memory record."""
    d = start_daemon(profile, policy=NEED_ME)
    with d.client() as c:
        action = c.call("actions.propose", {"kind": "memory.update", "payload": {"op": "add", "record": {
            "kind": "decision", "title": "Publish on Thursdays"}}})["action"]
        assert action["status"] == "awaiting_approval", action
        record = c.call("memory.add", {"record": {"kind": "fact", "title": "The boiler is a Vaillant"}})
    d.action_id, d.record_id = action["id"], record["id"]

    def asked() -> bool:  # the notification asking about it has run (it is an action too)
        with d.client() as c:
            return [n["state"] for n in c.call("notifications.list", {"all": True})["notifications"]] in (["missed"], ["delivered"])

    wait_for(asked, what="the approval's notification to have run")
    yield d
    d.stop()


def test_bash_completes_subcommands_options_choices_and_action_ids(home, waiting):
    script = _script(home, "bash")
    assert sorted(bash(script, "app")) == ["approvals", "approve"]
    assert sorted(bash(script, "memory", "search", "--t")) == ["--tag", "--tier"]
    assert bash(script, "memory", "search", "--tier", "") == ["hot", "warm", "cold"]
    assert bash(script, "approve", "") == [waiting.action_id]
    assert bash(script, "deny", "--reason", "no", waiting.action_id[:4]) == [waiting.action_id]
    assert bash(script, "memory", "show", "") == [waiting.record_id]


def test_zsh_completes_subcommands_options_choices_and_action_ids(home, waiting):
    script = _script(home, "zsh")
    assert sorted(zsh(script, "app")) == ["approvals", "approve"]
    assert sorted(zsh(script, "policy", "explain", "--")) == ["--agent", "--at", "--by", "--confidence", "--help",
                                                                 "--json", "--payload"]
    assert zsh(script, "policy", "explain", "--by", "") == ["user", "agent", "system"]
    assert zsh(script, "snooze", "") == [waiting.action_id]


def test_fish_completes_subcommands_options_choices_and_action_ids(home, waiting):
    script = _script(home, "fish")
    assert sorted(fish(script, "oxymus app")) == ["approvals", "approve"]
    assert sorted(fish(script, "oxymus memory search --t")) == ["--tag", "--tier"]
    assert sorted(fish(script, "oxymus secret ")) == ["delete", "set"]
    # Every action: the waiting one and the notification that asked you about it (recorded even with no desktop).
    explained = fish(script, "oxymus explain ")
    assert waiting.action_id in explained and len(explained) == 2
    # `policy explain` is not `explain`: the path is walked, not guessed from one word.
    assert waiting.action_id not in fish(script, "oxymus policy explain ")


def test_dynamic_values_come_from_the_database_when_the_daemon_is_down(home, waiting):
    waiting.stop()
    out = run_cli("__complete", "waiting")
    assert (out.returncode, out.stdout.decode().split()) == (0, [waiting.action_id])
    assert run_cli("__complete", "records").stdout.decode().split() == [waiting.record_id]
    assert run_cli("__complete", "decided").stdout.decode() == ""


def test_dynamic_values_print_nothing_on_any_error(home):
    # No profile at all: no daemon, no database. Nothing is printed and nothing is created.
    for kind in completion.COMPLETERS:
        out = run_cli("__complete", kind)
        assert (out.returncode, out.stdout, out.stderr) == (0, b"", b""), kind
    assert not (home / "data").exists()
    assert run_cli("__complete", "nonsense").stdout == b""


def test_sources_name_each_source_and_its_connector(home, profile):
    repo = home / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    d = start_daemon(profile, config=f'[git]\nrepos = ["{repo}"]\n[bills]\n')
    try:
        with d.client() as c:
            names = [s["source"] for s in c.call("state.refresh")["sources"]]
        assert names, "the git source is configured"
        out = run_cli("__complete", "sources").stdout.decode().split()
        assert out == list(dict.fromkeys(n for name in names for n in (name.split(".")[0], name)))
    finally:
        d.stop()


def test_every_completer_marker_names_a_known_kind():
    nodes = completion.tree(build_parser())
    assert nodes["approve"]["positional"] == "dyn:waiting" and nodes["undo"]["positional"] == "dyn:decided"
    assert nodes["refresh"]["positional"] == "dyn:sources" and nodes["memory forget"]["positional"] == "dyn:records"
    assert nodes["log"]["opts"]["--trace"] == "dyn:actions"
    # The tree is read from the parser: a new command is in the script without touching the generator.
    assert "completion" in nodes[""]["subs"] and nodes["completion"]["positional"] == "choices:bash zsh fish"
    parser = build_parser()
    completion._subparsers(parser)["refresh"]._actions[-1].completer = "nonsense"
    with pytest.raises(ValueError, match="not one of"):
        completion.tree(parser)
