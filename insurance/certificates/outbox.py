"""The outbox: rows asking for a document, written in the transaction of the change that calls for it (the policy
use cases, the roster import). Only models here, so every writer can import it; `insurance.certificates` reads the
rows and the jobs produce the documents."""

from typing import Any

import sqlalchemy as sa

from core.db import utcnow
from insurance.certificates.models import DocumentKind, DocumentRequest, DocumentStatus
from insurance.register.models import Household


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
    requests = DocumentRequest.__table__
    return connection.execute(
        requests.insert()
        .values(
            kind=kind.value,
            policy_id=policy_id,
            village_code=village_code,
            reason=reason,
            status=DocumentStatus.pending.value,
            attempts=0,
            created_at=utcnow(),
        )
        .returning(requests.c.id)
    ).scalar_one()


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
