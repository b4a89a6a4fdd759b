"""Every code a person may read has its Chinese label in the one table (core.labels): the audit actions and objects
the code records, the reasons documents are asked for, and the status tables of the models."""

import ast
import json
from pathlib import Path

import insurance.wiring  # noqa: F401 - the composition root registers insurance's namespaces
from core import labels
from core.models import Role
from insurance import labels as insurance_labels
from insurance.cover.eligibility import CoverReason
from insurance.cover.models import CoverStatus, PolicyStatus

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "insurance", "claims")


def _calls(name: str) -> list[ast.Call]:
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and name in (
                    getattr(node.func, "attr", None),
                    getattr(node.func, "id", None),
                ):
                    found.append(node)
    return found


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def test_every_audit_action_and_object_recorded_in_the_code_has_a_chinese_label() -> None:
    actions, entities = set(), set()
    for call in _calls("record"):
        if isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", None) == "audit":
            action, entity = (_literal(a) for a in call.args[2:4])
            actions.add(action)
            entities.add(entity)
    actions.discard(None)  # the enrolment records its kind: enrol or renew, checked below
    entities.discard(None)
    assert {"login", "create", "post_notice"} <= actions
    assert labels.missing(labels.AUDIT_ACTION, actions | {"enrol", "renew"}) == []
    assert labels.missing(labels.ENTITY, entities) == []


def test_every_document_reason_written_by_the_code_has_a_chinese_label() -> None:
    reasons = set()
    for name in (
        "request_certificates",
        "request_notice",
        "request_booklets",
        "request",
        "_request_certificates_for_enrolment",
    ):
        for call in _calls(name):
            literal = _literal(call.args[-1]) if call.args else None
            for keyword in call.keywords:
                if keyword.arg == "reason":
                    literal = _literal(keyword.value)
            if literal:
                reasons.add(literal)
    reasons |= {f"member_{status}" for status in ("deceased", "moved_out", "removed")}
    assert {"policy_issued", "notice_posted", "enrolled"} <= reasons
    assert labels.missing(labels.DOCUMENT_REASON, reasons) == []


def test_status_enums_are_labelled_in_chinese() -> None:
    assert labels.missing(labels.ROLE, Role) == []
    assert labels.missing(insurance_labels.POLICY_STATUS, PolicyStatus) == []
    assert labels.missing(insurance_labels.COVER_STATUS, CoverStatus) == []
    assert labels.missing(insurance_labels.COVER_REASON, CoverReason) == []
    assert labels.label(labels.DOCUMENT_REASON, "notice_posted") == "公示张贴"
    assert labels.label(labels.AUDIT_ACTION, "login") == "登录"


def test_an_unknown_code_comes_back_as_itself_and_an_empty_one_as_nothing() -> None:
    assert labels.label(labels.AUDIT_ACTION, "no_such_action") == "no_such_action"
    assert labels.label(labels.AUDIT_ACTION, None) == ""


def test_every_industry_products_species_or_crop_is_labelled_in_chinese() -> None:
    seeded = json.loads((ROOT / "insurance/cover/data/products.json").read_text(encoding="utf-8"))["products"]
    subjects = {p["subject"] for p in seeded if p.get("subject")}
    assert {"sow", "rice_late"} <= subjects
    assert labels.missing(insurance_labels.SUBJECT, subjects) == []
    assert labels.label(insurance_labels.SEASON_PART, "late") == "晚季"
