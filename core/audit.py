"""The audit trail: who did what to which entity, from which value to which, in the caller's transaction."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any

from sqlalchemy.sql import Select
from sqlmodel import Session, col, func, select

from core import labels
from core.db import PROGRAMME_TZ, utcnow
from core.models import AuditLog, User


@dataclass(frozen=True)
class Actor:
    """Who acts: a logged-in user, or the system (CLI, seed, jobs) under a readable name."""

    name: str
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> "Actor":
        return cls(name=user.username, user_id=user.id)

    @classmethod
    def system(cls, what: str) -> "Actor":
        return cls(name=f"system:{what}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Writes the record in the session's transaction; never commits, so it lands or vanishes with the change
    itself. A plain INSERT on the session's connection, not an object added to the session: a record is never read
    back or changed by the use case that writes it, and the unit of work costs more than twice the INSERT. On the
    connection so it does not autoflush the use case's pending changes ahead of their own guarded flush."""
    values = entry_values(actor, action, entity_type, entity_id, at=at or utcnow(), before=before, after=after)
    session.connection().execute(_INSERT, values)


_INSERT = AuditLog.__table__.insert()  # type: ignore[attr-defined]


def entry_values(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object = None,
    *,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record `record` adds, as the column values of one row of a bulk insert (core.db.insert_rows): a service
    that writes thousands of changes at once writes their records with them, in the same transaction."""
    return {
        "at": at,
        "actor_user_id": actor.user_id,
        "actor": actor.name,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": _jsonable(before) if before is not None else None,
        "after": _jsonable(after) if after is not None else None,
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keeps only the fields that changed, so an update's record says exactly what moved."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page, the API and the exports narrow the log by; every part is optional. The dates are whole
    days of the programme's calendar (Beijing time), both included; `at` is stored in UTC."""

    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def apply(self, query: Select) -> Select:
        if self.actor:
            query = query.where(AuditLog.actor == self.actor)
        if self.action:
            query = query.where(AuditLog.action == self.action)
        if self.entity_type:
            query = query.where(AuditLog.entity_type == self.entity_type)
        if self.entity_id:
            query = query.where(AuditLog.entity_id == self.entity_id)
        if self.date_from:
            query = query.where(col(AuditLog.at) >= datetime.combine(self.date_from, time.min, PROGRAMME_TZ))
        if self.date_to:
            query = query.where(
                col(AuditLog.at) < datetime.combine(self.date_to + timedelta(days=1), time.min, PROGRAMME_TZ)
            )
        return query


def list_entries(
    session: Session,
    where: AuditFilter | None = None,
    *,
    entity_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditLog], int]:
    """A page of the log, newest first, and how many entries match."""
    where = where or AuditFilter(entity_type=entity_type)
    rows = session.exec(where.apply(select(AuditLog)).order_by(col(AuditLog.id).desc()).offset(offset).limit(limit))
    count = session.exec(where.apply(select(func.count()).select_from(AuditLog))).one()
    return list(rows.all()), count


def iter_entries(session: Session, where: AuditFilter, *, batch: int = 1000) -> Iterator[AuditLog]:
    """Every matching entry, newest first, read a batch at a time by id (keyset), so an export of a year's log
    never holds it all; each batch is expunged once read."""
    last_id: int | None = None
    while True:
        query = where.apply(select(AuditLog))
        if last_id is not None:
            query = query.where(col(AuditLog.id) < last_id)
        rows = list(session.exec(query.order_by(col(AuditLog.id).desc()).limit(batch)).all())
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()
        if len(rows) < batch:
            return


def list_actors(session: Session) -> list[str]:
    """The names that appear as actors, for the filter's select box."""
    return list(session.exec(select(AuditLog.actor).distinct().order_by(col(AuditLog.actor))).all())


def list_entity_types(session: Session) -> list[str]:
    return list(session.exec(select(AuditLog.entity_type).distinct().order_by(col(AuditLog.entity_type))).all())


def list_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditLog.action).distinct().order_by(col(AuditLog.action))).all())


def actor_text(actor: str, names: dict[int, str] | None = None, user_id: int | None = None) -> str:
    """`张三（zhangsan）` for a user, `系统（命令行）` for the CLI and jobs (`system:cli`)."""
    if actor.startswith("system:"):
        return labels.label(labels.ACTOR, actor) if labels.has(labels.ACTOR, actor) else f"系统（{actor[7:]}）"
    name = (names or {}).get(user_id or 0)
    return f"{name}（{actor}）" if name else actor
