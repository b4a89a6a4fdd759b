"""How an audit record reads (core.audit_view): every key the code records has a Chinese field label, and values
come out as Chinese text (codes labelled, fen as yuan, basis points as percent, ID numbers masked)."""

import ast
from pathlib import Path

import pytest

import insurance.wiring  # noqa: F401 - the composition root registers insurance's labels
from core import audit_view, labels
from insurance.register.roster_options import ImportCounts

ROOT = Path(__file__).resolve().parents[2]


def _recorded_keys() -> set[str]:
    """The literal keys of every before/after dict handed to audit.record in core, insurance and claims."""
    keys: set[str] = set()
    for package in ("core", "insurance", "claims"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "record"):
                    continue
                if getattr(node.func.value, "id", None) != "audit":
                    continue
                for keyword in node.keywords:
                    if keyword.arg in ("before", "after"):
                        for inner in ast.walk(keyword.value):
                            if isinstance(inner, ast.Dict):
                                keys |= {k.value for k in inner.keys if isinstance(k, ast.Constant)}
    return keys


def test_every_key_the_code_records_in_an_audit_entry_has_a_chinese_field_label() -> None:
    keys = _recorded_keys() | set(ImportCounts.__dataclass_fields__)
    keys |= {"username", "display_name", "role", "county_code", "insurer_id", "is_active"}  # core.users._user_view
    assert {"sessions_revoked", "generated", "posted_on", "enrolment_id"} <= keys
    assert labels.missing(labels.FIELD, keys) == []


@pytest.mark.parametrize(
    ("value", "field", "entity", "text"),
    [
        ("county_office", "role", "user", "县扶贫办"),
        ("session", "kind", "user", "网页登录"),
        ("cancelled", "status", "policy", "已撤销"),
        (11500, "premium_fen", "policy", "¥115.00"),
        (7000, "reimbursement_bp", "product_version", "70%"),
        (True, "upheld", "notice_objection", "是"),
        (None, "county_code", "user", "（空）"),
        (["2026-01-01", "2026-12-31"], "period", "policy", "2026-01-01；2026-12-31"),
        ("身份证 433124199001011234 已核", "reason", "notice_objection", "身份证 433124*********234 已核"),
        (
            {"name": "住院医疗", "sum_insured_fen": 100},
            "benefits",
            "product_version",
            "名称：住院医疗；保险金额：¥1.00",
        ),
    ],
)
def test_a_recorded_value_reads_as_chinese_text(value: object, field: str, entity: str, text: str) -> None:
    assert audit_view.value_text(value, field, entity) == text


def test_the_systems_actors_read_in_chinese() -> None:
    assert audit_view.actor_text("system:cli") == "系统（命令行）"
    assert audit_view.actor_text("zhangsan", {3: "张三"}, 3) == "张三（zhangsan）"
