"""The package's shape: no import cycles, a one-way language, a small root, short modules, no Pillow.

The import graph is read from the source with ``ast``, so these tests see every import a module can
make: at module level, inside functions and under ``if TYPE_CHECKING:``. ``import exportjob`` is
checked in a fresh interpreter not to import Pillow.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import exportjob as package

PKG = package.__name__
PACKAGE = Path(package.__file__).parent
ROOT = PACKAGE.parent

#: The one import a cycle check forgives: a ``_repr_html_`` method importing the display module when
#: it is displayed (the display module renders the very types that import it).
DISPLAY_DELEGATION = ("_repr_html_", f"{PKG}._display")

#: The private modules of ``exportjob.language``, bottom to top: each imports only those before it.
LANGUAGE_LAYERS = (
    "_values",
    "_color_syntax",
    "_arguments",
    "_vocabulary",
    "_syntax",
    "_macros",
    "_resolve",
)

MAX_MODULE_LINES = 450

#: Table modules, whose length is one row per entry and not logic: allowed over the limit.
#: (``exportjob/language/_vocabulary.py``, the command table, would be the first to go here.)
TABLE_MODULES: frozenset[str] = frozenset()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def resolve_from(module: str, level: int, target: str | None) -> str:
    """The absolute name that ``from <level dots><target> import ...`` in *module* reads."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package(module):
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


class _Edges(ast.NodeVisitor):
    """Collect ``(target, enclosing function)`` for every import of one module."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.functions: list[str] = []
        self.edges: list[tuple[str, str | None]] = []

    def _add(self, target: str) -> None:
        if target in MODULES:
            self.edges.append((target, self.functions[-1] if self.functions else None))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = resolve_from(self.module, node.level, node.module)
        names_a_value = False
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in MODULES:
                self._add(submodule)  # ``from pkg import submodule`` reads the submodule
            else:
                names_a_value = True
        if names_a_value:
            self._add(source)


def imports_of(module: str) -> list[tuple[str, str | None]]:
    visitor = _Edges(module)
    visitor.visit(ast.parse(MODULES[module].read_text(encoding="utf-8")))
    return visitor.edges


GRAPH: dict[str, set[str]] = {
    module: {
        target
        for target, function in imports_of(module)
        if target != module and (function, target) != DISPLAY_DELEGATION
    }
    for module in MODULES
}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle of *graph* as a path that starts and ends at the same module, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_sees_the_imports_that_matter() -> None:
    # Guards the checks below against reading nothing: each kind of import is an edge.
    assert f"{PKG}._names" in GRAPH[f"{PKG}.stores._memory"]  # relative, module level
    assert f"{PKG}.language._arguments" in GRAPH[f"{PKG}.language._vocabulary"]  # from . import
    assert f"{PKG}.plans" in GRAPH[f"{PKG}._display"]  # under TYPE_CHECKING
    assert "exportjob.testing.images" in GRAPH["exportjob.testing"]  # inside a function
    html = [t for t, f in imports_of("exportjob.plans") if f == "_repr_html_"]
    assert html == [f"{PKG}._display", f"{PKG}._display"]
    assert f"{PKG}._display" not in GRAPH[f"{PKG}.plans"]


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        pytest.param({"a": {"b"}, "b": {"c"}, "c": set()}, None, id="chain"),
        pytest.param({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"], id="triangle"),
        pytest.param({"a": {"b", "c"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"], id="tail"),
    ],
)
def test_find_cycle(graph: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


LANGUAGE = f"{PKG}.language"


def test_every_private_language_module_has_its_layer() -> None:
    private = {m.removeprefix(f"{LANGUAGE}.") for m in MODULES if m.startswith(f"{LANGUAGE}._")}
    assert private == set(LANGUAGE_LAYERS)


@pytest.mark.parametrize("layer", LANGUAGE_LAYERS)
def test_the_language_imports_one_way_bottom_to_top(layer: str) -> None:
    below = {f"{LANGUAGE}.{name}" for name in LANGUAGE_LAYERS[: LANGUAGE_LAYERS.index(layer)]}
    upward = sorted(
        target
        for target in GRAPH[f"{LANGUAGE}.{layer}"]
        if (target == LANGUAGE or target.startswith(f"{LANGUAGE}.")) and target not in below
    )
    assert upward == [], f"{LANGUAGE}.{layer} imports a layer above it, or the package itself"


def test_the_root_namespace_is_small_sorted_and_unique() -> None:
    names = list(package.__all__)
    assert len(names) <= 30
    assert names == sorted(set(names))
    assert all(hasattr(package, name) for name in names)


def _line_counts() -> dict[str, int]:
    return {
        str(path.relative_to(ROOT).as_posix()): len(path.read_text(encoding="utf-8").splitlines())
        for path in MODULES.values()
    }


def test_modules_are_small() -> None:
    oversized = {
        path: lines
        for path, lines in _line_counts().items()
        if lines > MAX_MODULE_LINES and path not in TABLE_MODULES
    }
    assert oversized == {}, f"modules over {MAX_MODULE_LINES} lines: split them"


def test_importing_the_package_does_not_import_pillow() -> None:
    code = (
        "import sys, exportjob; print(sorted(m for m in sys.modules if m.split('.')[0] == 'PIL'))"
    )
    result = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"
