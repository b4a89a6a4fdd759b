"""The office's dashboard through its API and page on SQLite and PostgreSQL: claims approved and paid by type and
Beijing month, overdue and due-soon claims by county, and who may read which division's figures."""

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claims.models import ClaimPayment, PaymentStatus
from claims.status import ClaimType
from core.models import Role
from tests.builders import bearer, login_page, make_user
from tests.web.test_claims_api import MEDICAL_FACTS, World, make_world, ready, step, writer

HUAYUAN_CODE = "433124000000"
PAYABLE_FEN = 340_000  # MEDICAL_FACTS' assessment (test_claims_api)


@pytest.fixture
def world(session: Session, engine: Engine, tmp_path: Path, client: TestClient) -> World:
    return make_world(session, engine, tmp_path, client)


def approved(world: World) -> dict[str, object]:
    assessed = ready(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    decided = step(
        world, str(assessed["claim_no"]), "decision", world.supervisor, version=assessed["version"], decision="approve"
    )
    assert decided.status_code == 200, decided.text
    return decided.json()


def test_an_approval_counts_in_its_beijing_month_and_a_payment_in_the_month_it_was_paid(
    world: World, engine: Engine
) -> None:
    claim = approved(world)
    # 2026-03-31 17:30 UTC is 2026-04-01 01:30 in Beijing: April's, not March's.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE claim SET decided_at = :at WHERE claim_no = :no"),
            {"at": datetime(2026, 3, 31, 17, 30), "no": claim["claim_no"]},
        )
        claim_id = connection.execute(text("SELECT id FROM claim WHERE claim_no = :no"), {"no": claim["claim_no"]})
        claim_id = claim_id.scalar_one()
    with writer(engine) as session:
        for status, paid_on in ((PaymentStatus.paid, date(2026, 5, 10)), (PaymentStatus.failed, None)):
            session.add(
                ClaimPayment(
                    claim_id=claim_id,
                    status=status,
                    amount_fen=PAYABLE_FEN,
                    payee_name="申请人",
                    account_masked="6217 **** **** 1234",
                    paid_on=paid_on,
                    created_by="supervisor",
                )
            )
        session.commit()
    province = bearer(world.client, "province")
    body = world.client.get(f"/api/dashboard/{HUAYUAN_CODE}/claims-by-month?year=2026", headers=province).json()
    assert body["approved_fen_by_month"][3] == PAYABLE_FEN and sum(body["approved_fen_by_month"]) == PAYABLE_FEN
    assert body["paid_fen_by_month"][4] == PAYABLE_FEN and body["paid_total_fen"] == PAYABLE_FEN
    [medical] = [t for t in body["types"] if t["claim_type"] == "supplementary_medical"]
    assert (medical["claim_type_label"], medical["approved_total_fen"]) == ("补充医疗", PAYABLE_FEN)
    whole = world.client.get("/api/dashboard/430000000000/claims-by-month?year=2026", headers=province).json()
    assert whole["approved_total_fen"] == PAYABLE_FEN
    other_year = world.client.get(f"/api/dashboard/{HUAYUAN_CODE}/claims-by-month?year=2025", headers=province)
    assert other_year.json()["approved_total_fen"] == 0
    county = bearer(world.client, "huayuan")
    own = world.client.get("/api/dashboard/433124/claims-by-month?year=2026", headers=county).json()
    assert own["division_code"] == HUAYUAN_CODE and own["paid_total_fen"] == PAYABLE_FEN


def test_a_claim_past_its_decision_date_is_overdue_and_within_three_days_due_soon(world: World) -> None:
    claim = ready(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    due = date.fromisoformat(str(claim["decision_due_on"]))
    province = bearer(world.client, "province")

    def overdue_on(day: date) -> dict[str, object]:
        response = world.client.get(f"/api/dashboard/{HUAYUAN_CODE}/overdue?on={day}", headers=province)
        assert response.status_code == 200, response.text
        return response.json()

    late = overdue_on(due + timedelta(days=1))
    assert (late["overdue"], late["due_soon"]) == (1, 0)
    assert late["by_county"] == [{"code": HUAYUAN_CODE, "name": "花垣县", "overdue": 1, "due_soon": 0}]
    assert [c["claim_no"] for c in late["oldest"]] == [claim["claim_no"]]
    soon = overdue_on(due - timedelta(days=2))
    assert (soon["overdue"], soon["due_soon"], soon["oldest"]) == (0, 1, [])
    assert overdue_on(due - timedelta(days=10))["by_county"] == []


def test_only_the_offices_read_dashboards_and_a_county_only_its_own(world: World, engine: Engine) -> None:
    with writer(engine) as session:
        make_user(session, Role.county_office, username="jishou", county="433101")
        session.commit()
    paths = [f"/api/dashboard/{HUAYUAN_CODE}/claims-by-month", f"/api/dashboard/{HUAYUAN_CODE}/overdue"]
    for headers in (bearer(world.client, "jishou"), world.handler, world.supervisor, bearer(world.client, "admin")):
        for path in paths:
            response = world.client.get(path, headers=headers)
            assert response.status_code == 404 and response.json()["code"] == "dashboard_not_found", path
    county = bearer(world.client, "huayuan")
    assert world.client.get("/api/dashboard/430000000000/overdue", headers=county).status_code == 404
    village_level = world.client.get("/api/dashboard/433124100000/overdue", headers=county)
    assert village_level.status_code in (404, 422)
    bad_year = world.client.get(f"{paths[0]}?year=1900", headers=county)
    assert bad_year.status_code == 422 and bad_year.json()["field"] == "year"


def test_the_dashboard_page_draws_each_chart_beside_its_table(world: World) -> None:
    approved(world)
    login_page(world.client, "province")
    home = world.client.get("/dashboard", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/dashboard/430000000000"
    page = world.client.get(f"/dashboard/{HUAYUAN_CODE}")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3  # coverage, approved, paid; no overdue chart
    assert "花垣县扶贫保险看板" in page.text and "<title>花垣县看板 · " in page.text
    assert "没有超期或 3 日内到期的理赔案件" in page.text
    assert "¥3,400.00" in page.text and "@page { size: A4" in page.text
    coverage = world.client.get(f"/api/coverage/{HUAYUAN_CODE}", headers=bearer(world.client, "province")).json()
    assert coverage["covered"] > 0
    shown = re.search(r'data-testid="uncovered">([\d,]+)<', page.text)
    assert shown and int(shown.group(1).replace(",", "")) == coverage["uncovered"]
    assert "家庭综合保障覆盖率" in page.text and f'href="/coverage/{HUAYUAN_CODE}"' in page.text
    login_page(world.client, "handler")
    assert world.client.get(f"/dashboard/{HUAYUAN_CODE}").status_code == 404


def test_an_open_risk_flag_is_counted_by_reason_and_county_until_the_county_works_it(world: World) -> None:
    """A stay leaving the household 20,600 yuan (30,000 - 6,000 BMI - 3,400 payable) flags it at assessment."""
    ready(world, ClaimType.supplementary_medical, {**MEDICAL_FACTS, "total_cost_fen": 3_000_000})
    province = bearer(world.client, "province")
    body = world.client.get(f"/api/dashboard/{HUAYUAN_CODE}/open-flags", headers=province).json()
    assert body["open"] == 1
    assert body["by_county"] == [{"code": HUAYUAN_CODE, "name": "花垣县", "open": 1}]
    [medical] = [r for r in body["by_reason"] if r["reason"] == "medical_out_of_pocket"]
    assert (medical["reason_label"], medical["new"], medical["following_up"]) == ("医疗自付费用高", 1, 0)
    county = bearer(world.client, "huayuan")
    [flag] = world.client.get("/api/risk-flags", headers=county).json()["data"]
    followed = world.client.post(f"/api/risk-flags/{flag['id']}/follow-up", json={"note": "已入户走访"}, headers=county)
    assert followed.status_code == 200, followed.text
    after = world.client.get("/api/dashboard/430000000000/open-flags", headers=province).json()
    [medical] = [r for r in after["by_reason"] if r["reason"] == "medical_out_of_pocket"]
    assert (after["open"], medical["new"], medical["following_up"]) == (1, 0, 1)
    login_page(world.client, "huayuan")
    page = world.client.get("/dashboard")
    assert page.status_code == 200 and 'data-testid="open-flags">1<' in page.text and "医疗自付费用高" in page.text


def test_the_most_overdue_claims_show_the_step_each_waits_for_and_its_own_due_date(world: World) -> None:
    claim = approved(world)  # agreed: the payment is due within 10 days (Art. 23)
    due = date.fromisoformat(str(claim["payment_due_on"]))
    login_page(world.client, "province")
    page = world.client.get(f"/dashboard/{HUAYUAN_CODE}?on={due + timedelta(days=1)}")
    assert page.status_code == 200
    row = re.search(rf"<tr><td><a href=\"/claims/{claim['claim_no']}\">.*?</tr>", page.text, flags=re.S)
    assert row, "the claim is among the most overdue"
    cells = re.findall(r"<td>([^<]*)</td>", row.group(0))
    assert cells[-2:] == ["支付赔款", due.isoformat()], cells
