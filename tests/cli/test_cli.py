"""The `tehuibao` console script, run as a separate process against SQLite and PostgreSQL."""

import json

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.models import AuditLog, User
from insurance.register.models import Division
from tests.conftest import run_cli


def _counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Division)).one(),
            session.exec(select(func.count()).select_from(User)).one(),
            session.exec(select(func.count()).select_from(AuditLog)).one(),
        )


def test_migrate_is_repeatable(database_url: str, engine: Engine) -> None:
    result = run_cli("migrate", env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert "数据库已迁移到最新版本" in result.stdout


def test_seed_twice_changes_nothing(database_url: str, engine: Engine) -> None:
    first = run_cli("seed", "--demo", env={"DATABASE_URL": database_url})
    assert first.returncode == 0, first.stderr
    after_first = _counts(engine)
    second = run_cli("seed", "--demo", env={"DATABASE_URL": database_url})
    assert second.returncode == 0, second.stderr
    assert _counts(engine) == after_first
    report = json.loads(second.stdout.strip().splitlines()[-1])
    assert report["divisions"] == {"created": 0, "updated": 0, "unchanged": after_first[0]}
    assert report["demo_users_created"] == []


def test_seed_loads_the_real_hunan_divisions(database_url: str, engine: Engine) -> None:
    with Session(engine) as session:
        huayuan = session.get(Division, "433124000000")
        assert huayuan is not None and huayuan.name == "花垣县" and huayuan.parent_code == "433100000000"
        prefectures = session.exec(
            select(Division).where(Division.level == "prefecture", Division.valid_to.is_(None))  # type: ignore[union-attr]
        ).all()
        assert len(prefectures) == 14
        retired = session.get(Division, "430124000000")  # 宁乡县, a city since 2017
        assert retired is not None and retired.valid_to is not None


def test_seed_corrects_a_changed_division_and_audits_it(database_url: str, engine: Engine) -> None:
    with Session(engine) as session:
        division = session.get(Division, "433124000000")
        division.name = "花垣"
        session.add(division)
        session.commit()
    result = run_cli("seed", env={"DATABASE_URL": database_url})
    assert json.loads(result.stdout)["divisions"]["updated"] == 1
    with Session(engine) as session:
        assert session.get(Division, "433124000000").name == "花垣县"
        entry = session.exec(select(AuditLog).where(AuditLog.entity_id == "433124000000")).one()
        assert entry.before == {"name": "花垣"} and entry.after == {"name": "花垣县"}


def test_users_create_and_list_through_the_cli(database_url: str, engine: Engine) -> None:
    env = {"DATABASE_URL": database_url}
    created = run_cli(
        "users",
        "create",
        "fenghuang",
        "--role",
        "county_office",
        "--county",
        "433123",
        "--name",
        "凤凰县扶贫办",
        "--password-stdin",
        env=env,
        stdin="a-long-password\n",
    )
    assert created.returncode == 0, created.stderr
    listed = run_cli("users", "list", "--json", env=env)
    users = json.loads(listed.stdout)
    assert [(u["username"], u["county_code"]) for u in users] == [("fenghuang", "433123000000")]
    with Session(engine) as session:
        entry = session.exec(select(AuditLog).where(AuditLog.entity_type == "user")).one()
        assert entry.actor == "system:cli" and entry.action == "create"


def test_users_create_with_an_unknown_county_names_the_field_and_stores_nothing(
    database_url: str, engine: Engine
) -> None:
    result = run_cli(
        "users",
        "create",
        "nobody",
        "--role",
        "county_office",
        "--county",
        "439999",
        "--password-stdin",
        env={"DATABASE_URL": database_url},
        stdin="a-long-password\n",
    )
    assert result.returncode == 2
    assert "county_code" in result.stderr and "439999" in result.stderr
    assert _counts(engine)[1] == 0


def test_users_create_with_a_short_password_is_refused(database_url: str, engine: Engine) -> None:
    result = run_cli(
        "users",
        "create",
        "someone",
        "--role",
        "admin",
        "--password-stdin",
        env={"DATABASE_URL": database_url},
        stdin="short\n",
    )
    assert result.returncode == 2 and "password" in result.stderr
