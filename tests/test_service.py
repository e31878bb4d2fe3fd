"""`oxymus service install|uninstall|status [--dry-run]`: the unit (checked by systemd-analyze), the
launchd plist, and the commands run against a recording `systemctl` (no user manager runs in CI
containers: `systemctl --user` there answers "Failed to connect to bus")."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import DaemonProcess, run_cli, write_config

from oxymus.service import units
from oxymus.service.units import ServiceError

OXYMUS = os.path.join(os.path.dirname(sys.executable), "oxymus")  # what `python -m oxymus` resolves to

# A stand-in for `systemctl --user`: records each call as a JSON line and keeps the unit's
# enabled/active state in a file, so is-enabled and is-active answer what enable/disable did.
# FAKE_SYSTEMCTL_NO_MANAGER=1 makes the manager calls fail the way they do without a user manager.
FAKE_SYSTEMCTL = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_SYSTEMCTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
state_file = os.environ["FAKE_SYSTEMCTL_LOG"] + ".state"
state = json.load(open(state_file)) if os.path.exists(state_file) else {{"enabled": False, "active": False}}
verb = args[1] if args[:1] == ["--user"] else ""
if os.environ.get("FAKE_SYSTEMCTL_NO_MANAGER") and verb != "is-enabled":
    sys.exit(print("Failed to connect to bus: No medium found", file=sys.stderr) or 1)
if verb == "is-enabled":
    print("enabled" if state["enabled"] else "disabled"); sys.exit(0 if state["enabled"] else 1)
if verb == "is-active":
    print("active" if state["active"] else "inactive"); sys.exit(0 if state["active"] else 3)
if verb in ("enable", "disable"):
    now = "--now" in args
    state["enabled"] = verb == "enable"
    if now:
        state["active"] = verb == "enable"
elif verb == "restart":
    state["active"] = True
json.dump(state, open(state_file, "w"))
"""


@pytest.fixture
def systemctl(tmp_path, monkeypatch):
    """A recording `systemctl` first on PATH, and XDG_CONFIG_HOME in a temp folder; yields the calls so far."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text(FAKE_SYSTEMCTL.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp_path / "systemctl.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SYSTEMCTL_LOG", str(log))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))

    def calls() -> list[list[str]]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return calls


def _changes(calls: list[list[str]]) -> list[list[str]]:
    """The calls that change something (not is-enabled / is-active)."""
    return [c for c in calls if c[1] not in ("is-enabled", "is-active")]


def _verify(unit_text: str) -> subprocess.CompletedProcess:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd; ./dev test does it)")
    with tempfile.TemporaryDirectory(prefix="ox-unit-") as d:
        unit = Path(d, "units", units.UNIT_NAME)
        unit.parent.mkdir()
        unit.write_text(unit_text)
        runtime = Path(d, "run")
        runtime.mkdir(mode=0o700)
        # --user without a running manager: it needs only a runtime dir of its own; --man=no: no man pages looked up.
        return subprocess.run([exe, "verify", "--user", "--man=no", str(unit)], capture_output=True, text=True,
                              env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)}, timeout=60)


def test_the_unit_passes_systemd_analyze_verify(home):
    text = units.systemd_unit(OXYMUS, units.profile_environment({"OXYMUS_HOME": str(home)}))
    proc = _verify(text)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "Type=notify\n" in text and "Restart=on-failure\n" in text and f"WatchdogSec={units.WATCHDOG_SEC}\n" in text
    assert f"ExecStart={OXYMUS} daemon\n" in text and f'Environment="OXYMUS_HOME={home}"\n' in text


def test_odd_paths_are_quoted_so_the_unit_still_verifies(tmp_path):
    odd = tmp_path / "my bin 100%"
    odd.mkdir()
    exe = odd / "oxymus"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    text = units.systemd_unit(str(exe), {"OXYMUS_HOME": "/home/me/oxy $HOME 50% \"q\""})
    proc = _verify(text)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert '"' in text.split("ExecStart=")[1].split("\n")[0] and "100%%" in text
    # And a broken unit does not pass: the check can fail.
    assert _verify(text.replace(f"WatchdogSec={units.WATCHDOG_SEC}", "WatchdogSec=soon")).stderr


def test_install_status_uninstall_with_systemctl(systemctl, home, tmp_path):
    unit = tmp_path / "xdg-config" / "systemd" / "user" / "oxymus.service"
    out = run_cli("service", "install")
    assert out.returncode == 0, out.stderr
    text = unit.read_text()
    assert text == units.systemd_unit(OXYMUS, {"OXYMUS_HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
                                               "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"]})
    assert stat.S_IMODE(unit.stat().st_mode) == 0o600
    assert _changes(systemctl()) == [["--user", "daemon-reload"], ["--user", "enable", "--now", "oxymus.service"]]
    assert f"wrote {unit}" in out.stdout.decode() and "service: enabled, active" in out.stdout.decode()

    out = run_cli("service", "status")
    assert out.returncode == 0
    assert out.stdout.decode().splitlines()[:3] == [f"installed: yes, {unit}", "enabled:   yes", "running:   yes (enabled, active)"]
    status = json.loads(run_cli("service", "status", "--json").stdout)
    assert (status["installed"], status["enabled"], status["running"], status["problem"]) == (True, True, True, None)

    # Installing again restarts the running service on the new unit.
    assert run_cli("service", "install").returncode == 0
    assert _changes(systemctl())[2:] == [["--user", "daemon-reload"], ["--user", "enable", "--now", "oxymus.service"],
                                         ["--user", "restart", "oxymus.service"]]

    before = len(_changes(systemctl()))
    out = run_cli("service", "uninstall")
    assert out.returncode == 0, out.stderr
    assert not unit.exists()
    assert _changes(systemctl())[before:] == [["--user", "disable", "--now", "oxymus.service"], ["--user", "daemon-reload"]]
    out = run_cli("service", "uninstall")
    assert out.returncode == 0 and "nothing to uninstall" in out.stdout.decode()


def test_dry_run_prints_the_plan_and_changes_nothing(systemctl, home, tmp_path):
    out = run_cli("service", "install", "--dry-run")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    unit = tmp_path / "xdg-config" / "systemd" / "user" / "oxymus.service"
    assert text.startswith(f"would write {unit}:\n# Written by `oxymus service install`")
    assert "ExecStart=" + OXYMUS + " daemon\n" in text
    assert text.endswith("would run systemctl --user daemon-reload\nwould run systemctl --user enable --now oxymus.service\n")
    assert not (tmp_path / "xdg-config").exists() and _changes(systemctl()) == []

    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/bin/true\n")
    out = run_cli("service", "uninstall", "--dry-run")
    assert out.stdout.decode() == (f"would run systemctl --user disable --now oxymus.service\nwould remove {unit}\n"
                                   "would run systemctl --user daemon-reload\n")
    assert unit.exists() and _changes(systemctl()) == []


def test_install_stops_a_daemon_started_outside_the_service(systemctl, profile):
    write_config(profile, "")
    daemon = DaemonProcess(profile).start()
    try:
        out = run_cli("service", "install")
        assert out.returncode == 0, out.stderr
        assert f"stopped the daemon running outside the service (pid {daemon.proc.pid})" in out.stdout.decode()
        assert daemon.wait() == 0
        assert _changes(systemctl())[-1] == ["--user", "enable", "--now", "oxymus.service"]
    finally:
        daemon.stop()


def test_no_user_manager_is_said_plainly_and_nothing_is_written(systemctl, home, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SYSTEMCTL_NO_MANAGER", "1")
    out = run_cli("service", "install")
    assert out.returncode == 1
    err = out.stderr.decode()
    assert "no systemd user manager answers" in err and "Failed to connect to bus" in err and "loginctl enable-linger" in err
    assert not (tmp_path / "xdg-config").exists() and _changes(systemctl()) == []
    out = run_cli("service", "status")
    assert "running:   unknown" in out.stdout.decode() and "problem:   no systemd user manager answers" in out.stdout.decode()


def test_the_executable_is_found_not_guessed(tmp_path):
    script = tmp_path / "bin" / "oxymus"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert units.find_executable(str(script), "/nowhere/python3") == str(script)
    assert units.find_executable("/x/oxymus/__main__.py", str(tmp_path / "bin" / "python3")) == str(script)
    with pytest.raises(ServiceError, match=r"cannot find the installed `oxymus` command \(tried /nowhere/oxymus\)"):
        units.find_executable("/x/oxymus/__main__.py", "/nowhere/python3")


def test_the_launchd_plist_round_trips():
    data = units.launchd_plist("/opt/oxy/bin/oxymus", {"OXYMUS_HOME": "/Users/me/oxy"}, "/Users/me/oxy/state/launchd.log")
    assert plistlib.loads(data) == {
        "Label": "dev.oxymus.daemon",
        "ProgramArguments": ["/opt/oxy/bin/oxymus", "daemon", "--background"],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": units.RESTART_SEC,
        "StandardOutPath": "/Users/me/oxy/state/launchd.log",
        "StandardErrorPath": "/Users/me/oxy/state/launchd.log",
        "ProcessType": "Background",
        "EnvironmentVariables": {"OXYMUS_HOME": "/Users/me/oxy"},
    }
    assert "EnvironmentVariables" not in plistlib.loads(units.launchd_plist("/o", {}, "/l"))


def test_the_launchd_plan_bootstraps_the_gui_domain(home, profile, monkeypatch, tmp_path):
    from oxymus.service import manager

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no launchctl here: the plan says it would fail
    plan = manager.install_plan(profile, manager="launchd", executable="/opt/oxy/bin/oxymus")
    path = str(tmp_path / "Library" / "LaunchAgents" / "dev.oxymus.daemon.plist")
    uid = os.getuid()
    assert [s.describe() for s in plan.steps] == [
        f"write {path}", f"run launchctl bootout gui/{uid}/dev.oxymus.daemon", f"run launchctl bootstrap gui/{uid} {path}"]
    assert plistlib.loads(plan.steps[0].content.encode())["EnvironmentVariables"]["OXYMUS_HOME"] == str(home)
    assert "`launchctl` is not installed" in plan.blocked
