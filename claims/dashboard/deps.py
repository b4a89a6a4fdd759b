"""The dashboard's division as a route dependency: an office user's province, prefecture or county, else 404."""

from typing import Annotated

from fastapi import Depends

from claims.dashboard import service
from core.auth import CurrentUser, SessionDep
from insurance.register.models import Division


def get_dashboard_division(code: str, session: SessionDep, user: CurrentUser) -> Division:
    return service.dashboard_division(session, user, code)


DashboardDivision = Annotated[Division, Depends(get_dashboard_division)]
