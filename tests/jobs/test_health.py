"""/healthz with a real Redis and a real worker process: green when all answer, red when one is down."""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.queue import read_heartbeats, redis_from_url
from core.settings import Settings
from main import create_app
from tests import infra


@pytest.fixture
def own_redis() -> Iterator[infra.RedisServer]:
    """A Redis this test alone may stop."""
    server = infra.start_redis()
    yield server
    server.stop()


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    log_path = settings.var_dir / "worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {"REDIS_URL": settings.redis_url, "DATABASE_URL": settings.effective_database_url}
    return infra.start_worker_and_wait({**env, "WORKER_HEARTBEAT_SECONDS": "1"}, log_path, settings.redis_url)


_stop = infra.stop_process


@pytest.fixture
def health_settings(database_url: str, own_redis: infra.RedisServer, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, redis_url=own_redis.url, var_dir=tmp_path, _env_file=None)


def test_healthz_is_green_with_database_redis_and_a_worker_using_harfbuzz(
    health_settings: Settings, engine: Engine
) -> None:
    worker = _start_worker(health_settings)
    try:
        response = TestClient(create_app(health_settings, engine)).get("/healthz")
    finally:
        _stop(worker)
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert {name for name, check in checks.items() if check["ok"]} == {
        "database",
        "redis",
        "worker",
        "weasyprint_harfbuzz",
    }
    assert checks["database"]["backend"] == engine.dialect.name


def test_healthz_goes_red_when_redis_is_stopped(
    health_settings: Settings, engine: Engine, own_redis: infra.RedisServer
) -> None:
    worker = _start_worker(health_settings)
    client = TestClient(create_app(health_settings, engine))
    try:
        assert client.get("/healthz").status_code == 200
        own_redis.stop()
        response = client.get("/healthz")
    finally:
        _stop(worker)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["worker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_red_when_no_worker_has_been_seen(health_settings: Settings, engine: Engine) -> None:
    response = TestClient(create_app(health_settings, engine)).get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is True
    assert checks["worker"] == {"ok": False, "error": "no worker seen"}


def test_heartbeat_disappears_when_the_worker_stops(health_settings: Settings, engine: Engine) -> None:
    worker = _start_worker(health_settings)
    _stop(worker)
    assert worker.returncode == 0
    assert read_heartbeats(redis_from_url(health_settings.redis_url)) == []
