"""Every error the risk flags answer with, in one place: a `core.errors` family so main.py maps it to HTTP once, and
the stable codes clients and pages rely on (the Chinese message may change, the code may not)."""

from enum import StrEnum

from core.errors import Conflict, Forbidden, Invalid, NotFound


class RiskCode(StrEnum):
    invalid = "invalid"
    flag_not_found = "flag_not_found"  # missing, or outside the caller's county: the same answer
    forbidden = "forbidden"  # the province office reads; only the county office works its flags
    transition_not_allowed = "transition_not_allowed"
    reason_required = "reason_required"  # a dismissal needs its reason
    category_invalid = "category_invalid"
    division_invalid = "division_invalid"


class RiskInvalidError(Invalid):
    codes = RiskCode


class RiskNotFoundError(NotFound):
    codes = RiskCode


class RiskConflictError(Conflict):
    codes = RiskCode


class RiskForbiddenError(Forbidden):
    codes = RiskCode
