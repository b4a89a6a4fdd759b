"""Every code of claims a person may read has its Chinese label in the one table (core.labels), and the composition
roots wire claims' labels and tables without changing a label insurance or core registered."""

import json
import subprocess
import sys
from pathlib import Path

import claims.wiring  # noqa: F401 - the composition registers claims' namespaces
from claims import labels as claim_labels
from claims.checklist import DOCUMENT_LABELS
from claims.models import CheckKind, CheckSeverity, PaymentKind, PaymentStatus, ReviewKind, ReviewOutcome
from claims.reasons import ReasonCode
from claims.status import ClaimStatus, ClaimType
from core import labels

ROOT = Path(__file__).resolve().parents[2]


def test_every_claims_code_has_a_chinese_label() -> None:
    assert labels.missing(claim_labels.CLAIM_TYPE, ClaimType) == []
    assert labels.missing(claim_labels.CLAIM_STATUS, ClaimStatus) == []
    assert labels.missing(claim_labels.CLAIM_REASON, ReasonCode) == []
    assert labels.missing(claim_labels.CLAIM_DOCUMENT, DOCUMENT_LABELS) == []
    assert labels.missing(claim_labels.CHECK_KIND, CheckKind) == []
    assert labels.missing(claim_labels.CHECK_SEVERITY, CheckSeverity) == []
    assert labels.missing(claim_labels.REVIEW_KIND, ReviewKind) == []
    assert labels.missing(claim_labels.REVIEW_OUTCOME, ReviewOutcome) == []
    assert labels.missing(claim_labels.PAYMENT_KIND, PaymentKind) == []
    assert labels.missing(claim_labels.PAYMENT_STATUS, PaymentStatus) == []
    assert labels.label(claim_labels.CLAIM_STATUS, "awaiting_second_approval") == "待复核审批"
    assert labels.label(claim_labels.CLAIM_DOCUMENT, "settlement_sheet").startswith("基本医疗保险结算单")


def test_the_audit_log_shows_a_claims_codes_by_their_labels() -> None:
    assert labels.value_namespace("claim", "status") == claim_labels.CLAIM_STATUS
    assert labels.value_namespace("claim_event", "reasons") == claim_labels.CLAIM_REASON
    assert labels.label(labels.ENTITY, "claim") == "理赔案件"
    assert labels.label(labels.FIELD, "incident_date") == "出险日期"


def test_the_roots_wire_claims_without_relabelling_what_insurance_and_core_registered() -> None:
    script = (
        "import json, insurance.wiring\n"
        "from core import labels\n"
        "before = {n: labels.table(n) for n in (labels.FIELD, labels.ENTITY, labels.AUDIT_ACTION)}\n"
        "import main, core.cli\n"
        "from sqlmodel import SQLModel\n"
        "changed = {n: sorted(k for k, v in t.items() if labels.table(n)[k] != v) for n, t in before.items()}\n"
        "print(json.dumps({'changed': changed, 'claim': 'claim' in SQLModel.metadata.tables,"
        " 'wired': labels.has('claim_status', 'filed')}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {
        "changed": {labels.FIELD: [], labels.ENTITY: [], labels.AUDIT_ACTION: []},
        "claim": True,
        "wired": True,
    }


def test_each_composition_root_imports_the_claims_wiring() -> None:
    for root in ("main.py", "worker.py", "core/cli/__init__.py"):
        assert "import claims.wiring" in (ROOT / root).read_text(encoding="utf-8"), root


def test_every_claim_transition_is_an_audit_action_with_a_chinese_label() -> None:
    from claims.status import ClaimAction
    from core import labels

    assert labels.missing(labels.AUDIT_ACTION, ClaimAction) == []
