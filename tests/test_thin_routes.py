"""Routes stay thin (architecture.md, Conventions): a route never commits (its use case does) and never reaches into
`app.state` (it asks for SettingsDep, EngineDep or QueueDep). Checked on the source, with planted violations."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROUTE_MODULES = sorted(
    [
        *ROOT.glob("insurance/*/api.py"),
        *ROOT.glob("insurance/*/pages.py"),
        *ROOT.glob("insurance/*/pages/*.py"),
        *ROOT.glob("claims/**/api.py"),
        *ROOT.glob("claims/**/pages.py"),
        *ROOT.glob("claims/**/pages/*.py"),
        ROOT / "core/web.py",
    ]
)
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete"})


def _is_route(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in HTTP_METHODS
        for d in function.decorator_list
    )


def route_violations(source: str) -> list[str]:
    """`name: what` for each route that calls .commit() or reads app.state."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef) or not _is_route(function):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                found.append(f"{function.name}: commits")
            if isinstance(node, ast.Attribute) and node.attr == "state" and ast.unparse(node.value).endswith("app"):
                found.append(f"{function.name}: reads app.state")
    return found


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_routes_neither_commit_nor_read_app_state(path: Path) -> None:
    assert route_violations(path.read_text(encoding="utf-8")) == []


def test_a_planted_violation_is_found() -> None:
    planted = """
@router.post("/x")
def create_x(request: Request, session: SessionDep) -> None:
    session.commit()
    return request.app.state.settings
"""
    assert route_violations(planted) == ["create_x: commits", "create_x: reads app.state"]
