"""The errors of the coverage-gap figures and lists, with their stable codes."""

from enum import StrEnum

from core.errors import Invalid, NotFound


class GapsCode(StrEnum):
    division_not_found = "division_not_found"
    invalid = "invalid"


class GapsNotFoundError(NotFound):
    """A division outside the caller's remit, or a caller who sees no coverage figures (its existence not told)."""

    codes = GapsCode


class GapsInvalidError(Invalid):
    codes = GapsCode
