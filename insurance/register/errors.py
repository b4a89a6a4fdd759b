"""Every error the register answers with, in one place (divisions, insurers, households, members, roster
imports): one family per kind of failure, each a `core.errors` class so main.py maps it to HTTP once, and the
stable codes clients and pages rely on. The Chinese message is said where the error is raised and may change."""

from enum import StrEnum

from core.errors import Forbidden, Invalid, NotFound


class RegisterCode(StrEnum):
    bad_uscc = "bad_uscc"
    division_not_found = "division_not_found"
    forbidden = "forbidden"
    household_not_found = "household_not_found"
    import_not_found = "import_not_found"
    insurer_not_found = "insurer_not_found"
    invalid = "invalid"
    member_not_found = "member_not_found"
    not_found = "not_found"


class RegisterInvalidError(Invalid):
    """Input that breaks a rule; `field` names the input at fault."""

    codes = RegisterCode


class RegisterNotFoundError(NotFound):
    """An object that does not exist or is outside the caller's remit (its existence is not revealed)."""

    codes = RegisterCode


class RegisterForbiddenError(Forbidden):
    """The caller's role may not do this."""

    codes = RegisterCode


class DivisionNotFound(RegisterNotFoundError):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"区划 {code} 不存在或不在您的辖区内",
            code=RegisterCode.division_not_found,
            field="code",
        )
