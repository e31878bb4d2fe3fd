"""`oxymus doctor [--json]` against real parts: a real daemon, a private D-Bus session bus with the fake
notification server, the loopback Ollama, real git repositories and SQLite files, a recording systemctl.
A good profile is all well (exit 0); each broken thing is a warn or fail with its fix (exit 1)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from conftest import DaemonProcess, run_cli, wait_for, write_config
from dbus_session import NotificationServerProcess, session_bus  # noqa: F401
from git_helpers import git, isolated_git  # noqa: F401
from github_server import github_server  # noqa: F401
from ollama_server import closed_url, ollama_server  # noqa: F401
from test_service import systemctl  # noqa: F401

from oxymus.doctor import table
from oxymus.doctor.result import Check


def _doctor(*args: str) -> tuple[int, dict[str, dict]]:
    out = run_cli("doctor", "--json", *args, timeout=60)
    checks = json.loads(out.stdout)
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in checks)
    assert all(c["fix"] for c in checks if c["status"] in ("warn", "fail")), "every problem has its fix"
    return out.returncode, {c["name"]: c for c in checks}


def _repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    (path / "a.txt").write_text("a\n")
    git(path, "add", "a.txt")
    git(path, "commit", "-qm", "first")
    return path


def test_a_good_profile_is_all_well(profile, session_bus, ollama_server, isolated_git, systemctl, tmp_path,  # noqa: F811
                                    monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # the table fits the terminal; a pipe's is 80 columns unless COLUMNS says
    repo = _repo(tmp_path / "blog")
    config = f'[git]\nrepos = ["{repo}"]\n\n[llm]\nhost = "{ollama_server.url}"\nmodel = "llama3.2"\n'
    write_config(profile, config)
    with NotificationServerProcess(session_bus.address):
        daemon = DaemonProcess(profile).start()
        try:
            wait_for(lambda: os.path.isdir(profile.backup_dir) and os.listdir(profile.backup_dir), what="the daily backup")
            code, checks = _doctor()
            text = run_cli("doctor").stdout.decode()
        finally:
            daemon.stop()
    assert {name: c["status"] for name, c in checks.items()} == {
        "config": "ok", "policy": "ok", "keyring": "ok", "source git": "ok", "socket": "ok", "database": "ok",
        "records": "ok", "backup": "ok", "notifications": "ok", "ollama": "ok", "service": "ok",
    }, checks
    assert code == 0
    assert f"daemon pid {daemon.proc.pid} answers" in checks["socket"]["detail"]
    assert checks["notifications"]["detail"] == "oxymus-test 1.0 answers, with buttons"
    assert checks["ollama"]["detail"] == f"llama3.2 is ready at {ollama_server.url}"
    assert text.endswith("\nall is well\n") and max(len(line) for line in text.splitlines()) <= 80


def test_a_bad_config_line_is_named_with_its_fix(profile, systemctl):  # noqa: F811
    write_config(profile, "[daemon]\nlog_level = 'loud'\n")
    code, checks = _doctor()
    assert code == 1
    config = checks["config"]
    assert config["status"] == "fail" and f"{profile.config_file}:2: daemon.log_level:" in config["detail"]
    assert config["fix"].startswith(f"correct the value of `daemon.log_level` in {profile.config_file}, line 2")
    assert checks["sources"]["status"] == "skip" and checks["ollama"]["status"] == "skip"


def test_each_broken_part_is_a_problem_with_its_fix(profile, session_bus, isolated_git, systemctl, tmp_path, monkeypatch):  # noqa: F811
    # A repo that is gone, a policy with a typo'd kind, a damaged database, no notification server on the
    # bus, Ollama down, and a keyring that cannot keep anything: all in one run.
    missing = tmp_path / "gone"
    write_config(profile, f'[git]\nrepos = ["{missing}"]\n\n[llm]\nhost = "{closed_url()}"\n')
    Path(profile.policy_file).write_text('[[rule]]\nname = "typo"\nkind = "gti.push"\noutcome = "deny"\n')
    profile.ensure()
    Path(profile.db_file).write_bytes(b"this is not a database at all" * 200)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    code, checks = _doctor()
    assert code == 1
    status = {name: c["status"] for name, c in checks.items()}
    assert status == {
        "config": "ok", "policy": "warn", "keyring": "warn", "source git": "warn", "socket": "warn",
        "database": "fail", "records": "skip", "backup": "warn", "notifications": "warn", "ollama": "warn", "service": "ok",
    }, checks
    assert str(missing) in checks["source git"]["detail"] and "[git]" in checks["source git"]["fix"]
    assert "gti.push" in checks["policy"]["detail"]
    assert "keyring.backends.fail.Keyring" in checks["keyring"]["detail"] and "GITHUB_TOKEN" in checks["keyring"]["fix"]
    assert profile.db_file in checks["database"]["detail"] and "SQLite's `.recover`" in checks["database"]["fix"]
    assert checks["notifications"]["detail"].startswith("no notification server on the session bus")
    assert "dunst" in checks["notifications"]["fix"]
    assert "not running" in checks["ollama"]["detail"] and "ollama serve" in checks["ollama"]["fix"]
    assert checks["socket"]["fix"].startswith("`oxymus up`")
    assert Path(profile.db_file).read_bytes() == b"this is not a database at all" * 200  # read-only


def test_an_old_backup_and_a_missing_model_need_attention(profile, ollama_server, systemctl):  # noqa: F811
    from oxymus.store import backup, db

    write_config(profile, f'[llm]\nhost = "{ollama_server.url}"\nmodel = "mistral"\n')
    profile.ensure()
    db.connect(profile.db_file).close()
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=5)
    os.makedirs(profile.backup_dir)
    backup.take(profile.db_file, backup.default_path(profile.backup_dir, old))
    code, checks = _doctor()
    assert code == 1
    assert checks["backup"]["status"] == "warn" and checks["backup"]["detail"].startswith("the newest backup is 5 days old")
    assert "`oxymus backup`" in checks["backup"]["fix"]
    assert checks["database"]["status"] == "ok" and "quick_check ok" in checks["database"]["detail"]
    assert checks["ollama"]["status"] == "warn" and checks["ollama"]["fix"].startswith("`ollama pull mistral`")


def test_a_socket_others_can_open_fails(profile, systemctl):  # noqa: F811
    write_config(profile, "")
    daemon = DaemonProcess(profile).start()
    try:
        os.chmod(profile.socket, 0o644)
        code, checks = _doctor()
    finally:
        daemon.stop()
    assert code == 1
    sock = checks["socket"]
    assert sock["status"] == "fail" and sock["detail"] == f"{profile.socket}: its mode is 0644, not 0600"
    assert f"chmod 600 {profile.socket}" in sock["fix"]


def test_the_service_installed_but_stopped_is_a_problem(profile, systemctl, tmp_path):  # noqa: F811
    write_config(profile, "")
    assert run_cli("service", "install").returncode == 0
    state = Path(os.environ["FAKE_SYSTEMCTL_LOG"] + ".state")
    state.write_text(json.dumps({"enabled": True, "active": False}))  # as if it crashed and gave up
    code, checks = _doctor()
    assert code == 1 and checks["service"]["status"] == "fail"
    assert "journalctl --user -u oxymus" in checks["service"]["fix"]
    unit = Path(os.environ["XDG_CONFIG_HOME"], "systemd", "user", "oxymus.service")
    unit.write_text(unit.read_text().replace("ExecStart=/", "ExecStart=/gone/"))  # a venv deleted since
    _code, checks = _doctor()
    assert checks["service"]["status"] == "fail" and "/gone/" in checks["service"]["detail"]
    assert checks["service"]["fix"] == "`oxymus service install` again, with the `oxymus` you use now"


def test_the_table_wraps_to_80_columns_and_keeps_every_word():
    checks = [
        Check(name="source calendar.personal", status="fail", detail="q" * 150 + " and some words " * 10,
              fix="/a/very/long/path/" * 10),
        Check(name="config", status="ok", detail="fine"),
    ]
    text = table.render(checks)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "".join(line.strip() for line in lines).count("q") == 150
    assert "".join(text.split()).count("/a/very/long/path") == 10
    assert lines[-1] == "1 thing needs attention"


def test_github_is_asked_with_the_token(profile, github_server, systemctl, monkeypatch):  # noqa: F811
    write_config(profile, f'[github]\napi_url = "{github_server.url}"\n')
    monkeypatch.setenv("GH_TOKEN", github_server.state.token)
    _code, checks = _doctor()
    assert checks["source github"]["status"] == "ok", checks["source github"]
    monkeypatch.setenv("GH_TOKEN", "ghp_wrong")
    code, checks = _doctor()
    assert code == 1 and checks["source github"]["status"] == "fail"
    assert "`oxymus secret set github`" in checks["source github"]["fix"]
