"""The roster import use case: stream a file into a staging table, check it as a whole in SQL, merge it.

Why this shape: a province is 4.45 million rows, so nothing is held in memory beyond one batch. Row checks are
pure Python (insurance.register.roster); checks that need the whole file (an ID used twice, a household without exactly
one head) and the merge into the register are set-based SQL over a temporary staging table. Everything happens
in one transaction: a crash or a killed process leaves the register as it was. The register changes inside a
savepoint, so --strict and --dry-run can undo them and still keep the record of the attempt and its report.

On PostgreSQL, a big roster for an empty register (the province's first) is a first load instead: the members go
straight into the register while the file is read, and households are decided as their rows end (_first_load and
insurance.register.roster_bulk), with the same result as the staged import, which tests hold side by side.

The steps live beside it: roster_options (what is asked and counted), roster_staging (the staging tables and the
issues' spill), roster_merge (whole-file checks, the merge, the village counts), roster_bulk (the first load).
"""

import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core import audit, queue
from core.db import for_writing, utcnow
from core.masking import mask_ids_in_text
from insurance.register import events
from insurance.register.models import ImportStatus, RosterImport
from insurance.register.roster import HeaderMap, RosterFile, RosterUnreadable, open_roster
from insurance.register.roster_bulk import (
    HOUSEHOLD_COPY_COLUMNS,
    MEMBER_COPY_COLUMNS,
    BulkLoad,
    FirstLoad,
    NotTogether,
    refuse_twins,
)
from insurance.register.roster_merge import (
    check_whole_file,
    final_counts,
    known_county_codes,
    merge_into_register,
    record_divisions,
    store_village_counts,
    transaction_memory,
)
from insurance.register.roster_options import ImportCounts, ImportOptions, ImportOutcome
from insurance.register.roster_staging import (
    Issues,
    Loader,
    RecordStream,
    copy_spill,
    create_staging,
    drop_staging,
    stage_one,
)

PROGRESS_KEY = "tehuibao:import:{}:progress"  # Redis: where a running web import reports how far it got
IMPORT_TIMEOUT = timedelta(hours=4)  # the worker's job timeout; an import still "running" past it has died
IMPORT_JOB = "insurance.register.jobs.run_roster_import"


def import_job_id(import_id: int) -> str:
    """One job id per web import, whoever enqueues it (the upload after the commit, or the sweeper)."""
    return f"roster-import-{import_id}"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the use case -------------------------------------------------------------------------------------------------


def run_import(engine: Engine, path: Path, options: ImportOptions, import_id: int | None = None) -> ImportOutcome:
    """Imports one roster file in one transaction; raises RosterUnreadable for a file that is not a roster."""
    sha256 = file_digest(path)
    size = path.stat().st_size
    if import_id is None:
        # Recorded as running at once (committed): the sweeper re-queues only web uploads, which start queued.
        with Session(engine) as session:
            record = RosterImport(
                filename=options.filename[:255],
                sha256=sha256,
                size_bytes=size,
                county_code=options.county_code,
                actor=options.actor.name,
                actor_user_id=options.actor.user_id,
                status=ImportStatus.running,
                dry_run=options.dry_run,
                strict=options.strict,
                started_at=utcnow(),
            )
            session.add(record)
            session.commit()
            import_id = int(record.id or 0)
    try:
        return _run(engine, path, options, import_id, sha256)
    except RosterUnreadable as exc:
        # The page and the API show this message; a header it quotes may hold an ID, so it is stored masked.
        queue.mark_failed(engine, RosterImport.__table__, import_id, mask_ids_in_text(exc.message))
        raise
    except Exception as exc:
        queue.mark_failed(
            engine,
            RosterImport.__table__,
            import_id,
            f"导入失败，未写入任何数据: {type(exc).__name__}",
        )
        raise


def _run(engine: Engine, path: Path, options: ImportOptions, import_id: int, sha256: str) -> ImportOutcome:
    roster = open_roster(path)
    with for_writing(engine).connect() as connection:  # one writer from the start: it reads, then writes
        transaction = connection.begin()
        try:
            earlier = connection.execute(
                text(
                    "SELECT MAX(id) FROM roster_import WHERE sha256 = :sha AND status = 'done' AND applied "
                    "AND id <> :id"
                ),
                {"sha": sha256, "id": import_id},
            ).scalar_one()
            create_staging(connection)
            counties = known_county_codes(connection)
            with Issues(connection) as issues:
                done = None
                if _first_load_wanted(connection, roster, options):
                    done = _first_load(connection, roster, options, counties, import_id, issues)
                    if done is None:  # the staged path decides what the first load could not
                        roster = _reopen(roster, issues)
                counts, applied = done or _staged_import(connection, roster, options, counties, import_id, issues)
            _record(connection, import_id, counts, applied, options, roster)
            drop_staging(connection)
            transaction.commit()
        except BaseException:
            transaction.rollback()
            raise
    if options.progress:
        options.progress("done", counts.rows, roster.size_bytes, roster.size_bytes)
    return ImportOutcome(
        import_id=import_id,
        counts=counts,
        applied=applied,
        already_imported=earlier,
        extra_columns=roster.header.extra,
        file_format=roster.file_format,
        encoding=roster.encoding,
        first_load=done is not None,
    )


def _reopen(roster: RosterFile, issues: Issues) -> RosterFile:
    """The file again from its first row, for another pass; the issues of the pass before are forgotten."""
    roster.close()
    issues.discard()
    return open_roster(roster.path)


def _header_issues(header: HeaderMap, issues: Issues) -> None:
    for extra in (e[:50] for e in header.extra):
        issues.add((1, extra, "extra_column", "note", f"未知的列“{extra}”已忽略", None, None))


def _applied(options: ImportOptions, counts: ImportCounts) -> bool:
    return not options.dry_run and not (options.strict and counts.rejected > 0)


def _settle(
    connection: Connection, savepoint: Any, options: ImportOptions, applied: bool, changed_at: datetime
) -> None:
    """Keeps the register's changes, with the cover they end (deaths and moves, in the same transaction), or undoes
    them (a dry run, a strict import with refused rows)."""
    if not applied:
        savepoint.rollback()
        return
    with Session(bind=connection) as cover_session:
        events.after_merge(cover_session, options.actor, changed_at)
        cover_session.commit()  # releases the session's own savepoint inside the import's
    savepoint.commit()


def _staged_import(
    connection: Connection,
    roster: RosterFile,
    options: ImportOptions,
    counties: frozenset[str],
    import_id: int,
    issues: Issues,
) -> tuple[ImportCounts, bool]:
    """Stages the whole file, checks it as a whole in SQL, merges it into the register in a savepoint (undone for a
    dry run or a strict import with refused rows)."""
    header = roster.header
    _header_issues(header, issues)
    records = RecordStream(roster, options, counties, issues)
    with Loader(connection) as loader:
        for row_no, item, canonical in records:
            if canonical:
                loader.add_canonical(row_no, item)
            else:
                stage_one(item, loader)
        loader.finish()
    issues.load()
    counts = ImportCounts(rows=records.count)
    if options.progress:
        options.progress("checking", counts.rows, roster.size_bytes, roster.size_bytes)
    check_whole_file(connection, header, options.county_code)
    final_counts(connection, counts)
    applied = _applied(options, counts)
    savepoint = connection.begin_nested()
    changed_at = merge_into_register(
        connection,
        counts,
        import_id,
        options.today,
        complete=options.complete,
        has_status="member_status" in header.positions,
        bulk_min_rows=options.bulk_min_rows,
    )
    _settle(connection, savepoint, options, applied, changed_at)
    return counts, applied


# --- the first load of an empty register (PostgreSQL) -------------------------------------------------------------


def _register_empty(connection: Connection) -> bool:
    return bool(
        connection.execute(
            text("SELECT NOT EXISTS (SELECT 1 FROM household) AND NOT EXISTS (SELECT 1 FROM member)")
        ).scalar_one()
    )


def _first_load_wanted(connection: Connection, roster: RosterFile, options: ImportOptions) -> bool:
    return (
        connection.dialect.name == "postgresql"
        and roster.size_bytes >= options.first_load_min_bytes
        and _register_empty(connection)
    )


def _first_load(
    connection: Connection,
    roster: RosterFile,
    options: ImportOptions,
    counties: frozenset[str],
    import_id: int,
    issues: Issues,
) -> tuple[ImportCounts, bool] | None:
    """Loads a roster into an empty register while reading it (see insurance.register.roster_bulk); None when the roster
    needs the staged path (a household's rows apart, the register not empty after all). A first pass that finds
    IDs used twice is undone, and a second one, knowing them, refuses them as the staged path does."""
    done = _load_as_read(connection, roster, options, counties, import_id, issues, frozenset())
    if isinstance(done, frozenset):
        again = _reopen(roster, issues)
        try:
            done = _load_as_read(connection, again, options, counties, import_id, issues, done)
        finally:
            again.close()
    return done if isinstance(done, tuple) else None


def _load_as_read(
    connection: Connection,
    roster: RosterFile,
    options: ImportOptions,
    counties: frozenset[str],
    import_id: int,
    issues: Issues,
    twins: frozenset[str],
) -> tuple[ImportCounts, bool] | frozenset[str] | None:
    """One pass of the first load, in a savepoint. With the savepoint undone, it returns the IDs used twice when it
    found any (but not after a pass that knew them: twins), or None when the roster needs the staged path.

    The register is locked, its secondary indexes and foreign keys dropped (BulkLoad); members stream into member by
    COPY as each household's rows end, households into a spill loaded after them; then every index and constraint
    is built and checked again, and the village counts come from Python's own tally.
    """
    savepoint = connection.begin_nested()
    BulkLoad.lock(connection)
    if not _register_empty(connection):  # another import filled it meanwhile
        savepoint.rollback()
        return None
    transaction_memory(connection)
    header = roster.header
    stamp = utcnow()
    bulk = BulkLoad()
    bulk.drop(connection, "member")
    bulk.drop(connection, "household", foreign=False)  # its foreign keys to other tables: see BulkLoad.drop
    # COPY leaves the two time stamps to column defaults set for the load: one parse each instead of one per row.
    _stamp_defaults(connection, f"SET DEFAULT '{stamp.isoformat()}'")
    first_id = connection.execute(text("SELECT nextval(pg_get_serial_sequence('household', 'id'))")).scalar_one()
    _header_issues(header, issues)
    with ExitStack() as files:
        spill, refused = (files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8")) for _ in range(2))
        try:
            with Loader(connection, "member", MEMBER_COPY_COLUMNS) as loader:
                records = RecordStream(roster, options, counties, issues)
                stream = iter(records)
                if twins:
                    stream = refuse_twins(stream, twins, issues.add, header.header_of("id_number"))
                load = FirstLoad(
                    first_id, import_id, loader.add_lines, spill, refused, issues.add, header.header_of("relation")
                )
                tally = load.feed(stream)
                loader.finish()
            rows = records.count
        except NotTogether:
            savepoint.rollback()
            return None
        if options.progress:
            options.progress("checking", rows, roster.size_bytes, roster.size_bytes)
        connection.exec_driver_sql(
            "CREATE TEMP TABLE roster_village_name (village_code VARCHAR(12), township_name VARCHAR(100), "
            "village_name VARCHAR(100)) ON COMMIT DROP"
        )
        if tally.names:
            connection.execute(
                text("INSERT INTO roster_village_name VALUES (:code, :township, :village)"),
                [{"code": c, "township": t, "village": v} for c, t, v in sorted(tally.names)],
            )
        villages_created = record_divisions(connection, "roster_village_name")
        bulk.drop(connection, "household")  # its foreign keys to division and roster_import, if it may
        driver = connection.connection.driver_connection
        copy_spill(driver, f"COPY household ({', '.join(HOUSEHOLD_COPY_COLUMNS)}) FROM STDIN", spill)
        connection.exec_driver_sql("CREATE TEMP TABLE roster_refused_id (id_number VARCHAR(18)) ON COMMIT DROP")
        if tally.refused:
            copy_spill(driver, "COPY roster_refused_id (id_number) FROM STDIN", refused)
    _stamp_defaults(connection, "DROP DEFAULT")
    bulk.restore(connection, "household")
    found = _twins(connection, bulk)
    if found:
        savepoint.rollback()
        return found if not twins else None  # twins again after a pass that knew them: leave it to the staged path
    if tally.households:
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('household', 'id'), :last)"),
            {"last": tally.next_household_id - 1},
        )
    store_village_counts(connection, tally.villages, stamp)
    connection.exec_driver_sql("ANALYZE household")
    connection.exec_driver_sql("ANALYZE member")
    counts = ImportCounts(
        rows=rows,
        accepted=tally.accepted,
        normalised=tally.normalised,
        rejected=rows - tally.accepted,
        created=tally.accepted,
        households=tally.households,
        households_incomplete=tally.households_incomplete,
        villages_created=villages_created,
    )
    applied = _applied(options, counts)
    _settle(connection, savepoint, options, applied, stamp)
    issues.load()
    return counts, applied


def _twins(connection: Connection, bulk: BulkLoad) -> frozenset[str]:
    """Builds member's indexes and constraints, or finds the IDs used twice: among the loaded members (the unique
    index fails on them) and between them and the rows of households refused whole (the staged path finds those
    before it refuses the households, so a later good row with such an ID is refused as used twice)."""
    attempt = connection.begin_nested()
    try:
        bulk.restore(connection, "member")
    except IntegrityError:
        attempt.rollback()
        found = connection.execute(
            text(
                "SELECT id_number FROM (SELECT id_number FROM member "
                "UNION ALL SELECT id_number FROM roster_refused_id) a GROUP BY id_number HAVING COUNT(*) > 1"
            )
        ).scalars()
        return frozenset(found)
    attempt.commit()
    found = connection.execute(
        text(
            "SELECT r.id_number FROM roster_refused_id r JOIN member m ON m.id_number = r.id_number "
            "UNION SELECT id_number FROM roster_refused_id GROUP BY id_number HAVING COUNT(*) > 1"
        )
    ).scalars()
    return frozenset(found)


def _stamp_defaults(connection: Connection, action: str) -> None:
    for table in ("member", "household"):
        connection.exec_driver_sql(
            f"ALTER TABLE {table} ALTER COLUMN created_at {action}, ALTER COLUMN updated_at {action}"
        )


def _record(
    connection: Connection,
    import_id: int,
    counts: ImportCounts,
    applied: bool,
    options: ImportOptions,
    roster: RosterFile,
) -> None:
    connection.execute(
        text(
            'INSERT INTO roster_import_issue (import_id, row, "column", code, severity, message, value, household_no) '
            "SELECT :id, row_no, col, code, severity, message, value, household_no FROM roster_stage_issue"
        ),
        {"id": import_id},
    )
    fields = {name: getattr(counts, name) for name in ImportCounts.__dataclass_fields__}
    sets = ", ".join(f"{name} = :{name}" for name in fields)
    message = None
    if options.strict and counts.rejected:
        message = f"严格模式：有 {counts.rejected} 行被拒绝，花名册未作任何修改"
    elif options.dry_run:
        message = "试运行：花名册未作任何修改"
    connection.execute(
        text(
            f"UPDATE roster_import SET {sets}, status = 'done', applied = :applied, message = :message, "
            "file_format = :fmt, encoding = :enc, finished_at = :now WHERE id = :id"
        ),
        {
            **fields,
            "applied": applied,
            "message": message,
            "fmt": roster.file_format,
            "enc": roster.encoding,
            "now": utcnow(),
            "id": import_id,
        },
    )
    # The audit record joins this connection's transaction: it lands, or vanishes, with the import.
    with Session(bind=connection) as session:
        audit.record(
            session,
            options.actor,
            "import",
            "roster_import",
            import_id,
            after={**fields, "applied": applied, "file": options.filename},
        )
        session.flush()


def iter_issues(connection: Connection, import_id: int, *, errors_only: bool = False) -> Iterator[dict[str, Any]]:
    """The import's report rows, by row number, streamed."""
    where = " AND severity = 'error'" if errors_only else ""
    result = connection.execution_options(yield_per=5000).execute(
        text(
            'SELECT row, "column", code, severity, message, value, household_no FROM roster_import_issue '
            f"WHERE import_id = :id{where} ORDER BY row, id"
        ),
        {"id": import_id},
    )
    for row in result:
        yield dict(row._mapping)
