"""The industry-policy pages: a new policy with its insured objects (livestock by ear tag, crops by mu and season),
and how its refusals name the form's row; the season and peril wording the policy page shares."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import labels as core_labels
from core import validation
from core.auth import CurrentUser, SessionDep, is_insurer
from core.db import local_today
from core.errors import DomainError
from core.models import User
from core.templating import render
from insurance.cover import catalogue, industry, insurers, premiums
from insurance.cover.errors import CoverForbiddenError, CoverInvalidError
from insurance.cover.models import (
    PERIL_LABELS,
    ProductKind,
)
from insurance.cover.schemas import (
    IndustryPolicyCreate,
)

router = APIRouter(include_in_schema=False)


SEASON_PART = "season_part"  # the namespace insurance.labels registers (cover may not import it: it sits above)
TAG_SEPARATORS = re.compile(r"[\s,，;；、]+")
OBJECT_FIELD = re.compile(r"^objects\.(\d+)(?:\.(\w+))?$")


# What pydantic's error types mean, in Chinese, after the field's label.
def season_label(season: str) -> str:
    """`2026-late` as 2026年晚季, `2026` as 2026年: the season an object is insured for, in words."""
    year, _, part = season.partition("-")
    return f"{year}年{core_labels.label(SEASON_PART, part)}"


def perils_in_order(perils: set[str]) -> list[str]:
    """Perils in the catalogue's order (people, house, weather, animals), not the codes' alphabet."""
    order = list(PERIL_LABELS)
    return sorted(perils, key=lambda p: order.index(p) if p in order else len(order))


def _field_label(field: str, rows: list[int] | None = None) -> str:
    """`objects.1.quantity` as 第 2 行的数量 (`rows` maps an object's index to its row in the form)."""
    match = OBJECT_FIELD.match(field)
    if match:
        index = int(match.group(1))
        row = rows[index] if rows and index < len(rows) else index
        name = core_labels.label(core_labels.FIELD, match.group(2)) if match.group(2) else "保险标的"
        return f"第 {row + 1} 行的{name}"
    return core_labels.label(core_labels.FIELD, field.rsplit(".", 1)[-1])


def form_error(exc: ValidationError, rows: list[int] | None = None) -> tuple[str, str]:
    """A schema's refusal of what was typed, in Chinese, and the field it names (never pydantic's English)."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    return f"{_field_label(field, rows)}：{validation.error_text(first)}", field


def _domain_error(exc: DomainError, rows: list[int] | None = None) -> str:
    """A use case's refusal; one about an insured object says which row of the form it is."""
    match = OBJECT_FIELD.match(exc.field or "")
    if not match:
        return exc.message
    index = int(match.group(1))
    row = rows[index] if rows and index < len(rows) else index
    return f"第 {row + 1} 行：{exc.message}"


def _offered_industry_products(session: Session, user: User, year: int) -> list[dict[str, Any]]:
    """The industry products the user's company offers, with the terms of the version sold for the year: what a
    unit (a head, a mu) is insured for, its premium and the farmer's share, and the perils covered."""
    offered = set(insurers.insurer_products(session, user.insurer_id or 0))
    found = []
    for entry in catalogue.catalogue(session):
        product = entry.product
        if product.kind != ProductKind.industry or product.code not in offered:
            continue
        version = next((v for v in entry.versions if v.year_from <= year), entry.versions[-1])
        if version.sum_insured_fen is None or version.rate_bp is None:
            continue
        perils = perils_in_order({p for b in entry.benefits[version.id or 0] for p in b.perils})
        found.append(
            {
                "code": product.code,
                "name": product.name,
                "unit": product.unit.value,
                "sum_insured_fen": version.sum_insured_fen,
                "rate_bp": version.rate_bp,
                "unit_premium_fen": premiums.line_premium(
                    1, sum_insured_fen=version.sum_insured_fen, rate_bp=version.rate_bp
                ),
                "farmer_share_bp": version.farmer_share_bp,
                "perils": perils,
            }
        )
    return found


def _industry_form(
    request: Request,
    session: Session,
    user: User,
    *,
    typed: dict[str, Any] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    error_row: int | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = local_today()
    typed = typed or {}
    year = int(typed["year"]) if str(typed.get("year", "")).isdigit() else today.year
    rows = list(typed.get("rows") or [])
    while rows and not any(rows[-1].values()):  # trailing blank rows; one in between keeps its number
        rows.pop()
    return render(
        request,
        "pages/policy_industry_new.html",
        user,
        status_code=status_code,
        error=error,
        error_field=error_field,
        error_row=error_row,
        typed=typed,
        year=year,
        rows=[*rows, *([{}] * max(3 - len(rows), 1))],
        products=_offered_industry_products(session, user, year),
    )


@router.get("/policies/industry/new", response_class=HTMLResponse)
def new_industry_policy_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    if not is_insurer(user):
        raise CoverForbiddenError("只有保险公司可以新建保单")
    return _industry_form(request, session, user)


def _object_rows(
    household_no: list[str], quantity: list[str], village_code: list[str], ear_tags: list[str]
) -> list[dict[str, str]]:
    """The form's rows of insured objects as typed, all four columns of a row kept together."""
    count = max(len(household_no), len(quantity), len(village_code), len(ear_tags))

    def cell(values: list[str], index: int) -> str:
        return values[index].strip() if index < len(values) else ""

    return [
        {
            "household_no": cell(household_no, i),
            "quantity": cell(quantity, i),
            "village_code": cell(village_code, i),
            "ear_tags": cell(ear_tags, i),
        }
        for i in range(count)
    ]


def _objects_from_rows(rows: list[dict[str, str]]) -> tuple[list[dict[str, Any]], list[int]]:
    """The filled rows as the schema's objects, and each one's row in the form. Ear tags may be one a line or
    separated by commas; a herd typed by its tags alone is as many heads as tags."""
    objects, positions = [], []
    for row_index, row in enumerate(rows):
        if not any(row.values()):
            continue
        tags = [t for t in TAG_SEPARATORS.split(row["ear_tags"]) if t]
        quantity = row["quantity"] or (str(len(tags)) if tags else "")
        if not quantity:
            raise CoverInvalidError("请填写数量（头数或亩数）", field=f"objects.{len(objects)}.quantity")
        objects.append(
            {
                "household_no": row["household_no"],
                "quantity": quantity,
                "village_code": row["village_code"] or None,
                "ear_tags": tags,
            }
        )
        positions.append(row_index)
    if not objects:
        raise CoverInvalidError("请至少填写一行保险标的（户编号和数量）", field="objects.0.household_no")
    return objects, positions


@router.post("/policies/industry/new", response_class=HTMLResponse)
def create_industry_policy_form(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    product_code: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
    period_start: Annotated[str, Form()] = "",
    period_end: Annotated[str, Form()] = "",
    season: Annotated[str, Form()] = "",
    cooperative_name: Annotated[str, Form()] = "",
    cooperative_uscc: Annotated[str, Form()] = "",
    policy_no: Annotated[str, Form()] = "",
    household_no: Annotated[list[str] | None, Form()] = None,
    quantity: Annotated[list[str] | None, Form()] = None,
    village_code: Annotated[list[str] | None, Form()] = None,
    ear_tags: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Calls the API's use case (industry.create_industry_policy); a refusal shows the form again as typed."""
    rows = _object_rows(household_no or [], quantity or [], village_code or [], ear_tags or [])
    typed: dict[str, Any] = {
        "product_code": product_code,
        "year": year.strip(),
        "period_start": period_start,
        "period_end": period_end,
        "season": season.strip(),
        "cooperative_name": cooperative_name.strip(),
        "cooperative_uscc": cooperative_uscc.strip(),
        "policy_no": policy_no.strip(),
        "rows": rows,
    }
    positions: list[int] = []

    def again(message: str, field: str | None, status_code: int) -> HTMLResponse:
        match = OBJECT_FIELD.match(field or "")
        index = int(match.group(1)) if match else None
        row = positions[index] if index is not None and index < len(positions) else index
        return _industry_form(
            request,
            session,
            user,
            typed=typed,
            error=message,
            error_field=(match.group(2) if match else field),
            error_row=row,
            status_code=status_code,
        )

    try:
        objects, positions = _objects_from_rows(rows)
        data = IndustryPolicyCreate.model_validate(
            {
                "product_code": product_code,
                "year": year.strip() or None,
                "period_start": period_start or None,
                "period_end": period_end or None,
                "season": season.strip() or None,
                "cooperative_name": cooperative_name.strip() or None,
                "cooperative_uscc": cooperative_uscc.strip() or None,
                "policy_no": policy_no.strip() or None,
                "objects": objects,
            }
        )
        policy = industry.create_industry_policy(session, user, data)
    except DomainError as exc:
        return again(_domain_error(exc, positions), exc.field, exc.status_code)
    except ValidationError as exc:
        message, field = form_error(exc, positions)
        return again(message, field, 422)
    return RedirectResponse(f"/policies/{policy.policy_no}", status_code=303)
