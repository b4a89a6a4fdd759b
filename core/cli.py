"""The `tehuibao` console script: the composition root for the command line (it may import every package)."""

import argparse
import getpass
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from urllib.parse import urlparse

from core.settings import Settings, get_settings

DEMO_INSURER = {
    "uscc": "91430000MA4PCC001Q",
    "name": "中国人民财产保险股份有限公司湖南省分公司（演示）",
    "short_name": "人保财险（演示）",
    "hotline": "95518",
}
DEMO_COUNTY = "433124"  # 花垣县, where 精准扶贫 was first proposed (domain.md)
DEMO_USERS = [
    ("admin", "系统管理员", "admin", None),
    ("province", "湖南省扶贫办", "province_office", None),
    ("huayuan", "花垣县扶贫办", "county_office", DEMO_COUNTY),
    ("picc-handler", "人保财险经办人", "insurer_handler", "insurer"),
    ("picc-supervisor", "人保财险主管", "insurer_supervisor", "insurer"),
]


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from core.migrate import upgrade

    upgrade(settings.effective_database_url)
    print(f"数据库已迁移到最新版本 (migrated): {_safe_url(settings.effective_database_url)}")
    return 0


def seed(settings: Settings, demo: bool) -> dict[str, object]:
    from core import users
    from core.audit import Actor
    from core.db import get_engine, new_session
    from core.schemas import UserCreate
    from insurance.cover import catalogue as cover_catalogue
    from insurance.cover import insurers
    from insurance.register import service as register_service

    actor = Actor.system("seed")
    session = new_session(get_engine(settings.effective_database_url))
    try:
        report = register_service.seed_divisions(session, actor)
        catalogue = cover_catalogue.seed_products(session, actor)
        result: dict[str, object] = {
            "divisions": {"created": report.created, "updated": report.updated, "unchanged": report.unchanged},
            "products": {"created": catalogue.products_created, "versions_created": catalogue.versions_created},
        }
        if demo:
            insurer = register_service.ensure_insurer(session, actor, **DEMO_INSURER)
            insurers.ensure_offers(session, actor, insurer, [p.code for p in cover_catalogue.list_products(session)])
            created = []
            for username, display_name, role, scope in DEMO_USERS:
                if users.find_user(session, username) is not None:
                    continue
                users.create_user(
                    session,
                    actor,
                    UserCreate(
                        username=username,
                        display_name=display_name,
                        password=settings.demo_password,
                        role=role,
                        county_code=scope if scope and scope != "insurer" else None,
                        insurer_id=insurer.id if scope == "insurer" else None,
                    ),
                )
                created.append(username)
            result["demo_users_created"] = created
        return result
    finally:
        session.close()


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    result = seed(settings, args.demo)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "main:build", factory=True, host=args.host or settings.host, port=args.port or settings.port, log_config=None
    )
    return 0


def cmd_worker(_settings: Settings, _args: argparse.Namespace) -> int:
    import worker

    return worker.main([])


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise SystemExit("没有终端：请用 --password-stdin 从标准输入提供密码 (no terminal: use --password-stdin)")
    first = getpass.getpass("密码 (password): ")
    if first != getpass.getpass("再输入一次 (again): "):
        raise SystemExit("两次输入的密码不一致 (passwords differ)")
    return first


def cmd_users_create(settings: Settings, args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlmodel import select

    from core import users
    from core.audit import Actor
    from core.db import get_engine, new_session
    from core.errors import DomainError
    from core.schemas import UserCreate
    from insurance.register.models import Insurer

    session = new_session(get_engine(settings.effective_database_url))
    try:
        insurer_id = None
        if args.insurer:
            insurer = session.exec(select(Insurer).where(Insurer.uscc == args.insurer.upper())).first()
            if insurer is None:
                print(
                    f"错误 insurer: 没有统一社会信用代码为 {args.insurer} 的保险公司 (no such insurer)", file=sys.stderr
                )
                return 2
            insurer_id = insurer.id
        try:
            data = UserCreate(
                username=args.username,
                display_name=args.name or args.username,
                password=_read_password(args),
                role=args.role,
                county_code=args.county,
                insurer_id=insurer_id,
            )
            user = users.create_user(session, Actor.system("cli"), data)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"])
                print(f"错误 {field}: {err['msg'].removeprefix('Value error, ')}", file=sys.stderr)
            return 2
        except DomainError as exc:
            print(f"错误 {exc.field or ''}: {exc.message}", file=sys.stderr)
            return 2
        print(f"已创建用户 (created) {user.username} [{user.role}] id={user.id}")
        return 0
    finally:
        session.close()


def cmd_users_list(settings: Settings, args: argparse.Namespace) -> int:
    from core import users
    from core.db import get_engine, new_session

    session = new_session(get_engine(settings.effective_database_url))
    try:
        rows, count = users.list_users(session, limit=10_000)
    finally:
        session.close()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": u.id,
                        "username": u.username,
                        "display_name": u.display_name,
                        "role": u.role.value,
                        "county_code": u.county_code,
                        "insurer_id": u.insurer_id,
                        "is_active": u.is_active,
                    }
                    for u in rows
                ],
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{'id':>4}  {'username':<20} {'role':<20} {'scope':<14} name")
    for u in rows:
        scope = u.county_code[:6] if u.county_code else (f"insurer#{u.insurer_id}" if u.insurer_id else "province")
        print(f"{u.id:>4}  {u.username:<20} {u.role.value:<20} {scope:<14} {u.display_name}")
    print(f"共 {count} 个用户 (users)")
    return 0


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
    from insurance.register.roster_report import write_report

    path = Path(args.path)
    if not path.is_file():
        return _unusable(args, "file_not_found", f"文件不存在或不可读 (no such file): {path}")
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
        print(
            f"导入失败，花名册未作任何修改 (internal failure, nothing written): {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    if outcome.applied:  # certificates of members who died or moved out; with Redis away the sweeper sends them
        documents.dispatch(engine, settings)
    counts = outcome.counts
    with engine.connect() as connection:
        if args.report:
            write_report(Path(args.report), iter_issues(connection, outcome.import_id))
        errors = (
            [
                {"row": i["row"], "column": i["column"], "code": i["code"], "message": i["message"]}
                for i in iter_issues(connection, outcome.import_id, errors_only=True)
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
        reason = "试运行 (dry run)" if args.dry_run else "严格模式下有被拒绝的行 (strict, rows rejected)"
        print(f"  花名册未作任何修改：{reason}")
    elif outcome.already_imported and nothing_changed:
        print(f"  该文件与导入 #{outcome.already_imported} 完全相同，花名册没有任何变化 (same file, nothing changed)")
    elif nothing_changed:
        print("  花名册没有任何变化 (nothing changed)")
    if outcome.first_load:
        print("  空花名册首次导入：边读边写入 (first load of an empty register, written as read)")
    if outcome.extra_columns:
        print(f"  未知的列已忽略 (unknown columns ignored): {'、'.join(outcome.extra_columns)}")
    if args.report:
        print(f"  报告 (report): {args.report}")
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
    print(f"无法导入 (unusable input): {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"error": {"code": code, "message": message, "column": column}}, ensure_ascii=False))
    return 2


# --- `tehuibao up`: what `make run` starts ------------------------------------------------------------------


def _safe_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def _redis_answers(url: str) -> bool:
    from core.queue import redis_from_url

    try:
        return bool(redis_from_url(url).ping())
    except Exception:  # noqa: BLE001 - any failure means it does not answer
        return False


def _start_local_redis(settings: Settings) -> subprocess.Popen[bytes] | None:
    parsed = urlparse(settings.redis_url)
    if parsed.hostname not in ("127.0.0.1", "localhost") or not settings.redis_autostart:
        return None
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("REDIS_URL 无应答且未安装 redis-server (no Redis answers and redis-server is not installed)")
    data_dir = settings.var_dir / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    # No persistence needed: every job is also a database row (outbox), so Redis may forget.
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(parsed.port or 6379),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        if _redis_answers(settings.redis_url):
            print(f"已启动本地 redis-server (started a local redis-server) at {settings.redis_url}")
            return process
        time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"redis-server 未能启动 (could not start) at {settings.redis_url}")


DEMO_ROSTER_MEMBERS = 3000
DEMO_ROSTER_COUNTIES = ("433124", "433123", "433130")  # 花垣县, 凤凰县, 龙山县


def load_demo_roster(settings: Settings) -> str | None:
    """On first run only: a roster from the project's own generator, so a newcomer sees a populated register."""
    from sqlalchemy import text

    import insurance.wiring  # noqa: F401 - cover listens to the register
    from core.audit import Actor
    from core.db import get_engine, local_today
    from insurance.demo.roster import generate_rows, write_csv
    from insurance.register.roster_import import run_import
    from insurance.register.roster_options import ImportOptions

    engine = get_engine(settings.effective_database_url)
    with engine.connect() as connection:
        if connection.execute(text("SELECT COUNT(*) FROM roster_import")).scalar_one():
            return None
    path = settings.var_dir / "demo-roster.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(path, generate_rows(DEMO_ROSTER_MEMBERS, seed=2026, counties=DEMO_ROSTER_COUNTIES))
    outcome = run_import(
        engine, path, ImportOptions(actor=Actor.system("demo"), today=local_today(), filename=path.name)
    )
    return f"{outcome.counts.accepted} 名成员、{outcome.counts.households} 户 (members, households)"


def load_demo_cover(settings: Settings) -> str | None:
    """On first run only: the demo insurer's group policy for the demo county, next year, enrolled from the
    register, so a newcomer sees cover on the household pages (the notices and the issue are left to do)."""
    from core import users
    from core.audit import Actor
    from core.db import get_engine, local_today, new_session
    from insurance.cover import enrolment as cover_enrolment
    from insurance.cover import policies
    from insurance.cover.schemas import GroupPolicyCreate

    session = new_session(get_engine(settings.effective_database_url))
    try:
        handler = users.find_user(session, "picc-handler")
        if handler is None or policies.list_policies(session, handler, limit=1)[1]:
            return None
        year = local_today().year + 1
        policy = policies.create_group_policy(session, handler, GroupPolicyCreate(county_code=DEMO_COUNTY, year=year))
        engine = get_engine(settings.effective_database_url)
        enrolment = cover_enrolment.enrol_now(engine, Actor.of(handler), policy.policy_no, local_today())
        return f"{policy.policy_no}（{year} 年度），参保 {enrolment.added} 人，不符合条件 {enrolment.ineligible} 人"
    finally:
        session.close()


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    cmd_migrate(settings, _args)
    result = seed(settings, demo=True)
    print(f"基础数据 (seed): {json.dumps(result, ensure_ascii=False)}")
    demo = load_demo_roster(settings)
    if demo:
        print(f"已导入演示花名册 (demo roster imported): {demo}")
    cover = load_demo_cover(settings)
    if cover:
        print(f"演示团体保单 (demo group policy): {cover}")
    children: list[subprocess.Popen[bytes]] = []
    if not _redis_answers(settings.redis_url):
        redis_process = _start_local_redis(settings)
        if redis_process is None:
            raise SystemExit(f"REDIS_URL 无应答 (no Redis answers at) {_safe_url(settings.redis_url)}")
        children.append(redis_process)
    children.append(subprocess.Popen([sys.executable, "-m", "worker"]))
    url = f"http://{settings.host}:{settings.port}"
    print("\n扶贫特惠保 正在启动 (starting): " + url)
    print(f"演示账号 (demo users), 密码 (password) = {settings.demo_password!r}:")
    for username, display_name, role, scope in DEMO_USERS:
        print(f"  {username:<16} {display_name}（{role}{', ' + scope if scope and scope != 'insurer' else ''}）")
    print("按 Ctrl-C 停止 (press Ctrl-C to stop)\n", flush=True)
    try:
        import uvicorn

        uvicorn.run("main:build", factory=True, host=settings.host, port=settings.port, log_config=None)
    finally:
        for child in reversed(children):
            child.send_signal(signal.SIGTERM)
        for child in reversed(children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


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
            print(f"\r参保 (enrolling) {done}/{total} 乡镇 (townships), 新增 {added} 人", end="", file=sys.stderr)

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


def cmd_sweep(settings: Settings, args: argparse.Namespace) -> int:
    """What the worker's sweeper does every minute, once: imports, enrolments and documents that never reached Redis
    (or whose worker died) are sent again."""
    import insurance.wiring  # noqa: F401 - the coverage kinds of document, cover listening to the register
    from core import documents
    from insurance.cover import jobs as cover_jobs
    from insurance.register import jobs as register_jobs

    summary = {
        "imports": register_jobs.enqueue_queued_imports(),
        "enrolments": cover_jobs.enqueue_queued_enrolments(),
        **{f"documents_{k}": v for k, v in documents.sweep(settings).items()},
    }
    print(json.dumps(summary, ensure_ascii=False) if args.json else f"已重新入队 (sent again): {summary}")
    return 0


def cmd_signing_key(settings: Settings, _args: argparse.Namespace) -> int:
    """Prints the public key third parties verify certificate codes with (docs/verification.md)."""
    from core import signing

    print(signing.public_key_pem(signing.key_at(settings.effective_signing_key_file)), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tehuibao", description="扶贫特惠保承保理赔系统 (poverty insurance)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema to the newest version").set_defaults(func=cmd_migrate)
    p = sub.add_parser("seed", help="load Hunan's divisions (idempotent); --demo adds demo insurer and users")
    p.add_argument("--demo", action="store_true")
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("serve", help="run the web app")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="run one RQ worker (PDF rendering and other jobs)").set_defaults(func=cmd_worker)
    sub.add_parser("up", help="migrate, seed demo data, start Redis if needed, a worker and the web app").set_defaults(
        func=cmd_up
    )
    p = sub.add_parser("sweep", help="send again the jobs that never reached Redis or lost their worker (once)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweep)
    sub.add_parser("signing-key", help="print the public key that verifies certificate codes (PEM)").set_defaults(
        func=cmd_signing_key
    )
    p = sub.add_parser("import-roster", help="import a roster of poor households (CSV in UTF-8 or GB18030, or XLSX)")
    p.add_argument("path")
    p.add_argument("--dry-run", action="store_true", help="check and report, change nothing")
    p.add_argument("--strict", action="store_true", help="change nothing at all if any row is rejected")
    p.add_argument(
        "--complete",
        action="store_true",
        help="the roster is the whole register of its villages: households and members missing are removed",
    )
    p.add_argument("--report", help="write the row-level report to this file (.csv, or .xlsx)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")
    p.set_defaults(func=cmd_import_roster)
    p = sub.add_parser("enrol", help="enrol every eligible member of a county onto its group policy (idempotent)")
    p.add_argument("policy_no")
    p.add_argument("--on", help="enrolment date YYYY-MM-DD (default: today, Beijing time)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")
    p.set_defaults(func=cmd_enrol)
    users_parser = sub.add_parser("users", help="manage users")
    users_sub = users_parser.add_subparsers(dest="users_command", required=True)
    p = users_sub.add_parser("create", help="create a user (audited as system:cli)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r[2] for r in DEMO_USERS])
    p.add_argument("--name", help="display name, e.g. 花垣县扶贫办")
    p.add_argument("--county", help="county code (6 digits) for a county office")
    p.add_argument("--insurer", help="the insurer's unified social credit code, for insurer roles")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_users_create)
    p = users_sub.add_parser("list", help="list users")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_users_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    return int(args.func(settings, args) or 0)


if __name__ == "__main__":
    sys.exit(main())
