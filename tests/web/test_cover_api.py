"""The cover API against real SQLite and PostgreSQL and a real Redis: products and versions, insurers, group and
industry policies, enrolment (queued for the worker; its use case is then run here as the worker runs it),
notices and objections, issue, cancel, renewal, the cover answer, jurisdiction and a household's cover."""

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import local_today
from core.models import Role
from core.queue import get_queue, redis_from_url
from core.settings import Settings
from insurance.cover import objections as cover_objections
from insurance.cover import policies
from insurance.cover.schemas import ObjectionCreate, ObjectionResolve
from insurance.register.identifiers import uscc_check_char
from tests.builders import bearer, make_insurer, make_user
from tests.cover_builders import (
    COOPERATIVE_USCC,
    HOUSEHOLD_NO,
    HUAYUAN,
    ID_NUMBER,
    LUXI,
    PER_HOUSEHOLD_FEN,
    PER_PERSON_FEN,
    PERIOD_END,
    PERIOD_START,
    POSTED_ON,
    RELATION,
    VILLAGE_CODE,
    YEAR,
    Cast,
    Register,
    audit_rows,
    coverage_rows,
    enrol,
    fetch,
    issue,
    make_cast,
    make_group_policy,
    make_offering_insurer,
    make_other_insurer,
    make_register,
    member_id,
    post_all_notices,
    run_enrolment,
)

MASKED_ID = re.compile(r"^\d{6}\*{9}[\dX]{3}$")
Headers = dict[str, str]


@pytest.fixture(autouse=True)
def empty_queue(settings: Settings) -> Iterator[None]:
    """Enrolment jobs queued here are run in the test through the use case; none may reach another test's worker."""
    yield
    get_queue(redis_from_url(settings.redis_url), settings.queue_name).empty()


@pytest.fixture
def cast(session: Session) -> Cast:
    return make_cast(session)


@pytest.fixture
def register(engine: Engine, tmp_path: Path) -> Register:
    return make_register(engine, tmp_path)


def group_policy(client: TestClient, headers: Headers, **body: Any) -> dict[str, Any]:
    response = client.post("/api/policies", headers=headers, json={"county_code": HUAYUAN, "year": YEAR, **body})
    assert response.status_code == 201, response.text
    return response.json()


def enrolled_policy(session: Session, cast: Cast) -> str:
    """A draft group policy for Huayuan with its county enrolled (through the service)."""
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    return policy.policy_no


def take_off(session: Session, engine: Engine, cast: Cast, policy_no: str, row: tuple[str, ...]) -> None:
    """The member taken off the draft policy by an objection the county upheld (notices posted on POSTED_ON)."""
    notices = post_all_notices(session, cast.county, policies.get_policy(session, cast.county, policy_no))
    notice = next(n for n in notices if n.village_code == row[VILLAGE_CODE])
    objection = cover_objections.record_objection(
        session,
        cast.county,
        notice.id or 0,
        ObjectionCreate(
            household_no=row[HOUSEHOLD_NO],
            member_id=member_id(engine, row[ID_NUMBER]),
            raised_by="村委会",
            reason="已在外地参加同类保险",
            raised_on=POSTED_ON,
        ),
        today=POSTED_ON,
    )
    cover_objections.resolve_objection(
        session, cast.supervisor, objection.id or 0, ObjectionResolve(upheld=True, resolution="异议成立")
    )


def version_body(version: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A version as the API returned it, made into a ProductVersionCreate body."""
    kept = {k: v for k, v in version.items() if k not in {"id", "product_code", "version", "created_by", "created_at"}}
    return {**kept, **changes}


def cover(client: TestClient, headers: Headers, member: int, peril: str, on: date) -> dict[str, Any]:
    response = client.get(f"/api/members/{member}/cover?peril={peril}&on={on.isoformat()}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- products ---------------------------------------------------------------------------------------------------


def test_an_admin_adds_a_product_version_and_a_policy_written_before_keeps_version_1(
    client: TestClient, engine: Engine, cast: Cast
) -> None:
    admin, handler = bearer(client, "admin"), bearer(client, "handler")
    before = group_policy(client, handler)
    first = client.get("/api/products/th_family", headers=admin).json()["versions"][0]
    response = client.post(
        "/api/products/th_family/versions",
        headers=admin,
        json=version_body(first, year_from=YEAR, premium_per_unit_fen=12_000, note="2026年调价"),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["version"], created["premium_per_unit_fen"], created["created_by"]) == (2, 12_000, "admin")
    assert [b["code"] for b in created["benefits"]] == [b["code"] for b in first["benefits"]]
    product = client.get("/api/products/th_family", headers=handler).json()
    assert [v["version"] for v in product["versions"]] == [2, 1]
    kept = client.get(f"/api/policies/{before['policy_no']}", headers=handler).json()
    assert kept["product_version_id"] == first["id"] and kept["premium_per_person_fen"] == PER_PERSON_FEN
    after = group_policy(client, handler, county_code=LUXI)
    assert after["product_version_id"] == created["id"] and after["premium_per_person_fen"] == 12_000
    assert len(audit_rows(engine, "create", "product_version", "th_family#2")) == 1


@pytest.mark.parametrize("username", ["handler", "huayuan", "province"])
def test_only_an_administrator_changes_product_terms(client: TestClient, cast: Cast, username: str) -> None:
    first = client.get("/api/products/th_family", headers=bearer(client, "admin")).json()["versions"][0]
    response = client.post(
        "/api/products/th_family/versions", headers=bearer(client, username), json=version_body(first)
    )
    assert response.status_code == 403, response.text


def test_subsidy_shares_not_adding_up_to_100_percent_are_422_naming_the_field(client: TestClient, cast: Cast) -> None:
    admin = bearer(client, "admin")
    first = client.get("/api/products/agri_sow", headers=admin).json()["versions"][0]
    response = client.post(
        "/api/products/agri_sow/versions", headers=admin, json=version_body(first, subsidy_county_bp=1_000)
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "farmer_share_bp" and "100%" in response.json()["message"]
    assert [v["version"] for v in client.get("/api/products/agri_sow", headers=admin).json()["versions"]] == [1]


# --- insurers ---------------------------------------------------------------------------------------------------


def test_an_insurer_with_a_bad_uscc_is_422_on_uscc_and_one_registered_twice_is_409(
    client: TestClient, cast: Cast
) -> None:
    admin = bearer(client, "admin")
    first17 = "91430000MA4000009"
    good = first17 + uscc_check_char(first17)
    wrong = first17 + ("0" if good[-1] != "0" else "1")
    body = {"name": "太平洋产险湖南分公司", "short_name": "太平洋产险", "products": ["agri_hog"]}
    bad = client.post("/api/insurers", headers=admin, json={**body, "uscc": wrong})
    assert bad.status_code == 422 and bad.json()["field"] == "uscc", bad.text
    created = client.post("/api/insurers", headers=admin, json={**body, "uscc": good})
    assert created.status_code == 201, created.text
    assert (created.json()["uscc"], created.json()["products"]) == (good, ["agri_hog"])
    again = client.post("/api/insurers", headers=admin, json={**body, "uscc": good.lower()})
    assert again.status_code == 409 and again.json()["field"] == "uscc", again.text
    other = first17[:-1] + "8"
    refused = client.post(
        "/api/insurers", headers=bearer(client, "handler"), json={**body, "uscc": other + uscc_check_char(other)}
    )
    assert refused.status_code == 403


# --- group policies ---------------------------------------------------------------------------------------------


def test_a_group_policy_runs_for_the_calendar_year_by_default(client: TestClient, cast: Cast) -> None:
    created = group_policy(client, bearer(client, "handler"))
    assert (created["period_start"], created["period_end"]) == (PERIOD_START.isoformat(), PERIOD_END.isoformat())
    assert created["status"] == "draft" and created["policy_no"].startswith(f"TH{YEAR}{HUAYUAN}")
    assert (created["premium_per_person_fen"], created["premium_per_household_fen"]) == (
        PER_PERSON_FEN,
        PER_HOUSEHOLD_FEN,
    )
    assert (created["members_count"], created["premium_fen"]) == (0, 0)
    assert created["insurer_name"] == cast.insurer.short_name and created["policyholder"] == "花垣县扶贫开发办公室"


def test_an_overlapping_policy_for_the_same_county_and_risk_is_409_naming_the_other(
    client: TestClient, session: Session, cast: Cast
) -> None:
    make_other_insurer(session)
    first = group_policy(client, bearer(client, "handler"))
    for username in ("handler", "handler-b"):
        response = client.post(
            "/api/policies",
            headers=bearer(client, username),
            json={"county_code": HUAYUAN, "year": YEAR, "period_start": f"{YEAR}-07-01"},
        )
        assert response.status_code == 409, response.text
        assert response.json()["field"] == "period_start" and first["policy_no"] in response.json()["message"]
    next_year = group_policy(client, bearer(client, "handler-b"), year=YEAR + 1)
    other_county = group_policy(client, bearer(client, "handler-b"), county_code=LUXI)
    assert next_year["period_start"] == f"{YEAR + 1}-01-01" and other_county["county_code"] == LUXI


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"premium_per_person_fen": 0}, "premium_per_person_fen"),
        ({"county_code": "439999"}, "county_code"),
        ({"county_code": "4331"}, "county_code"),
        ({"product_code": "agri_sow"}, "product_code"),
        ({"period_start": f"{YEAR + 1}-02-01"}, "period_start"),
        ({"period_start": f"{YEAR}-03-01", "period_end": f"{YEAR}-02-01"}, "period_end"),
    ],
)
def test_bad_group_policy_input_is_422_naming_the_field(
    client: TestClient, cast: Cast, body: dict[str, Any], field: str
) -> None:
    response = client.post(
        "/api/policies", headers=bearer(client, "handler"), json={"county_code": HUAYUAN, "year": YEAR, **body}
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_a_product_the_insurer_does_not_offer_is_422(client: TestClient, session: Session, cast: Cast) -> None:
    livestock_only = make_offering_insurer(session, short_name="国元农险", seq="000003", products=["agri_sow"])
    make_user(session, Role.insurer_handler, username="handler-c", insurer=livestock_only)
    response = client.post(
        "/api/policies", headers=bearer(client, "handler-c"), json={"county_code": HUAYUAN, "year": YEAR}
    )
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == ("product_not_offered", "product_code")


def test_a_county_office_may_not_write_policies(client: TestClient, cast: Cast, register: Register) -> None:
    county = bearer(client, "huayuan")
    assert client.post("/api/policies", headers=county, json={"county_code": HUAYUAN, "year": YEAR}).status_code == 403
    industry = {
        "product_code": "agri_sow",
        "year": YEAR,
        "objects": [{"household_no": register.rows[0][HOUSEHOLD_NO], "quantity": "2"}],
    }
    assert client.post("/api/policies/industry", headers=county, json=industry).status_code == 403


# --- enrolment ----------------------------------------------------------------------------------------------------


def test_an_enrolment_is_queued_for_the_worker_whose_use_case_then_enrols_the_county(
    client: TestClient, session: Session, settings: Settings, cast: Cast, register: Register
) -> None:
    handler = bearer(client, "handler")
    policy_no = group_policy(client, handler)["policy_no"]
    response = client.post(f"/api/policies/{policy_no}/enrolments", headers=handler, json={"enrolled_on": "2025-12-15"})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert (queued["status"], queued["kind"], queued["enrolled_on"], queued["actor"]) == (
        "queued",
        "enrol",
        "2025-12-15",
        "handler",
    )
    queue = get_queue(redis_from_url(settings.redis_url), settings.queue_name)
    assert f"enrolment-{queued['id']}" in queue.job_ids
    twice = client.post(f"/api/policies/{policy_no}/enrolments", headers=handler, json={"enrolled_on": "2025-12-15"})
    assert twice.status_code == 409 and twice.json()["code"] == "enrolment_running"
    assert client.post(f"/api/policies/{policy_no}/enrolments", headers=bearer(client, "huayuan")).status_code == 403

    run_enrolment(session, queued["id"])  # what the worker's job does

    done = client.get(f"/api/enrolments/{queued['id']}", headers=handler).json()
    assert (done["status"], done["added"], done["households_added"]) == (
        "done",
        len(register.eligible_rows),
        len(register.eligible_households),
    )
    assert done["ineligible"] == len(register.ineligible_rows)
    policy = client.get(f"/api/policies/{policy_no}", headers=handler).json()
    assert policy["members_count"] == done["added"]
    assert policy["premium_fen"] == done["added"] * PER_PERSON_FEN + done["households_added"] * PER_HOUSEHOLD_FEN
    listed = client.get(f"/api/policies/{policy_no}/enrolments", headers=bearer(client, "huayuan")).json()
    assert [e["id"] for e in listed] == [queued["id"]]


# --- industry policies ------------------------------------------------------------------------------------------


def industry(client: TestClient, headers: Headers, product: str, *objects: tuple[str, str], **body: Any) -> Any:
    return client.post(
        "/api/policies/industry",
        headers=headers,
        json={
            "product_code": product,
            "year": YEAR,
            "objects": [{"household_no": no, "quantity": quantity} for no, quantity in objects],
            **body,
        },
    )


def test_ten_sows_cost_600_yuan_split_between_central_province_county_and_farmer(
    client: TestClient, cast: Cast, register: Register
) -> None:
    household_no = register.rows[0][HOUSEHOLD_NO]
    response = industry(client, bearer(client, "handler"), "agri_sow", (household_no, "10"))
    assert response.status_code == 201, response.text
    policy = response.json()
    assert policy["kind"] == "industry" and policy["premium_fen"] == 60_000
    split = [policy[k] for k in ("subsidy_central_fen", "subsidy_provincial_fen", "subsidy_county_fen")]
    assert [*split, policy["farmer_share_fen"]] == [30_000, 15_000, 3_000, 12_000]
    objects = client.get(f"/api/policies/{policy['policy_no']}/objects", headers=bearer(client, "huayuan")).json()
    assert [(o["household_no"], o["quantity"], o["sum_insured_fen"], o["season"]) for o in objects] == [
        (household_no, "10.00", 1_000_000, str(YEAR))
    ]


def test_two_and_a_half_mu_of_late_rice_cost_40_yuan(client: TestClient, cast: Cast, register: Register) -> None:
    response = industry(client, bearer(client, "handler"), "agri_rice_late", (register.rows[0][HOUSEHOLD_NO], "2.5"))
    assert response.status_code == 201, response.text
    policy = response.json()
    assert policy["premium_fen"] == 4_000
    assert policy["farmer_share_fen"] == 1_000  # 25% (domain.md §2.2)
    objects = client.get(f"/api/policies/{policy['policy_no']}/objects", headers=bearer(client, "handler")).json()
    assert [o["season"] for o in objects] == [f"{YEAR}-late"]


def test_an_object_placed_in_a_township_or_county_rather_than_a_village_is_422_naming_its_village(
    client: TestClient, cast: Cast, register: Register
) -> None:
    household_no = register.rows[0][HOUSEHOLD_NO]
    township = household_no[:9] + "000"
    for not_a_village in (township, HUAYUAN + "000000"):
        response = client.post(
            "/api/policies/industry",
            headers=bearer(client, "handler"),
            json={
                "product_code": "agri_sow",
                "year": YEAR,
                "objects": [{"household_no": household_no, "quantity": "3", "village_code": not_a_village}],
            },
        )
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "objects.0.village_code"


@pytest.mark.parametrize(
    ("product", "quantity"),
    [("agri_sow", "0"), ("agri_sow", "-3"), ("agri_rice_late", "0"), ("agri_sow", "2.5")],
)
def test_a_quantity_that_is_not_positive_or_a_fractional_head_count_is_422_naming_the_object(
    client: TestClient, cast: Cast, register: Register, product: str, quantity: str
) -> None:
    response = industry(client, bearer(client, "handler"), product, (register.rows[0][HOUSEHOLD_NO], quantity))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "objects.0.quantity"


def test_several_households_need_a_cooperative_with_a_valid_uscc_as_policyholder(
    client: TestClient, cast: Cast, register: Register
) -> None:
    handler = bearer(client, "handler")
    first, second = list(register.households)[:2]
    alone = industry(client, handler, "agri_hog", (first, "20"), (second, "15"))
    assert alone.status_code == 422 and alone.json()["field"] == "cooperative_uscc", alone.text
    bad = industry(
        client, handler, "agri_hog", (first, "20"), (second, "15"), cooperative_uscc=COOPERATIVE_USCC[:-1] + "3"
    )
    assert bad.status_code == 422 and bad.json()["field"] == "cooperative_uscc", bad.text
    response = industry(
        client,
        handler,
        "agri_hog",
        (first, "20"),
        (second, "15"),
        cooperative_uscc=COOPERATIVE_USCC,
        cooperative_name="花垣县十八洞生猪养殖专业合作社",
    )
    assert response.status_code == 201, response.text
    policy = response.json()
    assert (policy["cooperative_uscc"], policy["households_count"]) == (COOPERATIVE_USCC, 2)
    assert policy["policyholder"] == "花垣县十八洞生猪养殖专业合作社"
    assert policy["premium_fen"] == 35 * 3_000  # 500 yuan × 6% a head


def test_the_same_herd_insured_twice_is_409_naming_the_first_policy(
    client: TestClient, session: Session, cast: Cast, register: Register
) -> None:
    make_other_insurer(session)
    household_no = register.rows[0][HOUSEHOLD_NO]
    first = industry(client, bearer(client, "handler"), "agri_sow", (household_no, "10"))
    assert first.status_code == 201, first.text
    again = industry(client, bearer(client, "handler-b"), "agri_sow", (household_no, "4"))
    assert again.status_code == 409, again.text
    assert first.json()["policy_no"] in again.json()["message"]
    assert again.json()["field"] == "objects.0.household_no"
    hogs = industry(client, bearer(client, "handler-b"), "agri_hog", (household_no, "4"))
    assert hogs.status_code == 201, hogs.text  # another species is another object


# --- notices, objections, issue -----------------------------------------------------------------------------------


def test_a_posted_notice_lists_masked_head_ids_and_the_household_share_never_a_full_id(
    client: TestClient, session: Session, cast: Cast, register: Register
) -> None:
    policy_no = enrolled_policy(session, cast)
    county = bearer(client, "huayuan")
    village = register.eligible_rows[0][VILLAGE_CODE]
    today = local_today()
    response = client.post(
        f"/api/policies/{policy_no}/notices", headers=county, json={"village_code": village, "posted_on": str(today)}
    )
    assert response.status_code == 201, response.text
    notice = response.json()
    assert (notice["posted_on"], notice["objection_until"], notice["posted_by"], notice["late_reason"]) == (
        str(today),
        str(today + timedelta(days=7)),
        "huayuan",
        None,
    )
    in_village = [r for r in register.eligible_rows if r[VILLAGE_CODE] == village]
    assert (notice["households"], notice["members"]) == (len({r[HOUSEHOLD_NO] for r in in_village}), len(in_village))
    lines = client.get(f"/api/policies/{policy_no}/notice-lines/{village}", headers=bearer(client, "handler"))
    assert lines.status_code == 200
    heads = {r[HOUSEHOLD_NO]: r[ID_NUMBER] for r in register.rows if r[RELATION] == "户主"}
    for line in lines.json():
        full = heads[line["household_no"]]
        assert MASKED_ID.match(line["head_id_masked"]) and line["head_id_masked"] == f"{full[:6]}*********{full[-3:]}"
        assert line["premium_fen"] == line["persons"] * PER_PERSON_FEN + PER_HOUSEHOLD_FEN
        assert line["household_share_fen"] == 0
    assert not any(r[ID_NUMBER] in lines.text for r in register.rows)
    listed = client.get(f"/api/policies/{policy_no}/notices", headers=county).json()
    assert [(n["village_code"], n["objections_open"]) for n in listed] == [(village, 0)]


def test_an_objection_outside_the_window_is_422_on_raised_on(
    client: TestClient, session: Session, cast: Cast, register: Register
) -> None:
    policy_no = enrolled_policy(session, cast)
    notices = post_all_notices(session, cast.county, policies.get_policy(session, cast.county, policy_no))
    row = register.eligible_rows[0]
    notice = next(n for n in notices if n.village_code == row[VILLAGE_CODE])
    county = bearer(client, "huayuan")
    body = {"household_no": row[HOUSEHOLD_NO], "raised_by": "村民", "reason": "家庭情况有变"}
    for day in (notice.posted_on - timedelta(days=1), notice.objection_until + timedelta(days=1)):
        late = client.post(f"/api/notices/{notice.id}/objections", headers=county, json={**body, "raised_on": str(day)})
        assert late.status_code == 422 and late.json()["field"] == "raised_on", late.text
    inside = client.post(
        f"/api/notices/{notice.id}/objections", headers=county, json={**body, "raised_on": str(notice.objection_until)}
    )
    assert inside.status_code == 201 and inside.json()["status"] == "open", inside.text
    objections = client.get(f"/api/notices/{notice.id}/objections", headers=bearer(client, "handler")).json()
    assert [o["id"] for o in objections] == [inside.json()["id"]]


def test_issue_waits_for_the_window_and_open_objections_and_an_upheld_one_takes_the_member_off(
    client: TestClient, session: Session, engine: Engine, cast: Cast, register: Register
) -> None:
    policy_no = enrolled_policy(session, cast)
    supervisor = bearer(client, "supervisor")
    today = local_today()
    villages = sorted({r[VILLAGE_CODE] for r in register.eligible_rows})

    def post_notices(posted_on: date, late_reason: str | None = None) -> list[dict[str, Any]]:
        posted = [
            client.post(
                f"/api/policies/{policy_no}/notices",
                headers=supervisor,
                json={"village_code": v, "posted_on": str(posted_on), "late_reason": late_reason},
            )
            for v in villages
        ]
        assert all(p.status_code == 201 for p in posted), [p.text for p in posted]
        return [p.json() for p in posted]

    post_notices(today)
    with engine.connect() as connection:  # handed to the workers at once, not left for the sweeper
        statuses = connection.execute(
            text("SELECT DISTINCT status FROM document_request WHERE village_code IS NOT NULL")
        ).scalars()
        assert set(statuses) == {"queued"}
    window_open = client.post(f"/api/policies/{policy_no}/issue", headers=supervisor)
    assert window_open.status_code == 409 and window_open.json()["code"] == "objection_window_open", window_open.text

    # Posted again, recorded late with its reason: the window restarts from the new date.
    notices = post_notices(today - timedelta(days=10), late_reason="村委会张贴后未及时报送")
    household = register.household_of_size(3)
    target = household[1]
    notice = next(n for n in notices if n["village_code"] == target[VILLAGE_CODE])
    objection = client.post(
        f"/api/notices/{notice['id']}/objections",
        headers=bearer(client, "huayuan"),
        json={
            "household_no": target[HOUSEHOLD_NO],
            "member_id": member_id(engine, target[ID_NUMBER]),
            "raised_by": "村民代表",
            "reason": "该成员长期在外务工，已由务工地参保",
            "raised_on": str(today - timedelta(days=9)),
        },
    )
    assert objection.status_code == 201, objection.text
    still_open = client.post(f"/api/policies/{policy_no}/issue", headers=supervisor)
    assert still_open.status_code == 409 and still_open.json()["code"] == "objections_open", still_open.text

    before = client.get(f"/api/policies/{policy_no}", headers=supervisor).json()
    resolved = client.post(
        f"/api/objections/{objection.json()['id']}/resolution",
        headers=supervisor,
        json={"upheld": True, "resolution": "经核实异议成立"},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "upheld", resolved.text
    after = client.get(f"/api/policies/{policy_no}", headers=supervisor).json()
    assert after["members_count"] == before["members_count"] - 1
    assert after["premium_fen"] == before["premium_fen"] - PER_PERSON_FEN
    assert [r.status for r in coverage_rows(engine, id_number=target[ID_NUMBER])] == ["cancelled"]

    assert client.post(f"/api/policies/{policy_no}/issue", headers=bearer(client, "handler")).status_code == 403
    issued = client.post(f"/api/policies/{policy_no}/issue", headers=supervisor)
    assert issued.status_code == 200 and issued.json()["status"] == "issued", issued.text
    requests = fetch(
        engine,
        "SELECT DISTINCT household_id FROM document_request WHERE kind = :k AND reason = 'policy_issued'",
        k=policies.CERTIFICATE,
    )
    assert len(requests) == after["households_count"] == len(register.eligible_households)
    assert [a["actor"] for a in audit_rows(engine, "issue", "policy", policy_no)] == ["supervisor"]
    assert client.post(f"/api/policies/{policy_no}/issue", headers=supervisor).status_code == 409


# --- the cover answer -----------------------------------------------------------------------------------------------


def test_the_cover_answer_follows_issue_the_period_and_the_illness_waiting_period(
    client: TestClient, session: Session, engine: Engine, cast: Cast, register: Register
) -> None:
    policy_no = enrolled_policy(session, cast)
    member = member_id(engine, register.eligible_rows[0][ID_NUMBER])
    county = bearer(client, "huayuan")
    draft = cover(client, county, member, "accident_death", date(YEAR, 6, 1))
    assert (draft["covered"], draft["reason"]) == (False, "policy_not_in_force")

    issue(session, cast, policies.get_policy(session, cast.supervisor, policy_no))

    accident = cover(client, county, member, "accident_death", date(YEAR, 6, 1))
    assert (accident["covered"], accident["policy_no"], accident["benefit_code"]) == (True, policy_no, "th_accident")
    assert accident["sum_insured_fen"] == 2_000_000 and accident["peril"] == "accident_death"
    waiting = cover(client, county, member, "illness_death", PERIOD_START + timedelta(days=14))
    assert (waiting["covered"], waiting["reason"]) == (False, "waiting_period")
    assert waiting["waiting_until"] == str(PERIOD_START + timedelta(days=29))
    assert cover(client, county, member, "illness_death", PERIOD_START + timedelta(days=30))["covered"] is True
    early = cover(client, county, member, "accident_death", PERIOD_START - timedelta(days=1))
    assert (early["covered"], early["reason"]) == (False, "not_started")
    late = cover(client, county, member, "accident_death", PERIOD_END + timedelta(days=1))
    assert (late["covered"], late["reason"]) == (False, "ended")
    assert cover(client, bearer(client, "handler"), member, "accident_death", date(YEAR, 6, 1))["covered"] is True

    unknown = client.get(f"/api/members/{member}/cover?peril=meteor_strike&on={YEAR}-06-01", headers=county)
    assert unknown.status_code == 422 and unknown.json()["field"] == "peril"
    make_user(session, Role.county_office, username="luxi", county=LUXI)
    elsewhere = client.get(f"/api/members/{member}/cover?peril=accident_death", headers=bearer(client, "luxi"))
    assert elsewhere.status_code == 404


def test_a_member_of_a_household_that_exited_poverty_has_no_cover(
    client: TestClient, session: Session, engine: Engine, cast: Cast, register: Register
) -> None:
    policy_no = enrolled_policy(session, cast)
    issue(session, cast, policies.get_policy(session, cast.supervisor, policy_no))
    member = member_id(engine, register.ineligible_rows[0][ID_NUMBER])
    answer = cover(client, bearer(client, "huayuan"), member, "accident_death", date(YEAR, 6, 1))
    assert (answer["covered"], answer["reason"], answer["policy_no"]) == (False, "no_cover", None)


# --- cancel and renewal -------------------------------------------------------------------------------------------


def test_a_supervisor_cancels_a_draft_and_voids_its_cover_while_a_handler_may_not(
    client: TestClient, session: Session, engine: Engine, cast: Cast, register: Register
) -> None:
    policy_no = enrolled_policy(session, cast)
    body = {"reason": "投保信息有误，重新出单"}
    assert (
        client.post(f"/api/policies/{policy_no}/cancel", headers=bearer(client, "handler"), json=body).status_code
        == 403
    )
    assert {r.status for r in coverage_rows(engine, policy_no)} == {"active"}
    supervisor = bearer(client, "supervisor")
    response = client.post(f"/api/policies/{policy_no}/cancel", headers=supervisor, json=body)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", body["reason"])
    rows = coverage_rows(engine, policy_no)
    assert len(rows) == len(register.eligible_rows)
    assert {(r.status, r.end_reason) for r in rows} == {("cancelled", "policy_cancelled")}
    assert [a["actor"] for a in audit_rows(engine, "cancel", "policy", policy_no)] == ["supervisor"]
    assert client.post(f"/api/policies/{policy_no}/cancel", headers=supervisor, json=body).status_code == 409
    enrol_again = client.post(f"/api/policies/{policy_no}/enrolments", headers=supervisor, json={})
    assert enrol_again.status_code == 409 and enrol_again.json()["code"] == "policy_cancelled"
    # the county may now be insured again for the same year
    assert group_policy(client, bearer(client, "handler"))["policy_no"] != policy_no


def test_renewal_writes_next_years_policy_whose_enrolment_carries_members_over_without_waiting(
    client: TestClient, session: Session, engine: Engine, cast: Cast, register: Register
) -> None:
    old_no = enrolled_policy(session, cast)
    left_off = register.household_of_size(3)[1]  # taken off this year's policy by an upheld objection
    take_off(session, engine, cast, old_no, left_off)
    issue(session, cast, policies.get_policy(session, cast.supervisor, old_no))
    handler = bearer(client, "handler")
    response = client.post(f"/api/policies/{old_no}/renewal", headers=handler, json={})
    assert response.status_code == 202, response.text
    enrolment = response.json()
    assert (enrolment["status"], enrolment["kind"]) == ("queued", "renew")
    renewed = client.get(f"/api/policies?year={YEAR + 1}", headers=handler).json()
    assert renewed["count"] == 1
    new = renewed["data"][0]
    assert (new["renewed_from"], new["status"], new["period_start"]) == (old_no, "draft", f"{YEAR + 1}-01-01")
    assert new["policy_no"].startswith(f"TH{YEAR + 1}{HUAYUAN}")

    run_enrolment(session, enrolment["id"])

    done = client.get(f"/api/enrolments/{enrolment['id']}", headers=handler).json()
    assert (done["status"], done["added"]) == ("done", len(register.eligible_rows))
    rows = coverage_rows(engine, new["policy_no"])
    assert {r.id_number for r in rows if not r.waiting_waived} == {left_off[ID_NUMBER]}
    assert all(date(YEAR + 1, 1, 1) <= r.cover_start and r.cover_end == date(YEAR + 1, 12, 31) for r in rows)
    assert [a["after"]["renewed_as"] for a in audit_rows(engine, "renew", "policy", old_no)] == [new["policy_no"]]
    again = client.post(f"/api/policies/{old_no}/renewal", headers=handler, json={})
    assert again.status_code == 409 and new["policy_no"] in again.json()["message"]


# --- jurisdiction ---------------------------------------------------------------------------------------------------


def test_another_insurers_staff_get_404_on_a_policy_and_see_none_in_the_list(
    client: TestClient, session: Session, cast: Cast
) -> None:
    make_other_insurer(session)
    policy_no = group_policy(client, bearer(client, "handler"))["policy_no"]
    for username in ("handler-b", "supervisor-b"):
        other = bearer(client, username)
        assert client.get(f"/api/policies/{policy_no}", headers=other).status_code == 404
        assert client.get("/api/policies", headers=other).json()["count"] == 0
        assert client.post(f"/api/policies/{policy_no}/enrolments", headers=other, json={}).status_code == 404
        assert (
            client.post(f"/api/policies/{policy_no}/cancel", headers=other, json={"reason": "越权"}).status_code == 404
        )
    assert client.get("/api/policies", headers=bearer(client, "handler")).json()["count"] == 1


def test_a_county_office_sees_only_its_countys_policies(client: TestClient, session: Session, cast: Cast) -> None:
    make_other_insurer(session)
    huayuan_no = group_policy(client, bearer(client, "handler"))["policy_no"]
    luxi_no = group_policy(client, bearer(client, "handler-b"), county_code=LUXI)["policy_no"]
    county = bearer(client, "huayuan")
    listed = client.get("/api/policies", headers=county).json()
    assert (listed["count"], [p["policy_no"] for p in listed["data"]]) == (1, [huayuan_no])
    assert client.get(f"/api/policies/{luxi_no}", headers=county).status_code == 404
    assert client.get(f"/api/policies?county={LUXI}", headers=county).json()["count"] == 0
    province = client.get("/api/policies", headers=bearer(client, "province")).json()
    assert sorted(p["policy_no"] for p in province["data"]) == sorted([huayuan_no, luxi_no])


# --- a household's cover ------------------------------------------------------------------------------------------


def test_a_households_cover_lists_its_members_lines_and_masks_the_uncovered(
    client: TestClient, session: Session, engine: Engine, cast: Cast, register: Register
) -> None:
    policy_no = enrolled_policy(session, cast)
    household = register.household_of_size(3)
    taken_off = household[1]
    take_off(session, engine, cast, policy_no, taken_off)

    response = client.get(
        f"/api/households/{taken_off[HOUSEHOLD_NO]}/cover?on={YEAR}-06-01", headers=bearer(client, "huayuan")
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["household_no"] == taken_off[HOUSEHOLD_NO] and view["on"] == f"{YEAR}-06-01"
    lines = {line["id_number_masked"]: line for line in view["members"]}

    def masked(row: tuple[str, ...]) -> str:
        return f"{row[ID_NUMBER][:6]}*********{row[ID_NUMBER][-3:]}"

    assert sorted(lines) == sorted(masked(r) for r in household)
    assert {line["policy_no"] for line in lines.values()} == {policy_no}
    assert lines[masked(taken_off)]["status"] == "cancelled"
    assert lines[masked(taken_off)]["end_reason"] == "objection_upheld"
    assert {lines[masked(r)]["status"] for r in household if r is not taken_off} == {"active"}
    assert all(line["insurer_name"] == cast.insurer.short_name for line in lines.values())
    assert view["uncovered_members"] == [masked(taken_off)]
    assert not any(r[ID_NUMBER] in response.text for r in household)

    exited = register.household_of_size(1, eligible=False)
    outside = client.get(f"/api/households/{exited[0][HOUSEHOLD_NO]}/cover", headers=bearer(client, "handler")).json()
    assert outside["members"] == [] and sorted(outside["uncovered_members"]) == sorted(masked(r) for r in exited)


def test_a_county_office_of_another_county_gets_404_for_a_households_cover(
    client: TestClient, session: Session, cast: Cast, register: Register
) -> None:
    make_user(session, Role.county_office, username="luxi", county=LUXI)
    response = client.get(f"/api/households/{register.rows[0][HOUSEHOLD_NO]}/cover", headers=bearer(client, "luxi"))
    assert response.status_code == 404


def test_an_insurer_without_offers_still_reads_the_catalogue(client: TestClient, session: Session, cast: Cast) -> None:
    plain = make_insurer(session, short_name="新保险", seq="000004")
    make_user(session, Role.insurer_handler, username="handler-d", insurer=plain)
    products = client.get("/api/products", headers=bearer(client, "handler-d")).json()
    assert {p["code"] for p in products} >= {"th_family", "agri_sow", "agri_rice_late"}
    insurers = {
        i["short_name"]: i["products"] for i in client.get("/api/insurers", headers=bearer(client, "handler-d")).json()
    }
    assert insurers["新保险"] == [] and "th_family" in insurers[cast.insurer.short_name]
