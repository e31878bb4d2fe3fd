"""`oxymus review ...`: the guided morning review (in the TUI) and whether today's was done."""

from __future__ import annotations

from oxymus.cli.base import EXIT_OK, daemon_call, print_json, resolve_paths

LABELS = {"yesterday": "Yesterday", "calendar": "Calendar", "inbox": "Inbox", "approvals": "Approvals",
          "top": "Top three", "done": "Done"}


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    review = command("review", cmd_review_status, "the morning review: `morning` walks it in the TUI; `status` says if today's is done")
    rsub = review.add_subparsers(title="review actions", metavar="ACTION")

    def rcommand(name: str, handler, help: str):
        q = rsub.add_parser(name, help=help, description=help)
        q.set_defaults(handler=handler)
        return q

    q = rcommand("morning", cmd_review_morning, "open the TUI straight into today's morning review (starting the daemon if needed); "
                                                "a review left earlier resumes at its step")
    q.add_argument("--no-start", action="store_true", help="do not start the daemon; wait for one")
    q = rcommand("status", cmd_review_status, "is today's review done; where an unfinished one stopped; days since the last one")
    q.add_argument("--json", action="store_true", help="print JSON")


def cmd_review_morning(args) -> int:
    from oxymus.tui.app import run

    return run(resolve_paths(), start_daemon=not args.no_start, review=True)


def cmd_review_status(args) -> int:
    st = daemon_call("review status", "review.status")
    if getattr(args, "json", False):
        print_json(st)
        return EXIT_OK
    if st["status"] == "done":
        print(f"today's review ({st['date']}): done")
    elif st["status"] == "open":
        print(f"today's review ({st['date']}): stopped at {LABELS.get(st['step'], st['step'])}; "
              "`oxymus review morning` resumes it there")
    else:
        print(f"today's review ({st['date']}): not started; `oxymus review morning` starts it")
    days = st["days_since_last"]
    if days is None:
        print("last review: never")
    elif days > 0:
        print(f"last review: {st['last_done']} ({days} day{'s' if days != 1 else ''} ago)")
    return EXIT_OK
