"""The coverage page: a division's figures, its children's sortable by rate (drill down to a village), the lists."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from core.auth import CurrentUser, SessionDep
from core.db import local_today
from core.templating import render
from insurance.gaps import figures, lists
from insurance.gaps import service as gaps_service
from insurance.gaps.reasons import GAP_REASON_LABELS, NOT_ELIGIBLE_REASON_LABELS
from insurance.gaps.schemas import CoverageFigures
from insurance.register import service as register_service
from insurance.register.models import DIVISION_LEVEL_LABELS

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
SORTS = ("code", "rate", "uncovered")


def rate(row: CoverageFigures) -> float | None:
    """Covered per eligible member, None when nobody is eligible."""
    return row.covered / row.eligible if row.eligible else None


@router.get("/coverage/{division_code}", response_class=HTMLResponse)
def coverage_page(
    division_code: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    on: date | None = None,
    sort: str = "code",
    list_kind: Annotated[str, Query(alias="list")] = "uncovered",
    reason: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    day = on or local_today()
    report = figures.coverage_report(session, user, division_code, day)
    children = list(report.children)
    if sort == "rate":  # the lagging first
        children.sort(key=lambda c: (rate(c) is None, rate(c) or 0.0, c.code))
    elif sort == "uncovered":
        children.sort(key=lambda c: (-c.uncovered, c.code))
    which = "not-eligible" if list_kind == "not-eligible" else "uncovered"
    reason_labels = GAP_REASON_LABELS if which == "uncovered" else NOT_ELIGIBLE_REASON_LABELS
    chosen = reason if reason in reason_labels else None
    rows, count = lists.list_members(
        session, user, division_code, day, which, reason=chosen, limit=PAGE_SIZE, offset=offset
    )
    division = gaps_service.get_division(session, user, division_code)
    return render(
        request,
        "pages/coverage.html",
        user,
        report=report,
        children=children,
        rate=rate,
        path=register_service.division_path(session, user, division),
        level_labels={k.value: v for k, v in DIVISION_LEVEL_LABELS.items()},
        sort=sort if sort in SORTS else "code",
        which=which,
        reason=chosen,
        reason_labels=reason_labels,
        rows=rows,
        count=count,
        offset=offset,
        page_size=PAGE_SIZE,
    )
