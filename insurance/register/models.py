"""Tables of the register: divisions, insurers, households, members, their per-village counts, roster imports."""

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


class PovertyAttribute(StrEnum):
    ordinary = "ordinary"
    subsistence_allowance = "subsistence_allowance"
    destitute_support = "destitute_support"


POVERTY_ATTRIBUTE_LABELS: dict[str, str] = {
    "ordinary": "一般贫困户",
    "subsistence_allowance": "低保贫困户",
    "destitute_support": "特困供养贫困户",
}


class Sex(StrEnum):
    male = "male"
    female = "female"


class MemberStatus(StrEnum):
    active = "active"
    deceased = "deceased"
    moved_out = "moved_out"
    removed = "removed"  # no longer on the register (absent from a newer roster of its village)


MEMBER_STATUS_LABELS: dict[str, str] = {
    "active": "在册",
    "deceased": "已故",
    "moved_out": "已迁出",
    "removed": "已移出",
}


class Household(SQLModel, table=True):
    """A registered poor household (建档立卡贫困户); its number is opaque and comes from the roster."""

    __tablename__ = "household"

    id: int | None = Field(default=None, primary_key=True)
    household_no: str = Field(max_length=32, unique=True)
    village_code: str = Field(max_length=12, foreign_key="division.code", index=True)
    county_code: str = Field(max_length=6, index=True, description="first 6 digits of the village code")
    poverty_attribute: PovertyAttribute = Field(sa_type=enum_type(PovertyAttribute))
    main_cause: str = Field(max_length=2, description="domain.md §1.3 code: 1..11, 99")
    phone: str | None = Field(default=None, max_length=20)
    exit_year: int | None = None
    monitor_category: str | None = Field(default=None, max_length=32, description="return-to-poverty monitoring")
    is_incomplete: bool = Field(default=False, description="a row of it was refused by the last roster import")
    removed_on: date | None = Field(default=None, description="set when a newer roster of its village omits it")
    last_import_id: int | None = Field(default=None, foreign_key="roster_import.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Member(SQLModel, table=True):
    """A person on the register, keyed by resident ID number (unique across the province)."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(max_length=18, unique=True)
    id_number_legacy: str | None = Field(default=None, max_length=15)
    household_id: int = Field(foreign_key="household.id", index=True)
    name: str = Field(max_length=50)
    sex: Sex = Field(sa_type=enum_type(Sex))
    birth_date: date
    relation: str = Field(max_length=10, description="as the register writes it: 户主, 配偶, 之子, ...")
    relation_code: str | None = Field(default=None, max_length=2, description="GB/T 4761-2008; none for 其他")
    ethnicity: str = Field(max_length=20)
    status: MemberStatus = Field(sa_type=enum_type(MemberStatus), default=MemberStatus.active)
    status_date: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class VillageRegisterCount(SQLModel, table=True):
    """The register's counts per village, kept by the roster import (the only writer of the register).

    Why: the home page and the office's reports sum these instead of counting millions of members on every view
    (a province's active members take 1.2 s to count; their 16,000 villages' counts, milliseconds).
    """

    __tablename__ = "village_register_count"

    village_code: str = Field(max_length=12, foreign_key="division.code", primary_key=True)
    county_code: str = Field(max_length=6, index=True)
    households: int = Field(default=0, description="households on the register (not removed)")
    households_incomplete: int = Field(default=0, description="of which a row was refused by the last import")
    members_active: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow)


class ImportStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class RosterImport(SQLModel, table=True):
    """One attempt to import a roster file, with its counts; its rejected rows are RosterImportIssue rows."""

    __tablename__ = "roster_import"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int = 0
    file_format: str | None = Field(default=None, max_length=8)
    encoding: str | None = Field(default=None, max_length=16)
    stored_path: str | None = Field(default=None, max_length=500, description="the uploaded file, for a web import")
    county_code: str | None = Field(default=None, max_length=6, description="the uploader's county, if any")
    actor: str = Field(max_length=100)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    status: ImportStatus = Field(sa_type=enum_type(ImportStatus), default=ImportStatus.queued)
    dry_run: bool = False
    strict: bool = False
    applied: bool = Field(default=False, description="whether the register was changed")
    rows: int = 0
    accepted: int = 0
    normalised: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    deceased: int = 0
    removed: int = 0
    households: int = 0
    households_incomplete: int = 0
    villages_created: int = 0
    message: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class RosterImportIssue(SQLModel, table=True):
    """A rejected row (severity error) or a normalised value (severity fixed) of one import, for the report."""

    __tablename__ = "roster_import_issue"

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="roster_import.id", index=True)
    row: int
    column: str = Field(max_length=50, description="the header as written in the file")
    code: str = Field(max_length=40)
    severity: str = Field(max_length=8, description="error | fixed | note")
    message: str = Field(max_length=500)
    value: str | None = Field(default=None, max_length=200)
    household_no: str | None = Field(default=None, max_length=32)
