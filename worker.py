"""The RQ worker: pre-imports WeasyPrint, warms the fonts, refuses to start without HarfBuzz subsetting.

Run as `python worker.py` or `tehuibao worker`.
"""

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable

from rq import SimpleWorker

import claims.wiring  # noqa: F401 - claims' labels and tables
import insurance.wiring  # noqa: F401 - the coverage kinds of document, cover listening to the register
from claims import jobs as claims_jobs
from core import documents as core_documents
from core.masking import configure_logging
from core.queue import clear_heartbeat, get_queue, publish_heartbeat, redis_from_url, worker_name
from core.settings import Settings, get_settings
from insurance.cover import jobs as cover_jobs
from insurance.register import jobs as register_jobs

log = logging.getLogger("tehuibao.worker")


class _Worker(SimpleWorker):
    """Announces itself (heartbeat, sweeper) only once RQ handles SIGTERM, so a stop is always a clean one."""

    on_ready: "Callable[[], None] | None" = None

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        if self.on_ready is not None:
            ready, self.on_ready = self.on_ready, None
            ready()


def _sweep(settings: Settings) -> None:
    swept = register_jobs.enqueue_queued_imports()
    if swept:
        log.info("sweeper: enqueued %d queued roster imports", swept)
    swept = claims_jobs.enqueue_queued_settlement_imports()
    if swept:
        log.info("sweeper: enqueued %d queued settlement imports", swept)
    swept = cover_jobs.enqueue_queued_enrolments()
    if swept:
        log.info("sweeper: enqueued %d queued enrolments", swept)
    documents = core_documents.sweep(settings)
    if any(documents.values()):
        log.info("sweeper: documents %s", documents)


def _heartbeat_loop(settings: Settings, name: str, stop: threading.Event, facts: dict[str, object]) -> None:
    """Now and then sweeps (work recorded in the database while Redis was away is enqueued again), and beats. The
    sweep comes first, so the first heartbeat says the worker is ready and its first sweep is over: a sweep holds
    SQLite's write lock for a moment, and whoever waits for the heartbeat must not meet it."""
    connection = redis_from_url(settings.redis_url)
    next_sweep = 0.0
    while not stop.is_set():
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + settings.sweep_seconds
            try:
                _sweep(settings)
            except Exception:  # noqa: BLE001 - Redis or the database may be away for a while; keep going
                log.warning("sweep: Redis or the database unreachable")
        try:
            publish_heartbeat(connection, name, settings.worker_stale_seconds, **facts)
        except Exception:  # noqa: BLE001 - Redis may be away for a while; keep going
            log.warning("heartbeat: Redis unreachable")
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

    connection = redis_from_url(settings.redis_url)
    name = worker_name()
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat_loop, args=(settings, name, stop, {"harfbuzz_subset": True}), daemon=True)
    # SimpleWorker, on purpose: jobs run in this warm process. bench/certificates.py measured RQ's forking Worker
    # at 0.63-0.96 of SimpleWorker's pages/s on single certificates (each child starts with cold WeasyPrint caches;
    # equal on 300-household booklets, where one job is long). Forking also hung a first job in 2 of 5 runs (a
    # child forked while the heartbeat thread held an import lock), and a child's host.pid is not the name this
    # worker's heartbeat publishes, so the sweeper would take its running documents for lost. A job that crashes
    # the process takes the worker with it (in production a process manager restarts it; the sweeper of any worker
    # then re-sends its document).
    worker = _Worker([get_queue(connection, settings.queue_name)], connection=connection, name=name)
    worker.on_ready = beat.start
    log.info("worker %s listening on queue %r at %s", name, settings.queue_name, settings.redis_url)
    try:
        worker.work(with_scheduler=True, logging_level=settings.log_level.upper())
    finally:
        stop.set()
        if beat.ident is not None:  # a beat in flight must not land after the key is cleared
            beat.join(timeout=10)
        with contextlib.suppress(Exception):  # best effort on the way out; the key expires anyway
            clear_heartbeat(connection, name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
