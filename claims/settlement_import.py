"""Importing a one-stop settlement sheet (issue 14's contract): every row checked, the register's refusals added
(member_unknown, name_mismatch, duplicate_settlement against claims already imported), and every other row filed as a
supplementary-medical claim, documents complete (the sheet is the document) and assessed in row order, so an annual
limit counts the earlier rows of the same file. One transaction per file; a dry run rolls it back.

Decisions (documented for the office):
- Which members an insurer may import for: those on the register of a county where the insurer holds an issued
  policy (the register an insurer's staff may see). A valid ID number outside those counties is `member_unknown`,
  exactly as a number not on the register: an insurer learns nothing of other counties' registers.
- The claim's policy: the insurer's policy whose cover line of the member is in force on the admission date, else
  the member's latest line with the insurer, else the insurer's latest issued policy of the member's county. A stay
  the cover does not answer for is filed and assessed at 0 with `not_covered` or `waiting_period`, so the office sees
  the hospital stays of uncovered people.
- The same file again (same sha256) is run as a check only: every row already imported is refused as
  `duplicate_settlement`, nothing is written, and the outcome names the earlier import.
- Issue values are stored as settlement_checks masks them: the report never carries a full ID number.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claims.assessing import assessment_json, used_before
from claims.assessment import Benefit, MedicalFacts, assess, cover_from_answer
from claims.clocks import DECISION_DAYS
from claims.filing import next_claim_no
from claims.models import Claim, ClaimEvent, SettlementImport, SettlementImportIssue
from claims.risk import service as risk_service
from claims.settlement_checks import (
    DUPLICATE_SETTLEMENT,
    ERROR,
    MEMBER_UNKNOWN,
    NAME_MISMATCH,
    SettlementRow,
    SheetIssue,
    check_sheet,
    header_issues,
    shown,
)
from claims.settlement_sheet import SettlementSheet, open_settlement_sheet
from claims.status import INITIAL_STATUS, ClaimAction, ClaimType
from claims.workflow import transition
from core.audit import Actor
from core.db import utcnow
from insurance.cover import answers, eligibility
from insurance.cover.models import Coverage, CoverStatus, Policy, ProductBenefit, ProductVersion
from insurance.register.identifiers import masked
from insurance.register.models import Household, ImportStatus, Member

PERIL = "hospitalisation"
NOT_COVERED = "not_covered"  # a refusal only when the insurer's county policy has no hospitalisation benefit at all
PROGRESS_KEY = "settlement-import:{}:progress"
Progress = Callable[[int, int, int], None]  # rows read, bytes read, file size


@dataclass(frozen=True)
class SettlementOptions:
    """Who imports for which insurer, on which day; a dry run writes nothing."""

    insurer_id: int
    actor: Actor
    today: date
    filename: str
    dry_run: bool = False
    progress: Progress | None = None


@dataclass(frozen=True)
class ClaimCreated:
    """A claim made from a row, as the CLI's JSON and the report show it."""

    row: int
    settlement_no: str
    claim_no: str
    status: str
    payable_fen: int
    household_pays_fen: int
    reasons: list[str]


@dataclass
class SettlementOutcome:
    """What an import did (or, dry or repeated, would have done)."""

    import_id: int | None
    rows: int = 0
    accepted: int = 0
    refused: int = 0
    claims_created: int = 0
    payable_fen: int = 0
    household_pays_fen: int = 0
    dry_run: bool = False
    already_imported: int | None = None  # the earlier import of the same file: nothing was written
    file_format: str | None = None
    encoding: str | None = None
    extra_columns: list[str] = field(default_factory=list)
    issues: list[SheetIssue] = field(default_factory=list)  # the refusals and notes, file order
    claims: list[ClaimCreated] = field(default_factory=list)

    @property
    def errors(self) -> list[SheetIssue]:
        return [i for i in self.issues if i.kind == ERROR]

    def summary(self) -> dict[str, Any]:
        """The --json contract, and the API's counts."""
        return {
            "import_id": self.import_id,
            "rows": self.rows,
            "accepted": self.accepted,
            "refused": self.refused,
            "claims_created": self.claims_created,
            "payable_fen": self.payable_fen,
            "household_pays_fen": self.household_pays_fen,
            "dry_run": self.dry_run,
            "already_imported": self.already_imported,
            "format": self.file_format,
            "encoding": self.encoding,
            "extra_columns": self.extra_columns,
            "errors": [{"row": i.row, "column": i.column, "code": i.code, "message": i.message} for i in self.errors],
            "claims": [vars(c) for c in self.claims],
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Importer:
    """One file's rows against the register and the insurer's policies, in one session."""

    def __init__(self, session: Session, options: SettlementOptions) -> None:
        self.session = session
        self.options = options
        rows = session.exec(
            select(Policy).where(Policy.insurer_id == options.insurer_id, col(Policy.issued_at).is_not(None))
        ).all()
        self.policies = {p.id: p for p in rows}
        self.policy_nos = {p.policy_no for p in rows}
        self.counties = {p.county_code for p in rows}
        self._benefits: dict[int, tuple[Benefit, ProductBenefit] | None] = {}

    def _refusal(self, row: SettlementRow, key: str, column: str, code: str, message: str, value: str) -> SheetIssue:
        return SheetIssue(row.row, column, code, shown(message)[:480], value, ERROR, key)

    def _benefit(self, policy: Policy) -> tuple[Benefit, ProductBenefit] | None:
        """The policy's benefit naming hospitalisation, with its version's terms (cached per version)."""
        version_id = policy.product_version_id
        if version_id not in self._benefits:
            found = None
            for row in self.session.exec(select(ProductBenefit).where(ProductBenefit.version_id == version_id)):
                if PERIL in (row.perils or []):
                    version = self.session.get(ProductVersion, version_id)
                    found = (Benefit.from_catalogue(row.model_dump(), version.terms if version else {}), row)
                    break
            self._benefits[version_id] = found
        return self._benefits[version_id]

    def _policy(self, member: Member, household: Household, on: date) -> tuple[Policy | None, Coverage | None]:
        lines = self.session.exec(
            select(Coverage, Policy)
            .join(Policy, col(Policy.id) == Coverage.policy_id)
            .where(
                Coverage.member_id == member.id,
                Policy.insurer_id == self.options.insurer_id,
                col(Policy.issued_at).is_not(None),
            )
            .order_by(col(Policy.period_start).desc())
        ).all()
        for coverage, policy in lines:
            if coverage.status != CoverStatus.cancelled and coverage.cover_start <= on <= coverage.cover_end:
                return policy, coverage
        if lines:
            return lines[0][1], lines[0][0]
        county = [p for p in self.policies.values() if p.county_code == household.county_code]
        county.sort(key=lambda p: p.period_start, reverse=True)
        return (county[0] if county else None), None

    def settle(self, row: SettlementRow, header: Any, import_id: int | None) -> ClaimCreated | SheetIssue:
        """A checked row: refused against the register, or filed and assessed as a claim."""
        session = self.session
        id_column = header.header_of("id_number")
        found = session.exec(
            select(Member, Household)
            .join(Household, col(Household.id) == Member.household_id)
            .where(Member.id_number == row.id_number)
        ).first()
        if found is None or found[1].county_code not in self.counties:
            message = f"证件号码{masked(row.id_number)}不在本公司承保县的花名册上"
            return self._refusal(row, "id_number", id_column, MEMBER_UNKNOWN, message, masked(row.id_number))
        member, household = found
        if member.name != row.name:
            message = f"姓名“{row.name}”与花名册登记的姓名“{member.name}”不一致"
            return self._refusal(row, "name", header.header_of("name"), NAME_MISMATCH, message, row.name)
        taken = session.exec(select(Claim.claim_no).where(Claim.settlement_no == row.settlement_no)).first()
        if taken is not None:
            message = f"结算单号“{row.settlement_no}”已导入（理赔案件{taken}）"
            column = header.header_of("settlement_no")
            return self._refusal(row, "settlement_no", column, DUPLICATE_SETTLEMENT, message, row.settlement_no)
        policy, coverage = self._policy(member, household, row.admission_date)
        terms = self._benefit(policy) if policy is not None else None
        if policy is None or terms is None:
            message = "本公司在该县的保单不含住院补充医疗责任"
            return self._refusal(row, "id_number", id_column, NOT_COVERED, message, masked(row.id_number))
        benefit, benefit_row = terms
        return self._file(row, member, policy, coverage, benefit, benefit_row, import_id)

    def _file(
        self,
        row: SettlementRow,
        member: Member,
        policy: Policy,
        coverage: Coverage | None,
        benefit: Benefit,
        benefit_row: ProductBenefit,
        import_id: int | None,
    ) -> ClaimCreated:
        session, options, actor = self.session, self.options, self.options.actor
        facts = {
            "total_cost_fen": row.total_cost_fen,
            "in_policy_fen": row.in_policy_fen,
            "bmi_paid_fen": row.bmi_paid_fen,
            "ci_paid_fen": row.ci_paid_fen,
            "assistance_paid_fen": row.assistance_paid_fen,
        }
        claim = Claim(
            claim_no=next_claim_no(session, row.admission_date.year, policy.county_code),
            claim_type=ClaimType.supplementary_medical,
            status=INITIAL_STATUS,
            insurer_id=options.insurer_id,
            county_code=policy.county_code,
            policy_id=policy.id or 0,
            benefit_code=benefit.code,
            member_id=member.id,
            household_id=member.household_id,
            claimant_name=member.name,
            claimant_relation="本人",
            incident_date=row.admission_date,
            incident_place=row.hospital,
            peril=PERIL,
            reported_on=options.today,
            facts=facts,
            main_diagnosis=row.main_diagnosis,
            settlement_no=row.settlement_no,
            settlement_import_id=import_id,
            claimed_fen=row.total_cost_fen,
            filed_by=actor.name,
            filed_by_user_id=actor.user_id,
        )
        session.add(claim)
        session.flush()
        session.add(
            ClaimEvent(
                claim_id=claim.id or 0,
                from_status=None,
                to_status=claim.status,
                action="file",
                note="一站式结算单导入",
                version=claim.version,
                actor=actor.name,
                actor_user_id=actor.user_id,
            )
        )
        transition(
            session,
            actor,
            claim,
            ClaimAction.complete_documents,
            note="结算单即理赔材料",
            changes={
                "documents_complete_on": options.today,
                "decision_due_on": options.today + timedelta(days=DECISION_DAYS),
            },
        )
        session.flush()
        lines = [
            line for line in answers.member_cover_lines(session, member.id or 0) if line.policy_no in self.policy_nos
        ]
        answer = eligibility.cover_for(lines, PERIL, row.admission_date, {})
        claim.assessed_at = utcnow()
        cover = cover_from_answer(
            answer,
            benefit,
            used_this_year_fen=used_before(session, claim, benefit_row.unit),
            cover_start=coverage.cover_start if coverage else None,
            cover_end=coverage.cover_end if coverage else None,
            insured_units=Decimal(1),
        )
        result = assess(
            ClaimType.supplementary_medical, MedicalFacts(**facts), cover, row.admission_date, options.today
        )
        stored = assessment_json(result)
        transition(
            session,
            actor,
            claim,
            ClaimAction.assess,
            reasons=stored["reasons"],
            changes={
                "assessment": stored,
                "claimed_fen": result.claimed_fen,
                "payable_fen": result.payable_fen,
                "household_pays_fen": result.household_pays_fen,
                "assessed_by": actor.name,
                "assessed_by_user_id": actor.user_id,
            },
        )
        session.flush()
        return ClaimCreated(
            row.row,
            row.settlement_no,
            claim.claim_no,
            claim.status.value,
            result.payable_fen,
            result.household_pays_fen,
            list(stored["reasons"]),
        )


def _issue_row(import_id: int, issue: SheetIssue, settlement_no: str | None = None) -> SettlementImportIssue:
    return SettlementImportIssue(
        import_id=import_id,
        row=issue.row,
        column=issue.column[:50],
        code=issue.code,
        message=issue.message[:500],
        value=issue.value[:200] if issue.value else None,
        settlement_no=settlement_no,
    )


def run_settlement_import(
    engine: Engine, path: Path, options: SettlementOptions, *, import_id: int | None = None
) -> SettlementOutcome:
    """Imports the file in one transaction (a queued web import passes its row's id). Raises SettlementSheetUnreadable
    when the file cannot be imported at all (a queued import is then marked failed with the reason)."""
    from core import queue

    try:
        sheet = open_settlement_sheet(path)
    except Exception as exc:
        if import_id is not None:
            queue.mark_failed(engine, SettlementImport.__table__, import_id, getattr(exc, "message", "无法读取文件"))
        raise
    try:
        return _run(engine, sheet, path, options, import_id)
    except Exception as exc:
        if import_id is not None:
            queue.mark_failed(engine, SettlementImport.__table__, import_id, getattr(exc, "message", "导入失败"))
        raise
    finally:
        sheet.close()


def _run(
    engine: Engine, sheet: SettlementSheet, path: Path, options: SettlementOptions, import_id: int | None
) -> SettlementOutcome:
    digest = file_sha256(path)
    outcome = SettlementOutcome(
        import_id, dry_run=options.dry_run, file_format=sheet.file_format, encoding=sheet.encoding
    )
    outcome.extra_columns = list(sheet.extra_columns)
    outcome.issues.extend(header_issues(sheet.header))
    with Session(engine, expire_on_commit=False) as session:
        earlier = session.exec(select(SettlementImport).where(SettlementImport.sha256 == digest)).first()
        if earlier is not None and earlier.id != import_id:
            outcome.already_imported = earlier.id
        writes = not options.dry_run and outcome.already_imported is None
        record: SettlementImport | None = None
        if writes:
            record = session.get(SettlementImport, import_id) if import_id is not None else None
            if record is None:
                record = SettlementImport(
                    filename=options.filename[:255],
                    sha256=digest,
                    size_bytes=sheet.size_bytes,
                    insurer_id=options.insurer_id,
                    actor=options.actor.name,
                    actor_user_id=options.actor.user_id,
                    status=ImportStatus.running,
                    started_at=utcnow(),
                )
                session.add(record)
                session.flush()
            outcome.import_id = record.id
        importer = _Importer(session, options)
        for checked in check_sheet(sheet, today=options.today):
            outcome.rows += 1
            if options.progress is not None and outcome.rows % 200 == 0:
                options.progress(outcome.rows, sheet.position(), sheet.size_bytes)
            settled: ClaimCreated | SheetIssue | None = checked.refusal
            if checked.settlement is not None:
                settled = importer.settle(checked.settlement, sheet.header, outcome.import_id)
            if isinstance(settled, ClaimCreated):
                outcome.accepted += 1
                outcome.claims.append(settled)
                outcome.payable_fen += settled.payable_fen
                outcome.household_pays_fen += settled.household_pays_fen
            elif settled is not None:
                outcome.refused += 1
                outcome.issues.append(settled)
        if options.progress is not None:
            options.progress(outcome.rows, sheet.size_bytes, sheet.size_bytes)
        if record is None:
            session.rollback()  # a dry run, or the same file again: nothing is written
            return outcome
        outcome.claims_created = len(outcome.claims)
        numbers = {c.row: c.settlement_no for c in outcome.claims}
        session.add_all(_issue_row(record.id or 0, i, numbers.get(i.row)) for i in outcome.issues)
        for key in ("rows", "accepted", "refused", "claims_created", "payable_fen", "household_pays_fen"):
            setattr(record, key, getattr(outcome, key))
        record.file_format, record.encoding = sheet.file_format, sheet.encoding
        record.status, record.finished_at = ImportStatus.done, utcnow()
        session.add(record)
        risk_service.raise_for_import(session, record.id, actor=options.actor)  # the households' risk flags
        session.commit()
    return outcome
