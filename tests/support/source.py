"""Parsing the project's own source for the tests that read it (imports, settings, names)."""

from __future__ import annotations

import ast
import threading
from pathlib import Path


def parse_file(path: Path) -> ast.Module:
    """`ast.parse` of a file. CPython 3.11.7's parser can raise "AST constructor recursion depth
    mismatch" when the calling thread's recursion counter was left off by an earlier test
    (python/cpython gh-106905); a fresh thread starts with a clean counter, so the file is parsed
    again there."""
    source = path.read_text()
    try:
        return ast.parse(source, str(path))
    except SystemError:
        found: list[ast.Module] = []
        worker = threading.Thread(target=lambda: found.append(ast.parse(source, str(path))))
        worker.start()
        worker.join()
        if not found:
            raise
        return found[0]
