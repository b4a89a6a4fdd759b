"""The dependency rules of architecture.md, checked on the source so the shape cannot drift silently."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULE_MODULES = [
    "insurance/register/identifiers.py",
    "insurance/cover/eligibility.py",
    "insurance/cover/premiums.py",
    "claims/status.py",
    "claims/adjudication.py",
]
FORBIDDEN_IN_RULES = {"fastapi", "starlette", "sqlmodel", "sqlalchemy", "jinja2", "weasyprint", "rq", "redis", "core"}
PDF_IMPORTERS_ALLOWED = {"core/pdf.py", "worker.py"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_insurance_never_imports_claims() -> None:
    offenders = [
        rel(p) for p in python_files("insurance") if any(m.split(".")[0] == "claims" for m in imported_modules(p))
    ]
    assert offenders == []


def test_core_imports_no_domain_package_except_the_cli_composition_root() -> None:
    offenders = [
        rel(p)
        for p in python_files("core")
        if rel(p) != "core/cli.py"
        and not rel(p).startswith("core/migrations/")
        and any(m.split(".")[0] in {"insurance", "claims", "main", "worker"} for m in imported_modules(p))
    ]
    assert offenders == []


@pytest.mark.parametrize("module", [m for m in RULE_MODULES if (ROOT / m).exists()])
def test_rule_modules_import_nothing_from_web_db_or_core(module: str) -> None:
    tops = {m.split(".")[0] for m in imported_modules(ROOT / module)}
    assert tops & FORBIDDEN_IN_RULES == set()


def test_only_core_pdf_imports_weasyprint() -> None:
    offenders = [
        rel(p)
        for p in [*python_files("core", "insurance", "claims"), ROOT / "main.py", ROOT / "worker.py"]
        if any(m.split(".")[0] == "weasyprint" for m in imported_modules(p)) and rel(p) != "core/pdf.py"
    ]
    assert offenders == []


def test_only_jobs_and_the_worker_import_core_pdf() -> None:
    offenders = [
        rel(p)
        for p in [*python_files("core", "insurance", "claims"), ROOT / "main.py"]
        if "core.pdf" in imported_modules(p)
    ]
    offenders = [o for o in offenders if not o.endswith("/jobs.py") and o not in PDF_IMPORTERS_ALLOWED]
    assert offenders == []


def test_routers_and_pages_do_not_commit() -> None:
    offenders = [
        rel(p)
        for p in python_files("core", "insurance", "claims")
        if p.name in {"api.py", "pages.py", "web.py"} and ".commit(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "rule.py"
    sample.write_text("from sqlmodel import Session\nimport claims.service\n", encoding="utf-8")
    assert {"sqlmodel", "claims.service"} <= imported_modules(sample)
