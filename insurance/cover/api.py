"""The cover JSON API: products, insurers' offers, policies, enrolment, notices, objections, and the cover answer."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from core.auth import CurrentUser, QueueDep, SessionDep, SettingsDep
from core.db import local_today
from core.masking import mask_id_number
from core.queue import JobQueue
from core.schemas import Page
from insurance.cover import answers, catalogue, industry, lifecycle, policies
from insurance.cover import enrolment as cover_enrolment
from insurance.cover import insurers as cover_insurers
from insurance.cover import notices as cover_notices
from insurance.cover import objections as cover_objections
from insurance.cover.deps import CurrentPolicy
from insurance.cover.eligibility import CoverAnswer
from insurance.cover.errors import CoverInvalidError
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
from insurance.register import service as register_service
from insurance.register.deps import CurrentHousehold
from insurance.register.models import Insurer
from insurance.register.schemas import (
    InsurerPublic,
)

router = APIRouter(prefix="/api", tags=["cover"])


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
    return [insurer_detail(session, i) for i in register_service.list_insurers(session)]


@router.post("/insurers", response_model=InsurerDetail, status_code=201, summary="Register an insurer (admin)")
def create_insurer(data: InsurerCreate, session: SessionDep, user: CurrentUser) -> InsurerDetail:
    return insurer_detail(session, cover_insurers.create_insurer(session, user, data))


@router.put("/insurers/{insurer_id}/products", response_model=InsurerDetail, summary="Set the products it offers")
def set_insurer_products(insurer_id: int, codes: list[str], session: SessionDep, user: CurrentUser) -> InsurerDetail:
    cover_insurers.set_insurer_products(session, user, insurer_id, codes)
    return insurer_detail(session, register_service.get_insurer(session, insurer_id))


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


def enrolment_public(queue: JobQueue, enrolment: Enrolment) -> EnrolmentPublic:
    public = EnrolmentPublic.model_validate(enrolment)
    if enrolment.status in ("queued", "running"):
        public.progress = queue.progress(cover_enrolment.PROGRESS_KEY.format(enrolment.id))
    return public


def enqueue_enrolment(queue: JobQueue, enrolment: Enrolment) -> None:
    """After the commit; when Redis is away the row stays queued and the worker's sweeper sends it later."""
    queue.try_enqueue(
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
def read_policy(policy: CurrentPolicy, session: SessionDep) -> PolicyPublic:
    return policy_public(session, policy)


@router.get("/policies/{policy_no}/objects", response_model=list[InsuredObjectPublic])
def read_policy_objects(policy: CurrentPolicy, session: SessionDep) -> list[InsuredObjectPublic]:
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
    policy_no: str, session: SessionDep, user: CurrentUser, queue: QueueDep, data: EnrolRequest | None = None
) -> EnrolmentPublic:
    on = (data.enrolled_on if data else None) or local_today()
    enrolment = cover_enrolment.start_enrolment(session, user, policy_no, on)
    enqueue_enrolment(queue, enrolment)
    return enrolment_public(queue, enrolment)


@router.get("/policies/{policy_no}/enrolments", response_model=list[EnrolmentPublic])
def read_enrolments(policy: CurrentPolicy, session: SessionDep, queue: QueueDep) -> list[EnrolmentPublic]:
    return [enrolment_public(queue, e) for e in cover_enrolment.list_enrolments(session, policy)]


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentPublic)
def read_enrolment(enrolment_id: int, session: SessionDep, user: CurrentUser, queue: QueueDep) -> EnrolmentPublic:
    enrolment = cover_enrolment.get_enrolment(session, user, enrolment_id)
    return enrolment_public(queue, enrolment)


@router.post(
    "/policies/{policy_no}/renewal",
    response_model=EnrolmentPublic,
    status_code=202,
    summary="Next year's policy, enrolling everyone still eligible",
)
def renew_policy(
    policy_no: str, data: RenewalCreate, session: SessionDep, user: CurrentUser, queue: QueueDep
) -> EnrolmentPublic:
    _, enrolment = lifecycle.renew_policy(session, user, policy_no, data, local_today())
    enqueue_enrolment(queue, enrolment)
    return enrolment_public(queue, enrolment)


@router.post("/policies/{policy_no}/issue", response_model=PolicyPublic, summary="Put the policy in force")
def issue_policy(policy_no: str, session: SessionDep, user: CurrentUser) -> PolicyPublic:
    policy = lifecycle.issue_policy(session, user, policy_no, local_today())
    return policy_public(session, policy)


@router.post("/policies/{policy_no}/cancel", response_model=PolicyPublic)
def cancel_policy(policy_no: str, data: CancelRequest, session: SessionDep, user: CurrentUser) -> PolicyPublic:
    policy = lifecycle.cancel_policy(session, user, policy_no, data.reason, local_today())
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
def read_notices(policy: CurrentPolicy, session: SessionDep) -> list[NoticePublic]:
    return notices_public(session, policy, cover_notices.list_notices(session, policy))


@router.get(
    "/policies/{policy_no}/notice-lines/{village_code}",
    response_model=list[NoticeLine],
    summary="The enrolment notice's list for a village (what is posted: masked IDs only)",
)
def read_notice_lines(policy: CurrentPolicy, village_code: str, session: SessionDep) -> list[NoticeLine]:
    return [
        NoticeLine.model_validate(line) for line in cover_notices.notice_lines(session, policy, village_code.strip())
    ]


@router.post("/policies/{policy_no}/notices", response_model=NoticePublic, status_code=201)
def post_notice(
    policy_no: str, data: NoticeCreate, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> NoticePublic:
    notice = cover_notices.post_notice(
        session,
        user,
        policy_no,
        data.village_code,
        data.posted_on,
        today=local_today(),
        late_days=settings.notice_late_days,
        late_reason=data.late_reason,
    )
    policy = session.get(Policy, notice.policy_id)  # a query: the identity map holds post_notice's policy weakly
    assert policy is not None
    return notices_public(session, policy, [notice])[0]


@router.get("/notices/{notice_id}/objections", response_model=list[ObjectionPublic])
def read_objections(notice_id: int, session: SessionDep, user: CurrentUser) -> list[ObjectionPublic]:
    notice, _ = cover_notices.get_notice(session, user, notice_id)
    return [ObjectionPublic.model_validate(o) for o in cover_objections.list_objections(session, notice)]


@router.post("/notices/{notice_id}/objections", response_model=ObjectionPublic, status_code=201)
def record_objection(notice_id: int, data: ObjectionCreate, session: SessionDep, user: CurrentUser) -> ObjectionPublic:
    objection = cover_objections.record_objection(session, user, notice_id, data, today=local_today())
    return ObjectionPublic.model_validate(objection)


@router.post("/objections/{objection_id}/resolution", response_model=ObjectionPublic)
def resolve_objection(
    objection_id: int, data: ObjectionResolve, session: SessionDep, user: CurrentUser
) -> ObjectionPublic:
    return ObjectionPublic.model_validate(cover_objections.resolve_objection(session, user, objection_id, data))


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
        raise CoverInvalidError(f"未知的保险责任: {peril}", field="peril")
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
    household: CurrentHousehold, session: SessionDep, user: CurrentUser, on: date | None = None
) -> HouseholdCover:
    day = on or local_today()
    member_rows, objects = answers.household_cover(session, user, household)
    covered = {
        r.member.id
        for r in member_rows
        if r.coverage.status != "cancelled" and r.coverage.cover_start <= day <= r.coverage.cover_end
    }
    uncovered = [
        mask_id_number(m.id_number)
        for m in register_service.list_members(session, household)
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
