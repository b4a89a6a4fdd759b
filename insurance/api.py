"""Thin JSON routes of the coverage domain; the service does the work and the checks."""

import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse

from core.auth import CurrentUser, SessionDep
from core.db import local_today
from core.errors import Invalid, NotFound
from core.masking import mask_id_number
from core.models import Role, User
from core.queue import read_json, try_enqueue
from core.ratelimit import RateLimiter
from core.schemas import Page
from core.storage import get_store
from insurance.certificates import pipeline, verification
from insurance.certificates import service as certificates_service
from insurance.certificates.models import DocumentStatus
from insurance.certificates.schemas import (
    DocumentPublic,
    DocumentVillagePublic,
    RetryPublic,
    RetryRequest,
    VerificationPublic,
)
from insurance.cover import answers, catalogue, industry, lifecycle, policies
from insurance.cover import enrolment as cover_enrolment
from insurance.cover import insurers as cover_insurers
from insurance.cover import notices as cover_notices
from insurance.cover.eligibility import CoverAnswer
from insurance.cover.models import (
    PERIL_LABELS,
    Enrolment,
    EnrolmentNotice,
    InsuredObject,
    Policy,
    PolicyStatus,
    ProductBenefit,
    ProductKind,
    ProductVersion,
)
from insurance.cover.schemas import (
    BenefitPublic,
    CancelRequest,
    CoverAnswerPublic,
    EnrolmentPublic,
    EnrolRequest,
    GroupPolicyCreate,
    HouseholdCover,
    IndustryPolicyCreate,
    InsuredObjectPublic,
    InsurerCreate,
    InsurerDetail,
    MemberCoverLine,
    NoticeCreate,
    NoticeLine,
    NoticePublic,
    ObjectionCreate,
    ObjectionPublic,
    ObjectionResolve,
    PolicyPublic,
    ProductPublic,
    ProductVersionCreate,
    ProductVersionPublic,
    RenewalCreate,
)
from insurance.register import service
from insurance.register.models import Division, Household, Insurer, Member, RosterImport
from insurance.register.roster_import import IMPORT_JOB, IMPORT_TIMEOUT, PROGRESS_KEY, import_job_id, iter_issues
from insurance.register.roster_report import iter_report_csv, write_report_xlsx
from insurance.register.schemas import (
    DivisionDetail,
    DivisionPublic,
    HouseholdDetail,
    HouseholdPublic,
    ImportIssuePublic,
    InsurerPublic,
    MemberPublic,
    RosterImportPublic,
)

router = APIRouter(prefix="/api", tags=["insurance"])
REGISTER_KEEPERS = (Role.county_office, Role.province_office)


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


def member_public(member: Member, user: User) -> MemberPublic:
    return MemberPublic(
        id=member.id or 0,
        id_number_masked=mask_id_number(member.id_number),
        id_number=member.id_number if user.role in REGISTER_KEEPERS else None,
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
def read_household(household_no: str, session: SessionDep, user: CurrentUser) -> HouseholdDetail:
    household = service.get_household(session, user, household_no)
    members = service.list_members(session, household)
    head = next((m.name for m in members if m.relation == "户主"), None)
    village = service.get_division(session, user, household.village_code)
    return HouseholdDetail(
        **household_public(household, head, sum(m.status == "active" for m in members)).model_dump(
            exclude={"village_name"}
        ),
        village_name=village.name,
        path=[DivisionPublic.model_validate(d) for d in [*service.division_path(session, user, village), village]],
        members=[member_public(m, user) for m in members],
    )


# --- roster imports -------------------------------------------------------------------------------------------


def import_public(request: Request, row: RosterImport) -> RosterImportPublic:
    public = RosterImportPublic.model_validate(row)
    if row.status in ("queued", "running"):
        public.progress = read_json(request.app.state.settings.redis_url, PROGRESS_KEY.format(row.id))
    return public


def submit_import(
    request: Request, session: Session, user: User, file: UploadFile, *, dry_run: bool, strict: bool
) -> RosterImport:
    """Stores and records the upload (committed), then enqueues it; shared by the API and the upload page."""
    settings = request.app.state.settings
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
    try_enqueue(settings, IMPORT_JOB, record.id, job_id=import_job_id(record.id or 0), timeout=IMPORT_TIMEOUT)
    return record


@router.post(
    "/roster-imports",
    response_model=RosterImportPublic,
    status_code=202,
    summary="Upload a roster (CSV in UTF-8 or GB18030, or XLSX); a worker imports it",
)
def create_roster_import(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="the roster")],
    dry_run: Annotated[bool, Form()] = False,
    strict: Annotated[bool, Form()] = False,
) -> RosterImportPublic:
    record = submit_import(request, session, user, file, dry_run=dry_run, strict=strict)
    return import_public(request, record)


@router.get("/roster-imports", response_model=Page[RosterImportPublic])
def read_roster_imports(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[RosterImportPublic]:
    rows, count = service.list_imports(session, user, limit=limit, offset=offset)
    return Page(data=[import_public(request, r) for r in rows], count=count)


@router.get("/roster-imports/{import_id}", response_model=RosterImportPublic)
def read_roster_import(import_id: int, request: Request, session: SessionDep, user: CurrentUser) -> RosterImportPublic:
    return import_public(request, service.get_import(session, user, import_id))


@router.get("/roster-imports/{import_id}/issues", response_model=Page[ImportIssuePublic])
def read_import_issues(
    import_id: int,
    session: SessionDep,
    user: CurrentUser,
    errors_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ImportIssuePublic]:
    service.get_import(session, user, import_id)
    rows, count = service.list_import_issues(session, import_id, errors_only=errors_only, limit=limit, offset=offset)
    return Page(data=[ImportIssuePublic.model_validate(r, from_attributes=True) for r in rows], count=count)


@router.get("/roster-imports/{import_id}/report.{fmt}", summary="The row-level report as CSV or XLSX")
def download_report(import_id: int, fmt: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    record = service.get_import(session, user, import_id)
    engine = request.app.state.engine
    stem = f"导入报告-{record.id}-{record.filename.rsplit('.', 1)[0]}"
    if fmt == "csv":

        def chunks() -> Iterator[bytes]:
            with engine.connect() as connection:
                for chunk in iter_report_csv(iter_issues(connection, import_id)):
                    yield chunk.encode("utf-8")

        return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers=_attachment(f"{stem}.csv"))
    if fmt == "xlsx":
        # Written to a temporary file, not memory: a province-sized report has hundreds of thousands of rows.
        with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
            path = Path(handle.name)
        with engine.connect() as connection:
            write_report_xlsx(path, iter_issues(connection, import_id))
        return FileResponse(
            path,
            headers=_attachment(f"{stem}.xlsx"),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )
    raise NotFound("报告格式只能是 csv 或 xlsx (format must be csv or xlsx)", field="fmt")


def _attachment(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="report.{filename.rsplit(".", 1)[-1]}"; '
        f"filename*=UTF-8''{quote(filename)}"
    }


# --- products and insurers -----------------------------------------------------------------------------------------


def version_public(version: ProductVersion, benefits: list[ProductBenefit]) -> ProductVersionPublic:
    public = ProductVersionPublic.model_validate(version)
    public.benefits = [BenefitPublic.model_validate(b) for b in benefits]
    return public


def product_public(entry: catalogue.CatalogueEntry, *, latest_only: bool) -> ProductPublic:
    versions = entry.versions[:1] if latest_only else entry.versions
    return ProductPublic(
        **ProductPublic.model_validate(entry.product).model_dump(exclude={"versions"}),
        versions=[version_public(v, entry.benefits[v.id or 0]) for v in versions],
    )


@router.get("/products", response_model=list[ProductPublic], summary="The product catalogue, newest version first")
def read_products(session: SessionDep, _user: CurrentUser) -> list[ProductPublic]:
    return [product_public(entry, latest_only=True) for entry in catalogue.catalogue(session)]


@router.get("/products/{code}", response_model=ProductPublic, summary="A product with all its versions")
def read_product(code: str, session: SessionDep, _user: CurrentUser) -> ProductPublic:
    catalogue.get_product(session, code)  # 404 naming the code
    return product_public(catalogue.catalogue(session, [code])[0], latest_only=False)


@router.post(
    "/products/{code}/versions",
    response_model=ProductVersionPublic,
    status_code=201,
    summary="Change a product's terms (admin): a new version; policies keep theirs",
)
def create_product_version(
    code: str, data: ProductVersionCreate, session: SessionDep, user: CurrentUser
) -> ProductVersionPublic:
    version = catalogue.create_product_version(session, user, code, data)
    return version_public(version, catalogue.list_benefits(session, version.id or 0))


def insurer_detail(session: Session, insurer: Insurer) -> InsurerDetail:
    return InsurerDetail(
        **InsurerPublic.model_validate(insurer).model_dump(),
        products=cover_insurers.insurer_products(session, insurer.id or 0),
    )


@router.get("/insurers", response_model=list[InsurerDetail])
def read_insurers(session: SessionDep, _user: CurrentUser) -> list[InsurerDetail]:
    return [insurer_detail(session, i) for i in service.list_insurers(session)]


@router.post("/insurers", response_model=InsurerDetail, status_code=201, summary="Register an insurer (admin)")
def create_insurer(data: InsurerCreate, session: SessionDep, user: CurrentUser) -> InsurerDetail:
    return insurer_detail(session, cover_insurers.create_insurer(session, user, data))


@router.put("/insurers/{insurer_id}/products", response_model=InsurerDetail, summary="Set the products it offers")
def set_insurer_products(insurer_id: int, codes: list[str], session: SessionDep, user: CurrentUser) -> InsurerDetail:
    cover_insurers.set_insurer_products(session, user, insurer_id, codes)
    return insurer_detail(session, service.get_insurer(session, insurer_id))


# --- policies and enrolment -----------------------------------------------------------------------------------------


def policies_public(session: Session, rows: list[Policy]) -> list[PolicyPublic]:
    """The insurers' names and the renewed policies' numbers in one query each, however many rows."""
    insurers = policies.insurer_names(session, [p.insurer_id for p in rows])
    previous = policies.policy_numbers(session, [p.renewed_from_id for p in rows if p.renewed_from_id])
    public = []
    for policy in rows:
        item = PolicyPublic.model_validate(policy)
        item.insurer_name = insurers.get(policy.insurer_id)
        item.renewed_from = previous.get(policy.renewed_from_id or 0)
        public.append(item)
    return public


def policy_public(session: Session, policy: Policy) -> PolicyPublic:
    return policies_public(session, [policy])[0]


def enrolment_public(request: Request, enrolment: Enrolment) -> EnrolmentPublic:
    public = EnrolmentPublic.model_validate(enrolment)
    if enrolment.status in ("queued", "running"):
        public.progress = read_json(
            request.app.state.settings.redis_url, cover_enrolment.PROGRESS_KEY.format(enrolment.id)
        )
    return public


def enqueue_enrolment(request: Request, enrolment: Enrolment) -> None:
    """After the commit; when Redis is away the row stays queued and the worker's sweeper sends it later."""
    try_enqueue(
        request.app.state.settings,
        cover_enrolment.ENROL_JOB,
        enrolment.id,
        job_id=cover_enrolment.enrolment_job_id(enrolment.id or 0),
        timeout=cover_enrolment.ENROL_TIMEOUT,
    )


@router.get("/policies", response_model=Page[PolicyPublic], summary="Policies within the caller's remit")
def read_policies(
    session: SessionDep,
    user: CurrentUser,
    county: str | None = None,
    year: int | None = None,
    kind: ProductKind | None = None,
    status: PolicyStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[PolicyPublic]:
    rows, count = policies.list_policies(
        session, user, county_code=county, year=year, kind=kind, status=status, limit=limit, offset=offset
    )
    return Page(data=policies_public(session, rows), count=count)


@router.post("/policies", response_model=PolicyPublic, status_code=201, summary="A county's family group policy")
def create_group_policy(data: GroupPolicyCreate, session: SessionDep, user: CurrentUser) -> PolicyPublic:
    return policy_public(session, policies.create_group_policy(session, user, data))


@router.post(
    "/policies/industry", response_model=PolicyPublic, status_code=201, summary="An industry policy with its objects"
)
def create_industry_policy(data: IndustryPolicyCreate, session: SessionDep, user: CurrentUser) -> PolicyPublic:
    return policy_public(session, industry.create_industry_policy(session, user, data))


@router.get("/policies/{policy_no}", response_model=PolicyPublic)
def read_policy(policy_no: str, session: SessionDep, user: CurrentUser) -> PolicyPublic:
    return policy_public(session, policies.get_policy(session, user, policy_no))


@router.get("/policies/{policy_no}/objects", response_model=list[InsuredObjectPublic])
def read_policy_objects(policy_no: str, session: SessionDep, user: CurrentUser) -> list[InsuredObjectPublic]:
    policy = policies.get_policy(session, user, policy_no)
    return [object_public(o, policy, no) for o, no in industry.list_objects(session, policy)]


def object_public(line: InsuredObject, policy: Policy, household_no: str) -> InsuredObjectPublic:
    return InsuredObjectPublic(
        **line.model_dump(exclude={"policy_id", "household_id", "end_reason"}),
        policy_no=policy.policy_no,
        household_no=household_no,
    )


@router.post(
    "/policies/{policy_no}/enrolments",
    response_model=EnrolmentPublic,
    status_code=202,
    summary="Enrol the county's eligible members (a worker does it; idempotent)",
)
def create_enrolment(
    policy_no: str, request: Request, session: SessionDep, user: CurrentUser, data: EnrolRequest | None = None
) -> EnrolmentPublic:
    on = (data.enrolled_on if data else None) or local_today()
    enrolment = cover_enrolment.start_enrolment(session, user, policy_no, on)
    enqueue_enrolment(request, enrolment)
    return enrolment_public(request, enrolment)


@router.get("/policies/{policy_no}/enrolments", response_model=list[EnrolmentPublic])
def read_enrolments(policy_no: str, request: Request, session: SessionDep, user: CurrentUser) -> list[EnrolmentPublic]:
    policy = policies.get_policy(session, user, policy_no)
    return [enrolment_public(request, e) for e in cover_enrolment.list_enrolments(session, policy)]


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentPublic)
def read_enrolment(enrolment_id: int, request: Request, session: SessionDep, user: CurrentUser) -> EnrolmentPublic:
    enrolment = cover_enrolment.get_enrolment(session, user, enrolment_id)
    return enrolment_public(request, enrolment)


@router.post(
    "/policies/{policy_no}/renewal",
    response_model=EnrolmentPublic,
    status_code=202,
    summary="Next year's policy, enrolling everyone still eligible",
)
def renew_policy(
    policy_no: str, data: RenewalCreate, request: Request, session: SessionDep, user: CurrentUser
) -> EnrolmentPublic:
    _, enrolment = lifecycle.renew_policy(session, user, policy_no, data, local_today())
    enqueue_enrolment(request, enrolment)
    return enrolment_public(request, enrolment)


@router.post("/policies/{policy_no}/issue", response_model=PolicyPublic, summary="Put the policy in force")
def issue_policy(policy_no: str, request: Request, session: SessionDep, user: CurrentUser) -> PolicyPublic:
    policy = lifecycle.issue_policy(session, user, policy_no, local_today())
    pipeline.dispatch_after_commit(session, request.app.state.settings, policy.id)
    return policy_public(session, policy)


@router.post("/policies/{policy_no}/cancel", response_model=PolicyPublic)
def cancel_policy(
    policy_no: str, data: CancelRequest, request: Request, session: SessionDep, user: CurrentUser
) -> PolicyPublic:
    policy = lifecycle.cancel_policy(session, user, policy_no, data.reason, local_today())
    pipeline.dispatch_after_commit(session, request.app.state.settings, policy.id)
    return policy_public(session, policy)


# --- enrolment notices and objections ---------------------------------------------------------------------------------


def notices_public(session: Session, policy: Policy, notices: list[EnrolmentNotice]) -> list[NoticePublic]:
    names = cover_notices.village_names(session, [n.village_code for n in notices])
    open_counts = cover_notices.open_objection_counts(session, policy)
    return [
        NoticePublic(
            **notice.model_dump(exclude={"policy_id", "created_at"}),
            policy_no=policy.policy_no,
            village_name=names.get(notice.village_code),
            objections_open=open_counts.get(notice.id or 0, 0),
        )
        for notice in notices
    ]


@router.get("/policies/{policy_no}/notices", response_model=list[NoticePublic])
def read_notices(policy_no: str, session: SessionDep, user: CurrentUser) -> list[NoticePublic]:
    policy = policies.get_policy(session, user, policy_no)
    return notices_public(session, policy, cover_notices.list_notices(session, policy))


@router.get(
    "/policies/{policy_no}/notice-lines/{village_code}",
    response_model=list[NoticeLine],
    summary="The enrolment notice's list for a village (what is posted: masked IDs only)",
)
def read_notice_lines(policy_no: str, village_code: str, session: SessionDep, user: CurrentUser) -> list[NoticeLine]:
    policy = policies.get_policy(session, user, policy_no)
    return [
        NoticeLine.model_validate(line) for line in cover_notices.notice_lines(session, policy, village_code.strip())
    ]


@router.post("/policies/{policy_no}/notices", response_model=NoticePublic, status_code=201)
def post_notice(
    policy_no: str, data: NoticeCreate, request: Request, session: SessionDep, user: CurrentUser
) -> NoticePublic:
    notice = cover_notices.post_notice(session, user, policy_no, data.village_code, data.posted_on)
    pipeline.dispatch_after_commit(session, request.app.state.settings, notice.policy_id)
    policy = session.get(Policy, notice.policy_id)  # a query: the identity map holds post_notice's policy weakly
    assert policy is not None
    return notices_public(session, policy, [notice])[0]


@router.get("/notices/{notice_id}/objections", response_model=list[ObjectionPublic])
def read_objections(notice_id: int, session: SessionDep, user: CurrentUser) -> list[ObjectionPublic]:
    notice, _ = cover_notices.get_notice(session, user, notice_id)
    return [ObjectionPublic.model_validate(o) for o in cover_notices.list_objections(session, notice)]


@router.post("/notices/{notice_id}/objections", response_model=ObjectionPublic, status_code=201)
def record_objection(notice_id: int, data: ObjectionCreate, session: SessionDep, user: CurrentUser) -> ObjectionPublic:
    return ObjectionPublic.model_validate(cover_notices.record_objection(session, user, notice_id, data))


@router.post("/objections/{objection_id}/resolution", response_model=ObjectionPublic)
def resolve_objection(
    objection_id: int, data: ObjectionResolve, session: SessionDep, user: CurrentUser
) -> ObjectionPublic:
    return ObjectionPublic.model_validate(cover_notices.resolve_objection(session, user, objection_id, data))


# --- what is covered ----------------------------------------------------------------------------------------


def answer_public(answer: CoverAnswer, peril: str, on: date) -> CoverAnswerPublic:
    return CoverAnswerPublic(
        **{k: v for k, v in answer.__dict__.items() if k != "also_covered_by"},
        reason_label=answer.reason_label,
        peril=peril,
        on=on,
        also_covered_by=list(answer.also_covered_by),
    )


def _peril(peril: str) -> str:
    if peril not in PERIL_LABELS:
        raise Invalid(f"未知的保险责任 (unknown peril): {peril}", field="peril")
    return peril


@router.get(
    "/members/{member_id}/cover",
    response_model=CoverAnswerPublic,
    summary="Is this member covered for the peril on the date, under which policy and benefit, what is left",
)
def read_member_cover(
    member_id: int, peril: str, session: SessionDep, user: CurrentUser, on: date | None = None
) -> CoverAnswerPublic:
    day = on or local_today()
    return answer_public(answers.member_cover(session, user, member_id, _peril(peril), day), peril, day)


@router.get("/insured-objects/{object_id}/cover", response_model=CoverAnswerPublic)
def read_object_cover(
    object_id: int, peril: str, session: SessionDep, user: CurrentUser, on: date | None = None
) -> CoverAnswerPublic:
    day = on or local_today()
    return answer_public(answers.object_cover(session, user, object_id, _peril(peril), day), peril, day)


@router.get("/households/{household_no}/cover", response_model=HouseholdCover, summary="A household's cover")
def read_household_cover(
    household_no: str, session: SessionDep, user: CurrentUser, on: date | None = None
) -> HouseholdCover:
    day = on or local_today()
    household = service.get_household(session, user, household_no)
    member_rows, objects = answers.household_cover(session, household)
    covered = {
        r.member.id
        for r in member_rows
        if r.coverage.status != "cancelled" and r.coverage.cover_start <= day <= r.coverage.cover_end
    }
    uncovered = [
        mask_id_number(m.id_number)
        for m in service.list_members(session, household)
        if m.status == "active" and m.id not in covered
    ]
    return HouseholdCover(
        household_no=household.household_no,
        village_code=household.village_code,
        on=day,
        members=[
            MemberCoverLine(
                member_id=r.member.id or 0,
                name=r.member.name,
                id_number_masked=mask_id_number(r.member.id_number),
                relation=r.member.relation,
                member_status=r.member.status,
                policy_no=r.policy.policy_no,
                insurer_name=r.insurer_name,
                product_name=r.product_name,
                policy_status=r.policy.status,
                cover_start=r.coverage.cover_start,
                cover_end=r.coverage.cover_end,
                waiting_waived=r.coverage.waiting_waived,
                status=r.coverage.status,
                end_reason=r.coverage.end_reason,
            )
            for r in member_rows
        ],
        objects=[object_public(o, p, household.household_no) for o, p in objects],
        uncovered_members=uncovered,
    )


# --- documents: status per village, retry, download; public verification ----------------------------------------


@router.get(
    "/policies/{policy_no}/documents",
    response_model=list[DocumentVillagePublic],
    summary="Certificates, booklets and notices of the policy per village: pending, queued, running, failed, done",
)
def read_document_status(policy_no: str, session: SessionDep, user: CurrentUser) -> list[DocumentVillagePublic]:
    policy = policies.get_policy(session, user, policy_no)
    return [
        DocumentVillagePublic(
            village_code=v.village_code,
            village_name=v.village_name,
            counts=v.counts,
            booklet_id=v.booklet.id if v.booklet else None,
            notice_id=v.notice.id if v.notice else None,
        )
        for v in certificates_service.village_status(session, policy)
    ]


@router.get(
    "/policies/{policy_no}/documents/requests",
    response_model=list[DocumentPublic],
    summary="The policy's document requests, newest first, by village and status",
)
def read_document_requests(
    policy_no: str,
    session: SessionDep,
    user: CurrentUser,
    village_code: str | None = None,
    status: DocumentStatus | None = None,
) -> list[DocumentPublic]:
    policy = policies.get_policy(session, user, policy_no)
    rows = certificates_service.list_requests(session, policy, village_code=village_code, status=status)
    return [DocumentPublic.model_validate(r) for r in rows]


@router.post(
    "/policies/{policy_no}/documents/retry",
    response_model=RetryPublic,
    summary="Send failed documents again (all of the policy's, or one village's)",
)
def retry_documents(
    policy_no: str, data: RetryRequest, request: Request, session: SessionDep, user: CurrentUser
) -> RetryPublic:
    policy = policies.get_policy(session, user, policy_no)
    retried = certificates_service.retry_failed(session, policy, village_code=data.village_code)
    pipeline.dispatch_after_commit(session, request.app.state.settings, policy.id)
    return RetryPublic(retried=retried)


@router.get("/documents/{document_id}/pdf", summary="A finished PDF (certificate, booklet or notice)")
def download_document(document_id: int, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    document, _ = certificates_service.get_document(session, user, document_id)
    key = certificates_service.require_done(document)
    data = get_store(request.app.state.settings).get(key)
    name = key.rsplit("/", 1)[-1]
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"}
    )


def verify_limiter(request: Request) -> RateLimiter:
    """One limiter per app, created on first use (it holds a Redis client)."""
    limiter = getattr(request.app.state, "verify_limiter", None)
    if limiter is None:
        settings = request.app.state.settings
        limiter = RateLimiter(settings.redis_url, "verify", settings.verify_per_minute)
        request.app.state.verify_limiter = limiter
    return limiter


@router.get(
    "/verify",
    response_model=VerificationPublic,
    summary="Public: check a certificate's QR code or short code (no login; rate limited per client)",
)
def verify_code(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Query(min_length=1, max_length=600, description="the QR's text or URL, or the short code")],
) -> VerificationPublic:
    verify_limiter(request).check(request)
    result = verification.verify(session, request.app.state.settings, code)
    return VerificationPublic(**asdict(result), state_label=verification.STATE_LABELS[result.state])


@router.get(
    "/verify/public-key",
    response_class=PlainTextResponse,
    summary="Public: the Ed25519 key (PEM) that verifies codes offline (docs/verification.md)",
)
def verify_public_key(request: Request) -> str:
    return verification.public_key_pem(request.app.state.settings)
