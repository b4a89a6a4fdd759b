"""Enrolment through the web and a real RQ worker; with Redis away at the time, nothing is lost."""

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.settings import Settings
from main import create_app
from tests import infra
from tests.builders import bearer
from tests.cover_builders import make_enrollable_county, make_group_policy


def test_an_enrolment_queued_while_redis_was_down_is_enrolled_by_the_worker_sweeper(
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
) -> None:
    county = make_enrollable_county(session, engine, tmp_path, members=300, seed=9, all_eligible=True)
    policy = make_group_policy(session, county.handler, year=2027)

    dead_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{infra.free_port()}/0"})
    with TestClient(create_app(dead_redis, engine)) as client:
        response = client.post(f"/api/policies/{policy.policy_no}/enrolments", headers=bearer(client, "handler"))
    assert response.status_code == 202, response.text
    enrolment_id = response.json()["id"]
    assert response.json()["status"] == "queued"

    with infra.running_worker(settings, tmp_path / "worker.log"):

        def finished() -> bool:
            with engine.connect() as connection:
                status = connection.execute(
                    text("SELECT status FROM enrolment WHERE id = :id"), {"id": enrolment_id}
                ).scalar_one()
            return status in ("done", "failed")

        infra.wait_until(finished, 60, "the sweeper to enqueue and the worker to enrol")
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
