"""What the assessment knows of the cover: the benefit's terms and insurance's answer for the incident (pure).

The claims service asks `insurance` for the cover answer on the incident date and for the peril, adds what earlier
claims of the same member (or household, or policy line) used of the benefit in the policy year (assessed,
approved or paid, in the order assessed: `claims.status.COUNTS_AGAINST_LIMIT`), and passes a `Cover` here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from claims.assessment.explanation import Ledger, LineKind
from claims.assessment.money import round_fen, yuan
from claims.reasons import ReasonCode
from insurance.cover.eligibility import CoverAnswer, CoverReason

# Version terms of the catalogue the assessment uses; copied into `Benefit.extra` by `Benefit.from_catalogue`.
TERM_KEYS = ("franchise_bp", "total_loss_bp", "stage_sum_insured_fen", "culling_subsidy_deducted")


@dataclass(frozen=True)
class Benefit:
    """A benefit's terms as the catalogue states them (products.json); amounts per unit (person, household, head,
    mu). `extra`: per_room_fen (house), stage_sum_insured_fen, franchise_bp, total_loss_bp (crops),
    culling_subsidy_deducted (livestock)."""

    code: str
    sum_insured_fen: int
    deductible_fen: int = 0
    reimbursement_bp: int = 10_000
    per_event_limit_fen: int | None = None
    annual_limit_fen: int | None = None
    waiting_days: int = 0
    perils: frozenset[str] = frozenset()
    waiting_perils: frozenset[str] = frozenset()  # empty: the waiting period applies to every peril of the benefit
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    name: str = ""

    @classmethod
    def from_catalogue(cls, benefit: Mapping[str, Any], terms: Mapping[str, Any] | None = None) -> "Benefit":
        """From a benefit of products.json (or its stored row as a dict) and its version's terms."""
        extra = {key: value for key, value in (terms or {}).items() if key in TERM_KEYS}
        extra.update(benefit.get("extra") or {})
        return cls(
            code=benefit["code"],
            name=benefit.get("name", ""),
            sum_insured_fen=benefit["sum_insured_fen"],
            deductible_fen=benefit.get("deductible_fen", 0),
            reimbursement_bp=benefit.get("reimbursement_bp", 10_000),
            per_event_limit_fen=benefit.get("per_event_limit_fen"),
            annual_limit_fen=benefit.get("annual_limit_fen"),
            waiting_days=benefit.get("waiting_days", 0),
            perils=frozenset(benefit.get("perils", ())),
            waiting_perils=frozenset(benefit.get("waiting_perils", ())),
            extra=extra,
        )


@dataclass(frozen=True)
class Cover:
    """The cover answer for one claim: in force on the incident date or why not, and the limits already used."""

    benefit: Benefit | None  # None: no cover at all (never enrolled)
    in_force_on_incident: bool = True
    reason_if_not: ReasonCode | None = None  # not_covered, waiting_period, peril_not_covered, object_not_insured
    detail_if_not: str = ""  # Chinese: never enrolled, lapsed, cancelled, after death or move...
    cover_start: date | None = None
    cover_end: date | None = None
    waiting_ends: date | None = None  # last day of the waiting period for the claim's peril; None: none or waived
    insured_units: Decimal = Decimal(1)  # heads or mu on the policy line (the annual limit is per unit); 1 a person
    used_this_year_fen: int = 0  # earlier claims on this benefit in the policy year (assessed, approved, paid)
    disability_paid_this_year_fen: int = 0  # accidental disability only

    @property
    def annual_limit_fen(self) -> int | None:
        if self.benefit is None or self.benefit.annual_limit_fen is None:
            return None
        return round_fen(self.insured_units * self.benefit.annual_limit_fen)

    @property
    def annual_left_fen(self) -> int | None:
        limit = self.annual_limit_fen
        return None if limit is None else max(0, limit - self.used_this_year_fen)


_NOT_COVERED_LABELS = {
    ReasonCode.not_covered: "出险日无有效保障",
    ReasonCode.waiting_period: "出险日处于等待期内",
    ReasonCode.peril_not_covered: "事故原因不在保险责任范围内",
    ReasonCode.object_not_insured: "保险标的未投保",
}


def check_cover(ledger: Ledger, cover: Cover, peril: str, incident_date: date) -> Benefit | None:
    """Stop the claim when the cover does not answer for it: the answer of insurance first, then (defensively) the
    cover period, the peril and the waiting period against the incident date. The benefit when the claim goes on."""
    benefit = cover.benefit
    reason, detail = None, ""
    if not cover.in_force_on_incident or benefit is None:
        reason = cover.reason_if_not or ReasonCode.not_covered
        detail = cover.detail_if_not or "出险日不在任何保障期间内"
    elif (cover.cover_start and incident_date < cover.cover_start) or (
        cover.cover_end and incident_date > cover.cover_end
    ):
        reason = ReasonCode.not_covered
        detail = f"出险日{incident_date.isoformat()}不在保障期间{_period(cover)}内"
    elif benefit.perils and peril not in benefit.perils:
        reason, detail = ReasonCode.peril_not_covered, f"“{benefit.name or benefit.code}”不承保此项风险"
    elif (
        cover.waiting_ends is not None
        and incident_date <= cover.waiting_ends
        and (not benefit.waiting_perils or peril in benefit.waiting_perils)
    ):
        reason = ReasonCode.waiting_period
        detail = f"等待期至{cover.waiting_ends.isoformat()}，出险日{incident_date.isoformat()}在等待期内"
    if reason is None:
        return benefit
    ledger.stop(LineKind.not_covered, _NOT_COVERED_LABELS.get(reason, "不予赔付"), detail, reason)
    return None


def _period(cover: Cover) -> str:
    start = cover.cover_start.isoformat() if cover.cover_start else "…"
    end = cover.cover_end.isoformat() if cover.cover_end else "…"
    return f"{start}至{end}"


def apply_limits(ledger: Ledger, cover: Cover, per_event_limit_fen: int | None) -> None:
    """The per-event limit (already scaled to the units claimed, when per unit), then what is left of the annual
    limit, each a line saying which limit and how much was left."""
    ledger.cap(
        per_event_limit_fen,
        LineKind.per_event_limit,
        "超过每次事故赔付限额",
        f"每次事故限额{yuan(per_event_limit_fen or 0)}",
        ReasonCode.per_event_limit,
    )
    left = cover.annual_left_fen
    if left is not None:
        ledger.cap(
            left,
            LineKind.annual_limit,
            "超过年度赔付限额",
            f"年度限额{yuan(cover.annual_limit_fen or 0)}，本年已用{yuan(cover.used_this_year_fen)}，剩余{yuan(left)}",
            ReasonCode.annual_limit,
        )


_ANSWER_REASONS = {
    CoverReason.no_cover: ("not_covered", "无有效保单"),
    CoverReason.policy_not_in_force: ("not_covered", "保单尚未生效（未出单）"),
    CoverReason.cancelled: ("not_covered", "保障已撤销"),
    CoverReason.not_started: ("not_covered", "出险日保障尚未开始"),
    CoverReason.ended: ("not_covered", "出险日保障已终止"),
    CoverReason.peril_not_covered: ("peril_not_covered", "该风险不在保障责任内"),
    CoverReason.waiting_period: ("waiting_period", "出险日处于等待期（观察期）内"),
}


def cover_from_answer(
    answer: CoverAnswer,
    benefit: Benefit | None,
    *,
    used_this_year_fen: int = 0,
    disability_paid_this_year_fen: int = 0,
    insured_units: Decimal = Decimal(1),
    cover_start: date | None = None,
    cover_end: date | None = None,
) -> Cover:
    """insurance's `cover_for` answer as a `Cover`. An exhausted annual limit is cover in force (the assessment
    shows the limit line); every other miss stops the claim with its reason code and the answer's words."""
    if answer.covered or answer.reason == CoverReason.limit_exhausted:
        return Cover(
            benefit,
            cover_start=cover_start,
            cover_end=cover_end,
            waiting_ends=answer.waiting_until,
            insured_units=insured_units,
            used_this_year_fen=used_this_year_fen,
            disability_paid_this_year_fen=disability_paid_this_year_fen,
        )
    code, detail = _ANSWER_REASONS.get(answer.reason, ("not_covered", "无有效保障"))
    return Cover(
        benefit,
        in_force_on_incident=False,
        reason_if_not=ReasonCode(code),
        detail_if_not=detail,
        cover_start=cover_start,
        cover_end=cover_end,
        waiting_ends=answer.waiting_until,
        insured_units=insured_units,
        used_this_year_fen=used_this_year_fen,
        disability_paid_this_year_fen=disability_paid_this_year_fen,
    )
