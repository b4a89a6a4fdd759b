"""No full ID number on the import's page, in its issues API or in a log line; only the importing office's report
file has them whole (in the value column), every other reader gets them masked or 404."""

import io
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.masking import mask_id_number
from core.models import Role, User
from insurance.register import service
from insurance.register.errors import RegisterNotFoundError
from insurance.register.roster import COLUMNS
from tests.builders import bearer, login_page, make_user
from tests.cover_builders import make_offering_insurer
from tests.imports.builders import LeakyRoster, import_file, leaky_roster

HUAYUAN = "433124"
OTHER_COUNTY = "433123"


def _leaks(text: str, roster: LeakyRoster) -> list[str]:
    return [number for number in roster.full_numbers if number in text]


def _report_texts(client: TestClient, headers: dict[str, str], import_id: int) -> tuple[str, str]:
    csv_report = client.get(f"/api/roster-imports/{import_id}/report.csv", headers=headers)
    xlsx_report = client.get(f"/api/roster-imports/{import_id}/report.xlsx", headers=headers)
    assert csv_report.status_code == 200 and xlsx_report.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx_report.content), read_only=True).active
    cells = "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    return csv_report.text, cells


def test_the_import_page_issues_api_and_logs_never_show_a_full_id_number_even_to_the_importing_office(
    client: TestClient, session: Session, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    roster = leaky_roster(tmp_path / "r.csv")
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "huayuan")
    login_page(client, "huayuan")
    with caplog.at_level(logging.DEBUG):
        # The first on an empty register streams (its own duplicate check); the second goes through the staging.
        first = import_file(engine, roster.path, county_code=HUAYUAN)
        second = import_file(engine, roster.path, county_code=HUAYUAN)
        for outcome in (first, second):
            assert outcome.counts.rejected == 3 and outcome.counts.normalised == 2
            page = client.get(f"/roster-imports/{outcome.import_id}")
            assert page.status_code == 200
            assert _leaks(page.text, roster) == []
            assert mask_id_number(roster.bad_checksum) in page.text  # the message and the value, masked alike
            issues = client.get(f"/api/roster-imports/{outcome.import_id}/issues?limit=1000", headers=headers)
            assert issues.status_code == 200 and issues.json()["count"] == 5
            assert _leaks(issues.text, roster) == []
    assert _leaks(caplog.text, roster) == []


def test_a_roster_with_english_headers_gets_its_ids_masked_and_its_columns_named_in_chinese_on_the_page(
    client: TestClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    roster = leaky_roster(tmp_path / "r.csv", header=[c.key.upper() for c in COLUMNS])
    import_id = import_file(engine, roster.path, county_code=HUAYUAN).import_id
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    login_page(client, "huayuan")
    page = client.get(f"/roster-imports/{import_id}").text
    assert _leaks(page, roster) == []
    assert "<td>证件号码</td>" in page and "ID_NUMBER" not in page and "PHONE" not in page


def test_only_the_importing_county_office_report_file_has_full_id_numbers(
    client: TestClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    roster = leaky_roster(tmp_path / "r.csv")
    import_id = import_file(engine, roster.path, county_code=HUAYUAN).import_id
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    make_user(session, Role.county_office, username="other", county=OTHER_COUNTY)
    make_user(session, Role.province_office, username="province")
    make_user(session, Role.admin, username="root")
    make_user(session, Role.insurer_handler, username="picc", insurer=make_offering_insurer(session))

    for text in _report_texts(client, bearer(client, "huayuan"), import_id):
        assert roster.bad_checksum in text and roster.shifted in text and roster.duplicate in text
    for reader in ("province", "root"):  # may read the county's import, but did not import it
        for text in _report_texts(client, bearer(client, reader), import_id):
            assert _leaks(text, roster) == [], reader
            assert mask_id_number(roster.bad_checksum) in text
    for stranger in ("other", "picc"):
        headers = bearer(client, stranger)
        for path in ("", "/issues", "/report.csv", "/report.xlsx"):
            assert client.get(f"/api/roster-imports/{import_id}{path}", headers=headers).status_code == 404
        login_page(client, stranger)
        assert client.get(f"/roster-imports/{import_id}").status_code == 404


def test_a_province_wide_import_report_is_whole_for_the_province_office_only(
    client: TestClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    roster = leaky_roster(tmp_path / "r.csv")
    import_id = import_file(engine, roster.path).import_id  # no county: the province's import
    make_user(session, Role.province_office, username="province")
    make_user(session, Role.admin, username="root")
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    for text in _report_texts(client, bearer(client, "province"), import_id):
        assert roster.bad_checksum in text
    for text in _report_texts(client, bearer(client, "root"), import_id):
        assert _leaks(text, roster) == []
    assert client.get(f"/api/roster-imports/{import_id}", headers=bearer(client, "huayuan")).status_code == 404


def test_a_county_office_without_a_county_reads_no_import(session: Session, engine: Engine, tmp_path: Path) -> None:
    import_id = import_file(engine, leaky_roster(tmp_path / "r.csv").path, county_code=HUAYUAN).import_id
    nowhere = User(username="nowhere", display_name="无县", role=Role.county_office, password_hash="x")
    with pytest.raises(RegisterNotFoundError):
        service.get_import(session, nowhere, import_id)
    assert service.list_imports(session, nowhere) == ([], 0)
