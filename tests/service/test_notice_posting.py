"""Posting an enrolment notice and objecting to it, through the use cases on real SQLite and PostgreSQL: the posting
date can neither skip nor shorten the objection window, a late recording keeps its reason and is audited as late,
and an objection cannot be dated after the day it is recorded."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.errors import Invalid
from insurance.cover import notices as cover_notices
from insurance.cover import objections as cover_objections
from insurance.cover import policies
from insurance.cover.models import Policy
from insurance.cover.schemas import ObjectionCreate
from tests.cover_builders import (
    ENROL_DAY,
    HOUSEHOLD_NO,
    VILLAGE_CODE,
    Cast,
    Register,
    audit_rows,
    enrol,
    fetch,
    make_cast,
    make_group_policy,
    make_register,
    settle,
)


@pytest.fixture
def enrolled(engine: Engine, session: Session, tmp_path: Path) -> tuple[Cast, Register, Policy]:
    """A draft Huayuan policy whose county was enrolled on ENROL_DAY, from a small register."""
    cast = make_cast(session)
    register = make_register(engine, tmp_path, members=80)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    settle(session)
    return cast, register, policy


def post(
    session: Session,
    cast: Cast,
    policy: Policy,
    village: str,
    posted_on: date,
    *,
    today: date,
    late_days: int = 3,
    late_reason: str | None = None,
) -> int:
    notice = cover_notices.post_notice(
        session,
        cast.county,
        policy.policy_no,
        village,
        posted_on,
        today=today,
        late_days=late_days,
        late_reason=late_reason,
    )
    return notice.id or 0


def notices_of(engine: Engine) -> list[tuple[date, str | None]]:
    rows = fetch(engine, "SELECT posted_on, late_reason FROM enrolment_notice ORDER BY id")
    return [(r[0] if isinstance(r[0], date) else date.fromisoformat(r[0]), r[1]) for r in rows]


def test_a_posting_date_after_today_is_refused_and_nothing_is_written(
    session: Session, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    cast, register, policy = enrolled
    today = ENROL_DAY + timedelta(days=2)
    with pytest.raises(Invalid) as refused:
        post(session, cast, policy, register.eligible_rows[0][VILLAGE_CODE], today + timedelta(days=1), today=today)
    assert (refused.value.code, refused.value.field) == ("posted_in_future", "posted_on")
    assert str(today) in refused.value.message
    session.rollback()
    assert notices_of(engine) == [] and audit_rows(engine, "post_notice", "enrolment_notice") == []


def test_a_posting_date_before_the_villages_enrolment_is_refused_and_the_day_itself_is_taken(
    session: Session, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    cast, register, policy = enrolled
    village = register.eligible_rows[0][VILLAGE_CODE]
    with pytest.raises(Invalid) as refused:
        post(session, cast, policy, village, ENROL_DAY - timedelta(days=1), today=ENROL_DAY)
    assert (refused.value.code, refused.value.field) == ("posted_before_enrolment", "posted_on")
    assert str(ENROL_DAY) in refused.value.message
    session.rollback()
    post(session, cast, policy, village, ENROL_DAY, today=ENROL_DAY)
    assert notices_of(engine) == [(ENROL_DAY, None)]


@pytest.mark.parametrize("late_days", [3, 5])
def test_a_recording_late_by_more_than_the_configured_days_needs_a_reason_and_is_audited_as_late(
    session: Session, engine: Engine, enrolled: tuple[Cast, Register, Policy], late_days: int
) -> None:
    cast, register, policy = enrolled
    village = register.eligible_rows[0][VILLAGE_CODE]
    posted_on = ENROL_DAY + timedelta(days=1)
    boundary = posted_on + timedelta(days=late_days)
    post(session, cast, policy, village, posted_on, today=boundary, late_days=late_days)  # on the boundary: no reason
    assert notices_of(engine) == [(posted_on, None)]

    late = boundary + timedelta(days=1)
    for blank in (None, "   "):
        with pytest.raises(Invalid) as refused:
            post(session, cast, policy, village, posted_on, today=late, late_days=late_days, late_reason=blank)
        assert (refused.value.code, refused.value.field) == ("late_reason_required", "late_reason")
        session.rollback()
    post(session, cast, policy, village, posted_on, today=late, late_days=late_days, late_reason=" 村委会未及时报送 ")

    assert notices_of(engine) == [(posted_on, "村委会未及时报送")]
    assert len(audit_rows(engine, "post_notice", "enrolment_notice")) == 1
    (entry,) = audit_rows(engine, "post_notice_late", "enrolment_notice")
    assert entry["actor"] == cast.county.username
    assert {k: entry["after"][k] for k in ("days_late", "late_reason", "recorded_on", "posted_on")} == {
        "days_late": late_days + 1,
        "late_reason": "村委会未及时报送",
        "recorded_on": str(late),
        "posted_on": str(posted_on),
    }


def test_posting_again_follows_the_same_rules_and_a_refusal_leaves_the_notice_as_it_was(
    session: Session, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    cast, register, policy = enrolled
    village = register.eligible_rows[0][VILLAGE_CODE]
    today = ENROL_DAY + timedelta(days=20)
    post(session, cast, policy, village, today - timedelta(days=1), today=today)
    for posted_on, code in (
        (today + timedelta(days=1), "posted_in_future"),
        (ENROL_DAY - timedelta(days=1), "posted_before_enrolment"),
        (today - timedelta(days=11), "late_reason_required"),  # the window would have closed already
    ):
        with pytest.raises(Invalid) as refused:
            post(session, cast, policy, village, posted_on, today=today)
        assert refused.value.code == code
        session.rollback()
    assert notices_of(engine) == [(today - timedelta(days=1), None)]
    post(session, cast, policy, village, today - timedelta(days=11), today=today, late_reason="更正名单后重新张贴")
    assert notices_of(engine) == [(today - timedelta(days=11), "更正名单后重新张贴")]
    post(session, cast, policy, village, today, today=today)  # posted again on time: the old reason goes
    assert notices_of(engine) == [(today, None)]


def test_an_objection_dated_after_the_day_it_is_recorded_is_refused(
    session: Session, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    cast, register, policy = enrolled
    row = register.eligible_rows[0]
    posted_on = ENROL_DAY + timedelta(days=1)
    notice_id = post(session, cast, policy, row[VILLAGE_CODE], posted_on, today=posted_on)
    data = ObjectionCreate(
        household_no=row[HOUSEHOLD_NO],
        raised_by="村民",
        reason="家庭收入已超标",
        raised_on=posted_on + timedelta(days=2),
    )
    with pytest.raises(Invalid) as refused:
        cover_objections.record_objection(session, cast.county, notice_id, data, today=posted_on + timedelta(days=1))
    assert (refused.value.code, refused.value.field) == ("raised_in_future", "raised_on")
    session.rollback()
    cover_objections.record_objection(session, cast.county, notice_id, data, today=posted_on + timedelta(days=2))
    settle(session)
    notice, found = cover_notices.get_notice(session, cast.county, notice_id)
    assert found.id == policies.get_policy(session, cast.county, policy.policy_no).id
    assert [o.raised_on for o in cover_objections.list_objections(session, notice)] == [posted_on + timedelta(days=2)]
