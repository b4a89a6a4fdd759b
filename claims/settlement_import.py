"""Importing a one-stop settlement sheet (issue 14's contract): every row checked, the register's refusals added
(member_unknown, name_mismatch, duplicate_settlement against claims already imported), and every other row filed as a
supplementary-medical claim, documents complete (the sheet is the document) and assessed in row order, so an annual
limit counts the earlier rows of the same file. One transaction per file; a dry run rolls it back.

Decisions (documented for the office):
- Which members an insurer may import for: those on the register of a county where the insurer holds an issued
  policy. A number not on the register is `member_unknown`; a member on the register of a county where the insurer
  holds no issued policy is refused `not_covered` (the sample's answer key: the cover does not answer for the stay).
- The claim's policy: the insurer's policy whose cover line of the member is in force on the admission date, else
  the member's latest line with the insurer, else the insurer's latest issued policy of the member's county. A stay
  the cover does not answer for is filed and assessed at 0 with `not_covered` or `waiting_period`, so the office sees
  the hospital stays of uncovered people.
- The same file again (same sha256) is run as a check only: every row already imported is refused as
  `duplicate_settlement`, nothing is written, and the outcome names the earlier import. An earlier import that
  failed kept nothing: the file runs again on its row.
- Issue values are stored as settlement_checks masks them: the report never carries a full ID number.
"""

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claims.models import SettlementImport, SettlementImportIssue
from claims.risk import raising as risk_raising
from claims.settlement_batch import CHUNK, ClaimCreated, SettlementBatch
from claims.settlement_checks import ERROR, FIXED, CheckedRow, SheetIssue, check_sheet, header_issues
from claims.settlement_sheet import SettlementSheet, open_settlement_sheet
from core.audit import Actor
from core.db import utcnow
from insurance.register.models import ImportStatus

__all__ = ["ClaimCreated", "SettlementOptions", "SettlementOutcome", "run_settlement_import"]

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
    chunk_rows: int = CHUNK  # rows per round of queries; the outcome does not depend on it


def _issue_json(issue: SheetIssue) -> dict[str, Any]:
    return {"row": issue.row, "column": issue.column, "code": issue.code, "message": issue.message}


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

    @property
    def fixed(self) -> list[SheetIssue]:
        return [i for i in self.issues if i.kind == FIXED]

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
            "errors": [_issue_json(i) for i in self.errors],
            "fixed": [_issue_json(i) for i in self.fixed],
            "claims": [vars(c) for c in self.claims],
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _issue_row(import_id: int, issue: SheetIssue, settlement_no: str | None = None) -> dict[str, Any]:
    return {
        "import_id": import_id,
        "row": issue.row,
        "column": issue.column[:50],
        "code": issue.code,
        "message": issue.message[:500],
        "value": issue.value[:200] if issue.value else None,
        "settlement_no": settlement_no,
    }


def _settle_chunk(
    batch: SettlementBatch, chunk: list[CheckedRow], sheet: SettlementSheet, outcome: SettlementOutcome
) -> None:
    """The chunk's accepted rows through the batch, every outcome added to the import's in file order."""
    settled = iter(batch.settle([c.settlement for c in chunk if c.settlement is not None], sheet.header))
    for checked in chunk:
        result: ClaimCreated | SheetIssue | None = checked.refusal if checked.settlement is None else next(settled)
        if checked.settlement is not None:
            outcome.issues.extend(checked.issues)  # the forms normalised (fixed), reported as the roster does
        if isinstance(result, ClaimCreated):
            outcome.accepted += 1
            outcome.claims.append(result)
            outcome.payable_fen += result.payable_fen
            outcome.household_pays_fen += result.household_pays_fen
        elif result is not None:
            outcome.refused += 1
            outcome.issues.append(result)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the import (reference counting still frees nearly everything). An import
    allocates millions of short-lived objects and keeps a hundred thousand outcomes; the collector's passes over
    that growing heap took a quarter of the import's CPU time, for next to no cyclic garbage."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
        with _collector_paused():
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
        retried: SettlementImport | None = None
        if earlier is not None and earlier.id != import_id:
            if earlier.status == ImportStatus.failed:
                retried = earlier  # nothing of it was kept: run again on its row, as a new upload of it does
            else:
                outcome.already_imported = earlier.id
        writes = not options.dry_run and outcome.already_imported is None
        record: SettlementImport | None = None
        if writes:
            record = session.get(SettlementImport, import_id) if import_id is not None else None
            if record is None:
                this_run = {
                    "filename": options.filename[:255],
                    "size_bytes": sheet.size_bytes,
                    "insurer_id": options.insurer_id,
                    "actor": options.actor.name,
                    "actor_user_id": options.actor.user_id,
                    "status": ImportStatus.running,
                    "message": None,
                    "started_at": utcnow(),
                    "finished_at": None,
                }
                record = retried or SettlementImport(sha256=digest)
                for key, value in this_run.items():
                    setattr(record, key, value)
                session.add(record)
                session.flush()
            outcome.import_id = record.id
        batch = SettlementBatch(
            session,
            insurer_id=options.insurer_id,
            actor=options.actor,
            today=options.today,
            import_id=outcome.import_id,
        )
        chunk: list[CheckedRow] = []
        for checked in check_sheet(sheet, today=options.today):
            outcome.rows += 1
            chunk.append(checked)
            if len(chunk) >= options.chunk_rows:
                _settle_chunk(batch, chunk, sheet, outcome)
                chunk = []
                if options.progress is not None:
                    options.progress(outcome.rows, sheet.position(), sheet.size_bytes)
        _settle_chunk(batch, chunk, sheet, outcome)
        if options.progress is not None:
            options.progress(outcome.rows, sheet.size_bytes, sheet.size_bytes)
        if record is None:
            session.rollback()  # a dry run, or the same file again: nothing is written
            return outcome
        outcome.claims_created = len(outcome.claims)
        numbers = {c.row: c.settlement_no for c in outcome.claims}
        issue_rows = [_issue_row(record.id or 0, i, numbers.get(i.row)) for i in outcome.issues]
        if issue_rows:
            session.execute(insert(SettlementImportIssue.__table__), issue_rows)
        for key in ("rows", "accepted", "refused", "claims_created", "payable_fen", "household_pays_fen"):
            setattr(record, key, getattr(outcome, key))
        record.file_format, record.encoding = sheet.file_format, sheet.encoding
        record.status, record.finished_at = ImportStatus.done, utcnow()
        session.add(record)
        risk_raising.raise_for_import(session, record.id, actor=options.actor)  # the households' risk flags
        session.commit()
    return outcome
