"""Objections to an enrolment notice (承保公示): raised by a villager while it is posted, recorded by the county or the
insurer, and resolved; an upheld one takes the member or household off the policy, with its certificates reissued."""

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import audit
from core.audit import Actor
from core.db import utcnow
from core.models import User
from insurance.cover import counts
from insurance.cover.enrolment_sql import apply_totals, policy_totals
from insurance.cover.errors import CoverCode, CoverConflictError, CoverInvalidError, CoverNotFoundError
from insurance.cover.industry import household_by_no, list_objects, set_industry_totals
from insurance.cover.models import (
    Coverage,
    CoverStatus,
    EnrolmentNotice,
    InsuredObject,
    NoticeObjection,
    ObjectionStatus,
    Policy,
    PolicyStatus,
    ProductKind,
    ProductVersion,
)
from insurance.cover.notices import get_notice, notice_lines
from insurance.cover.policies import require_noticer
from insurance.cover.schemas import (
    ObjectionCreate,
    ObjectionResolve,
)
from insurance.register.models import Household, Member


def list_objections(session: Session, notice: EnrolmentNotice) -> list[NoticeObjection]:
    return list(
        session.exec(
            select(NoticeObjection).where(NoticeObjection.notice_id == notice.id).order_by(col(NoticeObjection.id))
        ).all()
    )


def notice_members(session: Session, policy: Policy, village_code: str) -> dict[int, list[tuple[int, str]]]:
    """Per household on the village's notice, the members still covered (id, name): whom an objection may name.
    Industry policies insure objects, not persons: none."""
    if policy.kind != ProductKind.family:
        return {}
    rows = session.exec(
        select(Member.household_id, Member.id, Member.name)
        .join(Coverage, col(Coverage.member_id) == Member.id)
        .join(Household, col(Household.id) == Member.household_id)
        .where(
            Coverage.policy_id == policy.id,
            Coverage.status != CoverStatus.cancelled,
            Household.village_code == village_code,
        )
        .order_by(col(Member.household_id), col(Member.id))
    ).all()
    members: dict[int, list[tuple[int, str]]] = {}
    for household_id, member_id, name in rows:
        members.setdefault(household_id, []).append((member_id, name))
    return members


def member_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return dict(session.exec(select(Member.id, Member.name).where(col(Member.id).in_(wanted))).all())


def record_objection(
    session: Session, user: User, notice_id: int, data: ObjectionCreate, *, today: date
) -> NoticeObjection:
    """An objection told to the clerk while the notice is posted; one dated after today would be made up."""
    notice, policy = get_notice(session, user, notice_id)
    require_noticer(user)
    if policy.status != PolicyStatus.draft:
        raise CoverConflictError("保单已出单或撤销，公示异议已结束", code=CoverCode.not_draft)
    if data.raised_on > today:
        raise CoverInvalidError(
            f"异议提出日期不能晚于今天（{today}）", code=CoverCode.raised_in_future, field="raised_on"
        )
    if data.raised_on < notice.posted_on or data.raised_on > notice.objection_until:
        raise CoverInvalidError(
            f"异议须在公示期内提出（{notice.posted_on}至{notice.objection_until}）",
            code=CoverCode.outside_objection_window,
            field="raised_on",
        )
    household = household_by_no(session, data.household_no, "household_no")
    if household.id not in {line.household_id for line in notice_lines(session, policy, notice.village_code)}:
        raise CoverInvalidError("该户不在本村公示名单中", field="household_no")
    if data.member_id is not None:
        member = session.get(Member, data.member_id)
        if member is None or member.household_id != household.id:
            raise CoverInvalidError("该成员不属于此户", field="member_id")
    objection = NoticeObjection(
        notice_id=notice.id or 0,
        household_id=household.id or 0,
        member_id=data.member_id,
        raised_on=data.raised_on,
        raised_by=data.raised_by,
        reason=data.reason,
        recorded_by=user.username,
    )
    session.add(objection)
    session.flush()
    audit.record(
        session,
        Actor.of(user),
        "record_objection",
        "notice_objection",
        objection.id,
        after=data.model_dump(mode="json"),
    )
    session.commit()
    return objection


def resolve_objection(session: Session, user: User, objection_id: int, data: ObjectionResolve) -> NoticeObjection:
    """An upheld objection takes the member (or the whole household) off the policy before it is issued."""
    objection = session.get(NoticeObjection, objection_id)
    if objection is None:
        raise CoverNotFoundError("异议不存在", code=CoverCode.objection_not_found, field="objection_id")
    notice, policy = get_notice(session, user, objection.notice_id)
    require_noticer(user)
    if objection.status != ObjectionStatus.open:
        raise CoverConflictError("该异议已处理", code=CoverCode.objection_resolved)
    objection.status = ObjectionStatus.upheld if data.upheld else ObjectionStatus.dismissed
    objection.resolution = data.resolution
    objection.resolved_by = user.username
    objection.resolved_at = utcnow()
    session.add(objection)
    removed = 0
    if data.upheld and policy.status == PolicyStatus.draft:
        connection = session.connection()
        if policy.kind == ProductKind.industry:
            objects = InsuredObject.__table__
            result = connection.execute(
                objects.update()
                .where(
                    objects.c.policy_id == policy.id,
                    objects.c.household_id == objection.household_id,
                    objects.c.village_code == notice.village_code,
                )
                .values(status=CoverStatus.cancelled.value, end_reason="objection_upheld")
            )
            removed = result.rowcount or 0
            set_industry_totals(policy, (o for o, _ in list_objects(session, policy)))
        else:
            coverage, member = Coverage.__table__, Member.__table__
            who = (
                sa.select(member.c.id).where(member.c.id == objection.member_id)
                if objection.member_id is not None
                else sa.select(member.c.id).where(member.c.household_id == objection.household_id)
            )
            result = connection.execute(
                coverage.update()
                .where(
                    coverage.c.policy_id == policy.id,
                    coverage.c.member_id.in_(who),
                    coverage.c.status != CoverStatus.cancelled.value,
                )
                .values(status=CoverStatus.cancelled.value, end_reason="objection_upheld")
            )
            removed = result.rowcount or 0
            version = session.get(ProductVersion, policy.product_version_id)
            assert version is not None
            apply_totals(policy, version, policy_totals(connection, policy))
            counts.recount(connection, villages=[notice.village_code])
        session.add(policy)
    audit.record(
        session,
        Actor.of(user),
        "resolve_objection",
        "notice_objection",
        objection.id,
        after={"upheld": data.upheld, "resolution": data.resolution, "lines_removed": removed},
    )
    session.commit()
    return objection
