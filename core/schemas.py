"""What the cross-cutting API reads and writes."""

import re
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.models import Role

T = TypeVar("T")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 200


def check_password(value: str) -> str:
    """The one rule for every new password (create, reset, change), so none is weaker than another; the message is
    Chinese because the pages show it."""
    if len(value) < PASSWORD_MIN or len(value) > PASSWORD_MAX:
        raise ValueError(f"密码须为{PASSWORD_MIN}-{PASSWORD_MAX}个字符")
    if value.strip() != value or not value.strip():
        raise ValueError("密码首尾不能是空格")
    if len(set(value)) < 4:
        raise ValueError("密码过于简单：至少包含4个不同的字符")
    return value


def _county_code(value: str | None) -> str | None:
    """A county by its 6-digit or 12-digit code, stored as 12 digits."""
    if value is None or value == "":
        return None
    value = value.strip()
    if len(value) == 6 and value.isdigit():
        value += "000000"
    if len(value) != 12 or not value.isdigit() or not value.endswith("000000"):
        raise ValueError("县级区划代码须为6位或以000000结尾的12位数字")
    return value


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int


class UserCreate(BaseModel):
    username: str = Field(description="3-64 lower-case letters, digits, '.', '_' or '-'")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(description="8-200 characters, at least 4 different ones")
    role: Role
    county_code: str | None = Field(default=None, description="6- or 12-digit code of the county (county office)")
    insurer_id: int | None = Field(default=None, description="the insurer (insurer roles)")

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.strip()
        if not USERNAME_RE.match(value):
            raise ValueError("用户名须为3-64位小写字母、数字或 . _ -")
        return value

    @field_validator("county_code")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        return _county_code(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        return check_password(value)


class UserUpdate(BaseModel):
    """An administrator's change of a user's name, role or scope; the scope is checked as on creation (a county
    for a county office, an insurer for insurers' staff, neither for the others), so give all three together."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    role: Role
    county_code: str | None = Field(default=None, description="6- or 12-digit code of the county (county office)")
    insurer_id: int | None = Field(default=None, description="the insurer (insurer roles)")

    @field_validator("county_code")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        return _county_code(value)


class PasswordReset(BaseModel):
    """The administrator sets a new password, or leaves it out and the system generates one (shown once)."""

    new_password: str | None = Field(default=None, description="leave out to have one generated")

    @field_validator("new_password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        return None if value is None or value == "" else check_password(value)


class PasswordChange(BaseModel):
    """A user's change of their own password: the current one proves it is them, the confirmation catches typos."""

    current_password: str = Field(max_length=200)
    new_password: str
    confirm_password: str

    @field_validator("new_password")
    @classmethod
    def _password(cls, value: str) -> str:
        return check_password(value)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    county_code: str | None
    insurer_id: int | None
    is_active: bool
    created_at: datetime


class PasswordResetPublic(BaseModel):
    user: UserPublic
    generated_password: str | None = Field(default=None, description="the generated password; shown this once")


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 scheme name, not a secret
    expires_at: datetime


class ActiveChange(BaseModel):
    is_active: bool


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    before: dict | None
    after: dict | None
