"""Verification anyone can do of a certificate's or a notice's signed code (QR or short code)."""

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from core import signing
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
    """What the public page says about a code: genuine, superseded, revoked, forged or not found."""

    state: str  # genuine | superseded | revoked | forged | not_found
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


STATE_LABELS = {
    "genuine": "真实有效",
    "superseded": "已被新版本取代",
    "revoked": "已作废",
    "forged": "验证失败：伪造或被篡改",
    "not_found": "查无此凭证",
}


def public_key_pem(settings: Settings) -> str:
    return signing.public_key_pem(signing.key_at(settings.effective_signing_key_file))


def verify(session: Session, settings: Settings, text: str) -> Verification:
    """A QR code (its URL or the code itself) or a typed short code, checked against the signature and the record."""
    text = text.strip()
    if "/v/" in text:
        text = text.rsplit("/v/", 1)[1]
    if text.startswith(signing.PREFIX + "."):
        key = signing.key_at(settings.effective_signing_key_file)
        try:
            signed = signing.verify(key.public_key(), text)
        except signing.BadCode:
            return Verification(state="forged")
        if signed is None:
            return Verification(state="forged")
        if signed.kind == NOTICE_CODE and len(signed.fields) == 5:
            return _verify_notice(session, signed.fields)
        if signed.kind != CERTIFICATE_CODE or len(signed.fields) != 5:
            return Verification(state="not_found")
        number, version = signed.fields[0], signed.fields[1]
        certificate = session.exec(
            select(Certificate).where(Certificate.certificate_no == number, Certificate.version == int(version))
        ).first()
        if certificate is None or certificate.digest[:DIGEST_CHARS] != signed.fields[4]:
            return Verification(state="not_found", kind="certificate", certificate_no=number)
        return _describe(session, certificate)
    short = signing.normalise_short_code(text)
    if short is None:
        return Verification(state="not_found")
    certificate = session.exec(select(Certificate).where(Certificate.short_code == short)).first()
    if certificate is None:
        return Verification(state="not_found")
    return _describe(session, certificate)


def _describe(session: Session, certificate: Certificate) -> Verification:
    statement = certificate.statement
    latest = last_version(session, certificate.certificate_no)
    state = {
        CertificateStatus.current: "genuine",
        CertificateStatus.superseded: "superseded",
        CertificateStatus.revoked: "revoked",
    }[certificate.status]
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
