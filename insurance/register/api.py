"""The register's JSON API: divisions, households and members, roster imports and their reports."""

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response, StreamingResponse

from core.auth import CurrentUser, EngineDep, QueueDep, SessionDep
from core.masking import mask_id_number
from core.models import User
from core.queue import JobQueue
from core.schemas import Page
from insurance.register import scope, service
from insurance.register.deps import CurrentDivision, CurrentHousehold, CurrentImport
from insurance.register.errors import RegisterNotFoundError
from insurance.register.models import Division, Household, Member, RosterImport
from insurance.register.roster_import import IMPORT_JOB, IMPORT_TIMEOUT, PROGRESS_KEY, import_job_id, iter_issues
from insurance.register.roster_report import for_reader, for_readers, iter_report_csv, write_report_xlsx
from insurance.register.schemas import (
    DivisionDetail,
    DivisionPublic,
    HouseholdDetail,
    HouseholdPublic,
    ImportIssuePublic,
    MemberPublic,
    RosterImportPublic,
)

router = APIRouter(prefix="/api", tags=["register"])


@router.get("/divisions", response_model=DivisionDetail, summary="The top of the caller's jurisdiction")
def read_jurisdiction(session: SessionDep, user: CurrentUser) -> DivisionDetail:
    return _detail(session, user, service.jurisdiction_root(session, user))


@router.get("/divisions/{code}", response_model=DivisionDetail, summary="A division with its path and children")
def read_division(division: CurrentDivision, session: SessionDep, user: CurrentUser) -> DivisionDetail:
    return _detail(session, user, division)


def _detail(session: Session, user: User, division: Division) -> DivisionDetail:
    return DivisionDetail(
        **DivisionPublic.model_validate(division).model_dump(),
        path=[DivisionPublic.model_validate(d) for d in service.division_path(session, user, division)],
        children=[DivisionPublic.model_validate(d) for d in service.list_children(session, division)],
    )


# --- the register ---------------------------------------------------------------------------------------------


def household_public(household: Household, head_name: str | None, active: int) -> HouseholdPublic:
    return HouseholdPublic(
        household_no=household.household_no,
        village_code=household.village_code,
        head_name=head_name,
        members_active=active,
        poverty_attribute=household.poverty_attribute,
        main_cause=household.main_cause,
        phone=household.phone,
        exit_year=household.exit_year,
        is_incomplete=household.is_incomplete,
        removed_on=household.removed_on,
    )


def member_public(member: Member, full_id: bool) -> MemberPublic:
    return MemberPublic(
        id=member.id or 0,
        id_number_masked=mask_id_number(member.id_number),
        id_number=member.id_number if full_id else None,
        name=member.name,
        sex=member.sex,
        birth_date=member.birth_date,
        relation=member.relation,
        relation_code=member.relation_code,
        ethnicity=member.ethnicity,
        status=member.status,
        status_date=member.status_date,
    )


@router.get("/households", response_model=Page[HouseholdPublic], summary="Households, by village, searchable")
def read_households(
    session: SessionDep,
    user: CurrentUser,
    village: Annotated[str | None, Query(description="12-digit village code")] = None,
    q: Annotated[
        str | None, Query(description="a name (prefix), an ID number (or its last digits), a household number")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[HouseholdPublic]:
    rows, count = service.list_households(session, user, village_code=village, q=q, limit=limit, offset=offset)
    return Page(data=[household_public(*row) for row in rows], count=count)


@router.get("/households/{household_no}", response_model=HouseholdDetail)
def read_household(household: CurrentHousehold, session: SessionDep, user: CurrentUser) -> HouseholdDetail:
    members = service.list_members(session, household)
    full = service.sees_full_ids(session, user, household)
    head = next((m.name for m in members if m.relation == "户主"), None)
    village = service.get_division(session, user, household.village_code)
    return HouseholdDetail(
        **household_public(household, head, sum(m.status == "active" for m in members)).model_dump(
            exclude={"village_name"}
        ),
        village_name=village.name,
        path=[DivisionPublic.model_validate(d) for d in [*service.division_path(session, user, village), village]],
        members=[member_public(m, full) for m in members],
    )


# --- roster imports -------------------------------------------------------------------------------------------


def import_public(queue: JobQueue, row: RosterImport) -> RosterImportPublic:
    public = RosterImportPublic.model_validate(row)
    if row.status in ("queued", "running"):
        public.progress = queue.progress(PROGRESS_KEY.format(row.id))
    return public


def submit_import(
    session: Session, user: User, queue: JobQueue, file: UploadFile, *, dry_run: bool, strict: bool
) -> RosterImport:
    """Stores and records the upload (committed by the use case), then enqueues it; shared by the API and the upload
    page."""
    settings = queue.settings
    record = service.start_web_import(
        session,
        user,
        upload=file.file,
        filename=file.filename or "",
        var_dir=settings.var_dir,
        max_bytes=settings.max_upload_mb << 20,
        dry_run=dry_run,
        strict=strict,
    )
    queue.try_enqueue(IMPORT_JOB, record.id, job_id=import_job_id(record.id or 0), timeout=IMPORT_TIMEOUT)
    return record


@router.post(
    "/roster-imports",
    response_model=RosterImportPublic,
    status_code=202,
    summary="Upload a roster (CSV in UTF-8 or GB18030, or XLSX); a worker imports it",
)
def create_roster_import(
    session: SessionDep,
    user: CurrentUser,
    queue: QueueDep,
    file: Annotated[UploadFile, File(description="the roster")],
    dry_run: Annotated[bool, Form()] = False,
    strict: Annotated[bool, Form()] = False,
) -> RosterImportPublic:
    record = submit_import(session, user, queue, file, dry_run=dry_run, strict=strict)
    return import_public(queue, record)


@router.get("/roster-imports", response_model=Page[RosterImportPublic])
def read_roster_imports(
    session: SessionDep,
    user: CurrentUser,
    queue: QueueDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[RosterImportPublic]:
    rows, count = service.list_imports(session, user, limit=limit, offset=offset)
    return Page(data=[import_public(queue, r) for r in rows], count=count)


@router.get("/roster-imports/{import_id}", response_model=RosterImportPublic)
def read_roster_import(record: CurrentImport, queue: QueueDep) -> RosterImportPublic:
    return import_public(queue, record)


@router.get("/roster-imports/{import_id}/issues", response_model=Page[ImportIssuePublic])
def read_import_issues(
    record: CurrentImport,
    session: SessionDep,
    errors_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ImportIssuePublic]:
    """The issues with ID numbers masked for every reader: only the importing office's report file has them whole."""
    rows, count = service.list_import_issues(
        session, record.id or 0, errors_only=errors_only, limit=limit, offset=offset
    )
    return Page(data=[ImportIssuePublic(**for_reader(r.model_dump(), full_ids=False)) for r in rows], count=count)


@router.get("/roster-imports/{import_id}/report.{fmt}", summary="The row-level report as CSV or XLSX")
def download_report(record: CurrentImport, fmt: str, engine: EngineDep, user: CurrentUser) -> Response:
    """Full ID numbers (in the value column) for the importing office only; anyone else who may read the import gets
    them masked."""
    import_id = record.id or 0
    full_ids = scope.is_importing_office(user, record.county_code)
    stem = f"导入报告-{record.id}-{record.filename.rsplit('.', 1)[0]}"
    if fmt == "csv":

        def chunks() -> Iterator[bytes]:
            with engine.connect() as connection:
                for chunk in iter_report_csv(for_readers(iter_issues(connection, import_id), full_ids=full_ids)):
                    yield chunk.encode("utf-8")

        return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers=_attachment(f"{stem}.csv"))
    if fmt == "xlsx":
        # Written to a temporary file, not memory: a province-sized report has hundreds of thousands of rows.
        with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
            path = Path(handle.name)
        with engine.connect() as connection:
            write_report_xlsx(path, for_readers(iter_issues(connection, import_id), full_ids=full_ids))
        return FileResponse(
            path,
            headers=_attachment(f"{stem}.xlsx"),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )
    raise RegisterNotFoundError("报告格式只能是 csv 或 xlsx", field="fmt")


def _attachment(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="report.{filename.rsplit(".", 1)[-1]}"; '
        f"filename*=UTF-8''{quote(filename)}"
    }
