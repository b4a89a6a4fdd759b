"""What a person reads when input is wrong or a thing is missing: Chinese only, the field by its Chinese name, never
pydantic's English or a machine name (`household_no`); the API keeps `field` and `code` for machines.

None of this depends on the database engine, so it runs on SQLite only."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.models import Role
from tests.builders import bearer, login_page, make_user
from tests.cover_builders import HUAYUAN
from tests.pagetext import latin_words, visible_text

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_an_api_year_below_the_range_is_a_chinese_message_naming_the_year_and_keeps_the_machine_field(
    client: TestClient, session: Session
) -> None:
    make_user(session, Role.insurer_handler, username="handler")
    response = client.post(
        "/api/policies", headers=bearer(client, "handler"), json={"county_code": HUAYUAN, "year": 1999}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["field"], body["message"]) == ("invalid", "year", "年度：不能小于 2000")
    assert body["errors"] == [{"field": "year", "message": "年度：不能小于 2000", "type": "greater_than_equal"}]


@SQLITE_ONLY
def test_a_nested_api_error_names_the_object_and_its_field_in_chinese(client: TestClient, session: Session) -> None:
    make_user(session, Role.insurer_handler, username="handler")
    body = {"product_code": "agri_sow", "year": 2026, "objects": [{"household_no": "1", "quantity": "many"}]}
    response = client.post("/api/policies/industry", headers=bearer(client, "handler"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "objects.0.quantity"
    assert response.json()["message"] == "保险标的第 1 项的数量：须为数字"


@SQLITE_ONLY
def test_a_malformed_year_on_a_page_is_a_chinese_error_page(client: TestClient, session: Session) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    login_page(client, "huayuan")
    response = client.get("/policies?year=abc", headers={"Accept": "text/html"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    shown = visible_text(response.text)
    assert "年度：须为整数" in shown
    assert latin_words(response.text) == [], shown


@SQLITE_ONLY
def test_the_policy_form_shows_a_malformed_policy_number_or_year_in_chinese_in_the_form(
    client: TestClient, session: Session
) -> None:
    make_user(session, Role.insurer_handler, username="handler")
    login_page(client, "handler")
    form = {"county_code": HUAYUAN, "year": "2026", "product_code": "th_family", "policy_no": "AB C!"}
    for data, message in [
        (form, "保单号：只能由字母、数字和“-”组成"),
        ({**form, "policy_no": "", "year": "二〇二六"}, "年度：须为整数"),
    ]:
        response = client.post("/policies/new", data=data)
        assert response.status_code == 422
        shown = visible_text(response.text)
        assert message in shown and "创建保单" in shown, shown
        assert "Input should" not in shown and "policy_no" not in response.text.split('role="alert"')[1][:200]


@SQLITE_ONLY
def test_a_missing_household_page_does_not_show_the_field_name(client: TestClient, session: Session) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    login_page(client, "huayuan")
    response = client.get("/households/433124000000999", headers={"Accept": "text/html"})
    assert response.status_code == 404
    shown = visible_text(response.text)
    assert "户不存在或不在您的辖区内" in shown
    assert "household_no" not in response.text
    assert latin_words(response.text) == [], shown
