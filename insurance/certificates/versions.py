"""Certificate versions: a new version only when the statement changes, each with its signed code and short code."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, select

from core import signing
from core.db import utcnow
from insurance.certificates.models import Certificate, CertificateStatus
from insurance.certificates.statements import CERTIFICATE_CODE, DIGEST_CHARS, canonical
from insurance.cover.models import (
    Policy,
)

# --- versions -------------------------------------------------------------------------------------------------------


@dataclass
class CertificatePlan:
    """What a job will write for one household: the version to print (new or unchanged) or a revocation."""

    household_id: int
    certificate: Certificate | None  # the version the document shows; None when revoked
    new: bool
    superseded: Certificate | None = None


def _current_versions(session: Session, policy: Policy, household_ids: list[int]) -> dict[int, Certificate]:
    if not household_ids:
        return {}
    return {
        c.household_id: c
        for c in session.exec(
            select(Certificate).where(
                Certificate.policy_id == policy.id,
                col(Certificate.household_id).in_(household_ids),
                Certificate.status == CertificateStatus.current,
            )
        ).all()
    }


def sign_certificate(key: Ed25519PrivateKey, statement: dict[str, Any], version: int, digest: str) -> str:
    return signing.sign(
        key,
        CERTIFICATE_CODE,
        statement["certificate_no"],
        str(version),
        statement["period_start"],
        statement["period_end"],
        digest[:DIGEST_CHARS],
    )


def plan_versions(
    session: Session,
    policy: Policy,
    found: dict[int, dict[str, Any]],
    household_ids: list[int],
    *,
    key: Ed25519PrivateKey,
    today: date,
) -> list[CertificatePlan]:
    """Compares each household's statement with its current certificate: the same statement keeps its version, a
    different one makes the next version (not yet added to the session), none revokes the current one."""
    current = _current_versions(session, policy, household_ids)
    plans = []
    for household_id in household_ids:
        statement = found.get(household_id)
        existing = current.get(household_id)
        if statement is None:
            plans.append(CertificatePlan(household_id, None, new=False, superseded=existing))
            continue
        digest = signing.digest(canonical(statement))
        if existing is not None and existing.digest == digest:
            plans.append(CertificatePlan(household_id, existing, new=False))
            continue
        version = last_version(session, statement["certificate_no"]) + 1
        code = sign_certificate(key, statement, version, digest)
        certificate = Certificate(
            certificate_no=statement["certificate_no"],
            version=version,
            policy_id=policy.id or 0,
            household_id=household_id,
            village_code=statement["village_code"],
            statement=statement,
            digest=digest,
            code=code,
            short_code=signing.short_code(code),
            issued_on=today,
        )
        plans.append(CertificatePlan(household_id, certificate, new=True, superseded=existing))
    return plans


def last_version(session: Session, number: str) -> int:
    return session.exec(
        select(sa.func.coalesce(sa.func.max(Certificate.version), 0)).where(Certificate.certificate_no == number)
    ).one()


def save_plans(session: Session, plans: list[CertificatePlan]) -> None:
    """Writes the new versions and marks what they replace; a concurrent job that made the same version first
    makes this flush fail on the unique (number, version), and the job is retried."""
    now = utcnow()
    for plan in plans:
        if plan.superseded is not None and (plan.new or plan.certificate is None):
            plan.superseded.status = (
                CertificateStatus.revoked if plan.certificate is None else CertificateStatus.superseded
            )
            plan.superseded.superseded_at = now
            session.add(plan.superseded)
        if plan.new and plan.certificate is not None:
            session.add(plan.certificate)
    session.flush()
