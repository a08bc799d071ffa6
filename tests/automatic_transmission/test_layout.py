"""The package's rooms say what they hold: its import graph has no cycle and no import runs back up.

The graph is read from the source (ast over every module of automatic_transmission), so a test
fails on the commit that adds a cycle or an upward import, before anything is run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import automatic_transmission
from tests.support.source import parse_file

PACKAGE = "automatic_transmission"
ROOT = Path(automatic_transmission.__file__).parent

# Bottom to top: a module may import its own layer or a lower one, never a higher one. A module
# belongs to the layer of the longest prefix below that matches its name (relative to the package).
LAYERS: tuple[tuple[str, ...], ...] = (
    # facts, bounds and settings: import nothing above them
    ("model", "settings", "metadata", "limits", "torrents"),
    # domain pieces: each depends on the facts only (the store keeps items and the watchlist)
    ("parsing", "store", "clients", "quality", "items", "safety", "seeding", "watchlist"),
    ("library", "filters"),  # rules and placement, built on the parser and the facts
    ("pipeline",),  # the step machinery: runner, op, report, notices, run tags, step table
    ("pipeline.steps", "pipeline.hunt"),  # one module per step (and hunting, step 01's kin)
    # Dagster ops, jobs, resources and the sensors that start jobs
    ("pipeline.ops", "pipeline.jobs", "pipeline.resources", "pipeline.sensors"),
    ("operator", "health", "cli"),  # the other surfaces, using the pipeline's pieces
    ("definitions", ""),  # the package root and `defs` on top
)


@dataclass(frozen=True)
class Import:
    source: str  # importing module, relative to the package ("" is the package itself)
    target: str
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`: never run, but still a dependency of the design


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def relative(absolute: str) -> str | None:
    """`automatic_transmission.x.y` -> `x.y`; None for a module outside the package."""
    if absolute == PACKAGE:
        return ""
    if absolute.startswith(PACKAGE + "."):
        return absolute[len(PACKAGE) + 1 :]
    return None


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def walk(node: ast.AST, type_only: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, type_only
        inner = type_only or (isinstance(child, ast.If) and is_type_checking(child))
        yield from walk(child, inner)


def imports_of(name: str, path: Path) -> Iterator[Import]:
    is_package = path.name == "__init__.py"
    known = modules()
    for node, type_only in walk(parse_file(path)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = [PACKAGE, *name.split(".")] if name else [PACKAGE]
                if not is_package:
                    base.pop()
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:  # `from pkg import submodule` depends on the submodule
                inner = relative(f"{module}.{alias.name}")
                targets.append(f"{module}.{alias.name}" if inner in known else module)
        for target in targets:
            inside = relative(target)
            while inside is not None and inside not in known:  # `a.b.Name` -> `a.b`
                inside = inside.rpartition(".")[0] if "." in inside else ""
            if inside is not None and inside != name:
                yield Import(name, inside, node.lineno, type_only)  # type: ignore[attr-defined]


@cache
def graph() -> tuple[Import, ...]:
    return tuple(i for name, path in modules().items() for i in imports_of(name, path))


def layer(name: str) -> int:
    best, best_length = -1, -1
    for number, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = name == prefix or (prefix != "" and name.startswith(prefix + "."))
            if matches and len(prefix) > best_length:
                best, best_length = number, len(prefix)
    assert best >= 0, f"{name} belongs to no layer: add it to LAYERS"
    return best


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk (one per back edge)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    """Guard against a vacuous pass: the walk finds the modules and the imports we know exist."""
    assert {"model", "pipeline.runner", "pipeline.jobs", "definitions"} <= set(modules())
    pairs = {(i.source, i.target) for i in graph()}
    assert ("pipeline.runner", "store.media") in pairs
    assert ("definitions", "pipeline.jobs") in pairs


def test_every_module_has_a_layer() -> None:
    for name in modules():
        layer(name)


def test_no_import_runs_back_up() -> None:
    upward = [
        f"{i.source} (layer {layer(i.source)}) imports {i.target} (layer {layer(i.target)}), "
        f"line {i.line}"
        for i in graph()
        if layer(i.target) > layer(i.source)
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for i in graph():
        if not i.type_only:
            edges.setdefault(i.source, set()).add(i.target)
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


@pytest.mark.parametrize(
    ("name", "expected"), [("pipeline.steps.parse", 4), ("pipeline.runner", 3), ("", 7)]
)
def test_layer_is_the_longest_prefix(name: str, expected: int) -> None:
    assert layer(name) == expected
