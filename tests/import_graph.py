"""The import graph of oxymus/, daemon/, tui/ and connectors/, read from the source (no imports run).

Every import counts, at the top or inside a function: a lazy import is still a
dependency, and hiding a cycle inside a function is exactly what the rule is for.
Imports under `if TYPE_CHECKING:` do not count, because they never run.

Units: a module is `oxymus.x.y`; its package is the folder it is in (`oxymus.x`),
except that each module at the root of `oxymus/` is a unit of its own: the root
holds the entry points and composition modules (`__main__`, `plugins`, `reference`,
...), which are not one job and depend on everything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

FOLDERS = {"oxymus": "oxymus", "daemon": "oxymus.daemon", "tui": "oxymus.tui", "connectors": "oxymus.connectors"}


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module in the four folders."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                skipped.update(id(n) for n in ast.walk(stmt))
    return skipped


def imports_of(name: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """The modules of `known` that module `name` imports (`from p import m` counts as p.m when m is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = _type_checking_only(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([module] if module else []))
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if full in known:
                    out.add(full)
                elif module in known:
                    out.add(module)
    out.discard(name)
    return out


def module_graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def unit_of(name: str, path: Path) -> str:
    """The package a module belongs to, or the module itself at the root of oxymus/."""
    if path.name == "__init__.py":
        return name
    if path.parent.name == "oxymus" and name.count(".") == 1:
        return name
    return name.rsplit(".", 1)[0]


def package_graph(root: Path) -> tuple[dict[str, set[str]], dict[tuple[str, str], list[tuple[str, str]]]]:
    """Unit -> units it imports, and for each edge the module imports that make it."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    why: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for name, targets in module_graph(root).items():
        a = unit_of(name, known[name])
        graph.setdefault(a, set())
        for target in targets:
            b = unit_of(target, known[target])
            if a != b:
                graph[a].add(b)
                why.setdefault((a, b), []).append((name, target))
    return graph, why


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)
