"""Enrolment notices and their objections over HTTP, on real SQLite and PostgreSQL: the API and the policy page's
notice form refuse a posting date that would skip or shorten the objection window, and the notice page records,
shows and resolves objections in Chinese."""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import local_today
from core.queue import get_queue, redis_from_url
from core.settings import Settings
from insurance.cover.models import Policy
from tests.builders import bearer, login_page
from tests.cover_builders import (
    VILLAGE_CODE,
    Cast,
    Register,
    audit_rows,
    enrol,
    fetch,
    make_cast,
    make_group_policy,
    make_register,
)


@pytest.fixture(autouse=True)
def empty_queue(settings: Settings) -> Iterator[None]:
    """The notices' documents are queued on commit; none may reach another test's worker."""
    yield
    get_queue(redis_from_url(settings.redis_url), settings.queue_name).empty()


@pytest.fixture
def enrolled(engine: Engine, session: Session, tmp_path: Path) -> tuple[Cast, Register, Policy]:
    """A draft Huayuan policy whose county was enrolled (in December of the year before), from a small register."""
    cast = make_cast(session)
    register = make_register(engine, tmp_path, members=80)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    return cast, register, policy


def notice_count(engine: Engine) -> int:
    return len(fetch(engine, "SELECT id FROM enrolment_notice"))


def error_text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, f"no #{element_id} in the page"
    return found.group(1)


# --- the API -------------------------------------------------------------------------------------------------------


def test_the_api_refuses_a_future_posting_date_and_a_late_one_without_a_reason_by_the_configured_days(
    client: TestClient, engine: Engine, settings: Settings, enrolled: tuple[Cast, Register, Policy]
) -> None:
    _, register, policy = enrolled
    county = bearer(client, "huayuan")
    village = register.eligible_rows[0][VILLAGE_CODE]
    url = f"/api/policies/{policy.policy_no}/notices"
    today = local_today()

    future = client.post(url, headers=county, json={"village_code": village, "posted_on": "2030-01-01"})
    assert future.status_code == 422, future.text
    assert (future.json()["code"], future.json()["field"]) == ("posted_in_future", "posted_on")
    assert future.json()["message"] == f"张贴日期不能晚于今天（{today}）"

    settings.notice_late_days = 10  # the app reads the setting at each request
    eleven_back = {"village_code": village, "posted_on": str(today - timedelta(days=11))}
    late = client.post(url, headers=county, json=eleven_back)
    assert late.status_code == 422, late.text
    assert (late.json()["code"], late.json()["field"]) == ("late_reason_required", "late_reason")
    assert notice_count(engine) == 0

    ten_back = client.post(url, headers=county, json={**eleven_back, "posted_on": str(today - timedelta(days=10))})
    assert ten_back.status_code == 201 and ten_back.json()["late_reason"] is None, ten_back.text
    with_reason = client.post(url, headers=county, json={**eleven_back, "late_reason": "乡镇汇总后补录"})
    assert with_reason.status_code == 201, with_reason.text
    assert with_reason.json()["late_reason"] == "乡镇汇总后补录"
    (entry,) = audit_rows(engine, "post_notice_late", "enrolment_notice")
    assert (entry["after"]["days_late"], entry["after"]["late_reason"]) == (11, "乡镇汇总后补录")


# --- the policy page's notice form -----------------------------------------------------------------------------------


def test_the_notice_form_shows_a_future_date_refused_in_chinese_in_the_form_and_posts_nothing(
    client: TestClient, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    _, register, policy = enrolled
    login_page(client, "huayuan")
    village = register.eligible_rows[0][VILLAGE_CODE]
    tomorrow = str(local_today() + timedelta(days=1))
    response = client.post(
        f"/policies/{policy.policy_no}/notices", data={"village_code": village, "posted_on": tomorrow}
    )
    assert response.status_code == 422
    assert error_text(response.text, "notice-form-error") == f"张贴日期不能晚于今天（{local_today()}）"
    assert f'value="{tomorrow}"' in response.text  # what was typed stays in the form
    assert notice_count(engine) == 0

    bad = client.post(f"/policies/{policy.policy_no}/notices", data={"village_code": village, "posted_on": "明天"})
    assert (
        bad.status_code == 422
        and error_text(bad.text, "notice-form-error") == "公示张贴日期：须为日期，格式如 2026-01-31"
    )


def test_the_notice_form_asks_for_the_reason_of_a_late_recording_and_the_notice_page_shows_it(
    client: TestClient, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    _, register, policy = enrolled
    login_page(client, "huayuan")
    village = register.eligible_rows[0][VILLAGE_CODE]
    form = {"village_code": village, "posted_on": str(local_today() - timedelta(days=4))}
    refused = client.post(f"/policies/{policy.policy_no}/notices", data=form)
    assert refused.status_code == 422
    assert "逾期登记须填写原因" in error_text(refused.text, "notice-form-error")
    assert notice_count(engine) == 0

    posted = client.post(
        f"/policies/{policy.policy_no}/notices",
        data={**form, "late_reason": "雨雪天气未能及时报送"},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    page = client.get(f"/policies/{policy.policy_no}/notices/{village}")
    assert "逾期登记原因：雨雪天气未能及时报送" in page.text
