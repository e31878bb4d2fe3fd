"""`oxymus review ...`: the guided morning and weekly reviews (in the TUI) and whether they were done."""

from __future__ import annotations

from oxymus.cli.base import EXIT_OK, daemon_call, print_json, resolve_paths

LABELS = {"yesterday": "Yesterday", "calendar": "Calendar", "inbox": "Inbox", "approvals": "Approvals",
          "top": "Top three", "done": "Done"}
WEEKLY_LABELS = {"week": "The week", "questions": "Questions", "proposals": "Proposals", "done": "Done"}


def register(command) -> None:
    """Add the commands to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    review = command("review", cmd_review_status, "the morning and weekly reviews: `morning` and `weekly` walk them in the TUI; "
                                                  "`status` says if they are done")
    rsub = review.add_subparsers(title="review actions", metavar="ACTION")

    def rcommand(name: str, handler, help: str):
        q = rsub.add_parser(name, help=help, description=help)
        q.set_defaults(handler=handler)
        return q

    q = rcommand("morning", cmd_review_morning, "open the TUI straight into today's morning review (starting the daemon if needed); "
                                                "a review left earlier resumes at its step")
    q.add_argument("--no-start", action="store_true", help="do not start the daemon; wait for one")
    q = rcommand("weekly", cmd_review_weekly, "open the TUI straight into the week's weekly review (starting the daemon if needed): "
                                              "the reflection's review of the week, its questions, its proposals; "
                                              "a review left earlier resumes at its step")
    q.add_argument("--no-start", action="store_true", help="do not start the daemon; wait for one")
    q = rcommand("status", cmd_review_status, "is today's review done; where an unfinished one stopped; days since the last one; "
                                              "the same for the week's weekly review")
    q.add_argument("--json", action="store_true", help="print JSON")


def cmd_review_morning(args) -> int:
    from oxymus.tui.app import run

    return run(resolve_paths(), start_daemon=not args.no_start, review="morning")


def cmd_review_weekly(args) -> int:
    from oxymus.tui.app import run

    return run(resolve_paths(), start_daemon=not args.no_start, review="weekly")


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
    weekly = st.get("weekly")
    if weekly:
        head = f"weekly review ({weekly['week']})"
        if weekly["status"] == "done":
            print(f"{head}: done")
        elif weekly["status"] == "open":
            print(f"{head}: stopped at {WEEKLY_LABELS.get(weekly['step'], weekly['step'])}; `oxymus review weekly` resumes it there")
        else:
            print(f"{head}: not started; `oxymus review weekly` starts it")
    return EXIT_OK
