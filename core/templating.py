"""Jinja2 for pages and print: one environment, the filters every template shares."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.responses import HTMLResponse, RedirectResponse, Response

from core import labels, validation
from core.audit import actor_text
from core.db import PROGRAMME_TZ
from core.errors import DomainError
from core.masking import mask_id_number
from core.models import ROLE_LABELS, Role, User
from core.settings import PROJECT_ROOT

templates = Jinja2Templates(directory=PROJECT_ROOT / "templates")


def yuan(fen: int | None) -> str:
    """Integer fen as `¥1,234.56`, exactly (no float on the way)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    value = Decimal(abs(fen)) / 100
    return f"{sign}¥{value:,.2f}"


def role_label(role: str | Role) -> str:
    return ROLE_LABELS.get(Role(role), str(role))


def datefmt(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # stored in UTC; staff read Beijing time
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(PROGRAMME_TZ).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def label(code: object, namespace: str) -> str:
    """`{{ entry.action | label('audit_action') }}`: the code's Chinese label from core.labels."""
    return labels.label(namespace, code)


templates.env.filters.update(
    mask_id=mask_id_number, yuan=yuan, role_label=role_label, datefmt=datefmt, label=label, actor=actor_text
)


def render_print(name: str, **context: object) -> str:
    """HTML for WeasyPrint (templates/print/): no request, no user; the same filters as the pages."""
    return templates.env.get_template(name).render(**context)


def render(
    request: Request, name: str, user: User | None = None, status_code: int = 200, **context: object
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": user, **context}, status_code=status_code)


def form_step(
    run: Callable[[], object], refused: Callable[[str, int], Response], done: str | Callable[[Any], str]
) -> Response:
    """A page's form through its use case: a 303 to `done` (a URL, or one made from what the use case returned)
    once it has run, or, refused (the use case's DomainError, or the form's schema refusing a value), the page again
    through `refused(message, status)`, the message in Chinese. Why one place: every page's step forms answer a
    refusal the same way. It waits on the database: an `async` route runs it in the thread pool."""
    try:
        result = run()
    except DomainError as exc:
        return refused(exc.message, exc.status_code)
    except ValidationError as exc:
        return refused(str(validation.describe(exc.errors())["message"]), 422)
    return RedirectResponse(done if isinstance(done, str) else done(result), status_code=303)
