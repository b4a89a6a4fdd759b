"""Enrolment notices (承保公示) per village: their lines, posting them, and the per-village summary; the objections
raised while they are posted are insurance.cover.objections."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core import audit, documents
from core.audit import Actor
from core.masking import mask_id_number
from core.models import User
from insurance.cover import outbox, premiums
from insurance.cover.catalogue import cover_terms, subsidy_shares
from insurance.cover.errors import CoverCode, CoverConflictError, CoverInvalidError, CoverNotFoundError
from insurance.cover.industry import list_objects, village_in_county
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
