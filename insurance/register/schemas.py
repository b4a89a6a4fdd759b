"""What the register's API reads and writes: divisions, insurers, households, members, roster imports."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from insurance.register.models import DivisionLevel


class DivisionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: DivisionLevel
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None


class DivisionDetail(DivisionPublic):
    path: list[DivisionPublic]
    children: list[DivisionPublic]


class InsurerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uscc: str
    name: str
    short_name: str
    hotline: str | None


class MemberPublic(BaseModel):
    id: int
    id_number_masked: str
    id_number: str | None = Field(
        default=None, description="the full number, only for the offices that keep the register"
    )
    name: str
    sex: str
    birth_date: date
    relation: str
    relation_code: str | None
    ethnicity: str
    status: str
    status_date: date | None


class HouseholdPublic(BaseModel):
    household_no: str
    village_code: str
    village_name: str | None = None
    head_name: str | None
    members_active: int
    poverty_attribute: str
    main_cause: str
    phone: str | None
    exit_year: int | None
    is_incomplete: bool
    removed_on: date | None


class HouseholdDetail(HouseholdPublic):
    path: list[DivisionPublic]
    members: list[MemberPublic]


class RosterImportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    status: str
    dry_run: bool
    strict: bool
    applied: bool
    county_code: str | None
    file_format: str | None
    encoding: str | None
    rows: int
    accepted: int
    normalised: int
    rejected: int
    created: int
    updated: int
    unchanged: int
    moved: int
    deceased: int
    removed: int
    households: int
    households_incomplete: int
    villages_created: int
    message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: dict[str, int | str] | None = None


class ImportIssuePublic(BaseModel):
    row: int
    column: str
    code: str
    severity: str
    message: str
    value: str | None
    household_no: str | None
