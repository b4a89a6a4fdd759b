"""Claims on a person's life and body: accidental death, death by illness (with its waiting period) and accidental
disability by grade under JR/T 0083-2013 (domain.md §3.3). Pure."""

from dataclasses import dataclass
from datetime import date

from claims.assessment.cover import Cover, apply_limits, check_cover
from claims.assessment.explanation import Assessment, Ledger, LineKind
from claims.assessment.money import apply_bp, percent, yuan

ACCIDENT_DEATH = "accident_death"
ILLNESS_DEATH = "illness_death"
ACCIDENT_DISABILITY = "accident_disability"


@dataclass(frozen=True)
class DeathFacts:
    died_on: date  # from the death certificate; never before the incident (the accident may come days earlier)


@dataclass(frozen=True)
class DisabilityFacts:
    """The grades assessed for the injuries of one incident, 1 (most severe) to 10."""

    grades: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.grades or any(not 1 <= grade <= 10 for grade in self.grades):
            raise ValueError("disability grades must be 1 to 10, at least one")

    @property
    def deciding_grade(self) -> int:
        """Several injuries of one incident: the most severe grade decides (not a sum)."""
        return min(self.grades)


def disability_ratio_bp(grade: int) -> int:
    """(11 - grade) x 10 %: grade 1 pays 100 %, grade 10 pays 10 %."""
    return (11 - grade) * 1_000


def assess_death(facts: DeathFacts, cover: Cover, incident_date: date, *, peril: str) -> Assessment:
    """The sum insured, within what is left of the benefit's limits (a disability paid earlier in the year from the
    same accident benefit counts against its annual limit)."""
    if facts.died_on < incident_date:
        raise ValueError("death before the incident")
    claimed = cover.benefit.sum_insured_fen if cover.benefit else 0
    ledger = Ledger(claimed, "身故保险金额", f"身故日期{facts.died_on.isoformat()}，按保险金额给付")
    if benefit := check_cover(ledger, cover, peril, incident_date):
        apply_limits(ledger, cover, benefit.per_event_limit_fen)
    return ledger.result()


def assess_accidental_death(facts: DeathFacts, cover: Cover, incident_date: date) -> Assessment:
    return assess_death(facts, cover, incident_date, peril=ACCIDENT_DEATH)


def assess_illness_death(facts: DeathFacts, cover: Cover, incident_date: date) -> Assessment:
    return assess_death(facts, cover, incident_date, peril=ILLNESS_DEATH)


def assess_accidental_disability(facts: DisabilityFacts, cover: Cover, incident_date: date) -> Assessment:
    """Sum insured x (11 - the most severe grade) x 10 %, half up once; less the disability already paid in the
    policy year; within the per-event and the annual limit."""
    claimed = cover.benefit.sum_insured_fen if cover.benefit else 0
    ledger = Ledger(claimed, "伤残保险金额", "意外伤残按保险金额乘以伤残等级对应比例给付")
    if benefit := check_cover(ledger, cover, ACCIDENT_DISABILITY, incident_date):
        grade = facts.deciding_grade
        ratio = disability_ratio_bp(grade)
        grades = "、".join(f"{g}级" for g in sorted(facts.grades))
        ledger.reduce_to(
            apply_bp(claimed, ratio),
            LineKind.ratio,
            f"伤残等级{grade}级，给付比例{percent(ratio)}",
            f"评定伤残等级：{grades}；同一事故多处伤残以最重的{grade}级计，{yuan(claimed)} × {percent(ratio)}",
            always=True,
        )
        paid = cover.disability_paid_this_year_fen
        ledger.deduct(paid, LineKind.already_paid, "扣除本年度已付伤残保险金", f"本年度已付伤残保险金{yuan(paid)}")
        apply_limits(ledger, cover, benefit.per_event_limit_fen)
    return ledger.result()
