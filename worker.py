"""The RQ worker: pre-imports WeasyPrint, warms the fonts, refuses to start without HarfBuzz subsetting.

Run as `python worker.py` or `tehuibao worker`.
"""

import contextlib
import logging
import signal
import sys
import threading

from rq import SimpleWorker

from core.masking import configure_logging
from core.queue import clear_heartbeat, get_queue, publish_heartbeat, redis_from_url, worker_name
from core.settings import Settings, get_settings

log = logging.getLogger("tehuibao.worker")


def _heartbeat_loop(settings: Settings, name: str, stop: threading.Event, facts: dict[str, object]) -> None:
    connection = redis_from_url(settings.redis_url)
    while not stop.is_set():
        try:
            publish_heartbeat(connection, name, settings.worker_stale_seconds, **facts)
        except Exception:  # noqa: BLE001 - Redis may be away for a while; keep beating when it returns
            log.warning("heartbeat: Redis unreachable at %s", settings.redis_url)
        stop.wait(settings.worker_heartbeat_seconds)


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    configure_logging(settings.log_level)
    from core import pdf  # the pre-import: WeasyPrint and its fonts load once, before any job

    problems = pdf.readiness_problems()
    if problems:
        for problem in problems:
            print(f"worker 无法启动 (cannot start): {problem}", file=sys.stderr)
        return 3
    warnings = pdf.warm_up()
    if warnings:
        print(f"worker 无法启动 (cannot start): {'; '.join(warnings)}", file=sys.stderr)
        return 3

    # Until RQ installs its own handlers (warm shutdown), a SIGTERM still leaves through `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    connection = redis_from_url(settings.redis_url)
    name = worker_name()
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat_loop, args=(settings, name, stop, {"harfbuzz_subset": True}), daemon=True)
    beat.start()
    # SimpleWorker runs jobs in this process: the forking Worker's children lose WeasyPrint's warm font
    # caches, and a certificate job measured about half as long here (architecture.md); the certificates
    # benchmark re-measures this choice.
    worker = SimpleWorker([get_queue(connection, settings.queue_name)], connection=connection, name=name)
    log.info("worker %s listening on queue %r at %s", name, settings.queue_name, settings.redis_url)
    try:
        worker.work(with_scheduler=True, logging_level=settings.log_level.upper())
    finally:
        stop.set()
        with contextlib.suppress(Exception):  # best effort on the way out; the key expires anyway
            clear_heartbeat(connection, name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
