"""Thin JSON routes of the coverage domain; the service does the work and the checks."""

from fastapi import APIRouter
from sqlmodel import Session

from core.auth import CurrentUser, SessionDep
from core.models import User
from insurance import service
from insurance.models import Division
from insurance.schemas import DivisionDetail, DivisionPublic

router = APIRouter(prefix="/api", tags=["insurance"])


@router.get("/divisions", response_model=DivisionDetail, summary="The top of the caller's jurisdiction")
def read_jurisdiction(session: SessionDep, user: CurrentUser) -> DivisionDetail:
    return _detail(session, user, service.jurisdiction_root(session, user))


@router.get("/divisions/{code}", response_model=DivisionDetail, summary="A division with its path and children")
def read_division(code: str, session: SessionDep, user: CurrentUser) -> DivisionDetail:
    return _detail(session, user, service.get_division(session, user, code))


def _detail(session: Session, user: User, division: Division) -> DivisionDetail:
    return DivisionDetail(
        **DivisionPublic.model_validate(division).model_dump(),
        path=[DivisionPublic.model_validate(d) for d in service.division_path(session, user, division)],
        children=[DivisionPublic.model_validate(d) for d in service.list_children(session, division)],
    )
