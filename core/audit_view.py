"""The audit log as a person reads it: every code through the one table of labels (core.labels), values as Chinese
text (never JSON with `\\u4eba` escapes), money in yuan, ID numbers masked. The page and both exports (CSV for
Excel, XLSX) use the same rows, so what one shows the others show."""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import labels
from core.audit import AuditFilter, actor_text, iter_entries
from core.db import PROGRAMME_TZ
from core.masking import mask_ids_in_text
from core.models import AuditLog, User
from core.templating import yuan

EXPORT_HEADERS = ("时间（北京时间）", "操作人", "操作", "对象", "对象编号", "原值", "新值")
EMPTY = "（空）"


def when(moment: datetime) -> str:
    """A stored UTC moment as Beijing time, the clock the programme's staff read."""
    return moment.astimezone(PROGRAMME_TZ).strftime("%Y-%m-%d %H:%M:%S")


def value_text(value: Any, field: str = "", entity_type: str = "") -> str:
    """One value as text: a code through its namespace (a role, a status), fen as yuan, yes/no, a list joined."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int) and field.endswith("_fen"):
        return yuan(value)
    if isinstance(value, int) and field.endswith("_bp"):  # basis points: 7000 is 70%
        return f"{(Decimal(value) / 100).normalize():f}%"
    if isinstance(value, list | tuple):
        return "；".join(value_text(v, field, entity_type) for v in value) or EMPTY
    if isinstance(value, dict):
        return "；".join(f"{labels.label(labels.FIELD, k)}：{value_text(v, k, entity_type)}" for k, v in value.items())
    namespace = labels.value_namespace(entity_type, field)
    text = labels.label(namespace, value) if namespace else str(value)
    return mask_ids_in_text(text)


def describe(values: dict[str, Any] | None, entity_type: str, *, skip_empty: bool = False) -> list[tuple[str, str]]:
    """A before or after dict as (field label, value text) pairs, in the order recorded; `skip_empty` leaves out the
    fields a creation left blank (a change to blank still shows, as （空）)."""
    pairs = (values or {}).items()
    return [
        (labels.label(labels.FIELD, k), value_text(v, k, entity_type))
        for k, v in pairs
        if not (skip_empty and (v is None or v == ""))
    ]


def as_text(values: dict[str, Any] | None, entity_type: str) -> str:
    return "\n".join(f"{name}：{text}" for name, text in describe(values, entity_type))


@dataclass(frozen=True)
class AuditRow:
    """One entry ready to show: every part a Chinese text."""

    id: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: list[tuple[str, str]]
    after: list[tuple[str, str]]


def user_names(session: Session) -> dict[int, str]:
    """Every user's display name by id (a province has hundreds of users, not millions)."""
    return {i: n for i, n in session.exec(select(User.id, User.display_name)).all() if i is not None}


def readable(entry: AuditLog, names: dict[int, str]) -> AuditRow:
    return AuditRow(
        id=entry.id or 0,
        at=when(entry.at),
        actor=actor_text(entry.actor, names, entry.actor_user_id),
        action=labels.label(labels.AUDIT_ACTION, entry.action),
        entity=labels.label(labels.ENTITY, entry.entity_type),
        entity_id=mask_ids_in_text(entry.entity_id or ""),
        before=describe(entry.before, entry.entity_type),
        after=describe(entry.after, entry.entity_type, skip_empty=entry.before is None),
    )


def readable_rows(session: Session, entries: Iterable[AuditLog]) -> list[AuditRow]:
    names = user_names(session)
    return [readable(e, names) for e in entries]


def _cells(row: AuditRow) -> list[str]:
    def joined(pairs: list[tuple[str, str]]) -> str:
        return "\n".join(f"{name}：{text}" for name, text in pairs)

    return [row.at, row.actor, row.action, row.entity, row.entity_id, joined(row.before), joined(row.after)]


def _export_rows(engine: Engine, where: AuditFilter) -> Iterator[list[str]]:
    """The filtered entries as export cells, read a batch at a time in a session of the export's own (the
    request's session is gone by the time a streamed body is written)."""
    with Session(engine) as session:
        names = user_names(session)
        for entry in iter_entries(session, where):
            yield _cells(readable(entry, names))


def iter_csv(engine: Engine, where: AuditFilter) -> Iterator[bytes]:
    """CSV in UTF-8 with a byte-order mark (Excel then reads the Chinese right), streamed a thousand rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(EXPORT_HEADERS)
    for count, cells in enumerate(_export_rows(engine, where), start=1):
        writer.writerow(cells)
        if count % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(target: Path, engine: Engine, where: AuditFilter) -> None:
    """XLSX in openpyxl's write-only mode (rows go to disk as they come); every cell text, wrapped."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审计日志")
    for letter, width in zip("ABCDEFG", (20, 22, 14, 14, 24, 40, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append(list(EXPORT_HEADERS))
    wrap = Alignment(wrap_text=True, vertical="top")
    for cells in _export_rows(engine, where):
        row = []
        for value in cells:
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = "@"
            cell.alignment = wrap
            row.append(cell)
        sheet.append(row)
    workbook.save(target)
