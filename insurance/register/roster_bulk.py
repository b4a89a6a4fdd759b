"""PostgreSQL's bulk paths of the roster import: COPY's text format, the bulk load (indexes and foreign keys dropped
and rebuilt), and the first load of an empty register, which COPYs the register's own tables while it reads.

Why a first load of its own: the staged import reads the province into a staging table (23 s), then inserts its
4.45 million members into the register (14 s) and checks the whole file in SQL; the first load writes the members
while Python reads, on the server's core beside Python's, and checks per household in Python as each household's
rows end. It decides exactly what the staged import would: an ID used twice is found when member's unique index
is built, and a second load that knows those IDs refuses them (refuse_twins); a household whose rows are not
together in the file sends the import back to the staged path (see FirstLoad).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from insurance.register.roster import (
    DUPLICATE_ID_PARTS,
    HEAD_PROBLEMS,
    HEAD_RELATION,
    HOUSEHOLD_TYPES,
    POVERTY_CAUSES,
    RELATIONS,
)
from insurance.register.roster_checks import SEX_LABELS, Checked, Problem

# --- COPY's text format ------------------------------------------------------------------------------------------

NULL = "\\N"
RELATION_CODES = {label: code or NULL for label, code in RELATIONS.items()}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)  # int, date (ISO)


# --- the bulk load -----------------------------------------------------------------------------------------------


class BulkLoad:
    """A bulk load on PostgreSQL: the register's secondary indexes and foreign keys are dropped before the inserts
    and built again after them, inside the import's transaction.

    Why: inserting the province's 4.45 million members row by row into three indexes, with a foreign-key probe per
    row, took 49 s; a plain insert (17 s) and one sort per index with each foreign key checked by one join (8 s)
    take half of that, and the households' insert drops from 22 s to 8 s. It pays only when the register is small
    beside the roster (the province's first load, a new county), because the rebuild sorts the whole table, and it
    locks the two tables for the rest of the import (readers wait); so it is taken only then. Integrity is unchanged:
    every index and constraint is back, and checked over every row, before the commit; a failure rolls the drops
    back with the rest.
    """

    def __init__(self) -> None:
        self._dropped: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}

    @classmethod
    def wanted(cls, connection: Connection, accepted: int, min_rows: int) -> "BulkLoad | None":
        """A bulk load when the register holds fewer members than half the roster's (counted no further), for a
        roster of at least min_rows accepted rows (below that the per-row inserts are quick anyway)."""
        if accepted < min_rows:
            return None
        limit = accepted // 2
        existing = connection.execute(
            text("SELECT COUNT(*) FROM (SELECT 1 FROM member LIMIT :limit) m"), {"limit": limit}
        ).scalar_one()
        return cls() if existing < limit else None

    @staticmethod
    def lock(connection: Connection) -> None:
        """Locks the register for the rest of the import: a plain insert must know who is new, and the drops need
        the tables to themselves anyway. Both at once, so that two bulk loads cannot each hold one."""
        connection.exec_driver_sql("LOCK TABLE household, member IN ACCESS EXCLUSIVE MODE")

    def drop(self, connection: Connection, table: str, *, foreign: bool = True) -> None:
        """Drops the table's unique constraints, foreign keys and plain indexes (not its primary key: other tables'
        foreign keys refer to it), remembering their definitions. With foreign=False, or when the tables they refer to
        cannot be locked at once, its foreign keys to tables outside the register stay (the inserts check them).

        Dropping a foreign key drops its triggers on the table it refers to, which needs that table to itself until
        the import commits: household's refer to division (behind every list) and roster_import (the upload page
        polls it). So the first load drops those last, just before its households go in, and only if it gets both
        tables within LOCK_WAIT: a reader holding one while it waits for the register (locked by this import) would
        otherwise deadlock with it, and PostgreSQL would end the import."""
        quote = connection.dialect.identifier_preparer.quote
        indexes = connection.execute(
            text(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:t AS regclass) "
                "AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
                "AND k.conrelid = i.indrelid) ORDER BY c.relname"
            ),
            {"t": table},
        ).all()
        constraints = connection.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid), CASE WHEN contype = 'f' AND confrelid NOT IN "
                "(CAST('household' AS regclass), CAST('member' AS regclass)) "
                "THEN CAST(CAST(confrelid AS regclass) AS TEXT) END FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f') ORDER BY contype DESC, conname"
            ),
            {"t": table},
        ).all()
        outside = sorted({o for _, _, o in constraints if o})
        if outside and not (foreign and _lock_at_once(connection, outside)):
            constraints = [c for c in constraints if not c[2]]
        for name, _definition, _outside in constraints:  # unique ones, then foreign keys: restored in this order
            connection.exec_driver_sql(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            connection.exec_driver_sql(f"DROP INDEX {quote(name)}")
        dropped_indexes, dropped_constraints = self._dropped.setdefault(table, ([], []))
        dropped_indexes += [d for _, d in indexes]
        dropped_constraints += [(n, d) for n, d, _ in constraints]
        dropped_constraints.sort(key=lambda c: not c[1].startswith("UNIQUE"))  # unique ones first, as dropped

    def restore(self, connection: Connection, table: str) -> None:
        """Builds what drop() dropped: unique constraints and indexes by one sort each, foreign keys checked by one
        join each (PostgreSQL validates a new foreign key over the whole table in a single query)."""
        quote = connection.dialect.identifier_preparer.quote
        indexes, constraints = self._dropped.pop(table)
        for name, definition in constraints:
            connection.exec_driver_sql(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for definition in indexes:
            connection.exec_driver_sql(definition)


LOCK_WAIT = "250ms"  # below PostgreSQL's deadlock_timeout (1 s): a wait that would deadlock ends here first


def _lock_at_once(connection: Connection, tables: list[str]) -> bool:
    """Locks the tables within LOCK_WAIT, or leaves them alone: False when another transaction holds one."""
    quote = connection.dialect.identifier_preparer.quote
    previous = connection.exec_driver_sql("SHOW lock_timeout").scalar_one()
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
        connection.exec_driver_sql(f"LOCK TABLE {', '.join(map(quote, tables))} IN ACCESS EXCLUSIVE MODE")
    except OperationalError:  # lock_not_available
        savepoint.rollback()  # undoes the SET LOCAL too
        return False
    savepoint.commit()
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{previous}'")
    return True


# --- the first load ----------------------------------------------------------------------------------------------

# What the first load COPYs; the two time stamps come from column defaults set for the load (one value for all).
MEMBER_COPY_COLUMNS = (
    "household_id",
    "id_number",
    "id_number_legacy",
    "name",
    "sex",
    "birth_date",
    "relation",
    "relation_code",
    "ethnicity",
    "status",
    "status_date",
)
HOUSEHOLD_COPY_COLUMNS = (
    "id",
    "household_no",
    "village_code",
    "county_code",
    "poverty_attribute",
    "main_cause",
    "phone",
    "exit_year",
    "is_incomplete",
    "last_import_id",
)


class NotTogether(Exception):
    """A household's rows come back after another household's: the first load cannot group them, the staged path
    can."""


@dataclass
class VillageTally:
    households: int = 0
    incomplete: int = 0
    active: int = 0


@dataclass
class FirstLoadTally:
    accepted: int = 0
    normalised: int = 0
    next_household_id: int = 0
    villages: dict[str, VillageTally] = field(default_factory=dict)  # by the village of each household
    names: set[tuple[str, str, str]] = field(default_factory=set)  # (village code, township, village) as listed
    refused: int = 0  # accepted rows in households refused whole (their IDs are in the refused spill)

    @property
    def households(self) -> int:
        return sum(v.households for v in self.villages.values())

    @property
    def households_incomplete(self) -> int:
        return sum(v.incomplete for v in self.villages.values())


# A row of a household still open: (row number, cells) for a canonical line, as canonical_line_check gives them;
# (row number, _Prepared) for a record check_record accepted.
_CANONICAL = 2


@dataclass(slots=True)
class _Prepared:
    relation: str
    member: str  # its COPY text for member, after the household id
    household: str  # village code to exit year, as COPY text
    names: tuple[str, str, str]
    normalised: bool
    active: bool
    id_number: str


Records = Iterator[tuple[int, Any, bool]]  # (row number, cells, True) or (row number, Checked, False)


class FirstLoad:
    """Groups the rows of each household as they come and decides each household when its rows end: the head rule,
    the row its fields come from (its head's, else its first accepted row), incomplete or not. Then its members go to
    the member COPY and the household to the household spill, with the id this load gives it.

    The decisions are the staged path's (roster_import: the head check, the household pick, the counts), made per
    household instead of per file. Two things need the whole file and are not decided here: a household whose rows
    are apart (raises NotTogether as soon as it is seen) and an ID used twice (the member table's unique index finds
    it after the load; the caller then loads again through refuse_twins). Written for speed: it sees every one
    of a province's 4.45 million rows, so the canonical rows stay the tuples the line check made until their
    household ends. The IDs of accepted rows in households refused whole go to a spill of their own: the staged path
    checks IDs used twice before heads, so the caller checks them against the members.
    """

    def __init__(
        self,
        first_household_id: int,
        import_id: int,
        write_members: Callable[[list[str]], None],
        households: TextIO,
        refused: TextIO,
        add_issue: Callable[[tuple[Any, ...]], None],
        relation_header: str,
    ) -> None:
        self.tally = FirstLoadTally(next_household_id=first_household_id)
        self._import_id = import_id
        self._write_members = write_members
        self._households = households
        self._refused = refused
        self._add_issue = add_issue
        self._relation_header = relation_header

    def feed(self, records: Records) -> FirstLoadTally:
        """Takes every record of the file; a checked one has had its own issues written already."""
        close, closed = self._close, set()  # every household number closed, as a number (16 digits)
        key, rows, heads, refused = "", [], 0, False
        for row_no, item, canonical in records:
            if canonical:
                household_no, relation = item[0], item[3]
            else:
                household_no, relation = item.household_no, item.relation
                if item.values is None and not (
                    len(household_no) == 16 and household_no.isascii() and household_no.isdigit()
                ):
                    continue  # a refused row whose household number no accepted row can have: it groups with nothing
            if household_no != key:
                if rows:
                    close(key, rows, heads, refused)
                number = int(household_no)
                if number in closed:
                    raise NotTogether(household_no)
                closed.add(number)
                key, rows, heads, refused = household_no, [], 0, False
            if relation == HEAD_RELATION:
                heads += 1
            if canonical:
                rows.append((row_no, item))
            elif item.values is None:
                refused = True
            else:
                rows.append((row_no, _prepared(item.values), None))
        if rows:
            close(key, rows, heads, refused)
        return self.tally

    def _close(self, key: str, rows: list[tuple[Any, ...]], heads: int, refused: bool) -> None:
        tally = self.tally
        if heads != 1:
            code = "no_head" if heads == 0 else "two_heads"
            before, after = HEAD_PROBLEMS[code]
            message = before + key + after
            for row in rows:
                relation, id_number = (
                    (row[1][3], row[1][2]) if len(row) == _CANONICAL else (row[1].relation, row[1].id_number)
                )
                self._add_issue((row[0], self._relation_header, code, "error", message, relation, key))
                self._refused.write(id_number + "\n")
                tally.refused += 1
            return
        household_id = tally.next_household_id
        tally.next_household_id = household_id + 1
        members, names, active = [], tally.names, 0
        pick = None
        for row in rows:
            if len(row) == _CANONICAL:
                c = row[1]
                members.append(
                    f"{household_id}\t{c[2]}\t\\N\t{c[1]}\t{SEX_LABELS[c[4]]}\t{c[5]}\t{c[3]}\t{RELATION_CODES[c[3]]}\t"
                    f"{c[6]}\tactive\t\\N\n"
                )
                names.add((c[7], c[9], c[10]))
                active += 1
                if pick is None and c[3] == HEAD_RELATION:
                    pick = row
            else:
                p: _Prepared = row[1]
                members.append(f"{household_id}\t{p.member}")
                names.add(p.names)
                active += p.active
                tally.normalised += p.normalised
                if pick is None and p.relation == HEAD_RELATION:
                    pick = row
        self._write_members(members)
        pick = pick or rows[0]
        if len(pick) == _CANONICAL:
            c = pick[1]
            village_code = c[7]
            fields = (
                f"{village_code}\t{village_code[:6]}\t{HOUSEHOLD_TYPES[c[11]]}\t{POVERTY_CAUSES[c[12]]}\t"
                f"{c[13] or NULL}\t{c[14] or NULL}"
            )
        else:
            village_code, fields = pick[1].names[0], pick[1].household
        self._households.write(f"{household_id}\t{key}\t{fields}\t{'t' if refused else 'f'}\t{self._import_id}\n")
        tally.accepted += len(rows)
        village = tally.villages.get(village_code)
        if village is None:
            village = tally.villages[village_code] = VillageTally()
        village.households += 1
        village.incomplete += refused
        village.active += active


def _prepared(values: tuple[Any, ...]) -> _Prepared:
    """check_record's values (STAGE_FIELDS) as the first load writes them."""
    (_, _, id_number, legacy, name, sex, birth, relation, relation_code, ethnicity, village_code) = values[:11]
    _county, township, village, attribute, cause, phone, exit_year, status, status_date, normalised = values[11:]
    member = (id_number, legacy, name, sex, birth, relation, relation_code, ethnicity, status, status_date)
    household = (village_code, village_code[:6], attribute, cause, phone, exit_year)
    return _Prepared(
        relation,
        "\t".join(map(copy_text, member)) + "\n",
        "\t".join(map(copy_text, household)),
        (village_code, township, village),
        normalised,
        status == "active",
        id_number,
    )


def refuse_twins(
    records: Records, twins: frozenset[str], add_issue: Callable[[tuple[Any, ...]], None], id_header: str
) -> Records:
    """The records with every accepted row but the first of each ID in twins refused as the staged path refuses it
    (duplicate_id_in_file, naming the first row): for a second first load of a roster whose first one found IDs used
    twice. Only rows the row checks accepted count, in file order, as in the staged path's check."""
    first_rows: dict[str, int] = {}
    for row_no, item, canonical in records:
        if canonical:
            id_number, household_no, relation = item[2], item[0], item[3]
        elif item.values is not None:
            id_number, household_no, relation = item.id_number, item.household_no, item.relation
        else:
            yield row_no, item, canonical
            continue
        if id_number not in twins:
            yield row_no, item, canonical
            continue
        first = first_rows.setdefault(id_number, row_no)
        if first == row_no:
            yield row_no, item, canonical
            continue
        before, after = DUPLICATE_ID_PARTS
        message = f"{before}{first}{after}"
        add_issue((row_no, id_header, "duplicate_id_in_file", "error", message, id_number, household_no))
        problem = Problem("id_number", "duplicate_id_in_file", message, id_number)
        yield row_no, Checked(row_no, household_no, relation, id_number, None, problem), False
