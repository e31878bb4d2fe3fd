"""The `oxymus` command: dispatch and the argparse tree. Each command group is a module
of this package that registers its subcommands (`register(command)`) and imports what
it needs; what they share is `oxymus.cli.base`. Command modules import the base only,
never each other (tests/test_architecture.py checks it).

`oxymus capture` is dispatched before argparse is even imported: it is the
command people run most, mid-thought, and its budget is twice a bare Python start.
`oxymus status --line` and `--waybar` take the same kind of path: a status bar runs them
every few seconds.
This module therefore imports nothing at load but `sys`.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    import os

    # Owner-only for everything we create in the profile: the database's WAL holds recent
    # captures, config.toml and policy.toml say how you live. (os is loaded at start-up anyway.)
    os.umask(0o077)
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a reader that went away shows here, not at interpreter exit
    except BrokenPipeError:
        return _reader_went_away()
    return code


def _reader_went_away() -> int:
    """`oxymus inbox | head`: the reader closed the pipe. Stop quietly, as a shell tool does.

    Python's own recipe (docs: signal, "Note on SIGPIPE"): point stdout at devnull so the
    flush at exit cannot raise again, and end with the status SIGPIPE would have given.
    """
    import os

    from oxymus.cli.base import EXIT_BROKEN_PIPE

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (an embedding, a test's capture): nothing will flush to the pipe
    return EXIT_BROKEN_PIPE


_WITHOUT_ARGPARSE = {("up",): "cmd_up", ("daemon", "--background"): "cmd_daemon"}


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["capture"]:
        from oxymus.cli import capture

        code = capture.main(argv[1:])
        if code is not None:
            return code
    if argv[:1] == ["__complete"]:  # the shell asks at TAB time: answer before argparse is loaded
        from oxymus.cli import completion

        return completion.candidates(argv[1:])
    if argv[:1] == ["status"] and len(argv) == 2:
        from oxymus.cli import status_line

        code = status_line.main(argv[1:])
        if code is not None:
            return code
    from oxymus.cli.base import EXIT_FAIL, EXIT_USAGE, Exit
    from oxymus.cli.daemon_cmds import cmd_tui

    if tuple(argv) in _WITHOUT_ARGPARSE:
        # `oxymus up` and the daemon it starts: building the whole argparse tree would be a
        # tenth of a start, for arguments known in advance (issue 14).
        from types import SimpleNamespace

        from oxymus.cli import daemon_cmds

        handler = getattr(daemon_cmds, _WITHOUT_ARGPARSE[tuple(argv)])
        args = SimpleNamespace(background="--background" in argv)
    else:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None) or cmd_tui
    try:
        return handler(args)
    except Exit as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130
    except _errors() as exc:
        print(f"oxymus: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        problem = _storage_problem(exc)
        if problem is None:
            raise
        print(f"oxymus: {problem}", file=sys.stderr)
        return EXIT_FAIL


def _errors() -> tuple[type[BaseException], ...]:
    from oxymus.profile.config import ConfigError
    from oxymus.profile.paths import PathsError

    return (ConfigError, PathsError)


def _storage_problem(exc: Exception):
    """A full disk or a damaged database met by a command working on the file directly (`inbox` offline)."""
    from oxymus.cli.base import resolve_paths
    from oxymus.store.storage_errors import classify

    return classify(exc, resolve_paths().db_file)


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

    from oxymus.cli import (
        actions, agents, capture, completion, daemon_cmds, doctor, inbox, memory, metrics, notifications, plans, records,
        recovery, review, service, state,
    )

    # The order here is the order of `oxymus --help` and of docs/reference.md.
    daemon_cmds.register_tui(command)
    capture.register(command)
    inbox.register(command)
    state.register(command)
    memory.register(command)
    records.register(command)
    plans.register(command)
    review.register(command)
    actions.register(command)
    notifications.register(command)
    agents.register(command)
    metrics.register(command)
    recovery.register(command)
    daemon_cmds.register(command)
    service.register(command)
    doctor.register(command)
    completion.register(command, parser)
    return parser
