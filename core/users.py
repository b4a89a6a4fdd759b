"""Use cases for users and logging in; each one is one transaction with its audit record."""

import secrets
import string

from sqlalchemy import column, table, update
from sqlmodel import Session, col, func, select

from core import audit
from core.audit import Actor
from core.auth import hash_password, issue_token, verify_password
from core.db import utcnow
from core.errors import Conflict, Invalid, NotFound, Unauthorized
from core.models import INSURER_ROLES, AuthToken, Role, TokenKind, User
from core.schemas import PasswordChange, PasswordReset, UserCreate, UserUpdate

# Core may not import the insurance package; these are the two tables a user row points at.
_division = table("division", column("code"), column("level"), column("name"), column("parent_code"))
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


def list_counties(session: Session) -> list[tuple[str, str]]:
    """The counties a county office may be bound to, as (12-digit code, "prefecture · county") for a select box."""
    parent = _division.alias("parent")
    rows = session.execute(
        select(_division.c.code, _division.c.name, parent.c.name)
        .select_from(_division.outerjoin(parent, parent.c.code == _division.c.parent_code))
        .where(_division.c.level == "county")
        .order_by(_division.c.code)
    ).all()
    return [(code, f"{above} · {name}" if above else name) for code, name, above in rows]


def list_insurers(session: Session) -> list[tuple[int, str]]:
    return [(i, n) for i, n in session.execute(select(_insurer.c.id, _insurer.c.name).order_by(_insurer.c.id)).all()]


def scope_names(session: Session, rows: list[User]) -> dict[str, str]:
    """Readable names of the counties and insurers the users are bound to (`county:<code>`, `insurer:<id>`), so a
    page shows 花垣县 rather than a code."""
    codes = {u.county_code for u in rows if u.county_code}
    ids = {u.insurer_id for u in rows if u.insurer_id is not None}
    names: dict[str, str] = {}
    if codes:
        query = select(_division.c.code, _division.c.name).where(_division.c.code.in_(codes))
        names |= {f"county:{c}": n for c, n in session.execute(query).all()}
    if ids:
        query = select(_insurer.c.id, _insurer.c.name).where(_insurer.c.id.in_(ids))
        names |= {f"insurer:{i}": n for i, n in session.execute(query).all()}
    return names


def _check_scope(session: Session, data: UserCreate | UserUpdate) -> None:
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


# --- the administrator's operations on a user ---------------------------------------------------------------


def _revoke_tokens(session: Session, user_id: int, *, keep: AuthToken | None = None) -> int:
    """Revokes the user's live tokens (sessions and API tokens) but `keep`; returns how many."""
    query = update(AuthToken).where(col(AuthToken.user_id) == user_id, col(AuthToken.revoked_at).is_(None))
    if keep is not None and keep.id is not None:
        query = query.where(col(AuthToken.id) != keep.id)
    return session.execute(query.values(revoked_at=utcnow())).rowcount or 0


def _other_active_admins(session: Session, user: User) -> int:
    """Active administrators besides `user`. Every active administrator's row is locked, in id order (PostgreSQL;
    SQLite serialises writers anyway), so two administrators disabling each other at once take turns and the second
    finds itself the last one instead of leaving none."""
    ids = session.exec(
        select(User.id)
        .where(User.role == Role.admin, col(User.is_active).is_(True))
        .order_by(col(User.id))
        .with_for_update()
    ).all()
    return len([i for i in ids if i != user.id])


def _check_not_last_admin(session: Session, user: User, message: str) -> None:
    if user.role == Role.admin and user.is_active and _other_active_admins(session, user) == 0:
        raise Conflict(message, code="last_admin")


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Disables or enables a user. A disabled user cannot log in, and every token they hold stops working now
    (revoked, not merely refused). An administrator cannot disable themselves, nor the last active administrator."""
    user = get_user(session, user_id)
    if user.is_active == active:
        return user
    if not active:
        if user.id == actor.user_id:
            raise Conflict("不能停用自己的账号", code="self", field="is_active")
        _check_not_last_admin(session, user, "不能停用最后一个启用的系统管理员")
    user.is_active = active
    session.add(user)
    revoked = 0 if active else _revoke_tokens(session, user.id or 0)
    after: dict[str, object] = {"is_active": active}
    if revoked:
        after["sessions_revoked"] = revoked
    audit.record(
        session,
        actor,
        "enable" if active else "disable",
        "user",
        user.id,
        before={"is_active": not active},
        after=after,
    )
    session.commit()
    return user


def update_user(session: Session, actor: Actor, user_id: int, data: UserUpdate) -> User:
    """Changes a user's name, role or scope, checked as on creation. An administrator cannot change their own role
    (they would lock themselves out), nor take the role from the last active administrator."""
    user = get_user(session, user_id)
    _check_scope(session, data)
    if data.role != user.role:
        if user.id == actor.user_id:
            raise Conflict("不能修改自己的角色", code="self", field="role")
        _check_not_last_admin(session, user, "不能修改最后一个启用的系统管理员的角色")
    before = _user_view(user)
    if data.display_name is not None:
        user.display_name = data.display_name.strip()
    user.role, user.county_code, user.insurer_id = data.role, data.county_code, data.insurer_id
    old, new = audit.diff(before, _user_view(user))
    if not new:
        return user
    session.add(user)
    audit.record(session, actor, "update", "user", user.id, before=old, after=new)
    session.commit()
    return user


def generate_password(length: int = 14) -> str:
    """A password to read out or copy once: letters and digits without the look-alikes (0/O, 1/l/I)."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
    return "".join(secrets.choice(alphabet) for _ in range(length))


def reset_password(session: Session, actor: Actor, user_id: int, data: PasswordReset) -> tuple[User, str | None]:
    """The administrator sets a user's password, or has one generated (returned once, never stored or logged); the
    user's sessions and tokens are revoked, so whoever held the old password is out. Their own password an
    administrator changes like everyone else (current password required)."""
    user = get_user(session, user_id)
    if user.id == actor.user_id:
        raise Conflict("请通过“修改密码”修改自己的密码", code="self", field="new_password")
    generated = None if data.new_password else generate_password()
    user.password_hash = hash_password(data.new_password or generated or "")
    session.add(user)
    revoked = _revoke_tokens(session, user.id or 0)
    audit.record(
        session,
        actor,
        "reset_password",
        "user",
        user.id,
        after={"generated": generated is not None, "sessions_revoked": revoked},
    )
    session.commit()
    return user, generated


def change_own_password(session: Session, user: User, data: PasswordChange, current_token: AuthToken | None) -> User:
    """A user changes their own password: the current one is required, the confirmation must match; their other
    sessions and tokens are revoked, the one in use is kept."""
    if not verify_password(user.password_hash, data.current_password):
        raise Invalid("当前密码不正确", code="wrong_password", field="current_password")
    if data.new_password != data.confirm_password:
        raise Invalid("两次输入的新密码不一致", field="confirm_password")
    if data.new_password == data.current_password:
        raise Invalid("新密码不能与当前密码相同", field="new_password")
    user.password_hash = hash_password(data.new_password)
    session.add(user)
    revoked = _revoke_tokens(session, user.id or 0, keep=current_token)
    audit.record(session, Actor.of(user), "change_password", "user", user.id, after={"sessions_revoked": revoked})
    session.commit()
    return user
