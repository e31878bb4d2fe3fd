"""`oxymus completion bash|zsh|fish`: a shell completion script generated from the argparse tree.

The static part (commands, subcommands, options, choices) is read from the parser when the
script is printed, so it cannot drift from the commands. Values that live in the daemon come
from the hidden `oxymus __complete KIND` (`candidates()`), which the scripts call at TAB time:
an argument says which kind it takes with a marker, `arg.completer = "actions"` (see COMPLETERS).
"""

from __future__ import annotations

import sys

from oxymus.cli.base import EXIT_OK, EXIT_USAGE

# What `oxymus __complete KIND` can list: the kinds an argument's `completer` marker may name.
COMPLETERS = {
    "sources": "configured sources and their connectors (for `refresh`)",
    "actions": "recent actions of any status",
    "waiting": "actions waiting for a decision (awaiting approval or snoozed)",
    "decided": "actions approved or denied that may still be undone",
    "records": "live memory record ids",
}
_STATUSES = {"waiting": ("awaiting_approval", "snoozed"), "decided": ("approved", "denied"), "actions": ()}
SHELLS = ("bash", "zsh", "fish")


def register(command, root) -> None:
    """Add `completion`; `root` is the whole parser, which the script is generated from."""
    p = command("completion", cmd_completion,
                "print a shell completion script (commands, options, source names, action and record ids); see README")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(root=root)


def cmd_completion(args) -> int:
    sys.stdout.write(script(args.shell, tree(args.root)))
    return EXIT_OK


# --- the tree -----------------------------------------------------------------------------


def _subparsers(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            hidden = {c.dest for c in action._choices_actions if c.help == argparse.SUPPRESS}
            return {name: sub for name, sub in action.choices.items() if name not in hidden}
    return {}


def tree(parser, path: str = "") -> dict[str, dict]:
    """Every command path ("" is `oxymus` itself, "memory search" a nested one) with what it takes."""
    import argparse

    subs = _subparsers(parser)
    node = {"subs": list(subs), "opts": {}, "positional": ""}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        marker = getattr(action, "completer", "")
        if marker and marker not in COMPLETERS:
            raise ValueError(f"{path or 'oxymus'}: {action.dest}.completer = {marker!r} is not one of {', '.join(COMPLETERS)}")
        if action.option_strings:
            takes = "" if action.nargs == 0 else ("choices:" + " ".join(map(str, action.choices)) if action.choices
                                                 else f"dyn:{marker}" if marker else "value")
            for opt in action.option_strings:
                node["opts"][opt] = takes
        elif action.choices:
            node["positional"] = node["positional"] or "choices:" + " ".join(map(str, action.choices))
        elif marker:
            node["positional"] = node["positional"] or f"dyn:{marker}"
    out = {path: node}
    for name, sub in subs.items():
        out.update(tree(sub, f"{path} {name}".strip()))
    return out


# --- the scripts --------------------------------------------------------------------------


def _q(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _tables(nodes: dict[str, dict]) -> str:
    """Shell functions answering from the tree, in syntax bash and zsh both read."""
    subs = [f"        {_q(p)}) print_r {_q(' '.join(n['subs']))} ;;" for p, n in nodes.items() if n["subs"]]
    opts = [f"        {_q(p)}) print_r {_q(' '.join(n['opts']))} ;;" for p, n in nodes.items() if n["opts"]]
    takes = [f"        {_q(p + '|' + o)}) print_r {_q(t)} ;;" for p, n in nodes.items() for o, t in n["opts"].items() if t]
    pos = [f"        {_q(p)}) print_r {_q(n['positional'])} ;;" for p, n in nodes.items() if n["positional"]]

    def fn(name, cases):
        return "\n".join([f"__oxymus_{name}() {{", '    case "$1" in', *cases, "    esac", "}"])

    return "\n".join([
        "print_r() { printf '%s\\n' \"$1\"; }",
        fn("subs", subs), fn("opts", opts), fn("takes", takes), fn("positional", pos),
    ]).replace("print_r", "__oxymus_print")


# The walk over the words typed so far: find the command path, then what the current word can be.
# Written once in the subset of shell that bash and zsh run alike (zsh with KSH_ARRAYS off is fine:
# only ${arr[@]} and loops over it are used).
_WALK = r"""
# __oxymus_candidates CUR WORD...: the word being completed, then the words before it (without
# `oxymus`). Prints the candidates one per line; dynamic ones come from `oxymus __complete`.
__oxymus_candidates() {
    local cur="$1" cpath="" expect="" prev="" w sub t
    shift
    for w in "$@"; do
        prev="$w"
        if [ -n "$expect" ]; then expect=""; continue; fi
        case "$w" in
            -*=*) continue ;;
            -*) t="$(__oxymus_takes "$cpath|$w")"; [ -n "$t" ] && expect=1; continue ;;
        esac
        for sub in $(__oxymus_subs "$cpath"); do
            if [ "$sub" = "$w" ]; then cpath="${cpath:+$cpath }$w"; break; fi
        done
    done
    t=""
    if [ -n "$expect" ]; then t="$(__oxymus_takes "$cpath|$prev")"; fi
    if [ -z "$t" ]; then
        case "$cur" in
            -*) __oxymus_opts "$cpath" | tr ' ' '\n'; return ;;
        esac
        __oxymus_subs "$cpath" | tr ' ' '\n'
        t="$(__oxymus_positional "$cpath")"
    fi
    case "$t" in
        choices:*) printf '%s\n' "${t#choices:}" | tr ' ' '\n' ;;
        dyn:*) command oxymus __complete "${t#dyn:}" 2>/dev/null ;;
    esac
}
"""

_BASH = r"""
_oxymus() {
    local cur="${COMP_WORDS[COMP_CWORD]}" line
    COMPREPLY=()
    while IFS= read -r line; do
        [ -n "$line" ] && [[ "$line" == "$cur"* ]] && COMPREPLY+=("$line")
    done < <(__oxymus_candidates "$cur" "${COMP_WORDS[@]:1:COMP_CWORD-1}")
}
complete -o default -F _oxymus oxymus
"""

_ZSH = r"""
_oxymus() {
    local -a found
    found=("${(@f)$(__oxymus_candidates "${words[CURRENT]}" "${(@)words[2,CURRENT-1]}")}")
    found=("${(@)found:#}")
    if [ ${#found[@]} -gt 0 ]; then compadd -- "${(@)found}"; else _files; fi
}
if (( $+functions[compdef] )); then compdef _oxymus oxymus; fi
"""


_FISH_WALK = r"""
# The command path typed so far ("" for `oxymus` itself, "memory search"), read like the parser does.
function __oxymus_path
    set -l cpath ""
    set -l expect 0
    for w in (commandline -opc)[2..-1]
        if test $expect = 1
            set expect 0
            continue
        end
        switch $w
            case '-*=*'
                continue
            case '-*'
                contains -- "$cpath|$w" $__oxymus_valued; and set expect 1
                continue
        end
        if contains -- "$cpath|$w" $__oxymus_subpaths
            set cpath (string trim -- "$cpath $w")
        end
    end
    echo $cpath
end

function __oxymus_at
    set -l p (__oxymus_path)
    test "$p" = "$argv[1]"
end
"""


def _fish(nodes: dict[str, dict]) -> str:
    """fish's own declarative completions, each under the condition that the command path is its own."""
    subpaths = [f"{p}|{s}" for p, n in nodes.items() for s in n["subs"]]
    valued = [f"{p}|{o}" for p, n in nodes.items() for o, t in n["opts"].items() if t]
    lines = ["complete -c oxymus -e", "complete -c oxymus -f",
             "set -g __oxymus_subpaths " + " ".join(map(_q, subpaths)),
             "set -g __oxymus_valued " + " ".join(map(_q, valued)), _FISH_WALK]
    for path, node in nodes.items():
        cond = _q(f"__oxymus_at {_q(path)}")
        for sub in node["subs"]:
            lines.append(f"complete -c oxymus -n {cond} -a {_q(sub)}")
        for opt, takes in node["opts"].items():
            flag = f"-l {_q(opt[2:])}" if opt.startswith("--") else f"-s {_q(opt[1:])}"
            extra = ""
            if takes.startswith("choices:"):
                extra = f" -x -a {_q(takes[8:])}"
            elif takes.startswith("dyn:"):
                extra = f" -x -a {_q('(oxymus __complete ' + takes[4:] + ' 2>/dev/null)')}"
            elif takes == "value":
                extra = " -r -F"
            lines.append(f"complete -c oxymus -n {cond} {flag}{extra}")
        pos = node["positional"]
        if pos.startswith("choices:"):
            lines.append(f"complete -c oxymus -n {cond} -a {_q(pos[8:])}")
        elif pos.startswith("dyn:"):
            lines.append(f"complete -c oxymus -n {cond} -a {_q('(oxymus __complete ' + pos[4:] + ' 2>/dev/null)')}")
    return "\n".join(lines) + "\n"


def script(shell: str, nodes: dict[str, dict]) -> str:
    head = f"# oxymus completion for {shell}, generated by `oxymus completion {shell}`; regenerate after upgrading.\n"
    if shell == "fish":
        return head + _fish(nodes)
    return head + _tables(nodes) + "\n" + _WALK + (_BASH if shell == "bash" else _ZSH)


# --- `oxymus __complete KIND`: the dynamic values -------------------------------------------


def candidates(argv: list[str]) -> int:
    """Print one candidate per line for `oxymus __complete KIND`; on any error, print nothing.

    Asks the daemon; when none answers, reads the database read-only (never creates it).
    """
    if len(argv) != 1 or argv[0] not in COMPLETERS:
        return EXIT_USAGE
    try:
        values = _from_daemon(argv[0])
    except Exception:  # noqa: BLE001 - completion must never print an error into the command line
        try:
            values = _from_database(argv[0])
        except Exception:  # noqa: BLE001 - same
            values = []
    for value in dict.fromkeys(values):
        print(value)
    return EXIT_OK


def _sources(names: list[str]) -> list[str]:
    """Source ids and the connectors they belong to (`refresh git` polls every git source)."""
    out = []
    for name in names:
        out += [name.split(".", 1)[0], name]
    return out


def _from_daemon(kind: str) -> list[str]:
    from oxymus.cli.base import resolve_paths
    from oxymus.client.sync_client import connect

    with connect(resolve_paths().socket, timeout=2.0) as conn:
        if kind == "sources":
            return _sources([s["source"] for s in conn.call("state.sources")["sources"]])
        if kind == "records":
            return [h["id"] for h in conn.call("memory.search", {"query": "", "limit": 200})["hits"]]
        params: dict = {"limit": 200, "newest_first": True}
        if _STATUSES[kind]:
            params["status"] = list(_STATUSES[kind])
        return [a["id"] for a in conn.call("actions.list", params)["actions"]]


def _from_database(kind: str) -> list[str]:
    import sqlite3

    from oxymus.cli.base import resolve_paths

    db = sqlite3.connect(f"file:{resolve_paths().db_file}?mode=ro", uri=True, timeout=1.0)
    try:
        if kind == "sources":
            return _sources([r[0] for r in db.execute("SELECT source FROM source_health ORDER BY source")])
        if kind == "records":
            sql = "SELECT id FROM memory_records WHERE archived = 0 ORDER BY updated_at DESC LIMIT 200"
            return [r[0] for r in db.execute(sql)]
        statuses = _STATUSES[kind]
        where = f"WHERE status IN ({', '.join('?' * len(statuses))})" if statuses else ""
        return [r[0] for r in db.execute(f"SELECT id FROM actions {where} ORDER BY seq DESC LIMIT 200", statuses)]
    finally:
        db.close()
