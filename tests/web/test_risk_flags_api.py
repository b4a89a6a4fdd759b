"""Risk flags raised in the real transactions (filing, assessment and decisions through the API; a settlement import
through its service; the uncovered-household check called directly), never duplicated, refreshed by new facts, re-
raised only by new facts on their own; the county's follow-up, resolve and dismiss; who sees which flag; the export."""

import io
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claims.risk import raising as risk_raising
from claims.settlement_import import SettlementOptions, run_settlement_import
from claims.status import ClaimType
from core.audit import Actor
from core.db import local_today
from core.models import Role
from insurance.cover import counts
from insurance.register.models import Member, Sex
from tests.builders import bearer, make_user
from tests.cli.test_import_settlements_cli import line, write
from tests.cover_builders import LUXI, audit_rows, coverage_rows, fetch, make_other_insurer, scalar
from tests.web.test_claims_api import INCIDENT, World, file, make_world, ready, step, writer

# (total 16,400 - BMI 6,000 - CI 0) in policy 10,000: payable (10,000 - 6,000) x 85 % = 3,400 yuan, so the stay leaves
# the household 16,400 - 6,000 - 3,400 = 7,000 yuan: two such stays in a year pass the 10,000 yuan threshold.
STAY = {"total_cost_fen": 1_640_000, "in_policy_fen": 1_000_000, "bmi_paid_fen": 600_000, "ci_paid_fen": 0}
STAY_PAYS = 700_000


@pytest.fixture
def world(session: Session, engine: Engine, tmp_path: Path, client: TestClient) -> World:
    return make_world(session, engine, tmp_path, client)


def flags(world: World, who: str = "huayuan", **params: Any) -> dict[str, Any]:
    response = world.client.get("/api/risk-flags", params=params, headers=bearer(world.client, who))
    assert response.status_code == 200, response.text
    return response.json()


def stay(world: World, days_before: int, **extra: Any) -> dict[str, Any]:
    incident = (INCIDENT - timedelta(days=days_before)).isoformat()
    return ready(world, ClaimType.supplementary_medical, STAY, incident_date=incident, **extra)


def reject(world: World, claim: dict[str, Any], reason: str, note: str) -> dict[str, Any]:
    """The supervisor's rejection of an assessed claim, with its reason code."""
    rejected = step(
        world,
        claim["claim_no"],
        "decision",
        world.supervisor,
        version=claim["version"],
        decision="reject",
        reason=reason,
        note=note,
    )
    assert rejected.status_code == 200, rejected.text
    return rejected.json()


def working_age_member(engine: Engine, on: date) -> str:
    """A covered member aged 16-59 on `on` (the birth date is digits 7-14 of the ID number)."""
    for row in fetch(engine, "SELECT m.id_number FROM member m JOIN coverage c ON c.member_id = m.id ORDER BY m.id"):
        born = date(int(row.id_number[6:10]), int(row.id_number[10:12]), int(row.id_number[12:14]))
        if 16 <= on.year - born.year - ((on.month, on.day) < (born.month, born.day)) <= 59:
            return row.id_number
    raise AssertionError("no working-age member")


def test_out_of_pocket_stays_raise_one_flag_at_assessment_refreshed_by_new_facts_and_re_raised_only_by_new_ones(
    world: World, engine: Engine
) -> None:
    first = stay(world, 30)
    assert first["household_pays_fen"] == STAY_PAYS
    assert flags(world)["count"] == 0  # 7,000 yuan: below the threshold
    second = stay(world, 20)
    listed = flags(world)
    assert listed["count"] == 1
    flag = listed["data"][0]
    assert (flag["reason"], flag["year"], flag["status"]) == ("medical_out_of_pocket", INCIDENT.year, "new")
    assert flag["figures"]["amount_fen"] == 2 * STAY_PAYS and flag["figures"]["threshold_fen"] == 1_000_000
    assert flag["claim_nos"] == sorted([first["claim_no"], second["claim_no"]])
    assert flag["head_id_number_masked"].count("*") == 9 and "￥" not in flag["summary"]

    third = stay(world, 10)
    listed = flags(world)
    assert listed["count"] == 1  # refreshed, never duplicated
    assert listed["data"][0]["figures"]["amount_fen"] == 3 * STAY_PAYS
    # a rejection through the decision takes the stay out of the sum, in the decision's transaction
    reject(world, third, "fraud_suspected", "经核实非本人住院")
    county = bearer(world.client, "huayuan")
    detail = world.client.get(f"/api/risk-flags/{flag['id']}", headers=county).json()
    assert detail["figures"]["amount_fen"] == 2 * STAY_PAYS
    assert [e["action"] for e in detail["events"]] == ["raise_flag", "refresh", "refresh"]
    assert detail["allowed_actions"] == ["follow_up", "dismiss"]

    early = world.client.post(f"/api/risk-flags/{flag['id']}/resolve", json={}, headers=county)
    assert early.status_code == 409 and early.json()["code"] == "transition_not_allowed"
    followed = world.client.post(f"/api/risk-flags/{flag['id']}/follow-up", json={"note": "已入户走访"}, headers=county)
    assert followed.status_code == 200 and followed.json()["status"] == "following_up"
    resolved = world.client.post(
        f"/api/risk-flags/{flag['id']}/resolve",
        json={"note": "已纳入监测", "confirmed_category": "sudden_hardship"},
        headers=county,
    ).json()
    assert resolved["status"] == "resolved" and resolved["confirmed_category"] == "sudden_hardship"
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in resolved["events"]][-2:] == [
        ("new", "following_up", "huayuan"),
        ("following_up", "resolved", "huayuan"),
    ]
    audited = audit_rows(engine, "resolve_risk_flag", "risk_flag", str(flag["id"]))
    assert [(r["actor"], r["after"]["confirmed_category"]) for r in audited] == [("huayuan", "sudden_hardship")]
    # the confirmation puts the household under monitoring on the register, audited
    [household] = fetch(engine, "SELECT id, household_no FROM household WHERE monitor_category IS NOT NULL")
    assert household.id == flag["household_id"]
    [confirmed] = audit_rows(engine, "confirm_monitor_category", "household", household.household_no)
    assert (confirmed["actor"], confirmed["after"]) == ("huayuan", {"monitor_category": "sudden_hardship"})

    stay(world, 5)  # 7,000 yuan of new facts: not enough on their own
    assert flags(world, status="new")["count"] == 0
    stay(world, 1)  # 14,000 yuan of new facts: a new flag
    again = flags(world, status="new")
    assert again["count"] == 1 and again["data"][0]["figures"]["amount_fen"] == 2 * STAY_PAYS
    assert flags(world)["count"] == 2


def test_a_working_age_death_raises_its_flag_when_filed_and_a_house_collapse_when_assessed(
    world: World, engine: Engine
) -> None:
    person = working_age_member(engine, INCIDENT)
    death = file(world, ClaimType.illness_death, {"died_on": INCIDENT.isoformat()}, id_number=person)
    listed = flags(world, reason="death_or_severe_disability")
    assert listed["count"] == 1 and listed["data"][0]["claim_nos"] == [death["claim_no"]]
    assert listed["data"][0]["figures"]["events"][0]["kind"] == "death"

    house = ready(world, ClaimType.house_collapse, {"rooms_collapsed": 2, "village_verified": True})
    disaster = flags(world, reason="disaster_loss")["data"]
    assert len(disaster) == 1 and disaster[0]["figures"]["amount_fen"] == 800_000  # 2 rooms x 4,000 yuan
    assert disaster[0]["claim_nos"] == [house["claim_no"]]
    withdrawn = step(world, house["claim_no"], "withdraw", world.handler, version=house["version"])
    assert withdrawn.status_code == 200, withdrawn.text
    assert flags(world, reason="disaster_loss")["data"][0]["figures"]["amount_fen"] == 0  # refreshed, still open


def test_a_settlement_import_flags_an_uncovered_stay_and_the_out_of_pocket_cost_in_its_transaction(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    rows = sorted(r for r in coverage_rows(engine, world.issued.policy.policy_no) if r.status == "active")
    names = {r.id_number: r.name for r in fetch(engine, "SELECT id_number, name FROM member")}
    a, b = rows[0], rows[1]
    admitted = min(a.cover_start + timedelta(days=120), local_today() - timedelta(days=10))
    sheet = write(
        tmp_path / "sheet.csv",
        [
            line("R01", names[a.id_number], a.id_number, admitted, total="30000.00", in_policy_amount="10000.00"),
            line(
                "R02", names[b.id_number], b.id_number, b.cover_start - timedelta(days=20), total="3000.00"
            ),  # not covered
        ],
    )
    options = SettlementOptions(world.issued.cast.insurer.id or 0, Actor.system("test"), local_today(), "sheet.csv")
    outcome = run_settlement_import(engine, sheet, options)
    assert outcome.claims_created == 2
    by_reason = {f["reason"]: f for f in flags(world, who="province")["data"]}
    assert set(by_reason) == {"medical_out_of_pocket", "uncovered_hospital_stay"}
    uncovered = by_reason["uncovered_hospital_stay"]
    assert uncovered["figures"]["stays"] == 1 and uncovered["year"] == (b.cover_start - timedelta(days=20)).year
    # 30,000 - 0 BMI - 8,500 payable (10,000 in policy x 85 %) = 21,500 yuan left to the household
    assert by_reason["medical_out_of_pocket"]["figures"]["amount_fen"] == 2_150_000
    assert by_reason["medical_out_of_pocket"]["figures"]["parts_fen"] == {outcome.claims[0].claim_no: 2_150_000}
    assert all(r["actor"] == "system:test" for r in audit_rows(engine, "raise_risk_flag", "risk_flag"))


def test_a_stay_in_its_waiting_period_is_no_uncovered_stay_and_a_rejection_for_cover_leaves_the_cost_counted(
    world: World, engine: Engine, tmp_path: Path
) -> None:
    row = sorted(r for r in coverage_rows(engine, world.issued.policy.policy_no) if r.status == "active")[2]
    name = fetch(engine, "SELECT name FROM member WHERE id_number = :i", i=row.id_number)[0].name
    admitted = row.cover_start + timedelta(days=10)  # covered, but inside the 30-day waiting period
    assert admitted + timedelta(days=5) < local_today()
    sheet = write(tmp_path / "sheet.csv", [line("W01", name, row.id_number, admitted, total="3000.00")])
    options = SettlementOptions(world.issued.cast.insurer.id or 0, Actor.system("test"), local_today(), "sheet.csv")
    outcome = run_settlement_import(engine, sheet, options)
    assert outcome.claims[0].reasons[0] == "waiting_period"
    assert flags(world, who="province")["count"] == 0  # 3,000 yuan, and not an uncovered stay

    # A stay of 7,000 yuan to the household (3,400 paid by this cover), then rejected for a reason that denies the
    # payment, not the stay: the household is left 10,400 yuan, past the threshold.
    assessed = stay(world, 30)
    assert reject(world, assessed, "other", "材料核实后不予赔付")["household_pays_fen"] == STAY_PAYS + 340_000
    found = flags(world, reason="medical_out_of_pocket")["data"]
    assert [f["figures"]["amount_fen"] for f in found] == [STAY_PAYS + 340_000]


def test_an_eligible_household_left_uncovered_is_flagged_once(world: World, engine: Engine, session: Session) -> None:
    covered = fetch(
        engine,
        "SELECT m.household_id FROM member m JOIN coverage c ON c.member_id = m.id GROUP BY m.household_id "
        "ORDER BY m.household_id LIMIT 2",
    )
    gap, whole = covered[0].household_id, covered[1].household_id
    with writer(engine) as writing:
        newcomer = Member(
            id_number="433124202601010013",
            household_id=gap,
            name="新生儿",
            sex=Sex.male,
            birth_date=date(2026, 1, 1),
            relation="之子",
            relation_code="20",
            ethnicity="苗族",
        )
        writing.add(newcomer)
        writing.commit()
        newcomer_id = newcomer.id
    with writer(engine) as writing:
        raised = risk_raising.flag_uncovered_households(writing, household_ids=[gap, whole], on=INCIDENT)
        writing.commit()
    assert [(f.household_id, f.reason) for f in raised] == [(gap, "eligible_uncovered")]
    assert raised[0].basis == [f"member:{newcomer_id}"] and raised[0].figures["uncovered_members"] == 1
    with writer(engine) as writing:
        assert risk_raising.flag_uncovered_households(writing, household_ids=[gap, whole], on=INCIDENT) == []
        writing.commit()
    assert flags(world, reason="eligible_uncovered")["count"] == 1


def test_a_coverage_recount_flags_a_newcomer_left_off_an_issued_policy_for_its_year_even_before_it_starts(
    world: World, engine: Engine
) -> None:
    """claims.wiring listens to insurance's recount: the step runs in the recount's transaction, without insurance
    knowing claims. An issued policy still to start is judged on its first day (what an issue leaves out is known
    then); a policy not issued yet is not judged at all (the county is still being enrolled)."""
    [row] = fetch(
        engine,
        "SELECT m.household_id, h.village_code FROM member m JOIN coverage c ON c.member_id = m.id "
        "JOIN household h ON h.id = m.household_id ORDER BY m.id LIMIT 1",
    )
    with writer(engine) as writing:
        writing.add(
            Member(
                id_number="433124202601010013",
                household_id=row.household_id,
                name="新生儿",
                sex=Sex.male,
                birth_date=date(2026, 1, 1),
                relation="之子",
                relation_code="20",
                ethnicity="苗族",
            )
        )
        writing.commit()
    period_start = world.issued.policy.period_start
    with engine.begin() as connection:
        connection.execute(text("UPDATE policy SET status = 'draft'"))
        counts.recount(connection, villages=[row.village_code], today=period_start - timedelta(days=1))
    assert flags(world, reason="eligible_uncovered")["count"] == 0
    with engine.begin() as connection:
        connection.execute(text("UPDATE policy SET status = 'issued'"))
        counts.recount(connection, villages=[row.village_code], today=period_start - timedelta(days=1))
    [flag] = flags(world, reason="eligible_uncovered")["data"]
    assert (flag["year"], flag["figures"]["uncovered_members"]) == (period_start.year, 1)
    with engine.begin() as connection:
        counts.recount(connection, villages=[row.village_code], today=INCIDENT)
    [again] = flags(world, reason="eligible_uncovered")["data"]
    assert again["id"] == flag["id"]  # the same year: refreshed, not raised again


def test_a_confirmed_category_makes_a_household_exited_long_ago_eligible_in_the_figures_at_once(
    world: World, engine: Engine
) -> None:
    first, second = stay(world, 30), stay(world, 20)  # together past the threshold: a flag
    [flag] = flags(world)["data"]
    [household] = fetch(engine, "SELECT village_code FROM household WHERE id = :h", h=flag["household_id"])
    size = scalar(engine, "SELECT count(*) FROM member WHERE household_id = :h", h=flag["household_id"])
    with engine.begin() as connection:  # as if it had left poverty long before the cover's terms reach
        connection.execute(text("UPDATE household SET exit_year = 2000 WHERE id = :h"), {"h": flag["household_id"]})
        counts.recount(connection, villages=[household.village_code])
    province = bearer(world.client, "province")

    def eligible() -> int:
        return world.client.get(f"/api/coverage/{household.village_code}", headers=province).json()["eligible"]

    before = eligible()
    county = bearer(world.client, "huayuan")
    world.client.post(f"/api/risk-flags/{flag['id']}/follow-up", json={"note": "入户核实"}, headers=county)
    resolved = world.client.post(
        f"/api/risk-flags/{flag['id']}/resolve",
        json={"note": "纳入监测", "confirmed_category": "marginal"},
        headers=county,
    )
    assert resolved.status_code == 200, resolved.text
    assert eligible() == before + size
    del first, second


def test_only_the_county_office_works_its_flags_the_province_reads_and_insurers_see_none(
    world: World, engine: Engine
) -> None:
    person = working_age_member(engine, INCIDENT)
    file(world, ClaimType.illness_death, {"died_on": INCIDENT.isoformat()}, id_number=person)
    with writer(engine) as session:
        make_user(session, Role.county_office, username="luxi", county=LUXI)
        make_other_insurer(session)
    flag_id = flags(world)["data"][0]["id"]
    for outsider in ("luxi", "handler", "supervisor", "handler-b", "admin"):
        headers = bearer(world.client, outsider)
        assert world.client.get(f"/api/risk-flags/{flag_id}", headers=headers).status_code == 404
        assert world.client.get("/api/risk-flags", headers=headers).json() == {"data": [], "count": 0}
        refused = world.client.post(f"/api/risk-flags/{flag_id}/follow-up", json={}, headers=headers)
        assert refused.status_code == 404
    province = bearer(world.client, "province")
    assert world.client.get(f"/api/risk-flags/{flag_id}", headers=province).json()["allowed_actions"] == []
    assert world.client.post(f"/api/risk-flags/{flag_id}/follow-up", json={}, headers=province).status_code == 403
    county = bearer(world.client, "huayuan")
    empty = world.client.post(f"/api/risk-flags/{flag_id}/dismiss", json={"reason": "  "}, headers=county)
    assert empty.status_code == 422 and empty.json()["code"] == "reason_required"
    dismissed = world.client.post(f"/api/risk-flags/{flag_id}/dismiss", json={"reason": "已由民政兜底"}, headers=county)
    assert dismissed.json()["status"] == "dismissed" and dismissed.json()["closing_note"] == "已由民政兜底"
    assert flags(world, division="433124")["count"] == 1 and flags(world, division=LUXI)["count"] == 0
    village = flags(world)["data"][0]["village_code"]
    assert flags(world, division=village)["count"] == 1 and flags(world, division=village[:9] + "000")["count"] == 1
    assert flags(world, status="new")["count"] == 0 and flags(world, year=INCIDENT.year - 1)["count"] == 0
    # the province by its prefecture or province, in the padded forms the divisions API writes
    for code in ("433100000000", "433100", "430000000000", "430000", "4331", "43"):
        assert flags(world, "province", division=code)["count"] == 1, code
    assert flags(world, "province", division="431200000000")["count"] == 0

    exported = world.client.get("/api/risk-flags/export.xlsx", headers=county)
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:4] == ["预警编号", "户编号", "户主姓名", "户主证件号码"] and len(cells) == 2
    assert cells[1][6] == "劳动力身故或重度伤残" and cells[1][9] == "已排除" and "*" in cells[1][3]
    other = world.client.get("/api/risk-flags/export.xlsx", headers=bearer(world.client, "luxi"))
    assert len(list(load_workbook(io.BytesIO(other.content)).active.iter_rows())) == 1


# Two writers at once: PostgreSQL only (SQLite's writers begin IMMEDIATE, one at a time).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_transactions_judging_one_household_at_once_leave_one_flag_and_no_error(
    world: World, engine: Engine
) -> None:
    first, second = stay(world, 30), stay(world, 20)  # together past the threshold: the second raised the flag
    with engine.begin() as connection:  # as if neither had been judged yet
        connection.execute(text("DELETE FROM risk_flag_event"))
        connection.execute(text("DELETE FROM risk_flag"))
    ids = {r.claim_no: r.id for r in fetch(engine, "SELECT claim_no, id FROM claim")}
    actor = Actor.system("测试")
    outcome: dict[str, Any] = {}

    def rival() -> None:
        with Session(engine) as session:
            try:
                risk_raising.raise_for_claims(session, [ids[second["claim_no"]]], actor=actor)
                session.commit()
            except Exception as error:  # noqa: BLE001 - the race's loser must not fail: kept to assert on
                outcome["error"] = error

    with Session(engine) as holder:
        assert len(risk_raising.raise_for_claims(holder, [ids[first["claim_no"]]], actor=actor)) == 1
        thread = threading.Thread(target=rival)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive()  # the rival waits for this transaction's household
        holder.commit()
    thread.join(timeout=30)
    assert not thread.is_alive() and "error" not in outcome, outcome
    assert scalar(engine, "SELECT count(*) FROM risk_flag") == 1
    assert scalar(engine, "SELECT count(*) FROM risk_flag_event") == 1  # raised once; the rival found it as it is
