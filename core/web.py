"""Routes of the cross-cutting package: logging in and out (pages and API), users and the audit log."""

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import audit, users
from core.audit import Actor
from core.auth import SESSION_COOKIE, AdminUser, CurrentUser, OptionalUser, SessionDep, SettingsDep, find_token
from core.errors import DomainError
from core.models import ROLE_LABELS, Role, TokenKind
from core.schemas import AuditPublic, Page, TokenPublic, UserCreate, UserPublic
from core.templating import render

api = APIRouter(prefix="/api", tags=["auth"])
pages = APIRouter(include_in_schema=False)


# --- API ----------------------------------------------------------------------------------------------------


@api.post("/auth/token", response_model=TokenPublic, summary="Exchange username and password for a bearer token")
def create_api_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> TokenPublic:
    token, row = users.login(session, form.username, form.password, TokenKind.api, settings.api_token_hours)
    return TokenPublic(access_token=token, expires_at=row.expires_at)


@api.post("/auth/logout", status_code=204, summary="Revoke the bearer token (or session) used for this call")
def revoke_token(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    _logout(request, session, user)
    return Response(status_code=204)


@api.get("/me", response_model=UserPublic)
def read_me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@api.get("/users", response_model=Page[UserPublic])
def read_users(session: SessionDep, _admin: AdminUser, limit: int = 100, offset: int = 0) -> Page[UserPublic]:
    rows, count = users.list_users(session, limit=min(limit, 500), offset=offset)
    return Page(data=[UserPublic.model_validate(u) for u in rows], count=count)


@api.post("/users", response_model=UserPublic, status_code=201)
def create_user(data: UserCreate, session: SessionDep, admin: AdminUser) -> UserPublic:
    return UserPublic.model_validate(users.create_user(session, Actor.of(admin), data))


@api.get("/audit", response_model=Page[AuditPublic])
def read_audit(
    session: SessionDep, _admin: AdminUser, entity_type: str | None = None, limit: int = 50, offset: int = 0
) -> Page[AuditPublic]:
    rows, count = audit.list_entries(session, entity_type=entity_type, limit=min(limit, 500), offset=offset)
    return Page(data=[AuditPublic.model_validate(r) for r in rows], count=count)


def _logout(request: Request, session: SessionDep, user: CurrentUser) -> None:
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip() if header.lower().startswith("bearer ") else None
    token = token or request.cookies.get(SESSION_COOKIE)
    users.logout(session, user, find_token(session, token) if token else None)


# --- pages --------------------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a local path may follow the login, never another site."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@pages.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:  # noqa: A002
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "pages/login.html", None, next=_safe_next(next))


@pages.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    try:
        token, _row = users.login(session, username, password, TokenKind.session, settings.session_hours)
    except DomainError as exc:
        return render(
            request,
            "pages/login.html",
            None,
            status_code=exc.status_code,
            error=exc.message,
            username=username,
            next=_safe_next(next),
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    return response


@pages.post("/logout")
def logout_submit(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    _logout(request, session, user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@pages.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, admin: AdminUser) -> HTMLResponse:
    rows, count = users.list_users(session, limit=500)
    return render(request, "pages/users.html", admin, users=rows, count=count, roles=ROLE_LABELS, Role=Role)


@pages.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, admin: AdminUser, offset: int = 0) -> HTMLResponse:
    rows, count = audit.list_entries(session, limit=100, offset=max(offset, 0))
    return render(request, "pages/audit.html", admin, entries=rows, count=count, offset=offset)
