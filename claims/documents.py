"""A claim's documents: uploaded against the claim type's checklist, the type told from the content and the size
checked (claims.uploads), the bytes kept in the document store by claim and digest, a row per upload."""

from typing import BinaryIO

from sqlmodel import Session

from claims import checklist, queries
from claims.errors import ClaimCode, ClaimConflictError, ClaimInvalidError
from claims.models import ClaimDocument
from claims.status import CLAIM_STATUS_LABELS, ClaimStatus
from claims.uploads import max_bytes_of, read_upload, store_key
from core import audit
from core.audit import Actor
from core.db import utcnow
from core.models import User
from core.settings import Settings
from core.storage import get_store

# Documents are added while the claim is being put together or assessed; a decided claim is reopened first.
OPEN_FOR_DOCUMENTS = frozenset(
    {ClaimStatus.filed, ClaimStatus.returned, ClaimStatus.documents_complete, ClaimStatus.assessed}
)


def upload_document(
    session: Session,
    settings: Settings,
    user: User,
    claim_no: str,
    *,
    code: str,
    stream: BinaryIO,
    filename: str | None,
    declared_type: str | None,
) -> ClaimDocument:
    claim = queries.get_claim_header(session, user, claim_no)
    queries.require_handler(user)
    if code not in checklist.codes(claim.claim_type):
        raise ClaimInvalidError(
            "该理赔类型的材料清单中没有此类材料", code=ClaimCode.document_code_unknown, field="code"
        )
    if claim.status not in OPEN_FOR_DOCUMENTS:
        raise ClaimConflictError(
            f"理赔案件当前状态为“{CLAIM_STATUS_LABELS[claim.status]}”，不能再上传材料",
            code=ClaimCode.transition_not_allowed,
            field="status",
        )
    content, checked = read_upload(
        stream,
        field="file",
        filename=filename,
        max_bytes=max_bytes_of(settings.claim_document_max_mb),
        declared_type=declared_type,
        label=checklist.DOCUMENT_LABELS[code],
    )
    key = store_key(claim.id, checked)
    store = get_store(settings)
    # The key is the digest: a file already under it holds these very bytes, made durable when first stored (a
    # household's second copy of a scan costs no write). Stored before the row, so the commit never names a file
    # that is not on disk; if the commit fails, the file stays and is harmless.
    if not store.exists(key):
        store.put(key, content)
    document = ClaimDocument(
        claim_id=claim.id,
        code=code,
        filename=checked.filename,
        content_type=checked.content_type,
        size_bytes=checked.size_bytes,
        sha256=checked.sha256,
        store_key=key,
        uploaded_by=user.username,
        uploaded_by_user_id=user.id,
        uploaded_at=utcnow(),
    )
    # A plain INSERT of the row (its id back), not the unit of work: the upload is most of a claim's requests.
    values = document.model_dump(exclude={"id"})
    document.id = session.connection().execute(_DOCUMENT_INSERT, values).scalar_one()
    after = {
        "document_code": code,
        "filename": checked.filename,
        "content_type": checked.content_type,
        "size_bytes": checked.size_bytes,
    }
    audit.record(session, Actor.of(user), "upload_document", "claim", claim.claim_no, after=after)
    session.commit()
    queries.forget_reads(session, claim.id)
    return document


_DOCUMENT_INSERT = ClaimDocument.__table__.insert().returning(ClaimDocument.__table__.c.id)  # type: ignore[attr-defined]


def list_documents(session: Session, user: User, claim_no: str) -> list[ClaimDocument]:
    claim = queries.get_claim(session, user, claim_no)
    return queries.live_documents(session, claim.id or 0)
