"""What /healthz reports: the database, Redis, a worker seen recently, and the worker's PDF font path."""

import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.queue import read_heartbeats, redis_from_url


def check_health(engine: Engine, redis_url: str, stale_seconds: int) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "backend": engine.dialect.name}
    except Exception as exc:  # noqa: BLE001 - any failure means "down", and says why
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    beats: list[dict[str, Any]] = []
    try:
        connection = redis_from_url(redis_url)
        connection.ping()
        beats = read_heartbeats(connection)
        checks["redis"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    now = time.time()
    fresh = [b for b in beats if now - b.get("seen_at", 0) <= stale_seconds]
    if fresh:
        checks["worker"] = {"ok": True, "workers": len(fresh), "last_seen_seconds": round(now - fresh[0]["seen_at"], 1)}
    else:
        checks["worker"] = {"ok": False, "error": "no worker seen" if checks["redis"]["ok"] else "redis down"}
    # Only the worker imports WeasyPrint; it checks the HarfBuzz subsetting path and reports it here.
    subsetting = [b.get("harfbuzz_subset") for b in fresh]
    checks["weasyprint_harfbuzz"] = {
        "ok": bool(subsetting) and all(subsetting),
        **({} if subsetting else {"error": "no worker to report it"}),
    }
    return all(c["ok"] for c in checks.values()), checks
