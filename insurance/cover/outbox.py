"""Cover asks for its documents: the coverage kinds of document, and the outbox rows (core.documents) that ask for
them, written in the transaction of the change that calls for them (enrolment, issue, cancellation, notices, the
register's deaths and moves). insurance.certificates registers how each kind is printed; cover only names them."""

from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from core import documents
from core.db import utcnow
from core.documents import DocumentRequest, DocumentStatus
from insurance.register.models import Household


class DocumentKind(StrEnum):
    household_certificate = "household_certificate"  # one household's certificate on one policy
    village_booklet = "village_booklet"  # a village's certificates, with a cover page and a sign-off sheet
    enrolment_notice = "enrolment_notice"  # the village's 承保公示, as posted


DOCUMENT_KIND_LABELS = {
    DocumentKind.household_certificate: "保险凭证",
    DocumentKind.village_booklet: "村保险凭证册",
    DocumentKind.enrolment_notice: "承保公示",
}


def request_certificates(connection: sa.Connection, households: sa.Select[Any], policy_id: int, reason: str) -> int:
    """Outbox rows, one per household whose certificate on the policy must be (re)issued, unless one is already
    pending; each carries its village, so the documents page can count them per village."""
    requests, household = DocumentRequest.__table__, Household.__table__
    ids = households.subquery()
    household_id = next(iter(ids.c))
    pending = sa.exists().where(
        requests.c.household_id == household_id,
        requests.c.policy_id == policy_id,
        requests.c.kind == DocumentKind.household_certificate.value,
        requests.c.status == DocumentStatus.pending.value,
    )
    rows = (
        sa.select(
            sa.literal(DocumentKind.household_certificate.value),
            household_id,
            sa.literal(policy_id, sa.Integer),
            household.c.village_code,
            sa.literal(reason),
            sa.literal(DocumentStatus.pending.value),
            sa.literal(0),
            sa.literal(utcnow(), sa.DateTime(timezone=True)),
        )
        .select_from(ids.join(household, household.c.id == household_id))
        .where(~pending)
    )
    result = connection.execute(
        requests.insert().from_select(
            ["kind", "household_id", "policy_id", "village_code", "reason", "status", "attempts", "created_at"], rows
        ),
        execution_options={"preserve_rowcount": True},
    )
    return result.rowcount


def _request_for_village(
    connection: sa.Connection, kind: DocumentKind, policy_id: int, village_code: str, reason: str
) -> int:
    return documents.request(connection, kind.value, reason, policy_id=policy_id, village_code=village_code)


def request_notice(connection: sa.Connection, policy_id: int, village_code: str, reason: str) -> None:
    """The PDF of a posted notice, requested in the posting's transaction."""
    _request_for_village(connection, DocumentKind.enrolment_notice, policy_id, village_code, reason)


def request_booklets(connection: sa.Connection, policy_id: int, reason: str) -> int:
    """One booklet per village with a household certificate requested for this policy and reason, in the caller's
    transaction; the households' requests are tied to their village's booklet, which prints them."""
    requests = DocumentRequest.__table__
    loose = sa.and_(
        requests.c.policy_id == policy_id,
        requests.c.kind == DocumentKind.household_certificate.value,
        requests.c.reason == reason,
        requests.c.status == DocumentStatus.pending.value,
        requests.c.parent_id.is_(None),
    )
    villages = list(connection.execute(sa.select(requests.c.village_code).distinct().where(loose)).scalars())
    for village_code in villages:
        booklet_id = _request_for_village(connection, DocumentKind.village_booklet, policy_id, village_code, reason)
        connection.execute(
            requests.update().where(loose, requests.c.village_code == village_code).values(parent_id=booklet_id)
        )
    return len(villages)
