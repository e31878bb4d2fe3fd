"""Tiny statistics helpers shared by the bench scripts (stdlib only).

Percentiles use the nearest-rank method: the p-th percentile of n sorted samples
is the sample at rank ceil(p/100 * n) (1-based). It always returns a value that
was actually measured, needs no interpolation, and is what most latency tools
report. The median here is the nearest-rank p50 (for an even n, the lower of
the two middle samples), so every figure in a table comes from the same rule.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile, 0 < p <= 100."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(samples: Iterable[float], points: Iterable[float] = (50, 90, 99)) -> dict[str, float]:
    """{"n", "p50", "p90", ..., "min", "max"} for the given samples."""
    values = list(samples)
    out: dict[str, float] = {"n": len(values)}
    for p in points:
        out[f"p{p:g}"] = percentile(values, p)
    out["min"] = min(values)
    out["max"] = max(values)
    return out


def ns_to_ms(values: Iterable[int]) -> list[float]:
    return [v / 1e6 for v in values]


def footer(report: dict) -> list[str]:
    """The lines every report ends with: what was checked, then anything to be wary of."""
    return [f"check: {c}" for c in report.get("checks", [])] + [f"WARNING: {w}" for w in report.get("warnings", [])]


class BenchError(Exception):
    """A benchmark that cannot run as set up; its message is printed without a traceback."""


def emit(report: dict, table: str, as_json: bool, indent: int = 2) -> int:
    """Print the table, or with --json the JSON report on stdout and the table on stderr."""
    import json
    import sys

    if as_json:
        print(table, file=sys.stderr)
        json.dump(report, sys.stdout, indent=indent)
        print()
    else:
        print(table)
    return 0


def run_main(main, script: str) -> None:
    """Run a bench script's main(), turning BenchError into a one-line message and exit status 1."""
    import sys

    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"\nbench/{script}: {exc}", file=sys.stderr)
        sys.exit(1)
