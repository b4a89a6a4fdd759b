"""A package's error families answer with the codes its errors.py lists, and only those."""

import pytest

from insurance.cover.errors import CoverCode, CoverConflictError, CoverInvalidError
from insurance.register.errors import DivisionNotFound, RegisterCode


def test_a_family_without_a_code_answers_its_kind_of_failures_default() -> None:
    error = CoverInvalidError("保险止期早于起期", field="period_end")
    assert (error.code, error.status_code, error.to_dict()["field"]) == ("invalid", 422, "period_end")


def test_a_family_answers_a_listed_code_and_refuses_any_other() -> None:
    assert CoverConflictError("保单已撤销", code=CoverCode.policy_cancelled).code == "policy_cancelled"
    with pytest.raises(ValueError, match="CoverCode"):
        CoverConflictError("保单已撤销", code="policy_gone")
    with pytest.raises(ValueError, match="CoverCode"):
        CoverConflictError("异议未处理", code=RegisterCode.import_not_found)  # another package's code


def test_a_named_error_of_a_family_keeps_its_code_and_field() -> None:
    assert DivisionNotFound("433199").to_dict() == {
        "code": "division_not_found",
        "message": "区划 433199 不存在或不在您的辖区内",
        "field": "code",
    }
