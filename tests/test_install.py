"""A non-editable `pip install .` into a fresh venv works, and the installed program runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_pip_install_into_a_fresh_venv(tmp_path, home):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Install from a copy of the tracked files, as a fresh clone would have them.
    src = tmp_path / "src"
    _copy_tree(src)
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(src)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    py = str(venv / "bin" / "python")
    check = subprocess.run(
        [py, "-c", "import oxymus, oxymus.daemon.main, oxymus.tui.app, oxymus.connectors, oxymus.store.repos, importlib.resources as r;"
         "print(oxymus.__file__); print(any(p.name.endswith('.tcss') for p in r.files('oxymus.tui').iterdir()))"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert check.returncode == 0, check.stderr
    location, has_css = check.stdout.split()
    assert str(venv) in location and has_css == "True"
    env = {**os.environ, "OXYMUS_HOME": str(home)}
    exe = str(venv / "bin" / "oxymus")
    assert subprocess.run([exe, "--version"], capture_output=True, text=True, env=env).stdout.startswith("oxymus ")
    captured = subprocess.run([exe, "capture", "from", "the", "installed", "copy"], capture_output=True, text=True, env=env)
    assert captured.returncode == 0, captured.stderr
    inbox = subprocess.run([exe, "inbox"], capture_output=True, text=True, env=env)
    assert "from the installed copy" in inbox.stdout


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"], capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        rel = name.decode()
        source = ROOT / rel
        if not source.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
