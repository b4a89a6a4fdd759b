"""The coverage commands other tools rely on (their output and exit status are a contract): import-roster, enrol."""

import argparse
import json
import sys

from core.masking import mask_ids_in_text
from core.settings import Settings

# --- import-roster: other tools rely on its output and exit status ------------------------------------------------


def _progress_bar(phase: str, rows: int, done: int, total: int) -> None:
    fraction = min(done / total, 1.0) if total else 1.0
    bar = "#" * int(fraction * 30)
    label = {"reading": "读取", "checking": "整体校验与写入", "done": "完成"}.get(phase, phase)
    sys.stderr.write(f"\r[{bar:<30}] {fraction:4.0%} {rows:>10,} 行 {label}   ")
    if phase == "done":
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_import_roster(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when the import ran (even with rejected rows), 2 on unusable input, 1 on an internal failure."""
    from pathlib import Path

    import insurance.wiring  # noqa: F401 - the coverage kinds of document, cover listening to the register
    from core import documents
    from core.audit import Actor
    from core.db import get_engine, local_today
    from insurance.register.roster import RosterUnreadable
    from insurance.register.roster_import import iter_issues, run_import
    from insurance.register.roster_options import ImportOptions
    from insurance.register.roster_report import for_readers, write_report

    path = Path(args.path)
    if not path.is_file():
        return _unusable(args, "file_not_found", f"文件不存在或不可读: {path}")
    options = ImportOptions(
        actor=Actor.system("cli"),
        today=local_today(),
        filename=path.name,
        dry_run=args.dry_run,
        strict=args.strict,
        complete=args.complete,
        progress=_progress_bar if sys.stderr.isatty() else None,
    )
    engine = get_engine(settings.effective_database_url)
    try:
        outcome = run_import(engine, path, options)
    except RosterUnreadable as exc:
        return _unusable(args, exc.code, exc.message, exc.column)
    except Exception as exc:  # noqa: BLE001 - reported, with exit status 1, never a traceback to the clerk
        # An exception's text may quote a row (a database error names the duplicate key): IDs are masked in it.
        print(
            f"导入失败，花名册未作任何修改: {type(exc).__name__}: {mask_ids_in_text(str(exc))}",
            file=sys.stderr,
        )
        return 1
    if outcome.applied:  # certificates of members who died or moved out; with Redis away the sweeper sends them
        documents.dispatch(engine, settings)
    counts = outcome.counts
    with engine.connect() as connection:
        if args.report:
            # The report file goes to whoever ran the import, the importing office: its value column keeps full IDs.
            write_report(Path(args.report), for_readers(iter_issues(connection, outcome.import_id), full_ids=True))
        errors = (
            [
                {"row": i["row"], "column": i["column"], "code": i["code"], "message": i["message"]}
                for i in for_readers(iter_issues(connection, outcome.import_id, errors_only=True), full_ids=False)
            ]
            if args.json
            else []
        )
    nothing_changed = not (counts.created or counts.updated or counts.removed)
    print(
        f"导入 #{outcome.import_id} {path.name}: 读取 {counts.rows} 行，接受 {counts.accepted}（其中修正 "
        f"{counts.normalised}），拒绝 {counts.rejected}；{counts.households} 户"
    )
    print(
        f"  成员 新增 {counts.created}，更新 {counts.updated}（迁移 {counts.moved}，死亡 {counts.deceased}），"
        f"未变 {counts.unchanged}，移出 {counts.removed}；不完整的户 {counts.households_incomplete}"
    )
    if not outcome.applied:
        reason = "试运行" if args.dry_run else "严格模式下有被拒绝的行"
        print(f"  花名册未作任何修改：{reason}")
    elif outcome.already_imported and nothing_changed:
        print(f"  该文件与导入 #{outcome.already_imported} 完全相同，花名册没有任何变化")
    elif nothing_changed:
        print("  花名册没有任何变化")
    if outcome.first_load:
        print("  空花名册首次导入：边读边写入")
    if outcome.extra_columns:
        print(f"  未知的列已忽略: {'、'.join(outcome.extra_columns)}")
    if args.report:
        print(f"  报告: {args.report}")
    if args.json:
        result = {name: getattr(counts, name) for name in type(counts).__dataclass_fields__}
        result.update(
            import_id=outcome.import_id,
            applied=outcome.applied,
            dry_run=args.dry_run,
            strict=args.strict,
            already_imported=outcome.already_imported,
            format=outcome.file_format,
            encoding=outcome.encoding,
            extra_columns=outcome.extra_columns,
            first_load=outcome.first_load,
            errors=errors,
        )
        print(json.dumps(result, ensure_ascii=False))
    return 0


def _unusable(args: argparse.Namespace, code: str, message: str, column: str | None = None) -> int:
    message = mask_ids_in_text(message)  # a header or a file name may quote an ID; the terminal gets it masked
    print(f"无法导入: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"error": {"code": code, "message": message, "column": column}}, ensure_ascii=False))
    return 2


def cmd_enrol(settings: Settings, args: argparse.Namespace) -> int:
    """Enrols a county onto its group policy in this process (the web queues the same use case to a worker)."""
    from datetime import date

    import insurance.wiring  # noqa: F401 - the coverage kinds of document, cover listening to the register
    from core import documents
    from core.audit import Actor
    from core.db import get_engine, local_today, new_session
    from core.errors import DomainError
    from insurance.cover import enrolment as cover_enrolment
    from insurance.cover import policies

    engine = get_engine(settings.effective_database_url)
    on = date.fromisoformat(args.on) if args.on else local_today()
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, added: int) -> None:
        if tty:
            print(f"\r参保 {done}/{total} 乡镇, 新增 {added} 人", end="", file=sys.stderr)

    try:
        enrolment = cover_enrolment.enrol_now(engine, Actor.system("cli"), args.policy_no, on, progress=progress)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    finally:
        if tty:
            print(file=sys.stderr)
    with new_session(engine) as session:
        policy = policies.find_policy(session, args.policy_no)
    assert policy is not None  # just enrolled
    # members added to a policy in force get certificates; with Redis away the rows wait for the sweeper
    documents.dispatch(engine, settings, policy_id=policy.id)
    summary = {
        "policy_no": policy.policy_no,
        "enrolment_id": enrolment.id,
        "added": enrolment.added,
        "households_added": enrolment.households_added,
        "already_enrolled": enrolment.already_enrolled,
        "ineligible": enrolment.ineligible,
        "too_late": enrolment.too_late,
        "double_cover": enrolment.double_cover,
        "members": policy.members_count,
        "households": policy.households_count,
        "premium_fen": policy.premium_fen,
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"保单 {policy.policy_no}: 新增 {enrolment.added} 人（{enrolment.households_added} 户），"
            f"已在保 {enrolment.already_enrolled} 人，不符合条件 {enrolment.ineligible} 人，"
            f"重复投保待核 {enrolment.double_cover} 人；保单共 {policy.members_count} 人、{policy.households_count} 户"
        )
    return 0


# --- coverage check: the kept coverage counts against the rows ----------------------------------------------------


def cmd_coverage_check(settings: Settings, args: argparse.Namespace) -> int:
    """Recounts the coverage cohorts from the rows and compares: exit 0 when the stored counts are exact, 1 when any
    differs (each difference printed), 2 on a failure to run. `--json`: one JSON object as the last line."""
    import insurance.wiring  # noqa: F401 - the tables of every package
    from core.db import get_engine
    from insurance.cover import counts

    engine = get_engine(settings.effective_database_url)
    with engine.connect() as connection:
        differences = counts.check(connection)
    for d in differences:
        where = f"村 {d.village_code}" if d.village_code else f"县 {d.county_code}（县汇总）"
        kind = "在册人员" if d.kind == "member" else "保障人员"
        print(f"{where} {kind}: 存储多出 {d.stored} 人，按明细应有而未存储 {d.expected} 人")
    if not differences:
        print("参保统计与明细一致")
    if args.json:
        print(
            json.dumps(
                {"equal": not differences, "differences": [d.as_dict() for d in differences]}, ensure_ascii=False
            )
        )
    return 0 if not differences else 1
