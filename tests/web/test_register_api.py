"""The register and roster uploads through the HTTP API, with the import run by a real RQ worker on real Redis."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from core.models import Role
from core.settings import Settings, get_settings
from insurance.demo.roster import generate_rows
from insurance.register.models import RosterImport
from tests.builders import bearer, login_page, make_user
from tests.cover_builders import make_group_policy, make_offering_insurer, seed_catalogue
from tests.imports.builders import import_file, write_rows
from tests.infra import run_worker_until_idle
from tests.roster_defects import generate_defective_rows

HUAYUAN = "433124"


@pytest.fixture
def job_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Jobs read their settings from the environment, as in the worker process."""
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def upload(client: TestClient, headers: dict[str, str], path: Path, **form: str) -> dict:
    with path.open("rb") as handle:
        response = client.post("/api/roster-imports", headers=headers, files={"file": (path.name, handle)}, data=form)
    assert response.status_code == 202, response.text
    return response.json()


def test_an_uploaded_roster_is_imported_by_the_worker_and_its_report_downloads(
    client: TestClient, session: Session, job_env: Settings, tmp_path: Path
) -> None:
    make_user(session, Role.province_office, username="province")
    headers = bearer(client, "province")
    rows, expectations = generate_defective_rows(seed=1)
    created = upload(client, headers, write_rows(tmp_path / "bad.csv", rows))
    assert created["status"] == "queued"
    run_worker_until_idle(job_env)
    done = client.get(f"/api/roster-imports/{created['id']}", headers=headers).json()
    rejected = sum(1 for e in expectations if e.decision == "reject")
    assert done["status"] == "done" and done["applied"] is True
    assert done["rejected"] == rejected and done["rows"] == len(rows)
    issues = client.get(f"/api/roster-imports/{created['id']}/issues?errors_only=true&limit=1000", headers=headers)
    assert issues.json()["count"] == rejected
    report = client.get(f"/api/roster-imports/{created['id']}/report.csv", headers=headers)
    assert report.status_code == 200 and report.content.startswith(b"\xef\xbb\xbf")
    assert report.text.count("拒绝 rejected") == rejected
    xlsx = client.get(f"/api/roster-imports/{created['id']}/report.xlsx", headers=headers)
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert sum(1 for r in sheet.iter_rows(min_row=2, values_only=True) if str(r[3]).startswith("拒绝")) == rejected


def test_a_second_delivery_of_the_same_import_job_does_nothing(
    client: TestClient, session: Session, job_env: Settings, tmp_path: Path
) -> None:
    from insurance.register.jobs import run_roster_import

    make_user(session, Role.province_office, username="province")
    headers = bearer(client, "province")
    created = upload(client, headers, write_rows(tmp_path / "r.csv", list(generate_rows(30, seed=2))))
    run_worker_until_idle(job_env)
    assert run_roster_import(created["id"]) == {"import_id": created["id"], "skipped": True}
    assert client.get("/api/households?limit=1", headers=headers).json()["count"] == len(
        {r[0] for r in generate_rows(30, seed=2)}
    )


def test_an_upload_while_redis_is_down_stays_queued_and_the_sweeper_sends_it_later(
    client: TestClient, session: Session, job_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from insurance.register.jobs import enqueue_queued_imports

    make_user(session, Role.province_office, username="province")
    headers = bearer(client, "province")
    live_redis = client.app.state.settings.redis_url
    client.app.state.settings = client.app.state.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    created = upload(client, headers, write_rows(tmp_path / "r.csv", list(generate_rows(20, seed=3))))
    client.app.state.settings = client.app.state.settings.model_copy(update={"redis_url": live_redis})
    assert client.get(f"/api/roster-imports/{created['id']}", headers=headers).json()["status"] == "queued"
    assert enqueue_queued_imports() == 1
    run_worker_until_idle(job_env)
    assert client.get(f"/api/roster-imports/{created['id']}", headers=headers).json()["status"] == "done"


@pytest.mark.parametrize(
    ("filename", "content", "field"),
    [("roster.csv", b"", "file"), ("roster.pdf", b"%PDF-1.4", "file")],
)
def test_a_bad_upload_is_422_naming_the_file_field(
    client: TestClient, session: Session, filename: str, content: bytes, field: str
) -> None:
    make_user(session, Role.province_office, username="province")
    response = client.post(
        "/api/roster-imports", headers=bearer(client, "province"), files={"file": (filename, content)}
    )
    assert response.status_code == 422 and response.json()["field"] == field


@pytest.mark.parametrize(
    ("filename", "content", "named"),
    [
        ("roster.csv", "户编号,姓名\r\n4331240000000001,张三\r\n".encode("gb18030"), "证件号码"),
        ("roster.xlsx", b"PK\x03\x04 not a workbook", "XLSX"),
    ],
)
def test_an_upload_that_is_not_a_usable_roster_is_refused_at_once_and_nothing_is_kept(
    client: TestClient, session: Session, settings: Settings, filename: str, content: bytes, named: str
) -> None:
    make_user(session, Role.province_office, username="province")
    response = client.post(
        "/api/roster-imports", headers=bearer(client, "province"), files={"file": (filename, content)}
    )
    body = response.json()
    assert response.status_code == 422 and body["field"] == "file" and named in body["message"]
    assert session.exec(select(func.count()).select_from(RosterImport)).one() == 0
    assert not any((settings.var_dir / "uploads").glob("*"))


def test_an_insurer_may_not_upload_rosters(client: TestClient, session: Session, tmp_path: Path) -> None:
    make_user(session, Role.insurer_handler, username="picc")
    path = write_rows(tmp_path / "r.csv", list(generate_rows(3, seed=4)))
    with path.open("rb") as handle:
        response = client.post("/api/roster-imports", headers=bearer(client, "picc"), files={"file": ("r.csv", handle)})
    assert response.status_code == 403


def test_households_are_listed_by_village_and_found_by_name_or_id(
    client: TestClient, session: Session, engine: object, tmp_path: Path
) -> None:
    rows = list(generate_rows(200, seed=5, counties=[HUAYUAN]))
    import_file(engine, write_rows(tmp_path / "r.csv", rows))  # type: ignore[arg-type]
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "huayuan")
    village = rows[0][7]
    listed = client.get(f"/api/households?village={village}&limit=500", headers=headers).json()
    assert listed["count"] == len({r[0] for r in rows if r[7] == village})
    person = rows[7]
    by_name = client.get(f"/api/households?q={person[1]}", headers=headers).json()
    assert person[0] in {h["household_no"] for h in by_name["data"]}
    by_id = client.get(f"/api/households?q={person[2]}", headers=headers).json()
    assert [h["household_no"] for h in by_id["data"]] == [person[0]]
    by_tail = client.get(f"/api/households?q={person[2][-6:]}", headers=headers).json()
    assert person[0] in {h["household_no"] for h in by_tail["data"]}


def test_household_detail_masks_ids_for_insurers_and_shows_them_to_the_county(
    client: TestClient, session: Session, engine: object, tmp_path: Path
) -> None:
    rows = list(generate_rows(20, seed=6, counties=[HUAYUAN]))
    import_file(engine, write_rows(tmp_path / "r.csv", rows))  # type: ignore[arg-type]
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    seed_catalogue(session)
    picc = make_user(session, Role.insurer_handler, username="picc", insurer=make_offering_insurer(session))
    make_group_policy(session, picc)  # an insurer sees the register of the counties where it holds a policy
    household_no = rows[0][0]
    county_view = client.get(f"/api/households/{household_no}", headers=bearer(client, "huayuan")).json()
    insurer_view = client.get(f"/api/households/{household_no}", headers=bearer(client, "picc")).json()
    ids = {r[2] for r in rows if r[0] == household_no}
    assert {m["id_number"] for m in county_view["members"]} == ids
    assert {m["id_number"] for m in insurer_view["members"]} == {None}
    assert all(m["id_number_masked"][6:-3] == "*********" for m in insurer_view["members"])
    assert county_view["path"][-1]["level"] == "village"


def test_a_household_of_another_county_is_404(
    client: TestClient, session: Session, engine: object, tmp_path: Path
) -> None:
    rows = list(generate_rows(10, seed=7, counties=["433123"]))
    import_file(engine, write_rows(tmp_path / "r.csv", rows))  # type: ignore[arg-type]
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "huayuan")
    assert client.get(f"/api/households/{rows[0][0]}", headers=headers).status_code == 404
    assert client.get(f"/api/households?village={rows[0][7]}", headers=headers).status_code == 404
    assert client.get("/api/households", headers=headers).json()["count"] == 0


def test_household_pages_show_masked_ids_and_rare_names(
    client: TestClient, session: Session, engine: object, tmp_path: Path
) -> None:
    rows = list(generate_rows(30, seed=8, counties=[HUAYUAN]))
    rows[0] = (rows[0][0], "吴荣𠮷", *rows[0][2:])
    import_file(engine, write_rows(tmp_path / "r.csv", rows))  # type: ignore[arg-type]
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    login_page(client, "huayuan")
    page = client.get(f"/households/{rows[0][0]}").text
    assert "吴荣𠮷" in page and rows[0][2] not in page and rows[0][2][:6] + "*********" in page
    listing = client.get(f"/households?village={rows[0][7]}").text
    assert rows[0][0] in listing


def test_county_home_counts_only_its_own_register(
    client: TestClient, session: Session, engine: object, tmp_path: Path
) -> None:
    rows = list(generate_rows(120, seed=9, counties=[HUAYUAN, "433123"]))
    import_file(engine, write_rows(tmp_path / "r.csv", rows))  # type: ignore[arg-type]
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    login_page(client, "huayuan")
    own = [r for r in rows if r[0].startswith(HUAYUAN)]
    page = client.get("/").text
    assert f"登记贫困户 <strong>{len({r[0] for r in own}):,}</strong> 户" in page
    assert f"在册成员 <strong>{len(own):,}</strong> 人" in page


def test_an_import_whose_worker_died_is_marked_failed_by_the_sweeper(
    client: TestClient, session: Session, job_env: Settings, tmp_path: Path
) -> None:
    from datetime import timedelta

    from core.db import utcnow
    from insurance.register.jobs import enqueue_queued_imports
    from insurance.register.models import RosterImport

    make_user(session, Role.province_office, username="province")
    headers = bearer(client, "province")
    created = upload(client, headers, write_rows(tmp_path / "r.csv", list(generate_rows(5, seed=10))))
    record = session.get(RosterImport, created["id"])
    record.status, record.started_at = "running", utcnow() - timedelta(hours=5)
    session.add(record)
    session.commit()
    enqueue_queued_imports()
    body = client.get(f"/api/roster-imports/{created['id']}", headers=headers).json()
    assert body["status"] == "failed" and "未作任何修改" in body["message"]


@pytest.mark.parametrize("importer", ["province", "county"])
def test_the_province_reads_full_id_numbers_only_of_the_households_it_imported_itself(
    client: TestClient, session: Session, engine: object, tmp_path: Path, importer: str
) -> None:
    rows = list(generate_rows(6, seed=9, counties=[HUAYUAN]))
    county = None if importer == "province" else HUAYUAN
    import_file(engine, write_rows(tmp_path / "r.csv", rows), county_code=county)  # type: ignore[arg-type]
    make_user(session, Role.province_office, username="province")
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    household_no = rows[0][0]
    ids = {r[2] for r in rows if r[0] == household_no}
    province = client.get(f"/api/households/{household_no}", headers=bearer(client, "province")).json()
    county_view = client.get(f"/api/households/{household_no}", headers=bearer(client, "huayuan")).json()
    assert {m["id_number"] for m in county_view["members"]} == ids  # the county keeps its register
    assert {m["id_number"] for m in province["members"]} == (ids if importer == "province" else {None})
    assert not any(i in str(province) for i in ids) or importer == "province"
