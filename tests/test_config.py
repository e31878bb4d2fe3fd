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


# --- [ui] theme, and changing one key in place -------------------------------------------------

def test_the_core_knows_textuals_built_in_themes():
    from textual.theme import BUILTIN_THEMES

    assert sorted(config.THEMES) == sorted(BUILTIN_THEMES)
    assert config.DEFAULT_THEME in config.THEMES and "textual-light" in config.THEMES


def test_an_unknown_theme_names_the_file_key_line_and_the_choices():
    err = _error('[daemon]\nlog_level = "info"\n\n[ui]\ntheme = "Nord"\n')
    assert (err.key, err.line) == ("ui.theme", 5)
    assert str(err).startswith("/home/me/.config/oxymus/config.toml:5: ui.theme: unknown theme 'Nord' (one of: ansi-dark, ")
    assert config.parse('[ui]\ntheme = "textual-light"\n').ui.theme == "textual-light"
    assert config.defaults().ui.theme == "textual-dark"


def test_the_tui_reads_only_the_ui_table(tmp_path):
    path = tmp_path / "config.toml"
    assert config.load_ui(str(path)).theme == "textual-dark"  # no file
    path.write_text('[llm]\nenabled = false\n[someone_elses]\nx = 1\n[ui]\ntheme = "nord"\n')
    assert config.load_ui(str(path)).theme == "nord"
    path.write_text('[ui]\ntheme = 3\n')
    with pytest.raises(config.ConfigError, match=r"config.toml:2: ui.theme: Input should be a valid string"):
        config.load_ui(str(path))


MINE = """# Oxymus, my way
[daemon]
log_level = "debug"   # noisy on purpose

[ui]   # how it looks
# dark at night
  theme = 'nord'   # my favourite
other = 1

[memory]
hot_days = 10
"""


def test_setting_a_key_keeps_comments_order_and_every_other_byte(tmp_path):
    from oxymus.profile.config_edit import set_value

    path = tmp_path / "config.toml"
    path.write_text(MINE)
    path.chmod(0o640)
    edit = set_value(str(path), "ui", "theme", "textual-light")
    assert path.read_text() == MINE.replace("  theme = 'nord'", '  theme = "textual-light"')
    assert (edit.before, edit.changed) == ("nord", True) and oct(path.stat().st_mode & 0o777) == "0o640"
    assert set_value(str(path), "ui", "theme", "textual-light").changed is False  # already so: nothing written


def test_a_missing_key_or_table_is_added_and_a_missing_file_is_created_with_just_the_table(tmp_path):
    from oxymus.profile.config_edit import set_value

    path = tmp_path / "new" / "config.toml"
    set_value(str(path), "ui", "theme", "textual-light")
    assert path.read_text() == '[ui]\ntheme = "textual-light"\n'
    path.write_text('[daemon]\nlog_level = "debug"')  # no newline at the end
    set_value(str(path), "ui", "theme", "nord")
    assert path.read_text() == '[daemon]\nlog_level = "debug"\n\n[ui]\ntheme = "nord"\n'
    path.write_text('[ui]  # mine\n\n[memory]\nhot_days = 10\n')
    set_value(str(path), "ui", "theme", "dracula")
    assert path.read_text() == '[ui]  # mine\ntheme = "dracula"\n\n[memory]\nhot_days = 10\n'
    assert config.load(str(path)).ui.theme == "dracula"


@pytest.mark.parametrize("text, message", [
    ('[ui\ntheme = "nord"\n', r"config.toml:1: not valid TOML \(Expected '\]' at the end of a table declaration\), so it "
                              r"was left as it is; fix it, then try again"),
    ('ui = { theme = "nord" }\n', r"config.toml:1: ui.theme: written in a form Oxymus does not rewrite"),
    ('ui.theme = "nord"\n', r"config.toml:1: ui.theme: written in a form Oxymus does not rewrite"),
    ('[ui]\ntheme = """nord\n"""\n', r"config.toml:2: ui.theme: written in a form Oxymus does not rewrite"),
    ('[daemon]\nlog_level = "debug"\n\xff', r"config.toml:3: not valid UTF-8"),
])
def test_a_file_oxymus_cannot_rewrite_safely_is_left_byte_for_byte(tmp_path, text, message):
    from oxymus.profile.config_edit import set_value

    path = tmp_path / "config.toml"
    data = text.encode("utf-8") if "\xff" not in text else text.replace("\xff", "").encode() + b"\xff"
    path.write_bytes(data)
    with pytest.raises(config.ConfigError, match=message):
        set_value(str(path), "ui", "theme", "textual-light")
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temporary file left behind
