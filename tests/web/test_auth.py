"""Logging in, each role's home page, and who may see what, through the HTTP API and the pages."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.models import AuditLog, Role
from tests.builders import PASSWORD, bearer, login_page, make_insurer, make_user

HUAYUAN = "433124"
FENGHUANG = "433123"


def test_login_with_the_right_password_sets_an_httponly_session_cookie(client: TestClient, session: Session) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    response = client.post("/login", data={"username": "huayuan", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "tehuibao_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_login_with_a_wrong_password_is_refused_and_audited(client: TestClient, session: Session) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    response = client.post("/login", data={"username": "huayuan", "password": "wrong-password"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert "set-cookie" not in response.headers
    failed = session.exec(select(AuditLog).where(AuditLog.action == "login_failed")).all()
    assert [f.actor for f in failed] == ["huayuan"]


def test_api_token_with_a_wrong_password_is_401(client: TestClient, session: Session) -> None:
    make_user(session, Role.province_office, username="province")
    response = client.post("/api/auth/token", data={"username": "province", "password": "nope-nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "bad_credentials"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client: TestClient) -> None:
    response = client.post("/api/auth/token", data={"username": "ghost", "password": "whatever1"})
    assert response.status_code == 401 and response.json()["code"] == "bad_credentials"


@pytest.mark.parametrize(
    ("role", "county", "expected"),
    [
        (Role.province_office, None, "全省覆盖情况"),
        (Role.county_office, HUAYUAN, "花垣县"),
        (Role.insurer_handler, None, "本公司保单"),
        (Role.insurer_supervisor, None, "待处理的理赔案件"),
        (Role.admin, None, "最近的审计记录"),
    ],
)
def test_each_role_sees_its_own_home_page(
    client: TestClient, session: Session, role: Role, county: str | None, expected: str
) -> None:
    user = make_user(session, role, county=county)
    login_page(client, user.username)
    response = client.get("/")
    assert response.status_code == 200
    assert expected in response.text
    assert user.display_name in response.text


def test_province_home_lists_the_real_prefectures(client: TestClient, session: Session) -> None:
    make_user(session, Role.province_office, username="province")
    login_page(client, "province")
    page = client.get("/").text
    assert "湘西土家族苗族自治州" in page and "怀化市" in page and "14 个市州" in page


def test_home_page_without_login_redirects_to_the_login_page(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_logout_revokes_the_session(client: TestClient, session: Session) -> None:
    make_user(session, Role.province_office, username="province")
    login_page(client, "province")
    token = client.cookies.get("tehuibao_session")
    assert client.post("/logout", follow_redirects=False).status_code == 303
    client.cookies.set("tehuibao_session", token)
    assert client.get("/api/me").status_code == 401


def test_api_without_a_token_is_401(client: TestClient) -> None:
    response = client.get("/api/divisions/433124")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_with_a_bad_token_is_401(client: TestClient) -> None:
    assert client.get("/api/me", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_county_office_reads_its_own_county(client: TestClient, session: Session) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    response = client.get(f"/api/divisions/{HUAYUAN}", headers=bearer(client, "huayuan"))
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "花垣县" and body["level"] == "county"
    assert [d["name"] for d in body["path"]] == []  # its jurisdiction starts at the county


def test_county_office_outside_its_county_gets_404_not_403(client: TestClient, session: Session) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "huayuan")
    other = client.get(f"/api/divisions/{FENGHUANG}", headers=headers)
    missing = client.get("/api/divisions/433199", headers=headers)
    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == missing.json()["code"] == "division_not_found"
    assert client.get("/api/divisions/430000", headers=headers).status_code == 404
    assert client.get(f"/divisions/{FENGHUANG}", headers=headers).status_code == 404


def test_province_office_reads_any_county_with_its_path(client: TestClient, session: Session) -> None:
    make_user(session, Role.province_office, username="province")
    body = client.get(f"/api/divisions/{FENGHUANG}", headers=bearer(client, "province")).json()
    assert [d["name"] for d in body["path"]] == ["湖南省", "湘西土家族苗族自治州"]


def test_user_admin_api_is_403_for_other_roles(client: TestClient, session: Session) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "huayuan")
    assert client.get("/api/users", headers=headers).status_code == 403
    response = client.post("/api/users", headers=headers, json={})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_creating_a_user_writes_an_audit_record_without_the_password(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.admin, username="admin")
    response = client.post(
        "/api/users",
        headers=bearer(client, "admin"),
        json={
            "username": "fenghuang",
            "display_name": "凤凰县扶贫办",
            "password": "s3cret-pass",
            "role": "county_office",
            "county_code": FENGHUANG,
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    entry = session.exec(
        select(AuditLog).where(AuditLog.entity_type == "user", AuditLog.entity_id == str(created["id"]))
    ).one()
    assert entry.action == "create" and entry.actor == "admin" and entry.actor_user_id == admin.id
    assert entry.before is None
    assert entry.after["county_code"] == FENGHUANG + "000000" and entry.after["role"] == "county_office"
    assert "s3cret-pass" not in str(entry.after) and "password_hash" not in entry.after


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": "county_office", "county_code": "439999"}, "county_code"),
        ({"role": "county_office"}, "county_code"),
        ({"role": "insurer_handler"}, "insurer_id"),
        ({"role": "province_office", "county_code": HUAYUAN}, "county_code"),
        ({"role": "county_office", "county_code": "4331"}, "county_code"),
        ({"role": "superuser"}, "role"),
        ({"role": "admin", "username": "Bad Name"}, "username"),
        ({"role": "admin", "password": "short"}, "password"),
    ],
)
def test_bad_user_input_is_422_naming_the_field_and_stores_nothing(
    client: TestClient, session: Session, payload: dict[str, str], field: str
) -> None:
    make_user(session, Role.admin, username="admin")
    body = {"username": "newuser", "display_name": "新用户", "password": "long-enough-1", **payload}
    response = client.post("/api/users", headers=bearer(client, "admin"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and response.json()["message"]
    assert client.get("/api/users", headers=bearer(client, "admin")).json()["count"] == 1


def test_duplicate_username_is_409(client: TestClient, session: Session) -> None:
    make_user(session, Role.admin, username="admin")
    body = {"username": "admin", "display_name": "x", "password": "long-enough-1", "role": "admin"}
    response = client.post("/api/users", headers=bearer(client, "admin"), json=body)
    assert response.status_code == 409 and response.json()["field"] == "username"


def test_insurer_user_is_bound_to_its_insurer(client: TestClient, session: Session) -> None:
    insurer = make_insurer(session, short_name="太保产险", seq="0000002")
    make_user(session, Role.insurer_handler, username="cpic", insurer=insurer)
    login_page(client, "cpic")
    assert insurer.name in client.get("/").text


def test_error_page_is_chinese_html_for_browsers(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.text and response.headers["content-type"].startswith("text/html")


def test_login_does_not_redirect_to_another_site(client: TestClient, session: Session) -> None:
    make_user(session, Role.province_office, username="province")
    response = client.post(
        "/login",
        data={"username": "province", "password": PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_password_hashes_are_argon2id_at_the_configured_cost_and_verify_whatever_their_cost() -> None:
    from argon2 import PasswordHasher

    from core.auth import hash_password, verify_password
    from core.settings import Settings

    fields = Settings.model_fields
    defaults = (fields["password_hash_memory_kib"].default, fields["password_hash_time_cost"].default)
    assert defaults == (65536, 3)  # RFC 9106's second recommended profile, unless configured otherwise
    made_here = hash_password("正确的密码")
    assert made_here.startswith("$argon2id$") and ",".join(["m=1024", "t=1"]) in made_here  # the suite's cost
    made_at_full_cost = PasswordHasher(time_cost=3, memory_cost=65536).hash("正确的密码")
    assert verify_password(made_at_full_cost, "正确的密码") and verify_password(made_here, "正确的密码")
    assert not verify_password(made_at_full_cost, "错误的密码") and not verify_password(None, "正确的密码")
