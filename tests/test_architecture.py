"""The package's shape: no import cycles (function-level imports included), nothing imports the CLI, short modules.

The import graph is read from the source with ``ast`` (every ``import`` and
``from ... import`` anywhere in a module, relative imports resolved), so an
import hidden inside a function counts as much as one at the top of the file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "gdcourse"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """``{dotted name: path}`` of every ``.py`` file under ``root``."""
    return {module_name(p): p for p in sorted(root.rglob("*.py"))}


def imported_names(path: Path, name: str) -> set[str]:
    """Every dotted name ``path`` imports, anywhere in the file; ``from a import b`` gives ``a`` and ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``.

    Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` too, so an edge
    goes to each package on the way as well as to the module itself.
    """
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_names(path, name):
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix in modules:
                    targets.add(prefix)
        targets.discard(name)
        # A package's own parents are already imported before the package runs: not a dependency.
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or None; iterative DFS."""
    state = dict.fromkeys(graph, 0)  # 0 unseen, 1 on the stack, 2 done
    for start in sorted(graph):
        if state[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child, 2) == 1:
                return path[path.index(child):] + [child]
            elif state.get(child) == 0:
                state[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
    return None


# ---------------------------------------------------------------- the tools themselves


def test_find_cycle_finds_a_cycle_and_accepts_a_dag():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_imported_names_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    source = "def f():\n    from . import sibling\n    from ..top import x\n    import os.path\n"
    (pkg / "sub" / "mod.py").write_text(source)
    names = imported_names(pkg / "sub" / "mod.py", "pkg.sub.mod")
    assert {"pkg.sub.sibling", "pkg.top", "pkg.top.x", "os.path"} <= names
    (pkg / "sub" / "__init__.py").write_text("from .mod import f\n")
    assert "pkg.sub.mod" in imported_names(pkg / "sub" / "__init__.py", "pkg.sub")


# ---------------------------------------------------------------- the package


def test_no_import_cycle_between_package_modules():
    graph = import_graph(package_modules())
    assert "gdcourse.course.grade" in graph  # the walk found the package
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_only_the_command_line_imports_the_command_line():
    graph = import_graph(package_modules())
    importers = sorted(name for name, targets in graph.items() if "gdcourse.cli" in targets)
    assert importers == [], f"library modules import gdcourse.cli: {importers}"


def test_no_module_is_longer_than_the_limit():
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines())
               for name, path in package_modules().items()}
    too_long = {name: n for name, n in sorted(lengths.items()) if n > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


@pytest.mark.parametrize("argv", [["--help"], ["practice", "--help"]])
def test_help_does_not_import_numpy(argv):
    """``gdcourse --help`` stays quick: the command line imports a command's module only to run it."""
    import subprocess
    import sys

    probe = ("import sys, contextlib, io\n"
             "from gdcourse import cli\n"
             "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
             f"    cli.main({argv!r})\n"
             "assert 'usage:' in out.getvalue(), out.getvalue()\n"
             "heavy = sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'nbformat', 'sqlite3') if m in sys.modules)\n"
             "print(','.join(heavy))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT.parent,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT.parent)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"gdcourse {' '.join(argv)} imported {done.stdout.strip()}"


def test_each_listed_command_is_registered_by_its_module_with_the_same_help_line():
    """``gdcourse --help`` lists COMMANDS without importing the modules; each module must agree with it."""
    import importlib

    from gdcourse import cli

    registered = {}

    class Recorder:
        def __init__(self, module):
            self.module = module

        def add_parser(self, name, **settings):
            registered[name] = (self.module, settings.get("help"))
            import argparse

            return argparse.ArgumentParser(prog=f"gdcourse {name}")

    for module in cli.COMMAND_MODULES:
        importlib.import_module(module).add_command(Recorder(module))
    assert registered == cli.COMMANDS


# ---------------------------------------------------------------- one alias convention in the notebooks

NOTEBOOK_ALIASES = {"gdcourse.experiments": "E", "gdcourse.plots": "P", "gdcourse.widgets": "W"}
"""``from gdcourse.experiments import <notebook> as E`` (and P, W); every other gdcourse module by its own name."""


def notebook_alias_problems(source: str) -> list[str]:
    """The imports in ``source`` (a notebook's code) that break the alias convention."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
            for alias in node.names:
                expected = NOTEBOOK_ALIASES.get(node.module)
                if alias.asname is not None and alias.asname != expected:
                    problems.append(f"from {node.module} import {alias.name} as {alias.asname}"
                                    f" (expected {'as ' + expected if expected else 'no alias'})")
        elif isinstance(node, ast.Import):
            problems += [f"import {a.name} as {a.asname}" for a in node.names
                         if a.name.startswith(PACKAGE) and a.asname is not None]
    return problems


def test_alias_checker_flags_other_aliases():
    assert notebook_alias_problems("from gdcourse.experiments import gd as E\nfrom gdcourse import nn") == []
    assert notebook_alias_problems("from gdcourse.plots import gd as PV\nfrom gdcourse import landscapes as LS") == [
        "from gdcourse.plots import gd as PV (expected as P)",
        "from gdcourse import landscapes as LS (expected no alias)"]


@pytest.mark.parametrize("notebook", sorted((ROOT.parent / "solutions").glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_use_one_alias_convention(notebook):
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    assert notebook_alias_problems(code) == []
