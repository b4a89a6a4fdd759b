"""Redis, the RQ queue and the worker heartbeat that /healthz reads."""

import json
import os
import socket
import time
from typing import Any

from redis import Redis
from rq import Queue

HEARTBEAT_PREFIX = "tehuibao:worker:"


def redis_from_url(url: str) -> Redis:
    # Short timeouts: a health check or a page must not hang on a dead Redis.
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def get_queue(connection: Redis, name: str) -> Queue:
    return Queue(name, connection=connection)


def try_enqueue(redis_url: str, queue_name: str, func: str, *args: Any, job_id: str, timeout: int = 3600) -> bool:
    """Enqueues after the commit; False when Redis is away (the row stays queued and the sweeper sends it later)."""
    try:
        get_queue(redis_from_url(redis_url), queue_name).enqueue(func, *args, job_id=job_id, job_timeout=timeout)
    except Exception:  # noqa: BLE001 - any Redis failure: the database row is the record, nothing is lost
        return False
    return True


def read_json(redis_url: str, key: str) -> dict[str, Any] | None:
    try:
        raw = redis_from_url(redis_url).get(key)
    except Exception:  # noqa: BLE001 - progress is a courtesy
        return None
    return json.loads(raw) if raw else None


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
