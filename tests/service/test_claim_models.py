"""The claims tables on SQLite and PostgreSQL: a claim with its documents, history, checks, reviews, call-backs,
invoices and payments round-trips; claim and settlement numbers are unique; the version column refuses a stale
update; a settlement file is recorded once."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from claims.models import (
    CheckKind,
    CheckSeverity,
    Claim,
    ClaimCallback,
    ClaimCheck,
    ClaimCounter,
    ClaimDocument,
    ClaimEvent,
    ClaimInvoice,
    ClaimPayment,
    ClaimReview,
    PaymentKind,
    PaymentStatus,
    ReviewKind,
    ReviewOutcome,
    SettlementImport,
    SettlementImportIssue,
    claim_no_for,
)
from claims.reasons import ReasonCode
from claims.status import ClaimStatus, ClaimType
from core.db import new_session
from core.models import Role, User
from insurance.cover.models import Policy, PolicyStatus, Product, ProductKind, ProductUnit, ProductVersion
from insurance.register.models import Division, DivisionLevel, Household, Member, PovertyAttribute, Sex
from tests.builders import make_insurer, make_user

HUAYUAN = "433124"
VILLAGE = "433124100201"


@dataclass(frozen=True)
class Insured:
    """The least a claim refers to: an insurer's group policy in Huayuan, one household with one member, and the
    insurer's handler who files."""

    policy: Policy
    household: Household
    member: Member
    handler: User


def make_insured(session: Session) -> Insured:
    insurer = make_insurer(session)
    handler = make_user(session, Role.insurer_handler, username="handler", insurer=insurer)
    session.add(Division(code=VILLAGE, name="测试村", level=DivisionLevel.village, parent_code="433124000000"))
    session.add(Product(code="th_family", name="扶贫特惠保", kind=ProductKind.family, unit=ProductUnit.person))
    session.flush()
    version = ProductVersion(product_code="th_family", version=1, year_from=2026, premium_per_unit_fen=11_500)
    session.add(version)
    session.flush()
    policy = Policy(
        policy_no="PTH2026433124001",
        kind=ProductKind.family,
        insurer_id=insurer.id,
        product_code="th_family",
        product_version_id=version.id,
        county_code=HUAYUAN,
        year=2026,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        policyholder="花垣县乡村振兴局",
        status=PolicyStatus.issued,
        created_by="test",
    )
    household = Household(
        household_no="4331241002010001",
        village_code=VILLAGE,
        county_code=HUAYUAN,
        poverty_attribute=PovertyAttribute.ordinary,
        main_cause="1",
    )
    session.add_all([policy, household])
    session.flush()
    member = Member(
        id_number="433124198001010013",
        household_id=household.id,
        name="石𠮷堃",
        sex=Sex.male,
        birth_date=date(1980, 1, 1),
        relation="户主",
        ethnicity="苗族",
    )
    session.add(member)
    session.commit()
    return Insured(policy, household, member, handler)


def new_claim(insured: Insured, *, claim_no: str, settlement_no: str | None = None) -> Claim:
    return Claim(
        claim_no=claim_no,
        claim_type=ClaimType.supplementary_medical,
        insurer_id=insured.policy.insurer_id,
        county_code=HUAYUAN,
        policy_id=insured.policy.id,
        benefit_code="th_supp_medical",
        member_id=insured.member.id,
        household_id=insured.household.id,
        claimant_name="石𠮷堃",
        claimant_relation="本人",
        claimant_phone="13800000000",
        incident_date=date(2026, 3, 2),
        incident_place="花垣县人民医院",
        peril="hospitalisation",
        reported_on=date(2026, 3, 12),
        settlement_no=settlement_no,
        claimed_fen=1_234_567,
        filed_by=insured.handler.username,
        filed_by_user_id=insured.handler.id,
    )


@pytest.fixture
def insured(session: Session) -> Insured:
    return make_insured(session)


def test_a_claim_with_its_documents_history_and_checks_round_trips(engine: Engine, insured: Insured) -> None:
    facts = {"total_cost_fen": 1_234_567, "in_policy_fen": 1_000_000, "bmi_paid_fen": 600_000, "ci_paid_fen": 0}
    assessment = {
        "lines": [{"code": "claimed", "amount_fen": 400_000}, {"code": "payable", "amount_fen": 340_000}],
        "reasons": [ReasonCode.payable.value],
    }
    decided = datetime(2026, 3, 20, 2, 30, tzinfo=UTC)
    with new_session(engine) as session:
        claim = new_claim(insured, claim_no=claim_no_for(2026, HUAYUAN, 1), settlement_no="JS2026030200017")
        claim.facts = facts
        claim.main_diagnosis = "K35.8 急性阑尾炎"
        claim.status = ClaimStatus.approved
        claim.documents_complete_on = date(2026, 3, 15)
        claim.decision_due_on = date(2026, 4, 14)
        claim.payable_fen, claim.household_pays_fen, claim.assessment = 340_000, 294_567, assessment
        claim.decision_reason, claim.decided_at, claim.decided_by = ReasonCode.payable, decided, "supervisor"
        session.add(claim)
        session.flush()
        session.add_all(
            [
                ClaimDocument(
                    claim_id=claim.id,
                    code="settlement_sheet",
                    filename="结算单.pdf",
                    content_type="application/pdf",
                    size_bytes=2048,
                    sha256="ab" * 32,
                    store_key=f"claims/{claim.id}/{'ab' * 32}.pdf",
                    uploaded_by="handler",
                    uploaded_by_user_id=insured.handler.id,
                ),
                ClaimEvent(
                    claim_id=claim.id,
                    to_status=ClaimStatus.filed,
                    action="file",
                    version=1,
                    actor="handler",
                    actor_user_id=insured.handler.id,
                ),
                ClaimEvent(
                    claim_id=claim.id,
                    from_status=ClaimStatus.assessed,
                    to_status=ClaimStatus.approved,
                    action="approve",
                    reasons=[ReasonCode.payable.value, ReasonCode.late_report.value],
                    note="材料齐全，同意赔付",
                    version=4,
                    actor="supervisor",
                ),
                ClaimCheck(
                    claim_id=claim.id,
                    kind=CheckKind.same_member_peril_date,
                    severity=CheckSeverity.block,
                    message="同一人同一日期已有住院报案",
                    override_reason="两次住院，经电话核实",
                    overridden_by="supervisor",
                ),
                ClaimReview(claim_id=claim.id, kind=ReviewKind.random_sample, reason="random"),
                ClaimCallback(claim_id=claim.id, reached=True, household_said="确认住院 8 天", called_by="handler"),
                ClaimInvoice(claim_id=claim.id, invoice_no="43000123456", amount_fen=1_234_567),
                ClaimPayment(
                    claim_id=claim.id,
                    amount_fen=340_000,
                    payee_name="石𠮷堃",
                    account_masked="6217 **** **** 1234",
                    created_by="supervisor",
                ),
            ]
        )
        session.commit()
        claim_id = claim.id

    with new_session(engine) as session:
        found = session.get(Claim, claim_id)
        assert found is not None
        assert (found.claim_no, found.claim_type, found.status) == (
            "LP2026433124000001",
            ClaimType.supplementary_medical,
            ClaimStatus.approved,
        )
        assert (found.facts, found.assessment) == (facts, assessment)
        assert (found.payable_fen, found.household_pays_fen, found.claimed_fen) == (340_000, 294_567, 1_234_567)
        assert (found.incident_date, found.decision_due_on) == (date(2026, 3, 2), date(2026, 4, 14))
        assert found.decided_at == decided and found.decision_reason == ReasonCode.payable
        assert found.version == 1 and found.settlement_no == "JS2026030200017"
        events = session.exec(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id).order_by(ClaimEvent.id)).all()
        assert [(e.from_status, e.to_status, e.reasons) for e in events] == [
            (None, ClaimStatus.filed, []),
            (ClaimStatus.assessed, ClaimStatus.approved, ["payable", "late_report"]),
        ]
        document = session.exec(select(ClaimDocument).where(ClaimDocument.claim_id == claim_id)).one()
        assert (document.code, document.filename, document.removed_at) == ("settlement_sheet", "结算单.pdf", None)
        check = session.exec(select(ClaimCheck).where(ClaimCheck.claim_id == claim_id)).one()
        assert (check.kind, check.severity, check.override_reason) == (
            CheckKind.same_member_peril_date,
            CheckSeverity.block,
            "两次住院，经电话核实",
        )
        review = session.exec(select(ClaimReview).where(ClaimReview.claim_id == claim_id)).one()
        assert (review.kind, review.outcome) == (ReviewKind.random_sample, ReviewOutcome.pending)
        payment = session.exec(select(ClaimPayment).where(ClaimPayment.claim_id == claim_id)).one()
        assert (payment.kind, payment.status, payment.amount_fen) == (
            PaymentKind.final,
            PaymentStatus.pending,
            340_000,
        )
        assert session.exec(select(ClaimCallback.reached)).one() is True
        assert session.exec(select(ClaimInvoice.invoice_no)).one() == "43000123456"


def test_two_claims_cannot_share_a_claim_number(engine: Engine, insured: Insured) -> None:
    with new_session(engine) as session:
        session.add(new_claim(insured, claim_no="LP2026433124000001"))
        session.commit()
        session.add(new_claim(insured, claim_no="LP2026433124000001"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_settlement_number_is_claimed_once_while_any_number_of_claims_have_none(
    engine: Engine, insured: Insured
) -> None:
    with new_session(engine) as session:
        session.add_all([new_claim(insured, claim_no=claim_no_for(2026, HUAYUAN, n)) for n in (1, 2)])
        session.add(new_claim(insured, claim_no=claim_no_for(2026, HUAYUAN, 3), settlement_no="JS001"))
        session.commit()
        session.add(new_claim(insured, claim_no=claim_no_for(2026, HUAYUAN, 4), settlement_no="JS001"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_an_update_from_a_stale_version_is_refused_and_changes_nothing(engine: Engine, insured: Insured) -> None:
    assert "version" in {c["name"] for c in inspect(engine).get_columns("claim")}
    with new_session(engine) as session:
        claim = new_claim(insured, claim_no=claim_no_for(2026, HUAYUAN, 1))
        session.add(claim)
        session.commit()
        claim_id = claim.id
    first, second = new_session(engine), new_session(engine)
    try:
        mine, theirs = first.get(Claim, claim_id), second.get(Claim, claim_id)
        assert mine is not None and theirs is not None and mine.version == theirs.version == 1
        second.commit()  # ends its read (SQLite would refuse a write from a stale snapshot outright); keeps version 1
        mine.status = ClaimStatus.documents_complete
        first.add(mine)
        first.commit()
        assert mine.version == 2
        theirs.status = ClaimStatus.withdrawn
        second.add(theirs)
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    finally:
        first.close()
        second.close()
    with new_session(engine) as session:
        found = session.get(Claim, claim_id)
        assert found is not None and (found.status, found.version) == (ClaimStatus.documents_complete, 2)


def test_a_settlement_file_is_recorded_once(engine: Engine, insured: Insured) -> None:
    with new_session(engine) as session:
        record = SettlementImport(filename="结算单.csv", sha256="cd" * 32, actor="handler", payable_fen=12_345_678_901)
        session.add(record)
        session.flush()
        session.add(
            SettlementImportIssue(import_id=record.id, row=3, column="证件号码", code="id_invalid", message="x")
        )
        session.commit()
        assert session.get(SettlementImport, record.id).payable_fen == 12_345_678_901  # type: ignore[union-attr]
        session.add(SettlementImport(filename="again.csv", sha256="cd" * 32, actor="handler"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_the_claim_counter_keeps_a_sequence_per_county_and_year(engine: Engine) -> None:
    with new_session(engine) as session:
        session.add_all(
            [ClaimCounter(year=2026, county_code=HUAYUAN, last=41), ClaimCounter(year=2026, county_code="433122")]
        )
        session.commit()
        counter = session.get(ClaimCounter, (2026, HUAYUAN))
        assert counter is not None and claim_no_for(counter.year, counter.county_code, counter.last + 1) == (
            "LP2026433124000042"
        )


def test_a_claim_number_reads_as_year_county_and_sequence() -> None:
    assert claim_no_for(2026, "433124", 17) == "LP2026433124000017"
    assert len(claim_no_for(2026, "433124", 999_999)) == 18
