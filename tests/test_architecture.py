"""Import direction and the weight of the capture path, checked by a machine.

- The core (oxymus.*), the daemon and the connectors never import Textual or the TUI.
- The TUI never imports the store, the daemon or a connector: it reaches data only
  through the daemon's clients.
- The CLI package has no cycles: its command modules import `oxymus.cli.base` and no
  sibling; the base imports no command module.
- No module of oxymus/, daemon/, tui/ or connectors/ is over MAX_MODULE_LINES lines (issue 11).
- `oxymus capture` imports neither pydantic, asyncio, argparse nor Textual: its
  start-up budget is twice a bare interpreter's, and this keeps it honest without
  a timed assertion.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import import_graph

import oxymus
import oxymus.connectors
import oxymus.daemon
import oxymus.tui

ROOT = Path(__file__).resolve().parent.parent


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def _headless_modules() -> list[str]:
    core = [m for m in _modules(oxymus) if not m.startswith(("oxymus.tui", "oxymus.daemon", "oxymus.connectors"))]
    core = [m for m in core if m not in ("oxymus.__main__", "oxymus.demo")]
    return ["oxymus", *core, "oxymus.daemon", *_modules(oxymus.daemon), "oxymus.connectors", *_modules(oxymus.connectors)]


def test_headless_modules_never_import_textual():
    modules = _headless_modules()
    assert "oxymus.daemon.main" in modules and "oxymus.store.repos" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual' or m.startswith('oxymus.tui'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


FORBIDDEN_FOR_TUI = ("oxymus.store", "oxymus.daemon", "oxymus.connectors", "aiosqlite", "sqlite3")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_tui_reaches_data_only_through_the_client():
    files = sorted((ROOT / "tui").rglob("*.py"))
    assert files, "the TUI package has modules"
    offenders = {
        str(f.relative_to(ROOT)): sorted(n for n in _imports(f) if n.startswith(FORBIDDEN_FOR_TUI))
        for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


# The one way the TUI may reach the database without the daemon: the capture fallback `oxymus capture`
# uses (ARCHITECTURE.md, "Capture never waits on the daemon"), from the connection's outbox only.
CAPTURE_FALLBACK = "oxymus.client.capture"


def test_the_tui_writes_to_disk_only_through_the_capture_fallback():
    users = sorted(str(f.relative_to(ROOT)) for f in (ROOT / "tui").rglob("*.py")
                   if any(n == CAPTURE_FALLBACK or n.startswith(CAPTURE_FALLBACK + ".") for n in _imports(f)))
    assert users == ["tui/link/outbox.py"]
    # The fallback opens the store only when the daemon did not answer: loading the whole TUI loads no store
    # code, so no other path to the database can hide behind a core module the TUI imports.
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import oxymus.tui\n"
        "for m in pkgutil.walk_packages(oxymus.tui.__path__, 'oxymus.tui.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({FORBIDDEN_FOR_TUI!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_core_never_imports_a_concrete_connector_or_the_daemon():
    # The one exception: the CLI's `daemon` command starts the daemon (a lazy import).
    allowed = {("oxymus/cli/daemon_cmds.py", "oxymus.daemon"), ("oxymus/cli/daemon_cmds.py", "oxymus.daemon.main")}
    offenders = [
        (str(f.relative_to(ROOT)), name)
        for f in sorted((ROOT / "oxymus").rglob("*.py"))
        for name in sorted(_imports(f))
        if (name.startswith(("oxymus.connectors.", "oxymus.daemon.")) or name == "oxymus.daemon")
        and (str(f.relative_to(ROOT)), name) not in allowed
    ]
    assert offenders == []


MAX_MODULE_LINES = 600


def test_no_module_is_over_the_line_limit():
    files = sorted(f for d in ("oxymus", "daemon", "tui", "connectors") for f in (ROOT / d).rglob("*.py"))
    assert {"oxymus/agents/publisher.py", "daemon/desk.py", "tui/link/connection.py", "connectors/git/actions.py"} <= {
        str(f.relative_to(ROOT)) for f in files}
    lengths = {str(f.relative_to(ROOT)): len(f.read_text(encoding="utf-8").splitlines()) for f in files}
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def _cli_imports(path: Path) -> set[str]:
    """What a module of oxymus/cli/ imports from the package (`from oxymus.cli import x` counts as oxymus.cli.x)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            if node.module == "oxymus":
                names.update(f"oxymus.{a.name}" for a in node.names)
            elif node.module == "oxymus.cli":
                names.update(f"oxymus.cli.{a.name}" for a in node.names)
            elif node.module:
                names.add(node.module)
    return {n for n in names if n == "oxymus.cli" or n.startswith("oxymus.cli.")}


def test_cli_command_modules_import_only_the_base():
    package = ROOT / "oxymus" / "cli"
    modules = sorted(p for p in package.glob("*.py") if p.name != "__init__.py")
    assert {"base.py", "capture.py", "actions.py"} <= {p.name for p in modules}
    found = {p.name: sorted(_cli_imports(p)) for p in modules}
    assert found.pop("base.py") == [], "the base imports no command module"
    assert {name: names for name, names in found.items() if set(names) - {"oxymus.cli.base"}} == {}


def test_capture_path_stays_light(home):
    """Run the real capture (daemon down, then up is covered by the bench) and list what it imported."""
    code = (
        "import sys, json\n"
        "from oxymus.cli import main\n"
        "sys.stdout = open('/dev/null', 'w')\n"
        "code = main(['capture', 'weigh', 'me'])\n"
        "sys.stdout = sys.__stdout__\n"
        "heavy = ('pydantic', 'asyncio', 'argparse', 'textual', 'aiosqlite', 'platformdirs')\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in heavy)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [0, []]


def test_status_line_path_stays_light(home):
    """`oxymus status --line` and `--waybar` with a database and the daemon down (the bench covers it up):
    a status bar runs them every few seconds, so they load no pydantic, asyncio or argparse."""
    from oxymus.profile import paths as paths_mod
    from oxymus.store import db

    paths = paths_mod.resolve({"OXYMUS_HOME": str(home)})
    paths.ensure()
    db.connect(paths.db_file).close()  # a migrated, empty store
    code = (
        "import sys, json\n"
        "from oxymus.cli import main\n"
        "sys.stdout = open('/dev/null', 'w')\n"
        "codes = [main(['status', '--line']), main(['status', '--waybar'])]\n"
        "sys.stdout = sys.__stdout__\n"
        "heavy = ('pydantic', 'asyncio', 'argparse', 'textual', 'aiosqlite', 'platformdirs')\n"
        "print(json.dumps([codes, sorted(m for m in sys.modules if m.split('.')[0] in heavy)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [[0, 0], []]


def test_the_cycle_finder_finds_cycles():
    # The rules below pass only while the finder can fail: a three-step cycle, a
    # two-step one and a self-loop-free chain must come out as exactly two cycles.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert import_graph.cycles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert import_graph.cycles({"a": {"b"}, "b": set()}) == []


def test_no_package_imports_in_a_cycle():
    graph, why = import_graph.package_graph(ROOT)
    # Sanity: the graph is the real one (it sees the layers and a lazy import).
    assert "oxymus.actions" in graph["oxymus.store"] and "oxymus.store" in graph["oxymus.client"]
    found = import_graph.cycles(graph)
    detail = {
        " <-> ".join(c): sorted(f"{m} -> {t}" for a in c for b in c for m, t in why.get((a, b), []))
        for c in found
    }
    assert detail == {}


def test_no_module_imports_in_a_cycle():
    graph = import_graph.module_graph(ROOT)
    assert "oxymus.store.backup_files" in graph["oxymus.store.storage_errors"]
    assert import_graph.cycles(graph) == []


# The root of oxymus/ holds the entry points and the modules that put the packages
# together; everything else lives in a package named for its job (ARCHITECTURE.md).
ROOT_MODULES = {"__init__", "__main__", "action_kinds", "demo", "models", "plugins", "reference"}


def test_the_root_of_the_core_holds_only_entry_points_and_composition():
    found = {p.stem for p in (ROOT / "oxymus").glob("*.py")}
    assert found == ROOT_MODULES, "a new core module goes in a package named for its job (ARCHITECTURE.md)"


def test_every_package_is_installed():
    # setuptools installs only the packages pyproject.toml lists: a new folder missing there works
    # from the checkout and is gone from a real install.
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {name for name, path in import_graph.modules(ROOT).items() if path.name == "__init__.py"}
    assert found - listed == set() and "oxymus.tui.link" in found
