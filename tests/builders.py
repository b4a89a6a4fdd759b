"""Typed builders of test data, through the real services."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from core import users
from core.audit import Actor
from core.models import Role, User
from core.schemas import UserCreate
from insurance.register import service as register_service
from insurance.register.identifiers import uscc_check_char
from insurance.register.models import Insurer

PASSWORD = "correct-horse-42"


def make_insurer(session: Session, *, short_name: str = "测试保险", seq: str = "0000001") -> Insurer:
    first17 = f"91430000MA4{seq[:6]}"
    return register_service.ensure_insurer(
        session,
        Actor.system("test"),
        uscc=first17 + uscc_check_char(first17),
        name=f"{short_name}股份有限公司湖南省分公司",
        short_name=short_name,
        hotline="95500",
    )


def make_user(
    session: Session,
    role: Role,
    *,
    username: str | None = None,
    county: str | None = None,
    insurer: Insurer | None = None,
    password: str = PASSWORD,
) -> User:
    if role in (Role.insurer_handler, Role.insurer_supervisor) and insurer is None:
        insurer = make_insurer(session)
    return users.create_user(
        session,
        Actor.system("test"),
        UserCreate(
            username=username or f"{role.value.replace('_', '-')}-{county or 'x'}",
            display_name=f"测试{role.value}",
            password=password,
            role=role,
            county_code=county,
            insurer_id=insurer.id if insurer else None,
        ),
    )


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def login_page(client: TestClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 303, response.text
