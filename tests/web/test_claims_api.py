"""Claims through the HTTP API on SQLite and PostgreSQL: filing, documents, assessment, decisions with a second
approval, the 4xx that name their field, stale versions, two supervisors at once, and who sees which claim."""

import io
import struct
import threading
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfWriter
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claims import queries, workflow
from claims.checklist import checklist
from claims.errors import ClaimConflictError
from claims.status import ClaimType
from core.db import for_writing, local_today, new_session
from core.models import Role, User
from core.settings import Settings
from main import create_app
from tests.builders import bearer, make_user
from tests.cover_builders import audit_rows, coverage_rows, fetch, make_group_policy, make_other_insurer, scalar
from tests.document_builders import Issued, issued_policy

INCIDENT = min(date(2026, 6, 1), local_today() - timedelta(days=1))  # in the 2026 cover, past the waiting period


def small_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def small_png() -> bytes:
    """One red pixel: a real PNG (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = small_png()
PDF = small_pdf()


@dataclass
class World:
    issued: Issued
    client: TestClient
    handler: dict[str, str]
    supervisor: dict[str, str]
    supervisor2: dict[str, str]
    id_numbers: list[str]


def make_world(session: Session, engine: Engine, tmp_path: Path, client: TestClient) -> World:
    issued = issued_policy(session, engine, tmp_path, members=40)
    make_user(session, Role.insurer_supervisor, username="supervisor2", insurer=issued.cast.insurer)
    ids = sorted({r.id_number for r in coverage_rows(engine, issued.policy.policy_no) if r.status == "active"})
    return World(
        issued, client, bearer(client, "handler"), bearer(client, "supervisor"), bearer(client, "supervisor2"), ids
    )


@pytest.fixture
def world(session: Session, engine: Engine, tmp_path: Path, client: TestClient) -> World:
    return make_world(session, engine, tmp_path, client)


MEDICAL_FACTS = {"total_cost_fen": 1_200_000, "in_policy_fen": 1_000_000, "bmi_paid_fen": 600_000, "ci_paid_fen": 0}


def claim_body(world: World, claim_type: ClaimType, facts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "claim_type": claim_type.value,
        "id_number": world.id_numbers[0],
        "claimant_name": "申请人",
        "incident_date": INCIDENT.isoformat(),
        "incident_place": "花垣县人民医院",
        "facts": facts,
        **extra,
    }


def file(world: World, claim_type: ClaimType, facts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = world.client.post(
        "/api/claims", json=claim_body(world, claim_type, facts, **extra), headers=world.handler
    )
    assert response.status_code == 201, response.text
    return response.json()


def upload_all(world: World, claim: dict[str, Any]) -> None:
    """Every needed document: PDFs and, every other one, a PNG."""
    for index, item in enumerate(i for i in claim["checklist"] if i["needed"]):
        name, content, kind = ("scan.png", PNG, "image/png") if index % 2 else ("scan.pdf", PDF, "application/pdf")
        response = world.client.post(
            f"/api/claims/{claim['claim_no']}/documents",
            data={"code": item["code"]},
            files={"file": (name, content, kind)},
            headers=world.handler,
        )
        assert response.status_code == 201, response.text


def step(world: World, claim_no: str, path: str, headers: dict[str, str], **body: Any) -> Any:
    return world.client.post(f"/api/claims/{claim_no}/{path}", json=body, headers=headers)


def ready(world: World, claim_type: ClaimType, facts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Filed, every document uploaded, complete and assessed."""
    claim = file(world, claim_type, facts, **extra)
    upload_all(world, claim)
    no = claim["claim_no"]
    completed = step(world, no, "complete-documents", world.handler, version=claim["version"])
    assert completed.status_code == 200, completed.text
    assessed = step(world, no, "assess", world.handler, version=completed.json()["version"])
    assert assessed.status_code == 200, assessed.text
    return assessed.json()


def test_a_supplementary_medical_claim_goes_from_filing_to_approval(world: World, engine: Engine) -> None:
    claim = file(world, ClaimType.supplementary_medical, MEDICAL_FACTS, settlement_no="JS2026000001")
    no = claim["claim_no"]
    assert no.startswith("LP2026433124") and claim["status"] == "filed" and claim["claimed_fen"] == 1_200_000
    assert {i["code"] for i in claim["missing_documents"]} == {
        s.code for s in checklist(ClaimType.supplementary_medical)
    }
    early = step(world, no, "complete-documents", world.handler, version=claim["version"])
    assert early.status_code == 422 and early.json()["code"] == "documents_missing"

    upload_all(world, claim)
    listed = world.client.get(f"/api/claims/{no}/documents", headers=world.handler).json()
    assert {d["content_type"] for d in listed} == {"application/pdf", "image/png"}
    assert world.client.get(f"/api/claims/{no}", headers=world.handler).json()["missing_documents"] == []

    completed = step(world, no, "complete-documents", world.handler, version=claim["version"]).json()
    assert completed["status"] == "documents_complete" and completed["clocks"]["decision_due"]
    assessed = step(world, no, "assess", world.handler, version=completed["version"]).json()
    # domain.md §3.4: (in-policy 10,000 - BMI 6,000 - CI 0) x 85 % = 3,400 yuan; the lines add up to it
    assert assessed["payable_fen"] == 340_000 and assessed["household_pays_fen"] == 1_200_000 - 600_000 - 340_000
    lines = [(line["kind"], line["amount_fen"]) for line in assessed["explanation"]]
    assert lines == [("claimed", 1_200_000), ("excluded", -200_000), ("other_payer", -600_000), ("ratio", -60_000)]
    assert sum(amount for _, amount in lines) == 340_000 and assessed["reasons"][0] == "payable"

    approved = step(world, no, "decision", world.supervisor, version=assessed["version"], decision="approve").json()
    assert approved["status"] == "approved" and approved["payable_fen"] == 340_000
    assert approved["payment_due_on"] and approved["clocks"]["waiting_on"] == "insurer"
    history = world.client.get(f"/api/claims/{no}/events", headers=world.handler).json()
    assert [(e["from_status"], e["to_status"]) for e in history] == [
        (None, "filed"),
        ("filed", "documents_complete"),
        ("documents_complete", "assessed"),
        ("assessed", "approved"),
    ]
    assert [r["actor"] for r in audit_rows(engine, "approve", "claim", no)] == ["supervisor"]
    assert len(audit_rows(engine, "upload_document", "claim", no)) == len(listed)

    again = world.client.post(
        "/api/claims",
        json=claim_body(world, ClaimType.supplementary_medical, MEDICAL_FACTS, settlement_no="JS2026000001"),
        headers=world.handler,
    )
    assert again.status_code == 422 and again.json()["field"] == "settlement_no"


def test_a_disability_claim_above_the_threshold_needs_a_second_supervisor(
    session: Session, engine: Engine, tmp_path: Path, settings: Settings
) -> None:
    with TestClient(create_app(settings.model_copy(update={"claim_second_approval_yuan": 5000}), engine)) as client:
        world = make_world(session, engine, tmp_path, client)
        assessed = ready(world, ClaimType.accidental_disability, {"grades": [9, 8]})
        # the most severe grade 8 decides: 20,000 yuan x 30 % = 6,000 yuan, above the 5,000 yuan threshold
        assert assessed["payable_fen"] == 600_000
        no = assessed["claim_no"]
        first = step(world, no, "decision", world.supervisor, version=assessed["version"], decision="approve")
        assert first.status_code == 200 and first.json()["status"] == "awaiting_second_approval"
        assert first.json()["clocks"]["waiting_on"] == "second_approval"
        pending = first.json()["pending_decision"]
        assert (pending["decision"], pending["amount_fen"], pending["by"]) == ("approve", 600_000, "supervisor")
        assert scalar(engine, "SELECT pending_amount_fen FROM claim WHERE claim_no = :no", no=no) == 600_000

        same = step(world, no, "second-approval", world.supervisor, version=first.json()["version"], agree=True)
        assert same.status_code == 409 and same.json()["code"] == "same_person"
        handler = step(world, no, "second-approval", world.handler, version=first.json()["version"], agree=True)
        assert handler.status_code == 403
        confirmed = step(world, no, "second-approval", world.supervisor2, version=first.json()["version"], agree=True)
        assert confirmed.status_code == 200, confirmed.text
        body = confirmed.json()
        assert body["status"] == "approved" and body["payable_fen"] == 600_000
        assert body["decided_by"] == "supervisor" and body["second_approver"] == "supervisor2"
        assert body["pending_decision"] is None
        outcome = scalar(engine, "SELECT outcome FROM claim_review WHERE reason = 'above_approval_amount'")
        assert outcome == "agreed"


@pytest.mark.parametrize(
    ("claim_type", "facts", "extra", "field", "code"),
    [
        (ClaimType.supplementary_medical, MEDICAL_FACTS, {"incident_date": "2099-01-01"}, "incident_date", None),
        (
            ClaimType.supplementary_medical,
            {**MEDICAL_FACTS, "total_cost_fen": 1_200_000.5},
            {},
            "facts.total_cost_fen",
            "amount_invalid",
        ),
        (ClaimType.accidental_disability, {"grades": [11]}, {}, "facts.grades", "grade_invalid"),
        (ClaimType.accidental_disability, {"grades": [0]}, {}, "facts.grades", "grade_invalid"),
    ],
)
def test_bad_input_is_refused_naming_its_field(
    world: World, claim_type: ClaimType, facts: dict[str, Any], extra: dict[str, Any], field: str, code: str | None
) -> None:
    body = claim_body(world, claim_type, facts)
    body.update(extra)
    if body["incident_date"] == "2099-01-01":
        body["incident_date"] = (local_today() + timedelta(days=1)).isoformat()
    response = world.client.post("/api/claims", json=body, headers=world.handler)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    if code:
        assert response.json()["code"] == code


def test_an_upload_whose_content_is_not_its_declared_type_is_refused(world: World) -> None:
    claim = file(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    response = world.client.post(
        f"/api/claims/{claim['claim_no']}/documents",
        data={"code": "invoices"},
        files={"file": ("invoice.pdf", PNG, "application/pdf")},
        headers=world.handler,
    )
    assert response.status_code == 422 and response.json()["field"] == "file"
    assert response.json()["code"] == "upload_type_mismatch"


def writer(engine: Engine) -> Session:
    """A session of its own that begins as a writer (SQLite: BEGIN IMMEDIATE), for the builders run mid-test."""
    return new_session(for_writing(engine))


def test_another_insurers_handler_finds_no_member_then_no_cover(world: World, engine: Engine) -> None:
    with writer(engine) as session:
        other = make_other_insurer(session)
    headers = bearer(world.client, "handler-b")
    body = claim_body(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    absent = world.client.post("/api/claims", json=body, headers=headers)
    assert absent.status_code == 404  # no policy of B in the county: the member is outside B's register
    with writer(engine) as session:
        make_group_policy(session, other.handler, year=2027)
    uncovered = world.client.post("/api/claims", json=body, headers=headers)
    assert uncovered.status_code == 422 and uncovered.json()["code"] == "member_not_covered"
    assert uncovered.json()["field"] == "id_number"


def test_a_stale_version_is_refused_and_changes_nothing(world: World, engine: Engine) -> None:
    assessed = ready(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    no = assessed["claim_no"]
    stale = step(world, no, "decision", world.supervisor, version=assessed["version"] - 1, decision="approve")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    after = world.client.get(f"/api/claims/{no}", headers=world.handler).json()
    assert (after["status"], after["version"]) == ("assessed", assessed["version"])
    assert audit_rows(engine, "approve", "claim", no) == []


def test_the_filing_checks_block_a_second_claim_until_a_supervisor_overrides(world: World, engine: Engine) -> None:
    file(world, ClaimType.supplementary_medical, MEDICAL_FACTS, invoice_nos=["FP001"])
    second = file(world, ClaimType.supplementary_medical, MEDICAL_FACTS, invoice_nos=["FP001"])
    kinds = {c["kind"]: c for c in second["checks"]}
    assert kinds.keys() == {"duplicate_invoice", "same_member_peril_date"}
    upload_all(world, second)
    no = second["claim_no"]
    blocked = step(world, no, "complete-documents", world.handler, version=second["version"])
    assert blocked.status_code == 409 and blocked.json()["code"] == "check_blocked"
    for check in second["checks"]:
        path = f"checks/{check['id']}/override"
        assert step(world, no, path, world.handler, reason="同一发票").status_code == 403
        assert step(world, no, path, world.supervisor, reason="经核实为不同住院").status_code == 200
    assert step(world, no, "complete-documents", world.handler, version=second["version"]).status_code == 200
    assert len(fetch(engine, "SELECT id FROM audit_log WHERE action = 'override_check'")) == 2


def test_who_sees_which_claim(world: World, engine: Engine) -> None:
    claim = file(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    no = claim["claim_no"]
    with writer(engine) as session:
        make_other_insurer(session)
    county, province, admin = (bearer(world.client, u) for u in ("huayuan", "province", "admin"))
    other = bearer(world.client, "handler-b")
    assert world.client.get(f"/api/claims/{no}", headers=other).status_code == 404
    assert world.client.get("/api/claims", headers=other).json() == {"data": [], "count": 0}
    assert world.client.get(f"/api/claims/{no}", headers=admin).status_code == 404
    assert world.client.get("/api/claims", headers=admin).json()["count"] == 0
    assert world.client.get(f"/api/claims/{no}", headers=county).status_code == 200
    assert world.client.get("/api/claims", headers=province).json()["count"] == 1
    refused = step(world, no, "withdraw", county, version=claim["version"])
    assert refused.status_code == 403
    mine = world.client.get("/api/claims?mine=true&status=filed", headers=world.handler).json()
    assert [c["claim_no"] for c in mine["data"]] == [no]
    callback = world.client.post(
        f"/api/claims/{no}/callbacks", json={"reached": True, "household_said": "确认住院"}, headers=world.handler
    )
    assert callback.status_code == 201


# A race of two transactions needs two writers at once: PostgreSQL only (SQLite's writers begin IMMEDIATE, in turn).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_supervisors_deciding_one_claim_at_once_one_wins(world: World) -> None:
    assessed = ready(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    no, version = assessed["claim_no"], assessed["version"]
    barrier = threading.Barrier(2)
    results: list[int] = []

    def decide(headers: dict[str, str], decision: str) -> None:
        barrier.wait()
        body = {"version": version, "decision": decision}
        if decision == "reject":
            body["reason"] = "other"
        results.append(world.client.post(f"/api/claims/{no}/decision", json=body, headers=headers).status_code)

    threads = [
        threading.Thread(target=decide, args=(world.supervisor, "approve")),
        threading.Thread(target=decide, args=(world.supervisor2, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    final = world.client.get(f"/api/claims/{no}", headers=world.handler).json()
    assert final["version"] == version + 1 and final["status"] in ("approved", "rejected")


def test_return_lists_everything_missing_then_resubmit_withdraw_and_reopen(world: World) -> None:
    claim = file(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    no = claim["claim_no"]
    returned = step(world, no, "return", world.handler, version=claim["version"], reasons=["documents_missing"])
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    note = world.client.get(f"/api/claims/{no}/events", headers=world.handler).json()[-1]["note"]
    assert all(item["label"] in note for item in claim["missing_documents"])  # Art. 22: all of them at once
    resubmitted = step(world, no, "resubmit", world.handler, version=returned.json()["version"]).json()
    withdrawn = step(world, no, "withdraw", world.handler, version=resubmitted["version"]).json()
    assert withdrawn["status"] == "withdrawn"
    no_reason = step(world, no, "reopen", world.supervisor, version=withdrawn["version"])
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "note"
    reopened = step(world, no, "reopen", world.supervisor, version=withdrawn["version"], note="农户要求继续理赔")
    assert reopened.status_code == 200 and reopened.json()["status"] == "filed"


def test_an_incident_outside_every_cover_period_is_blocked_at_filing(world: World) -> None:
    claim = file(world, ClaimType.accidental_medical, {"medical_cost_fen": 50_000}, incident_date="2025-06-01")
    assert [(c["kind"], c["severity"]) for c in claim["checks"]] == [("outside_cover_period", "block")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_lost_race_at_commit_is_a_stale_version_and_rolls_back(world: World, engine: Engine) -> None:
    """The version counter's side of the race: a transaction that loaded the claim before another committed a change
    finds no row to update and answers 409 (SQLite never gets here: its writers begin IMMEDIATE, one at a time)."""
    claim = file(world, ClaimType.supplementary_medical, MEDICAL_FACTS)
    with new_session(engine) as late:
        supervisor = late.exec(select(User).where(User.username == "supervisor")).one()
        loaded = queries.get_claim(late, supervisor, claim["claim_no"])
        won = step(world, claim["claim_no"], "withdraw", world.handler, version=claim["version"])
        assert won.status_code == 200
        loaded.claimant_name = "改名"
        late.add(loaded)
        with pytest.raises(ClaimConflictError) as raised:
            workflow.commit(late)
        assert raised.value.code == "stale_version"
    after = world.client.get(f"/api/claims/{claim['claim_no']}", headers=world.handler).json()
    assert after["claimant_name"] == "申请人" and after["status"] == "withdrawn"


def test_each_step_answers_the_claim_as_a_fresh_read_shows_it(world: World) -> None:
    """A step answers from the claim its use case committed (no second read): the same body a GET returns after."""
    claim = file(world, ClaimType.accidental_medical, {"medical_cost_fen": 30_000})
    no = claim["claim_no"]
    assert claim == world.client.get(f"/api/claims/{no}", headers=world.handler).json()
    upload_all(world, claim)
    completed = step(world, no, "complete-documents", world.handler, version=claim["version"]).json()
    assert completed == world.client.get(f"/api/claims/{no}", headers=world.handler).json()
    assessed = step(world, no, "assess", world.handler, version=completed["version"]).json()
    assert assessed == world.client.get(f"/api/claims/{no}", headers=world.handler).json()
    decided = step(world, no, "decision", world.supervisor, version=assessed["version"], decision="approve").json()
    assert decided["status"] == "approved" and decided["version"] == assessed["version"] + 1
    assert decided == world.client.get(f"/api/claims/{no}", headers=world.handler).json()


def test_the_same_scan_sent_for_two_documents_is_stored_once(world: World, settings: Settings) -> None:
    claim = file(world, ClaimType.accidental_medical, {"medical_cost_fen": 30_000})
    no = claim["claim_no"]
    for code in ("claim_form", "claimant_id"):
        sent = world.client.post(
            f"/api/claims/{no}/documents",
            data={"code": code},
            files={"file": ("scan.pdf", PDF, "application/pdf")},
            headers=world.handler,
        )
        assert sent.status_code == 201, sent.text
    documents = world.client.get(f"/api/claims/{no}/documents", headers=world.handler).json()
    assert [d["code"] for d in documents] == ["claim_form", "claimant_id"]
    assert len({d["sha256"] for d in documents}) == 1
    folder = next((settings.effective_documents_dir / "claims").iterdir())
    assert [p.read_bytes() for p in folder.iterdir()] == [PDF]  # one file, no temporary left behind


def _statements_after_commit(engine: Engine, send: Any) -> tuple[list[str], list[str]]:
    """The SQL a request sends to the database, split at its (first) commit: (before, after)."""
    sent: list[str] = []
    committed: list[int] = []

    def on_execute(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE (PostgreSQL's is the driver's own)
            sent.append(" ".join(args[2].split()[:4]))

    def on_commit(*_args: Any) -> None:
        committed.append(len(sent))

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        send()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
    cut = committed[0] if committed else len(sent)
    return sent[:cut], sent[cut:]


def test_a_claim_step_reads_after_its_commit_only_what_its_answer_still_lacks(world: World, engine: Engine) -> None:
    """A step's answer lists the claim's documents and checks: what its use case read or wrote is not read again
    after the commit (filing wrote the checks, completing read both), and an upload, most of a claim's requests,
    sends the token's lookup, the claim's, its row and its audit record, nothing more."""
    body = claim_body(world, ClaimType.accidental_medical, {"medical_cost_fen": 30_000})
    answers: dict[str, Any] = {}

    def post(name: str, path: str, headers: dict[str, str], **kw: Any) -> None:
        answers[name] = world.client.post(path, headers=headers, **kw)

    _, after_filing = _statements_after_commit(engine, lambda: post("file", "/api/claims", world.handler, json=body))
    claim = answers["file"].json()
    no = claim["claim_no"]
    needed = [i["code"] for i in claim["checklist"] if i["needed"]]
    uploads = [
        _statements_after_commit(
            engine,
            lambda code=code: post(
                "upload",
                f"/api/claims/{no}/documents",
                world.handler,
                data={"code": code},
                files={"file": ("scan.pdf", PDF, "application/pdf")},
            ),
        )
        for code in needed
    ]
    _, after_completing = _statements_after_commit(
        engine,
        lambda: post("complete", f"/api/claims/{no}/complete-documents", world.handler, json={"version": 1}),
    )
    version = answers["complete"].json()["version"]
    _, after_assessing = _statements_after_commit(
        engine, lambda: post("assess", f"/api/claims/{no}/assess", world.handler, json={"version": version})
    )

    assert answers["assess"].status_code == 200, answers["assess"].text
    assert after_filing == [] and after_completing == []
    assert [len(before) for before, _ in uploads] == [4] * len(needed) and all(not a for _, a in uploads)
    assert [s.split()[1] for s in after_assessing] == ["claim_document.code", "claim_check.id,"]
