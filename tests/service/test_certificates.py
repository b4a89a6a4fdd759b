"""Certificates, booklets and notices through the real services, the real renderer (WeasyPrint) and pypdf reading
the PDFs back; the document jobs' own function (`core.documents.produce`) run in this process, on SQLite and
PostgreSQL. The worker and Redis around it are tested in tests/jobs."""

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import documents, pdf, signing
from core.audit import Actor
from core.settings import Settings
from core.storage import get_store
from insurance.certificates import printing, verification
from insurance.certificates.models import Certificate
from insurance.cover import industry, register_sync
from insurance.cover import notices as cover_notices
from insurance.cover.schemas import IndustryPolicyCreate
from insurance.register.roster_import import run_import
from insurance.register.roster_options import ImportOptions
from tests.cover_builders import (
    enrol,
    fetch,
    issue,
    make_cast,
    make_group_policy,
    make_register,
    post_all_notices,
    scalar,
    settle,
)
from tests.document_builders import RARE_NAME, issued_policy, printed_certificate, produce_all


def pdf_text(settings: Settings, key: str) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(get_store(settings).get(key)))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def embedded_fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            names.add(str(font["/BaseFont"]))
    return names


def test_issuing_a_policy_prints_one_booklet_per_village_with_every_household_and_a_sign_off_sheet(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    issued = issued_policy(session, engine, tmp_path)
    villages = scalar(
        engine, "SELECT COUNT(DISTINCT village_code) FROM document_request WHERE kind = 'household_certificate'"
    )
    booklets = fetch(engine, "SELECT id, village_code FROM document_request WHERE kind = 'village_booklet'")
    assert len(booklets) == villages > 0

    results = produce_all(engine, settings)

    assert all(not r.get("skipped") for r in results)
    assert scalar(engine, "SELECT COUNT(*) FROM document_request WHERE status <> 'done'") == 0
    covered = fetch(
        engine,
        "SELECT DISTINCT h.id, h.household_no, h.village_code FROM coverage c JOIN member m ON m.id = c.member_id "
        "JOIN household h ON h.id = m.household_id WHERE c.policy_id = :p",
        p=issued.policy.id,
    )
    assert scalar(engine, "SELECT COUNT(*) FROM certificate WHERE status = 'current' AND version = 1") == len(covered)
    booklet = fetch(
        engine, "SELECT document_key, pages, village_code FROM document_request WHERE kind = 'village_booklet'"
    )[0]
    content, reader = pdf_text(settings, booklet.document_key)
    in_village = [h for h in covered if h.village_code == booklet.village_code]
    assert booklet.pages == len(reader.pages) >= len(in_village) + 2  # cover, certificates, sign-off sheet
    assert "保险凭证册" in content and "保险凭证签收表" in content and "签收人签字" in content
    for household in in_village:
        assert household.household_no in content
    assert "第 1 页 / 共" in content
    assert all("+" in name for name in embedded_fonts(reader))  # subsets (ABCDEF+Name), never whole fonts


def test_a_certificate_pdf_shows_names_masked_ids_amounts_and_rare_characters(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    issued_policy(session, engine, tmp_path)
    produce_all(engine, settings)
    holder = fetch(
        engine,
        "SELECT m.household_id, m.id_number FROM member m WHERE m.name = :n",
        n=RARE_NAME,
    )[0]
    certificate = session.exec(select(Certificate).where(Certificate.household_id == holder.household_id)).one()
    document, pages = pdf.render_pdf_pages(printing.certificate_html(settings, certificate))
    reader = PdfReader(io.BytesIO(document))
    content = "\n".join(page.extract_text() for page in reader.pages)
    assert RARE_NAME in content
    masked = holder.id_number[:6] + "*********" + holder.id_number[-3:]
    assert masked in content and holder.id_number not in content
    assert "¥" in content and "扶贫特惠保 保险凭证" in content
    assert signing.format_short_code(certificate.short_code) in content
    assert pages == 1


def test_rendering_the_same_version_twice_gives_the_same_document(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    certificate = printed_certificate(session, engine, settings, tmp_path)
    first = pdf.render_pdf(printing.certificate_html(settings, certificate))
    second = pdf.render_pdf(printing.certificate_html(settings, certificate))
    assert first == second


def test_a_death_reissues_the_household_certificate_and_the_old_version_is_superseded(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    issued_policy(session, engine, tmp_path)
    produce_all(engine, settings)
    household_id = scalar(engine, "SELECT household_id FROM certificate ORDER BY id LIMIT 1")
    old = session.exec(select(Certificate).where(Certificate.household_id == household_id)).one()
    member = fetch(
        engine,
        "SELECT m.id FROM member m JOIN coverage c ON c.member_id = m.id WHERE m.household_id = :h ORDER BY m.id",
        h=household_id,
    )[0]
    with engine.begin() as connection:  # what a roster import does with a death, through the same use case below
        connection.execute(
            text("UPDATE member SET status = 'deceased', status_date = :d WHERE id = :m"),
            {"d": date(2026, 6, 1), "m": member.id},
        )
    settle(session)
    register_sync.sync_cover_with_register(session, Actor.system("test"))
    session.commit()

    results = produce_all(engine, settings)

    assert len(results) == 1 and results[0]["key"]
    versions = fetch(
        engine,
        "SELECT version, status, document_key FROM certificate WHERE household_id = :h ORDER BY version",
        h=household_id,
    )
    assert [(v.version, v.status) for v in versions] == [(1, "superseded"), (2, "current")]
    content, _ = pdf_text(settings, versions[1].document_key)
    assert "2026-01-01 至 2026-06-01（已终止：身故）" in content and "第 2 版" in content
    assert verification.verify(session, settings, old.code).state == "superseded"
    new_code = scalar(engine, "SELECT code FROM certificate WHERE household_id = :h AND version = 2", h=household_id)
    assert verification.verify(session, settings, new_code).state == "genuine"


def test_a_tampered_code_fails_and_a_short_code_is_found_whatever_its_case_and_dashes(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    certificate = printed_certificate(session, engine, settings, tmp_path)
    assert verification.verify(session, settings, certificate.code).state == "genuine"
    prefix, _, signature = certificate.code.split(".")
    statement = signing.parse(certificate.code).payload.decode().replace("|1|", "|2|")
    forged = ".".join([prefix, signing._b64(statement.encode()), signature])
    assert verification.verify(session, settings, forged).state == "forged"
    assert verification.verify(session, settings, certificate.code[:-4] + "AAAA").state == "forged"
    assert verification.verify(session, settings, "garbage").state == "not_found"
    typed = signing.format_short_code(certificate.short_code).lower()
    result = verification.verify(session, settings, f"  {typed} ")
    assert result.state == "genuine" and result.certificate_no == certificate.certificate_no
    assert "*" in result.holder


def test_a_posted_notice_is_printed_with_masked_ids_its_dates_and_a_verification_code(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cast = make_cast(session)
    make_register(engine, tmp_path, 60)
    policy = make_group_policy(session, cast.handler)
    enrol(session, policy)
    notices = post_all_notices(session, cast.supervisor, policy)
    settle(session)

    produce_all(engine, settings)

    rows = fetch(
        engine, "SELECT village_code, document_key, status FROM document_request WHERE kind = 'enrolment_notice'"
    )
    assert len(rows) == len(notices) and all(r.status == "done" for r in rows)
    content, _ = pdf_text(settings, rows[0].document_key)
    lines = cover_notices.notice_lines(session, policy, rows[0].village_code)
    assert "承保公示" in content and notices[0].objection_until.isoformat() in content
    for line in lines:
        assert line.household_no in content and (line.head_id_masked or "") in content
    assert scalar(engine, "SELECT COUNT(*) FROM member WHERE :t LIKE '%' || id_number || '%'", t=content) == 0


@pytest.mark.parametrize("attempts", [1, 3, 5])
def test_the_retry_back_off_grows_and_stays_bounded(attempts: int) -> None:
    assert documents.backoff(attempts) <= documents.backoff(attempts + 1)
    assert documents.backoff(attempts).total_seconds() <= 3600


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(
    not (SHARED / "roster_small.csv").is_file(),
    reason="../shared/data is not beside this clone (CI has it); the generated rosters' rare names are tested above",
)
def test_a_rare_character_of_the_shared_sample_roster_prints_in_its_village_booklet(
    session: Session, engine: Engine, settings: Settings
) -> None:
    outcome = run_import(
        engine,
        SHARED / "roster_small.csv",
        ImportOptions(actor=Actor.system("test"), today=date(2026, 11, 25), filename="roster_small.csv"),
    )
    assert outcome.applied
    household_no = "4312232032140016"  # 田璐𠮷's household in 辰溪县 (exited 2017: made eligible again here)
    with engine.begin() as connection:
        connection.execute(text("UPDATE household SET exit_year = NULL WHERE household_no = :h"), {"h": household_no})
    cast = make_cast(session, county="431223")
    policy = make_group_policy(session, cast.handler, county="431223")
    enrol(session, policy)
    issue(session, cast, policy)
    settle(session)

    produce_all(engine, settings)

    village = household_no[:12]
    key = scalar(
        engine,
        "SELECT document_key FROM document_request WHERE kind = 'village_booklet' AND village_code = :v",
        v=village,
    )
    content, reader = pdf_text(settings, key)
    assert "田璐𠮷" in content and household_no in content
    assert all("+" in name for name in embedded_fonts(reader))


def test_an_industry_policy_certificate_lists_the_insured_animals_with_their_sum_insured(
    session: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    cast = make_cast(session)
    register = make_register(engine, tmp_path, 40)
    household_no = register.rows[0][0]
    data = IndustryPolicyCreate(
        product_code="agri_sow", year=2026, objects=[{"household_no": household_no, "quantity": "10"}]
    )
    policy = industry.create_industry_policy(session, cast.handler, data)
    settle(session)
    issue(session, cast, policy)
    settle(session)

    produce_all(engine, settings)

    certificate = session.exec(select(Certificate).where(Certificate.policy_id == policy.id)).one()
    content, _ = pdf_text(
        settings, scalar(engine, "SELECT document_key FROM document_request WHERE kind = 'village_booklet'")
    )
    assert certificate.statement["objects"][0]["quantity"] == "10"
    assert "保险标的" in content and "10 头" in content and "¥10,000.00" in content and household_no in content
