"""`oxymus metrics`: compounding metrics per month (manual handoffs, time to resolution, error rates, agents)."""

from __future__ import annotations

from oxymus.cli.base import EXIT_OK, daemon_call, print_json


def register(command) -> None:
    """Add the command to the parser through the `command` helper of `oxymus.cli.build_parser`."""
    q = command("metrics", cmd_metrics, "per month: manual handoffs per finished item, time to resolution, error rates, "
                                       "and how agents' proposals were settled, each with its trend")
    q.add_argument("--months", type=int, default=6, help="how many months, the current one last (default 6, at most 36)")
    q.add_argument("--json", action="store_true", help="print the whole result (with counts and p90s) as JSON")


def cmd_metrics(args) -> int:
    result = daemon_call("metrics", "metrics.get", {"months": args.months})
    if args.json:
        print_json(result)
        return EXIT_OK
    from oxymus.metrics.models import MetricsResult
    from oxymus.metrics.table import render

    print(render(MetricsResult.model_validate(result)))
    return EXIT_OK
