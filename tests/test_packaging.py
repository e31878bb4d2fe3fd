"""The example service files in packaging/ are exactly what `oxymus service install` writes."""

from __future__ import annotations

from pathlib import Path

from oxymus.service.units import launchd_plist, systemd_unit

PACKAGING = Path(__file__).resolve().parent.parent / "packaging"


def test_the_systemd_example_is_what_install_writes():
    assert (PACKAGING / "systemd" / "oxymus.service").read_text() == systemd_unit("/home/you/.local/bin/oxymus", {})


def test_the_launchd_example_is_what_install_writes():
    expected = launchd_plist("/Users/you/.local/bin/oxymus", {}, "/Users/you/Library/Logs/oxymus.log")
    assert (PACKAGING / "launchd" / "dev.oxymus.daemon.plist").read_bytes() == expected
