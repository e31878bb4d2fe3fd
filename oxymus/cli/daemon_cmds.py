"""The daemon and the profile: `oxymus tui`, `status`, `up`, `down`, `daemon`, `init`, `paths`, `demo`."""

from __future__ import annotations

import sys

from oxymus.cli.base import EXIT_FAIL, EXIT_NOT_RUNNING, EXIT_OK, EXIT_USAGE, load_config, print_json, resolve_paths


def register_tui(command) -> None:
    """`oxymus tui`: first in the command list (it is the default command)."""
    p = command("tui", cmd_tui, "open the terminal UI (the default when no command is given)")
    p.add_argument("--no-start", action="store_true",
                   help="do not start the daemon; wait for one (captures typed meanwhile are written to disk directly)")


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    import argparse

    p = command("status", cmd_status, "is the daemon running: pid, uptime, socket, database, schema version")
    p.add_argument("--json", action="store_true", help="print JSON")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--line", action="store_true",
                     help="one short line for a status bar (tmux, i3blocks, polybar): approvals waiting, open captures, "
                          "problems, e.g. '⏳2 ✉5 ⚠1'; '✓' when all is calm; '⏻' when the daemon is down")
    bar.add_argument("--waybar", action="store_true", help="the same as JSON for waybar's custom module: text, tooltip, class")

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


def cmd_status(args) -> int:
    if args.line or args.waybar:  # `oxymus.cli.status_line` answers them alone, before argparse; here they came with more
        print("oxymus status: --line and --waybar go alone (--waybar already prints JSON)", file=sys.stderr)
        return EXIT_USAGE
    from oxymus.client import launcher

    paths = resolve_paths()
    st = launcher.status(paths)
    from oxymus.profile import stop_reason

    why = stop_reason.read(paths.stop_reason_file) if st is None else None
    if args.json:
        extra = {"last_start_failed": {"at": why[0], "reason": why[1]}} if why else {}
        print_json({"running": st is not None, **(st or {}), **extra, "paths": paths.as_dict()})
        return EXIT_OK if st else EXIT_NOT_RUNNING
    if st is None:
        print(f"daemon: not running (socket {paths.socket})")
        if why:
            print(f"why:    its last start failed ({why[0]}): {why[1]}")
        return EXIT_NOT_RUNNING
    from oxymus.kernel.textfmt import duration

    print(f"daemon:   running, pid {st['pid']}, up {duration(st['uptime_s'])}, oxymus {st['version']}")
    print(f"socket:   {st['socket']}")
    print(f"database: {st['database']} (schema v{st['schema_version']})")
    print(f"clients:  {st['clients']} connected, {st['subscribers']} subscribed")
    pause = st.get("pause")
    if pause:
        print(f"paused:   since {pause['since']}" + (f", until {pause['until']}" if pause.get("until") else ", until `oxymus resume`"))
    if st.get("starting"):  # answering already; sources, approvals and agents come a moment later
        print("loading:  sources, actions and agents (just started)")
    else:
        waiting, snoozed = st.get("approvals_waiting", 0), st.get("approvals_snoozed", 0)
        print(f"approvals: {waiting - snoozed} waiting" + (f", {snoozed} snoozed" if snoozed else "")
              + (" (`oxymus approvals`)" if waiting else ""))
    if st.get("integrity"):
        print(f"integrity: {st['integrity']}")
    if st.get("llm"):
        print(f"llm:      {st['llm']}")
    if st.get("notifications"):
        print(f"notify:   unavailable: {st['notifications']}")
    if st.get("storage_error"):
        print(f"storage:  {st['storage_error']}")
    if st.get("policy_error"):
        print(f"policy:   {st['policy_error']}; every action needs approval until it is fixed")
    if st.get("sources"):
        from oxymus.models import SourceView
        from oxymus.today.text import freshness

        print("sources:")
        views = [SourceView.model_validate(s) for s in st["sources"]]
        width = max(len(v.source) for v in views)
        for v in views:
            print(f"  {v.source:<{width}}  {freshness(v)}")
    return EXIT_OK


def cmd_up(args) -> int:
    from oxymus.client import launcher

    paths = resolve_paths()
    # The config is not read here (pydantic would double the time `up` takes): the daemon reads
    # it, and a bad one is its exit status 2 with one clear line, passed on as it is.
    try:
        st = launcher.start(paths)
    except launcher.StartFailed as exc:
        if exc.status == EXIT_USAGE and exc.detail and "\n" not in exc.detail:
            print(exc.detail, file=sys.stderr)
            return EXIT_USAGE
        print(f"oxymus up: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"daemon running, pid {st['pid']}, socket {st['socket']}")
    return EXIT_OK


def cmd_down(args) -> int:
    from oxymus.client import launcher

    pid = launcher.stop(resolve_paths())
    print("daemon was not running" if pid is None else f"daemon stopped (pid {pid})")
    return EXIT_OK


def cmd_daemon(args) -> int:
    paths = resolve_paths()
    config = load_config(paths)
    from oxymus.daemon import main as daemon_main

    return daemon_main.run(paths, config, foreground=not args.background)


def cmd_init(args) -> int:
    import os

    from oxymus.profile import config

    paths = resolve_paths()
    paths.ensure()
    target = paths.config_file
    if os.path.exists(target) and not args.force:
        config.load(target)  # still report problems in the existing one
        print(f"{target} already exists (valid); use --force to overwrite it with the defaults")
        return EXIT_OK
    with open(target, "w", encoding="utf-8") as fh:
        fh.write(config.default_toml())
    print(f"wrote {target}")
    if not os.path.exists(paths.policy_file):
        from oxymus.actions.policy import EXAMPLE

        with open(paths.policy_file, "w", encoding="utf-8") as fh:
            fh.write(EXAMPLE)
        print(f"wrote {paths.policy_file}")
    return EXIT_OK


def cmd_paths(args) -> int:
    paths = resolve_paths()
    if args.json:
        print_json(paths.as_dict())
    else:
        for key, value in paths.as_dict().items():
            if value:
                print(f"{key:12} {value}")
    return EXIT_OK


def cmd_tui(args) -> int:
    from oxymus.tui.app import run

    return run(resolve_paths(), start_daemon=not getattr(args, "no_start", False))


def cmd_demo(args) -> int:
    from oxymus import demo

    return demo.run(home=args.home, open_tui=not args.no_tui)
