"""The register's loaders as FastAPI dependencies: the object a path names, within the user's jurisdiction, or 404.

Why: every route that takes a household number or an import id would otherwise repeat the same service call (and
could forget it); the service decides the jurisdiction in its query, these only name it once for the routes.
"""

from typing import Annotated

from fastapi import Depends

from core.auth import CurrentUser, SessionDep
from insurance.register import service
from insurance.register.models import Division, Household, RosterImport


def get_current_household(household_no: str, session: SessionDep, user: CurrentUser) -> Household:
    """The household of the `household_no` path parameter, if it is on the user's register."""
    return service.get_household(session, user, household_no)


def get_current_division(code: str, session: SessionDep, user: CurrentUser) -> Division:
    """The division of the `code` path parameter, if it lies within the user's jurisdiction."""
    return service.get_division(session, user, code)


def get_current_import(import_id: int, session: SessionDep, user: CurrentUser) -> RosterImport:
    """The roster import of the `import_id` path parameter, if the user may read it."""
    return service.get_import(session, user, import_id)


CurrentHousehold = Annotated[Household, Depends(get_current_household)]
CurrentDivision = Annotated[Division, Depends(get_current_division)]
CurrentImport = Annotated[RosterImport, Depends(get_current_import)]
