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
    HOUSEHOLD_NO,
    ID_NUMBER,
    VILLAGE_CODE,
    Cast,
    Register,
    RosterRow,
    audit_rows,
    enrol,
    fetch,
    make_cast,
    make_group_policy,
    make_register,
    post_all_notices,
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


# --- objections on the notice page ---------------------------------------------------------------------------------


def posted(session: Session, cast: Cast, policy: Policy, register: Register) -> tuple[str, list[RosterRow]]:
    """The notice posted today in the village of the first household of three; that village and household."""
    household = register.household_of_size(3)
    post_all_notices(session, cast.county, policy, posted_on=local_today())
    return household[0][VILLAGE_CODE], household


def member_named(engine: Engine, row: RosterRow) -> tuple[int, str]:
    (found,) = fetch(engine, "SELECT id, name FROM member WHERE id_number = :n", n=row[ID_NUMBER])
    return found[0], found[1]


def objection_cells(html: str, status: str) -> list[str]:
    """The text of each cell of the (one) objection row of that status on the notice page."""
    row = re.search(rf'<tr id="objection-\d+" data-status="{status}">(.*?)</tr>', html, re.S)
    assert row, f"no {status} objection on the page"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]


def objection_rows(engine: Engine) -> list[tuple[str, str, str | None]]:
    return [tuple(r) for r in fetch(engine, "SELECT status, reason, resolution FROM notice_objection ORDER BY id")]


def test_a_clerk_records_an_objection_on_the_notice_page_and_sees_it_listed_in_chinese(
    client: TestClient, session: Session, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    cast, register, policy = enrolled
    village, household = posted(session, cast, policy, register)
    member, name = member_named(engine, household[1])
    login_page(client, "huayuan")
    url = f"/policies/{policy.policy_no}/notices/{village}"
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="objection-form"' in page.text and "/api/" not in page.text
    assert f'<option value="{member}">{name}</option>' in page.text  # members offered under their household

    recorded = client.post(
        f"{url}/objections",
        data={
            "household_no": household[0][HOUSEHOLD_NO],
            "member_id": str(member),
            "raised_by": "村民李某",
            "raised_on": str(local_today()),
            "reason": "该成员已在务工地参加同类保险",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303 and recorded.headers["location"] == f"{url}#objections", recorded.text
    cells = objection_cells(client.get(url).text, "open")
    assert cells[:6] == [
        f"{household[0][HOUSEHOLD_NO]} 户主 {member_named(engine, household[0])[1]}",
        name,
        "村民李某",
        str(local_today()),
        "该成员已在务工地参加同类保险",
        "待处理",
    ]
    assert "提交处理意见" in cells[6]
    assert [a["after"]["raised_by"] for a in audit_rows(engine, "record_objection", "notice_objection")] == ["村民李某"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": "好"}, "原因：至少 2 个字符"),
        ({"raised_by": " "}, "异议提出人：必须填写"),
        ({"raised_on": "2020-01-01"}, "异议须在公示期内提出"),
        ({"raised_on": ""}, "异议提出日期：须为日期，格式如 2026-01-31"),
        ({"household_no": ""}, "户编号：必须填写"),
        ({"member_id": "other"}, "该成员不属于此户"),
    ],
    ids=["reason_too_short", "no_raised_by", "outside_window", "no_date", "no_household", "member_of_another"],
)
def test_a_refused_objection_comes_back_in_the_form_in_chinese_and_nothing_is_written(
    client: TestClient,
    session: Session,
    engine: Engine,
    enrolled: tuple[Cast, Register, Policy],
    change: dict[str, str],
    message: str,
) -> None:
    cast, register, policy = enrolled
    village, household = posted(session, cast, policy, register)
    other = next(r for r in register.eligible_rows if r[VILLAGE_CODE] == village and r[HOUSEHOLD_NO] != household[0][0])
    if change.get("member_id") == "other":
        change = {"member_id": str(member_named(engine, other)[0])}
    login_page(client, "huayuan")
    form = {
        "household_no": household[0][HOUSEHOLD_NO],
        "member_id": "",
        "raised_by": "村委会",
        "raised_on": str(local_today()),
        "reason": "该户已不符合条件",
        **change,
    }
    refused = client.post(f"/policies/{policy.policy_no}/notices/{village}/objections", data=form)
    assert refused.status_code == 422
    assert message in error_text(refused.text, "objection-form-error")
    assert "村委会" in refused.text or change.get("raised_by") == " "  # what was typed stays
    assert objection_rows(engine) == []


def test_an_open_objection_is_resolved_on_the_notice_page_upheld_or_dismissed(
    client: TestClient, session: Session, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    cast, register, policy = enrolled
    village, household = posted(session, cast, policy, register)
    login_page(client, "huayuan")
    url = f"/policies/{policy.policy_no}/notices/{village}"
    for reason in ("该户已脱贫不再符合条件", "该户家庭情况有误"):
        body = {"household_no": household[0][HOUSEHOLD_NO], "raised_by": "村民", "raised_on": str(local_today())}
        assert client.post(f"{url}/objections", data={**body, "reason": reason}).status_code == 200
    first, second = (r[0] for r in fetch(engine, "SELECT id FROM notice_objection ORDER BY id"))

    unchosen = client.post(f"{url}/objections/{first}/resolution", data={"resolution": "经核实不属实"})
    assert unchosen.status_code == 422 and "请选择异议是否成立" in unchosen.text
    assert 'value="经核实不属实"' in unchosen.text
    dismissed = client.post(
        f"{url}/objections/{first}/resolution",
        data={"outcome": "dismissed", "resolution": "经核实不属实"},
        follow_redirects=False,
    )
    assert dismissed.status_code == 303, dismissed.text
    again = client.post(f"{url}/objections/{first}/resolution", data={"outcome": "upheld", "resolution": "再议"})
    assert again.status_code == 409 and error_text(again.text, "objections-error") == "该异议已处理"

    upheld = client.post(f"{url}/objections/{second}/resolution", data={"outcome": "upheld", "resolution": "核实属实"})
    assert upheld.status_code == 200  # followed to the notice page
    assert objection_rows(engine) == [
        ("dismissed", "该户已脱贫不再符合条件", "经核实不属实"),
        ("upheld", "该户家庭情况有误", "核实属实"),
    ]
    assert objection_cells(upheld.text, "dismissed")[5:] == ["不成立", "经核实不属实"]
    assert objection_cells(upheld.text, "upheld")[5:] == ["成立", "核实属实"]
    assert "待处理" not in upheld.text and "提交处理意见" not in upheld.text
    lines = re.search(r'<table id="notice-lines">(.*?)</table>', upheld.text, re.S)
    assert lines and household[0][HOUSEHOLD_NO] not in lines.group(1)  # the upheld household left the list


def test_an_office_that_may_not_record_objections_sees_them_but_no_forms(
    client: TestClient, session: Session, engine: Engine, enrolled: tuple[Cast, Register, Policy]
) -> None:
    cast, register, policy = enrolled
    village, household = posted(session, cast, policy, register)
    login_page(client, "province")
    url = f"/policies/{policy.policy_no}/notices/{village}"
    page = client.get(url)
    assert page.status_code == 200 and "objection-form" not in page.text and "公示期内尚未收到异议" in page.text
    body = {"household_no": household[0][HOUSEHOLD_NO], "raised_by": "村民", "raised_on": str(local_today())}
    refused = client.post(f"{url}/objections", data={**body, "reason": "不符合条件"})
    assert refused.status_code == 403
    assert error_text(refused.text, "objections-error") == "只有保险公司或县扶贫办可以登记公示和异议"
    assert objection_rows(engine) == []
