"""The layers import one way (DESIGN.md §2): emails → profiles → catalog → batches → llm.

A package may import those to its right, never to its left. Every module counts (management
commands, admin, demo steps, migrations) and so does every import inside a function, as well as
`import_module("...")` with a literal name. `config` is plumbing and exempt.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["emails", "profiles", "catalog", "batches", "llm"]  # left may import right, never the reverse


def _forbidden(package: str) -> set[str]:
    return set(LAYERS[: LAYERS.index(package)])


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append((node.lineno, node.args[0].value))
    return names


def violations(package: str) -> list[str]:
    forbidden = _forbidden(package)
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _imported(tree):
            top = name.split(".")[0]
            if top in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", LAYERS[1:])
def test_no_layer_imports_a_layer_to_its_left(package):
    assert violations(package) == []


def test_the_checker_sees_imports_inside_functions_and_by_name():
    tree = ast.parse(
        "def f():\n"
        "    from emails.services import email_send\n"
        "    import profiles.models\n"
        "    return import_module('catalog.demo')\n"
    )

    assert [name for _, name in sorted(_imported(tree))] == ["emails.services", "profiles.models", "catalog.demo"]
