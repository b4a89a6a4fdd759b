"""Whose register a user sees, as a condition on a county-code column that the services put in their queries.

Why a hook: an insurer's staff see the register of the counties where their company holds a policy, but policies
belong to cover, which sits above the register and may not be imported here. Cover provides the query instead
(insurance.cover.policies registers it; the composition roots import insurance.wiring, which brings it in). With
nothing provided an insurer sees no household: the rule fails closed.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, false
from sqlalchemy.sql.elements import ColumnElement

from core.auth import county_prefix, is_insurer
from core.models import Role, User

InsurerCounties = Callable[[int], Select[Any]]  # insurer id -> SELECT of the 6-digit county codes it insures

_insurer_counties: list[InsurerCounties] = []


def provide_insurer_counties(source: InsurerCounties) -> InsurerCounties:
    """Sets the query of an insurer's counties (the last one provided wins; providing the same twice is harmless)."""
    _insurer_counties[:] = [source]
    return source


def insurer_counties_provider() -> InsurerCounties | None:
    return _insurer_counties[0] if _insurer_counties else None


def county_condition(user: User, county_code: Any) -> ColumnElement[bool] | None:
    """The condition on `county_code` (a 6-digit county code column) that keeps the user's register, or None when
    the user sees the whole province. The admin and any unknown role see nothing."""
    if user.role == Role.province_office:
        return None
    if user.role == Role.county_office:
        prefix = county_prefix(user)
        return county_code == prefix if prefix else false()
    if is_insurer(user):
        source = insurer_counties_provider()
        if source is None or user.insurer_id is None:
            return false()
        return county_code.in_(source(user.insurer_id))
    return false()


def sees_a_register(user: User) -> bool:
    """Whether the user's role sees any of the register at all (the admin does not), so that a page can say so
    instead of showing an empty list as if nothing were imported."""
    return user.role in (Role.province_office, Role.county_office) or is_insurer(user)


def within(query: Any, user: User, county_code: Any) -> Any:
    """The query narrowed to the user's register (see county_condition)."""
    condition = county_condition(user, county_code)
    return query if condition is None else query.where(condition)


def is_importing_office(user: User, import_county_code: str | None) -> bool:
    """Whether the user is the office whose roster import it is: the county office of the import's county, or the
    province office for an import of the whole province (no county: an upload by the province office or the
    admin, or the command line). Only that office's report file carries full ID numbers; everyone else, the
    admin and insurers included, reads them masked."""
    if user.role == Role.county_office:
        prefix = county_prefix(user)
        return prefix is not None and import_county_code == prefix
    if user.role == Role.province_office:
        return import_county_code is None
    return False
