"""Enrolment through the web and a real RQ worker; with Redis away at the time, nothing is lost."""

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.audit import Actor
from core.models import Role
from core.queue import get_queue, redis_from_url
from core.settings import Settings
from insurance import policies
from insurance.roster_generator import generate_rows, write_csv
from insurance.schemas import GroupPolicyCreate
from main import create_app
from tests import infra
from tests.builders import bearer, make_insurer, make_user
from tests.imports.builders import import_file


def test_an_enrolment_queued_while_redis_was_down_is_enrolled_by_the_worker_sweeper(
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
) -> None:
    policies.seed_products(session, Actor.system("test"))
    insurer = make_insurer(session)
    policies.ensure_offers(session, Actor.system("test"), insurer, ["th_family"])
    handler = make_user(session, Role.insurer_handler, username="handler", insurer=insurer)
    roster = tmp_path / "r.csv"
    write_csv(roster, generate_rows(300, seed=9, counties=["433124"]))
    import_file(engine, roster)
    with engine.begin() as connection:
        connection.execute(text("UPDATE household SET exit_year = NULL"))
    policy = policies.create_group_policy(session, handler, GroupPolicyCreate(county_code="433124", year=2027))

    dead_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{infra.free_port()}/0"})
    with TestClient(create_app(dead_redis, engine)) as client:
        response = client.post(f"/api/policies/{policy.policy_no}/enrolments", headers=bearer(client, "handler"))
    assert response.status_code == 202, response.text
    enrolment_id = response.json()["id"]
    assert response.json()["status"] == "queued"

    get_queue(redis_from_url(settings.redis_url), settings.queue_name).empty()
    env = {
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": settings.redis_url,
        "VAR_DIR": str(settings.var_dir),
        "QUEUE_NAME": settings.queue_name,
    }
    worker: subprocess.Popen[bytes] = infra.start_worker_and_wait(env, tmp_path / "worker.log", settings.redis_url)
    try:

        def finished() -> bool:
            with engine.connect() as connection:
                status = connection.execute(
                    text("SELECT status FROM enrolment WHERE id = :id"), {"id": enrolment_id}
                ).scalar_one()
            return status in ("done", "failed")

        infra.wait_until(finished, 60, "the sweeper to enqueue and the worker to enrol")
    finally:
        infra.stop_process(worker)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, added, message FROM enrolment WHERE id = :id"), {"id": enrolment_id}
        ).one()
        covered = connection.execute(
            text("SELECT COUNT(*) FROM coverage WHERE policy_id = :p"), {"p": policy.id}
        ).scalar_one()
        active = connection.execute(text("SELECT COUNT(*) FROM member WHERE status = 'active'")).scalar_one()
    assert row.status == "done", (row.message, (tmp_path / "worker.log").read_text())
    assert row.added == covered == active
