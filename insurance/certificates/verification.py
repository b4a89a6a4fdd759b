"""What a certificate's or a notice's code stands for, registered with the shared verification (core.verification):
the public page and API show these answers."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from core import verification
from core.db import local_today
from core.masking import mask_name
from core.settings import Settings
from insurance.certificates.models import Certificate, CertificateStatus
from insurance.certificates.statements import CERTIFICATE_CODE, DIGEST_CHARS, NOTICE_CODE, place_names, policy_header
from insurance.certificates.versions import last_version
from insurance.cover.models import (
    EnrolmentNotice,
    Policy,
)

# --- verification ---------------------------------------------------------------------------------------------------


@dataclass
class Verification:
    """What the public page says about a code: genuine, genuine but not yet in force, superseded, revoked, forged or
    not found."""

    state: str  # genuine | not_started | superseded | revoked | forged | not_found
    kind: str = ""  # certificate | notice
    certificate_no: str = ""
    version: int | None = None
    latest_version: int | None = None
    issued_on: str = ""
    holder: str = ""
    household_no: str = ""
    address: str = ""
    insurer: str = ""
    hotline: str = ""
    product: str = ""
    period: str = ""
    members: list[dict[str, str]] = field(default_factory=list)
    covers: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    posted_on: str = ""
    objection_until: str = ""
    households: int | None = None
    cover_from: str = ""  # the first day of cover, for a certificate whose cover starts after today


def cover_from(statement: dict[str, Any]) -> str:
    """The first day any line of the certificate covers (its members' or objects' cover start, else the period's)."""
    lines = [*statement.get("members", []), *statement.get("objects", [])]
    starts = [line["cover_start"] for line in lines if line.get("cover_start") and not line.get("ended")]
    return min(starts) if starts else statement.get("period_start", "")


def verify(session: Session, settings: Settings, text: str) -> Verification:
    """A certificate's or a notice's QR code (its URL or the code itself) or a certificate's typed short code."""
    return verification.check(
        session,
        settings,
        text,
        forged=lambda: Verification(state="forged"),
        not_found=lambda: Verification(state="not_found"),
    )


def _check_certificate(session: Session, fields: tuple[str, ...]) -> Verification:
    number, version, digest = fields[0], fields[1], fields[4]
    certificate = session.exec(
        select(Certificate).where(Certificate.certificate_no == number, Certificate.version == int(version))
    ).first()
    if certificate is None or certificate.digest[:DIGEST_CHARS] != digest:
        return Verification(state="not_found", kind="certificate", certificate_no=number)
    return _describe(session, certificate)


def _by_short_code(session: Session, short: str) -> Verification | None:
    certificate = session.exec(select(Certificate).where(Certificate.short_code == short)).first()
    return _describe(session, certificate) if certificate is not None else None


def _describe(session: Session, certificate: Certificate) -> Verification:
    """A current certificate whose cover starts after today (a 2027 policy checked in 2026) is genuine but not yet
    in force: the page says from when, rather than letting a household believe it is covered already."""
    statement = certificate.statement
    latest = last_version(session, certificate.certificate_no)
    state = {
        CertificateStatus.current: "genuine",
        CertificateStatus.superseded: "superseded",
        CertificateStatus.revoked: "revoked",
    }[certificate.status]
    starts = cover_from(statement)
    if state == "genuine" and starts > local_today().isoformat():
        state = "not_started"
    return Verification(
        state=state,
        kind="certificate",
        certificate_no=certificate.certificate_no,
        version=certificate.version,
        latest_version=latest,
        issued_on=certificate.issued_on.isoformat(),
        holder=mask_name(statement.get("head", "")),
        household_no=statement.get("household_no", "")[:6] + "…",
        address=statement.get("address", ""),
        insurer=statement.get("insurer", ""),
        hotline=statement.get("hotline", ""),
        product=statement.get("product", ""),
        period=f"{statement.get('period_start', '')} 至 {statement.get('period_end', '')}",
        members=[
            {
                "name": mask_name(m["name"]),
                "id_masked": m["id_masked"],
                "cover": f"{m['cover_start']} 至 {m['cover_end']}",
            }
            for m in statement.get("members", [])
        ],
        covers=list(statement.get("covers", [])),
        objects=list(statement.get("objects", [])),
        cover_from=starts,
    )


def _verify_notice(session: Session, fields: tuple[str, ...]) -> Verification:
    policy_no, village_code, posted_on, objection_until, _ = fields
    row = session.exec(
        select(EnrolmentNotice, Policy)
        .join(Policy, col(Policy.id) == EnrolmentNotice.policy_id)
        .where(Policy.policy_no == policy_no, EnrolmentNotice.village_code == village_code)
    ).first()
    if row is None:
        return Verification(state="not_found", kind="notice", certificate_no=policy_no)
    notice, policy = row
    same = notice.posted_on.isoformat() == posted_on and notice.objection_until.isoformat() == objection_until
    header = policy_header(session, policy)
    return Verification(
        state="genuine" if same else "superseded",
        kind="notice",
        certificate_no=policy_no,
        address=place_names(session, [village_code]).get(village_code, village_code),
        insurer=header["insurer"],
        hotline=header["hotline"],
        product=header["product"],
        period=f"{header['period_start']} 至 {header['period_end']}",
        posted_on=posted_on,
        objection_until=objection_until,
        households=notice.households,
    )


verification.register_code(verification.CodeKind(CERTIFICATE_CODE, 5, _check_certificate))
verification.register_code(verification.CodeKind(NOTICE_CODE, 5, _verify_notice))
verification.register_short_codes(_by_short_code)
