"""A non-editable `pip install .` into a fresh venv, held to the versions in uv.lock, works, and the
installed program runs: what a person gets, with the dependency versions we test with."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The venv is built once for the module: under pytest-xdist its tests stay on one worker.
pytestmark = pytest.mark.xdist_group("install")


def _copy_tree(dest: Path) -> None:
    """The tracked (and untracked, unignored) files, as a fresh clone would have them."""
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


def _uv() -> str:
    """The uv `./dev` installs (pinned), else one on PATH."""
    for candidate in (ROOT / ".cache" / "bootstrap" / "bin" / "uv", shutil.which("uv")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("no uv: run ./dev sync (it installs the pinned uv into .cache/bootstrap)")


def _locked_requirements(src: Path) -> str:
    """The project's runtime dependencies exactly as uv.lock pins them (no dev group, not the project itself)."""
    result = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--no-header", "--quiet"],
        capture_output=True, text=True, cwd=src, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _pins(requirements: str) -> dict[str, str]:
    pins = {}
    for line in requirements.splitlines():
        found = re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)", line)
        if found:
            pins[re.sub(r"[-_.]+", "-", found.group(1)).lower()] = found.group(2)
    return pins


@pytest.fixture(scope="module")
def installed():
    """(venv, source copy, locked pins): `pip install <copy>` into a new venv, constrained to uv.lock, once for this module."""
    root = Path(tempfile.mkdtemp(prefix="oxi-"))
    venv, src = root / "venv", root / "src"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    _copy_tree(src)
    locked = _locked_requirements(src)
    constraints = root / "constraints.txt"
    constraints.write_text(locked)
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--constraint", str(constraints), str(src)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    yield venv, src, _pins(locked)
    subprocess.run(["rm", "-rf", str(root)])


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_pip_install_into_a_fresh_venv(installed, tmp_path, home):
    venv, _src, pins = installed
    py = str(venv / "bin" / "python")
    check = subprocess.run(
        [py, "-c", "import oxymus, oxymus.daemon.main, oxymus.tui.app, oxymus.connectors, oxymus.store.repos, oxymus.plans, "
         "importlib.resources as r; print(oxymus.__file__); print(any(p.name.endswith('.tcss') for p in r.files('oxymus.tui').iterdir()))"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert check.returncode == 0, check.stderr
    location, has_css = check.stdout.split()
    assert str(venv) in location and has_css == "True"
    freeze = subprocess.run([py, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True).stdout
    installed_pins = _pins(freeze)
    assert "pyyaml" in pins and "tomli-w" in pins, "the export holds the runtime dependencies"
    off_lock = {name: (version, pins.get(name)) for name, version in installed_pins.items()
                if name not in ("oxymus", "pip", "setuptools", "wheel") and pins.get(name) != version}
    assert not off_lock, f"installed versions that are not the locked ones (installed, locked): {off_lock}"
    env = {**os.environ, "OXYMUS_HOME": str(home)}
    exe = str(venv / "bin" / "oxymus")
    assert subprocess.run([exe, "--version"], capture_output=True, text=True, env=env).stdout.startswith("oxymus ")
    captured = subprocess.run([exe, "capture", "from", "the", "installed", "copy"], capture_output=True, text=True, env=env)
    assert captured.returncode == 0, captured.stderr
    inbox = subprocess.run([exe, "inbox"], capture_output=True, text=True, env=env)
    assert "from the installed copy" in inbox.stdout


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_installed_daemon_starts_from_a_folder_holding_an_oxymus_package(installed, home):
    """Run inside a checkout (which has its own `oxymus/` folder), `oxymus up` still starts the installed daemon."""
    venv, src, _pins = installed
    env = {**os.environ, "OXYMUS_HOME": str(home)}
    exe = str(venv / "bin" / "oxymus")
    up = subprocess.run([exe, "up"], capture_output=True, text=True, env=env, cwd=src)
    try:
        assert up.returncode == 0, up.stderr
        assert subprocess.run([exe, "status"], capture_output=True, env=env, cwd=src).returncode == 0
    finally:
        subprocess.run([exe, "down"], capture_output=True, env=env, cwd=src)


def test_every_package_folder_is_listed_in_pyproject():
    """A new subpackage missing from [tool.setuptools] packages is silently left out of the install."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    folders = project["tool"]["setuptools"]["package-dir"]
    found = set()
    for package, folder in folders.items():
        for init in (root / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(root / folder)
            found.add(".".join([package, *rel.parts]))
    assert found <= listed, f"add to pyproject.toml packages: {sorted(found - listed)}"
