"""The TUI's theme: `[ui] theme` from config.toml at start, and saved there (only that key) when picked."""

from __future__ import annotations

from conftest import DaemonProcess, until, write_config

from oxymus.tui.app import create_app

CONFIG = """# my Oxymus config, written by hand
[daemon]
log_level = "debug"   # noisy on purpose

[ui]
# dark at night
theme = "nord"   # my favourite

[memory]
hot_days = 10
"""


def notifications(app) -> list[str]:
    # Shown as written: "[ui]" is text, not Rich markup (which would swallow it).
    return [f"{n.title}: {n.message}" + ("" if n.markup is False else " (as markup!)") for n in app._notifications]


async def test_the_app_starts_with_a_configured_light_theme(profile):
    write_config(profile, '[ui]\ntheme = "textual-light"\n')
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light" and app.current_theme.dark is False
        assert app.screen.styles.background == app.current_theme.to_color_system().background
        assert notifications(app) == []


async def test_an_unknown_theme_is_said_with_the_file_and_key_and_the_file_is_left_alone(profile):
    write_config(profile, '[ui]\ntheme = "solarised"\n')
    before = open(profile.config_file, "rb").read()
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: notifications(app), what="the notification")
        [said] = notifications(app)
        assert said.startswith(f"Theme not read: {profile.config_file}:2: ui.theme: unknown theme 'solarised' (one of: ")
        assert "textual-light" in said and said.endswith("The default theme is used until this is fixed.")
        assert app.theme == "textual-dark"
    assert open(profile.config_file, "rb").read() == before


async def test_picking_a_theme_in_the_palette_saves_only_ui_theme(profile):
    write_config(profile, CONFIG)
    daemon = DaemonProcess(profile).start()
    try:
        app = create_app(profile, start_daemon=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "Connected" in app.screen.status_bar.text, what="the connection")
            assert app.theme == "nord"
            await pilot.press("ctrl+p")
            await pilot.press(*"theme")
            await until(pilot, lambda: app.screen.query("CommandList").first().option_count > 0, what="the commands")
            await pilot.press("enter")  # "Theme": the picker
            await pilot.press(*"textual-light")
            await until(pilot, lambda: app.screen.query("CommandList").first().option_count == 1, what="one theme")
            await pilot.press("enter")
            await until(pilot, lambda: app.theme == "textual-light", what="the theme to change")
            await until(pilot, lambda: any("saved" in n for n in notifications(app)), what="saved")
            assert notifications(app) == [": Theme textual-light saved as [ui] theme in config.toml."]  # told once
        assert open(profile.config_file).read() == CONFIG.replace('theme = "nord"', 'theme = "textual-light"')
        # The next start shows it.
        again = create_app(profile, start_daemon=False)
        async with again.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert again.theme == "textual-light"
    finally:
        daemon.stop()


def test_the_daemon_saves_the_theme_through_an_action_and_refuses_what_it_cannot_write(profile):
    import pytest

    from oxymus.client.wire import RpcError

    write_config(profile, CONFIG)
    daemon = DaemonProcess(profile).start()
    try:
        with daemon.client() as conn:
            result = conn.call("ui.set_theme", {"theme": "dracula"})
            assert (result["theme"], result["changed"], result["path"]) == ("dracula", True, profile.config_file)
            assert (result["action"]["kind"], result["action"]["status"]) == ("ui.theme", "succeeded")
            assert open(profile.config_file).read() == CONFIG.replace('theme = "nord"', 'theme = "dracula"')
            assert conn.call("ui.set_theme", {"theme": "dracula"})["changed"] is False
            with pytest.raises(RpcError, match=r"theme: Value error, unknown theme 'Dracula' \(one of: ansi-dark"):
                conn.call("ui.set_theme", {"theme": "Dracula"})
            # Edited by hand meanwhile into a form Oxymus does not rewrite: refused, the file as it was.
            broken = 'ui = { theme = "nord" }\n' + CONFIG.replace('[ui]\n# dark at night\ntheme = "nord"   # my favourite\n', "")
            open(profile.config_file, "w").write(broken)
            with pytest.raises(RpcError, match=r"config.toml:1: ui.theme: written in a form Oxymus does not rewrite"):
                conn.call("ui.set_theme", {"theme": "textual-light"})
            assert open(profile.config_file).read() == broken
    finally:
        daemon.stop()


async def test_a_theme_picked_without_the_daemon_shows_but_says_it_was_not_saved(profile):
    write_config(profile, CONFIG)
    app = create_app(profile, start_daemon=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Daemon unreachable" in app.screen.status_bar.text, what="no daemon")
        app.theme = "textual-light"  # what the palette's theme picker does
        await until(pilot, lambda: notifications(app), what="the notification")
        assert notifications(app) == ["Theme not saved: textual-light is shown until you quit, but it was not saved: "
                                      "not connected to the daemon"]
        assert app.theme == "textual-light"
    assert open(profile.config_file).read() == CONFIG
