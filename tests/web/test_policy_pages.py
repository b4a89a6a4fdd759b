"""The policy pages do what the API does: an industry policy created with its insured objects through the form (its
refusals shown in Chinese with what was typed kept), its page, a cancellation with a required reason and what it
did, and the renewal of an issued group policy, all through the same use cases as the API."""

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import local_today
from core.queue import get_queue, redis_from_url
from core.settings import Settings
from insurance.cover import industry, lifecycle
from insurance.cover.models import Policy
from insurance.cover.schemas import IndustryPolicyCreate, InsuredObjectIn
from tests.builders import login_page
from tests.cover_builders import (
    HOUSEHOLD_NO,
    YEAR,
    Cast,
    Register,
    audit_rows,
    enrol,
    fetch,
    issue,
    make_cast,
    make_group_policy,
    make_register,
    post_all_notices,
    scalar,
)

EAR_TAGS = ("433124000100001", "433124000100002")


@pytest.fixture(autouse=True)
def empty_queue(settings: Settings) -> Iterator[None]:
    """A renewal queues its enrolment; none may reach another test's worker."""
    yield
    get_queue(redis_from_url(settings.redis_url), settings.queue_name).empty()


@pytest.fixture
def cast(session: Session) -> Cast:
    return make_cast(session)


@pytest.fixture
def register(engine: Engine, tmp_path: Path) -> Register:
    return make_register(engine, tmp_path, members=40)


def visible_text(html: str) -> str:
    """What a person reads: the page without its tags, scripts and styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def english_words(html: str) -> list[str]:
    """Raw codes or English left in the page's content (policy numbers like NY2026... and digits are neither); the
    header is left out, since the builders' users are named after their role codes."""
    main = re.search(r"<main>.*</main>", html, re.S)
    assert main is not None
    return re.findall(r"[A-Za-z_]{3,}", visible_text(main.group(0)))


def industry_form(household_no: str, **fields: Any) -> dict[str, Any]:
    rows = fields.pop("rows", [{"household_no": household_no, "quantity": "", "ear_tags": "\n".join(EAR_TAGS)}])
    return {
        "product_code": "agri_sow",
        "year": str(YEAR),
        **fields,
        "household_no": [r["household_no"] for r in rows],
        "quantity": [r["quantity"] for r in rows],
        "village_code": [r.get("village_code", "") for r in rows],
        "ear_tags": [r.get("ear_tags", "") for r in rows],
    }


def sow_policy(session: Session, cast: Cast, household_no: str, *, year: int = YEAR) -> Policy:
    """Two sows of one household on a draft industry policy, written through the service."""
    data = IndustryPolicyCreate(
        product_code="agri_sow",
        year=year,
        objects=[InsuredObjectIn(household_no=household_no, quantity=Decimal(2), ear_tags=list(EAR_TAGS))],
    )
    return industry.create_industry_policy(session, cast.handler, data)


# --- industry policies ------------------------------------------------------------------------------------------


def test_a_handler_creates_an_industry_policy_from_two_ear_tags_and_its_page_shows_the_objects_in_chinese(
    client: TestClient, cast: Cast, register: Register, engine: Engine
) -> None:
    household_no = register.rows[0][HOUSEHOLD_NO]
    login_page(client, "handler")
    form = client.get("/policies/industry/new")
    assert form.status_code == 200
    assert "能繁母猪" in form.text and "¥1,000.00/头" in form.text and "¥60.00/头" in form.text  # per-unit terms
    assert english_words(form.text) == []

    response = client.post("/policies/industry/new", data=industry_form(household_no), follow_redirects=False)

    assert response.status_code == 303, visible_text(response.text)
    policy_no = response.headers["location"].rsplit("/", 1)[-1]
    assert policy_no.startswith(f"NY{YEAR}433124")
    row = fetch(engine, "SELECT quantity, premium_fen, ear_tags FROM insured_object")
    assert [(Decimal(r[0]), r[1]) for r in row] == [(Decimal(2), 12_000)]  # two heads from two tags, ¥60 each
    page = client.get(f"/policies/{policy_no}")
    objects = visible_text(re.search(r'<table id="objects">.*?</table>', page.text, re.S).group(0))
    assert "能繁母猪" in objects and "2 头" in objects and "、".join(EAR_TAGS) in objects
    assert f"{YEAR}年" in objects and "保障中" in objects and "¥120.00" in objects
    assert "待出单（公示中）" in page.text and "疫病" in page.text  # status, and the product's perils
    assert english_words(page.text) == []
    listed = client.get("/policies")
    assert policy_no in listed.text and "产业保险" in listed.text


def test_a_refused_industry_form_says_why_in_chinese_at_its_row_and_keeps_what_was_typed(
    client: TestClient, cast: Cast, register: Register, engine: Engine
) -> None:
    first, second = list(register.households)[:2]
    login_page(client, "handler")
    cases = [
        (
            {"rows": [{"household_no": first, "quantity": "20"}, {"household_no": second, "quantity": "15"}]},
            "多户投保须由合作社统一投保",
            "cooperative_uscc",
        ),
        ({"rows": [{"household_no": first, "quantity": "2.5"}]}, "第 1 行：头数须为整数", 1),
        ({"rows": [{"household_no": first, "quantity": "-3"}]}, "第 1 行的数量：须大于 0", 1),
        (
            {
                "rows": [
                    {"household_no": "", "quantity": ""},
                    {"household_no": first, "quantity": "3", "ear_tags": "A1,A2"},
                ]
            },
            "第 2 行：耳标号 2 个，与投保头数 3 不符",
            2,
        ),
        (
            {"rows": [{"household_no": "4331249999999", "quantity": "3"}]},
            "第 1 行：户编号 4331249999999 不在建档立卡名册中",
            1,
        ),
        (
            {"policy_no": "保单一号", "rows": [{"household_no": first, "quantity": "3"}]},
            "保单号：只能由字母、数字和“-”组成",
            "policy_no",
        ),
    ]
    for fields, message, at in cases:
        response = client.post("/policies/industry/new", data=industry_form(first, season="2026", **fields))
        assert response.status_code in (409, 422), visible_text(response.text)
        alert = visible_text(re.search(r'<p class="error" role="alert".*?</p>', response.text, re.S).group(0))
        assert message in alert
        for row in fields["rows"]:
            assert f'value="{row["household_no"]}"' in response.text  # what was typed is kept
            assert f'value="{row["quantity"]}"' in response.text
        assert english_words(response.text) == []
        if isinstance(at, int):  # the row at fault is marked
            assert re.search(rf'<tr class="invalid">\s*<td>{at}</td>', response.text), message
        else:
            assert re.search(rf'id="{at}"[^>]*aria-invalid="true"', response.text), message
    assert scalar(engine, "SELECT COUNT(*) FROM policy") == 0


# --- cancellation -------------------------------------------------------------------------------------------------


def test_a_cancel_without_a_reason_is_refused_in_chinese_and_a_handler_may_not_cancel(
    client: TestClient, session: Session, cast: Cast, register: Register, engine: Engine
) -> None:
    policy_no = sow_policy(session, cast, register.rows[0][HOUSEHOLD_NO]).policy_no
    login_page(client, "handler")
    assert 'id="cancel-form"' not in client.get(f"/policies/{policy_no}").text
    refused = client.post(f"/policies/{policy_no}/cancel", data={"reason": "重复投保", "confirm": "1"})
    assert refused.status_code == 403 and "只有保险公司主管可以执行此操作" in refused.text

    login_page(client, "supervisor")
    for data, message in [
        ({"reason": " ", "confirm": "1"}, "请填写撤销原因（至少 2 个字）"),
        ({"reason": "重复投保"}, "请勾选“确认撤销”后再提交"),
    ]:
        response = client.post(f"/policies/{policy_no}/cancel", data=data)
        assert response.status_code == 422 and message in visible_text(response.text)
        assert english_words(response.text) == []
    assert "重复投保</textarea>" in response.text  # the reason typed is kept
    assert scalar(engine, "SELECT status FROM policy") == "draft"


def test_a_supervisor_cancels_a_draft_industry_policy_with_a_reason_and_sees_its_objects_voided(
    client: TestClient, session: Session, cast: Cast, register: Register, engine: Engine
) -> None:
    policy_no = sow_policy(session, cast, register.rows[0][HOUSEHOLD_NO]).policy_no
    login_page(client, "supervisor")
    reason = "农户退保，标的未交付"

    response = client.post(f"/policies/{policy_no}/cancel", data={"reason": reason, "confirm": "1"})

    assert response.status_code == 200 and response.url.path == f"/policies/{policy_no}"
    summary = visible_text(re.search(r'<table id="cancellation-summary".*?</table>', response.text, re.S).group(0))
    assert reason in summary and "自始无效（已撤销）：1 项标的" in summary and "无需重新出具" in summary
    assert "已撤销" in visible_text(response.text) and "保单已撤销" in visible_text(response.text)  # end reason
    assert english_words(response.text) == []
    assert 'id="cancel-form"' not in response.text
    assert [a["after"]["reason"] for a in audit_rows(engine, "cancel", "policy", policy_no)] == [reason]


def test_cancelling_an_issued_industry_policy_ends_its_cover_today_and_reissues_the_certificate(
    client: TestClient, session: Session, cast: Cast, register: Register, engine: Engine
) -> None:
    today = local_today()
    policy = sow_policy(session, cast, register.rows[0][HOUSEHOLD_NO], year=today.year)
    post_all_notices(session, cast.supervisor, policy, posted_on=date(today.year, 1, 1))
    lifecycle.issue_policy(session, cast.supervisor, policy.policy_no, date(today.year, 1, 1) + timedelta(days=8))
    login_page(client, "supervisor")
    page = client.get(f"/policies/{policy.policy_no}")
    assert "保障于今日终止，并为 1 户重新出具保险凭证" in visible_text(page.text)

    response = client.post(f"/policies/{policy.policy_no}/cancel", data={"reason": "养殖场关停", "confirm": "1"})

    summary = visible_text(re.search(r'<table id="cancellation-summary".*?</table>', response.text, re.S).group(0))
    assert "于撤销当日终止：1 项标的" in summary and "已为 1 户重新出具保险凭证" in summary
    rows = fetch(engine, "SELECT status, cover_end FROM insured_object")
    assert [(status, str(end)[:10]) for status, end in rows] == [("ended", today.isoformat())]


# --- renewal ---------------------------------------------------------------------------------------------------------


def test_a_handler_renews_an_issued_group_policy_from_its_page_and_lands_on_the_new_draft(
    client: TestClient, session: Session, cast: Cast, register: Register, engine: Engine
) -> None:
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    old_no = issue(session, cast, policy).policy_no
    login_page(client, "handler")
    page = client.get(f"/policies/{old_no}")
    assert 'id="renew-form"' in page.text and f'value="{YEAR + 1}"' in page.text
    unconfirmed = client.post(f"/policies/{old_no}/renewal", data={"year": str(YEAR + 1)})
    assert unconfirmed.status_code == 422 and "请勾选“确认续保”后再提交" in visible_text(unconfirmed.text)

    response = client.post(f"/policies/{old_no}/renewal", data={"year": str(YEAR + 1), "confirm": "1"})

    assert response.status_code == 200, visible_text(response.text)
    new_no = response.url.path.rsplit("/", 1)[-1]
    assert new_no.startswith(f"TH{YEAR + 1}433124") and new_no != old_no
    assert f"续保自 {old_no}" in visible_text(response.text) and "待出单（公示中）" in response.text
    assert "排队中" in visible_text(response.text)  # its enrolment waits for the worker
    assert scalar(engine, "SELECT kind FROM enrolment ORDER BY id DESC LIMIT 1") == "renew"
    old_page = client.get(f"/policies/{old_no}")
    assert f"已续保为 {new_no}" in visible_text(old_page.text) and 'id="renew-form"' not in old_page.text
    # (the enrolment table names its actor, here the builders' `system:test`: not this page's words)
    assert english_words(re.sub(r'<table id="enrolments">.*?</table>', "", old_page.text, flags=re.S)) == []
    again = client.post(f"/policies/{old_no}/renewal", data={"year": str(YEAR + 1), "confirm": "1"})
    assert again.status_code == 409 and new_no in visible_text(again.text)
