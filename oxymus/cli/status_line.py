"""`oxymus status --line` and `--waybar`: one short line for a status bar. Stdlib only.

`oxymus.cli.main` calls `main` here before argparse is imported (a bar runs it every
few seconds); `oxymus.cli.daemon_cmds` adds the flags to `oxymus status` for `--help`
and the docs. The counts come from `oxymus.client.status_line.fetch`: the daemon, or
the database read-only when it is down.

    ⏳2 ✉5 ⚠1     approvals waiting, open captures, problems (a part that is zero is left out)
    ✓            all calm
    ⏳2 ⏻         the daemon is down (the counts come from the database)
"""

from __future__ import annotations

import json

CALM = "✓"
DOWN = "⏻"


def line(counts: dict, up: bool) -> str:
    parts = [f"{sym}{n}" for sym, n in (("⏳", counts["approvals"]), ("✉", counts["inbox"]), ("⚠", len(counts["problems"]))) if n]
    if not up:
        parts.append(DOWN)
    return " ".join(parts) or CALM


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def tooltip(counts: dict, up: bool) -> str:
    rows = []
    if counts["approvals"]:
        rows.append(_plural(counts["approvals"], "approval waiting", "approvals waiting"))
    if counts["inbox"]:
        rows.append(_plural(counts["inbox"], "capture in the inbox", "captures in the inbox"))
    problems = counts["problems"]
    if problems:
        rows.append(f"{_plural(len(problems), 'problem', 'problems')}: {', '.join(problems)}")
    if not rows:
        rows.append("all calm: nothing waiting, nothing failing")
    if not up:
        rows.append("the daemon is down (counts read from the database)")
    return "\n".join(rows)


def waybar(counts: dict, up: bool) -> dict:
    if not up:
        css = "down"
    elif counts["approvals"] or counts["problems"]:
        css = "attention"
    else:
        css = "ok"
    return {"text": line(counts, up), "tooltip": tooltip(counts, up), "class": css}


def main(argv: list[str]) -> int | None:
    """`status --line` / `status --waybar`; None when argparse should handle the arguments."""
    if argv not in (["--line"], ["--waybar"]):
        return None
    from oxymus.client.status_line import NoDatabase, fetch
    from oxymus.profile import paths as paths_mod

    try:
        counts, up = fetch(paths_mod.resolve())
    except NoDatabase as exc:
        text = f"oxymus down, {exc.short}"
        if argv == ["--waybar"]:  # exit 0: waybar hides a module whose command fails; "class" says it
            print(json.dumps({"text": text, "tooltip": f"the daemon is down and there is nothing to count: {exc}", "class": "down"},
                             ensure_ascii=False))
            return 0
        print(text)
        return 1
    except Exception as exc:  # a bad OXYMUS_HOME, a socket path too long: one short line, never a traceback in a bar
        if argv == ["--waybar"]:
            print(json.dumps({"text": "oxymus ?", "tooltip": f"oxymus: {exc}", "class": "down"}, ensure_ascii=False))
            return 0
        print(f"oxymus: {exc}")
        return 1
    print(json.dumps(waybar(counts, up), ensure_ascii=False) if argv == ["--waybar"] else line(counts, up))
    return 0
