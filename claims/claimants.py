"""Whom a handler may file a claim for, as the filing form offers it: households found by household number, a name
or an ID number within the register the handler's company sees (the counties where it holds a policy:
insurance.register.scope, applied in the register's query), then the chosen household's members and the insured
objects it has on the company's industry policies. ID numbers leave here masked; the form sends back ids."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from claims import queries
from core import labels
from core.masking import mask_id_number
from core.models import User
from insurance.cover.models import UNIT_LABELS, Coverage, CoverStatus, InsuredObject, Policy
from insurance.labels import SUBJECT
from insurance.register import service as register_service
from insurance.register.models import MEMBER_STATUS_LABELS, Division, Household, Member
from insurance.register.roster import HEAD_RELATION

SEARCH_LIMIT = 20


@dataclass(frozen=True, slots=True)
class HouseholdChoice:
    household_no: str
    head_name: str | None
    head_id_masked: str
    village_name: str
    active_members: int


@dataclass(frozen=True, slots=True)
class MemberChoice:
    id: int
    name: str
    relation: str
    id_masked: str
    status_label: str
    covered: bool  # on a policy of the handler's company (the filing service refuses the others)

    @property
    def text(self) -> str:
        """The option as the select shows it: 张三（户主，433124********1234，在册）."""
        note = "" if self.covered else "，未参加本公司保险"
        return f"{self.name}（{self.relation}，{self.id_masked}，{self.status_label}{note}）"


@dataclass(frozen=True, slots=True)
class ObjectChoice:
    id: int
    policy_no: str
    subject_label: str
    quantity: Decimal
    unit_label: str
    season: str
    ear_tags: int
    cover_start: date
    cover_end: date
    cancelled: bool

    @property
    def text(self) -> str:
        """保单 ZB…：生猪 12 头（2026，耳标 12 个，2026-01-01 至 2026-12-31）."""
        tags = f"，耳标 {self.ear_tags} 个" if self.ear_tags else ""
        state = "，已注销" if self.cancelled else ""
        quantity = f"{self.quantity.normalize():f}"
        return (
            f"保单 {self.policy_no}：{self.subject_label} {quantity} {self.unit_label}（{self.season}{tags}，"
            f"{self.cover_start.isoformat()} 至 {self.cover_end.isoformat()}{state}）"
        )


@dataclass(frozen=True, slots=True)
class HouseholdChoices:
    household: HouseholdChoice
    members: list[MemberChoice]
    objects: list[ObjectChoice]


def _village_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(session.exec(select(Division.code, Division.name).where(col(Division.code).in_(codes))).all())


def _head_ids(session: Session, household_ids: list[int]) -> dict[int, str]:
    rows = session.exec(
        select(Member.household_id, Member.id_number).where(
            col(Member.household_id).in_(household_ids), Member.relation == HEAD_RELATION
        )
    ).all()
    return {household_id: id_number for household_id, id_number in rows}


def search_households(
    session: Session, user: User, term: str, *, limit: int = SEARCH_LIMIT
) -> tuple[list[HouseholdChoice], int]:
    """Households of the handler's register matching a household number, a member's name (its beginning) or an ID
    number (whole, or its last digits), at most `limit`, with how many matched in all."""
    queries.require_handler(user)
    rows, count = register_service.list_households(session, user, q=term, limit=limit)
    villages = _village_names(session, {h.village_code for h, _, _ in rows})
    heads = _head_ids(session, [h.id for h, _, _ in rows if h.id is not None])
    choices = [
        HouseholdChoice(
            household_no=h.household_no,
            head_name=name,
            head_id_masked=mask_id_number(heads.get(h.id or 0)),
            village_name=villages.get(h.village_code, h.village_code),
            active_members=active,
        )
        for h, name, active in rows
    ]
    return choices, count


def household_choices(session: Session, user: User, household_no: str) -> HouseholdChoices:
    """The household (404 outside the handler's register), its members with whether the company covers them, and
    its insured objects on the company's issued industry policies, newest cover first."""
    insurer_id = queries.require_handler(user)
    household: Household = register_service.get_household(session, user, household_no)
    members = register_service.list_members(session, household)
    covered = set(
        session.exec(
            select(Coverage.member_id)
            .join(Policy, col(Policy.id) == Coverage.policy_id)
            .where(
                col(Coverage.member_id).in_([m.id for m in members]),
                Policy.insurer_id == insurer_id,
                col(Policy.issued_at).is_not(None),
            )
        ).all()
    )
    objects = session.exec(
        select(InsuredObject, Policy.policy_no)
        .join(Policy, col(Policy.id) == InsuredObject.policy_id)
        .where(
            InsuredObject.household_id == household.id,
            Policy.insurer_id == insurer_id,
            col(Policy.issued_at).is_not(None),
        )
        .order_by(col(InsuredObject.cover_start).desc(), col(InsuredObject.id))
    ).all()
    head = next((m for m in members if m.relation == HEAD_RELATION), None)
    return HouseholdChoices(
        household=HouseholdChoice(
            household_no=household.household_no,
            head_name=head.name if head else None,
            head_id_masked=mask_id_number(head.id_number if head else None),
            village_name=_village_names(session, {household.village_code}).get(household.village_code, ""),
            active_members=sum(1 for m in members if m.status == "active"),
        ),
        members=[
            MemberChoice(
                id=m.id or 0,
                name=m.name,
                relation=m.relation,
                id_masked=mask_id_number(m.id_number),
                status_label=MEMBER_STATUS_LABELS.get(m.status, m.status),
                covered=m.id in covered,
            )
            for m in members
        ],
        objects=[
            ObjectChoice(
                id=o.id or 0,
                policy_no=policy_no,
                subject_label=labels.label(SUBJECT, o.subject),
                quantity=o.quantity,
                unit_label=UNIT_LABELS.get(o.unit, o.unit),
                season=o.season,
                ear_tags=len(o.ear_tags or []),
                cover_start=o.cover_start,
                cover_end=o.cover_end,
                cancelled=o.status == CoverStatus.cancelled,
            )
            for o, policy_no in objects
        ],
    )
