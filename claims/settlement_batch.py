"""The settlement import's database side, a few thousand rows at a time: a 100,000-row file is one transaction of
a few dozen queries per chunk, not a dozen per row.

Per chunk: the members by ID number, the settlement numbers already imported and the cover lines of the members,
each in one query; the limits already used by claims in the database, once per member or household (the first
chunk that names them); then the rows in file order, each refused or assessed against a running total of the
limit used, so an annual limit counts the earlier rows of the file exactly as the one-by-one path did (the claims
of this file are assessed after every claim already in the database, in row order). The claim numbers of a chunk
are reserved from claim_counter as one block per county and year; the claims, their three events (file,
documents complete, assessed) and their two audit records go in with multi-row inserts, in the very form
claims.workflow.transition writes them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from claims.assessing import assessment_json
from claims.assessment import Benefit, MedicalFacts, assess, cover_from_answer
from claims.clocks import DECISION_DAYS
from claims.models import Claim, ClaimCounter, ClaimEvent, claim_no_for
from claims.settlement_checks import (
    DUPLICATE_SETTLEMENT,
    ERROR,
    MEMBER_UNKNOWN,
    NAME_MISMATCH,
    SettlementRow,
    SheetIssue,
    shown,
)
from claims.status import COUNTS_AGAINST_LIMIT, INITIAL_STATUS, ClaimAction, ClaimStatus, ClaimType, next_status
from core.audit import Actor
from core.db import insert_rows, insert_rows_with_ids, one_of, utcnow
from core.models import AuditLog
from insurance.cover import answers, eligibility
from insurance.cover.models import Policy, ProductBenefit, ProductUnit, ProductVersion
from insurance.register.identifiers import masked
from insurance.register.models import Household, Member
from insurance.register.roster import HeaderMap

PERIL = "hospitalisation"
NOT_COVERED = "not_covered"  # a refusal only when the insurer's county policy has no hospitalisation benefit at all
CHUNK = 2000  # rows per round of queries: well inside SQLite's and PostgreSQL's bound-parameter limits
FILED_NOTE = "一站式结算单导入"
DOCUMENTS_NOTE = "结算单即理赔材料"
_DOCUMENTS_COMPLETE = next_status(INITIAL_STATUS, ClaimAction.complete_documents)
_ASSESSED = next_status(_DOCUMENTS_COMPLETE, ClaimAction.assess)


@dataclass(frozen=True)
class ClaimCreated:
    """A claim made from a row, as the CLI's JSON and the report show it."""

    row: int
    settlement_no: str
    claim_no: str
    status: str
    payable_fen: int
    household_pays_fen: int
    reasons: list[str]


class _Person(NamedTuple):
    """A register member as a row needs it: who, the name to match, the household and its county."""

    id: int
    name: str
    household_id: int
    county_code: str


@dataclass
class _Planned:
    """A row that becomes a claim: its values before the number is known."""

    row: SettlementRow
    values: dict[str, Any]
    reasons: list[str]


def _refusal(row: SettlementRow, key: str, column: str, code: str, message: str, value: str) -> SheetIssue:
    return SheetIssue(row.row, column, code, shown(message)[:480], value, ERROR, key)


class SettlementBatch:
    """One file's accepted rows against the register and the insurer's issued policies, chunk by chunk, in the
    caller's session (its one transaction)."""

    def __init__(self, session: Session, *, insurer_id: int, actor: Actor, today: Any, import_id: int | None) -> None:
        self.session = session
        self.insurer_id, self.actor, self.today, self.import_id = insurer_id, actor, today, import_id
        rows = session.exec(
            select(Policy).where(Policy.insurer_id == insurer_id, col(Policy.issued_at).is_not(None))
        ).all()
        self.policies = {p.id or 0: p for p in rows}
        self.counties = {p.county_code for p in rows}
        self._benefits: dict[int, tuple[Benefit, ProductBenefit] | None] = {}
        self._used: dict[tuple[int, str, str, int], int] = {}  # (policy, benefit, "m"/"h", id) -> payable so far
        self._members_loaded: set[int] = set()
        self._households_loaded: set[int] = set()

    # --- reading, one query per chunk -------------------------------------------------------------------------

    def _benefit(self, policy: Policy) -> tuple[Benefit, ProductBenefit] | None:
        """The policy's benefit naming hospitalisation, with its version's terms (cached per version)."""
        version_id = policy.product_version_id
        if version_id not in self._benefits:
            found = None
            benefits = self.session.exec(
                select(ProductBenefit).where(ProductBenefit.version_id == version_id).order_by(col(ProductBenefit.id))
            )
            for row in benefits:
                if PERIL in (row.perils or []):
                    version = self.session.get(ProductVersion, version_id)
                    found = (Benefit.from_catalogue(row.model_dump(), version.terms if version else {}), row)
                    break
            self._benefits[version_id] = found
        return self._benefits[version_id]

    def _load_used(self, members: dict[int, int]) -> None:
        """What the claims already in the database used of each limit, for the members (and their households) not
        loaded yet; the rows of this file are added as they are assessed."""
        counted = col(Claim.status).in_(COUNTS_AGAINST_LIMIT)
        new_members = sorted(set(members) - self._members_loaded)
        new_households = sorted(set(members.values()) - self._households_loaded)
        for kind, column, ids in (("m", Claim.member_id, new_members), ("h", Claim.household_id, new_households)):
            if not ids:
                continue
            query = (
                select(Claim.policy_id, Claim.benefit_code, column, func.coalesce(func.sum(Claim.payable_fen), 0))
                .where(one_of(self.session, column, ids), counted, col(Claim.assessed_at).is_not(None))
                .group_by(Claim.policy_id, Claim.benefit_code, column)
            )
            for policy_id, code, owner, used in self.session.exec(query):
                self._used[(policy_id, code, kind, owner)] = int(used)
        self._members_loaded.update(new_members)
        self._households_loaded.update(new_households)

    # --- the chunk --------------------------------------------------------------------------------------------

    def settle(self, rows: Sequence[SettlementRow], header: HeaderMap) -> list[ClaimCreated | SheetIssue]:
        """The chunk's rows in order, each refused against the register or filed and assessed; the claims are
        written before this returns (not committed)."""
        session = self.session
        people = (
            select(Member.id_number, Member.id, Member.name, Member.household_id, Household.county_code)
            .join(Household, col(Household.id) == Member.household_id)
            .where(one_of(session, Member.id_number, sorted({r.id_number for r in rows})))
        )
        found = {number: _Person(*person) for number, *person in session.exec(people)}
        numbers = sorted({r.settlement_no for r in rows})
        query = select(Claim.settlement_no, Claim.claim_no, Claim.insurer_id).where(
            one_of(session, Claim.settlement_no, numbers)
        )
        # another company's claim is not named to this one (the number is unique across companies)
        taken = {n: no if insurer == self.insurer_id else "" for n, no, insurer in session.exec(query)}
        known = {p.id: p.household_id for p in found.values() if p.county_code in self.counties}
        lines = answers.cover_lines_of_members(session, known, self.policies)
        self._load_used(known)
        results: list[ClaimCreated | SheetIssue | _Planned] = []
        for row in rows:
            results.append(self._row(row, header, found.get(row.id_number), taken, lines))
        planned = [p for p in results if isinstance(p, _Planned)]
        created = iter(self._write(planned))
        return [next(created) if isinstance(r, _Planned) else r for r in results]

    def _row(
        self,
        row: SettlementRow,
        header: HeaderMap,
        found: _Person | None,
        taken: dict[str | None, str],
        lines: dict[int, list[answers.MemberLine]],
    ) -> SheetIssue | _Planned:
        id_column = header.header_of("id_number")
        if found is None:
            message = f"证件号码{masked(row.id_number)}不在建档立卡花名册上"
            return _refusal(row, "id_number", id_column, MEMBER_UNKNOWN, message, masked(row.id_number))
        if found.county_code not in self.counties:
            # On the register, in a county where the company has no issued policy: the cover does not answer for
            # the stay. The contract lets such a row be refused with the assessment's own code; with no policy of
            # the company there is nothing to file the claim under.
            message = f"证件号码{masked(row.id_number)}所在县没有本公司已出单的保单，本次住院不在保障范围内"
            return _refusal(row, "id_number", id_column, NOT_COVERED, message, masked(row.id_number))
        member = found
        if member.name != row.name:
            message = f"姓名“{row.name}”与花名册登记的姓名“{member.name}”不一致"
            return _refusal(row, "name", header.header_of("name"), NAME_MISMATCH, message, row.name)
        if row.settlement_no in taken:
            named = f"（理赔案件{taken[row.settlement_no]}）" if taken[row.settlement_no] else ""
            message = f"结算单号“{row.settlement_no}”已导入{named}"
            column = header.header_of("settlement_no")
            return _refusal(row, "settlement_no", column, DUPLICATE_SETTLEMENT, message, row.settlement_no)
        mine = lines.get(member.id, [])
        chosen = self._line(mine, row, member.county_code)
        terms = self._benefit(chosen.policy if isinstance(chosen, answers.MemberLine) else chosen) if chosen else None
        if chosen is None or terms is None:
            message = "本公司在该县的保单不含住院补充医疗责任"
            return _refusal(row, "id_number", id_column, NOT_COVERED, message, masked(row.id_number))
        return self._assess(row, member, chosen, [m.line for m in mine], terms)

    def _line(
        self, mine: list[answers.MemberLine], row: SettlementRow, county_code: str
    ) -> answers.MemberLine | Policy | None:
        """The claim's policy: the line in force on the admission date, else the member's latest line with the
        insurer, else the insurer's latest issued policy of the member's county (no line: a Policy)."""
        for line in mine:
            cover = line.line
            if not cover.cancelled and cover.cover_start <= row.admission_date <= cover.cover_end:
                return line
        if mine:
            return mine[0]
        county = [p for p in self.policies.values() if p.county_code == county_code]
        return max(county, key=lambda p: p.period_start) if county else None

    def _assess(
        self,
        row: SettlementRow,
        member: _Person,
        chosen: answers.MemberLine | Policy,
        lines: list[eligibility.CoverLine],
        terms: tuple[Benefit, ProductBenefit],
    ) -> _Planned:
        benefit, benefit_row = terms
        policy = chosen.policy if isinstance(chosen, answers.MemberLine) else chosen
        coverage = chosen.line if isinstance(chosen, answers.MemberLine) else None
        kind, owner = ("h", member.household_id) if benefit_row.unit == ProductUnit.household else ("m", member.id)
        key = (policy.id or 0, benefit.code, kind, owner)
        facts = {
            "total_cost_fen": row.total_cost_fen,
            "in_policy_fen": row.in_policy_fen,
            "bmi_paid_fen": row.bmi_paid_fen,
            "ci_paid_fen": row.ci_paid_fen,
            "assistance_paid_fen": row.assistance_paid_fen,
        }
        answer = eligibility.cover_for(lines, PERIL, row.admission_date, {})
        cover = cover_from_answer(
            answer,
            benefit,
            used_this_year_fen=self._used.get(key, 0),
            cover_start=coverage.cover_start if coverage else None,
            cover_end=coverage.cover_end if coverage else None,
            insured_units=Decimal(1),
        )
        result = assess(ClaimType.supplementary_medical, MedicalFacts(**facts), cover, row.admission_date, self.today)
        stored = assessment_json(result)
        status = _ASSESSED
        if status in COUNTS_AGAINST_LIMIT:
            for counted in ((key[0], key[1], "m", member.id), (key[0], key[1], "h", member.household_id)):
                self._used[counted] = self._used.get(counted, 0) + result.payable_fen
        now = utcnow()
        values = {
            "claim_type": ClaimType.supplementary_medical,
            "status": status,
            "version": 3,  # filed (1), documents complete (2), assessed (3): as the one-by-one path leaves it
            "insurer_id": self.insurer_id,
            "county_code": policy.county_code,
            "policy_id": policy.id or 0,
            "benefit_code": benefit.code,
            "member_id": member.id,
            "household_id": member.household_id,
            "insured_object_id": None,
            "claimant_name": member.name,
            "claimant_relation": "本人",
            "incident_date": row.admission_date,
            "incident_place": row.hospital,
            "peril": PERIL,
            "reported_on": self.today,
            "documents_complete_on": self.today,
            "decision_due_on": self.today + timedelta(days=DECISION_DAYS),
            "facts": facts,
            "main_diagnosis": row.main_diagnosis,
            "settlement_no": row.settlement_no,
            "settlement_import_id": self.import_id,
            "claimed_fen": result.claimed_fen,
            "payable_fen": result.payable_fen,
            "household_pays_fen": result.household_pays_fen,
            "assessment": stored,
            "assessed_at": now,
            "assessed_by": self.actor.name,
            "assessed_by_user_id": self.actor.user_id,
            "filed_by": self.actor.name,
            "filed_by_user_id": self.actor.user_id,
            "created_at": now,
            "updated_at": now,
        }
        return _Planned(row, values, list(stored["reasons"]))

    # --- writing, a few statements per chunk ------------------------------------------------------------------

    def _reserve(self, planned: list[_Planned]) -> None:
        """Claim numbers from claim_counter, one block per county and year (one upsert each), given in row order."""
        groups: dict[tuple[int, str], list[_Planned]] = {}
        for plan in planned:
            groups.setdefault((plan.row.admission_date.year, plan.values["county_code"]), []).append(plan)
        counter = ClaimCounter.__table__
        dialect = self.session.get_bind().dialect.name
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        for (year, county), plans in sorted(groups.items()):
            statement = (
                upsert(counter)
                .values(year=year, county_code=county, last=len(plans))
                .on_conflict_do_update(
                    index_elements=[counter.c.year, counter.c.county_code], set_={"last": counter.c.last + len(plans)}
                )
                .returning(counter.c.last)
            )
            last = int(self.session.execute(statement).scalar_one())
            for offset, plan in enumerate(plans):
                plan.values["claim_no"] = claim_no_for(year, county, last - len(plans) + 1 + offset)

    def _write(self, planned: list[_Planned]) -> list[ClaimCreated]:
        if not planned:
            return []
        self._reserve(planned)
        # COPY on PostgreSQL, the ids drawn beforehand: the events and audit records name them at once.
        ids = insert_rows_with_ids(self.session, Claim.__table__, [p.values for p in planned])
        events: list[dict[str, Any]] = []
        audits: list[dict[str, Any]] = []
        actor = {"actor": self.actor.name, "actor_user_id": self.actor.user_id}
        for plan, claim_id in zip(planned, ids, strict=True):
            values, now = plan.values, plan.values["assessed_at"]
            claim_no, reasons = values["claim_no"], plan.reasons
            # filing has its event; the import's own audit record names the file
            events.append({**_FILE_EVENT, "claim_id": claim_id, "at": now, **actor})
            events.append({**_DOCUMENTS_EVENT, "claim_id": claim_id, "at": now, **actor})
            events.append({**_ASSESS_EVENT, "claim_id": claim_id, "reasons": reasons, "at": now, **actor})
            audits.append({**_DOCUMENTS_AUDIT, "at": now, "entity_id": claim_no, **actor})
            after = {**_ASSESSED_SNAPSHOT, "payable_fen": values["payable_fen"]}
            if reasons:
                after["reasons"] = list(reasons)
            audits.append({**_ASSESS_AUDIT, "at": now, "entity_id": claim_no, "after": after, **actor})
        insert_rows(self.session, ClaimEvent.__table__, events)
        insert_rows(self.session, AuditLog.__table__, audits)
        return [
            ClaimCreated(
                p.row.row,
                p.row.settlement_no,
                p.values["claim_no"],
                p.values["status"].value,
                p.values["payable_fen"],
                p.values["household_pays_fen"],
                p.reasons,
            )
            for p in planned
        ]


def _snapshot(status: ClaimStatus, version: int, payable_fen: int | None) -> dict[str, Any]:
    """claims.workflow.snapshot of a claim the import made: nothing decided yet."""
    return {
        "status": status.value,
        "version": version,
        "payable_fen": payable_fen,
        "decision_reason": None,
        "decided_by": None,
        "second_approver": None,
    }


# The three steps every imported claim takes (claims.workflow.transition's event and audit forms): filed (1),
# documents complete (2), assessed (3); only the assessment's reasons and payable amount differ from claim to claim.
_FILE_EVENT = {
    "from_status": None,
    "to_status": INITIAL_STATUS,
    "action": "file",
    "reasons": [],
    "note": FILED_NOTE,
    "version": 1,
}
_DOCUMENTS_EVENT = {
    "from_status": INITIAL_STATUS,
    "to_status": ClaimStatus.documents_complete,
    "action": ClaimAction.complete_documents.value,
    "reasons": [],
    "note": DOCUMENTS_NOTE,
    "version": 2,
}
_ASSESS_EVENT = {
    "from_status": _DOCUMENTS_COMPLETE,
    "to_status": _ASSESSED,
    "action": ClaimAction.assess.value,
    "note": None,
    "version": 3,
}
_DOCUMENTS_AUDIT = {
    "action": ClaimAction.complete_documents.value,
    "entity_type": "claim",
    "before": _snapshot(INITIAL_STATUS, 1, None),
    "after": _snapshot(ClaimStatus.documents_complete, 2, None),
}
_ASSESS_AUDIT = {
    "action": ClaimAction.assess.value,
    "entity_type": "claim",
    "before": _snapshot(_DOCUMENTS_COMPLETE, 2, None),
}
_ASSESSED_SNAPSHOT = _snapshot(_ASSESSED, 3, None)
