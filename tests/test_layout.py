"""The import rules of README's "How the code is laid out": lib imports no app, orgs never
imports tokens, and so on, so shared code has a neutral home and no domain app imports
another only for helpers."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = {"lib", "ops", "accounts", "orgs", "tokens", "events", "trust", "config"}
MAY_IMPORT = {
    "lib": set(),
    "ops": {"lib"},
    "accounts": {"lib"},
    "orgs": {"accounts", "lib", "ops"},
    "tokens": {"orgs", "accounts", "lib", "ops", "config"},  # config.unavailable: the 503
    # Events listens to the audit log and reads tokens for payloads, and its scheduler runs
    # every app's periodic work (trust's pruning too); nothing imports events.
    "events": {"tokens", "orgs", "accounts", "lib", "ops", "trust"},
    # Trusted publishing issues its short-lived tokens through tokens.services; no app
    # imports trust but events' scheduler (config/urls.py registers its API operation).
    "trust": {"tokens", "orgs", "accounts", "lib", "ops"},
}


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & APPS


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_an_app_imports_only_what_the_layout_allows(app):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) - MAY_IMPORT[app] - {app})
        for path in (ROOT / app).rglob("*.py")
    }
    assert {path: apps for path, apps in wrong.items() if apps} == {}
