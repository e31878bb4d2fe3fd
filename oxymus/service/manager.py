"""Installing, removing and asking about the user service: systemd on Linux, launchd on macOS.

Every change is first a `Plan` (files to write or remove, commands to run), so
`--dry-run` prints the very plan `apply` would carry out. The service manager is
asked through its own command (`systemctl --user`, `launchctl`), found on PATH.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel

from oxymus.profile.paths import Paths
from oxymus.service import units
from oxymus.service.units import ServiceError

Manager = Literal["systemd", "launchd"]
COMMAND_TIMEOUT = 120.0  # `enable --now` waits for the daemon's READY (its database check included)


class Step(BaseModel):
    """One thing an install or uninstall does."""

    action: Literal["write", "remove", "run", "stop_daemon"]
    path: str | None = None
    content: str | None = None
    argv: list[str] = []
    may_fail: bool = False  # e.g. unloading a launchd agent that is not loaded

    def describe(self, done: bool = False) -> str:
        """What the step does ("write PATH"), or did when `done` ("wrote PATH")."""
        if self.action == "write":
            return f"{'wrote' if done else 'write'} {self.path}"
        if self.action == "remove":
            return f"{'removed' if done else 'remove'} {self.path}"
        if self.action == "stop_daemon":
            return (f"{'stopped' if done else 'stop'} the daemon running outside the service ({self.path}), "
                    "so the service can take over")
        return f"{'ran' if done else 'run'} " + shlex.join(self.argv)


class Plan(BaseModel):
    manager: Manager
    path: str
    steps: list[Step]
    blocked: str | None = None  # why it cannot be carried out here (a dry run still shows it)


class ServiceState(BaseModel):
    """Where the service stands. `enabled`/`running` are None when the manager could not be asked."""

    manager: Manager
    path: str
    installed: bool
    enabled: bool | None = None
    running: bool | None = None
    state: str = ""  # the manager's own words, e.g. "enabled, active"
    problem: str | None = None  # why the manager could not be asked, and what to do


def manager_for(platform: str | None = None) -> Manager:
    platform = sys.platform if platform is None else platform
    if platform.startswith("linux"):
        return "systemd"
    if platform == "darwin":
        return "launchd"
    raise ServiceError(f"no user service manager Oxymus knows on {platform}; run the daemon with `oxymus up`")


def service_path(manager: Manager, env: Mapping[str, str] | None = None) -> str:
    return units.systemd_unit_path(env) if manager == "systemd" else units.launchd_plist_path()


# --- asking the manager ---------------------------------------------------------------


def _run(argv: list[str], timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(argv[0])
    if exe is None:
        raise FileNotFoundError(argv[0])
    return subprocess.run([exe, *argv[1:]], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _systemctl(*args: str) -> list[str]:
    return ["systemctl", "--user", *args]


NO_USER_MANAGER_FIX = (
    "log in to a session that runs systemd's user manager (on a machine nobody logs in to: "
    "`loginctl enable-linger $USER`), or run the daemon with `oxymus up`"
)


def _unreachable(proc: subprocess.CompletedProcess[str]) -> str | None:
    """systemctl's words when no user manager answered (no session bus, no XDG_RUNTIME_DIR)."""
    err = proc.stderr.strip()
    return err.splitlines()[0] if "connect to bus" in err or "not defined" in err else None


def status(manager: Manager | None = None, env: Mapping[str, str] | None = None) -> ServiceState:
    manager = manager or manager_for()
    path = service_path(manager, env)
    state = ServiceState(manager=manager, path=path, installed=os.path.exists(path))
    try:
        if manager == "systemd":
            return _systemd_status(state)
        return _launchd_status(state)
    except FileNotFoundError as exc:
        state.problem = f"`{exc.args[0]}` is not installed, so the service cannot be asked about; run the daemon with `oxymus up`"
    except subprocess.TimeoutExpired as exc:
        state.problem = f"`{shlex.join(exc.cmd)}` did not answer within {exc.timeout:g} s; is the service manager stuck?"
    return state


def _systemd_status(state: ServiceState) -> ServiceState:
    # is-enabled reads unit files and answers even with no manager running; is-active needs the manager.
    enabled = _run(_systemctl("is-enabled", units.UNIT_NAME), timeout=10)
    if _unreachable(enabled) is None:
        word = enabled.stdout.strip() or "not-found"
        state.enabled = word in ("enabled", "enabled-runtime")
        state.state = word
    active = _run(_systemctl("is-active", units.UNIT_NAME), timeout=10)
    if (why := _unreachable(active) or _unreachable(enabled)) is not None:
        state.problem = f"no systemd user manager answers (`systemctl --user`: {why}); {NO_USER_MANAGER_FIX}"
        return state
    word = active.stdout.strip() or "unknown"
    state.running = word in ("active", "reloading")
    state.state = f"{state.state}, {word}"
    return state


def _gui_domain() -> str:
    return f"gui/{os.getuid()}"


def _launchd_status(state: ServiceState) -> ServiceState:
    proc = _run(["launchctl", "print", f"{_gui_domain()}/{units.LAUNCHD_LABEL}"], timeout=10)
    loaded = proc.returncode == 0
    state.enabled = loaded
    state.running = loaded and any(line.strip() == "state = running" for line in proc.stdout.splitlines())
    state.state = ("loaded, " + ("running" if state.running else "not running")) if loaded else "not loaded"
    return state


# --- plans ----------------------------------------------------------------------------


def _daemon_outside(paths: Paths, current: ServiceState) -> Step | None:
    """A daemon answering on this profile that the service did not start would hold the profile lock."""
    if current.running:
        return None
    from oxymus.client import launcher

    st = launcher.status(paths, timeout=1.0)
    return None if st is None else Step(action="stop_daemon", path=f"pid {st['pid']}")


def install_plan(paths: Paths, *, manager: Manager | None = None, env: Mapping[str, str] | None = None,
                 executable: str | None = None) -> Plan:
    manager = manager or manager_for()
    exe = executable or units.find_executable()
    environment = units.profile_environment(env)
    current = status(manager, env)
    path = current.path
    steps = [s for s in [_daemon_outside(paths, current)] if s is not None]
    if manager == "systemd":
        steps += [
            Step(action="write", path=path, content=units.systemd_unit(exe, environment)),
            Step(action="run", argv=_systemctl("daemon-reload")),
            Step(action="run", argv=_systemctl("enable", "--now", units.UNIT_NAME)),
        ]
        if current.running:  # `enable --now` leaves a running service alone: restart it on the new unit
            steps.append(Step(action="run", argv=_systemctl("restart", units.UNIT_NAME)))
    else:
        log_file = os.path.join(paths.state_dir, "launchd.log")
        steps += [
            Step(action="write", path=path, content=units.launchd_plist(exe, environment, log_file).decode()),
            Step(action="run", argv=["launchctl", "bootout", f"{_gui_domain()}/{units.LAUNCHD_LABEL}"], may_fail=True),
            Step(action="run", argv=["launchctl", "bootstrap", _gui_domain(), path]),
        ]
    return Plan(manager=manager, path=path, steps=steps, blocked=current.problem)


def uninstall_plan(*, manager: Manager | None = None, env: Mapping[str, str] | None = None) -> Plan:
    manager = manager or manager_for()
    current = status(manager, env)
    steps: list[Step] = []
    if manager == "systemd":
        if current.installed or current.enabled or current.running:
            steps.append(Step(action="run", argv=_systemctl("disable", "--now", units.UNIT_NAME)))
        if current.installed:
            steps += [Step(action="remove", path=current.path), Step(action="run", argv=_systemctl("daemon-reload"))]
    else:
        if current.enabled:
            steps.append(Step(action="run", argv=["launchctl", "bootout", f"{_gui_domain()}/{units.LAUNCHD_LABEL}"]))
        if current.installed:
            steps.append(Step(action="remove", path=current.path))
    return Plan(manager=manager, path=current.path, steps=steps, blocked=current.problem)


def apply(plan: Plan, paths: Paths, report=lambda step: None) -> None:
    """Carry out the plan step by step; `report(step)` after each. A failing step stops it with a ServiceError."""
    from oxymus.kernel.files import write_atomic

    if plan.blocked:  # nothing would work: say so before anything is written
        raise ServiceError(plan.blocked)
    for i, step in enumerate(plan.steps):
        if step.action == "write":
            assert step.path is not None and step.content is not None
            os.makedirs(os.path.dirname(step.path), mode=0o700, exist_ok=True)
            write_atomic(step.path, step.content.encode(), mode=0o600)
        elif step.action == "remove":
            assert step.path is not None
            if os.path.exists(step.path):
                os.remove(step.path)
        elif step.action == "stop_daemon":
            from oxymus.client import launcher

            launcher.stop(paths)
        else:
            _run_step(step, plan, i)
        report(step)


def _run_step(step: Step, plan: Plan, index: int) -> None:
    done = "; ".join(s.describe() for s in plan.steps[:index]) or "nothing"
    try:
        proc = _run(step.argv)
    except FileNotFoundError:
        raise ServiceError(f"`{step.argv[0]}` is not installed (done so far: {done})") from None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"`{shlex.join(step.argv)}` did not finish within {COMMAND_TIMEOUT:g} s (done so far: {done})") from None
    if proc.returncode != 0 and not step.may_fail:
        said = (proc.stderr.strip() or proc.stdout.strip() or "no message").replace("\n", " ")
        hint = (f"; see `systemctl --user status {units.UNIT_NAME}` and `journalctl --user -u {units.UNIT_NAME}`"
                if plan.manager == "systemd" else f"; see {plan.path} and `launchctl print {_gui_domain()}/{units.LAUNCHD_LABEL}`")
        raise ServiceError(
            f"`{shlex.join(step.argv)}` failed (exit status {proc.returncode}): {said} (done so far: {done}){hint}"
        )
