"""The administrator's user operations (disable, enable, reset a password, change role or scope) and a user's change
of their own password, through the API and the pages: each is audited without a password, refusals name the field
in Chinese, and a disabled user's or a reset password's old tokens stop working."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import users
from core.audit import Actor
from core.errors import Conflict
from core.models import AuditLog, Role
from core.schemas import UserUpdate
from tests.builders import PASSWORD, bearer, login_page, make_insurer, make_user

HUAYUAN = "433124"
FENGHUANG = "433123"


def _entries(session: Session, action: str) -> list[AuditLog]:
    session.rollback()  # a fresh snapshot: the app wrote in its own sessions
    return list(session.exec(select(AuditLog).where(AuditLog.action == action)).all())


def _refused(response, status: int, field: str) -> str:  # noqa: ANN001 - an httpx response
    assert response.status_code == status, response.text
    body = response.json()
    assert body["field"] == field, body
    assert all(ord(c) < 128 for c in body["code"])
    assert any("\u4e00" <= c <= "\u9fff" for c in body["message"]), body["message"]
    return body["message"]


def test_disabling_a_user_revokes_their_live_token_and_refuses_their_login(
    client: TestClient, session: Session
) -> None:
    make_user(session, Role.admin, username="admin")
    county = make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    admin, theirs = bearer(client, "admin"), bearer(client, "huayuan")
    assert client.get("/api/me", headers=theirs).status_code == 200

    response = client.post(f"/api/users/{county.id}/active", headers=admin, json={"is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert client.get("/api/me", headers=theirs).status_code == 401
    refused = client.post("/api/auth/token", data={"username": "huayuan", "password": PASSWORD})
    assert refused.status_code == 401
    [entry] = _entries(session, "disable")
    assert entry.actor == "admin" and entry.entity_id == str(county.id)
    assert entry.before == {"is_active": True} and entry.after == {"is_active": False, "sessions_revoked": 1}

    assert client.post(f"/api/users/{county.id}/active", headers=admin, json={"is_active": True}).status_code == 200
    assert client.get("/api/me", headers=theirs).status_code == 401  # revoked stays revoked
    assert client.get("/api/me", headers=bearer(client, "huayuan")).status_code == 200
    assert len(_entries(session, "enable")) == 1


def test_an_admin_cannot_disable_themselves(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.admin, username="admin")
    response = client.post(f"/api/users/{admin.id}/active", headers=bearer(client, "admin"), json={"is_active": False})
    assert _refused(response, 409, "is_active") == "不能停用自己的账号"
    assert _entries(session, "disable") == []


def test_the_last_active_admin_cannot_lose_the_role(client: TestClient, session: Session) -> None:
    admin = make_user(session, Role.admin, username="admin")
    other = make_user(session, Role.admin, username="admin2")
    headers = bearer(client, "admin")
    # The other admin may be demoted while this one stays; then this one is the last and cannot be demoted by them.
    change = {"role": "province_office"}
    assert client.patch(f"/api/users/{other.id}", headers=headers, json=change).status_code == 200
    own = client.patch(f"/api/users/{admin.id}", headers=headers, json=change)
    assert _refused(own, 409, "role") == "不能修改自己的角色"
    # Only the command line (acting as the system, not as an admin) could remove the last one: it may not either.
    with pytest.raises(Conflict) as caught:
        users.set_active(session, Actor.system("cli"), admin.id or 0, False)
    assert caught.value.code == "last_admin" and caught.value.message == "不能停用最后一个启用的系统管理员"
    session.rollback()
    with pytest.raises(Conflict):
        users.update_user(session, Actor.system("cli"), admin.id or 0, UserUpdate(role=Role.province_office))


def test_changing_role_and_county_is_checked_like_creation_and_audited_as_a_diff(
    client: TestClient, session: Session
) -> None:
    make_user(session, Role.admin, username="admin")
    county = make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "admin")
    bad = client.patch(f"/api/users/{county.id}", headers=headers, json={"role": "county_office"})
    assert _refused(bad, 422, "county_code") == "县扶贫办用户必须指定所属县"
    insurer = client.patch(f"/api/users/{county.id}", headers=headers, json={"role": "insurer_handler"})
    _refused(insurer, 422, "insurer_id")

    moved = client.patch(
        f"/api/users/{county.id}", headers=headers, json={"role": "county_office", "county_code": FENGHUANG}
    )
    assert moved.status_code == 200 and moved.json()["county_code"] == FENGHUANG + "000000"
    [entry] = [e for e in _entries(session, "update") if e.entity_type == "user"]
    assert entry.before == {"county_code": HUAYUAN + "000000"} and entry.after == {"county_code": FENGHUANG + "000000"}

    company = make_insurer(session)
    body = {"role": "insurer_supervisor", "insurer_id": company.id, "display_name": "太保主管"}
    changed = client.patch(f"/api/users/{county.id}", headers=headers, json=body)
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "insurer_supervisor" and changed.json()["county_code"] is None


def test_resetting_a_password_generates_one_shown_once_and_revokes_the_users_sessions(
    client: TestClient, session: Session
) -> None:
    make_user(session, Role.admin, username="admin")
    county = make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    theirs = bearer(client, "huayuan")
    response = client.post(f"/api/users/{county.id}/password", headers=bearer(client, "admin"), json={})
    assert response.status_code == 200, response.text
    generated = response.json()["generated_password"]
    assert len(generated) >= 12
    assert client.get("/api/me", headers=theirs).status_code == 401
    assert client.post("/api/auth/token", data={"username": "huayuan", "password": PASSWORD}).status_code == 401
    assert client.get("/api/me", headers=bearer(client, "huayuan", generated)).status_code == 200
    [entry] = _entries(session, "reset_password")
    assert entry.after == {"generated": True, "sessions_revoked": 1}
    assert generated not in str(entry.after) and "hash" not in str(entry.after)


def test_resetting_to_a_weak_password_is_refused_naming_the_field(client: TestClient, session: Session) -> None:
    make_user(session, Role.admin, username="admin")
    county = make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "admin")
    for weak in ("short", "aaaaaaaaaa"):
        response = client.post(f"/api/users/{county.id}/password", headers=headers, json={"new_password": weak})
        assert response.status_code == 422 and response.json()["field"] == "new_password"
    chosen = client.post(f"/api/users/{county.id}/password", headers=headers, json={"new_password": "a-new-one-77"})
    assert chosen.status_code == 200 and chosen.json()["generated_password"] is None
    assert client.post("/api/auth/token", data={"username": "huayuan", "password": "a-new-one-77"}).status_code == 200


def test_user_operations_are_for_the_admin_only(client: TestClient, session: Session) -> None:
    county = make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "huayuan")
    assert client.patch(f"/api/users/{county.id}", headers=headers, json={"role": "admin"}).status_code == 403
    assert client.post(f"/api/users/{county.id}/password", headers=headers, json={}).status_code == 403
    assert client.post(f"/api/users/{county.id}/active", headers=headers, json={"is_active": False}).status_code == 403


def test_a_user_changes_their_own_password_keeping_this_session_and_revoking_the_others(
    client: TestClient, session: Session
) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    other_device, this_one = bearer(client, "huayuan"), bearer(client, "huayuan")
    body = {"current_password": PASSWORD, "new_password": "my-new-secret-9", "confirm_password": "my-new-secret-9"}
    assert client.post("/api/me/password", headers=this_one, json=body).status_code == 204
    assert client.get("/api/me", headers=this_one).status_code == 200
    assert client.get("/api/me", headers=other_device).status_code == 401
    assert (
        client.post("/api/auth/token", data={"username": "huayuan", "password": "my-new-secret-9"}).status_code == 200
    )
    [entry] = _entries(session, "change_password")
    assert entry.actor == "huayuan" and entry.after == {"sessions_revoked": 1}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"current_password": "not-my-password"}, "current_password", "当前密码不正确"),
        ({"new_password": "short", "confirm_password": "short"}, "new_password", "密码须为8-200个字符"),
        ({"confirm_password": "something-else-1"}, "confirm_password", "两次输入的新密码不一致"),
    ],
    ids=["wrong-current", "weak-new", "unconfirmed"],
)
def test_changing_ones_own_password_is_refused_in_chinese_naming_the_field(
    client: TestClient, session: Session, change: dict[str, str], field: str, message: str
) -> None:
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    headers = bearer(client, "huayuan")
    body = {"current_password": PASSWORD, "new_password": "my-new-secret-9", "confirm_password": "my-new-secret-9"}
    response = client.post("/api/me/password", headers=headers, json=body | change)
    assert response.status_code == 422
    assert response.json()["field"] == field and message in response.json()["message"]
    assert client.get("/api/me", headers=headers).status_code == 200


def test_the_password_page_changes_the_password_and_shows_errors_in_chinese(
    client: TestClient, session: Session
) -> None:
    make_user(session, Role.insurer_handler, username="cpic")
    login_page(client, "cpic")
    assert "修改密码" in client.get("/").text
    form = {
        "current_password": "wrong-one-123",
        "new_password": "my-new-secret-9",
        "confirm_password": "my-new-secret-9",
    }
    wrong = client.post("/me/password", data=form)
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
    done = client.post("/me/password", data=form | {"current_password": PASSWORD})
    assert done.status_code == 200 and "密码已修改" in done.text


def test_the_users_page_creates_a_user_with_a_county_picked_by_name(client: TestClient, session: Session) -> None:
    make_user(session, Role.admin, username="admin")
    login_page(client, "admin")
    page = client.get("/admin/users").text
    assert "湘西土家族苗族自治州 · 花垣县" in page and "tehuibao users create" not in page
    form = {"username": "huayuan", "display_name": "花垣县扶贫办", "password": "long-enough-1", "role": "county_office"}
    missing = client.post("/admin/users", data=form)
    assert missing.status_code == 422 and "县扶贫办用户必须指定所属县" in missing.text
    created = client.post("/admin/users", data=form | {"county_code": HUAYUAN + "000000"})
    assert created.status_code == 200 and "已新建用户：花垣县扶贫办" in created.text
    assert "花垣县" in created.text
    short = client.post("/admin/users", data=form | {"username": "x", "county_code": HUAYUAN})
    assert short.status_code == 422 and "用户名须为3-64位小写字母" in short.text
