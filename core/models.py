"""Tables of the cross-cutting package: users, their tokens, and the audit log."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from core import labels
from core.db import enum_type, utcnow


class Role(StrEnum):
    province_office = "province_office"
    county_office = "county_office"
    insurer_handler = "insurer_handler"
    insurer_supervisor = "insurer_supervisor"
    admin = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.province_office: "省扶贫办",
    Role.county_office: "县扶贫办",
    Role.insurer_handler: "保险公司经办人",
    Role.insurer_supervisor: "保险公司主管",
    Role.admin: "系统管理员",
}
labels.register(labels.ROLE, ROLE_LABELS)

INSURER_ROLES = frozenset({Role.insurer_handler, Role.insurer_supervisor})


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=enum_type(Role))
    county_code: str | None = Field(default=None, max_length=12, foreign_key="division.code")
    insurer_id: int | None = Field(default=None, foreign_key="insurer.id")
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class TokenKind(StrEnum):
    session = "session"
    api = "api"


class AuthToken(SQLModel, table=True):
    """Only the SHA-256 of a token is stored, so a database leak yields no usable session."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    kind: TokenKind = Field(sa_type=enum_type(TokenKind))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor: str = Field(max_length=100, description="username, or system:<what> for the CLI and jobs")
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=64)
    entity_id: str | None = Field(default=None, max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
