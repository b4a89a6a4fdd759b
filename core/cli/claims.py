"""The claims commands other tools rely on (their output and exit status are a contract): import-settlements."""

import argparse
import json
import os
import sys
from pathlib import Path

from core.masking import mask_ids_in_text
from core.settings import Settings


def _unusable(args: argparse.Namespace, code: str, message: str, column: str | None = None) -> int:
    message = mask_ids_in_text(message)
    print(f"无法导入: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"error": {"code": code, "message": message, "column": column}}, ensure_ascii=False))
    return 2


def _failed(args: argparse.Namespace, exc: Exception) -> int:
    """An internal failure (the database away, a bug): exit status 1, nothing created, never a traceback."""
    message = f"{type(exc).__name__}: {mask_ids_in_text(str(exc))}"
    print(f"导入失败，未创建任何案件: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"error": {"code": "internal_error", "message": message, "column": None}}, ensure_ascii=False))
    return 1


def _insurer_id(settings: Settings, uscc: str | None) -> tuple[int | None, str]:
    """The insurer named by its USCC, or the only insurer there is; else None and why (Chinese)."""
    from sqlmodel import select

    from core.db import get_engine, new_session
    from insurance.register.models import Insurer

    with new_session(get_engine(settings.effective_database_url)) as session:
        if uscc:
            found = session.exec(select(Insurer.id).where(Insurer.uscc == uscc.strip().upper())).first()
            return found, f"没有统一社会信用代码为 {uscc} 的保险公司"
        ids = session.exec(select(Insurer.id)).all()
        if len(ids) == 1:
            return ids[0], ""
        return None, "请用 --insurer 指定保险公司的统一社会信用代码"


def _writable(path: Path) -> bool:
    """The report's folder exists and may be written (checked before the import, whose commit it cannot undo)."""
    return path.parent.is_dir() and os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _report(path: Path, outcome: object) -> None:
    from claims.settlement_report import outcome_rows, write_report

    write_report(path, outcome_rows(outcome))  # type: ignore[arg-type]


def cmd_import_settlements(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when the import ran (even with refused rows), 2 on unusable input, 1 on an internal failure."""
    from claims.settlement_import import SettlementOptions, run_settlement_import
    from claims.settlement_sheet import SettlementSheetUnreadable
    from core.audit import Actor
    from core.db import get_engine, local_today

    path = Path(args.path)
    if not path.is_file():
        return _unusable(args, "file_not_found", f"文件不存在或不可读: {path}")
    try:
        insurer_id, why = _insurer_id(settings, args.insurer)
    except Exception as exc:  # noqa: BLE001 - the database away: an internal failure, exit status 1
        return _failed(args, exc)
    if insurer_id is None:
        return _unusable(args, "insurer_unknown", why)
    if args.report and not _writable(Path(args.report)):
        return _unusable(args, "report_unwritable", f"报告文件无法写入: {args.report}")
    options = SettlementOptions(
        insurer_id=insurer_id,
        actor=Actor.system("cli"),
        today=local_today(),
        filename=path.name,
        dry_run=args.dry_run,
    )
    try:
        outcome = run_settlement_import(get_engine(settings.effective_database_url), path, options)
    except SettlementSheetUnreadable as exc:
        return _unusable(args, exc.code, exc.message, exc.column)
    except Exception as exc:  # noqa: BLE001 - reported, exit status 1, never a traceback to the clerk
        return _failed(args, exc)
    report_failed = ""
    if args.report:
        try:  # the import has committed: a report that cannot be written does not undo it
            _report(Path(args.report), outcome)
        except OSError as exc:
            report_failed = f"{type(exc).__name__}: {exc.strerror or exc}"
    number = f"#{outcome.import_id} " if outcome.import_id else ""
    print(
        f"结算单导入 {number}{path.name}: 读取 {outcome.rows} 行，受理 {outcome.accepted}，拒绝 {outcome.refused}；"
        f"新建理赔案件 {outcome.claims_created} 件，应赔 {outcome.payable_fen / 100:.2f} 元"
    )
    if outcome.already_imported:
        print(f"  该文件已于导入 #{outcome.already_imported} 导入，本次未创建任何案件")
    elif args.dry_run:
        print("  试运行：未写入任何数据")
    if outcome.extra_columns:
        print(f"  未知的列已忽略: {'、'.join(outcome.extra_columns)}")
    if report_failed:
        print(f"  导入已完成，但报告未能写入 {args.report}: {report_failed}", file=sys.stderr)
    elif args.report:
        print(f"  报告: {args.report}")
    if args.json:
        print(json.dumps(outcome.summary(), ensure_ascii=False))
    return 0
