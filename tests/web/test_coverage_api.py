"""The coverage-gap API over HTTP: the contract's fields, the lists, the XLSX exports with Chinese headers, the page,
and who may read what (a county its own county only; insurers nothing)."""

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.builders import bearer
from tests.gaps_story import ANSWERS, OTHER, XUPU, Story, build_story


@pytest.fixture
def story(session: Session, engine: Engine, tmp_path: Path) -> Story:
    return build_story(session, engine, tmp_path)


def test_the_report_answers_the_contracts_fields_for_the_province_and_a_county(
    client: TestClient, story: Story
) -> None:
    province = bearer(client, "province")
    body = client.get("/api/coverage/430000000000", params={"on": ANSWERS["on"]}, headers=province).json()
    assert set(body) == {
        "code",
        "name",
        "level",
        "on",
        "members",
        "eligible",
        "covered",
        "uncovered",
        "lapsing",
        "children",
    }
    assert {k: body[k] for k in ANSWERS["province"]} == ANSWERS["province"]
    assert sum(c["uncovered"] for c in body["children"]) == body["uncovered"]
    # today's 14 prefectures; 怀化地区 (433000000000, abolished 1998) with nobody under its code is left out
    assert len(body["children"]) == 14 and "433000000000" not in {c["code"] for c in body["children"]}
    county = client.get(f"/api/coverage/{XUPU}", params={"on": "2026-12-10"}, headers=province).json()
    assert county["code"] == f"{XUPU}000000" and county["level"] == "county"
    assert county["lapsing"] == ANSWERS["lapsing_on_2026-12-10"]
    assert (
        client.get(f"/api/coverage/{XUPU}", params={"on": "2026-12-10", "lapsing_days": 5}, headers=province).json()[
            "lapsing"
        ]
        == 0
    )


def test_the_uncovered_list_pages_masks_and_filters_by_reason(client: TestClient, story: Story) -> None:
    headers = bearer(client, "xupu")
    key = ANSWERS["counties"][XUPU]
    page = client.get(
        f"/api/coverage/{XUPU}/uncovered", params={"on": ANSWERS["on"], "limit": 10, "offset": 5}, headers=headers
    ).json()
    assert page["count"] == key["uncovered"] and len(page["data"]) == 10
    entry = page["data"][0]
    assert set(entry) == {"id_number_masked", "name", "household_no", "village_code", "reason"}
    assert "*" in entry["id_number_masked"] and entry["reason"] == key["reason"]
    other = client.get(
        f"/api/coverage/{XUPU}/uncovered", params={"on": ANSWERS["on"], "reason": "lapsed"}, headers=headers
    ).json()
    assert other == {"data": [], "count": 0}
    not_eligible = client.get(
        f"/api/coverage/{XUPU}/not-eligible", params={"on": ANSWERS["on"], "limit": 500}, headers=headers
    ).json()
    assert {e["reason"] for e in not_eligible["data"]} == {"not_eligible", "deceased"}


def test_the_exports_have_chinese_headers_and_every_row(client: TestClient, story: Story) -> None:
    headers = bearer(client, "xupu")
    response = client.get(f"/api/coverage/{XUPU}/uncovered.xlsx", params={"on": ANSWERS["on"]}, headers=headers)
    assert response.status_code == 200, response.text
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("证件号码", "姓名", "户编号", "村代码", "原因")
    assert len(rows) - 1 == ANSWERS["counties"][XUPU]["uncovered"]
    assert {r[4] for r in rows[1:]} == {"参保后新纳入"} and all("*" in r[0] for r in rows[1:])
    response = client.get(f"/api/coverage/{XUPU}/not-eligible.xlsx", params={"on": ANSWERS["on"]}, headers=headers)
    assert response.status_code == 200 and len(response.content) > 0


def test_a_county_cannot_read_another_countys_figures_lists_or_exports(client: TestClient, story: Story) -> None:
    headers = bearer(client, "xupu")
    for path in ("", "/uncovered", "/not-eligible", "/uncovered.xlsx", "/not-eligible.xlsx"):
        for code in (OTHER, f"{OTHER}000000", "430000000000"):
            response = client.get(f"/api/coverage/{code}{path}", headers=headers)
            assert response.status_code == 404, (code, path, response.text)
    handler = bearer(client, "handler")  # insurers see none of this (their own policies are on the policy pages)
    for path in ("", "/uncovered", "/uncovered.xlsx"):
        assert client.get(f"/api/coverage/{XUPU}{path}", headers=handler).status_code == 404


def test_the_page_shows_the_figures_children_by_rate_and_the_list(client: TestClient, story: Story) -> None:
    from tests.builders import login_page

    login_page(client, "province")
    page = client.get("/coverage/430000000000", params={"on": ANSWERS["on"], "sort": "rate"})
    assert page.status_code == 200
    assert f'data-figure="uncovered">{ANSWERS["province"]["uncovered"]}<' in page.text
    village = client.get(f"/api/coverage/{XUPU}", params={"on": ANSWERS["on"]}, headers=bearer(client, "province"))
    township = village.json()["children"][0]["code"]
    drill = client.get(f"/coverage/{township}", params={"on": ANSWERS["on"]})
    assert drill.status_code == 200 and "下级区划" in drill.text and "导出 XLSX" in drill.text
