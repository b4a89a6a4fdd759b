"""Errors of the coverage domain, each with a stable code."""

from core.errors import NotFound


class DivisionNotFound(NotFound):
    default_code = "division_not_found"

    def __init__(self, code: str) -> None:
        super().__init__(f"区划 {code} 不存在或不在您的辖区内 (no such division in your jurisdiction)", field="code")
