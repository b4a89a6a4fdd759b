"""The dependency contracts of architecture.md, checked on the source so the shape cannot drift silently.

A small AST-based checker (no import-linter) builds the import graph of the project's own modules (core, insurance,
claims, main, worker) and walks it transitively. What counts as an import:

- `import a.b`, `from a import b` (b a submodule or a name), `from . import x`, `from .mod import y`,
  `from ..pkg import z`: relative imports are resolved against the importing module's package;
- imports anywhere in a module, including inside functions (they load the module the moment they run);
- importing a submodule also runs its package's `__init__`, so every module has an edge to its package;
- NOT imports under `if TYPE_CHECKING:` (they never run; only the `else:` branch of such an `if` counts).

Third-party and standard-library imports are leaves named by their top-level package (`sqlalchemy`, `csv`).
Each contract is a test on the real tree, and has a planted violation in a fake tree proving that it fails.
"""

import ast
import subprocess
import sys
import textwrap
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_TOPS = ("core", "insurance", "claims", "main", "worker")
DOMAIN_TOPS = frozenset({"insurance", "claims", "main", "worker"})

# Layers, told by a module's dotted name (a component, so `cover/api/routes.py` is in the api layer too).
# `web` is core's router module (core/web.py), the same layer as api/pages.
OUTER_LAYER = frozenset({"api", "pages", "jobs", "web"})
DATA_LAYER = frozenset({"models", "schemas", "errors"})
ROOTS = frozenset(
    {"main", "worker", "core.cli"}
)  # the composition roots (core.cli with its package): they wire every layer


def is_root(module: str) -> bool:
    return module in ROOTS or module.startswith("core.cli.")


# Rule modules (contract 5): these three by name, plus claims modules found by name (a module so named, or any
# module of a package so named, e.g. claims/assessment/medical.py), so new ones are checked as soon as they exist.
# `reasons` (the fixed code list) and `clocks` (statutory deadlines) are pure and imported by the rules.
RULE_MODULES = (
    "insurance.register.identifiers",
    "insurance.cover.eligibility",
    "insurance.cover.premiums",
    "insurance.gaps.reasons",
)
CLAIMS_RULE_NAMES = frozenset({"status", "assessment", "adjudication", "rules", "reasons", "clocks"})
ROSTER_READER = "insurance.register.roster"  # reads and checks a roster; allowed in the demo only if pure
# Web, database, templating, PDF and queue libraries (with their own sibling distributions).
IMPURE_LIBS = frozenset(
    {
        *("fastapi", "starlette", "pydantic", "pydantic_core", "pydantic_settings", "sqlmodel", "sqlalchemy"),
        *("alembic", "jinja2", "weasyprint", "rq", "redis", "psycopg", "psycopg2", "uvicorn"),
    }
)
# The demo imports only the standard library and pure project modules; openpyxl is the one exception: a file
# format library that demo/roster.py imports inside the function writing the XLSX variant of a demo roster.
DEMO_EXTRA_LIBS = frozenset({"openpyxl"})
PDF_TARGETS = frozenset({"core.pdf", "weasyprint"})
JOBS = frozenset({"jobs"})


# --- the checker -----------------------------------------------------------------------------------------------


@dataclass
class ImportGraph:
    """The project's modules and, for each, what it imports: {imported: line}, line 0 for the implicit import of
    the module's own package. Leaves (third-party, standard library) have no entry in `edges`."""

    root: Path
    tops: tuple[str, ...]
    files: dict[str, Path] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)
    edges: dict[str, dict[str, int]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)

    def is_project(self, name: str) -> bool:
        return name.split(".")[0] in self.tops

    def step(self, importer: str, imported: str) -> str:
        """`importer:line ->`, or `importer -(package)->` for the implicit run of its package's `__init__`."""
        line = self.edges[importer][imported]
        return f"{importer}:{line} ->" if line else f"{importer} -(package)->"


@dataclass(frozen=True)
class Violation:
    """`importer` reaches `forbidden` through `chain` (importer first, forbidden last)."""

    importer: str
    forbidden: str
    chain: tuple[str, ...]

    def render(self, graph: ImportGraph) -> str:
        steps = [graph.step(a, b) for a, b in zip(self.chain, self.chain[1:], strict=False)]
        return f"{self.importer} imports {self.forbidden}: {' '.join([*steps, self.forbidden])}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class ImportCollector(ast.NodeVisitor):
    """Every import statement of a module, wherever it sits, except under `if TYPE_CHECKING:`."""

    def __init__(self) -> None:
        self.found: list[ast.Import | ast.ImportFrom] = []

    def visit_If(self, node: ast.If) -> None:
        if is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append(node)


def build_graph(root: Path, tops: Iterable[str] = PROJECT_TOPS) -> ImportGraph:
    graph = ImportGraph(root=root, tops=tuple(tops))
    for top in graph.tops:
        paths = [root / f"{top}.py"] if (root / f"{top}.py").is_file() else sorted((root / top).rglob("*.py"))
        for path in paths:
            if "__pycache__" not in path.parts:
                name = module_name(root, path)
                graph.files[name] = path
                if path.name == "__init__.py":
                    graph.packages.add(name)
    for name, path in graph.files.items():
        collector = ImportCollector()
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        edges = graph.edges.setdefault(name, {})
        for node in collector.found:
            for target in resolve(graph, name, node):
                if target != name:
                    edges.setdefault(target, node.lineno)
        parent = name.rpartition(".")[0]
        while parent and parent not in graph.files:
            parent = parent.rpartition(".")[0]
        if parent:
            edges.setdefault(parent, 0)
    return graph


def resolve(graph: ImportGraph, importer: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules one import statement loads: project modules by full name, anything else by its top level."""
    if isinstance(node, ast.Import):
        return [existing_module(graph, importer, alias.name, node.lineno) for alias in node.names]
    base = node.module or ""
    if node.level:
        package = importer if importer in graph.packages else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        if not package:
            raise ValueError(f"{importer}:{node.lineno}: relative import beyond the top-level package")
        base = f"{package}.{base}" if base else package
    if not graph.is_project(base):
        return [base.split(".")[0]]
    return [
        f"{base}.{alias.name}"
        if f"{base}.{alias.name}" in graph.files
        else existing_module(graph, importer, base, node.lineno)
        for alias in node.names
    ]


def existing_module(graph: ImportGraph, importer: str, name: str, line: int) -> str:
    """`name` if it is a project module, else its longest existing prefix (noting the miss); leaves by top level."""
    if not graph.is_project(name):
        return name.split(".")[0]
    candidate = name
    while candidate not in graph.files and "." in candidate:
        candidate = candidate.rpartition(".")[0]
    if candidate != name:
        graph.unresolved.append(f"{importer}:{line} imports {name}, which is not a module")
    return candidate


def find_violations(
    graph: ImportGraph,
    importers: Iterable[str],
    forbidden: Callable[[str, str], bool],
    *,
    transitive: bool = True,
) -> list[Violation]:
    """What each importer reaches that `forbidden(importer, module)` rejects, with the shortest chain.

    The walk does not go past a forbidden module: the first crossing is the one to fix."""
    found: list[Violation] = []
    for importer in sorted(importers):
        chains = {importer: (importer,)}
        queue = deque([importer])
        while queue:
            module = queue.popleft()
            for target in graph.edges.get(module, {}):
                if target in chains:
                    continue
                chains[target] = (*chains[module], target)
                if forbidden(importer, target):
                    found.append(Violation(importer, target, chains[target]))
                elif transitive and target in graph.edges:
                    queue.append(target)
            if not transitive:
                break
    return found


# --- classifying modules ---------------------------------------------------------------------------------------


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def in_layer(name: str, layer: frozenset[str]) -> bool:
    return bool(layer.intersection(name.split(".")[1:]))


def rule_modules(graph: ImportGraph) -> set[str]:
    """The listed rule modules that exist, plus claims modules named for a rule idea (CLAIMS_RULE_NAMES) and every
    module of a claims package so named (claims/**/rules/, claims/assessment/)."""
    claims = {
        name
        for name in graph.files
        if in_package(name, "claims") and CLAIMS_RULE_NAMES.intersection(name.split(".")[1:]) and name != "claims"
    }
    return {name for name in RULE_MODULES if name in graph.files} | claims


def impure_for(graph: ImportGraph, allowed: set[str]) -> Callable[[str, str], bool]:
    """A rule module's test: no web/db/pdf/queue library, nothing of core, no project module outside `allowed`
    (package `__init__`s are walked through, so what they import is still checked)."""

    def forbidden(_: str, target: str) -> bool:
        if not graph.is_project(target):
            return target in IMPURE_LIBS
        return in_package(target, "core") or (target not in allowed and target not in graph.packages)

    return forbidden


def pure_modules(graph: ImportGraph) -> set[str]:
    """The rule modules, and the roster reader when it passes the same test as a rule module."""
    rules = rule_modules(graph)
    with_roster = rules | {ROSTER_READER}
    roster_is_pure = ROSTER_READER in graph.files and not find_violations(
        graph, [ROSTER_READER], impure_for(graph, with_roster)
    )
    return with_roster if roster_is_pure else rules


# --- the contracts ---------------------------------------------------------------------------------------------


def check_outer_layer_importers(graph: ImportGraph) -> list[Violation]:
    """Contract 1: only the composition roots and api/pages/jobs/web modules import api/pages/jobs/web (directly):
    services, models and rules never reach up to the layer that uses them."""
    importers = [m for m in graph.files if not is_root(m) and not in_layer(m, OUTER_LAYER)]
    return find_violations(
        graph, importers, lambda _, target: graph.is_project(target) and in_layer(target, OUTER_LAYER), transitive=False
    )


def check_data_layer(graph: ImportGraph) -> list[Violation]:
    """Contract 1: models/schemas/errors reach (transitively) only core (not its routers or CLI), other
    models/schemas/errors and pure rule modules: never a service or use-case module."""
    allowed = pure_modules(graph)

    def forbidden(_: str, target: str) -> bool:
        if not graph.is_project(target) or target in graph.packages or target in allowed:
            return False
        if in_package(target, "core"):
            return is_root(target) or in_layer(target, OUTER_LAYER)
        return not in_layer(target, DATA_LAYER)

    return find_violations(graph, [m for m in graph.files if in_layer(m, DATA_LAYER)], forbidden)


def check_insurance_never_imports_claims(graph: ImportGraph) -> list[Violation]:
    """Contract 2: claims pass what they paid to insurance as data; insurance never imports claims."""
    importers = [m for m in graph.files if in_package(m, "insurance")]
    return find_violations(graph, importers, lambda _, target: in_package(target, "claims"))


def check_register_below_cover(graph: ImportGraph) -> list[Violation]:
    """Contract 3: the register is the bottom of insurance: it imports nothing of cover or certificates."""
    importers = [m for m in graph.files if in_package(m, "insurance.register")]
    above = ("insurance.cover", "insurance.certificates")
    return find_violations(graph, importers, lambda _, target: any(in_package(target, p) for p in above))


def check_cover_below_certificates(graph: ImportGraph) -> list[Violation]:
    """Contract 3: cover imports nothing of certificates (certificates print what cover decided)."""
    importers = [m for m in graph.files if in_package(m, "insurance.cover")]
    return find_violations(graph, importers, lambda _, target: in_package(target, "insurance.certificates"))


def check_demo_is_pure(graph: ImportGraph) -> list[Violation]:
    """Contract 3: the demo rosters need no database or web: the standard library (and openpyxl for XLSX), the
    demo itself and pure rule modules (the roster reader only if pure), checked transitively."""
    allowed = pure_modules(graph)

    def forbidden(_: str, target: str) -> bool:
        if not graph.is_project(target):
            return target not in sys.stdlib_module_names and target not in DEMO_EXTRA_LIBS
        return not (in_package(target, "insurance.demo") or target in allowed or target in graph.packages)

    return find_violations(graph, [m for m in graph.files if in_package(m, "insurance.demo")], forbidden)


def check_core_imports_no_domain(graph: ImportGraph) -> list[Violation]:
    """Contract 4: core is below every domain; only the composition root core/cli.py and the migrations (which
    register the domains' tables) import them. Going through core.cli from elsewhere in core is a violation."""
    importers = [
        m
        for m in graph.files
        if in_package(m, "core") and not in_package(m, "core.cli") and not in_package(m, "core.migrations")
    ]
    return find_violations(
        graph, importers, lambda _, target: graph.is_project(target) and target.split(".")[0] in DOMAIN_TOPS
    )


def check_rule_modules_are_pure(graph: ImportGraph) -> list[Violation]:
    """Contract 5: rule modules are tested without a database or a web app, so they import no web/db/pdf/queue
    library, nothing of core and no project module that is not a rule module, transitively."""
    rules = rule_modules(graph)
    return find_violations(graph, rules, impure_for(graph, rules))


def check_direct_pdf_importers(graph: ImportGraph) -> list[Violation]:
    """Contract 6: only core/pdf.py imports weasyprint, and only jobs modules and worker.py import core.pdf."""

    def forbidden(importer: str, target: str) -> bool:
        if target == "weasyprint":
            return importer != "core.pdf"
        return target == "core.pdf" and importer != "worker" and not in_layer(importer, JOBS)

    return find_violations(graph, graph.files, forbidden, transitive=False)


def check_web_never_loads_weasyprint(graph: ImportGraph) -> list[Violation]:
    """Contract 6: WeasyPrint is slow to load and heavy; only the worker side (jobs modules, worker.py, and
    core.cli, which starts the worker) may reach core.pdf or weasyprint, transitively. main (the web app),
    api/pages, services and models must not."""
    worker_side = {"core.pdf", "worker"}
    importers = [
        m for m in graph.files if m not in worker_side and not in_package(m, "core.cli") and not in_layer(m, JOBS)
    ]
    return find_violations(graph, importers, lambda _, target: target in PDF_TARGETS)


@dataclass(frozen=True)
class Contract:
    key: str
    check: Callable[[ImportGraph], list[Violation]]


CONTRACTS = (
    Contract("1-outer-layer-imported-only-by-outer-layer-and-roots", check_outer_layer_importers),
    Contract("1-models-schemas-errors-import-only-core-data-and-rules", check_data_layer),
    Contract("2-insurance-never-imports-claims", check_insurance_never_imports_claims),
    Contract("3-register-below-cover-and-certificates", check_register_below_cover),
    Contract("3-cover-below-certificates", check_cover_below_certificates),
    Contract("3-demo-is-pure", check_demo_is_pure),
    Contract("4-core-imports-no-domain", check_core_imports_no_domain),
    Contract("5-rule-modules-are-pure", check_rule_modules_are_pure),
    Contract("6-only-core-pdf-imports-weasyprint-only-jobs-and-worker-import-core-pdf", check_direct_pdf_importers),
    Contract("6-web-never-loads-weasyprint", check_web_never_loads_weasyprint),
)
CONTRACTS_BY_KEY = {contract.key: contract for contract in CONTRACTS}


def report(contract: Contract, violations: list[Violation], graph: ImportGraph) -> str:
    """The contract, then one line per violation: importer, forbidden module, the chain with line numbers."""
    title = f"contract {contract.key}: {len(violations)} violation(s)"
    return "\n  ".join([title, *(v.render(graph) for v in violations)])


# --- the contracts on the real tree ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> ImportGraph:
    return build_graph(ROOT)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.key)
def test_contract_holds(contract: Contract, project: ImportGraph) -> None:
    violations = contract.check(project)
    assert not violations, report(contract, violations, project)


def test_every_project_import_resolves_to_a_module(project: ImportGraph) -> None:
    """An import the checker cannot place would be an edge it silently mis-attributes."""
    assert project.unresolved == []


def test_the_listed_rule_modules_exist(project: ImportGraph) -> None:
    """A renamed rule module would otherwise leave contract 5 checking nothing."""
    assert set(RULE_MODULES) <= rule_modules(project)


def test_the_roster_reader_is_pure(project: ImportGraph) -> None:
    """README: roster.py reads and checks a roster, pure; the demo relies on it."""
    assert ROSTER_READER in pure_modules(project)


def test_importing_the_web_app_does_not_load_weasyprint() -> None:
    """The graph says main cannot reach WeasyPrint; a real interpreter says nothing else (a plugin, a lazy
    import that ran at import time) loads it either."""
    python = ROOT / ".venv" / "bin" / "python"
    result = subprocess.run(
        [
            str(python) if python.exists() else sys.executable,
            "-c",
            "import main, sys; print('weasyprint' in sys.modules)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# --- the checker on a fake tree --------------------------------------------------------------------------------

# The project's layout in miniature, obeying every contract, using every import form the checker resolves.
CLEAN_TREE = {
    "core/__init__.py": "",
    "core/db.py": "import sqlalchemy\n",
    "core/errors.py": "class DomainError(Exception): ...\n",
    "core/models.py": "from sqlmodel import SQLModel\nfrom .db import engine\n",
    "core/audit.py": "from core.models import AuditLog\n",
    "core/pdf.py": "import weasyprint\n",
    "core/web.py": "from fastapi import APIRouter\nfrom core import audit\n",
    "core/cli.py": """
        def serve() -> None:
            import worker
            from insurance.register import service
    """,
    "core/migrations/env.py": "import insurance.register.models\nimport insurance.cover.models\n",
    "insurance/__init__.py": "",
    "insurance/register/__init__.py": "",
    "insurance/register/identifiers.py": "import unicodedata\n",
    "insurance/register/roster.py": """
        import csv
        from .identifiers import validate_id_number

        def read_xlsx(path):
            from openpyxl import load_workbook
    """,
    "insurance/register/errors.py": "from core.errors import DomainError\n",
    "insurance/register/models.py": "from sqlmodel import SQLModel\nfrom core.db import utcnow\n",
    "insurance/register/schemas.py": "from pydantic import BaseModel\nfrom insurance.register.models import Member\n",
    "insurance/register/service.py": """
        from typing import TYPE_CHECKING

        from sqlmodel import Session
        from core import audit
        from . import errors, models
        from .roster import open_roster

        if TYPE_CHECKING:  # never runs: not an import
            from insurance.cover.policies import Policy
    """,
    "insurance/register/api.py": "from fastapi import APIRouter\nfrom insurance.register import service\n",
    "insurance/register/jobs.py": "from core import pdf\nimport insurance.register.service\n",
    "insurance/cover/__init__.py": "",
    "insurance/cover/premiums.py": "from decimal import Decimal\n",
    "insurance/cover/eligibility.py": "from .premiums import round_fen\n",
    "insurance/gaps/__init__.py": "",
    "insurance/gaps/reasons.py": "from insurance.cover.eligibility import household_eligible\n",
    "insurance/cover/models.py": "from core.db import utcnow\n",
    "insurance/cover/schemas.py": """
        import pydantic
        from .eligibility import CoverAnswer
        from ..register.schemas import MemberPublic
    """,
    "insurance/cover/policies.py": """
        from insurance.register import service as register_service
        from . import eligibility, models
    """,
    "insurance/cover/api.py": "from insurance.cover import policies\n",
    "insurance/cover/jobs.py": "from core.pdf import render\nfrom insurance.cover import policies\n",
    "insurance/certificates/__init__.py": "",
    "insurance/certificates/models.py": "from core.db import utcnow\n",
    "insurance/certificates/pipeline.py": "from insurance.cover import policies\nfrom . import models\n",
    "insurance/certificates/pages.py": "from . import pipeline\n",
    "insurance/certificates/jobs.py": "from core import pdf\nfrom .pipeline import render_document\n",
    "insurance/demo/__init__.py": "",
    "insurance/demo/names.py": "import random\n",
    "insurance/demo/roster.py": """
        import csv
        from insurance.register.identifiers import ID_WEIGHTS
        from ..register import roster
        from .names import SURNAMES

        def write_xlsx(path):
            from openpyxl import Workbook
    """,
    "claims/__init__.py": "",
    "claims/status.py": "from enum import StrEnum\nfrom insurance.cover import eligibility\n",
    "claims/service.py": "from insurance.cover import policies\nfrom . import status\n",
    "claims/rules/__init__.py": "",
    "claims/rules/caps.py": "from decimal import Decimal\nfrom ..status import ClaimStatus\n",
    "claims/reasons.py": "from enum import StrEnum\n",
    "claims/assessment/__init__.py": "from .medical import assess_medical\n",
    "claims/assessment/medical.py": "from decimal import Decimal\nfrom ..reasons import ReasonCode\n",
    "main.py": """
        from core import web
        from insurance.register import api as register_api
        from insurance.cover import api as cover_api
        from insurance.certificates import pages as certificate_pages
    """,
    "worker.py": """
        from insurance.cover import jobs as cover_jobs
        from insurance.certificates import jobs as certificate_jobs

        def warm() -> None:
            from core import pdf
    """,
}


@dataclass(frozen=True)
class Plant:
    """Code appended to one file of the clean tree, and exactly what the contract must then report."""

    contract: str
    path: str
    code: str
    expected: tuple[tuple[str, ...], ...]  # each violation's chain, importer first, forbidden last

    @property
    def id(self) -> str:
        return f"{self.contract}:{self.path}"


PLANTS = (
    Plant(  # a use case reaching up to another package's router, from inside a function, relatively
        "1-outer-layer-imported-only-by-outer-layer-and-roots",
        "insurance/cover/policies.py",
        "def f():\n    from ..register import api\n",
        (("insurance.cover.policies", "insurance.register.api"),),
    ),
    Plant(
        "1-models-schemas-errors-import-only-core-data-and-rules",
        "insurance/cover/models.py",
        "from . import policies\n",
        (("insurance.cover.models", "insurance.cover.policies"),),
    ),
    Plant(  # through core.cli (a composition root is no excuse for a model)
        "1-models-schemas-errors-import-only-core-data-and-rules",
        "insurance/register/errors.py",
        "from core import cli\n",
        (("insurance.register.errors", "core.cli"),),
    ),
    Plant(
        "2-insurance-never-imports-claims",
        "insurance/certificates/pages.py",
        "import claims.service\n",
        (("insurance.certificates.pages", "claims.service"),),
    ),
    Plant(
        "3-register-below-cover-and-certificates",
        "insurance/register/api.py",
        "from insurance.cover.policies import Policy\n",
        (("insurance.register.api", "insurance.cover.policies"),),
    ),
    Plant(
        "3-cover-below-certificates",
        "insurance/cover/api.py",
        "from insurance.certificates import pipeline\n",
        (("insurance.cover.api", "insurance.certificates.pipeline"),),
    ),
    Plant(  # the roster reader turns impure: the demo, which imports it, is reported through it
        "3-demo-is-pure",
        "insurance/register/roster.py",
        "import sqlalchemy\n",
        (("insurance.demo.roster", "insurance.register.roster"),),
    ),
    Plant(
        "3-demo-is-pure",
        "insurance/demo/names.py",
        "import numpy\n",
        (("insurance.demo.names", "numpy"), ("insurance.demo.roster", "insurance.demo.names", "numpy")),
    ),
    Plant(
        "4-core-imports-no-domain",
        "core/audit.py",
        "def f():\n    from insurance.register import service\n",
        (("core.audit", "insurance.register.service"), ("core.web", "core.audit", "insurance.register.service")),
    ),
    Plant(  # a third-party import in a rule module
        "5-rule-modules-are-pure",
        "insurance/register/identifiers.py",
        "from pydantic import BaseModel\n",
        (("insurance.register.identifiers", "pydantic"),),
    ),
    Plant(  # transitively: premiums reaches core, so do eligibility and the claims rule modules through it
        "5-rule-modules-are-pure",
        "insurance/cover/premiums.py",
        "from core.db import utcnow\n",
        (
            (
                "claims.rules.caps",
                "claims.status",
                "insurance.cover.eligibility",
                "insurance.cover.premiums",
                "core.db",
            ),
            ("claims.status", "insurance.cover.eligibility", "insurance.cover.premiums", "core.db"),
            ("insurance.cover.eligibility", "insurance.cover.premiums", "core.db"),
            ("insurance.cover.premiums", "core.db"),
            ("insurance.gaps.reasons", "insurance.cover.eligibility", "insurance.cover.premiums", "core.db"),
        ),
    ),
    Plant(  # a relative import of a use case from a (found by its package) claims rule module
        "5-rule-modules-are-pure",
        "claims/rules/caps.py",
        "from .. import service\n",
        (("claims.rules.caps", "claims.service"),),
    ),
    Plant(
        "6-only-core-pdf-imports-weasyprint-only-jobs-and-worker-import-core-pdf",
        "insurance/certificates/pipeline.py",
        "from core import pdf\nimport weasyprint\n",
        (("insurance.certificates.pipeline", "core.pdf"), ("insurance.certificates.pipeline", "weasyprint")),
    ),
    Plant(  # a router importing a jobs module drags WeasyPrint into the web app
        "6-web-never-loads-weasyprint",
        "insurance/cover/api.py",
        "from . import jobs\n",
        (
            ("insurance.cover.api", "insurance.cover.jobs", "core.pdf"),
            ("main", "insurance.cover.api", "insurance.cover.jobs", "core.pdf"),
        ),
    ),
)


def write_tree(root: Path, plant: Plant | None = None) -> Path:
    for relative, code in CLEAN_TREE.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code).lstrip("\n"), encoding="utf-8")
    if plant is not None:
        with (root / plant.path).open("a", encoding="utf-8") as file:
            file.write(plant.code)
    return root


@pytest.fixture(scope="module")
def clean_fake(tmp_path_factory: pytest.TempPathFactory) -> ImportGraph:
    return build_graph(write_tree(tmp_path_factory.mktemp("clean")))


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.key)
def test_the_clean_fake_tree_passes(contract: Contract, clean_fake: ImportGraph) -> None:
    violations = contract.check(clean_fake)
    assert not violations, report(contract, violations, clean_fake)


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.id)
def test_a_planted_violation_fails_its_contract(plant: Plant, tmp_path: Path) -> None:
    graph = build_graph(write_tree(tmp_path, plant))
    violations = CONTRACTS_BY_KEY[plant.contract].check(graph)
    assert sorted(v.chain for v in violations) == sorted(plant.expected)
    assert all((v.importer, v.forbidden) == (v.chain[0], v.chain[-1]) for v in violations)


def test_every_contract_has_a_planted_violation() -> None:
    assert {plant.contract for plant in PLANTS} == set(CONTRACTS_BY_KEY)


def test_the_resolver_handles_every_import_form(clean_fake: ImportGraph) -> None:
    edges = clean_fake.edges
    assert list(edges["insurance.register.service"]) == [
        "typing",
        "sqlmodel",
        "core.audit",  # from core import audit: a submodule
        "insurance.register.errors",  # from . import errors, models
        "insurance.register.models",
        "insurance.register.roster",  # from .roster import open_roster: a name
        "insurance.register",  # its package, implicitly (and no insurance.cover: TYPE_CHECKING)
    ]
    assert "insurance.register.service" in edges["insurance.register.jobs"]  # import a.b.c
    assert "insurance.register.schemas" in edges["insurance.cover.schemas"]  # from ..pkg.mod import name
    assert {"worker", "insurance.register.service"} <= set(edges["core.cli"])  # inside a function
    assert "openpyxl" in edges["insurance.register.roster"]  # a third-party leaf, inside a function
    assert "core.pdf" in edges["insurance.cover.jobs"] and "core" not in edges["insurance.cover.jobs"]
    assert "claims.status" in edges["claims.rules.caps"]  # from ..status import name, in a sub-package
    assert clean_fake.unresolved == []


def test_claims_rule_modules_are_found_by_name(clean_fake: ImportGraph) -> None:
    """None exist yet in the real claims/; new ones must be checked the day they appear."""
    assert rule_modules(clean_fake) == {
        *RULE_MODULES,
        *("claims.status", "claims.reasons", "claims.rules", "claims.rules.caps"),
        *("claims.assessment", "claims.assessment.medical"),  # a module of a package named for a rule idea
    }
    assert pure_modules(clean_fake) == rule_modules(clean_fake) | {ROSTER_READER}
