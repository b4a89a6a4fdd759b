"""The FastAPI app: mounts the routers, maps domain errors to HTTP once, serves the home page and /healthz."""

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

import claims.wiring  # noqa: F401 - claims' labels and tables
import insurance.wiring  # noqa: F401 - the coverage kinds of document, cover listening to the register
from claims import api as claims_api
from claims import pages as claims_pages
from claims.dashboard import api as dashboard_api
from claims.dashboard import pages as dashboard_pages
from claims.risk import api as risk_api
from claims.risk import pages as risk_pages
from core import assets, audit, audit_view, users, validation, web
from core.auth import CurrentUser, SessionDep, county_prefix
from core.db import get_engine, local_today
from core.errors import DomainError, TooManyRequests, Unauthorized
from core.health import check_health
from core.masking import configure_logging
from core.models import Role
from core.settings import Settings, get_settings
from core.templating import render
from insurance.certificates import api as certificates_api
from insurance.certificates import pages as certificates_pages
from insurance.cover import api as cover_api
from insurance.cover import enrolment, policies
from insurance.cover import pages as cover_pages
from insurance.cover.models import ENROLMENT_STATUS_LABELS, POLICY_STATUS_LABELS
from insurance.gaps import api as gaps_api
from insurance.gaps import pages as gaps_pages
from insurance.register import api as register_api
from insurance.register import pages as register_pages
from insurance.register import service as register_service

log = logging.getLogger("tehuibao")

HTTP_MESSAGES = {
    400: "请求无法解析",
    404: "页面不存在",
    405: "不支持该请求方法",
    413: "提交的内容过大",
}


HOME_TEMPLATES = {
    Role.province_office: "pages/home_province.html",
    Role.county_office: "pages/home_county.html",
    Role.insurer_handler: "pages/home_insurer.html",
    Role.insurer_supervisor: "pages/home_insurer.html",
    Role.admin: "pages/home_admin.html",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/healthz")) or "application/json" in request.headers.get("accept", "")


def _error_response(
    request: Request, status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> Response:
    if _wants_json(request):
        return JSONResponse(body, status_code=status, headers=headers)
    return render(request, "pages/error.html", None, status_code=status, status=status, error=body)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, Unauthorized) and not _wants_json(request) and request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return _error_response(request, exc.status_code, exc.to_dict(), headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _error_response(request, 422, validation.describe(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's own detail is English ("Not Found"): a person gets the Chinese one, or a generic one.
        message = HTTP_MESSAGES.get(exc.status_code, "请求无法处理")
        return _error_response(request, exc.status_code, {"code": f"http_{exc.status_code}", "message": message})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_response(request, 500, {"code": "internal", "message": "系统内部错误，请稍后重试"})


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="特惠保 tehuibao", version="0.1.0", docs_url=None, redoc_url=None)  # /docs: core.assets
    app.state.settings = settings
    app.state.engine = engine or get_engine(settings.effective_database_url)
    install_error_handlers(app)
    assets.install(app)
    # The claims API first: its routes carry most of the requests (a claim is ten of them), and FastAPI tries the
    # routers in order, so each router ahead of it costs every one of those requests a scan of its routes. No
    # other router's paths overlap /api/claims, so the order changes no match.
    app.include_router(claims_api.router)
    app.include_router(web.api)
    app.include_router(web.pages)
    for router in (
        register_api,
        cover_api,
        certificates_api,
        gaps_api,
        register_pages,
        cover_pages,
        certificates_pages,
        gaps_pages,
    ):
        app.include_router(router.router)
    app.include_router(claims_pages.router)
    app.include_router(claims_api.settlement_router)
    app.include_router(dashboard_api.router)
    app.include_router(dashboard_pages.router)
    app.include_router(risk_api.router)
    app.include_router(risk_pages.router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> JSONResponse:
        ok, checks = check_health(app.state.engine, settings.redis_url, settings.worker_stale_seconds)
        return JSONResponse({"status": "ok" if ok else "fail", "checks": checks}, status_code=200 if ok else 503)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, session: SessionDep, user: CurrentUser) -> HTMLResponse:
        context: dict[str, object] = {}
        if user.role in (Role.province_office, Role.county_office):
            context["totals"] = register_service.register_totals(session, user)
            context["imports"], _ = register_service.list_imports(session, user, limit=5)
        if user.role in (Role.county_office, Role.insurer_handler, Role.insurer_supervisor):
            context["policies"], _ = policies.list_policies(session, user, limit=10)
            context["last_enrolment"] = enrolment.last_enrolments(session, context["policies"])
            context["policy_labels"] = POLICY_STATUS_LABELS
            context["enrolment_labels"] = ENROLMENT_STATUS_LABELS
        if user.role == Role.province_office:
            context["prefectures"] = register_service.list_prefectures_with_counties(session, on=local_today())
        elif user.role == Role.county_office:
            county = register_service.get_division(session, user, county_prefix(user) or "")
            context["county"] = county
            context["children"] = register_service.list_children(session, county)
        elif user.role in (Role.insurer_handler, Role.insurer_supervisor):
            context["insurer"] = register_service.find_insurer(session, user.insurer_id)
        elif user.role == Role.admin:
            context["users"], context["user_count"] = users.list_users(session, limit=20)
            context["scopes"] = users.scope_names(session, context["users"])
            context["entries"] = audit_view.readable_rows(session, audit.list_entries(session, limit=10)[0])
        return render(request, HOME_TEMPLATES[user.role], user, **context)

    return app


def build() -> FastAPI:
    """The uvicorn factory (`uvicorn main:build --factory`): logging first, then the app, warmed.

    Why warm: FastAPI builds each included route's handler state (its dependencies' and bodies' validators) lazily,
    on the first request that reaches the router: 1-3 s of one core on this machine class, paid by a new worker's
    first callers. Building the OpenAPI schema walks every route and builds it all before the worker says it has
    started, so no request waits for it."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    app.openapi()
    return app
