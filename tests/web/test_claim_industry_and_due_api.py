"""Through the API, on SQLite and PostgreSQL: the queue filters `due=overdue` and `due=soon` (decision due dates set
from today's date, not waited for), livestock and crop claims filed, assessed and decided with the amounts of
domain.md §2.2, and the filing check for an incident after the member's recorded death, overridden with an audited
reason."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from claims.status import ClaimType
from core.db import local_today
from insurance.cover import industry
from insurance.cover.schemas import IndustryPolicyCreate, InsuredObjectIn
from tests.builders import login_page
from tests.cover_builders import YEAR, audit_rows, issue, scalar
from tests.web.test_claims_api import INCIDENT, World, file, step, upload_all, world, writer

__all__ = ["world"]  # the fixture, shared with the claims API tests
HOG_TAGS = ["HN433124-0001", "HN433124-0002", "HN433124-0003"]


def _set(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def _listed(world: World, due: str) -> set[str]:
    response = world.client.get("/api/claims", params={"due": due, "limit": 100}, headers=world.supervisor)
    assert response.status_code == 200, response.text
    return {c["claim_no"] for c in response.json()["data"]}


def test_the_queue_filter_lists_claims_overdue_and_due_within_three_days(world: World, engine: Engine) -> None:
    today = local_today()
    due_on = {
        "yesterday": today - timedelta(days=1),
        "today": today,
        "in_3_days": today + timedelta(days=3),
        "in_4_days": today + timedelta(days=4),
    }
    claims: dict[str, str] = {}
    for index, key in enumerate([*due_on, "decided_overdue"]):
        facts = {"medical_cost_fen": 50_000}
        claims[key] = file(world, ClaimType.accidental_medical, facts, id_number=world.id_numbers[index])["claim_no"]
    for key, day in due_on.items():
        _set(
            engine,
            "UPDATE claim SET status = 'documents_complete', decision_due_on = :day WHERE claim_no = :no",
            day=day,
            no=claims[key],
        )
    # decided: its decision due date no longer counts, whatever it was
    _set(
        engine,
        "UPDATE claim SET status = 'approved', decision_due_on = :day, payment_due_on = :later WHERE claim_no = :no",
        day=today - timedelta(days=10),
        later=today + timedelta(days=30),
        no=claims["decided_overdue"],
    )
    assert _listed(world, "overdue") == {claims["yesterday"]}
    assert _listed(world, "soon") == {claims["today"], claims["in_3_days"]}
    soon = world.client.get("/api/claims", params={"due": "soon"}, headers=world.supervisor).json()
    assert [c["claim_no"] for c in soon["data"]] == [claims["today"], claims["in_3_days"]]  # the earliest first
    bad = world.client.get("/api/claims", params={"due": "later"}, headers=world.supervisor)
    assert bad.status_code == 422 and bad.json()["field"] == "due"


def test_an_incident_after_the_members_death_is_blocked_until_a_supervisor_overrides_with_an_audited_reason(
    world: World, engine: Engine
) -> None:
    died = INCIDENT - timedelta(days=10)
    _set(
        engine,
        "UPDATE member SET status = 'deceased', status_date = :died WHERE id_number = :n",
        died=died,
        n=world.id_numbers[5],
    )
    claim = file(world, ClaimType.accidental_medical, {"medical_cost_fen": 50_000}, id_number=world.id_numbers[5])
    check = next(c for c in claim["checks"] if c["kind"] == "incident_after_death")
    assert check["severity"] == "block"
    assert check["message"] == f"出险日期{INCIDENT.isoformat()}在户籍登记的死亡日期{died.isoformat()}之后"
    no = claim["claim_no"]
    upload_all(world, claim)
    blocked = step(world, no, "complete-documents", world.handler, version=claim["version"])
    assert blocked.status_code == 409 and blocked.json()["code"] == "check_blocked"

    path = f"checks/{check['id']}/override"
    assert step(world, no, path, world.supervisor, reason="").status_code == 422  # a reason is required
    reason = "户籍死亡日期登记有误，村委会已出具证明"
    assert step(world, no, path, world.supervisor, reason=reason).status_code == 200
    records = audit_rows(engine, "override_check", "claim_check", str(check["id"]))
    assert [(r["actor"], r["after"]) for r in records] == [("supervisor", {"override_reason": reason})]
    completed = step(world, no, "complete-documents", world.handler, version=claim["version"])
    assert completed.status_code == 200, completed.text


def _industry_object(world: World, engine: Engine, product: str, quantity: str, tags: list[str]) -> tuple[str, int]:
    """An issued industry policy of the handler's company for the household of the first covered member: (its
    household number, the insured object's id)."""
    household_no = scalar(
        engine,
        "SELECT h.household_no FROM household h JOIN member m ON m.household_id = h.id WHERE m.id_number = :n",
        n=world.id_numbers[0],
    )
    cast = world.issued.cast
    with writer(engine) as session:
        data = IndustryPolicyCreate(
            product_code=product,
            year=YEAR,
            objects=[InsuredObjectIn(household_no=household_no, quantity=Decimal(quantity), ear_tags=tags)],
        )
        policy = industry.create_industry_policy(session, cast.handler, data)
        issue(session, cast, policy)
        object_id = industry.list_objects(session, policy)[0][0].id
    assert object_id is not None
    return household_no, object_id


def _decided(world: World, claim: dict[str, Any]) -> dict[str, Any]:
    """Every document, complete, assessed, approved: the decided claim."""
    no = claim["claim_no"]
    upload_all(world, claim)
    completed = step(world, no, "complete-documents", world.handler, version=claim["version"])
    assert completed.status_code == 200, completed.text
    assessed = step(world, no, "assess", world.handler, version=completed.json()["version"])
    assert assessed.status_code == 200, assessed.text
    decided = step(world, no, "decision", world.supervisor, version=assessed.json()["version"], decision="approve")
    assert decided.status_code == 200, decided.text
    return {"assessed": assessed.json(), "decided": decided.json()}


def test_a_livestock_claim_pays_per_head_matched_by_ear_tag_less_the_culling_subsidy(
    world: World, engine: Engine
) -> None:
    household_no, object_id = _industry_object(world, engine, "agri_hog", "3", HOG_TAGS)
    login_page(world.client, "handler")  # the filing form offers the household's insured object
    form = world.client.get("/claims/new", params={"household": household_no})
    assert f'<option value="{object_id}">' in form.text

    facts = {
        "ear_tags": [HOG_TAGS[0], HOG_TAGS[1], "HN433124-9999"],
        "culled_tags": [HOG_TAGS[1]],
        "culling_subsidy_per_head_fen": 10_000,
        "harmless_disposal": True,
    }
    claim = file(world, ClaimType.livestock_loss, facts, id_number=None, insured_object_id=object_id, peril="epidemic")
    assert [(c["kind"], c["severity"]) for c in claim["checks"]] == [("object_not_on_policy", "warn")]
    result = _decided(world, claim)
    assessed = result["assessed"]
    # domain.md §2.2: a fattening hog is insured for 500 yuan a head; a culled head pays 500 less the culling subsidy
    assert assessed["payable_fen"] == 50_000 + (50_000 - 10_000)
    assert "object_not_insured" in assessed["reasons"]
    lines = [line for line in assessed["explanation"] if line.get("reason") == "object_not_insured"]
    assert [line["amount_fen"] for line in lines] == [-50_000] and "HN433124-9999" in lines[0]["detail"]
    assert result["decided"]["status"] == "approved" and result["decided"]["payable_fen"] == 90_000


def test_a_crop_claim_pays_area_times_the_stage_sum_per_mu_times_the_loss_degree(world: World, engine: Engine) -> None:
    _, object_id = _industry_object(world, engine, "agri_rice_late", "2.5", [])
    facts = {"area_mu": "2.0", "loss_bp": 6000, "stage": "tillering"}
    claim = file(world, ClaimType.crop_loss, facts, id_number=None, insured_object_id=object_id, peril="flood")
    assert claim["checks"] == []
    result = _decided(world, claim)
    # domain.md §2.2: late rice at tillering is insured for 280 yuan a mu; 2.0 mu x 280 x 60 % = 336 yuan
    assert result["assessed"]["payable_fen"] == 33_600
    assert result["decided"]["status"] == "approved" and result["decided"]["payable_fen"] == 33_600
