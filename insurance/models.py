"""Tables of the coverage domain."""

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from core.db import enum_type, utcnow


class DivisionLevel(StrEnum):
    province = "province"
    prefecture = "prefecture"
    county = "county"
    township = "township"
    village = "village"


DIVISION_LEVEL_LABELS: dict[DivisionLevel, str] = {
    DivisionLevel.province: "省",
    DivisionLevel.prefecture: "市州",
    DivisionLevel.county: "县市区",
    DivisionLevel.township: "乡镇",
    DivisionLevel.village: "村",
}


class Division(SQLModel, table=True):
    """A division by its 12-digit statistical code (county `433124000000`); the tree jurisdiction is checked on."""

    __tablename__ = "division"

    code: str = Field(primary_key=True, min_length=12, max_length=12)
    name: str = Field(max_length=100)
    level: DivisionLevel = Field(sa_type=enum_type(DivisionLevel), index=True)
    parent_code: str | None = Field(default=None, max_length=12, foreign_key="division.code", index=True)
    valid_from: date | None = None
    valid_to: date | None = None
    note: str | None = Field(default=None, max_length=200)


class Insurer(SQLModel, table=True):
    """An insurance company (or branch) that underwrites the programme, identified by its USCC."""

    __tablename__ = "insurer"

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True, index=True)
    name: str = Field(max_length=200)
    short_name: str = Field(max_length=50)
    hotline: str | None = Field(default=None, max_length=30)
    created_at: datetime = Field(default_factory=utcnow)
