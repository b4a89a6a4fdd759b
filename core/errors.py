"""Domain errors with a stable code and a Chinese message; main.py maps them to HTTP once."""

from enum import StrEnum
from typing import ClassVar


class DomainError(Exception):
    """Base of every error a user may see. `field` names the input at fault, when there is one."""

    status_code: ClassVar[int] = 422
    default_code: ClassVar[str] = "invalid"
    codes: ClassVar[type[StrEnum] | None] = None  # a package's family lists its stable codes (its errors.py)

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        code = code or self.default_code
        if self.codes is not None and code not in self.codes.__members__.values():
            raise ValueError(f"{type(self).__name__} takes a code of {self.codes.__name__}, not {code!r}")
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field

    def to_dict(self) -> dict[str, str]:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class Invalid(DomainError):
    status_code = 422
    default_code = "invalid"


class NotFound(DomainError):
    """Also used for things outside the caller's jurisdiction, so their existence is not revealed."""

    status_code = 404
    default_code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    default_code = "forbidden"


class Unauthorized(DomainError):
    status_code = 401
    default_code = "unauthorized"


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"


class TooManyRequests(DomainError):
    """A public endpoint's per-client limit; `retry_after` seconds go out as the Retry-After header."""

    status_code = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
