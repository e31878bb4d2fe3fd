"""`oxymus doctor [--json]`: check the whole setup and say how to fix each problem."""

from __future__ import annotations

from oxymus.cli.base import EXIT_FAIL, EXIT_OK, print_json, resolve_paths


def register(command) -> None:
    """Add the command to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    p = command("doctor", cmd_doctor,
                "check config, policy, keyring, sources, socket, database, backups, notifications, Ollama and the "
                "service; print a fix for each problem (exit status 1 when something needs attention)")
    p.add_argument("--json", action="store_true", help="print the checks as JSON: name, status (ok, warn, fail, skip), detail, fix")


def cmd_doctor(args) -> int:
    import shutil

    from oxymus.doctor import run, table

    checks = run.run(resolve_paths())
    if args.json:
        print_json([c.model_dump() for c in checks])
    else:
        print(table.render(checks, width=min(shutil.get_terminal_size((80, 24)).columns, 100)), end="")
    return EXIT_FAIL if any(c.needs_attention for c in checks) else EXIT_OK
