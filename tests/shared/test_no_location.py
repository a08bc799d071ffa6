"""`shared` knows no location: no string its code runs names a location, its prefixes or its
variables; each location passes its own (schedule prefix, notification and database variables)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import dagstributor_shared
from tests.support.source import parse_file

LOCATION_TEXT = re.compile(r"\b(AT|WST)_[A-Z]|^(at|wst)_|automatic_transmission|wiring_schema_tics")


def code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings (comments are not in the ast)."""
    tree = parse_file(path)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]  # fmt: skip


def test_no_code_string_of_shared_names_a_location() -> None:
    modules = sorted(Path(dagstributor_shared.__file__).parent.rglob("*.py"))
    assert len(modules) >= 10
    found = [
        f"{path.name}:{line}: {text!r}"
        for path in modules
        for line, text in code_strings(path)
        if LOCATION_TEXT.search(text)
    ]
    assert found == []


def test_the_pattern_sees_location_names() -> None:
    hits = ["AT_NOTIFY_URLS", "wst_", "at_01_parse", "automatic_transmission"]
    assert all(LOCATION_TEXT.search(text) for text in hits)
    assert not LOCATION_TEXT.search("DAGSTER_WEBSERVER_URL")
