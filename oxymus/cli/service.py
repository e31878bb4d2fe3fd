"""`oxymus service install|uninstall|status`: the daemon as a user service (systemd, launchd)."""

from __future__ import annotations

import sys

from oxymus.cli.base import EXIT_FAIL, EXIT_OK, print_json, resolve_paths


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    service = command("service", None, "run the daemon as a user service (systemd on Linux, launchd on macOS)")
    ssub = service.add_subparsers(title="service commands", metavar="ACTION", required=True)

    def scommand(name: str, handler, help: str):
        q = ssub.add_parser(name, help=help, description=help)
        q.set_defaults(handler=handler)
        return q

    q = scommand("install", cmd_install,
                 "write the user unit (or launchd plist) for this `oxymus` and this profile, enable it and start it")
    q.add_argument("--dry-run", action="store_true", help="print what would be written and run; change nothing")
    q = scommand("uninstall", cmd_uninstall, "stop and disable the service and remove its file")
    q.add_argument("--dry-run", action="store_true", help="print what would be removed and run; change nothing")
    q = scommand("status", cmd_status, "is the service installed (where), enabled, running")
    q.add_argument("--json", action="store_true", help="print JSON")


def _carry_out(verb: str, plan, dry_run: bool) -> int:
    from oxymus.service import manager

    if dry_run:
        for step in plan.steps:
            print(f"would {step.describe()}" + (":" if step.content is not None else ""))
            if step.content is not None:
                print(step.content, end="" if step.content.endswith("\n") else "\n")
        if not plan.steps:
            print(f"nothing to {verb}: no service is installed ({plan.path})")
        if plan.blocked:
            print(f"but it would fail here: {plan.blocked}")
        return EXIT_OK
    if not plan.steps:
        print(f"nothing to {verb}: no service is installed ({plan.path})")
        return EXIT_OK
    try:
        manager.apply(plan, resolve_paths(), report=lambda step: print(step.describe(done=True)))
    except manager.ServiceError as exc:
        print(f"oxymus service {verb}: {exc}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def cmd_install(args) -> int:
    from oxymus.service import manager

    paths = resolve_paths()
    try:
        plan = manager.install_plan(paths)
    except manager.ServiceError as exc:
        print(f"oxymus service install: {exc}", file=sys.stderr)
        return EXIT_FAIL
    code = _carry_out("install", plan, args.dry_run)
    if code == EXIT_OK and not args.dry_run:
        state = manager.status(plan.manager)
        print(f"service: {state.state or 'installed'} ({plan.path})")
        if plan.manager == "systemd":
            print(f"logs:    journalctl --user -u oxymus   (the daemon writes no {paths.log_file} under systemd)")
    return code


def cmd_uninstall(args) -> int:
    from oxymus.service import manager

    try:
        plan = manager.uninstall_plan()
    except manager.ServiceError as exc:
        print(f"oxymus service uninstall: {exc}", file=sys.stderr)
        return EXIT_FAIL
    return _carry_out("uninstall", plan, args.dry_run)


def cmd_status(args) -> int:
    from oxymus.service import manager

    try:
        state = manager.status()
    except manager.ServiceError as exc:
        print(f"oxymus service status: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print_json(state.model_dump())
        return EXIT_OK

    def word(value: bool | None, yes: str, no: str) -> str:
        return "unknown" if value is None else yes if value else no

    print(f"installed: {'yes, ' + state.path if state.installed else 'no (' + state.path + ' does not exist)'}")
    print(f"enabled:   {word(state.enabled, 'yes', 'no')}")
    print(f"running:   {word(state.running, 'yes', 'no')}" + (f" ({state.state})" if state.state else ""))
    if state.problem:
        print(f"problem:   {state.problem}")
    elif not state.installed:
        print("fix:       `oxymus service install` (try `--dry-run` first)")
    return EXIT_OK
