"""Assessment (理算): what a claim pays and why, line by line, as a pure function per claim type.

    assess(claim_type, facts, cover, incident_date, reported_on) -> Assessment

`facts` is the claim type's dataclass (MedicalFacts, AccidentMedicalFacts, DeathFacts, DisabilityFacts, HouseFacts,
LivestockFacts, CropFacts); `cover` is insurance's answer for the incident with the limits already used
(`Cover`, or `cover_from_answer(...)`). The `Assessment`'s lines add up to its payable amount; money is integer fen,
Decimal rounded half up once per line (domain.md §4). No web, database or clock here: "today" is passed in.
"""

from claims.assessment.cover import Benefit, Cover, cover_from_answer
from claims.assessment.dispatch import CLAIM_TYPE_PERILS, Facts, assess, facts_type
from claims.assessment.explanation import Assessment, Line, LineKind
from claims.assessment.medical import AccidentMedicalFacts, MedicalFacts, household_pays
from claims.assessment.money import yuan
from claims.assessment.personal import DeathFacts, DisabilityFacts, disability_ratio_bp
from claims.assessment.property import CropFacts, HouseFacts, LivestockFacts

__all__ = [
    "CLAIM_TYPE_PERILS",
    "AccidentMedicalFacts",
    "Assessment",
    "Benefit",
    "Cover",
    "CropFacts",
    "DeathFacts",
    "DisabilityFacts",
    "Facts",
    "HouseFacts",
    "Line",
    "LineKind",
    "LivestockFacts",
    "MedicalFacts",
    "assess",
    "cover_from_answer",
    "disability_ratio_bp",
    "facts_type",
    "household_pays",
    "yuan",
]
