"""Enrolment notices (承保公示) per village and the objections raised while they are posted."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core import audit, documents
from core.audit import Actor
from core.db import utcnow
from core.masking import mask_id_number
from core.models import User
from insurance.cover import outbox, premiums
from insurance.cover.catalogue import cover_terms, subsidy_shares
from insurance.cover.enrolment_sql import apply_totals, policy_totals
from insurance.cover.errors import CoverCode, CoverConflictError, CoverInvalidError, CoverNotFoundError
from insurance.cover.industry import household_by_no, list_objects, set_industry_totals, village_in_county
from insurance.cover.models import (
    UNIT_LABELS,
    Coverage,
    CoverStatus,
    Enrolment,
    EnrolmentNotice,
    InsuredObject,
    NoticeObjection,
    ObjectionStatus,
    Policy,
    PolicyStatus,
    Product,
    ProductKind,
    ProductVersion,
)
from insurance.cover.policies import find_visible_policy, get_policy, require_noticer
from insurance.cover.schemas import (
    ObjectionCreate,
    ObjectionResolve,
)
from insurance.register.models import Division, Household, Member
from insurance.register.roster import HEAD_RELATION

# --- enrolment notices (承保公示) and objections ----------------------------------------------------------------------


def list_notices(session: Session, policy: Policy) -> list[EnrolmentNotice]:
    return list(
        session.exec(
            select(EnrolmentNotice)
            .where(EnrolmentNotice.policy_id == policy.id)
            .order_by(col(EnrolmentNotice.village_code))
        ).all()
    )


def household_premium(policy: Policy, shares: premiums.SubsidyShares, persons: int) -> tuple[int, int]:
    """One household's premium on a family group policy and the household's own share of it (notice, certificate)."""
    premium = premiums.group_premium(
        persons, 1, per_person_fen=policy.premium_per_person_fen, per_household_fen=policy.premium_per_household_fen
    )
    return premium, premiums.split_premium(premium, shares).farmer_fen


@dataclass(frozen=True)
class NoticeLineData:
    household_id: int
    household_no: str
    head_name: str | None
    head_id_masked: str | None
    insured: str
    persons: int
    premium_fen: int
    household_share_fen: int


def notice_lines(session: Session, policy: Policy, village_code: str) -> list[NoticeLineData]:
    """The lines of the village's enrolment notice: household, head, masked ID, what is insured, the premium
    and the household's own share. Nothing else leaves the office."""
    version = session.get(ProductVersion, policy.product_version_id)
    assert version is not None
    shares = subsidy_shares(version)
    heads = {
        household_id: (name, id_number)
        for household_id, name, id_number in session.exec(
            select(Member.household_id, Member.name, Member.id_number)
            .join(Household, col(Household.id) == Member.household_id)
            .where(Household.village_code == village_code, Member.relation == HEAD_RELATION)
        ).all()
    }
    lines: list[NoticeLineData] = []
    if policy.kind == ProductKind.family:
        rows = session.exec(
            select(Household.id, Household.household_no, func.count())
            .select_from(Coverage)
            .join(Member, col(Member.id) == Coverage.member_id)
            .join(Household, col(Household.id) == Member.household_id)
            .where(
                Coverage.policy_id == policy.id,
                Coverage.status != CoverStatus.cancelled,
                Household.village_code == village_code,
            )
            .group_by(col(Household.id), col(Household.household_no))
            .order_by(col(Household.household_no))
        ).all()
        for household_id, household_no, persons in rows:
            premium, share = household_premium(policy, shares, persons)
            name, id_number = heads.get(household_id, (None, None))
            lines.append(
                NoticeLineData(
                    household_id=household_id,
                    household_no=household_no,
                    head_name=name,
                    head_id_masked=mask_id_number(id_number) if id_number else None,
                    insured=f"家庭综合保障 {persons} 人",
                    persons=persons,
                    premium_fen=premium,
                    household_share_fen=share,
                )
            )
        return lines
    product = session.get(Product, policy.product_code)
    unit = UNIT_LABELS.get(product.unit, "") if product else ""
    for line, household_no in list_objects(session, policy):
        if line.village_code != village_code or line.status == CoverStatus.cancelled:
            continue
        name, id_number = heads.get(line.household_id, (None, None))
        lines.append(
            NoticeLineData(
                household_id=line.household_id,
                household_no=household_no,
                head_name=name,
                head_id_masked=mask_id_number(id_number) if id_number else None,
                insured=f"{product.name if product else line.subject} {line.quantity.normalize():f} {unit}",
                persons=0,
                premium_fen=line.premium_fen,
                household_share_fen=line.farmer_share_fen,
            )
        )
    return lines


LATE_REASON_MAX = 500


def earliest_posting(session: Session, policy: Policy, village_code: str) -> date | None:
    """The first day the village's notice could have been posted: the day of the latest enrolment run that put one of
    its listed lines on the policy (the list is drawn from the register by that run; it cannot be posted before).
    An industry policy's list comes from the paper forms its objects are typed in from, which may be posted before
    the policy is entered: no bound but the late-recording rule."""
    if policy.kind != ProductKind.family:
        return None
    return session.exec(
        select(func.max(Enrolment.enrolled_on))
        .select_from(Coverage)
        .join(Enrolment, col(Enrolment.id) == Coverage.enrolment_id)
        .join(Member, col(Member.id) == Coverage.member_id)
        .join(Household, col(Household.id) == Member.household_id)
        .where(
            Coverage.policy_id == policy.id,
            Coverage.status != CoverStatus.cancelled,
            Household.village_code == village_code,
        )
    ).one()


def check_posting_date(
    posted_on: date, *, today: date, earliest: date | None, late_days: int, late_reason: str | None
) -> int:
    """Refuses a posting date that would shorten or skip the objection window: one in the future, one before the
    households were enrolled, or one recorded more than `late_days` after the fact without saying why. Returns how
    many days after the posting it is recorded."""
    if posted_on > today:
        raise CoverInvalidError(f"张贴日期不能晚于今天（{today}）", code=CoverCode.posted_in_future, field="posted_on")
    if earliest is not None and posted_on < earliest:
        raise CoverInvalidError(
            f"张贴日期不能早于本村农户参保登记的日期（{earliest}）",
            code=CoverCode.posted_before_enrolment,
            field="posted_on",
        )
    delay = (today - posted_on).days
    if delay > late_days and not late_reason:
        raise CoverInvalidError(
            f"张贴日期已过去 {delay} 天，超过 {late_days} 天的逾期登记须填写原因",
            code=CoverCode.late_reason_required,
            field="late_reason",
        )
    if late_reason and len(late_reason) > LATE_REASON_MAX:
        raise CoverInvalidError(f"逾期登记原因不能超过 {LATE_REASON_MAX} 个字", field="late_reason")
    return delay


def post_notice(
    session: Session,
    user: User,
    policy_no: str,
    village_code: str,
    posted_on: date,
    *,
    today: date,
    late_days: int,
    late_reason: str | None = None,
) -> EnrolmentNotice:
    """Records that the village's list was posted; the objection window follows from the product's terms. Posting
    again (after a correction) restarts the window. The posting date is checked (check_posting_date) so the window
    can be neither skipped nor moved into the future; a late recording keeps its reason and is audited as such."""
    policy = get_policy(session, user, policy_no)
    require_noticer(user)
    if policy.status != PolicyStatus.draft:
        raise CoverConflictError("只有待出单的保单需要承保公示", code=CoverCode.not_draft)
    code = village_in_county(session, village_code, policy.county_code, "village_code").code
    lines = notice_lines(session, policy, code)
    if not lines:
        raise CoverInvalidError(
            f"村 {code} 没有参保农户",
            code=CoverCode.village_not_on_policy,
            field="village_code",
        )
    reason = (late_reason or "").strip() or None
    delay = check_posting_date(
        posted_on,
        today=today,
        earliest=earliest_posting(session, policy, code),
        late_days=late_days,
        late_reason=reason,
    )
    late = delay > late_days
    version = session.get(ProductVersion, policy.product_version_id)
    assert version is not None
    until = posted_on + timedelta(days=cover_terms(version).notice_objection_days)
    notice = session.exec(
        select(EnrolmentNotice).where(EnrolmentNotice.policy_id == policy.id, EnrolmentNotice.village_code == code)
    ).first()
    before = None
    if notice is None:
        notice = EnrolmentNotice(
            policy_id=policy.id or 0,
            village_code=code,
            posted_on=posted_on,
            objection_until=until,
            posted_by=user.username,
        )
    else:
        before = {
            "posted_on": notice.posted_on,
            "objection_until": notice.objection_until,
            "late_reason": notice.late_reason,
        }
        notice.posted_on, notice.objection_until, notice.posted_by = posted_on, until, user.username
    notice.late_reason = reason if late else None
    notice.households = len(lines)
    notice.members = sum(line.persons for line in lines)
    session.add(notice)
    session.flush()
    outbox.request_notice(session.connection(), policy.id or 0, code, "notice_posted")
    if late:  # two calls with literal actions and keys: the label tests read them from the code
        audit.record(
            session,
            Actor.of(user),
            "post_notice_late",
            "enrolment_notice",
            notice.id,
            before=before,
            after={
                "policy": policy.policy_no,
                "village": code,
                "posted_on": posted_on,
                "objection_until": until,
                "households": notice.households,
                "recorded_on": today,
                "days_late": delay,
                "late_reason": reason,
            },
        )
    else:
        audit.record(
            session,
            Actor.of(user),
            "post_notice",
            "enrolment_notice",
            notice.id,
            before=before,
            after={
                "policy": policy.policy_no,
                "village": code,
                "posted_on": posted_on,
                "objection_until": until,
                "households": notice.households,
            },
        )
    documents.send_after_commit(session, policy_id=policy.id)
    session.commit()
    return notice


def get_notice(session: Session, user: User, notice_id: int) -> tuple[EnrolmentNotice, Policy]:
    notice = session.get(EnrolmentNotice, notice_id)
    policy = find_visible_policy(session, user, notice.policy_id if notice else None)
    if notice is None or policy is None:
        raise CoverNotFoundError("公示不存在", code=CoverCode.notice_not_found, field="notice_id")
    return notice, policy


def get_village_notice(session: Session, policy: Policy, village_code: str) -> EnrolmentNotice:
    """The notice posted in the village for the policy (already found for the user), or 404 if none is posted."""
    notice = session.exec(
        select(EnrolmentNotice).where(
            EnrolmentNotice.policy_id == policy.id, EnrolmentNotice.village_code == village_code.strip()
        )
    ).first()
    if notice is None:
        raise CoverNotFoundError("该村尚未张贴公示", code=CoverCode.notice_not_found, field="village_code")
    return notice


def open_objection_counts(session: Session, policy: Policy) -> dict[int, int]:
    """Open objections per notice of the policy, in one query (pages and the API show them per village)."""
    rows = session.exec(
        select(NoticeObjection.notice_id, func.count())
        .join(EnrolmentNotice, col(EnrolmentNotice.id) == NoticeObjection.notice_id)
        .where(EnrolmentNotice.policy_id == policy.id, NoticeObjection.status == ObjectionStatus.open)
        .group_by(col(NoticeObjection.notice_id))
    ).all()
    return dict(rows)


def village_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return {d.code: d.name for d in session.exec(select(Division).where(col(Division.code).in_(wanted)))}


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


def policy_village_summary(session: Session, policy: Policy) -> list[dict[str, Any]]:
    """Per village: households and members on the policy, its notice and the notice's open objections."""
    connection = session.connection()
    notices = {n.village_code: n for n in list_notices(session, policy)}
    open_counts = open_objection_counts(session, policy)
    if policy.kind == ProductKind.family:
        member, household, coverage = Member.__table__, Household.__table__, Coverage.__table__
        rows = connection.execute(
            sa.select(household.c.village_code, sa.func.count(sa.distinct(household.c.id)), sa.func.count())
            .select_from(
                coverage.join(member, member.c.id == coverage.c.member_id).join(
                    household, household.c.id == member.c.household_id
                )
            )
            .where(coverage.c.policy_id == policy.id, coverage.c.status != CoverStatus.cancelled.value)
            .group_by(household.c.village_code)
            .order_by(household.c.village_code)
        ).all()
    else:
        objects = InsuredObject.__table__
        rows = connection.execute(
            sa.select(objects.c.village_code, sa.func.count(sa.distinct(objects.c.household_id)), sa.literal(0))
            .where(objects.c.policy_id == policy.id, objects.c.status != CoverStatus.cancelled.value)
            .group_by(objects.c.village_code)
            .order_by(objects.c.village_code)
        ).all()
    names = village_names(session, [r[0] for r in rows])
    return [
        {
            "village_code": code,
            "village_name": names.get(code, ""),
            "households": households,
            "members": members,
            "notice": notices.get(code),
            "objections_open": open_counts.get(notices[code].id or 0, 0) if code in notices else None,
        }
        for code, households, members in rows
    ]
