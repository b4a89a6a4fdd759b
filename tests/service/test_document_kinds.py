"""A new kind of document needs no change to core: the kinds claims will print (settlement notice, rejection notice,
payment advice) are registered here as stubs, asked for in a change's transaction by subject_id alone (no household,
no policy), dispatched, produced by the same function the worker's job runs, retried with back-off after a failure,
and read back as real PDFs. The stubs exist only in this test, never in the product."""

import io
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import documents, pdf
from core.documents import DocumentKindSpec, DocumentRequest, DocumentStatus, Printable
from core.settings import Settings
from core.storage import get_store

CLAIM_KINDS = {
    "claim_settlement_notice": "理赔结案通知书",
    "claim_rejection_notice": "拒赔通知书",
    "payment_advice": "赔款支付通知",
}


class StubClaims:
    """Stands in for claims' own tables: what each stub's prepare reads and finish writes, per subject id."""

    def __init__(self) -> None:
        self.printed: dict[int, str] = {}  # subject_id -> the key its finish recorded
        self.failures_left = 0


def _spec(kind: str, label: str, claims: StubClaims) -> DocumentKindSpec:
    def prepare(
        _session: Session, _settings: Settings, _key: Ed25519PrivateKey, request: DocumentRequest, today: date
    ) -> Printable:
        if claims.failures_left > 0:
            claims.failures_left -= 1
            raise RuntimeError("理赔数据暂不可读 (the claim could not be read)")
        html = (
            '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><body>'
            f"<h1>{label}</h1><p>赔案 {request.subject_id} 号，{today.isoformat()}</p></body></html>"
        )
        return Printable(request=request, html=html, key=f"claims/{kind}/{request.subject_id}.pdf", outcome=label)

    def finish(_session: Session, printable: Printable) -> None:
        claims.printed[printable.request.subject_id or 0] = printable.key or ""

    return DocumentKindSpec(kind, label, prepare, finish)


@pytest.fixture
def claims() -> Iterator[StubClaims]:
    stub = StubClaims()
    for kind, label in CLAIM_KINDS.items():
        documents.register_kind(_spec(kind, label, stub))
    yield stub
    for kind in CLAIM_KINDS:
        documents.unregister_kind(kind)


def _ask(engine: Engine, kind: str, subject_id: int) -> int:
    """What a claims use case does in its own transaction: one outbox row naming the claim, nothing else."""
    with engine.begin() as connection:
        return documents.request(connection, kind, "claim_decided", subject_id=subject_id)


def _row(engine: Engine, request_id: int) -> sa.Row:
    requests = DocumentRequest.__table__
    with engine.connect() as connection:
        return connection.execute(sa.select(requests).where(requests.c.id == request_id)).one()


def test_a_kind_registered_outside_core_is_asked_for_by_subject_printed_and_recorded(
    engine: Engine, settings: Settings, claims: StubClaims
) -> None:
    ids = {kind: _ask(engine, kind, 7000 + n) for n, kind in enumerate(CLAIM_KINDS)}
    for kind, request_id in ids.items():
        row = _row(engine, request_id)
        assert (row.kind, row.household_id, row.policy_id, row.status) == (kind, None, None, "pending")

        outcome = documents.produce(engine, settings, request_id, pdf.render_pdf_pages, "test-worker")

        row = _row(engine, request_id)
        assert row.status == DocumentStatus.done and row.pages == 1 and row.document_key == outcome["key"]
        text = PdfReader(io.BytesIO(get_store(settings).get(row.document_key))).pages[0].extract_text()
        assert CLAIM_KINDS[kind] in text and f"赔案 {row.subject_id} 号" in text
        assert claims.printed[row.subject_id] == row.document_key
        assert documents.kind_label(kind) == CLAIM_KINDS[kind]


def test_a_second_delivery_of_a_done_stub_does_nothing(engine: Engine, settings: Settings, claims: StubClaims) -> None:
    request_id = _ask(engine, "payment_advice", 42)
    documents.produce(engine, settings, request_id, pdf.render_pdf_pages, "test-worker")
    again = documents.produce(engine, settings, request_id, pdf.render_pdf_pages, "test-worker")
    assert again == {"request_id": request_id, "skipped": True}
    assert _row(engine, request_id).attempts == 1


def test_a_failing_stub_is_retried_after_its_back_off_and_then_printed(
    engine: Engine, settings: Settings, claims: StubClaims
) -> None:
    claims.failures_left = 1
    request_id = _ask(engine, "claim_rejection_notice", 9)
    with pytest.raises(RuntimeError):
        documents.produce(engine, settings, request_id, pdf.render_pdf_pages, "test-worker")
    failed = _row(engine, request_id)
    assert failed.status == "failed" and "理赔数据暂不可读" in failed.error and failed.next_attempt_at is not None
    assert claims.printed == {}

    documents.produce(engine, settings, request_id, pdf.render_pdf_pages, "test-worker")
    done = _row(engine, request_id)
    assert (done.status, done.attempts, done.error) == ("done", 2, None)
    assert claims.printed == {9: done.document_key}


def test_dispatch_sends_only_the_rows_that_match_and_marks_them_queued(
    engine: Engine, settings: Settings, claims: StubClaims
) -> None:
    first, second = _ask(engine, "claim_settlement_notice", 1), _ask(engine, "claim_settlement_notice", 2)
    assert documents.dispatch(engine, settings, subject_id=2) == 1
    assert (_row(engine, first).status, _row(engine, second).status) == ("pending", "queued")


def test_a_kind_nobody_registered_fails_loudly_and_waits_for_its_retry(engine: Engine, settings: Settings) -> None:
    request_id = _ask(engine, "claim_settlement_notice", 3)  # claims' kinds are not registered in the product
    with pytest.raises(ValueError, match="unknown document kind"):
        documents.produce(engine, settings, request_id, pdf.render_pdf_pages, "test-worker")
    assert _row(engine, request_id).status == "failed"


def test_registering_another_kind_under_a_taken_name_is_refused(claims: StubClaims) -> None:
    other = DocumentKindSpec("payment_advice", "别的", lambda *_: None)  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="already registered"):
        documents.register_kind(other)
