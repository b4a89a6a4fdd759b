"""The import's set-based SQL: whole-file checks (an ID used twice, a household without exactly one head), the
divisions a roster names, the merge into the register, and the per-village register counts.
"""

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from core.db import utcnow
from insurance.register.roster import DUPLICATE_ID_PARTS, HEAD_PROBLEMS, HEAD_RELATION, HeaderMap
from insurance.register.roster_bulk import (
    BulkLoad,
    VillageTally,
)
from insurance.register.roster_options import ImportCounts

WORK_MEM, MAINTENANCE_WORK_MEM = "128MB", "512MB"  # PostgreSQL's, for the import's own transaction


def known_county_codes(connection: Connection) -> frozenset[str]:
    rows = connection.execute(text("SELECT code FROM division WHERE level = 'county'"))
    return frozenset(code[:6] for (code,) in rows)


# --- whole-file checks in SQL -------------------------------------------------------------------------------------


def check_whole_file(connection: Connection, header: HeaderMap, county_code: str | None) -> None:
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        transaction_memory(connection)
    # No index on the household number: every statement that matches on it hashes (an index would be 4.5 seconds
    # of a province for a lookup in nested loops the plans do not use).
    if not postgres:
        connection.exec_driver_sql("CREATE INDEX roster_stage_hh ON roster_stage (household_no)")
    ids_unique = postgres and _unique_id_index(connection)
    if not ids_unique:
        connection.exec_driver_sql("CREATE INDEX roster_stage_id ON roster_stage (id_number)")
    if postgres:
        connection.exec_driver_sql("ANALYZE roster_stage")
    id_header = header.header_of("id_number")
    relation_header = header.header_of("relation")
    # The same ID twice: the earliest accepted row keeps it, every later one is refused, naming that row.
    duplicates = (
        0
        if ids_unique
        else connection.execute(
            text(
                "INSERT INTO roster_stage_issue (row_no, col, code, severity, message, value, household_no) "
                "SELECT d.row_no, :col, 'duplicate_id_in_file', 'error', "
                ":dup_1 || CAST(d.first_row AS VARCHAR(12)) || :dup_2, "
                "d.id_number, d.household_no FROM ("
                "  SELECT row_no, id_number, household_no, MIN(row_no) OVER (PARTITION BY id_number) AS first_row "
                "  FROM roster_stage WHERE ok) d WHERE d.row_no > d.first_row"
            ),
            {"col": id_header, **{f"dup_{i + 1}": part for i, part in enumerate(DUPLICATE_ID_PARTS)}},
        ).rowcount
    )
    if duplicates:
        connection.execute(
            text(
                "UPDATE roster_stage SET ok = FALSE WHERE ok AND row_no IN ("
                "SELECT row_no FROM roster_stage_issue WHERE code = 'duplicate_id_in_file')"
            )
        )
    if county_code:
        # A county keeps its own register: a person registered in another county's household is not moved by it
        # (and a dry run must not reveal where that person is registered).
        connection.execute(
            text(
                "INSERT INTO roster_stage_issue (row_no, col, code, severity, message, value, household_no) "
                "SELECT s.row_no, :col, 'member_in_other_county', 'error', "
                "'该证件号码登记在其他县的户中，须由该县处理', s.id_number, "
                "s.household_no FROM roster_stage s JOIN member m ON m.id_number = s.id_number "
                "JOIN household h ON h.id = m.household_id WHERE s.ok AND h.county_code <> :county"
            ),
            {"col": id_header, "county": county_code},
        )
        connection.execute(
            text(
                "UPDATE roster_stage SET ok = FALSE WHERE ok AND row_no IN ("
                "SELECT row_no FROM roster_stage_issue WHERE code = 'member_in_other_county')"
            )
        )
    # A household must have exactly one head among all its rows; otherwise none of it is stored.
    bad_households = (
        "SELECT household_no, SUM(CASE WHEN relation = :head THEN 1 ELSE 0 END) AS heads "
        "FROM roster_stage GROUP BY household_no "
        "HAVING SUM(CASE WHEN relation = :head THEN 1 ELSE 0 END) <> 1"
    )
    headless = connection.execute(
        text(
            "INSERT INTO roster_stage_issue (row_no, col, code, severity, message, value, household_no) "
            "SELECT s.row_no, :col, CASE WHEN b.heads = 0 THEN 'no_head' ELSE 'two_heads' END, 'error', "
            "CASE WHEN b.heads = 0 THEN :no_head_1 || s.household_no || :no_head_2 "
            "ELSE :two_heads_1 || s.household_no || :two_heads_2 END, "
            f"s.relation, s.household_no FROM roster_stage s JOIN ({bad_households}) b "
            "ON b.household_no = s.household_no WHERE s.ok"
        ),
        {
            "col": relation_header,
            "head": HEAD_RELATION,
            **{f"{code}_{i + 1}": part for code, parts in HEAD_PROBLEMS.items() for i, part in enumerate(parts)},
        },
    ).rowcount
    if headless:
        connection.execute(
            text(
                "UPDATE roster_stage SET ok = FALSE WHERE ok AND household_no IN ("
                "SELECT household_no FROM roster_stage_issue WHERE code IN ('no_head', 'two_heads'))"
            )
        )


def transaction_memory(connection: Connection) -> None:
    """Sorts and hashes over millions of rows: memory for them, for this transaction only."""
    connection.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
    connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")


def _unique_id_index(connection: Connection) -> bool:
    """Indexes the staged IDs as unique, which fails when an ID appears twice (then the caller indexes them plainly
    and looks for the duplicates). A roster seldom has any: the one sort that builds the index also proves it."""
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql("CREATE UNIQUE INDEX roster_stage_id ON roster_stage (id_number)")
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def final_counts(connection: Connection, counts: ImportCounts) -> None:
    row = connection.execute(
        text(
            "SELECT COUNT(*), SUM(CASE WHEN ok THEN 1 ELSE 0 END), SUM(CASE WHEN ok AND normalised THEN 1 ELSE 0 END) "
            "FROM roster_stage"
        )
    ).one()
    counts.rows, counts.accepted, counts.normalised = (int(v or 0) for v in row)
    counts.rejected = counts.rows - counts.accepted
    # One source row per household with an accepted row: its head's row when accepted, else its first accepted
    # row. The merge reads it; its size and its incomplete households are the counts. In file order, so that new
    # households get their ids in the order their members follow (the member insert then walks household pages
    # and indexes in order instead of at random).
    postgres = connection.dialect.name == "postgresql"
    connection.exec_driver_sql(
        (
            "CREATE TEMP TABLE roster_stage_household ON COMMIT DROP AS "
            if postgres
            else "CREATE TEMP TABLE roster_stage_household AS "
        )
        + "SELECT s.household_no, s.village_code, SUBSTR(s.village_code, 1, 6) AS county_code, s.poverty_attribute, "
        "s.main_cause, s.phone, s.exit_year, p.incomplete "
        "FROM roster_stage s JOIN (SELECT household_no, "
        "COALESCE(MIN(CASE WHEN ok AND relation = '户主' THEN row_no END), MIN(CASE WHEN ok THEN row_no END)) AS pick, "
        "MAX(CASE WHEN ok THEN 0 ELSE 1 END) AS incomplete "
        "FROM roster_stage GROUP BY household_no) p ON p.pick = s.row_no"
    )
    connection.exec_driver_sql("CREATE UNIQUE INDEX roster_stage_household_no ON roster_stage_household (household_no)")
    if postgres:
        connection.exec_driver_sql("ANALYZE roster_stage_household")
    households, incomplete = connection.execute(
        text("SELECT COUNT(*), SUM(incomplete) FROM roster_stage_household")
    ).one()
    counts.households, counts.households_incomplete = int(households), int(incomplete or 0)


# --- the merge into the register ---------------------------------------------------------------------------------


def record_divisions(connection: Connection, named_in: str) -> int:
    """Townships and villages, created from their 12-digit codes under the seeded counties (names kept), from the
    rows of named_in (a table and condition with village_code, township_name, village_name); notes them in
    roster_stage_village. Returns how many villages it created."""
    postgres = connection.dialect.name == "postgresql"
    connection.exec_driver_sql(
        (
            "CREATE TEMP TABLE roster_stage_village ON COMMIT DROP AS "
            if postgres
            else "CREATE TEMP TABLE roster_stage_village AS "
        )
        + "SELECT village_code, MIN(township_name) AS township_name, MIN(village_name) AS village_name "
        f"FROM {named_in} GROUP BY village_code"
    )
    connection.execute(
        text(
            "INSERT INTO division (code, name, level, parent_code) "
            "SELECT SUBSTR(v.village_code, 1, 9) || '000', MIN(v.township_name), 'township', "
            "MIN(SUBSTR(v.village_code, 1, 6)) || '000000' FROM roster_stage_village v "
            "WHERE NOT EXISTS (SELECT 1 FROM division d WHERE d.code = SUBSTR(v.village_code, 1, 9) || '000') "
            "GROUP BY SUBSTR(v.village_code, 1, 9)"
        )
    )
    created = connection.execute(
        text(
            "INSERT INTO division (code, name, level, parent_code) "
            "SELECT v.village_code, v.village_name, 'village', SUBSTR(v.village_code, 1, 9) || '000' "
            "FROM roster_stage_village v WHERE NOT EXISTS (SELECT 1 FROM division d WHERE d.code = v.village_code)"
        )
    ).rowcount
    connection.execute(
        text(
            "UPDATE division SET name = v.village_name FROM roster_stage_village v "
            "WHERE division.code = v.village_code AND division.name <> v.village_name"
        )
    )
    return created


def merge_into_register(
    connection: Connection,
    counts: ImportCounts,
    import_id: int,
    today: date,
    *,
    complete: bool,
    has_status: bool,
    bulk_min_rows: int,
) -> datetime:
    """Applies the staged roster to the register; returns the time stamped on every row it changed."""
    postgres = connection.dialect.name == "postgresql"
    # On SQLite a raw parameter is stored as text: written naive, as the models write UTC, so that timestamps of
    # the import and of the models compare (and match) as the same text.
    stamp = utcnow()
    now = stamp if postgres else stamp.replace(tzinfo=None)
    temp_prefix = "CREATE TEMP TABLE {} ON COMMIT DROP AS " if postgres else "CREATE TEMP TABLE {} AS "
    counts.villages_created = record_divisions(connection, "roster_stage WHERE ok")
    incomplete = "(incomplete = 1)"
    params = {"now": now, "import_id": import_id, "today": today, "never": date(1, 1, 1)}
    # Updates before inserts. An insert skips the rows noted as known in a table of their own beforehand: an
    # anti-join against the table the same statement fills degrades to a scan per row when the planner believes
    # that table empty, and ON CONFLICT alone tries every row (17 s for a province's 4.45 million members).
    connection.execute(
        text(
            "UPDATE household SET village_code = h.village_code, county_code = h.county_code, "
            "poverty_attribute = h.poverty_attribute, main_cause = h.main_cause, phone = h.phone, "
            f"exit_year = h.exit_year, is_incomplete = {incomplete}, removed_on = NULL, "
            "last_import_id = :import_id, updated_at = :now "
            "FROM roster_stage_household h WHERE household.household_no = h.household_no AND ("
            "household.village_code <> h.village_code OR household.poverty_attribute <> h.poverty_attribute "
            "OR household.main_cause <> h.main_cause OR household.removed_on IS NOT NULL "
            "OR COALESCE(household.phone, '') <> COALESCE(h.phone, '') "
            "OR COALESCE(household.exit_year, 0) <> COALESCE(h.exit_year, 0) "
            f"OR household.is_incomplete <> {incomplete})"
        ),
        params,
    )
    # A big load into a small register (a province's first roster) goes in as a bulk load: see BulkLoad.
    bulk = BulkLoad.wanted(connection, counts.accepted, bulk_min_rows) if postgres else None
    if bulk:
        bulk.lock(connection)
    # Households on the register already: only the others are inserted.
    connection.exec_driver_sql(
        temp_prefix.format("roster_known_household")
        + "SELECT x.household_no FROM roster_stage_household x JOIN household h ON h.household_no = x.household_no"
    )
    connection.exec_driver_sql(
        "ANALYZE roster_known_household"
        if postgres
        else "CREATE INDEX roster_known_household_no ON roster_known_household (household_no)"
    )
    household_insert = (
        "INSERT INTO household (household_no, village_code, county_code, poverty_attribute, main_cause, "
        "phone, exit_year, is_incomplete, last_import_id, created_at, updated_at) "
        f"SELECT household_no, village_code, county_code, poverty_attribute, main_cause, phone, exit_year, "
        f"{incomplete}, :import_id, :now, :now FROM roster_stage_household h "
        "WHERE NOT EXISTS (SELECT 1 FROM roster_known_household k WHERE k.household_no = h.household_no) "
    )
    if bulk:
        bulk.drop(connection, "household")
        connection.execute(text(household_insert), params)
        bulk.restore(connection, "household")
    else:  # ON CONFLICT: the guard against a concurrent import
        connection.execute(text(household_insert + "ON CONFLICT (household_no) DO NOTHING"), params)
    if postgres:  # the planner must know the real sizes, or it joins millions of rows by nested loops
        connection.exec_driver_sql("ANALYZE household")  # member has not changed yet: analysed after its inserts
    # Members: who moved to another household, who died, who changed otherwise, who is new. The deceased count and
    # the update join the roster to the register themselves rather than read roster_known_member: tried on a
    # province's re-import, reading it was slower (update 8.9 -> 13.2 s, count 0.6 -> 0.9 s): the count filters
    # the roster first, and one join by ID number beats two joins of 4.45 million rows by row number.
    joined = (
        "FROM roster_stage s JOIN household h ON h.household_no = s.household_no "
        "JOIN member m ON m.id_number = s.id_number WHERE s.ok"
    )
    # Who is on the register already, with the household they are in and the one the roster puts them in: the
    # member insert skips them, and movers leave a village whose counts change too.
    connection.exec_driver_sql(
        temp_prefix.format("roster_known_member")
        + "SELECT s.row_no, m.household_id AS old_household_id, h.id AS new_household_id FROM roster_stage s "
        "JOIN household h ON h.household_no = s.household_no JOIN member m ON m.id_number = s.id_number WHERE s.ok"
    )
    connection.exec_driver_sql(
        "ANALYZE roster_known_member"
        if postgres
        else "CREATE INDEX roster_known_member_row ON roster_known_member (row_no)"  # SQLite would scan it per row
    )
    connection.exec_driver_sql(
        temp_prefix.format("roster_moved_from")
        + "SELECT o.village_code FROM roster_known_member k JOIN household o ON o.id = k.old_household_id "
        "WHERE k.old_household_id <> k.new_household_id"
    )
    counts.moved = connection.execute(text("SELECT COUNT(*) FROM roster_moved_from")).scalar_one()
    counts.deceased = connection.execute(
        text(f"SELECT COUNT(*) {joined} AND s.member_status = 'deceased' AND m.status <> 'deceased'")
    ).scalar_one()
    # A roster without the status column says nothing about deaths or moves out: a member it lists stays as
    # recorded, except that one removed from the register is back on it.
    if has_status:
        new_status, new_status_date = "x.member_status", "x.status_date"
    else:
        new_status = "CASE WHEN member.status = 'removed' THEN 'active' ELSE member.status END"
        new_status_date = "CASE WHEN member.status = 'removed' THEN NULL ELSE member.status_date END"
    counts.updated = connection.execute(
        text(
            "UPDATE member SET id_number_legacy = COALESCE(x.id_number_legacy, member.id_number_legacy), "
            "household_id = x.household_id, name = x.name, sex = x.sex, birth_date = x.birth_date, "
            "relation = x.relation, relation_code = x.relation_code, ethnicity = x.ethnicity, "
            f"status = {new_status}, status_date = {new_status_date}, updated_at = :now "
            "FROM (SELECT s.*, h.id AS household_id FROM roster_stage s "
            "JOIN household h ON h.household_no = s.household_no WHERE s.ok) x "
            "WHERE member.id_number = x.id_number AND (member.household_id <> x.household_id "
            "OR member.name <> x.name OR member.sex <> x.sex OR member.birth_date <> x.birth_date "
            "OR member.relation <> x.relation OR member.ethnicity <> x.ethnicity "
            f"OR member.status <> {new_status} "
            f"OR COALESCE(member.status_date, :never) <> COALESCE({new_status_date}, :never))"
        ),
        params,
    ).rowcount
    member_columns = (
        "INSERT INTO member (id_number, id_number_legacy, household_id, name, sex, birth_date, relation, "
        "relation_code, ethnicity, status, status_date, created_at, updated_at) "
        "SELECT s.id_number, s.id_number_legacy, h.id, s.name, s.sex, s.birth_date, s.relation, s.relation_code, "
        "s.ethnicity, s.member_status, s.status_date, :now, :now "
        "FROM roster_stage s JOIN household h ON h.household_no = s.household_no WHERE s.ok "
    )
    new_only = "AND NOT EXISTS (SELECT 1 FROM roster_known_member k WHERE k.row_no = s.row_no) "
    if bulk:
        bulk.drop(connection, "member")
        counts.created = connection.execute(text(member_columns + new_only), params).rowcount
        bulk.restore(connection, "member")
    else:
        counts.created = connection.execute(
            text(member_columns + new_only + "ON CONFLICT (id_number) DO NOTHING"), params
        ).rowcount
    if postgres:
        connection.exec_driver_sql("ANALYZE member")
    counts.unchanged = counts.accepted - counts.created - counts.updated
    # Removed from the register: active members whom the roster no longer lists, in the households it lists
    # (or, for a complete roster, in the villages it lists). A household with a refused row is left alone: its
    # missing member may be the refused one.
    if complete:
        scope = "EXISTS (SELECT 1 FROM roster_stage_village v WHERE v.village_code = h.village_code)"
    else:
        scope = "EXISTS (SELECT 1 FROM roster_stage_household x WHERE x.household_no = h.household_no)"
    counts.removed = connection.execute(
        text(
            "UPDATE member SET status = 'removed', status_date = :today, updated_at = :now "
            f"WHERE status = 'active' AND household_id IN (SELECT h.id FROM household h WHERE {scope} "
            "AND h.created_at < :now "  # a household this import created has no one to remove
            "AND NOT EXISTS (SELECT 1 FROM roster_stage r WHERE r.household_no = h.household_no AND NOT r.ok)) "
            "AND NOT EXISTS (SELECT 1 FROM roster_stage r WHERE r.id_number = member.id_number)"
        ),
        params,
    ).rowcount
    if complete:
        connection.execute(
            text(
                "UPDATE household SET removed_on = :today, updated_at = :now WHERE removed_on IS NULL "
                "AND EXISTS (SELECT 1 FROM roster_stage_village v WHERE v.village_code = household.village_code) "
                "AND NOT EXISTS (SELECT 1 FROM roster_stage r WHERE r.household_no = household.household_no) "
                "AND NOT EXISTS (SELECT 1 FROM member m WHERE m.household_id = household.id AND m.status = 'active')"
            ),
            params,
        )
    _recount_villages(connection, now)
    return stamp


def touched_villages(connection: Connection) -> list[str]:
    """The villages the import being merged touched (those its accepted rows name, and those its movers left), read
    from its staging tables in its own transaction: what an after-merge step recounts. A first load has no movers."""
    query = "SELECT village_code FROM roster_stage_village"
    if _temp_table_exists(connection, "roster_moved_from"):
        query += " UNION SELECT village_code FROM roster_moved_from"
    return sorted(connection.execute(text(query)).scalars())


def _temp_table_exists(connection: Connection, name: str) -> bool:
    if connection.dialect.name == "postgresql":
        return connection.execute(
            text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f"pg_temp.{name}"}
        ).scalar_one()
    return (
        connection.execute(
            text("SELECT 1 FROM sqlite_temp_master WHERE type = 'table' AND name = :name"), {"name": name}
        ).first()
        is not None
    )


def _recount_villages(connection: Connection, now: datetime) -> None:
    """Counts the register again in the villages this import touched (those its accepted rows name, and those its
    movers left) and stores the counts in village_register_count, inside the import's transaction: the counts
    change with the register or not at all."""
    touched = "SELECT village_code FROM roster_stage_village UNION SELECT village_code FROM roster_moved_from"
    where, where_h = f"village_code IN ({touched})", f"h.village_code IN ({touched})"
    connection.execute(text(f"DELETE FROM village_register_count WHERE {where}"))
    # Households per village, and active members per village by one join (grouping members by household first
    # would hash a province's 1.5 million households).
    connection.execute(
        text(
            "INSERT INTO village_register_count (village_code, county_code, households, households_incomplete, "
            "members_active, updated_at) "
            "SELECT v.village_code, v.county_code, v.households, v.incomplete, COALESCE(a.active, 0), :now FROM ("
            "  SELECT village_code, MIN(county_code) AS county_code, COUNT(*) AS households, "
            "  SUM(CASE WHEN is_incomplete THEN 1 ELSE 0 END) AS incomplete FROM household "
            f"  WHERE removed_on IS NULL AND {where} GROUP BY village_code) v LEFT JOIN ("
            "  SELECT h.village_code, COUNT(*) AS active FROM member m JOIN household h ON h.id = m.household_id "
            f"  WHERE m.status = 'active' AND h.removed_on IS NULL AND {where_h} GROUP BY h.village_code"
            ") a ON a.village_code = v.village_code"
        ),
        {"now": now},
    )


def store_village_counts(connection: Connection, villages: dict[str, VillageTally], stamp: datetime) -> None:
    """The first load's tally per village, stored as _recount_villages would count it."""
    if villages:
        connection.execute(
            text(
                "DELETE FROM village_register_count "
                "WHERE village_code IN (SELECT village_code FROM roster_stage_village)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO village_register_count (village_code, county_code, households, households_incomplete, "
                "members_active, updated_at) VALUES (:code, :county, :households, :incomplete, :active, :now)"
            ),
            [
                {
                    "code": code,
                    "county": code[:6],
                    "households": v.households,
                    "incomplete": v.incomplete,
                    "active": v.active,
                    "now": stamp,
                }
                for code, v in sorted(villages.items())
            ],
        )
