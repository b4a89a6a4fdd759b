"""The cover use cases (insurance/policies.py) against real SQLite and PostgreSQL: catalogue, enrolment, double
cover, notices and objections, issue, the register's deaths, and the audit trail each write leaves."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.audit import Actor
from core.errors import Conflict, Invalid
from insurance.cover import answers, catalogue, lifecycle, policies, register_sync
from insurance.cover import enrolment as cover_enrolment
from insurance.cover import notices as cover_notices
from insurance.cover import objections as cover_objections
from insurance.cover.models import CoverStatus, PolicyStatus
from insurance.cover.schemas import BenefitIn, ObjectionCreate, ObjectionResolve, ProductVersionCreate
from tests.cover_builders import (
    AFTER_WINDOW,
    BIRTH_DATE,
    ENROL_DAY,
    EXIT_YEAR,
    HOUSEHOLD_NO,
    HUAYUAN,
    ID_NUMBER,
    LUXI,
    PER_HOUSEHOLD_FEN,
    PER_PERSON_FEN,
    PERIOD_END,
    PERIOD_START,
    POSTED_ON,
    REGISTERED,
    RELATION,
    SYSTEM,
    VILLAGE_CODE,
    YEAR,
    Cast,
    Register,
    RosterRow,
    audit_rows,
    beijing,
    coverage_rows,
    covered_id_numbers,
    enrol,
    fetch,
    generate_register,
    import_register,
    import_with_status,
    issue,
    make_cast,
    make_group_policy,
    make_other_insurer,
    make_register,
    member_id,
    post_all_notices,
    scalar,
    seed_catalogue,
    set_registered_at,
    settle,
)

CATALOGUE = json.loads(catalogue.CATALOGUE_FILE.read_text(encoding="utf-8"))["products"]
CERT = policies.CERTIFICATE
MASKED_ID = re.compile(r"^\d{6}\*{9}[\dX]{3}$")


# --- the catalogue ----------------------------------------------------------------------------------------------


def test_seeding_the_catalogue_twice_creates_nothing_the_second_time(engine: Engine, session: Session) -> None:
    versions = sum(len(p["versions"]) for p in CATALOGUE)
    first = seed_catalogue(session)
    second = seed_catalogue(session)
    assert (first.products_created, first.versions_created, first.unchanged) == (len(CATALOGUE), versions, 0)
    assert (second.products_created, second.versions_created, second.unchanged) == (0, 0, versions)
    assert scalar(engine, "SELECT COUNT(*) FROM product_version") == versions
    assert len(audit_rows(engine, "seed", "product")) == 1


def test_the_seeded_farm_house_benefit_keeps_its_amount_per_room(session: Session) -> None:
    seed_catalogue(session)
    version = catalogue.list_versions(session, "th_family")[-1]
    house = next(b for b in catalogue.list_benefits(session, version.id or 0) if b.code == "th_house")
    assert house.extra.get("per_room_fen") == 400_000


# --- enrolment ----------------------------------------------------------------------------------------------------


def test_enrolment_covers_every_eligible_active_member_once_and_counts_the_ineligible(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path)
    policy = make_group_policy(session, cast.handler)
    enrolment = enrol(session, policy)
    eligible = register.eligible_rows
    assert register.ineligible_rows, "the register must hold households that exited poverty"
    assert enrolment.status == "done"
    assert enrolment.added == len(eligible)
    assert enrolment.households_added == len(register.eligible_households)
    assert enrolment.ineligible == len(register.ineligible_rows)
    assert (enrolment.already_enrolled, enrolment.too_late, enrolment.double_cover) == (0, 0, 0)
    covered = covered_id_numbers(engine, policy.policy_no)
    assert sorted(covered) == sorted(r[ID_NUMBER] for r in eligible)  # each eligible member exactly once
    rows = coverage_rows(engine, policy.policy_no)
    assert {(r.cover_start, r.cover_end, r.waiting_waived, r.enrolment_id) for r in rows} == {
        (PERIOD_START, PERIOD_END, False, enrolment.id)
    }


SQLITE_CREATED_AT_BUG = (
    "SQLite only: the roster importer binds created_at through raw text() SQL, so SQLite stores "
    "'2026-11-25 15:02:08.266711+00:00', while enrol_county matches members registered on or after the period start "
    "by `member.created_at == <datetime read back>`, which SQLAlchemy binds as '2026-11-25 15:02:08.266711' "
    "(no offset): the strings never match, and every such member is silently left off (added 0, too_late 0)"
)


def test_a_register_imported_during_the_policy_year_is_enrolled(
    engine: Engine, session: Session, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path, registered=None)  # registered today, as the importer stamps it
    policy = make_group_policy(session, cast.handler)  # a YEAR policy: its period started before today
    enrolment = enrol(session, policy)
    assert enrolment.added == len(register.eligible_rows)
    assert enrolment.households_added == len(register.eligible_households)


def test_the_group_premium_is_per_person_plus_per_household_and_government_pays_it_all(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    settle(session)
    policy = policies.get_policy(session, cast.handler, policy.policy_no)
    persons, households = len(register.eligible_rows), len(register.eligible_households)
    assert (policy.members_count, policy.households_count) == (persons, households)
    assert policy.premium_fen == persons * PER_PERSON_FEN + households * PER_HOUSEHOLD_FEN
    # th_family: the county pays 100% (domain.md §2.1)
    assert policy.subsidy_county_fen == policy.premium_fen
    assert (policy.subsidy_central_fen, policy.subsidy_provincial_fen, policy.farmer_share_fen) == (0, 0, 0)


def test_a_split_premium_is_shared_to_the_fen_and_the_shares_add_up_to_it(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path)
    first = catalogue.list_versions(session, "th_family")[-1]
    benefits = [BenefitIn.model_validate(b.model_dump()) for b in catalogue.list_benefits(session, first.id or 0)]
    catalogue.create_product_version(
        session,
        cast.admin,
        "th_family",
        ProductVersionCreate(
            year_from=YEAR,
            premium_per_unit_fen=11_501,
            premium_per_household_fen=1_499,
            subsidy_central_bp=3_333,
            subsidy_provincial_bp=3_333,
            subsidy_county_bp=3_334,
            benefits=benefits,
        ),
    )
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    settle(session)
    policy = policies.get_policy(session, cast.handler, policy.policy_no)
    premium = len(register.eligible_rows) * 11_501 + len(register.eligible_households) * 1_499
    assert policy.premium_fen == premium
    shares = (policy.subsidy_central_fen, policy.subsidy_provincial_fen, policy.subsidy_county_fen)
    assert sum(shares) + policy.farmer_share_fen == premium and policy.farmer_share_fen == 0
    for share, bp in zip(shares, (3_333, 3_333, 3_334), strict=True):
        assert abs(Decimal(share) - Decimal(premium) * bp / 10_000) <= 1


def test_a_rerun_adds_nobody_and_counts_the_first_runs_members_as_already_enrolled(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast = make_cast(session)
    make_register(engine, tmp_path)
    policy = make_group_policy(session, cast.handler)
    first = enrol(session, policy)
    again = enrol(session, policy)
    assert (again.added, again.households_added) == (0, 0)
    assert again.already_enrolled == first.added
    assert len(covered_id_numbers(engine, policy.policy_no)) == first.added
    assert [a["after"]["added"] for a in audit_rows(engine, "enrol", "policy", policy.policy_no)] == [first.added, 0]


def test_a_household_registered_during_the_period_is_added_on_rerun_from_the_next_day_without_waiting(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast = make_cast(session)
    rows = generate_register(420)
    numbers = list(dict.fromkeys(r[HOUSEHOLD_NO] for r in rows))
    newcomers = set(numbers[-3:-1])  # two whole households (the very last one is cut short by the generator)
    rows = generate_register(420, reopen=newcomers)
    rows = [r for r in rows if r[HOUSEHOLD_NO] != numbers[-1]]
    import_register(
        engine,
        tmp_path,
        [r for r in rows if r[HOUSEHOLD_NO] not in newcomers],
        name="before.csv",
        registered=REGISTERED,
    )
    policy = make_group_policy(session, cast.handler)
    first = enrol(session, policy)

    registered = date(YEAR, 3, 10)
    newcomer_ids = [r[ID_NUMBER] for r in rows if r[HOUSEHOLD_NO] in newcomers]
    import_register(engine, tmp_path, rows, name="after.csv", registered=beijing(registered))
    rerun = enrol(session, policy, on=registered + timedelta(days=10))

    assert (rerun.added, rerun.households_added, rerun.already_enrolled) == (len(newcomer_ids), 2, first.added)
    added = coverage_rows(engine, enrolment_id=rerun.id)
    assert sorted(a.id_number for a in added) == sorted(newcomer_ids)
    assert {(a.cover_start, a.cover_end, a.waiting_waived) for a in added} == {
        (registered + timedelta(days=1), PERIOD_END, True)
    }
    assert len(covered_id_numbers(engine, policy.policy_no)) == first.added + len(newcomer_ids)


def test_members_the_register_shows_deceased_are_not_enrolled(engine: Engine, session: Session, tmp_path: Path) -> None:
    cast = make_cast(session)
    rows = generate_register()
    eligible = [r for r in rows if r[EXIT_YEAR] == ""]
    dead = {r[ID_NUMBER]: date(YEAR - 1, 6, 1) for r in eligible[1:4]}
    import_with_status(engine, tmp_path, rows, dead, name="with-deaths.csv")
    set_registered_at(engine, [r[ID_NUMBER] for r in rows], REGISTERED)
    register = Register(rows=rows, path=tmp_path / "with-deaths.csv", deceased=dead)
    policy = make_group_policy(session, cast.handler)
    enrolment = enrol(session, policy)
    covered = set(covered_id_numbers(engine, policy.policy_no, status=None))
    assert enrolment.added == len(register.eligible_rows) == len(eligible) - 3
    assert not covered & set(dead)
    assert enrolment.ineligible == len(register.ineligible_rows)


# --- double cover ---------------------------------------------------------------------------------------------------


def _moved_household(member: RosterRow, village_row: RosterRow) -> RosterRow:
    """The member as head of a new household in another county's village (moved there by marriage)."""
    village = village_row[VILLAGE_CODE]
    return (
        f"{village}0999",  # a household number starts with its village's code
        *member[1:3],  # name, ID number
        "户主",
        *member[4:7],  # sex, birth date, ethnicity
        village,
        *village_row[8:13],  # county, township and village names, poverty attribute, cause
        "",  # phone
        "",  # exit year: none, the household is eligible
    )


def test_a_member_already_covered_by_another_live_policy_is_left_off_and_the_conflict_names_that_policy(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path)
    policy_a = make_group_policy(session, cast.handler)
    enrol(session, policy_a)
    mover = next(
        r
        for r in register.eligible_rows
        if r[RELATION] != "户主" and r[BIRTH_DATE] < "2000" and len(register.households[r[HOUSEHOLD_NO]]) > 2
    )
    luxi_rows = generate_register(60, seed=3, county=LUXI)
    import_register(
        engine, tmp_path, [*luxi_rows, _moved_household(mover, luxi_rows[0])], name="luxi.csv", registered=REGISTERED
    )
    other = make_other_insurer(session)
    policy_b = make_group_policy(session, other.handler, county=LUXI)

    enrolment = enrol(session, policy_b)

    luxi_eligible = [r for r in luxi_rows if r[EXIT_YEAR] == ""]
    assert enrolment.double_cover == 1
    assert enrolment.added == len(luxi_eligible)
    assert mover[ID_NUMBER] not in covered_id_numbers(engine, policy_b.policy_no, status=None)
    assert mover[ID_NUMBER] in covered_id_numbers(engine, policy_a.policy_no)
    conflicts = policies.list_conflicts(session, policies.get_policy(session, other.handler, policy_b.policy_no))
    assert [(m.id_number, no) for m, no in conflicts] == [(mover[ID_NUMBER], policy_a.policy_no)]
    again = enrol(session, policy_b)
    assert (again.added, again.double_cover) == (0, 0)  # the conflict is recorded once, awaiting review
    assert scalar(engine, "SELECT COUNT(*) FROM cover_conflict") == 1


# --- notices, objections and issue ------------------------------------------------------------------------------


def _enrolled(engine: Engine, session: Session, tmp_path: Path) -> tuple[Cast, Register, str]:
    cast = make_cast(session)
    register = make_register(engine, tmp_path)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    return cast, register, policy.policy_no


def test_a_notice_opens_a_seven_day_window_and_lists_masked_head_ids_with_the_household_share(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast, register, policy_no = _enrolled(engine, session, tmp_path)
    notices = post_all_notices(session, cast.county, policies.get_policy(session, cast.county, policy_no))
    assert sorted(n.village_code for n in notices) == sorted({r[VILLAGE_CODE] for r in register.eligible_rows})
    assert {n.objection_until for n in notices} == {POSTED_ON + timedelta(days=7)}
    policy = policies.get_policy(session, cast.county, policy_no)
    lines = [line for n in notices for line in cover_notices.notice_lines(session, policy, n.village_code)]
    heads = {r[HOUSEHOLD_NO]: r[ID_NUMBER] for r in register.rows if r[RELATION] == "户主"}
    assert len(lines) == len(register.eligible_households) == sum(n.households for n in notices)
    for line in lines:
        full = heads[line.household_no]
        assert MASKED_ID.match(line.head_id_masked or "") and line.head_id_masked != full
        assert line.head_id_masked == f"{full[:6]}{'*' * 9}{full[-3:]}"
        assert line.premium_fen == line.persons * PER_PERSON_FEN + PER_HOUSEHOLD_FEN
        assert line.household_share_fen == 0  # the government pays everything
    assert sum(line.persons for line in lines) == len(register.eligible_rows)


def test_an_upheld_objection_takes_the_member_off_and_the_policy_issues_once_windows_and_objections_are_closed(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast, register, policy_no = _enrolled(engine, session, tmp_path)
    policy = policies.get_policy(session, cast.supervisor, policy_no)
    members_before, premium_before = policy.members_count, policy.premium_fen
    notices = {n.village_code: n for n in post_all_notices(session, cast.supervisor, policy)}
    household = register.household_of_size(3)
    target = household[1]
    notice = notices[target[VILLAGE_CODE]]

    with pytest.raises(Conflict) as window_open:
        lifecycle.issue_policy(session, cast.supervisor, policy_no, POSTED_ON + timedelta(days=7))
    assert window_open.value.code == "objection_window_open"

    objection = cover_objections.record_objection(
        session,
        cast.county,
        notice.id or 0,
        ObjectionCreate(
            household_no=target[HOUSEHOLD_NO],
            member_id=member_id(engine, target[ID_NUMBER]),
            raised_by="村民代表",
            reason="该成员已在外地参保 (covered elsewhere)",
            raised_on=POSTED_ON + timedelta(days=2),
        ),
        today=AFTER_WINDOW,
    )
    with pytest.raises(Invalid) as late:
        cover_objections.record_objection(
            session,
            cast.county,
            notice.id or 0,
            ObjectionCreate(
                household_no=target[HOUSEHOLD_NO], raised_by="村民", reason="太晚了", raised_on=AFTER_WINDOW
            ),
            today=AFTER_WINDOW,
        )
    assert late.value.field == "raised_on"
    with pytest.raises(Conflict) as still_open:
        lifecycle.issue_policy(session, cast.supervisor, policy_no, AFTER_WINDOW)
    assert still_open.value.code == "objections_open"

    cover_objections.resolve_objection(
        session, cast.supervisor, objection.id or 0, ObjectionResolve(upheld=True, resolution="核实属实，移出")
    )
    assert [(r.status, r.end_reason) for r in coverage_rows(engine, id_number=target[ID_NUMBER])] == [
        (CoverStatus.cancelled, "objection_upheld")
    ]
    settle(session)
    policy = policies.get_policy(session, cast.supervisor, policy_no)
    assert policy.members_count == members_before - 1
    assert policy.premium_fen == premium_before - PER_PERSON_FEN

    issued = lifecycle.issue_policy(session, cast.supervisor, policy_no, AFTER_WINDOW)
    assert issued.status == PolicyStatus.issued
    requests = fetch(
        engine,
        "SELECT household_id, reason, status FROM document_request WHERE kind = 'household_certificate' "
        "AND policy_id = :p",
        p=policy.id,
    )
    assert len(requests) == len({r[0] for r in requests}) == policy.households_count
    assert {r[1:] for r in requests} == {("policy_issued", "pending")}


def test_an_upheld_objection_against_a_whole_household_takes_all_its_members_off(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast, register, policy_no = _enrolled(engine, session, tmp_path)
    policy = policies.get_policy(session, cast.county, policy_no)
    before = (policy.members_count, policy.households_count, policy.premium_fen)
    notices = {n.village_code: n for n in post_all_notices(session, cast.county, policy)}
    household = register.household_of_size(2)
    objection = cover_objections.record_objection(
        session,
        cast.county,
        notices[household[0][VILLAGE_CODE]].id or 0,
        ObjectionCreate(
            household_no=household[0][HOUSEHOLD_NO], raised_by="村民", reason="该户不符合条件", raised_on=POSTED_ON
        ),
        today=AFTER_WINDOW,
    )
    cover_objections.resolve_objection(
        session, cast.county, objection.id or 0, ObjectionResolve(upheld=True, resolution="属实")
    )
    removed = {r[ID_NUMBER] for r in household}
    assert {r.status for r in coverage_rows(engine, policy_no) if r.id_number in removed} == {CoverStatus.cancelled}
    settle(session)
    policy = policies.get_policy(session, cast.county, policy_no)
    assert (policy.members_count, policy.households_count, policy.premium_fen) == (
        before[0] - len(household),
        before[1] - 1,
        before[2] - len(household) * PER_PERSON_FEN - PER_HOUSEHOLD_FEN,
    )
    assert household[0][HOUSEHOLD_NO] not in {
        line.household_no for line in cover_notices.notice_lines(session, policy, household[0][VILLAGE_CODE])
    }


# --- the register changes ------------------------------------------------------------------------------------------


DIED_ON = date(YEAR, 10, 15)
SYNC_DISCARDED_BUG = (
    "insurance/register/roster_import.py _run: sync_cover_with_register runs in `with Session(bind=connection) as "
    "cover_session:` and only flushes; the connection is inside begin_nested(), so SQLAlchemy's default "
    "join_transaction_mode ('conservative_savepoint') gives the session its own SAVEPOINT, rolled back when the "
    "session closes uncommitted: the ended cover, its audit row and the certificate request are all discarded"
)


def _death_in_newer_roster(engine: Engine, session: Session, tmp_path: Path) -> tuple[Cast, str, RosterRow]:
    """An issued policy whose certificates were produced; then a roster of one covered household, listing one of
    its members as died on DIED_ON."""
    cast, register, policy_no = _enrolled(engine, session, tmp_path)
    issue(session, cast, policies.get_policy(session, cast.supervisor, policy_no))
    with engine.begin() as connection:  # the document worker has produced the certificates the issue asked for
        connection.exec_driver_sql("UPDATE document_request SET status = 'done'")
    household = register.household_of_size(2)
    dead = household[-1]
    outcome = import_with_status(engine, tmp_path, household, {dead[ID_NUMBER]: DIED_ON}, name="death.csv")
    assert outcome.counts.deceased == 1
    return cast, policy_no, dead


def _assert_cover_ended_by_death(engine: Engine, session: Session, cast: Cast, policy_no: str, dead: RosterRow) -> None:
    dead_id = member_id(engine, dead[ID_NUMBER])
    assert [(r.cover_end, r.status, r.end_reason) for r in coverage_rows(engine, id_number=dead[ID_NUMBER])] == [
        (DIED_ON, CoverStatus.ended, "deceased")
    ]
    ended = audit_rows(engine, "end_cover", "coverage", f"{policy_no}:{dead_id}")
    assert [(a["after"]["cover_end"], a["after"]["reason"]) for a in ended] == [(DIED_ON.isoformat(), "deceased")]
    household_id = scalar(engine, "SELECT id FROM household WHERE household_no = :n", n=dead[HOUSEHOLD_NO])
    assert fetch(
        engine, "SELECT household_id, reason FROM document_request WHERE status = 'pending' AND kind = :k", k=CERT
    ) == [(household_id, "member_deceased")]
    settle(session)
    assert answers.member_cover(session, cast.county, dead_id, "accident_death", DIED_ON).covered
    after = answers.member_cover(session, cast.county, dead_id, "accident_death", DIED_ON + timedelta(days=1))
    assert (after.covered, after.reason) == (False, "ended")
    living = [r.status for r in coverage_rows(engine, policy_no) if r.id_number != dead[ID_NUMBER]]
    assert set(living) == {CoverStatus.active}


def test_a_newer_roster_showing_an_enrolled_member_deceased_ends_their_cover_on_the_day_of_death(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast, policy_no, dead = _death_in_newer_roster(engine, session, tmp_path)
    _assert_cover_ended_by_death(engine, session, cast, policy_no, dead)


def test_the_register_sync_is_idempotent_once_the_import_has_ended_the_cover(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    """The use case the roster import calls, run again on its own: the import already ended the cover."""
    cast, policy_no, dead = _death_in_newer_roster(engine, session, tmp_path)
    settle(session)
    assert register_sync.sync_cover_with_register(session, SYSTEM) == 0  # nothing left to end
    session.commit()
    _assert_cover_ended_by_death(engine, session, cast, policy_no, dead)


# --- the audit trail ------------------------------------------------------------------------------------------------


def test_creating_enrolling_noticing_and_issuing_a_policy_each_leave_an_audit_row(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast = make_cast(session)
    make_register(engine, tmp_path)
    policy = make_group_policy(session, cast.handler)
    created = audit_rows(engine, "create", "policy", policy.policy_no)
    assert [(a["actor"], a["after"]["county_code"]) for a in created] == [("handler", HUAYUAN)]

    enrolment = enrol(session, policy, actor=Actor.of(cast.handler))
    queued = audit_rows(engine, "queue_enrolment", "policy", policy.policy_no)
    enrolled = audit_rows(engine, "enrol", "policy", policy.policy_no)
    assert [a["after"]["enrolment_id"] for a in queued] == [enrolment.id]
    assert [(a["actor"], a["after"]["added"]) for a in enrolled] == [("handler", enrolment.added)]

    notices = post_all_notices(session, cast.supervisor, policy)
    assert len(audit_rows(engine, "post_notice", "enrolment_notice")) == len(notices)
    lifecycle.issue_policy(session, cast.supervisor, policy.policy_no, AFTER_WINDOW)
    issued = audit_rows(engine, "issue", "policy", policy.policy_no)
    assert [(a["actor"], a["after"]["members"]) for a in issued] == [("supervisor", enrolment.added)]


# --- cancelling an issued policy --------------------------------------------------------------------------------------


def test_an_issued_policy_cancelled_mid_year_ends_cover_that_day_and_requests_certificates(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast, register, policy_no = _enrolled(engine, session, tmp_path)
    issue(session, cast, policies.get_policy(session, cast.supervisor, policy_no))
    with engine.begin() as connection:  # the certificates of the issue were produced
        connection.exec_driver_sql("UPDATE document_request SET status = 'done'")
    cancelled_on = date(YEAR, 6, 30)
    lifecycle.cancel_policy(session, cast.supervisor, policy_no, "县财政停止购买", cancelled_on)
    rows = coverage_rows(engine, policy_no)
    assert {(r.cover_end, r.status, r.end_reason) for r in rows} == {
        (cancelled_on, CoverStatus.ended, "policy_cancelled")
    }
    pending = fetch(engine, "SELECT DISTINCT household_id FROM document_request WHERE status = 'pending'")
    assert len(pending) == len(register.eligible_households)
    member = member_id(engine, register.eligible_rows[0][ID_NUMBER])
    settle(session)
    after = answers.member_cover(session, cast.county, member, "accident_death", cancelled_on + timedelta(days=1))
    assert after.covered is False


def test_an_issued_policy_cancelled_mid_year_still_answers_for_the_days_it_was_in_force(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast, register, policy_no = _enrolled(engine, session, tmp_path)
    issue(session, cast, policies.get_policy(session, cast.supervisor, policy_no))
    lifecycle.cancel_policy(session, cast.supervisor, policy_no, "县财政停止购买", date(YEAR, 6, 30))
    member = member_id(engine, register.eligible_rows[0][ID_NUMBER])
    settle(session)
    before = answers.member_cover(session, cast.county, member, "accident_death", date(YEAR, 3, 1))
    assert (before.covered, before.policy_no) == (True, policy_no)


# --- an enrolment run in this process (the command line) ------------------------------------------------------------


def test_an_interrupted_command_line_enrolment_is_marked_failed_writes_nothing_and_the_next_run_enrols(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast = make_cast(session)
    make_register(engine, tmp_path)
    policy = make_group_policy(session, cast.handler)

    def interrupt(_done: int, _total: int, _added: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C in the middle of the county

    with pytest.raises(KeyboardInterrupt):
        cover_enrolment.enrol_now(engine, SYSTEM, policy.policy_no, ENROL_DAY, progress=interrupt)
    settle(session)
    (stopped,) = cover_enrolment.list_enrolments(session, policy)
    assert stopped.status == "failed"
    assert "KeyboardInterrupt" in (stopped.message or "")
    assert coverage_rows(engine, policy.policy_no) == []

    again = cover_enrolment.enrol_now(engine, SYSTEM, policy.policy_no, ENROL_DAY)
    assert again.status == "done"
    assert again.added == len(coverage_rows(engine, policy.policy_no)) > 0


def test_an_objection_cannot_be_recorded_once_the_policy_is_issued(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    cast, register, policy_no = _enrolled(engine, session, tmp_path)
    issue(session, cast, policies.get_policy(session, cast.supervisor, policy_no))
    target = register.eligible_rows[0]
    (notice,) = [
        n
        for n in cover_notices.list_notices(session, policies.get_policy(session, cast.county, policy_no))
        if n.village_code == target[VILLAGE_CODE]
    ]
    with pytest.raises(Conflict) as refused:
        cover_objections.record_objection(
            session,
            cast.county,
            notice.id or 0,
            ObjectionCreate(
                household_no=target[HOUSEHOLD_NO],
                raised_by="村民代表",
                reason="补记的异议 (back-dated into the old window)",
                raised_on=POSTED_ON + timedelta(days=1),
            ),
            today=AFTER_WINDOW,
        )
    assert refused.value.code == "not_draft"
