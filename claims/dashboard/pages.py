"""The dashboard page of the province, a prefecture or a county: charts drawn on the server (core.charts), each with
the table of its figures beside it, from the same service calls as the dashboards' API."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse

from claims.dashboard import service
from claims.dashboard.deps import DashboardDivision
from core import charts
from core.auth import CurrentUser, SessionDep
from core.db import local_today
from core.models import Role
from core.templating import render
from insurance.gaps import figures as gap_figures
from insurance.register import service as register_service

router = APIRouter(include_in_schema=False)
PROVINCE_CODE = "430000000000"


@router.get("/dashboard")
def dashboard_home(user: CurrentUser) -> RedirectResponse:
    """The office's own dashboard: the province's, or the county office's county."""
    code = user.county_code if user.role == Role.county_office and user.county_code else PROVINCE_CODE
    return RedirectResponse(f"/dashboard/{code}", status_code=303)


@router.get("/dashboard/{code}", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    division: DashboardDivision,
    session: SessionDep,
    user: CurrentUser,
    year: Annotated[int | None, Query()] = None,
    on: Annotated[date | None, Query()] = None,
) -> HTMLResponse:
    today = on or local_today()
    months = service.claims_by_month(session, user, division, year or today.year)
    overdue = service.overdue_claims(session, user, division, today)
    series = [
        charts.Series(t.claim_type_label, [fen // 100 for fen in t.approved_fen])
        for t in months.types
        if t.approved_total_fen
    ]
    paid_series = [
        charts.Series(t.claim_type_label, [fen // 100 for fen in t.paid_fen]) for t in months.types if t.paid_total_fen
    ]
    coverage = gap_figures.coverage_report(session, user, division.code, today)
    flags = service.open_flags(session, user, division)
    reasons = flags.by_reason
    month_names = [f"{m}月" for m in range(1, 13)]
    return render(
        request,
        "pages/dashboard.html",
        user,
        division=division,
        path=register_service.division_path(session, user, division),
        today=today,
        on_query=f"?on={on.isoformat()}" if on else "",
        months=months,
        overdue=overdue,
        coverage=coverage,
        flags=flags,
        flags_chart=charts.bar_chart(
            [charts.Bar(r.reason_label, r.new + r.following_up, f"{r.new + r.following_up:,}") for r in reasons],
            title="未办结的返贫风险预警（按原因）",
        ),
        rates={c.code: rate_text(c.covered, c.eligible) for c in [coverage, *coverage.children]},
        coverage_chart=charts.bar_chart(
            [
                charts.Bar(c.name, coverage_rate(c.covered, c.eligible) or 0, rate_text(c.covered, c.eligible))
                for c in coverage.children
                if c.members
            ],
            title=f"{today.isoformat()} 各下级区划家庭综合保障覆盖率",
            max_value=100,
        ),
        month_names=month_names,
        approved_chart=charts.column_chart(month_names, series, title=f"{months.year} 年各月核定赔款（元）", unit=""),
        paid_chart=charts.column_chart(month_names, paid_series, title=f"{months.year} 年各月已支付赔款（元）"),
        overdue_chart=charts.bar_chart(
            [charts.Bar(row.name, row.overdue, f"{row.overdue:,}") for row in overdue.by_county],
            title="各县超期理赔案件数",
        ),
    )


def coverage_rate(covered: int, eligible: int) -> float | None:
    """Covered as a percentage of eligible, for drawing only (the tables show the exact counts)."""
    return None if eligible == 0 else covered * 100 / eligible


def rate_text(covered: int, eligible: int) -> str:
    """One decimal, rounded half up from the exact counts, e.g. 99.95 % -> "100.0%"; "—" when nobody is eligible."""
    if eligible == 0:
        return "—"
    tenths = (covered * 1000 * 2 + eligible) // (eligible * 2)
    return f"{tenths // 10}.{tenths % 10}%"
