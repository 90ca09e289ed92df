"""The suite's own layout: shared code comes from helpers.py, never from another test file."""

from pathlib import Path

import pytest
from helpers import imported_modules

TESTS = Path(__file__).parent
FORBIDDEN = ("conftest", "factories")


@pytest.mark.parametrize(
    "path",
    sorted([*TESTS.glob("*.py"), *TESTS.glob("faults/*.py")]),
    ids=lambda p: str(p.relative_to(TESTS)),
)
def test_shared_code_is_imported_from_helpers(path):
    found = [
        f"line {line}: {module}"
        for module, _name, line in imported_modules(path)
        if module.lstrip(".") in FORBIDDEN or module.lstrip(".").startswith("test_")
    ]
    assert found == [], f"{path.name} imports test code from elsewhere than helpers"
