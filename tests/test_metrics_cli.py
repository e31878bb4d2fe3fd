"""`oxymus metrics` against a real daemon over the seeded three months (tests/metrics_seed.py): the
table (80 columns for six months), --json as the result model, --months, and a daemon that is not there."""

from __future__ import annotations

import asyncio
import json

from conftest import run_cli, start_daemon
from metrics_seed import NOW, ZONE, seed

from oxymus.metrics.models import MetricsResult
from oxymus.time.clock import PIN_ENV


def test_metrics_table_and_json_from_a_real_daemon(profile, monkeypatch):
    profile.ensure()
    asyncio.run(seed(profile.data_dir))
    monkeypatch.setenv(PIN_ENV, NOW.isoformat())
    daemon = start_daemon(profile, config=f'[time]\nzone = "{ZONE}"\n')
    try:
        done = run_cli("metrics")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.decode().splitlines()
        assert max(len(line) for line in lines) <= 80
        assert lines[0].split() == ["May", "Jun", "Jul", "Aug", "Sep", "Oct", "trend"]
        row = next(line for line in lines if line.startswith("handoffs/item"))
        assert row.split() == ["handoffs/item", "-", "-", "-", "1.50", "1.17", "1.00", "↓", "-14%"]

        done = run_cli("metrics", "--months", "3", "--json")
        assert done.returncode == 0, done.stderr
        result = MetricsResult.model_validate(json.loads(done.stdout))
        assert result.months == ["2026-08", "2026-09", "2026-10"] and result.zone == ZONE
        wait = next(m for m in result.metrics if m.key == "resolution.approval_wait")
        assert [(v.value, v.count, v.p90) for v in wait.months] == [(3.0, 2, 4.0), (1.0, 3, 6.0), (0.625, 2, 1.0)]

        done = run_cli("metrics", "--months", "0")
        assert done.returncode == 2 and "months" in done.stderr.decode()
    finally:
        daemon.stop()
    done = run_cli("metrics")
    assert done.returncode != 0 and "not running" in done.stderr.decode()
