"""Redis, the RQ queue and the worker heartbeat that /healthz reads."""

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy.engine import Engine

from core.db import utcnow
from core.settings import Settings

log = logging.getLogger(__name__)

HEARTBEAT_PREFIX = "tehuibao:worker:"


def redis_from_url(url: str) -> Redis:
    # Short timeouts: a health check or a page must not hang on a dead Redis.
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def get_queue(connection: Redis, name: str) -> Queue:
    return Queue(name, connection=connection)


def enqueue(settings: Settings, func: str, *args: Any, job_id: str, timeout: timedelta) -> None:
    """Enqueues a job by its dotted name (the web never imports the jobs module); raises when Redis is away."""
    get_queue(redis_from_url(settings.redis_url), settings.queue_name).enqueue(
        func, *args, job_id=job_id, job_timeout=int(timeout.total_seconds())
    )


def try_enqueue(settings: Settings, func: str, *args: Any, job_id: str, timeout: timedelta) -> bool:
    """Enqueues after the commit; False when Redis is away (the row stays queued and the sweeper sends it later)."""
    try:
        enqueue(settings, func, *args, job_id=job_id, timeout=timeout)
    except Exception:  # noqa: BLE001 - any Redis failure: the database row is the record, nothing is lost
        return False
    return True


@dataclass(frozen=True)
class JobQueue:
    """What a route needs of the queue (the routes' QueueDep): send a job after the use case's commit, never failing
    the request when Redis is away, and read the progress a running job publishes."""

    settings: Settings

    def try_enqueue(self, func: str, *args: Any, job_id: str, timeout: timedelta) -> bool:
        return try_enqueue(self.settings, func, *args, job_id=job_id, timeout=timeout)

    def progress(self, key: str) -> dict[str, Any] | None:
        return read_json(self.settings.redis_url, key)


def enqueue_each(
    connection: Redis,
    queue_name: str,
    func: str,
    ids: list[int],
    *,
    job_id: Callable[[int], str],
    timeout: timedelta,
    chunk: int = 500,
) -> int:
    """One job per id, `chunk` jobs per Redis round trip (a cancelled county asks for tens of thousands of
    certificates); how many were sent, counted in whole chunks, when Redis goes away midway."""
    jobs = get_queue(connection, queue_name)
    sent = 0
    for start in range(0, len(ids), chunk):
        batch = [
            Queue.prepare_data(
                func,
                (row_id,),
                job_id=job_id(row_id),
                timeout=int(timeout.total_seconds()),
                result_ttl=3600,
                failure_ttl=7 * 86400,
            )
            for row_id in ids[start : start + chunk]
        ]
        try:
            jobs.enqueue_many(batch)
        except Exception:  # noqa: BLE001 - Redis away: the caller's rows not sent stay as they are
            log.warning("Redis unreachable: %d of %d jobs not sent", len(ids) - sent, len(ids))
            break
        sent += len(batch)
    return sent


def jobs_exist(connection: Redis, job_ids: list[str]) -> list[bool]:
    """Whether Redis still holds each job (one round trip for all)."""
    pipe = connection.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.exists(Job.key_for(job_id))
    return [bool(found) for found in pipe.execute()] if job_ids else []


def read_json(redis_url: str, key: str) -> dict[str, Any] | None:
    try:
        raw = redis_from_url(redis_url).get(key)
    except Exception:  # noqa: BLE001 - progress is a courtesy
        return None
    return json.loads(raw) if raw else None


def progress_publisher(redis_url: str, key: str) -> Callable[[dict[str, Any]], None]:
    """A function that stores a job's progress under `key`; a Redis hiccup is logged, never fatal to the job."""
    connection = redis_from_url(redis_url)

    def publish(progress: dict[str, Any]) -> None:
        try:
            connection.set(key, json.dumps(progress), ex=86400)
        except Exception:  # noqa: BLE001 - progress is a courtesy; the job must not fail for it
            log.warning("could not publish progress to %s", key)

    return publish


def claim(engine: Engine, table: sa.Table, row_id: int, *, ready: tuple[str, ...] = ("queued",), **values: Any) -> bool:
    """Moves a row of work (an import, an enrolment, a document: tables with id, status, started_at) from one of the
    `ready` statuses to running, committed, with any other `values`; False when another delivery of the job got
    there first (RQ may deliver a job twice: the row decides, not RQ)."""
    with engine.begin() as connection:
        result = connection.execute(
            table.update()
            .where(table.c.id == row_id, table.c.status.in_(ready))
            .values(status="running", started_at=utcnow(), **values)
        )
        return bool(result.rowcount)


def mark_failed(engine: Engine, table: sa.Table, row_id: int, message: str) -> None:
    """Records why a run of work stopped (its own transaction rolled back); a row already done stays done."""
    with engine.begin() as connection:
        connection.execute(
            table.update()
            .where(table.c.id == row_id, table.c.status != "done")
            .values(status="failed", finished_at=utcnow(), message=message[:1000])
        )


def sweep(engine: Engine, table: sa.Table, timeout: timedelta, message: str) -> list[int]:
    """The sweeper's part for one kind of work: a row still running well past the job timeout lost its worker and is
    marked failed (its transaction never committed); the ids of queued rows are returned to be enqueued again."""
    with engine.begin() as connection:
        connection.execute(
            table.update()
            .where(table.c.status == "running", table.c.started_at < utcnow() - timeout - timedelta(minutes=10))
            .values(status="failed", finished_at=utcnow(), message=message[:1000])
        )
        return list(connection.execute(sa.select(table.c.id).where(table.c.status == "queued")).scalars())


def worker_name() -> str:
    return f"{socket.gethostname()}.{os.getpid()}"


def publish_heartbeat(connection: Redis, name: str, ttl_seconds: int, **facts: Any) -> None:
    payload = {"name": name, "seen_at": time.time(), **facts}
    connection.set(HEARTBEAT_PREFIX + name, json.dumps(payload), ex=ttl_seconds)


def clear_heartbeat(connection: Redis, name: str) -> None:
    connection.delete(HEARTBEAT_PREFIX + name)


def read_heartbeats(connection: Redis) -> list[dict[str, Any]]:
    beats = []
    for key in connection.scan_iter(match=HEARTBEAT_PREFIX + "*", count=100):
        raw = connection.get(key)
        if raw:
            beats.append(json.loads(raw))
    return sorted(beats, key=lambda b: -b.get("seen_at", 0))
