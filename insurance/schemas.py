"""What the coverage API reads and writes."""

from datetime import date

from pydantic import BaseModel, ConfigDict

from insurance.models import DivisionLevel


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
