"""Use cases of the coverage domain. Each public writer is one transaction with its audit record."""

import csv
import hashlib
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import false
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from core import audit
from core.audit import Actor
from core.auth import PROVINCE_PREFIX, can_see_division, county_prefix
from core.models import Role, User
from insurance.register import scope
from insurance.register.errors import (
    DivisionNotFound,
    RegisterCode,
    RegisterForbiddenError,
    RegisterInvalidError,
    RegisterNotFoundError,
)
from insurance.register.identifiers import validate_uscc
from insurance.register.models import (
    Division,
    DivisionLevel,
    Household,
    Insurer,
    Member,
    MemberStatus,
    RosterImport,
    RosterImportIssue,
    VillageRegisterCount,
)
from insurance.register.roster import HEAD_RELATION, RosterUnreadable, open_roster

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
        raise RegisterInvalidError("区划代码须为6位或12位数字", field="code")
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


def get_insurer(session: Session, insurer_id: int) -> Insurer:
    insurer = find_insurer(session, insurer_id)
    if insurer is None:
        raise RegisterNotFoundError("保险公司不存在", code=RegisterCode.insurer_not_found, field="insurer_id")
    return insurer


def ensure_insurer(session: Session, actor: Actor, *, uscc: str, name: str, short_name: str, hotline: str) -> Insurer:
    """Idempotent by USCC: creates the insurer once; used by the demo seed."""
    code = valid_uscc(uscc)
    insurer = session.exec(select(Insurer).where(Insurer.uscc == code)).first()
    if insurer is None:
        insurer = add_insurer(session, actor, uscc=code, name=name, short_name=short_name, hotline=hotline)
        session.commit()
    return insurer


def valid_uscc(uscc: str, field: str = "uscc") -> str:
    """The code in its canonical form, or a 422 naming the field and the reason (GB 32100-2015)."""
    code, reason = validate_uscc(uscc)
    if code is None:
        raise RegisterInvalidError(f"统一社会信用代码无效：{reason}: {uscc}", code=RegisterCode.bad_uscc, field=field)
    return code


def add_insurer(
    session: Session,
    actor: Actor,
    *,
    uscc: str,
    name: str,
    short_name: str,
    hotline: str | None,
    facts: dict[str, Any] | None = None,
) -> Insurer:
    """Adds and audits an insurer with a validated code, in the caller's transaction."""
    insurer = Insurer(uscc=uscc, name=name, short_name=short_name, hotline=hotline)
    session.add(insurer)
    session.flush()
    audit.record(session, actor, "create", "insurer", insurer.id, after={"uscc": uscc, "name": name, **(facts or {})})
    return insurer


def list_insurers(session: Session) -> list[Insurer]:
    return list(session.exec(select(Insurer).order_by(col(Insurer.id))).all())


# --- the register: households and members, within a jurisdiction ----------------------------------------------


def _scope_households(query: Any, user: User) -> Any:
    """The query narrowed to the households of the user's register, in SQL (see insurance.register.scope)."""
    return scope.within(query, user, Household.county_code)


def list_households(
    session: Session,
    user: User,
    *,
    village_code: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Household, str | None, int]], int]:
    """Households with their head's name and active members; search by name or (part of) an ID number."""
    head = aliased(Member)
    active = (
        select(func.count())
        .where(Member.household_id == Household.id, Member.status == MemberStatus.active)
        .correlate(Household)
        .scalar_subquery()
    )
    query = select(Household, head.name, active).outerjoin(
        head, (head.household_id == Household.id) & (head.relation == HEAD_RELATION)
    )
    count_query = select(func.count()).select_from(Household)
    conditions = []
    if village_code:
        code = normalise_division_code(village_code)
        get_division(session, user, code)  # 404 outside the jurisdiction
        conditions.append(Household.village_code == code)
    if q and q.strip():
        term = q.strip().upper()
        if term.isascii() and term.replace("X", "").isdigit() and len(term) >= 4:
            field = Member.id_number == term if len(term) == 18 else Member.id_number.endswith(term)
            if len(term) == 16:
                conditions.append(Household.household_no == term)
            else:
                conditions.append(Household.id.in_(select(Member.household_id).where(field)))
        else:
            conditions.append(Household.id.in_(select(Member.household_id).where(Member.name.startswith(q.strip()))))
    for condition in conditions:
        query = query.where(condition)
        count_query = count_query.where(condition)
    query = _scope_households(query, user)
    count_query = _scope_households(count_query, user)
    rows = session.exec(query.order_by(col(Household.household_no)).offset(offset).limit(limit)).all()
    return [(h, name, n) for h, name, n in rows], session.exec(count_query).one()


def find_household(session: Session, household_no: str) -> Household | None:
    return session.exec(select(Household).where(Household.household_no == household_no.strip())).first()


def get_household(session: Session, user: User, household_no: str) -> Household:
    """A household of the user's register; not-found otherwise, so another county's household is not revealed."""
    query = select(Household).where(Household.household_no == household_no.strip())
    household = session.exec(_scope_households(query, user)).first()
    if household is None:
        raise RegisterNotFoundError(
            "户不存在或不在您的辖区内",
            code=RegisterCode.household_not_found,
            field="household_no",
        )
    return household


def get_member(session: Session, user: User, member_id: int) -> Member:
    """A member of a household of the user's register; not-found otherwise."""
    query = select(Member).join(Household, col(Household.id) == Member.household_id).where(Member.id == member_id)
    member = session.exec(_scope_households(query, user)).first()
    if member is None:
        raise RegisterNotFoundError("人员不存在或不在您的辖区内", code=RegisterCode.member_not_found, field="member_id")
    return member


def find_member_by_id_number(session: Session, user: User, id_number: str) -> Member | None:
    """The member with this ID number in a household of the user's register (one query), or None: a number
    outside the register and one nobody has look alike."""
    query = (
        select(Member)
        .join(Household, col(Household.id) == Member.household_id)
        .where(Member.id_number == id_number.strip().upper())
    )
    return session.exec(_scope_households(query, user)).first()


def list_members(session: Session, household: Household) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .where(Member.household_id == household.id)
            .order_by(Member.relation != HEAD_RELATION, col(Member.birth_date))
        ).all()
    )


# --- roster imports, as the pages and the API see them -----------------------------------------------------------


def may_import_rosters(user: User) -> bool:
    return user.role in (Role.county_office, Role.province_office, Role.admin)


def list_imports(session: Session, user: User, *, limit: int = 50, offset: int = 0) -> tuple[list[RosterImport], int]:
    """The imports the user may read: those of a county office's county; none for a role that may not import."""
    query = select(RosterImport)
    count_query = select(func.count()).select_from(RosterImport)
    prefix = county_prefix(user)
    condition: Any = None
    if not may_import_rosters(user) or (user.role == Role.county_office and not prefix):
        condition = false()  # a county office without a county reads no import, not every one
    elif prefix:
        condition = RosterImport.county_code == prefix
    if condition is not None:
        query = query.where(condition)
        count_query = count_query.where(condition)
    rows = session.exec(query.order_by(col(RosterImport.id).desc()).offset(offset).limit(limit)).all()
    return list(rows), session.exec(count_query).one()


def get_import(session: Session, user: User, import_id: int) -> RosterImport:
    """An import the user may read (its page, issues and report): a county office its county's imports, the province
    office and the admin every import; anyone else, or another county, 404. What the reader sees of ID numbers is
    scope.is_importing_office's question."""
    row = session.get(RosterImport, import_id)
    prefix = county_prefix(user)
    county_office = user.role == Role.county_office
    if row is None or not may_import_rosters(user) or (county_office and (not prefix or row.county_code != prefix)):
        raise RegisterNotFoundError("导入记录不存在", code=RegisterCode.import_not_found, field="id")
    return row


def start_web_import(
    session: Session,
    user: User,
    *,
    upload: BinaryIO,
    filename: str,
    var_dir: Path,
    max_bytes: int,
    dry_run: bool,
    strict: bool,
) -> RosterImport:
    """Stores the uploaded file and records a queued import (committed); the caller enqueues it after the commit."""
    if not may_import_rosters(user):
        raise RegisterForbiddenError("您的角色不能导入花名册")
    name = Path(filename or "roster").name
    if Path(name).suffix.lower() not in (".csv", ".xlsx", ".txt"):
        raise RegisterInvalidError("只接受 .csv 或 .xlsx 文件", field="file")
    uploads = var_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=uploads, delete=False, suffix=Path(name).suffix.lower()) as out:
        for chunk in iter(lambda: upload.read(1 << 20), b""):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                Path(out.name).unlink(missing_ok=True)
                raise RegisterInvalidError(f"文件超过 {max_bytes // (1 << 20)} MB", field="file")
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        Path(out.name).unlink(missing_ok=True)
        raise RegisterInvalidError("文件是空的", field="file")
    try:  # an unusable file (not a roster, a missing column) is refused now, not after a trip through the queue
        open_roster(Path(out.name)).close()
    except RosterUnreadable as exc:
        Path(out.name).unlink(missing_ok=True)
        raise RegisterInvalidError(exc.message, field="file") from None
    record = RosterImport(
        filename=name[:255],
        sha256=digest.hexdigest(),
        size_bytes=size,
        stored_path=out.name,
        county_code=county_prefix(user),
        actor=user.username,
        actor_user_id=user.id,
        dry_run=dry_run,
        strict=strict,
    )
    session.add(record)
    session.flush()
    audit.record(session, Actor.of(user), "upload", "roster_import", record.id, after={"file": name, "bytes": size})
    session.commit()
    return record


def list_import_issues(
    session: Session, import_id: int, *, errors_only: bool = False, limit: int = 200, offset: int = 0
) -> tuple[list[RosterImportIssue], int]:
    query = select(RosterImportIssue).where(RosterImportIssue.import_id == import_id)
    count_query = select(func.count()).select_from(RosterImportIssue).where(RosterImportIssue.import_id == import_id)
    if errors_only:
        query = query.where(RosterImportIssue.severity == "error")
        count_query = count_query.where(RosterImportIssue.severity == "error")
    rows = session.exec(
        query.order_by(col(RosterImportIssue.row), col(RosterImportIssue.id)).offset(offset).limit(limit)
    )
    return list(rows.all()), session.exec(count_query).one()


def register_totals(session: Session, user: User) -> dict[str, int]:
    """Households, active members and incomplete households on the register within the user's jurisdiction, summed
    from the per-village counts the roster import keeps (never a count over the members)."""
    counts = VillageRegisterCount
    query = select(
        func.coalesce(func.sum(counts.households), 0),
        func.coalesce(func.sum(counts.members_active), 0),
        func.coalesce(func.sum(counts.households_incomplete), 0),
    )
    query = scope.within(query, user, counts.county_code)
    households, members, incomplete = session.exec(query).one()
    return {"households": int(households), "members": int(members), "incomplete": int(incomplete)}


def sees_full_ids(session: Session, user: User, household: Household) -> bool:
    """Whether the user reads this household's ID numbers in full: the county office that keeps its register, or
    the province office when its own province-wide import put the household there (scope.is_importing_office).
    Everyone else, insurers and the admin included, reads them masked."""
    if user.role == Role.county_office:
        return household.village_code.startswith(county_prefix(user) or "-")
    if user.role != Role.province_office or household.last_import_id is None:
        return False
    record = session.get(RosterImport, household.last_import_id)
    return record is not None and scope.is_importing_office(user, record.county_code)
