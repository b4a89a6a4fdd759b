"""Use cases of the coverage domain. Each public writer is one transaction with its audit record."""

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from core import audit
from core.audit import Actor
from core.auth import PROVINCE_PREFIX, can_see_division, county_prefix
from core.errors import Invalid
from core.models import User
from insurance.errors import DivisionNotFound
from insurance.identifiers import validate_uscc
from insurance.models import Division, DivisionLevel, Insurer

PROVINCE_CODE = PROVINCE_PREFIX + "0000000000"
DIVISIONS_FILE = Path(__file__).resolve().parent / "data" / "divisions_hunan.csv"


@dataclass
class SeedReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _optional_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def load_division_rows() -> list[Division]:
    """The province, prefectures and counties of GB/T 2260 with their history (see the file's notes)."""
    with DIVISIONS_FILE.open(encoding="utf-8", newline="") as handle:
        return [
            Division(
                code=row["code"],
                name=row["name"],
                level=DivisionLevel(row["level"]),
                parent_code=row["parent_code"] or None,
                valid_from=_optional_date(row["valid_from"]),
                valid_to=_optional_date(row["valid_to"]),
                note=row["note"] or None,
            )
            for row in csv.DictReader(handle)
        ]


_SEEDED_FIELDS = ("name", "level", "parent_code", "valid_from", "valid_to", "note")


def seed_divisions(session: Session, actor: Actor) -> SeedReport:
    """Idempotent: inserts what is missing and corrects what differs; a second run changes nothing."""
    report = SeedReport()
    rows = load_division_rows()
    existing = {d.code: d for d in session.exec(select(Division).where(col(Division.code).in_([r.code for r in rows])))}
    # Parents first, so the self-referencing foreign key holds on every insert.
    order = {DivisionLevel.province: 0, DivisionLevel.prefecture: 1, DivisionLevel.county: 2}
    for row in sorted(rows, key=lambda r: order[r.level]):
        current = existing.get(row.code)
        if current is None:
            session.add(row)
            session.flush()
            report.created += 1
            continue
        before = {f: getattr(current, f) for f in _SEEDED_FIELDS}
        after = {f: getattr(row, f) for f in _SEEDED_FIELDS}
        if before == after:
            report.unchanged += 1
            continue
        old, new = audit.diff(before, after)
        for name, value in new.items():
            setattr(current, name, value)
        session.add(current)
        audit.record(session, actor, "update", "division", row.code, before=old, after=new)
        report.updated += 1
    if report.created:
        audit.record(session, actor, "seed", "division", None, after={"created": report.created})
    session.commit()
    return report


# --- reading the division tree within a jurisdiction ---------------------------------------------------


def normalise_division_code(code: str) -> str:
    code = code.strip()
    if code.isdigit() and len(code) in (2, 4, 6, 9):
        code = code.ljust(12, "0")
    if len(code) != 12 or not code.isdigit():
        raise Invalid("区划代码须为6位或12位数字 (a division code has 6 or 12 digits)", field="code")
    return code


def get_division(session: Session, user: User, code: str) -> Division:
    """Answers not-found for a division outside the user's jurisdiction, so its existence is not revealed."""
    code = normalise_division_code(code)
    division = session.get(Division, code) if can_see_division(user, code) else None
    if division is None:
        raise DivisionNotFound(code)
    return division


def list_children(session: Session, division: Division) -> list[Division]:
    return list(
        session.exec(select(Division).where(Division.parent_code == division.code).order_by(col(Division.code))).all()
    )


def division_path(session: Session, user: User, division: Division) -> list[Division]:
    """Ancestors from the top of the user's jurisdiction down to (excluding) the division itself."""
    path: list[Division] = []
    parent_code = division.parent_code
    while parent_code and can_see_division(user, parent_code):
        parent = session.get(Division, parent_code)
        if parent is None:
            break
        path.append(parent)
        parent_code = parent.parent_code
    return list(reversed(path))


def jurisdiction_root(session: Session, user: User) -> Division:
    prefix = county_prefix(user)
    return get_division(session, user, prefix if prefix else PROVINCE_CODE)


def list_prefectures_with_counties(session: Session, *, on: date) -> list[tuple[Division, list[Division]]]:
    """The province's current prefectures, each with its current counties (history rows left out)."""
    rows = session.exec(
        select(Division)
        .where(col(Division.level).in_([DivisionLevel.prefecture, DivisionLevel.county]))
        .order_by(col(Division.code))
    ).all()
    current = [
        d for d in rows if (d.valid_to is None or d.valid_to > on) and (d.valid_from is None or d.valid_from <= on)
    ]
    prefectures = [d for d in current if d.level == DivisionLevel.prefecture]
    return [(p, [c for c in current if c.parent_code == p.code]) for p in prefectures]


# --- insurers -----------------------------------------------------------------------------------------------


def find_insurer(session: Session, insurer_id: int | None) -> Insurer | None:
    return session.get(Insurer, insurer_id) if insurer_id is not None else None


def ensure_insurer(session: Session, actor: Actor, *, uscc: str, name: str, short_name: str, hotline: str) -> Insurer:
    """Idempotent by USCC: creates the insurer once; used by the demo seed."""
    code, reason = validate_uscc(uscc)
    if code is None:
        raise Invalid(f"{reason}: {uscc}", field="uscc")
    insurer = session.exec(select(Insurer).where(Insurer.uscc == code)).first()
    if insurer is None:
        insurer = Insurer(uscc=code, name=name, short_name=short_name, hotline=hotline)
        session.add(insurer)
        session.flush()
        audit.record(session, actor, "create", "insurer", insurer.id, after={"uscc": code, "name": name})
        session.commit()
    return insurer


def list_insurers(session: Session) -> list[Insurer]:
    return list(session.exec(select(Insurer).order_by(col(Insurer.id))).all())
