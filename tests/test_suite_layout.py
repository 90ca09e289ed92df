"""The suite's own layout: shared code comes from helpers.py, never from another test file."""

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FORBIDDEN = ("conftest", "factories")


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda p: p.name)
def test_shared_code_is_imported_from_helpers(path):
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [
            f"line {node.lineno}: {name}"
            for name in names
            if name in FORBIDDEN or name.startswith("test_")
        ]
    assert found == [], f"{path.name} imports test code from elsewhere than helpers"
