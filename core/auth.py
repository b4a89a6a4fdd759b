"""Passwords (Argon2id), opaque tokens (cookie for pages, bearer for the API), and who may see what."""

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from core.db import SETTINGS_KEY, for_writing, new_session, utcnow
from core.errors import Forbidden, Unauthorized
from core.models import INSURER_ROLES, AuthToken, Role, TokenKind, User
from core.queue import JobQueue
from core.settings import Settings, get_settings

SESSION_COOKIE = "tehuibao_session"
PROVINCE_PREFIX = "43"


@lru_cache
def _hasher() -> tuple[PasswordHasher, str]:
    """The hasher for new passwords (its cost is configuration: a hash records its own parameters, so hashes made
    at any cost still verify), and a hash to verify against when the user does not exist, which keeps the timing
    of a bad username and a bad password alike."""
    settings = get_settings()
    hasher = PasswordHasher(time_cost=settings.password_hash_time_cost, memory_cost=settings.password_hash_memory_kib)
    return hasher, hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, kind: TokenKind, hours: int) -> tuple[str, AuthToken]:
    """Adds a token row (not committed); only its hash is stored, the plain token goes to the client once."""
    token = secrets.token_urlsafe(32)
    row = AuthToken(token_hash=_digest(token), user_id=user.id, kind=kind, expires_at=utcnow() + timedelta(hours=hours))
    session.add(row)
    return token, row


def find_token(session: Session, token: str) -> AuthToken | None:
    row = session.exec(select(AuthToken).where(AuthToken.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row


def user_for_token(session: Session, token: str) -> User | None:
    """The user of a live token, in one query on every request: the hash's unique index joined with the user, so a
    revoked or expired token and a disabled user find nobody. Deliberately no cache: revoking a session or disabling
    a user (which revokes its sessions) holds at once in every web process."""
    # One entity per row, the expiry compared in the query (against this process's clock, as before): a row of an
    # entity and a column costs SQLAlchemy half as much again, on every request.
    return session.exec(
        select(User)
        .join(AuthToken, col(AuthToken.user_id) == User.id)
        .where(
            AuthToken.token_hash == _digest(token),
            col(AuthToken.revoked_at).is_(None),
            col(AuthToken.expires_at) > utcnow(),
            col(User.is_active).is_(True),
        )
    ).first()


# --- jurisdiction -------------------------------------------------------------------------------------------


def county_prefix(user: User) -> str | None:
    return user.county_code[:6] if user.role == Role.county_office and user.county_code else None


def can_see_division(user: User, code: str) -> bool:
    """A county office sees its county and what lies below it; the province office and insurers' staff see the
    province's division tree (public geography: which households they see is narrowed in the register's queries);
    the admin sees users and the audit log, not the register, so no division."""
    if user.role == Role.county_office:
        prefix = county_prefix(user)
        return prefix is not None and code.startswith(prefix)
    if user.role == Role.province_office or is_insurer(user):
        return code.startswith(PROVINCE_PREFIX)
    return False


def is_insurer(user: User) -> bool:
    return user.role in INSURER_ROLES


# --- FastAPI dependencies -----------------------------------------------------------------------------------


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings_dep(request: Request) -> Settings:
    """The app's settings (create_app puts them on app.state), so routes never reach into app.state themselves.
    `async` because it never waits: a plain `def` dependency costs a hop to the thread pool on every request."""
    return request.app.state.settings


async def get_engine_dep(request: Request) -> Engine:
    """The app's engine, for a route that streams with a connection of its own (a large report)."""
    return request.app.state.engine


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine_dep)]


async def get_queue_dep(settings: SettingsDep) -> JobQueue:
    return JobQueue(settings)


QueueDep = Annotated[JobQueue, Depends(get_queue_dep)]


async def get_session(request: Request):  # noqa: ANN201 - a generator dependency
    """A request's session; one that may write (POST and the like) takes SQLite's write lock when it begins.

    `async` because opening a session touches no connection (the first query does, in the route's thread) and
    closing one after its use case committed only hands the idle connection back to the pool: a plain generator
    costs two hops to the thread pool on every request. A transaction still open (a read, an error) is rolled back
    in the thread pool, as that waits on the database. The engine and settings are read off app.state here, not
    through their own dependencies: every request solves this one, and each dependency costs FastAPI's solver."""
    engine: Engine = request.app.state.engine
    session = new_session(engine if request.method in READ_ONLY_METHODS else for_writing(engine))
    session.info[SETTINGS_KEY] = request.app.state.settings  # a use case that asks for documents sends them on commit
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def _token_from_request(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def find_current_user(request: Request, session: SessionDep) -> User | None:
    token = _token_from_request(request)
    return user_for_token(session, token) if token else None


def get_current_user(request: Request, session: SessionDep) -> User:
    """find_current_user, or 401. One dependency, not one on top of the other: it is solved on every request."""
    user = find_current_user(request, session)
    if user is None:
        raise Unauthorized("请先登录")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(find_current_user)]


def require_roles(*roles: Role):  # noqa: ANN201 - returns a dependency
    """A dependency that answers 403 to an authenticated user of another role."""
    allowed = frozenset(roles)

    async def dependency(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden("您的角色无权执行此操作")
        return user

    return dependency


AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
