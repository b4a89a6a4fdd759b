"""Administration commands: migrate, seed, serve, worker, users, sweep, signing-key."""

import argparse
import getpass
import json
import sys
from urllib.parse import urlparse

from core.settings import Settings

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
    print(f"数据库已迁移到最新版本: {_safe_url(settings.effective_database_url)}")
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
        raise SystemExit("没有终端：请用 --password-stdin 从标准输入提供密码")
    first = getpass.getpass("密码: ")
    if first != getpass.getpass("再输入一次: "):
        raise SystemExit("两次输入的密码不一致")
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
                print(f"错误 insurer: 没有统一社会信用代码为 {args.insurer} 的保险公司", file=sys.stderr)
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
        print(f"已创建用户 {user.username} [{user.role}] id={user.id}")
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
    print(f"共 {count} 个用户")
    return 0


def _safe_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


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
    print(json.dumps(summary, ensure_ascii=False) if args.json else f"已重新入队: {summary}")
    return 0


def cmd_signing_key(settings: Settings, _args: argparse.Namespace) -> int:
    """Prints the public key third parties verify certificate codes with (docs/verification.md)."""
    from core import verification

    print(verification.public_key_pem(settings), end="")
    return 0
