"""Pydantic's validation errors said in Chinese (core.validation): the field by its Chinese label, the problem from
the error's type and ctx, never pydantic's English text nor a field's machine name."""

from datetime import date

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

import insurance.wiring  # noqa: F401 - registers insurance's field labels
from core import validation
from insurance.cover import catalogue
from insurance.cover.errors import CoverInvalidError
from insurance.cover.models import Product, ProductKind, ProductUnit
from insurance.cover.schemas import BenefitIn, ProductVersionCreate


class _Object(BaseModel):
    quantity: int = Field(gt=0)
    ear_tags: list[str] = Field(default_factory=list, max_length=2)


class _Form(BaseModel):
    year: int = Field(ge=2000, le=2100)
    policy_no: str | None = Field(default=None, min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    posted_on: date | None = None
    upheld: bool | None = None
    objects: list[_Object] = Field(default_factory=list)
    reason: str | None = None
    unlabelled_thing: int | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value == "english":
            raise ValueError("not a reason")
        if value == "chinese":
            raise ValueError("原因须写明")
        return value


def _errors(**data: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        _Form.model_validate({"year": 2026, **data})
    return [dict(e) for e in caught.value.errors()]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"year": 1999}, "year", "年度：不能小于 2000"),
        ({"year": 2101}, "year", "年度：不能大于 2100"),
        ({"year": "abc"}, "year", "年度：须为整数"),
        ({"policy_no": "AB C!"}, "policy_no", "保单号：只能由字母、数字和“-”组成"),
        ({"policy_no": "AB"}, "policy_no", "保单号：至少 4 个字符"),
        ({"posted_on": "2026-13-45"}, "posted_on", "公示张贴日期：须为日期，格式如 2026-01-31"),
        ({"upheld": "maybe"}, "upheld", "异议是否成立：须为“是”或“否”"),
        ({"objects": [{"quantity": 0}]}, "objects.0.quantity", "保险标的第 1 项的数量：须大于 0"),
        (
            {"objects": [{"quantity": 1, "ear_tags": ["a", "b", "c"]}]},
            "objects.0.ear_tags",
            "保险标的第 1 项的耳标号：最多 2 项",
        ),
        ({"reason": "chinese"}, "reason", "原因须写明"),  # our message names the field already
        ({"reason": "english"}, "reason", "原因：取值无效"),
        ({"unlabelled_thing": "x"}, "unlabelled_thing", "该字段：须为整数"),
    ],
)
def test_an_error_names_the_field_in_chinese_and_says_what_is_wrong_in_chinese(
    data: dict[str, object], field: str, message: str
) -> None:
    body = validation.describe(_errors(**data))
    assert (body["code"], body["field"], body["message"]) == ("invalid", field, message)


def test_the_location_fastapi_adds_is_not_part_of_the_field_and_every_error_is_listed() -> None:
    errors = [
        {"type": "missing", "loc": ("body", "county_code"), "msg": "Field required"},
        {"type": "int_parsing", "loc": ("query", "year"), "msg": "Input should be a valid integer"},
    ]
    body = validation.describe(errors)
    assert body["field"] == "county_code"
    assert body["message"] == "县：必须填写（另有 1 处错误）"
    assert body["errors"] == [
        {"field": "county_code", "message": "县：必须填写", "type": "missing"},
        {"field": "year", "message": "年度：须为整数", "type": "int_parsing"},
    ]


def test_an_unknown_error_type_or_a_malformed_body_reads_as_chinese() -> None:
    assert validation.error_text({"type": "some_future_type", "msg": "Something English"}) == "取值无效"
    assert validation.message({"type": "json_invalid", "loc": ("body", 1)}) == "该字段：请求内容格式不正确，无法读取"
    assert validation.message({"type": "enum", "loc": ("body", "role"), "ctx": {"expected": "'admin'"}}) == (
        "角色：不是可选的取值"
    )


def test_a_benefit_s_peril_problems_are_said_in_chinese_only() -> None:
    benefit = {"code": "cattle", "name": "牛", "unit": "head", "sum_insured_fen": 400_000}
    with pytest.raises(ValidationError) as caught:
        BenefitIn.model_validate({**benefit, "perils": ["meteor"]})
    assert validation.describe(caught.value.errors())["message"] == "承保风险：含有未知的风险 meteor"

    product = Product(code="agri_cattle", name="牛", kind=ProductKind.industry, unit=ProductUnit.head)
    version = ProductVersionCreate(
        year_from=2026,
        sum_insured_fen=400_000,
        rate_bp=500,
        subsidy_county_bp=10_000,
        benefits=[BenefitIn.model_validate({**benefit, "perils": ["flood"], "waiting_perils": ["disease"]})],
    )
    with pytest.raises(CoverInvalidError) as refused:
        catalogue._check_version(product, version)
    assert refused.value.message == "等待期适用的风险须属于该责任的承保风险：disease"
