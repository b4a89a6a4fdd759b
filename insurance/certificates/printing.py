"""HTML for print: certificates, village booklets and enrolment notices, with their QR codes (WeasyPrint renders
them in the worker: insurance.certificates.jobs).
"""

from typing import Any

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from core import signing
from core.settings import Settings
from core.templating import render_print
from insurance.certificates.models import Certificate
from insurance.certificates.slicing import SIGN_OFF_ANCHOR, certificate_anchor
from insurance.certificates.statements import DIGEST_CHARS, NOTICE_CODE, canonical, place_names, policy_header
from insurance.cover.models import (
    EnrolmentNotice,
    Policy,
)

# --- HTML for print ------------------------------------------------------------------------------------------------


def verification_url(settings: Settings, code: str) -> str:
    return f"{settings.effective_public_base_url}/v/{code}"


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data URI (error correction M: survives a crease or a stain on a village notice board)."""
    return segno.make(text, error="m", micro=False).svg_data_uri(scale=4, border=2)


def certificate_view(settings: Settings, certificate: Certificate) -> dict[str, Any]:
    """Everything the print template shows for one version, from its stored statement and code only."""
    return {
        **certificate.statement,
        "version": certificate.version,
        "issued_on": certificate.issued_on.isoformat(),
        "short_code": signing.format_short_code(certificate.short_code),
        "qr": qr_data_uri(verification_url(settings, certificate.code)),
        "verify_base": f"{settings.effective_public_base_url}/verify",
        "anchor": certificate_anchor(certificate.certificate_no),  # where a booklet's household pages start
    }


def certificate_html(settings: Settings, certificate: Certificate) -> str:
    return render_print("print/certificate.html", certificates=[certificate_view(settings, certificate)])


def booklet_html(settings: Settings, village: dict[str, Any], certificates: list[Certificate]) -> str:
    """The booklet's cover shows the policy as its certificates state it (every one states the same policy)."""
    views = [certificate_view(settings, c) for c in certificates]
    return render_print(
        "print/booklet.html", policy=views[0], village=village, certificates=views, sign_off_anchor=SIGN_OFF_ANCHOR
    )


# --- notices --------------------------------------------------------------------------------------------------------


def notice_statement(session: Session, policy: Policy, notice: EnrolmentNotice, lines: list[Any]) -> dict[str, Any]:
    header = policy_header(session, policy)
    return {
        **header,
        "village_code": notice.village_code,
        "address": place_names(session, [notice.village_code]).get(notice.village_code, notice.village_code),
        "posted_on": notice.posted_on.isoformat(),
        "objection_until": notice.objection_until.isoformat(),
        "lines": [
            {
                "household_no": line.household_no,
                "head": line.head_name or "",
                "head_id_masked": line.head_id_masked or "",
                "insured": line.insured,
                "premium_fen": line.premium_fen,
                "household_share_fen": line.household_share_fen,
            }
            for line in lines
        ],
    }


def sign_notice(key: Ed25519PrivateKey, statement: dict[str, Any]) -> str:
    return signing.sign(
        key,
        NOTICE_CODE,
        statement["policy_no"],
        statement["village_code"],
        statement["posted_on"],
        statement["objection_until"],
        signing.digest(canonical(statement))[:DIGEST_CHARS],
    )


def notice_html(settings: Settings, statement: dict[str, Any], code: str) -> str:
    return render_print(
        "print/notice.html",
        notice=statement,
        qr=qr_data_uri(verification_url(settings, code)),
        verify_base=f"{settings.effective_public_base_url}/verify",
    )
