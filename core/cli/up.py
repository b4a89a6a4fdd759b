"""`tehuibao up`, what `make run` starts: migrations, demo data, a local Redis when none answers, a worker and
the web app."""

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from urllib.parse import urlparse

from core.cli.admin import DEMO_COUNTY, DEMO_USERS, _safe_url, cmd_migrate, seed
from core.settings import Settings

# --- `tehuibao up`: what `make run` starts ------------------------------------------------------------------


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
        raise SystemExit("REDIS_URL 无应答且未安装 redis-server")
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
            print(f"已启动本地 redis-server：{settings.redis_url}")
            return process
        time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"redis-server 未能启动：{settings.redis_url}")


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
    return f"{outcome.counts.accepted} 名成员、{outcome.counts.households} 户"


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
    print(f"基础数据: {json.dumps(result, ensure_ascii=False)}")
    demo = load_demo_roster(settings)
    if demo:
        print(f"已导入演示花名册: {demo}")
    cover = load_demo_cover(settings)
    if cover:
        print(f"演示团体保单: {cover}")
    children: list[subprocess.Popen[bytes]] = []
    if not _redis_answers(settings.redis_url):
        redis_process = _start_local_redis(settings)
        if redis_process is None:
            raise SystemExit(f"REDIS_URL 无应答：{_safe_url(settings.redis_url)}")
        children.append(redis_process)
    children.append(subprocess.Popen([sys.executable, "-m", "worker"]))
    url = f"http://{settings.host}:{settings.port}"
    print("\n扶贫特惠保 正在启动: " + url)
    print(f"演示账号, 密码 = {settings.demo_password!r}:")
    for username, display_name, role, scope in DEMO_USERS:
        print(f"  {username:<16} {display_name}（{role}{', ' + scope if scope and scope != 'insurer' else ''}）")
    print("按 Ctrl-C 停止\n", flush=True)
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
