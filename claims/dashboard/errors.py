"""The dashboards' error codes: one place, stable; the Chinese message is said where the error is raised."""

from enum import StrEnum

from core.errors import Invalid, NotFound


class DashboardCode(StrEnum):
    not_found = "dashboard_not_found"  # not an office user, or a division outside the user's jurisdiction
    level_invalid = "dashboard_level_invalid"  # dashboards stop at the county; below it, the coverage pages
    year_invalid = "dashboard_year_invalid"


class DashboardNotFoundError(NotFound):
    codes = DashboardCode


class DashboardInvalidError(Invalid):
    codes = DashboardCode
