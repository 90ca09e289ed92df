"""The layers of docs/architecture.md, read from every module's imports."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest
from helpers import imported_modules

from feedback import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "feedback"

PURE = {
    "feedback.notices",
    "feedback.mail",
    "feedback.html_blocks",
    "feedback.chinese",
    "feedback.masking",
    "feedback.statuses",
    "feedback.text",
    "feedback.charts",
    "feedback.spreadsheets",
    "feedback.config",
}
MODELS = {"feedback.models", "feedback.db"}
WEB = {
    "feedback.web",
    "feedback.templating",
    "feedback.errors",
    "feedback.downloads",
    "feedback.security",
    "feedback.i18n",
    "feedback.urls",
    "feedback.validators",
    "feedback.logs",
    "feedback.metrics",
    "feedback.page_cache",
}
BLUEPRINTS = {
    "feedback.public",
    "feedback.auth",
    "feedback.staff",
    "feedback.section",
    "feedback.api",
    "feedback.open311",
    "feedback.health",
}
COMMANDS = {
    "feedback.cli",
    "feedback.config_check",
    "feedback.demo",
    "feedback.quickstart",
}
# What request-bound Flask names a service must never reach for.
REQUEST_BOUND = {"request", "session", "g", "flash", "redirect", "abort", "url_for"}


def _area(module: str, areas: set[str]) -> str | None:
    return next((a for a in areas if module == a or module.startswith(a + ".")), None)


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """Return (module, name) for every import that runs (not under TYPE_CHECKING)."""
    return [
        (found.module, found.name)
        for found in imported_modules(path, skip_type_checking=True)
    ]


def _targets(module: str, name: str | None) -> str:
    """Return the feedback module an import reaches (``from feedback import x``)."""
    if module == "feedback" and name is not None:
        return f"feedback.{name}"
    return module


MODULES = _modules()


def _crossings(allowed: set[str], layer: set[str]) -> list[str]:
    """Return the imports of ``layer``'s modules from feedback outside ``allowed``."""
    wrong = []
    for module, path in MODULES:
        if _area(module, layer) is None:
            continue
        for imported, name in _imports(path):
            target = _targets(imported, name)
            if not target.startswith("feedback"):
                continue
            if _area(target, allowed | layer) is None:
                wrong.append(f"{module} imports {target}")
    return wrong


# The package's own __init__ (create_app) stands apart; "feedback" here is that
# module alone, never a prefix, or it would place every module.
ROOT = "feedback"
OTHERS = {
    "feedback.config",
    "feedback.extensions",
    "feedback.labels",
    "feedback.signing",
    "feedback.services",
    "feedback.demo_data",
}


def _unplaced(modules: Iterable[str]) -> list[str]:
    """Return the modules that belong to no layer of docs/architecture.md."""
    placed = PURE | MODELS | WEB | BLUEPRINTS | COMMANDS | OTHERS
    return [m for m in modules if m != ROOT and _area(m, placed) is None]


def test_every_module_has_a_layer():
    unplaced = _unplaced(module for module, _path in MODULES)
    assert unplaced == [], f"place these in docs/architecture.md and here: {unplaced}"


def test_a_module_outside_every_layer_is_found():
    made_up = ["feedback.made_up", "feedback.made_up.deeper", "feedback_extra"]
    assert _unplaced(["feedback", "feedback.models.board", *made_up]) == made_up


def test_pure_helpers_use_no_flask_no_database_and_nothing_above():
    wrong = _crossings(PURE, PURE)
    for module, path in MODULES:
        if _area(module, PURE) is None:
            continue
        wrong += [
            f"{module} imports {imported}"
            for imported, _name in _imports(path)
            if imported.split(".")[0] in {"flask", "flask_babel", "sqlalchemy"}
        ]
    assert wrong == []


def test_models_import_only_the_database_layer_and_status_words():
    assert _crossings({"feedback.statuses"}, MODELS) == []


def test_labels_import_only_the_models_and_status_words():
    assert "feedback.labels" in dict(MODULES)
    assert _crossings(MODELS | {"feedback.statuses"}, {"feedback.labels"}) == []


def test_services_reach_no_view_and_no_request():
    allowed = (
        MODELS
        | PURE
        | {
            "feedback.services",
            "feedback.extensions",
            "feedback.labels",
            "feedback.signing",
        }
    )
    wrong = _crossings(allowed, {"feedback.services"})
    for module, path in MODULES:
        if _area(module, {"feedback.services"}) is None:
            continue
        wrong += [
            f"{module} uses flask.{name}"
            for imported, name in _imports(path)
            if imported == "flask" and name in REQUEST_BOUND
        ]
    assert wrong == []


@pytest.mark.parametrize("blueprint", sorted(BLUEPRINTS))
def test_a_blueprint_uses_no_other_blueprint(blueprint: str):
    below = (
        MODELS
        | PURE
        | WEB
        | {
            "feedback.services",
            "feedback.extensions",
            "feedback.labels",
            "feedback.signing",
            "feedback.config",
            "feedback.auth.decorators",
        }
    )
    assert _crossings(below, {blueprint}) == []


def test_shared_web_pieces_and_commands_use_no_blueprint():
    for layer in (WEB, COMMANDS):
        wrong = [
            crossing
            for crossing in _crossings(set(), layer)
            if _area(crossing.split(" imports ")[1], BLUEPRINTS) is not None
        ]
        assert wrong == []


# Heavy modules that only some requests need, loaded by the one function that
# uses them, the first time it runs: each is tens of megabytes in every worker
# (tests/test_performance.py checks that create_app leaves them out).
LAZY_IMPORTS = {
    ("feedback.chinese", "_readings"),  # pypinyin: pinyin, in care mode only
    ("feedback.services.attachments", "has_active_content"),  # pypdf: PDFs only
}


def test_no_imports_inside_functions():
    """Imports stand at the top; create_app's blueprint imports and the lazy
    loads of heavy modules are the exceptions."""
    wrong = []
    for module, path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if module == "feedback" and function.name == "create_app":
                continue
            if (module, function.name) in LAZY_IMPORTS:
                continue
            wrong += [
                f"{module}.{function.name}:{node.lineno}"
                for node in ast.walk(function)
                if isinstance(node, ast.Import | ast.ImportFrom)
            ]
    assert wrong == []


def test_importing_the_package_loads_only_its_settings():
    """``import feedback.text`` runs ``feedback/__init__``: a pure helper stays light."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    reached = {
        _targets(node.module, alias.name)
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    } | {
        alias.name
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert {t for t in reached if t.startswith("feedback")} == {"feedback.config"}
