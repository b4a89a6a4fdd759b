"""The enrolment-notice pages: posting a village's notice from the policy page, the notice with its lines, and
recording and resolving objections to it."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import labels as core_labels
from core import validation
from core.auth import CurrentUser, QueueDep, SessionDep, SettingsDep
from core.db import local_today
from core.errors import DomainError
from core.models import User
from core.templating import render
from insurance.cover import notices, policies
from insurance.cover import objections as cover_objections
from insurance.cover.deps import CurrentPolicy
from insurance.cover.errors import CoverInvalidError
from insurance.cover.models import (
    Policy,
)
from insurance.cover.pages.industry import form_error
from insurance.cover.pages.policies import COVER_LABELS, form_refused
from insurance.cover.schemas import (
    ObjectionCreate,
    ObjectionResolve,
)
from insurance.register import service as register_service

router = APIRouter(include_in_schema=False)


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
            form_date(posted_on, "posted_on"),
            today=local_today(),
            late_days=settings.notice_late_days,
            late_reason=late_reason,
        )
    except DomainError as exc:
        return form_refused(request, session, user, queue, policy_no, exc.message, exc.status_code, "notice", typed)
    return RedirectResponse(f"/policies/{policy_no}#villages", status_code=303)


def form_date(text: str, field: str) -> date:
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
    objections = cover_objections.list_objections(session, notice) if notice else []
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
        members=cover_objections.notice_members(session, policy, village.code),
        member_names=cover_objections.member_names(session, [o.member_id for o in objections]),
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
            data = ObjectionCreate.model_validate({**given, "raised_on": form_date(raised_on, "raised_on")})
        except ValidationError as exc:
            message, field = form_error(exc)
            raise CoverInvalidError(message, field=field) from None
        notice = notices.get_village_notice(session, policy, village_code)
        cover_objections.record_objection(session, user, notice.id or 0, data, today=local_today())
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
            message, field = form_error(exc)
            raise CoverInvalidError(message, field=field) from None
        cover_objections.resolve_objection(session, user, objection_id, data)
    except DomainError as exc:
        form = {"id": objection_id, "outcome": outcome, "resolution": resolution, "error": exc.message}
        return _notice_page(request, session, user, policy, village_code, resolve_form=form, status=exc.status_code)
    return RedirectResponse(f"/policies/{policy.policy_no}/notices/{village_code}#objections", status_code=303)
