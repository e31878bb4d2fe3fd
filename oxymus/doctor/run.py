"""All the checks, in the order a person reads them."""

from __future__ import annotations

import asyncio

from oxymus.doctor import local, records_check, remote
from oxymus.doctor.result import Check, fail, skip
from oxymus.profile.paths import Paths

NO_CONFIG = "config.toml does not load (see above)"


def run(paths: Paths) -> list[Check]:
    """Every check's answer; a check that itself breaks is reported as failed, never raised."""
    from oxymus.client import launcher

    config, cfg = local.config_check(paths)
    daemon = launcher.status(paths, timeout=2.0)
    checks = [config, _guard("policy", lambda: local.policy_check(paths, cfg)), _guard("keyring", local.keyring_check)]
    sources, notifications, llm = asyncio.run(_remote(paths, cfg, daemon))
    checks += sources
    checks += [
        _guard("socket", lambda: local.socket_check(paths, daemon)),
        _guard("database", lambda: local.database_check(paths)),
        _guard("records", lambda: records_check.records_check(paths)),
        _guard("backup", lambda: local.backup_check(paths, cfg)),
        notifications,
        llm,
        _guard("service", local.service_check),
    ]
    return checks


async def _remote(paths: Paths, cfg, daemon: dict | None) -> tuple[list[Check], Check, Check]:
    """The checks that wait on something else, side by side, so the slowest sets the pace."""
    if cfg is None:
        sources_job = _done([skip("sources", NO_CONFIG)])
        llm_job = _done(skip("ollama", NO_CONFIG))
    else:
        sources_job = remote.source_checks(paths, cfg)
        llm_job = remote.llm_check(cfg)
    sources, notifications, llm = await asyncio.gather(
        _aguard("sources", sources_job, many=True), _aguard("notifications", remote.notifications_check(daemon)),
        _aguard("ollama", llm_job),
    )
    return sources, notifications, llm


async def _done(value):
    return value


def _guard(name: str, check) -> Check:
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' answers
        return _broken(name, exc)


async def _aguard(name: str, job, many: bool = False):
    try:
        return await job
    except Exception as exc:  # noqa: BLE001 - as _guard
        return [_broken(name, exc)] if many else _broken(name, exc)


def _broken(name: str, exc: Exception) -> Check:
    return fail(name, f"the check itself failed: {type(exc).__name__}: {exc}",
                "a bug in `oxymus doctor`: report it with this line")
