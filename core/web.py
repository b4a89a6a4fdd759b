"""Routes of the cross-cutting package: logging in and out (pages and API), users and the audit log."""

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlparse

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse

from core import audit, audit_view, labels, users
from core.audit import Actor, AuditFilter
from core.auth import (
    SESSION_COOKIE,
    AdminUser,
    CurrentUser,
    EngineDep,
    OptionalUser,
    SessionDep,
    SettingsDep,
    find_token,
)
from core.db import local_today
from core.errors import DomainError, Invalid
from core.models import ROLE_LABELS, AuthToken, Role, TokenKind, User
from core.schemas import (
    ActiveChange,
    AuditPublic,
    Page,
    PasswordChange,
    PasswordReset,
    PasswordResetPublic,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from core.templating import render

api = APIRouter(prefix="/api", tags=["auth"])
pages = APIRouter(include_in_schema=False)


def _parse_day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{labels.label(labels.FIELD, field)}须为 年-月-日 格式的日期", field=field) from None


def audit_filter(
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> AuditFilter:
    """The page's filters from its query string (a blank field of the form is no filter)."""
    return AuditFilter(
        actor=actor or None,
        action=action or None,
        entity_type=entity_type or None,
        entity_id=(entity_id or "").strip() or None,
        date_from=_parse_day(date_from, "date_from"),
        date_to=_parse_day(date_to, "date_to"),
    )


AuditFilterDep = Annotated[AuditFilter, Depends(audit_filter)]


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


@api.get("/users/{user_id}", response_model=UserPublic)
def read_user(user_id: int, session: SessionDep, _admin: AdminUser) -> UserPublic:
    return UserPublic.model_validate(users.get_user(session, user_id))


@api.patch("/users/{user_id}", response_model=UserPublic, summary="Change a user's name, role or scope")
def update_user(user_id: int, data: UserUpdate, session: SessionDep, admin: AdminUser) -> UserPublic:
    return UserPublic.model_validate(users.update_user(session, Actor.of(admin), user_id, data))


@api.post("/users/{user_id}/active", response_model=UserPublic, summary="Disable or enable a user")
def set_user_active(user_id: int, data: ActiveChange, session: SessionDep, admin: AdminUser) -> UserPublic:
    return UserPublic.model_validate(users.set_active(session, Actor.of(admin), user_id, data.is_active))


@api.post("/users/{user_id}/password", response_model=PasswordResetPublic, summary="Reset a user's password")
def reset_user_password(
    user_id: int, data: PasswordReset, session: SessionDep, admin: AdminUser
) -> PasswordResetPublic:
    user, generated = users.reset_password(session, Actor.of(admin), user_id, data)
    return PasswordResetPublic(user=UserPublic.model_validate(user), generated_password=generated)


@api.post("/me/password", status_code=204, summary="Change one's own password; the other sessions are revoked")
def change_my_password(request: Request, data: PasswordChange, session: SessionDep, user: CurrentUser) -> Response:
    users.change_own_password(session, user, data, _token_row(request, session))
    return Response(status_code=204)


@api.get("/audit", response_model=Page[AuditPublic])
def read_audit(
    session: SessionDep,
    _admin: AdminUser,
    where: AuditFilterDep,
    limit: Annotated[int, Query(ge=1)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AuditPublic]:
    """Filters as on the page: actor (username), action, entity_type, entity_id, date_from, date_to (Beijing days)."""
    rows, count = audit.list_entries(session, where, limit=min(limit, 500), offset=offset)
    return Page(data=[AuditPublic.model_validate(r) for r in rows], count=count)


def _token_row(request: Request, session: SessionDep) -> AuthToken | None:
    """The token (bearer or session cookie) this request came with."""
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip() if header.lower().startswith("bearer ") else None
    token = token or request.cookies.get(SESSION_COOKIE)
    return find_token(session, token) if token else None


def _logout(request: Request, session: SessionDep, user: CurrentUser) -> None:
    users.logout(session, user, _token_row(request, session))


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


def _form_error(exc: ValidationError) -> DomainError:
    """The first problem of a form, in Chinese and naming its field (pydantic's own messages are English)."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error.get("loc") else ""
    name = labels.label(labels.FIELD, field)
    kind = error.get("type", "")
    if kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
    elif kind in ("missing", "string_too_short"):
        message = f"请填写{name}"
    elif kind == "string_too_long":
        message = f"{name}过长"
    else:
        message = f"{name}无效"
    return Invalid(message, field=field)


def _blank_none(value: str) -> str | None:
    return value.strip() or None


def _user_form_context(session: SessionDep) -> dict[str, Any]:
    return {
        "roles": ROLE_LABELS,
        "counties": users.list_counties(session),
        "insurers": users.list_insurers(session),
        "Role": Role,
    }


def _users_page(
    request: Request, session: SessionDep, admin: User, *, status_code: int = 200, **extra: object
) -> HTMLResponse:
    rows, count = users.list_users(session, limit=500)
    context = {"users": rows, "count": count, "scopes": users.scope_names(session, rows), "form": {}}
    return render(
        request,
        "pages/users.html",
        admin,
        status_code=status_code,
        **context | _user_form_context(session) | extra,
    )


@pages.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, admin: AdminUser, created: int | None = None) -> HTMLResponse:
    done = None
    if created is not None:
        done = f"已新建用户：{users.get_user(session, created).display_name}"
    return _users_page(request, session, admin, done=done)


@pages.post("/admin/users", response_class=HTMLResponse)
def create_user_submit(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    county_code: Annotated[str, Form()] = "",
    insurer_id: Annotated[str, Form()] = "",
) -> Response:
    form = {"username": username, "display_name": display_name, "role": role, "county_code": county_code}
    form["insurer_id"] = insurer_id
    try:
        try:
            data = UserCreate(
                username=username,
                display_name=display_name.strip(),
                password=password,
                role=role,
                county_code=_blank_none(county_code),
                insurer_id=_blank_none(insurer_id),
            )
        except ValidationError as exc:
            raise _form_error(exc) from exc
        user = users.create_user(session, Actor.of(admin), data)
    except DomainError as exc:
        return _users_page(request, session, admin, status_code=exc.status_code, error=exc, form=form)
    return RedirectResponse(f"/admin/users?created={user.id}", status_code=303)


DONE_MESSAGES = {
    "disabled": "已停用该用户，其登录已全部注销。",
    "enabled": "已启用该用户。",
    "updated": "已保存修改。",
    "reset": "已重置密码，该用户的登录已全部注销。",
    "password": "密码已修改，您在其他设备上的登录已注销。",
}


def _user_page(
    request: Request, session: SessionDep, admin: User, user_id: int, *, status_code: int = 200, **extra: object
) -> HTMLResponse:
    user = users.get_user(session, user_id)
    context = {"target": user, "scopes": users.scope_names(session, [user])} | _user_form_context(session)
    return render(request, "pages/user.html", admin, status_code=status_code, **context | extra)


@pages.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(
    request: Request, session: SessionDep, admin: AdminUser, user_id: int, done: str | None = None
) -> HTMLResponse:
    return _user_page(request, session, admin, user_id, done=DONE_MESSAGES.get(done or ""))


@pages.post("/admin/users/{user_id}", response_class=HTMLResponse)
def update_user_submit(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    user_id: int,
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    county_code: Annotated[str, Form()] = "",
    insurer_id: Annotated[str, Form()] = "",
) -> Response:
    try:
        try:
            data = UserUpdate(
                display_name=display_name.strip(),
                role=role,
                county_code=_blank_none(county_code),
                insurer_id=_blank_none(insurer_id),
            )
        except ValidationError as exc:
            raise _form_error(exc) from exc
        users.update_user(session, Actor.of(admin), user_id, data)
    except DomainError as exc:
        return _user_page(request, session, admin, user_id, status_code=exc.status_code, error=exc)
    return RedirectResponse(f"/admin/users/{user_id}?done=updated", status_code=303)


@pages.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
def set_active_submit(
    request: Request, session: SessionDep, admin: AdminUser, user_id: int, is_active: Annotated[str, Form()] = ""
) -> Response:
    active = is_active == "1"
    try:
        users.set_active(session, Actor.of(admin), user_id, active)
    except DomainError as exc:
        return _user_page(request, session, admin, user_id, status_code=exc.status_code, error=exc)
    return RedirectResponse(f"/admin/users/{user_id}?done={'enabled' if active else 'disabled'}", status_code=303)


@pages.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
def reset_password_submit(
    request: Request, session: SessionDep, admin: AdminUser, user_id: int, new_password: Annotated[str, Form()] = ""
) -> Response:
    """Answers with the page itself, not a redirect: a generated password is shown this once and never again."""
    try:
        try:
            data = PasswordReset(new_password=new_password or None)
        except ValidationError as exc:
            raise _form_error(exc) from exc
        _user, generated = users.reset_password(session, Actor.of(admin), user_id, data)
    except DomainError as exc:
        return _user_page(request, session, admin, user_id, status_code=exc.status_code, error=exc)
    return _user_page(request, session, admin, user_id, done=DONE_MESSAGES["reset"], generated=generated)


@pages.get("/me/password", response_class=HTMLResponse)
def password_page(request: Request, user: CurrentUser, done: str | None = None) -> HTMLResponse:
    return render(request, "pages/password.html", user, done=DONE_MESSAGES.get(done or ""))


@pages.post("/me/password", response_class=HTMLResponse)
def password_submit(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    confirm_password: Annotated[str, Form()] = "",
) -> Response:
    try:
        try:
            data = PasswordChange(
                current_password=current_password, new_password=new_password, confirm_password=confirm_password
            )
        except ValidationError as exc:
            raise _form_error(exc) from exc
        users.change_own_password(session, user, data, _token_row(request, session))
    except DomainError as exc:
        return render(request, "pages/password.html", user, status_code=exc.status_code, error=exc)
    return RedirectResponse("/me/password?done=password", status_code=303)


# --- the audit log ------------------------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


def _filter_query(where: AuditFilter, **more: object) -> str:
    """The filters as a query string, so paging and the export keep them."""
    params = {k: v for k, v in vars(where).items() if v} | {k: v for k, v in more.items() if v}
    return urlencode({k: str(v) for k, v in params.items()})


@pages.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    admin: AdminUser,
    where: AuditFilterDep,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    rows, count = audit.list_entries(session, where, limit=AUDIT_PAGE_SIZE, offset=offset)
    actors = [(u.username, f"{u.display_name}（{u.username}）") for u in users.list_users(session, limit=1000)[0]]
    actors += list(labels.table(labels.ACTOR).items())
    return render(
        request,
        "pages/audit.html",
        admin,
        entries=audit_view.readable_rows(session, rows),
        count=count,
        offset=offset,
        page_size=AUDIT_PAGE_SIZE,
        where=where,
        actors=actors,
        actions=sorted(labels.table(labels.AUDIT_ACTION).items(), key=lambda kv: kv[1]),
        entity_types=sorted(labels.table(labels.ENTITY).items(), key=lambda kv: kv[1]),
        query=_filter_query(where),
        previous_query=_filter_query(where, offset=max(offset - AUDIT_PAGE_SIZE, 0)),
        next_query=_filter_query(where, offset=offset + AUDIT_PAGE_SIZE),
    )


@pages.get("/admin/audit/export.{fmt}", summary="The filtered audit log as CSV or XLSX")
def audit_export(fmt: str, engine: EngineDep, _admin: AdminUser, where: AuditFilterDep) -> Response:
    stem = f"审计日志-{local_today().isoformat()}"
    if fmt == "csv":

        def chunks() -> Iterator[bytes]:
            yield from audit_view.iter_csv(engine, where)

        return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers=_attachment(f"{stem}.csv"))
    if fmt == "xlsx":
        # Written to a temporary file as it is read (openpyxl's write-only mode), then sent and removed.
        with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
            path = Path(handle.name)
        audit_view.write_xlsx(path, engine, where)
        return FileResponse(
            path,
            headers=_attachment(f"{stem}.xlsx"),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )
    raise Invalid("导出格式只能是 CSV 或 XLSX", field="fmt")


def _attachment(filename: str) -> dict[str, str]:
    extension = filename.rsplit(".", 1)[-1]
    return {"Content-Disposition": f"attachment; filename=\"audit.{extension}\"; filename*=UTF-8''{quote(filename)}"}
