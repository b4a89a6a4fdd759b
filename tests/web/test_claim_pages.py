"""The claims pages do what the API does: the work queues per role, the filing form (its refusal in Chinese inside
the form, what was typed kept), the claim page with the explanation line by line and every code as its Chinese
label, the steps as forms, the county office reading without action forms, and another insurer's claim a 404."""

import re
import threading
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claims.status import ClaimType
from core.settings import Settings
from main import create_app
from tests.builders import login_page
from tests.cover_builders import fetch, make_other_insurer
from tests.web.test_claims_api import MEDICAL_FACTS, PDF, PNG, World, file, make_world, ready, step, writer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ACTION_FORM = re.compile(r'<form method="post" action="/claims/')


@pytest.fixture
def world(session: Session, engine: Engine, tmp_path: Path, settings: Settings) -> Iterator[World]:
    """A threshold of 1,000 yuan, so the medical claim (3,400 yuan payable) waits for a second supervisor."""
    with TestClient(create_app(settings.model_copy(update={"claim_second_approval_yuan": 1000}), engine)) as client:
        yield make_world(session, engine, tmp_path, client)


def household_of(engine: Engine, id_number: str) -> tuple[str, int]:
    """(household number, member id) of a covered member, as the filing form's search finds and offers them."""
    row = fetch(
        engine,
        "SELECT h.household_no, m.id FROM member m JOIN household h ON h.id = m.household_id WHERE m.id_number = :n",
        n=id_number,
    )[0]
    return row[0], row[1]


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def section(html: str, queue: str) -> str:
    """The table of one work queue (or '' when the queue is empty)."""
    found = re.search(rf'<table class="queue" data-queue="{queue}">.*?</table>', html, re.S)
    return found.group(0) if found else ""


def test_the_work_queues_list_the_handlers_claims_and_the_approvals_waiting_for_a_supervisor(world: World) -> None:
    assessed = ready(world, ClaimType.supplementary_medical, MEDICAL_FACTS, settlement_no="JS2026000101")
    filed = file(world, ClaimType.accidental_medical, {"medical_cost_fen": 50_000}, id_number=world.id_numbers[1])
    returned = step(world, filed["claim_no"], "return", world.handler, version=filed["version"]).json()
    assert returned["status"] == "returned"

    login_page(world.client, "handler")
    page = world.client.get("/claims")
    assert page.status_code == 200
    assert assessed["claim_no"] in section(page.text, "mine") and filed["claim_no"] in section(page.text, "mine")
    assert filed["claim_no"] in section(page.text, "returned")
    assert assessed["claim_no"] not in section(page.text, "returned")
    assert "补充医疗" in page.text and "已退回补正" in page.text and "supplementary_medical" not in text_of(page.text)

    step(world, assessed["claim_no"], "decision", world.supervisor, version=assessed["version"], decision="approve")
    login_page(world.client, "supervisor")
    page = world.client.get("/claims")
    approvals = section(page.text, "approvals")
    assert assessed["claim_no"] in approvals and "待复核审批" in approvals and filed["claim_no"] not in approvals


def test_the_claim_page_shows_the_explanation_line_by_line_with_chinese_labels(world: World) -> None:
    assessed = ready(world, ClaimType.supplementary_medical, MEDICAL_FACTS, settlement_no="JS2026000102")
    login_page(world.client, "handler")
    page = world.client.get(f"/claims/{assessed['claim_no']}")
    assert page.status_code == 200
    explanation = re.search(r'<table id="explanation">.*?</table>', page.text, re.S)
    assert explanation is not None
    rows = re.findall(r'<tr data-kind="(\w+)"><td>(.*?)</td><td>(.*?)</td>', explanation.group(0))
    assert [(kind, amount) for kind, _, amount in rows] == [
        ("claimed", "¥12,000.00"),
        ("excluded", "-¥2,000.00"),
        ("other_payer", "-¥6,000.00"),
        ("ratio", "-¥600.00"),
    ]
    assert [line["label"] for line in assessed["explanation"]] == [unescape(label) for _, label, _ in rows]
    assert '<td data-testid="payable">¥3,400.00</td>' in page.text
    text = text_of(page.text)
    assert "已理算" in text and "医疗总费用" in text and "等待保险机构处理" in text and "可赔付" in text
    for code in ("supplementary_medical", "assessed", "hospitalisation", "total_cost_fen", "payable"):
        assert code not in text, code
    assert 'id="assess-form"' in page.text and 'id="decision-form"' not in page.text  # the handler does not decide


def test_the_filing_form_refuses_an_amount_with_three_decimals_in_chinese_and_keeps_what_was_typed(
    world: World, engine: Engine
) -> None:
    login_page(world.client, "handler")
    household_no, member = household_of(engine, world.id_numbers[2])
    form = {
        "household_no": household_no,
        "claim_type": "supplementary_medical",
        "member_id": str(member),
        "claimant_name": "申请人",
        "incident_date": "2026-06-01",
        "settlement_no": "JS2026000103",
        "total_cost_yuan": "12000.005",
        "in_policy_yuan": "10000",
        "bmi_paid_yuan": "6000",
    }
    refused = world.client.post("/claims/new", data=form)
    assert refused.status_code == 422
    assert "医疗总费用：金额须为不小于 0 的数字，最多两位小数（元）" in refused.text
    assert 'id="claim-form-error"' in refused.text and 'value="12000.005"' in refused.text
    assert 'value="supplementary_medical" selected' in refused.text
    assert f'<option value="{member}" selected>' in refused.text  # the member chosen stays chosen

    unchosen = world.client.post("/claims/new", data={"claim_type": "", "household_no": ""})
    assert unchosen.status_code == 422 and "请选择理赔类型" in unchosen.text  # shown with no household chosen too

    filed = world.client.post("/claims/new", data={**form, "total_cost_yuan": "12,000.00"}, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    claim_no = filed.headers["location"].rsplit("/", 1)[1]
    body = world.client.get(f"/api/claims/{claim_no}", headers=world.handler).json()
    assert body["facts"]["total_cost_fen"] == 1_200_000 and body["status"] == "filed"


def test_the_filing_form_finds_the_household_then_offers_its_members_with_masked_id_numbers(
    world: World, engine: Engine
) -> None:
    id_number = world.id_numbers[3]
    household_no, member = household_of(engine, id_number)
    login_page(world.client, "handler")
    first = world.client.get("/claims/new")
    assert first.status_code == 200 and 'id="household-search"' in first.text and 'id="claim-form"' not in first.text

    for term in (id_number[-6:], household_no):
        found = world.client.get("/claims/new", params={"q": term})
        assert found.status_code == 200
        results = re.search(r'<table id="household-results">.*?</table>', found.text, re.S)
        assert results is not None and household_no in results.group(0), term
        assert f'href="/claims/new?household={household_no}"' in results.group(0)
        assert id_number not in found.text  # the head's and the member's ID numbers only masked
    nothing = world.client.get("/claims/new", params={"q": "无此人"})
    assert 'id="household-none"' in nothing.text

    chosen = world.client.get("/claims/new", params={"household": household_no})
    assert chosen.status_code == 200 and 'id="claim-form"' in chosen.text
    options = dict(re.findall(r'<option value="(\d+)">([^<]+)</option>', chosen.text))
    assert str(member) in options and f"{id_number[:6]}*********{id_number[-3:]}" in options[str(member)]
    assert id_number not in chosen.text and "在册" in options[str(member)]

    form = {
        "household_no": household_no,
        "claim_type": "accidental_medical",
        "member_id": str(member),
        "claimant_name": "申请人",
        "incident_date": "2026-06-01",
        "medical_cost_yuan": "500",
    }
    filed = world.client.post("/claims/new", data=form, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    claim_no = filed.headers["location"].rsplit("/", 1)[1]
    body = world.client.get(f"/api/claims/{claim_no}", headers=world.handler).json()
    assert body["member_id"] == member

    unchosen = world.client.post("/claims/new", data={**form, "member_id": ""})
    assert unchosen.status_code == 422 and "请先查找参保户，再选择被保险人" in unchosen.text


def test_another_insurers_handler_finds_no_household_outside_its_counties(world: World, engine: Engine) -> None:
    with writer(engine) as session:
        make_other_insurer(session)  # no policy in the county: its handler sees none of the county's register
    household_no, _ = household_of(engine, world.id_numbers[0])
    login_page(world.client, "handler-b")
    found = world.client.get("/claims/new", params={"q": household_no})
    assert found.status_code == 200 and 'id="household-none"' in found.text and household_no in found.text
    chosen = world.client.get("/claims/new", params={"household": household_no})
    assert chosen.status_code == 404 and 'id="claim-form"' not in chosen.text
    assert "户不存在或不在您的辖区内" in chosen.text


def test_the_steps_as_forms_upload_complete_assess_decide_and_refuse_a_partial_amount_above_the_payable(
    world: World,
) -> None:
    claim = file(world, ClaimType.supplementary_medical, MEDICAL_FACTS, settlement_no="JS2026000104")
    no = claim["claim_no"]
    login_page(world.client, "handler")
    for index, item in enumerate(i for i in claim["checklist"] if i["needed"]):
        upload = ("scan.png", PNG, "image/png") if index % 2 else ("scan.pdf", PDF, "application/pdf")
        done = world.client.post(f"/claims/{no}/documents", data={"code": item["code"]}, files={"file": upload})
        assert done.status_code == 200 and "已上传" in done.text  # followed the 303 back to the claim page
    wrong = world.client.post(
        f"/claims/{no}/documents", data={"code": "invoices"}, files={"file": ("scan.pdf", PNG, "application/pdf")}
    )
    assert wrong.status_code == 422 and 'id="upload-form-error"' in wrong.text
    version = world.client.get(f"/api/claims/{no}", headers=world.handler).json()["version"]
    assert world.client.post(f"/claims/{no}/complete-documents", data={"version": version}).status_code == 200
    stale = world.client.post(f"/claims/{no}/assess", data={"version": version})
    assert stale.status_code == 409 and 'id="assess-form-error"' in stale.text
    world.client.post(f"/claims/{no}/assess", data={"version": version + 1})

    login_page(world.client, "supervisor")
    current = world.client.get(f"/api/claims/{no}", headers=world.supervisor).json()
    assert current["status"] == "assessed"
    too_much = world.client.post(
        f"/claims/{no}/decision",
        data={"version": current["version"], "decision": "approve_partly", "amount_yuan": "3400.01"},
    )
    assert too_much.status_code == 422 and 'id="decision-form-error"' in too_much.text
    assert "部分赔付金额须大于 0 且不超过核定赔付金额" in too_much.text and 'value="3400.01"' in too_much.text
    decided = world.client.post(
        f"/claims/{no}/decision",
        data={"version": current["version"], "decision": "approve_partly", "amount_yuan": "3000"},
    )
    assert decided.status_code == 200 and "待复核审批" in decided.text

    login_page(world.client, "supervisor2")
    waiting = world.client.get(f"/api/claims/{no}", headers=world.supervisor2).json()
    confirmed = world.client.post(f"/claims/{no}/second-approval", data={"version": waiting["version"], "agree": "1"})
    assert confirmed.status_code == 200
    final = world.client.get(f"/api/claims/{no}", headers=world.supervisor2).json()
    assert final["status"] == "partly_approved" and final["payable_fen"] == 300_000
    assert "部分赔付" in text_of(confirmed.text) and "复核 supervisor2" in confirmed.text


def test_the_county_office_reads_without_action_forms_and_another_insurer_gets_404(
    world: World, engine: Engine
) -> None:
    with writer(engine) as session:
        make_other_insurer(session)
    assessed = ready(world, ClaimType.supplementary_medical, MEDICAL_FACTS, settlement_no="JS2026000105")
    no = assessed["claim_no"]
    login_page(world.client, "huayuan")
    queue = world.client.get("/claims")
    assert no in section(queue.text, "all") and "本县理赔案件" in queue.text and "新建报案" not in queue.text
    page = world.client.get(f"/claims/{no}")
    assert page.status_code == 200 and "¥3,400.00" in page.text
    assert not ACTION_FORM.search(page.text)
    refused = world.client.post(f"/claims/{no}/assess", data={"version": assessed["version"]})
    assert refused.status_code == 403 and "只有保险公司经办人或主管可以办理理赔案件" in refused.text

    login_page(world.client, "handler-b")
    assert world.client.get(f"/claims/{no}").status_code == 404
    assert world.client.post(f"/claims/{no}/assess", data={"version": assessed["version"]}).status_code == 404
    assert no not in world.client.get("/claims").text


def test_the_step_forms_wait_on_the_database_in_the_thread_pool_not_on_the_event_loop(
    world: World, engine: Engine
) -> None:
    """The step routes are `async` to read their forms; their use case and the page they answer with run in the
    thread pool, so a step waiting on the database never holds up the event loop's other requests."""
    claim = file(world, ClaimType.accidental_medical, {"medical_cost_fen": 30_000})
    login_page(world.client, "handler")
    threads: list[str] = []

    def on_execute(*_args: object) -> None:
        threads.append(threading.current_thread().name)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        refused = world.client.post("/claims/new", data={"claim_type": "accidental_medical"})
        stale = world.client.post(f"/claims/{claim['claim_no']}/assess", data={"version": claim["version"] + 5})
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert refused.status_code == 422 and "请先查找参保户，再选择被保险人" in refused.text
    assert stale.status_code == 409
    assert threads and set(threads) == {"AnyIO worker thread"}
