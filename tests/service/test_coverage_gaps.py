"""The coverage-gap figures and lists on the sample story (tests/gaps_story.py), checked against its answer key,
and kept exact by every kind of change: an import, an enrolment, an issue, a cancellation, an upheld objection,
a death. On SQLite and PostgreSQL."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import local_today
from core.models import User
from insurance.cover import counts, lifecycle, objections
from insurance.cover.models import EnrolmentNotice, Policy
from insurance.cover.schemas import ObjectionCreate, ObjectionResolve
from insurance.demo.roster import generate_rows
from insurance.gaps import figures, lists
from insurance.gaps.errors import GapsNotFoundError
from insurance.gaps.reasons import GapReason
from tests.cover_builders import Cast, fetch, make_cast, post_all_notices, settle
from tests.gaps_story import (
    ANSWERS,
    DIED,
    DRAFT_COUNTY,
    IMPORTED,
    ON,
    OTHER,
    XUPU,
    Story,
    build_story,
    enrolled_policy,
    import_deaths,
    import_new_members,
    import_roster,
    naive_figures,
)
from tests.imports.builders import import_file, village_counts, write_rows


@pytest.fixture
def story(session: Session, engine: Engine, tmp_path: Path) -> Story:
    return build_story(session, engine, tmp_path)


def _figures(session: Session, story: Story, code: str, on: date = ON, **kw: int) -> dict[str, int]:
    report = figures.coverage_report(session, story.cast.province, code, on, **kw)
    return {k: getattr(report, k) for k in ("members", "eligible", "covered", "uncovered", "lapsing")}


def _uncovered(session: Session, story: Story, code: str, on: date = ON, reason: str | None = None) -> tuple:
    return lists.list_members(session, story.cast.province, code, on, "uncovered", reason=reason, limit=500)


def test_the_story_gives_every_figure_of_the_answer_key(session: Session, story: Story) -> None:
    province = _figures(session, story, "430000000000")
    expected = ANSWERS["province"]
    assert {k: province[k] for k in expected} == expected
    for county, key in ANSWERS["counties"].items():
        got = _figures(session, story, county)
        assert {k: got[k] for k in ("members", "eligible", "covered", "uncovered")} == {
            k: key[k] for k in ("members", "eligible", "covered", "uncovered")
        }, county
        data, count = _uncovered(session, story, county)
        assert count == key["uncovered"] == len(data)
        assert {m.reason for m in data} == {GapReason(key["reason"])}
        assert _uncovered(session, story, county, reason=key["reason"])[1] == key["reason_count"]
    lapsing = _figures(session, story, XUPU, date(2026, 12, 10))["lapsing"]
    assert lapsing == ANSWERS["lapsing_on_2026-12-10"]


def test_the_uncovered_list_counts_exactly_the_reports_gap_at_every_level(session: Session, story: Story) -> None:
    report = figures.coverage_report(session, story.cast.province, "430000000000", ON)
    assert sum(c.uncovered for c in report.children) == report.uncovered
    assert _uncovered(session, story, "430000000000")[1] == report.uncovered
    county = figures.coverage_report(session, story.cast.province, XUPU, ON)
    assert sum(c.members for c in county.children) == county.members
    township = county.children[0]
    village = figures.coverage_report(session, story.cast.province, township.code, ON).children[0]
    for code, uncovered in ((township.code, township.uncovered), (village.code, village.uncovered)):
        assert _uncovered(session, story, code)[1] == uncovered
    shown = figures.coverage_report(session, story.cast.province, village.code, ON)
    assert (shown.members, shown.uncovered, shown.children) == (village.members, village.uncovered, [])


def test_pages_of_the_uncovered_list_follow_each_other_and_count_the_reports_gap(
    session: Session, story: Story
) -> None:
    for code in (XUPU, "430000000000"):
        whole, count = lists.list_members(session, story.cast.province, code, ON, "uncovered", limit=10_000)
        uncovered = figures.coverage_report(session, story.cast.province, code, ON).uncovered
        pages = []
        for offset in range(0, count + 7, 7):
            page, page_count = lists.list_members(
                session, story.cast.province, code, ON, "uncovered", limit=7, offset=offset
            )
            assert page_count == count == uncovered
            pages.extend(page)
        assert pages == whole and len(whole) == count
        key = [(m.village_code, m.household_no) for m in whole]
        assert key == sorted(key)


def test_the_figures_equal_the_naive_count_on_every_date_of_the_story(session: Session, story: Story) -> None:
    for day in (date(2025, 11, 19), date(2025, 12, 31), date(2026, 1, 1), DIED, date(2026, 2, 21), ON):
        for county in (XUPU, DRAFT_COUNTY, OTHER, None):
            got = _figures(session, story, county or "430000000000", day)
            assert {k: got[k] for k in ("members", "eligible", "covered")} == naive_figures(
                session.get_bind(), county, day
            ), (day, county)


def test_the_not_eligible_list_names_the_dead_and_the_exited(session: Session, story: Story) -> None:
    data, _ = lists.list_members(session, story.cast.province, XUPU, ON, "not-eligible", limit=500)
    reasons = [m.reason.value for m in data]
    assert reasons.count("deceased") == 6
    xupu = _figures(session, story, XUPU)
    assert reasons.count("not_eligible") == xupu["members"] - xupu["eligible"]
    assert all("*" in m.id_number_masked for m in data)


def test_a_county_office_reads_its_county_only(session: Session, story: Story) -> None:
    assert figures.coverage_report(session, story.xupu, XUPU, ON).members == ANSWERS["counties"][XUPU]["members"]
    for code in (OTHER, "430000000000", "433130000000"):
        with pytest.raises(GapsNotFoundError):
            figures.coverage_report(session, story.xupu, code, ON)
        with pytest.raises(GapsNotFoundError):
            lists.list_members(session, story.xupu, code, ON, "uncovered")
    for user in (story.cast.handler, story.cast.admin):
        with pytest.raises(GapsNotFoundError):
            figures.coverage_report(session, user, XUPU, ON)


def test_the_check_finds_the_counts_exact_and_then_a_count_corrupted_by_hand(session: Session, story: Story) -> None:
    engine = session.get_bind()
    with engine.connect() as connection:
        assert counts.check(connection) == []
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE coverage_cohort SET members = members + 1 WHERE id = (SELECT MIN(id) FROM coverage_cohort)")
        )
    with engine.connect() as connection:
        found = counts.check(connection)
    assert [(d.stored, d.expected) for d in found if d.village_code] == [(1, 0)]
    assert [(d.stored, d.expected) for d in found if d.village_code is None] == [(0, 1)]  # county rows lag behind


# --- each kind of change, before and after ----------------------------------------------------------------------


def test_each_change_moves_the_figures_at_once(session: Session, engine: Engine, tmp_path: Path) -> None:
    cast = make_cast(session, county=XUPU)
    import_roster(engine, tmp_path)  # an import
    settle(session)
    before = _figures_for(session, cast.province, XUPU, ON)
    assert before["members"] == before["eligible"] + 98 and before["covered"] == 0
    policy = enrolled_policy(session, cast, XUPU)  # an enrolment (draft: not in force)
    assert _figures_for(session, cast.province, XUPU, ON) == before
    reasons = {m.reason for m in lists.list_members(session, cast.province, XUPU, ON, "uncovered", limit=500)[0]}
    assert reasons == {GapReason.policy_not_issued}
    # an upheld objection takes one member off the draft: the reason changes, not the figures
    notices = _post(session, cast, policy)
    member_id, household_id = fetch(
        engine,
        "SELECT m.id, m.household_id FROM coverage c JOIN member m ON m.id = c.member_id "
        "JOIN household h ON h.id = m.household_id WHERE c.policy_id = :p AND h.village_code = :v ORDER BY m.id",
        p=policy.id,
        v=notices[0].village_code,
    )[0]
    household_no = fetch(engine, "SELECT household_no FROM household WHERE id = :h", h=household_id)[0][0]
    objection = objections.record_objection(
        session,
        cast.supervisor,
        notices[0].id or 0,
        ObjectionCreate(
            household_no=household_no,
            member_id=member_id,
            raised_on=date(2025, 11, 21),
            raised_by="村民",
            reason="已外出务工多年",
        ),
        today=date(2025, 11, 21),
    )
    objections.resolve_objection(
        session, cast.supervisor, objection.id or 0, ObjectionResolve(upheld=True, resolution="核实属实")
    )
    settle(session)
    by_reason = _reasons(session, cast.province, XUPU)
    assert by_reason[GapReason.cancelled] == 1
    # an issue: everyone else covered
    lifecycle.issue_policy(session, cast.supervisor, policy.policy_no, date(2025, 12, 1))
    settle(session)
    issued = _figures_for(session, cast.province, XUPU, ON)
    assert issued["covered"] == before["eligible"] - 1 and issued["uncovered"] == 1
    # a death: off the register and off the cover on the day
    import_deaths(engine)
    settle(session)
    dead = _figures_for(session, cast.province, XUPU, ON)
    assert (dead["members"], dead["covered"]) == (issued["members"] - 6, issued["covered"] - 6)
    # an import of new households after the enrolment
    import_new_members(engine)
    settle(session)
    joined = _figures_for(session, cast.province, XUPU, ON)
    assert joined["uncovered"] == 1 + 113
    # a cancellation ends the cover today
    lifecycle.cancel_policy(session, cast.supervisor, policy.policy_no, "承保主体变更", date(2026, 5, 1))
    settle(session)
    cancelled = _figures_for(session, cast.province, XUPU, ON)
    assert cancelled["covered"] == 0 and cancelled["uncovered"] == cancelled["eligible"]
    assert _figures_for(session, cast.province, XUPU, date(2026, 4, 30))["covered"] == dead["covered"]
    with engine.connect() as connection:
        assert counts.check(connection) == []


def _figures_for(session: Session, user: User, code: str, on: date) -> dict[str, int]:
    report = figures.coverage_report(session, user, code, on)
    return {k: getattr(report, k) for k in ("members", "eligible", "covered", "uncovered", "lapsing")}


def _reasons(session: Session, user: User, code: str) -> dict[GapReason, int]:
    found: dict[GapReason, int] = {}
    for m in lists.list_members(session, user, code, ON, "uncovered", limit=500)[0]:
        found[m.reason] = found.get(m.reason, 0) + 1
    return found


def _post(session: Session, cast: Cast, policy: Policy) -> list[EnrolmentNotice]:
    return post_all_notices(session, cast.supervisor, policy, posted_on=IMPORTED)


def test_a_household_moved_to_another_village_leaves_its_old_villages_figures(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    cast = make_cast(session)
    rows = [list(r) for r in generate_rows(300, seed=31)]
    import_file(engine, write_rows(tmp_path / "v1.csv", rows))
    settle(session)
    by_household: dict[str, list[list[str]]] = {}
    for row in rows:
        by_household.setdefault(row[0], []).append(row)
    moving = next(members for members in by_household.values() if len(members) >= 2)
    old, new = moving[0][7], next(members[0] for members in by_household.values() if members[0][7] != moving[0][7])
    today = local_today()  # the importer stamps the wall clock as the registration
    before = {v: _figures_for(session, cast.province, v, today) for v in (old, new[7])}
    assert before[old]["members"] >= len(moving)
    # The household number carries the village: a household that moves is registered under a new number there.
    moved = [[new[7] + "9901", *row[1:7], *new[7:11], *row[11:]] for row in moving]
    outcome = import_file(engine, write_rows(tmp_path / "v2.csv", moved))
    assert outcome.applied and outcome.counts.moved == len(moving), outcome
    settle(session)
    after = {v: _figures_for(session, cast.province, v, today) for v in (old, new[7])}
    assert after[old]["members"] == before[old]["members"] - len(moving)
    assert after[new[7]]["members"] == before[new[7]]["members"] + len(moving)
    with engine.connect() as connection:
        assert counts.check(connection) == []
    assert village_counts(engine)[old][3] == before[old]["members"] - len(moving)


def test_a_member_registered_on_the_enrolment_day_after_the_run_began_is_registered_after_enrolment(
    session: Session, engine: Engine, story: Story
) -> None:
    newcomers = _uncovered(session, story, XUPU, reason="registered_after_enrolment")[0]
    assert newcomers
    first = newcomers[0]
    [joined] = fetch(
        engine,
        "SELECT m.id FROM member m JOIN household h ON h.id = m.household_id WHERE h.household_no = :h AND m.name = :n",
        h=first.household_no,
        n=first.name,
    )
    # the run began at 10:00 Beijing on its day; the newcomer came at 15:00 Beijing that same day
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE enrolment SET started_at = :at WHERE policy_id = :p"),
            {"at": datetime(IMPORTED.year, IMPORTED.month, IMPORTED.day, 2, tzinfo=UTC), "p": story.policy.id},
        )
        connection.execute(
            text("UPDATE member SET created_at = :at WHERE id = :m"),
            {"at": datetime(IMPORTED.year, IMPORTED.month, IMPORTED.day, 7, tzinfo=UTC), "m": joined.id},
        )
    found = lists.list_members(session, story.cast.province, XUPU, ON, "uncovered", limit=500)[0]
    [again] = [m for m in found if (m.household_no, m.name) == (first.household_no, first.name)]
    assert again.reason == GapReason.registered_after_enrolment, (again.reason, story.policy.id)
