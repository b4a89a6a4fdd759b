"""The cover pages: products, policies (new group or industry policies, enrol, notices, issue, cancel, renew),
notices and their objections. (The household page shows certificates too, so it lives with them:
insurance.certificates.pages.)"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import labels as core_labels
from core import validation
from core.auth import CurrentUser, QueueDep, SessionDep, SettingsDep, is_insurer
from core.db import local_today
from core.errors import DomainError
from core.models import Role, User
from core.queue import JobQueue
from core.templating import render
from insurance.cover import catalogue, industry, insurers, lifecycle, notices, policies, premiums
from insurance.cover import enrolment as cover_enrolment
from insurance.cover.api import enqueue_enrolment, enrolment_public
from insurance.cover.deps import CurrentPolicy
from insurance.cover.errors import CoverForbiddenError, CoverInvalidError
from insurance.cover.models import (
    COVER_STATUS_LABELS,
    ENROLMENT_STATUS_LABELS,
    OBJECTION_STATUS_LABELS,
    PERIL_LABELS,
    POLICY_STATUS_LABELS,
    PRODUCT_KIND_LABELS,
    UNIT_LABELS,
    Policy,
    ProductKind,
    ProductVersion,
)
from insurance.cover.schemas import (
    GroupPolicyCreate,
    IndustryPolicyCreate,
    ObjectionCreate,
    ObjectionResolve,
    RenewalCreate,
)
from insurance.register import service as register_service
from insurance.register.models import MEMBER_STATUS_LABELS

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50

# --- cover: products, policies, enrolment, notices ------------------------------------------------------------------

COVER_LABELS = {
    "policy_statuses": POLICY_STATUS_LABELS,
    "cover_statuses": COVER_STATUS_LABELS,
    "kinds": PRODUCT_KIND_LABELS,
    "units": UNIT_LABELS,
    "perils": PERIL_LABELS,
    "objections": OBJECTION_STATUS_LABELS,
    "member_statuses": MEMBER_STATUS_LABELS,
    "enrolments": ENROLMENT_STATUS_LABELS,
}


@router.get("/products", response_class=HTMLResponse)
def products_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    return render(request, "pages/products.html", user, catalogue=catalogue.catalogue(session), labels=COVER_LABELS)


@router.get("/policies", response_class=HTMLResponse)
def policies_page(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    year: int | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    rows, count = policies.list_policies(session, user, year=year, limit=PAGE_SIZE, offset=offset)
    return render(
        request,
        "pages/policies.html",
        user,
        rows=rows,
        count=count,
        offset=offset,
        page_size=PAGE_SIZE,
        insurers=policies.insurer_names(session, [p.insurer_id for p in rows]),
        may_create=is_insurer(user),
        labels=COVER_LABELS,
    )


def _new_policy_form(
    request: Request, session: SessionDep, user: User, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    offered = insurers.insurer_products(session, user.insurer_id or 0)
    products = [p for p in catalogue.list_products(session) if p.code in offered and p.unit.value == "person"]
    return render(
        request,
        "pages/policy_new.html",
        user,
        status_code=status_code,
        error=error,
        products=products,
        prefectures=register_service.list_prefectures_with_counties(session, on=local_today()),
        year=local_today().year + 1,
    )


@router.get("/policies/new", response_class=HTMLResponse)
def new_policy_page(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
    if not is_insurer(user):
        raise CoverForbiddenError("只有保险公司可以新建保单")
    return _new_policy_form(request, session, user)


@router.post("/policies/new", response_class=HTMLResponse)
def create_policy_form(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    county_code: Annotated[str, Form()],
    year: Annotated[str, Form()],  # checked by GroupPolicyCreate, so a typo comes back in the form, in Chinese
    product_code: Annotated[str, Form()] = "th_family",
    premium_yuan: Annotated[str, Form()] = "",
    policy_no: Annotated[str, Form()] = "",
) -> Response:
    try:
        premium = _yuan_to_fen(premium_yuan, "premium_yuan") if premium_yuan.strip() else None
        data = GroupPolicyCreate.model_validate(
            {
                "county_code": county_code,
                "year": year.strip(),
                "product_code": product_code,
                "premium_per_person_fen": premium,
                "policy_no": policy_no.strip() or None,
            }
        )
        policy = policies.create_group_policy(session, user, data)
    except DomainError as exc:
        return _new_policy_form(request, session, user, error=exc.message, status_code=exc.status_code)
    except ValidationError as exc:
        message = str(validation.describe(exc.errors())["message"])
        return _new_policy_form(request, session, user, error=message, status_code=422)
    return RedirectResponse(f"/policies/{policy.policy_no}", status_code=303)


def _yuan_to_fen(text: str, field: str) -> int:
    """A yuan amount typed by a person (`115` or `115.00`), exactly, never through float."""
    try:
        value = Decimal(text.strip().replace(",", "").replace("¥", ""))
    except InvalidOperation:
        raise CoverInvalidError("金额格式不正确", field=field) from None
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        raise CoverInvalidError("金额须为正数，最多两位小数", field=field)
    return int(value * 100)


def _policy_page(
    request: Request,
    session: Session,
    user: User,
    queue: JobQueue,
    policy: Policy,
    *,
    error: str | None = None,
    status: int = 200,
    failed_form: str | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    """`failed_form` names the form (cancel, renew) whose refusal `error` is, so it is shown there with `typed`."""
    enrolments = cover_enrolment.list_enrolments(session, policy)
    objects = industry.list_objects(session, policy) if policy.kind == ProductKind.industry else []
    version = session.get(ProductVersion, policy.product_version_id)
    product = catalogue.get_product(session, policy.product_code)
    return render(
        request,
        "pages/policy.html",
        user,
        status_code=status,
        error=error,
        policy=policy,
        product=product,
        version=version,
        insurer=register_service.get_insurer(session, policy.insurer_id),
        enrolments=[enrolment_public(queue, e) for e in enrolments[:10]],
        villages=notices.policy_village_summary(session, policy),
        objects=objects,
        object_villages=notices.village_names(session, [o.village_code for o, _ in objects]),
        perils=_in_order({p for b in catalogue.list_benefits(session, policy.product_version_id) for p in b.perils}),
        renewed_from=(
            policies.policy_numbers(session, [policy.renewed_from_id])[policy.renewed_from_id]
            if policy.renewed_from_id
            else None
        ),
        renewal=lifecycle.find_renewal(session, policy) if policy.kind == ProductKind.family else None,
        cancellation=lifecycle.cancellation(session, policy),
        failed_form=failed_form,
        typed=typed or {},
        season_label=season_label,
        conflicts=policies.list_conflicts(session, policy),
        today=local_today(),
        # The policy was found for this user, so an insurer's user here is its own company's.
        may_enrol=is_insurer(user),
        may_issue=user.role == Role.insurer_supervisor,
        may_notice=policies.may_notice(user),
        may_cancel=user.role == Role.insurer_supervisor and policy.status != "cancelled",
        may_renew=is_insurer(user) and policy.kind == ProductKind.family and policy.status == "issued",
        labels=COVER_LABELS,
    )


def _refused(
    request: Request, session: Session, user: User, queue: JobQueue, policy_no: str, exc: DomainError
) -> HTMLResponse:
    """The policy page again with the use case's refusal (a 404 if the user may not see the policy at all)."""
    policy = policies.get_policy(session, user, policy_no)
    return _policy_page(request, session, user, queue, policy, error=exc.message, status=exc.status_code)


@router.get("/policies/{policy_no}", response_class=HTMLResponse)
def policy_page(
    policy: CurrentPolicy, request: Request, session: SessionDep, user: CurrentUser, queue: QueueDep
) -> HTMLResponse:
    return _policy_page(request, session, user, queue, policy)


@router.post("/policies/{policy_no}/enrol", response_class=HTMLResponse)
def enrol_form(policy_no: str, request: Request, session: SessionDep, user: CurrentUser, queue: QueueDep) -> Response:
    try:
        enrolment = cover_enrolment.start_enrolment(session, user, policy_no, local_today())
    except DomainError as exc:
        return _refused(request, session, user, queue, policy_no, exc)
    enqueue_enrolment(queue, enrolment)
    return RedirectResponse(f"/policies/{policy_no}", status_code=303)


@router.post("/policies/{policy_no}/notices", response_class=HTMLResponse)
def notice_form(
    policy_no: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    queue: QueueDep,
    settings: SettingsDep,
    village_code: Annotated[str, Form()],
    posted_on: Annotated[str, Form()] = "",
    late_reason: Annotated[str, Form()] = "",
) -> Response:
    typed = {"village_code": village_code, "posted_on": posted_on, "late_reason": late_reason}
    try:
        notices.post_notice(
            session,
            user,
            policy_no,
            village_code,
            _form_date(posted_on, "posted_on"),
            today=local_today(),
            late_days=settings.notice_late_days,
            late_reason=late_reason,
        )
    except DomainError as exc:
        return _form_refused(request, session, user, queue, policy_no, exc.message, exc.status_code, "notice", typed)
    return RedirectResponse(f"/policies/{policy_no}#villages", status_code=303)


@router.post("/policies/{policy_no}/issue", response_class=HTMLResponse)
def issue_form(policy_no: str, request: Request, session: SessionDep, user: CurrentUser, queue: QueueDep) -> Response:
    try:
        lifecycle.issue_policy(session, user, policy_no, local_today())
    except DomainError as exc:
        return _refused(request, session, user, queue, policy_no, exc)
    return RedirectResponse(f"/policies/{policy_no}", status_code=303)


# --- industry policies, cancellation, renewal -------------------------------------------------------------------------

SEASON_PART = "season_part"  # the namespace insurance.labels registers (cover may not import it: it sits above)
TAG_SEPARATORS = re.compile(r"[\s,，;；、]+")
OBJECT_FIELD = re.compile(r"^objects\.(\d+)(?:\.(\w+))?$")


# What pydantic's error types mean, in Chinese, after the field's label.
def season_label(season: str) -> str:
    """`2026-late` as 2026年晚季, `2026` as 2026年: the season an object is insured for, in words."""
    year, _, part = season.partition("-")
    return f"{year}年{core_labels.label(SEASON_PART, part)}"


def _in_order(perils: set[str]) -> list[str]:
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


def _form_error(exc: ValidationError, rows: list[int] | None = None) -> tuple[str, str]:
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
        perils = _in_order({p for b in entry.benefits[version.id or 0] for p in b.perils})
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
        message, field = _form_error(exc, positions)
        return again(message, field, 422)
    return RedirectResponse(f"/policies/{policy.policy_no}", status_code=303)


def _form_refused(
    request: Request,
    session: Session,
    user: User,
    queue: JobQueue,
    policy_no: str,
    message: str,
    status: int,
    form: str,
    typed: dict[str, str],
) -> HTMLResponse:
    """The policy page again, the refusal shown at the form it is about with what was typed there."""
    policy = policies.get_policy(session, user, policy_no)
    return _policy_page(
        request, session, user, queue, policy, error=message, status=status, failed_form=form, typed=typed
    )


@router.post("/policies/{policy_no}/cancel", response_class=HTMLResponse)
def cancel_form(
    policy_no: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    queue: QueueDep,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """The API's cancellation (supervisors), after the person ticked that they know what it does."""
    typed = {"reason": reason}
    try:
        if not confirm:
            raise CoverInvalidError("请勾选“确认撤销”后再提交", field="confirm")
        lifecycle.cancel_policy(session, user, policy_no, reason, local_today())
    except DomainError as exc:
        return _form_refused(request, session, user, queue, policy_no, exc.message, exc.status_code, "cancel", typed)
    return RedirectResponse(f"/policies/{policy_no}#cancellation", status_code=303)


@router.post("/policies/{policy_no}/renewal", response_class=HTMLResponse)
def renewal_form(
    policy_no: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    queue: QueueDep,
    year: Annotated[str, Form()] = "",
    premium_yuan: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """The API's renewal: next year's draft policy, whose enrolment is queued for the worker; then its page."""
    typed = {"year": year, "premium_yuan": premium_yuan}
    try:
        if not confirm:
            raise CoverInvalidError("请勾选“确认续保”后再提交", field="confirm")
        premium = _yuan_to_fen(premium_yuan, "premium_yuan") if premium_yuan.strip() else None
        data = RenewalCreate.model_validate({"year": year.strip() or None, "premium_per_person_fen": premium})
        created, enrolment = lifecycle.renew_policy(session, user, policy_no, data, local_today())
    except DomainError as exc:
        return _form_refused(request, session, user, queue, policy_no, exc.message, exc.status_code, "renew", typed)
    except ValidationError as exc:
        return _form_refused(request, session, user, queue, policy_no, _form_error(exc)[0], 422, "renew", typed)
    enqueue_enrolment(queue, enrolment)
    return RedirectResponse(f"/policies/{created.policy_no}", status_code=303)


# --- enrolment notices and their objections --------------------------------------------------------------------------


def _form_date(text: str, field: str) -> date:
    """A date typed into a form (`2026-12-07`), refused in the words core.validation uses for a date."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        name = core_labels.label(core_labels.FIELD, field)
        raise CoverInvalidError(f"{name}：{validation.MESSAGES['date_parsing']}", field=field) from None


def _notice_page(
    request: Request,
    session: Session,
    user: User,
    policy: Policy,
    village_code: str,
    *,
    objection_form: dict[str, object] | None = None,
    resolve_form: dict[str, object] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The village's notice: its list, its objections, and (for who may record them) the forms to record and resolve
    them; a refused form comes back with its message and what was typed."""
    village = register_service.get_division(session, user, village_code)
    notice = next((n for n in notices.list_notices(session, policy) if n.village_code == village.code), None)
    objections = notices.list_objections(session, notice) if notice else []
    lines = notices.notice_lines(session, policy, village.code)
    return render(
        request,
        "pages/notice.html",
        user,
        status_code=status,
        policy=policy,
        village=village,
        notice=notice,
        lines=lines,
        household_numbers=policies.household_numbers(session, [o.household_id for o in objections]),
        heads={line.household_id: line.head_name for line in lines},
        members=notices.notice_members(session, policy, village.code),
        member_names=notices.member_names(session, [o.member_id for o in objections]),
        objections=objections,
        insurer=register_service.get_insurer(session, policy.insurer_id),
        may_record=bool(notice) and policies.may_notice(user) and policy.status == "draft",
        may_resolve=policies.may_notice(user),
        today=local_today(),
        objection_form=objection_form or {},
        resolve_form=resolve_form or {},
        labels=COVER_LABELS,
    )


@router.get("/policies/{policy_no}/notices/{village_code}", response_class=HTMLResponse)
def notice_page(
    policy: CurrentPolicy, village_code: str, request: Request, session: SessionDep, user: CurrentUser
) -> HTMLResponse:
    return _notice_page(request, session, user, policy, village_code)


@router.post("/policies/{policy_no}/notices/{village_code}/objections", response_class=HTMLResponse)
def objection_form(
    policy: CurrentPolicy,
    village_code: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    household_no: Annotated[str, Form()] = "",
    member_id: Annotated[str, Form()] = "",
    raised_by: Annotated[str, Form()] = "",
    raised_on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    typed = {"household_no": household_no, "member_id": member_id, "raised_by": raised_by, "reason": reason}
    try:
        given = {name: value.strip() for name, value in typed.items() if value.strip()}  # a blank one is missing
        try:
            data = ObjectionCreate.model_validate({**given, "raised_on": _form_date(raised_on, "raised_on")})
        except ValidationError as exc:
            message, field = _form_error(exc)
            raise CoverInvalidError(message, field=field) from None
        notice = notices.get_village_notice(session, policy, village_code)
        notices.record_objection(session, user, notice.id or 0, data, today=local_today())
    except DomainError as exc:
        form = {**typed, "raised_on": raised_on, "error": exc.message, "field": exc.field}
        return _notice_page(request, session, user, policy, village_code, objection_form=form, status=exc.status_code)
    return RedirectResponse(f"/policies/{policy.policy_no}/notices/{village_code}#objections", status_code=303)


@router.post(
    "/policies/{policy_no}/notices/{village_code}/objections/{objection_id}/resolution", response_class=HTMLResponse
)
def resolution_form(
    policy: CurrentPolicy,
    village_code: str,
    objection_id: int,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    outcome: Annotated[str, Form()] = "",
    resolution: Annotated[str, Form()] = "",
) -> Response:
    try:
        if outcome not in ("upheld", "dismissed"):
            raise CoverInvalidError("请选择异议是否成立", field="upheld")
        given = {"resolution": resolution.strip()} if resolution.strip() else {}
        try:
            data = ObjectionResolve.model_validate({"upheld": outcome == "upheld", **given})
        except ValidationError as exc:
            message, field = _form_error(exc)
            raise CoverInvalidError(message, field=field) from None
        notices.resolve_objection(session, user, objection_id, data)
    except DomainError as exc:
        form = {"id": objection_id, "outcome": outcome, "resolution": resolution, "error": exc.message}
        return _notice_page(request, session, user, policy, village_code, resolve_form=form, status=exc.status_code)
    return RedirectResponse(f"/policies/{policy.policy_no}/notices/{village_code}#objections", status_code=303)
