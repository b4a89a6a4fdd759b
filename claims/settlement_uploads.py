"""Settlement sheets uploaded through the web (issue 14): the handler's upload is stored and recorded as a queued
import, a worker runs it (claims.jobs), and the insurer's own staff read it. Another insurer, a county office, the
province and the admin get 404: the sheets hold the hospital stays of one insurer's insured.

The same file again (same sha256) is refused at once with 409 naming the earlier import, unless that import failed:
a failed import is queued again on its own row (claims.models.SettlementImport keeps one row per file)."""

import hashlib
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, func, select

from claims.errors import ClaimCode, ClaimConflictError, ClaimForbiddenError, ClaimInvalidError, ClaimNotFoundError
from claims.models import Claim, SettlementImport, SettlementImportIssue
from claims.settlement_sheet import SettlementSheetUnreadable, open_settlement_sheet
from core import audit
from core.audit import Actor
from core.models import Role, User
from insurance.register.models import ImportStatus

IMPORT_JOB = "claims.jobs.run_settlement_import_job"  # by name: the web never imports the jobs module
IMPORT_TIMEOUT = timedelta(hours=1)  # the worker's job timeout; an import still "running" past it has died


def import_job_id(import_id: int) -> str:
    """One job id per web import, whoever enqueues it (the upload after the commit, or the sweeper)."""
    return f"settlement-import-{import_id}"


def may_import_settlements(user: User) -> bool:
    return user.role in (Role.insurer_handler, Role.insurer_supervisor) and user.insurer_id is not None


def list_settlement_imports(
    session: Session, user: User, *, limit: int = 50, offset: int = 0
) -> tuple[list[SettlementImport], int]:
    """The imports of the user's company, newest first; none for anyone else."""
    if not may_import_settlements(user):
        return [], 0
    condition = SettlementImport.insurer_id == user.insurer_id
    rows = session.exec(
        select(SettlementImport).where(condition).order_by(col(SettlementImport.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), session.exec(select(func.count()).select_from(SettlementImport).where(condition)).one()


def get_settlement_import(session: Session, user: User, import_id: int) -> SettlementImport:
    """An import of the user's company; another insurer's, or any for a role that does not import, is 404."""
    row = session.get(SettlementImport, import_id)
    if row is None or not may_import_settlements(user) or row.insurer_id != user.insurer_id:
        raise ClaimNotFoundError("结算单导入记录不存在", code=ClaimCode.import_not_found, field="id")
    return row


def list_settlement_issues(
    session: Session, import_id: int, *, limit: int = 200, offset: int = 0
) -> tuple[list[SettlementImportIssue], int]:
    condition = SettlementImportIssue.import_id == import_id
    rows = session.exec(
        select(SettlementImportIssue)
        .where(condition)
        .order_by(col(SettlementImportIssue.row), col(SettlementImportIssue.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), session.exec(select(func.count()).select_from(SettlementImportIssue).where(condition)).one()


def _store(upload: BinaryIO, uploads: Path, suffix: str, max_bytes: int) -> tuple[Path, str, int]:
    """Streams the upload to disk, hashing it; refuses an empty or too large file (nothing is kept)."""
    uploads.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=uploads, delete=False, suffix=suffix, prefix="settlement-") as out:
        for chunk in iter(lambda: upload.read(1 << 20), b""):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                Path(out.name).unlink(missing_ok=True)
                raise ClaimInvalidError(
                    f"文件超过 {max_bytes // (1 << 20)} MB", code=ClaimCode.upload_too_large, field="file"
                )
            digest.update(chunk)
            out.write(chunk)
    path = Path(out.name)
    if size == 0:
        path.unlink(missing_ok=True)
        raise ClaimInvalidError("文件是空的", code=ClaimCode.upload_empty, field="file")
    return path, digest.hexdigest(), size


def start_settlement_upload(
    session: Session, user: User, *, upload: BinaryIO, filename: str, var_dir: Path, max_bytes: int
) -> SettlementImport:
    """Stores the uploaded sheet and records a queued import for the user's company (committed); the caller enqueues
    it after the commit. A file already imported is 409 `already_imported` naming the earlier import."""
    if not may_import_settlements(user):
        raise ClaimForbiddenError("只有保险公司经办人或主管可以导入结算单")
    name = Path(filename or "settlement").name
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".txt"):
        raise ClaimInvalidError("只接受 .csv 或 .xlsx 文件", code=ClaimCode.upload_type_unsupported, field="file")
    path, sha256, size = _store(upload, var_dir / "uploads", suffix, max_bytes)
    try:  # a file that is not a settlement sheet is refused now, not after a trip through the queue
        open_settlement_sheet(path).close()
    except SettlementSheetUnreadable as exc:
        path.unlink(missing_ok=True)
        raise ClaimInvalidError(exc.message, field="file") from None
    record = session.exec(select(SettlementImport).where(SettlementImport.sha256 == sha256)).first()
    if record is not None and record.status != ImportStatus.failed:
        path.unlink(missing_ok=True)
        if record.insurer_id != user.insurer_id:  # another insurer's import is not named to this one
            raise ClaimConflictError("该文件已由其他单位导入", code=ClaimCode.already_imported, field="file")
        raise ClaimConflictError(
            f"该文件已于第 {record.id} 号导入批次导入（{record.filename}），未再次导入",
            code=ClaimCode.already_imported,
            field="file",
        )
    if record is None:
        record = SettlementImport(filename=name[:255], sha256=sha256, actor=user.username)
    record.filename, record.size_bytes, record.stored_path = name[:255], size, str(path)
    record.insurer_id, record.actor, record.actor_user_id = user.insurer_id, user.username, user.id
    record.status, record.message, record.started_at, record.finished_at = ImportStatus.queued, None, None, None
    session.add(record)
    session.flush()
    after = {"file": name, "bytes": size}
    audit.record(session, Actor.of(user), "upload", "settlement_import", record.id, after=after)
    session.commit()
    return record


def list_import_claims(
    session: Session, record: SettlementImport, *, limit: int = 200, offset: int = 0
) -> tuple[list[Claim], int]:
    """The claims an import created, in row order (their ids follow the rows); the caller has the import already
    (get_settlement_import), so its insurer's staff alone reach them."""
    condition = Claim.settlement_import_id == record.id
    rows = session.exec(select(Claim).where(condition).order_by(col(Claim.id)).offset(offset).limit(limit)).all()
    return list(rows), session.exec(select(func.count()).select_from(Claim).where(condition)).one()
