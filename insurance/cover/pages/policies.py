"""The cover pages: products, policies (new group policies, enrol, issue, cancel, renew) and the policy page. Industry
policies are created in pages.industry, notices and their objections in pages.notices; the household page shows
certificates too, so it lives with them (insurance.certificates.pages)."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import money, validation
from core.auth import CurrentUser, QueueDep, SessionDep, is_insurer
from core.db import local_today
from core.errors import DomainError
from core.models import Role, User
from core.money import YuanProblem
from core.queue import JobQueue
from core.templating import render
from insurance.cover import catalogue, industry, insurers, lifecycle, notices, policies
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
from insurance.cover.pages.industry import form_error, perils_in_order, season_label
from insurance.cover.schemas import (
    GroupPolicyCreate,
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
    """A premium typed by a person (`115`, `115.00`, `1,150`), exactly; a premium is never 0."""
    fen, problem = money.parse_yuan(text, separators=True)
    if problem == YuanProblem.invalid:
        raise CoverInvalidError("金额格式不正确", field=field)
    if fen is None or fen == 0:
        raise CoverInvalidError("金额须为正数，最多两位小数", field=field)
    return fen


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
        perils=perils_in_order(
            {p for b in catalogue.list_benefits(session, policy.product_version_id) for p in b.perils}
        ),
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


@router.post("/policies/{policy_no}/issue", response_class=HTMLResponse)
def issue_form(policy_no: str, request: Request, session: SessionDep, user: CurrentUser, queue: QueueDep) -> Response:
    try:
        lifecycle.issue_policy(session, user, policy_no, local_today())
    except DomainError as exc:
        return _refused(request, session, user, queue, policy_no, exc)
    return RedirectResponse(f"/policies/{policy_no}", status_code=303)


def form_refused(
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
        return form_refused(request, session, user, queue, policy_no, exc.message, exc.status_code, "cancel", typed)
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
        return form_refused(request, session, user, queue, policy_no, exc.message, exc.status_code, "renew", typed)
    except ValidationError as exc:
        return form_refused(request, session, user, queue, policy_no, form_error(exc)[0], 422, "renew", typed)
    enqueue_enrolment(queue, enrolment)
    return RedirectResponse(f"/policies/{created.policy_no}", status_code=303)
