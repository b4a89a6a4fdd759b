"""What the cross-cutting API reads and writes."""

import re
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.models import Role

T = TypeVar("T")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int


class UserCreate(BaseModel):
    username: str = Field(description="3-64 lower-case letters, digits, '.', '_' or '-'")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=200)
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
        if value is None or value == "":
            return None
        value = value.strip()
        if len(value) == 6 and value.isdigit():
            value += "000000"
        if len(value) != 12 or not value.isdigit() or not value.endswith("000000"):
            raise ValueError("县级区划代码须为6位或以000000结尾的12位数字")
        return value


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


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 scheme name, not a secret
    expires_at: datetime


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
