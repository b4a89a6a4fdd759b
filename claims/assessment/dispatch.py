"""`assess`: the one entry point the services call, by claim type (pure)."""

from collections.abc import Callable
from datetime import date
from typing import Any

from claims.assessment.cover import Cover
from claims.assessment.explanation import Assessment
from claims.assessment.medical import (
    AccidentMedicalFacts,
    MedicalFacts,
    assess_accidental_medical,
    assess_supplementary_medical,
)
from claims.assessment.personal import (
    DeathFacts,
    DisabilityFacts,
    assess_accidental_death,
    assess_accidental_disability,
    assess_illness_death,
)
from claims.assessment.property import (
    CropFacts,
    HouseFacts,
    LivestockFacts,
    assess_crop_loss,
    assess_house_collapse,
    assess_livestock_loss,
)
from claims.clocks import is_late_report, report_deadline
from claims.reasons import ReasonCode
from claims.status import ClaimType

Facts = MedicalFacts | AccidentMedicalFacts | DeathFacts | DisabilityFacts | HouseFacts | LivestockFacts | CropFacts

ASSESSORS: dict[ClaimType, tuple[type, Callable[[Any, Cover, date], Assessment]]] = {
    ClaimType.supplementary_medical: (MedicalFacts, assess_supplementary_medical),
    ClaimType.accidental_medical: (AccidentMedicalFacts, assess_accidental_medical),
    ClaimType.accidental_death: (DeathFacts, assess_accidental_death),
    ClaimType.accidental_disability: (DisabilityFacts, assess_accidental_disability),
    ClaimType.illness_death: (DeathFacts, assess_illness_death),
    ClaimType.house_collapse: (HouseFacts, assess_house_collapse),
    ClaimType.livestock_loss: (LivestockFacts, assess_livestock_loss),
    ClaimType.crop_loss: (CropFacts, assess_crop_loss),
}

# The peril a person's claim type stands for (livestock and crop claims name theirs in the facts).
CLAIM_TYPE_PERILS: dict[ClaimType, str] = {
    ClaimType.supplementary_medical: "hospitalisation",
    ClaimType.accidental_medical: "accident_medical",
    ClaimType.accidental_death: "accident_death",
    ClaimType.accidental_disability: "accident_disability",
    ClaimType.illness_death: "illness_death",
    ClaimType.house_collapse: "house_collapse",
}


def facts_type(claim_type: ClaimType) -> type:
    """The facts dataclass a claim type needs (the service builds it from the claim's columns)."""
    return ASSESSORS[claim_type][0]


def assess(claim_type: ClaimType, facts: Facts, cover: Cover, incident_date: date, reported_on: date) -> Assessment:
    """The payable amount and its explanation for one claim. A report past the Art. 26 period adds the warning
    `late_report` (a line of 0 and the code last in `reasons`), never a rejection by itself."""
    expected, assessor = ASSESSORS[claim_type]
    if not isinstance(facts, expected):
        raise TypeError(f"{claim_type} needs {expected.__name__}, not {type(facts).__name__}")
    result = assessor(facts, cover, incident_date)
    if is_late_report(incident_date, reported_on, claim_type):
        deadline = report_deadline(incident_date, claim_type)
        result = result.with_warning(
            ReasonCode.late_report,
            "超过法定报案期限（提示）",
            f"出险日{incident_date.isoformat()}，报案日{reported_on.isoformat()}，"
            f"已超过《保险法》第二十六条规定的期限（至{deadline.isoformat()}）；仅作提示，不作为拒赔理由",
        )
    return result
