"""What a printed certificate tells its household: the address of the public verification page, in words beside the
QR code, so a household without a phone that scans codes can still type the short code in."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import pdf, signing
from core.settings import Settings
from insurance.certificates import printing
from tests.document_builders import printed_certificate


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_printed_certificate_states_the_verification_pages_address_beside_its_short_code(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    certificate = printed_certificate(session, engine, settings, tmp_path)
    public = settings.model_copy(update={"public_base_url": "https://tehuibao.example.cn/"})

    document, _ = pdf.render_pdf_pages(printing.certificate_html(public, certificate))

    content = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)
    lines = content.splitlines()
    address = next(i for i, line in enumerate(lines) if "核验网址" in line)
    assert lines[address].endswith("核验网址：https://tehuibao.example.cn/verify")
    assert f"验证码：{signing.format_short_code(certificate.short_code)}" in lines[address - 1]
