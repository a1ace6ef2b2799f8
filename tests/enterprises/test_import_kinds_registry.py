"""Issue 11 items 3-4: import kinds live in their apps; enterprises imports neither loans nor banks."""

import ast
from pathlib import Path

from django.conf import settings

from enterprises.choices import ImportKind
from enterprises.importing.specs import SPECS

ENTERPRISES = Path(settings.BASE_DIR) / "enterprises"


def _imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_the_enterprises_app_imports_neither_loans_nor_banks():
    offenders = [
        f"{path.relative_to(ENTERPRISES)}: {module}"
        for path in ENTERPRISES.rglob("*.py")
        if "migrations" not in path.parts
        for module in _imported_modules(path)
        if module.split(".")[0] in {"loans", "banks"}
    ]
    assert offenders == []


def test_the_kind_registry_imports_nothing_of_the_apps():
    modules = set(_imported_modules(ENTERPRISES / "importing" / "specs.py"))
    assert modules == {"dataclasses"}  # plus its sibling normalise.py (a relative import)


def test_every_kind_is_registered_by_the_app_that_owns_its_table():
    assert set(SPECS) == set(ImportKind.values)
    owners = {kind: spec.upsert.model.split(".")[0] for kind, spec in SPECS.items() if spec.upsert}
    assert owners == {
        "census": "enterprises",
        "tax": "enterprises",
        "negative": "enterprises",
        "credit": "loans",
        "loans": "loans",
        "banks": "banks",
        "approvals": "loans",
        "recommendations": "visits",
    }
    assert SPECS["registry"].apply.__module__ == "enterprises.imports"
    assert SPECS["loans"].resolve.__module__ == "loans.imports"
    assert SPECS["banks"].resolve.__module__ == "banks.imports"
    assert SPECS["feedback"].apply.__module__ == "banks.imports"
