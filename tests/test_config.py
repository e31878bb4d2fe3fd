"""Config validation: every error names the file, the dotted key and the line."""

from __future__ import annotations

import pytest
from conftest import run_cli

from oxymus.profile import config


def test_missing_file_means_defaults(tmp_path):
    assert config.load(str(tmp_path / "nope.toml")) == config.defaults()


def test_default_toml_round_trips_and_documents_every_key():
    text = config.default_toml()
    assert config.parse(text) == config.defaults()
    for key, field in config.fields():
        assert key.split(".")[-1] + " = " in text
        assert field.description and field.description in text


def _error(text: str) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as info:
        config.parse(text, "/home/me/.config/oxymus/config.toml")
    return info.value


def test_wrong_type_names_file_key_and_line():
    err = _error("# comment\n[daemon]\nlog_level = \"info\"\nlog_max_bytes = \"big\"\n")
    assert (err.key, err.line) == ("daemon.log_max_bytes", 4)
    assert str(err).startswith("/home/me/.config/oxymus/config.toml:4: daemon.log_max_bytes: ")
    assert "'big'" in str(err)


def test_invalid_choice_lists_the_allowed_values():
    err = _error("[daemon]\nlog_level = \"loud\"\n")
    assert (err.key, err.line) == ("daemon.log_level", 2)
    assert "'debug'" in err.message and "'loud'" in err.message


def test_unknown_key_and_unknown_section():
    err = _error("[daemon]\nlog_levle = \"info\"\n")
    assert (err.key, err.line, err.message) == ("daemon.log_levle", 2, "unknown key")
    err = _error("\n\n[deamon]\nlog_level = \"info\"\n")
    assert (err.key, err.line) == ("deamon", 3)


def test_dotted_keys_are_located():
    err = _error("daemon.log_backups = -1\n")
    assert (err.key, err.line) == ("daemon.log_backups", 1)


def test_syntax_error_names_the_line():
    err = _error("[daemon]\nlog_level = \"info\"\nlog_backups = = 3\n")
    assert err.line == 3 and "TOML syntax error" in err.message


def test_non_utf8_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"[daemon]\n# caf\xe9\n")
    with pytest.raises(config.ConfigError, match=r"config.toml:2: not valid UTF-8"):
        config.load(str(path))


def test_cli_reports_a_bad_config_with_exit_status_2(home):
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("[daemon]\nlog_level = 3\n")
    result = run_cli("up")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert f"{home}/config/config.toml:2: daemon.log_level:" in err
    assert err.count("\n") == 1, "one clear message, no traceback"
    result = run_cli("daemon")
    assert result.returncode == 2 and "daemon.log_level" in result.stderr.decode()


def test_init_writes_a_valid_commented_default_and_keeps_an_existing_one(home):
    result = run_cli("init")
    assert result.returncode == 0, result.stderr
    written = (home / "config" / "config.toml").read_text()
    assert config.parse(written) == config.defaults() and written.startswith("#")
    (home / "config" / "config.toml").write_text("[daemon]\nlog_level = \"debug\"\n")
    result = run_cli("init")
    assert result.returncode == 0 and "already exists" in result.stdout.decode()
    assert "debug" in (home / "config" / "config.toml").read_text()
