"""The `oxymus` command. Argument parsing only; each command imports what it needs.

`oxymus capture` is dispatched before argparse is even imported: it is the
command people run most, mid-thought, and its budget is twice a bare Python start.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NOT_RUNNING = 0, 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["capture"]:
        from oxymus import capture_cmd

        code = capture_cmd.main(argv[1:])
        if code is not None:
            return code
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None) or cmd_tui
    try:
        return handler(args)
    except _Exit as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130
    except _errors() as exc:
        print(f"oxymus: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _errors() -> tuple[type[BaseException], ...]:
    from oxymus.config import ConfigError
    from oxymus.paths import PathsError

    return (ConfigError, PathsError)


def build_parser():
    import argparse

    from oxymus import __version__

    parser = argparse.ArgumentParser(
        prog="oxymus",
        description="Oxymus, a personal operating system. With no command, opens the TUI (starting the daemon if needed).",
    )
    parser.add_argument("--version", action="version", version=f"oxymus {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler, help: str):
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    command("tui", cmd_tui, "open the terminal UI (the default when no command is given)")

    p = command("capture", None, "put a thought in the inbox; prints its id (works with the daemon down)")
    p.add_argument("text", nargs="+", metavar="TEXT", help="the words to capture, or - to read them from stdin")
    p.add_argument("--source", default="cli", help="where it came from (default: cli; stdin when reading -)")
    p.add_argument("--json", action="store_true", help="print the stored capture as JSON")
    p.set_defaults(handler=_capture_via_argparse)

    p = command("inbox", cmd_inbox, "list open captures, newest first")
    p.add_argument("--json", action="store_true", help="print JSON (a list of captures)")
    p.add_argument("--limit", type=int, default=500, help="at most this many (default 500)")

    p = command("today", cmd_today, "the day: events, deadlines, bills, repos and PRs needing you, and how fresh each source is")
    p.add_argument("--date", help="another day, as YYYY-MM-DD (default: today in the configured zone)")
    p.add_argument("--json", action="store_true", help="print JSON (the shape is documented in README.md)")

    p = command("refresh", cmd_refresh, "poll sources now (all, one source id, or every source of a connector)")
    p.add_argument("source", nargs="?", help="e.g. git, github, bills, calendar, calendar.personal")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("secret", cmd_secret, "store or remove a secret in the OS keyring (passwords, tokens)")
    p.add_argument("action", choices=["set", "delete"], help="set reads the value from the terminal (or stdin)")
    p.add_argument("name", help="e.g. github, calendar.work")

    p = command("status", cmd_status, "is the daemon running: pid, uptime, socket, database, schema version")
    p.add_argument("--json", action="store_true", help="print JSON")

    command("up", cmd_up, "start the daemon in the background; returns once it answers")
    command("down", cmd_down, "stop the daemon gracefully")
    p = command("daemon", cmd_daemon, "run the daemon in the foreground (logs to stderr and the log file)")
    p.add_argument("--background", action="store_true", help=argparse.SUPPRESS)

    p = command("init", cmd_init, "create the profile's folders and a commented default config.toml")
    p.add_argument("--force", action="store_true", help="overwrite an existing config.toml")

    p = command("paths", cmd_paths, "print where this profile's files live")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command("demo", cmd_demo, "seed a demo profile with a sample life, start its daemon and open the TUI")
    p.add_argument("--home", help="the demo profile's folder (default: a 'demo' folder in Oxymus' data dir)")
    p.add_argument("--no-tui", action="store_true", help="seed and start the daemon, but do not open the TUI")
    return parser


def _paths():
    from oxymus import paths

    return paths.resolve()


def _config(paths):
    from oxymus import config

    return config.load(config.config_path_from_env(paths.config_file))


def _print_json(value) -> None:
    import json

    print(json.dumps(value, indent=2, ensure_ascii=False))


def _capture_via_argparse(args) -> int:
    # Reached only when the fast path declined (it never does for valid input); keep one code path.
    from oxymus import capture_cmd

    argv = list(args.text) + ["--source", args.source] + (["--json"] if args.json else [])
    return capture_cmd.main(argv) or 0


def cmd_inbox(args) -> int:
    from oxymus.client import DaemonUnavailable, connect

    paths = _paths()
    try:
        with connect(paths.socket) as conn:
            captures = conn.call("inbox.list", {"status": "open", "limit": args.limit})["captures"]
    except DaemonUnavailable:
        captures = _inbox_offline(paths, args.limit)
    if args.json:
        _print_json(captures)
        return EXIT_OK
    if not captures:
        print("Inbox zero.")
        return EXIT_OK
    from oxymus.textfmt import local_time, one_line

    for c in captures:
        print(f"{c['id']}  {local_time(c['created_at'])}  {one_line(c['text'], 100)}")
    return EXIT_OK


def _inbox_offline(paths, limit: int) -> list[dict]:
    """Reading needs no daemon either: the store is a file we can open directly."""
    import os

    from oxymus.store import capture_sql, db

    if not os.path.exists(paths.db_file):
        return []
    conn = db.connect(paths.db_file)
    try:
        rows = conn.execute(capture_sql.SELECT_BY_STATUS, ("open", limit)).fetchall()
    finally:
        conn.close()
    return [capture_sql.row_to_dict(r) for r in rows]


class _Exit(Exception):
    """Ends a command with this status (after its message was printed)."""

    def __init__(self, code: int):
        self.code = code


def _daemon_call(command: str, method: str, params: dict | None = None, timeout: float = 120.0):
    """Call the daemon for `oxymus COMMAND`; prints why and exits when it cannot."""
    from oxymus import wire
    from oxymus.client import DaemonUnavailable, connect

    paths = _paths()
    try:
        with connect(paths.socket, timeout=timeout) as conn:
            return conn.call(method, params)
    except DaemonUnavailable:
        print(f"oxymus {command}: the daemon is not running; start it with `oxymus up`", file=sys.stderr)
        raise _Exit(EXIT_NOT_RUNNING) from None
    except wire.RpcError as exc:
        print(f"oxymus {command}: {exc.message}", file=sys.stderr)
        raise _Exit(EXIT_USAGE) from None


def cmd_today(args) -> int:
    result = _daemon_call("today", "today.get", {"date": args.date} if args.date else {})
    if args.json:
        _print_json(result)
        return EXIT_OK
    from oxymus.today import Today
    from oxymus.today_text import render

    print(render(Today.model_validate(result)))
    return EXIT_OK


def cmd_refresh(args) -> int:
    result = _daemon_call("refresh", "state.refresh", {"source": args.source} if args.source else {})
    if args.json:
        _print_json(result)
    else:
        from oxymus.models import SourceView
        from oxymus.today_text import freshness

        views = [SourceView.model_validate(s) for s in result["sources"]]
        if not views:
            print("no sources configured")
        width = max((len(v.source) for v in views), default=0)
        for v in views:
            print(f"{v.source:<{width}}  {v.item_count:>5} items  {freshness(v)}")
    failing = any(s["consecutive_failures"] for s in result["sources"])
    return EXIT_FAIL if failing else EXIT_OK


def cmd_secret(args) -> int:
    from oxymus import secrets

    try:
        if args.action == "delete":
            found = secrets.delete(args.name)
            print(f"deleted {args.name}" if found else f"{args.name} was not stored")
            return EXIT_OK
        if sys.stdin.isatty():
            import getpass

            value = getpass.getpass(f"{args.name}: ")
        else:
            value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            print("oxymus secret: empty value; nothing stored", file=sys.stderr)
            return EXIT_USAGE
        secrets.set(args.name, value)
    except secrets.SecretStoreUnavailable as exc:
        print(f"oxymus secret: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"stored {args.name} in the keyring")
    return EXIT_OK


def cmd_status(args) -> int:
    from oxymus import launcher

    paths = _paths()
    st = launcher.status(paths)
    if args.json:
        _print_json({"running": st is not None, **(st or {}), "paths": paths.as_dict()})
        return EXIT_OK if st else EXIT_NOT_RUNNING
    if st is None:
        print(f"daemon: not running (socket {paths.socket})")
        return EXIT_NOT_RUNNING
    from oxymus.textfmt import duration

    print(f"daemon:   running, pid {st['pid']}, up {duration(st['uptime_s'])}, oxymus {st['version']}")
    print(f"socket:   {st['socket']}")
    print(f"database: {st['database']} (schema v{st['schema_version']})")
    print(f"clients:  {st['clients']} connected, {st['subscribers']} subscribed")
    if st.get("sources"):
        from oxymus.models import SourceView
        from oxymus.today_text import freshness

        print("sources:")
        views = [SourceView.model_validate(s) for s in st["sources"]]
        width = max(len(v.source) for v in views)
        for v in views:
            print(f"  {v.source:<{width}}  {freshness(v)}")
    return EXIT_OK


def cmd_up(args) -> int:
    from oxymus import launcher

    paths = _paths()
    _config(paths)  # a bad config is reported here, clearly, not as a dead daemon
    try:
        st = launcher.start(paths)
    except launcher.StartFailed as exc:
        print(f"oxymus up: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"daemon running, pid {st['pid']}, socket {st['socket']}")
    return EXIT_OK


def cmd_down(args) -> int:
    from oxymus import launcher

    pid = launcher.stop(_paths())
    print("daemon was not running" if pid is None else f"daemon stopped (pid {pid})")
    return EXIT_OK


def cmd_daemon(args) -> int:
    paths = _paths()
    config = _config(paths)
    from oxymus.daemon import main as daemon_main

    return daemon_main.run(paths, config, foreground=not args.background)


def cmd_init(args) -> int:
    import os

    from oxymus import config

    paths = _paths()
    paths.ensure()
    target = paths.config_file
    if os.path.exists(target) and not args.force:
        config.load(target)  # still report problems in the existing one
        print(f"{target} already exists (valid); use --force to overwrite it with the defaults")
        return EXIT_OK
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(config.default_toml())
    print(f"wrote {target}")
    return EXIT_OK


def cmd_paths(args) -> int:
    paths = _paths()
    if args.json:
        _print_json(paths.as_dict())
    else:
        for key, value in paths.as_dict().items():
            if value:
                print(f"{key:12} {value}")
    return EXIT_OK


def cmd_tui(args) -> int:
    from oxymus.tui.app import run

    return run(_paths())


def cmd_demo(args) -> int:
    from oxymus import demo

    return demo.run(home=args.home, open_tui=not args.no_tui)
