"""The package's layers import only downward, and nothing imports in a loop.

The layer contracts are data in ``pyproject.toml`` (``[tool.importlinter]``), checked
here with import-linter's own command, exactly as a developer runs it
(``.venv/bin/lint-imports``). A second test looks for import loops among all the
package's modules with grimp (function-local imports included; imports under
``if TYPE_CHECKING:`` are not imports at run time and are left out), since a layer
contract does not see a loop between two modules of one layer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter ('.[test]')")


def _lint_imports() -> str:
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.skip("lint-imports not installed (import-linter, part of '.[test]')")
        exe = Path(found)
    return str(exe)


def test_layer_contracts_hold():
    proc = subprocess.run([_lint_imports(), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_contracts_have_no_ignored_imports():
    import tomllib

    cfg = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert cfg["contracts"], "no contract"
    for c in cfg["contracts"]:
        assert not c.get("ignore_imports"), f"{c['name']}: ignored imports {c['ignore_imports']}"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_cycle_finder_finds_a_loop():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts))]


def test_the_package_has_no_import_loop():
    """Function-local imports included, and importing ``a.b.c`` counts as importing the
    packages ``a.b`` and ``a`` too (their ``__init__`` runs first), except the packages
    the importer is itself inside (already being imported)."""
    graph = grimp.build_graph("hssim", include_external_packages=False, exclude_type_checking_imports=True)
    edges: dict[str, set[str]] = {m: set() for m in graph.modules}
    for m in graph.modules:
        own = set(_ancestors(m))
        for d in graph.find_modules_directly_imported_by(m):
            edges[m].add(d)
            edges[m].update(a for a in _ancestors(d) if a not in own and a != "hssim")
    loops = _cycles(edges)
    assert not loops, "import loops (function-local imports included):\n" + "\n".join(" -> ".join(c) for c in loops)
