"""Use cases for users and logging in; each one is one transaction with its audit record."""

from sqlalchemy import column, table
from sqlmodel import Session, col, func, select

from core import audit
from core.audit import Actor
from core.auth import hash_password, issue_token, verify_password
from core.db import utcnow
from core.errors import Conflict, Invalid, NotFound, Unauthorized
from core.models import INSURER_ROLES, AuthToken, Role, TokenKind, User
from core.schemas import UserCreate

# Core may not import the insurance package; these are the two tables a user row points at.
_division = table("division", column("code"), column("level"), column("name"))
_insurer = table("insurer", column("id"), column("name"))


def _user_view(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "county_code": user.county_code,
        "insurer_id": user.insurer_id,
        "is_active": user.is_active,
    }


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def list_users(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[list[User], int]:
    rows = session.exec(select(User).order_by(col(User.id)).offset(offset).limit(limit)).all()
    return list(rows), session.exec(select(func.count()).select_from(User)).one()


def _check_scope(session: Session, data: UserCreate) -> None:
    if data.role == Role.county_office:
        if not data.county_code:
            raise Invalid("县扶贫办用户必须指定所属县", field="county_code")
        level = session.execute(
            select(_division.c.level).where(_division.c.code == data.county_code)
        ).scalar_one_or_none()
        if level != "county":
            raise Invalid(f"区划代码 {data.county_code[:6]} 不是已登记的县级区划", field="county_code")
    elif data.county_code:
        raise Invalid("只有县扶贫办用户可指定县", field="county_code")
    if data.role in INSURER_ROLES:
        if data.insurer_id is None:
            raise Invalid("保险公司用户必须指定保险公司", field="insurer_id")
        found = session.execute(select(_insurer.c.id).where(_insurer.c.id == data.insurer_id)).first()
        if found is None:
            raise Invalid(f"保险公司 {data.insurer_id} 不存在", field="insurer_id")
    elif data.insurer_id is not None:
        raise Invalid("只有保险公司用户可指定保险公司", field="insurer_id")


def create_user(session: Session, actor: Actor, data: UserCreate) -> User:
    if find_user(session, data.username) is not None:
        raise Conflict(f"用户名 {data.username} 已存在", field="username")
    _check_scope(session, data)
    user = User(
        username=data.username,
        display_name=data.display_name.strip(),
        password_hash=hash_password(data.password),
        role=data.role,
        county_code=data.county_code,
        insurer_id=data.insurer_id,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id, after=_user_view(user))
    session.commit()
    return user


def login(session: Session, username: str, password: str, kind: TokenKind, hours: int) -> tuple[str, AuthToken]:
    """Checks the password and issues a token; a failed attempt is audited too."""
    user = find_user(session, username.strip())
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.is_active:
        audit.record(
            session,
            Actor(name=username.strip()[:100] or "-"),
            "login_failed",
            "user",
            user.id if user else None,
        )
        session.commit()
        raise Unauthorized("用户名或密码错误", code="bad_credentials")
    token, row = issue_token(session, user, kind, hours)
    audit.record(session, Actor.of(user), "login", "user", user.id, after={"kind": kind})
    session.commit()
    return token, row


def logout(session: Session, user: User, token_row: AuthToken | None) -> None:
    if token_row is not None and token_row.revoked_at is None:
        token_row.revoked_at = utcnow()
        session.add(token_row)
        audit.record(session, Actor.of(user), "logout", "user", user.id, after={"kind": token_row.kind})
        session.commit()
