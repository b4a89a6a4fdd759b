"""Certificates: pages per second through the real worker path against bare WeasyPrint on the same HTML, in one run.

    python bench/certificates.py [--households N] [--booklet-households B] [--worker-class simple|fork|both]
                                 [--repeat R] [--night-hours H]

Uses the PostgreSQL at DATABASE_URL when given (it must be an empty database), else a throwaway database on the
server the tests would use (a private one it starts, fsync off; the local one with TEST_POSTGRES=local); the Redis
at REDIS_URL when given (on a queue of its own), else a private redis-server started for the run. Prints figures;
the last line is one JSON object.

Set-up (not timed), through the real services: the divisions, the product catalogue, an insurer offering it with its
users (the test builders' cast), a generated Huayuan register with every household eligible (no exit year), the
first B households moved into one village (household numbers renumbered under its code, as the importer requires),
imported by the real importer; a 2026 family group policy, the county enrolled, a notice posted in every village and
the policy issued after the objection window. The outbox rows the issue and the notices wrote are dropped: the bench
asks for its own documents, exactly as the services do (`outbox.request_certificates`, then
`outbox.request_booklets` for a booklet).

Timed, for each worker class asked (`simple`: the project's `worker.py` as it is, RQ's SimpleWorker; `fork`: the same
`worker.py` with RQ's forking Worker put in its place, after one sweep in its main thread: see FORK_LAUNCHER), one
real worker process on its own, started and warmed (its own warm-up, then one certificate job, untimed), its sweeper
held off (SWEEP_SECONDS) so that the bench alone dispatches:

- singles: N household certificates without a booklet (as a death or a mid-year enrolment asks for them), each a new
  version, from `documents.dispatch` until the last one is done (its processed_at); pages/s = pages / seconds;
- booklet: one village booklet of the B households (cover, B certificates, sign-off sheet), each certificate a new
  version, from dispatch until done.

Before each worker run the certificates are deleted, so every run makes the same new versions. And bare WeasyPrint
on the same HTML, in a process of its own that imports nothing else (`HTML(string=...).render()`, `write_pdf()`,
after one warm-up render), rendering one after the other each single certificate's HTML
(`printing.certificate_html` of the stored version) and the booklet's (`documents.prepare` of the booklet's
request: the very document the worker printed). ratio_to_bare = worker pages/s / bare pages/s. With --repeat R
there are R rounds, the sides in a rotating order (the machine may be shared), and medians are reported; the
headline figures are the SimpleWorker's (the project's) when it was measured.

From the figures: how many workers print a province (1.5 million households) in one night, by village booklets and
by single certificates (a certificate is one page; one worker is one process, busy on about one core).
"""

import argparse
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

import insurance.wiring  # noqa: F401 - the coverage kinds of document, cover listening to the register
from bench.common import database_url
from core import documents, signing
from core.audit import Actor
from core.db import local_today, make_engine, new_session
from core.documents import DocumentRequest
from core.migrate import upgrade
from core.queue import get_queue, read_heartbeats, redis_from_url
from core.settings import Settings
from insurance.certificates import printing
from insurance.certificates.models import Certificate
from insurance.cover import outbox
from insurance.cover.outbox import DocumentKind
from insurance.demo.roster import generate_rows
from insurance.register import service as register_service
from insurance.register.models import Household

PROVINCE_HOUSEHOLDS = 1_500_000
SEED = 2026
QUEUE = "tehuibao-bench-certificates"
SINGLE_REASON = "bench_single"
BOOKLET_REASON = "bench_booklet"
WARM_REASON = "bench_warm_up"
MEMBERS_PER_HOUSEHOLD = 3.3  # a little above the generator's mean (about 2.95), so the register is large enough
CLASSES = {"simple": ("simple",), "fork": ("fork",), "both": ("simple", "fork")}

# `worker.py` unchanged but for its worker class: RQ's forking Worker, announcing itself as the project's does. One
# thing more: fork() while another thread is importing a module leaves the child waiting for ever on that module's
# import lock, and worker.py's heartbeat thread makes its first sweep (lazy imports, the first database connection)
# just as the first job is forked; seen here as a first job that never ends. So one sweep is made first, in the only
# thread, and the thread's sweeps import nothing new.
FORK_LAUNCHER = """
import sys
from rq import Worker
import worker
from core.settings import get_settings
from insurance.cover import jobs as cover_jobs
from insurance.register import jobs as register_jobs
from insurance.certificates import pipeline

register_jobs.enqueue_queued_imports()
cover_jobs.enqueue_queued_enrolments()
pipeline.sweep(get_settings())

class _ForkingWorker(Worker):
    on_ready = None

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        if self.on_ready is not None:
            ready, self.on_ready = self.on_ready, None
            ready()

worker._Worker = _ForkingWorker
sys.exit(worker.main([]))
"""

# Household number, township, village and village code positions in a generated roster row (COLUMNS order).
HOUSEHOLD_NO, VILLAGE_CODE, TOWNSHIP, VILLAGE, EXIT_YEAR = 0, 7, 9, 10, 14


def _say(text: str) -> None:
    print(text, flush=True)


# --- set-up -----------------------------------------------------------------------------------------------------------


def _register_rows(households: int, booklet: int) -> tuple[list[tuple[str, ...]], str]:
    """Generated Huayuan rows for at least `households` households, all eligible (no exit year), the first `booklet`
    of them in one village (renumbered under its code, in their order); returns the rows and that village's code."""
    from tests.cover_builders import HUAYUAN, reopen_row

    members = int(households * MEMBERS_PER_HOUSEHOLD) + 50
    while True:
        rows = [reopen_row(r) for r in generate_rows(members, seed=SEED, counties=[HUAYUAN])]
        order = list(dict.fromkeys(r[HOUSEHOLD_NO] for r in rows))
        if len(order) >= households:
            break
        members = int(members * 1.2)
    first = rows[0]
    village = first[VILLAGE_CODE]
    renumbered = {no: f"{village}{index + 1:04d}" for index, no in enumerate(order[:booklet])}
    own = len({r[HOUSEHOLD_NO] for r in rows if r[VILLAGE_CODE] == village})
    if own > booklet:
        raise SystemExit(f"--booklet-households must be at least {own}, the households village {village} has already")
    moved = [
        (renumbered[r[HOUSEHOLD_NO]], *r[1:VILLAGE_CODE], village, r[8], first[TOWNSHIP], first[VILLAGE], *r[11:])
        if r[HOUSEHOLD_NO] in renumbered
        else r
        for r in rows
    ]
    return moved, village


@dataclass
class Programme:
    policy_id: int
    policy_no: str
    village: str  # the booklet's village
    booklet_households: list[int]  # its households' ids
    singles: list[int]  # households elsewhere, certified one by one
    warm_up: int  # the household of each worker's untimed first job
    households: int
    members: int


def _set_up(engine: Engine, workdir: Path, singles: int, booklet: int) -> Programme:
    from tests.cover_builders import REGISTERED, enrol, import_register, issue, make_cast, make_group_policy

    with new_session(engine) as session:
        register_service.seed_divisions(session, Actor.system("bench"))
        cast = make_cast(session)
        rows, village = _register_rows(booklet + singles + 1, booklet)
        register = import_register(engine, workdir, rows, registered=REGISTERED)
        policy = make_group_policy(session, cast.handler)
        enrol(session, policy)
        issue(session, cast, policy)
        with engine.begin() as connection:  # the documents the issue and the notices asked for: the bench asks its own
            connection.execute(sa.text("DELETE FROM document_request WHERE parent_id IS NOT NULL"))
            connection.execute(sa.text("DELETE FROM document_request"))
            covered = [
                (r.id, r.village_code)
                for r in connection.execute(
                    sa.text(
                        "SELECT DISTINCT h.id, h.village_code, h.household_no FROM household h "
                        "JOIN member m ON m.household_id = h.id JOIN coverage c ON c.member_id = m.id "
                        "WHERE c.policy_id = :p ORDER BY h.household_no"
                    ),
                    {"p": policy.id},
                )
            ]
            members = connection.execute(sa.text("SELECT COUNT(*) FROM coverage")).scalar_one()
        in_village = [h for h, v in covered if v == village]
        elsewhere = [h for h, v in covered if v != village]
        if len(in_village) != booklet or len(elsewhere) < singles + 1:
            raise SystemExit(
                f"register too small: {len(in_village)} covered households in {village} (want {booklet}), "
                f"{len(elsewhere)} elsewhere (want {singles + 1})"
            )
        assert register.outcome is not None
        return Programme(
            policy_id=policy.id or 0,
            policy_no=policy.policy_no,
            village=village,
            booklet_households=in_village,
            singles=elsewhere[:singles],
            warm_up=elsewhere[singles],
            households=len(covered),
            members=members,
        )


def _request(engine: Engine, programme: Programme, households: Sequence[int], reason: str, *, booklet: bool) -> None:
    """Outbox rows as the services write them: one certificate per household, and the village's booklet if asked."""
    household = Household.__table__
    with engine.begin() as connection:
        outbox.request_certificates(  # the services' own writer of these rows
            connection,
            sa.select(household.c.id).where(household.c.id.in_(list(households))),
            programme.policy_id,
            reason,
        )
        if booklet:
            outbox.request_booklets(connection, programme.policy_id, reason)


def _forget_certificates(engine: Engine) -> None:
    """The versions a run made are deleted, so the next run makes the same new versions again."""
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM certificate"))


# --- the worker -------------------------------------------------------------------------------------------------------


def _start_worker(kind: str, env: dict[str, str], log_path: Path, redis_url: str) -> subprocess.Popen[bytes]:
    """A real worker of the class asked, ready once its own heartbeat (host.pid) is in Redis."""
    from tests import infra

    if kind == "simple":
        return infra.start_worker_and_wait(env, log_path, redis_url)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", FORK_LAUNCHER],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    name = f"{socket.gethostname()}.{process.pid}"
    redis = redis_from_url(redis_url)

    def beating() -> bool:
        if process.poll() is not None:
            raise SystemExit(f"worker exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        return any(beat.get("name") == name for beat in read_heartbeats(redis))

    try:
        infra.wait_until(beating, 60, "the worker's heartbeat")
    except BaseException:
        infra.stop_process(process)
        raise
    return process


def _wait_done(engine: Engine, reason: str, kind: DocumentKind, expected: int, timeout: float) -> list[Any]:
    """The finished rows of one batch, once every one is done; a failure stops the bench with its error."""
    query = sa.text(
        "SELECT id, status, pages, processed_at, error FROM document_request "
        "WHERE reason = :reason AND kind = :kind AND parent_id IS NULL"
    )
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as connection:
            rows = list(connection.execute(query, {"reason": reason, "kind": kind.value}))
        failed = [r for r in rows if r.status == "failed"]
        if failed:
            raise SystemExit(f"{len(failed)} {kind.value} jobs failed, e.g. {failed[0].error}")
        if len(rows) == expected and all(r.status == "done" for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {expected} {kind.value} documents ({reason})")
        time.sleep(0.05)


def _through_worker(
    engine: Engine, settings: Settings, reason: str, kind: DocumentKind, expected: int, pages_expected: int
) -> tuple[float, int]:
    """(seconds from dispatch until the last of the `expected` jobs is done, pages); `pages_expected` bounds the
    wait."""
    started = datetime.now(UTC)
    sent = documents.dispatch(engine, settings)
    if sent != expected:
        raise SystemExit(f"dispatch sent {sent} jobs, expected {expected}")
    rows = _wait_done(engine, reason, kind, expected, timeout=max(600.0, pages_expected * 10.0))
    finished = max(r.processed_at for r in rows)
    if finished.tzinfo is None:
        finished = finished.replace(tzinfo=UTC)
    if any(not r.pages for r in rows):
        raise SystemExit(f"a {kind.value} job printed nothing: {[r.error for r in rows if not r.pages][:3]}")
    return (finished - started).total_seconds(), sum(r.pages for r in rows)


@dataclass
class RenderRun:
    """One side's figures: a worker's, or bare WeasyPrint's on the same documents."""

    single_seconds: float
    single_pages: int
    booklet_seconds: float
    booklet_pages: int

    @property
    def pages_per_s(self) -> float:
        return self.single_pages / self.single_seconds


def run_worker(
    kind: str, engine: Engine, settings: Settings, programme: Programme, workdir: Path, tag: str
) -> RenderRun:
    """One worker of the class asked, started and warmed, then the singles and the booklet through it; stopped."""
    from tests import infra

    env = {
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": settings.redis_url,
        "VAR_DIR": str(settings.var_dir),
        "QUEUE_NAME": settings.queue_name,
        "SWEEP_SECONDS": "86400",  # the sweeper enqueues what is due too: held off, so the bench alone dispatches
    }
    _forget_certificates(engine)
    log_path = workdir / f"worker-{tag}.log"
    process = _start_worker(kind, env, log_path, settings.redis_url)
    try:
        warm = f"{WARM_REASON}_{tag}"
        _request(engine, programme, [programme.warm_up], warm, booklet=False)
        _through_worker(engine, settings, warm, DocumentKind.household_certificate, 1, 1)

        single = f"{SINGLE_REASON}_{tag}"
        _request(engine, programme, programme.singles, single, booklet=False)
        single_seconds, single_pages = _through_worker(
            engine, settings, single, DocumentKind.household_certificate, len(programme.singles), len(programme.singles)
        )
        booklet = f"{BOOKLET_REASON}_{tag}"
        _request(engine, programme, programme.booklet_households, booklet, booklet=True)
        booklet_seconds, booklet_pages = _through_worker(
            engine, settings, booklet, DocumentKind.village_booklet, 1, len(programme.booklet_households)
        )
    except SystemExit as exc:  # a failed or lost job: what the worker said is the first thing to read
        raise SystemExit(f"{exc}\n--- the {kind} worker's log, last lines:\n{log_path.read_text()[-3000:]}") from None
    finally:
        infra.stop_process(process)
    run = RenderRun(single_seconds, single_pages, booklet_seconds, booklet_pages)
    _say(
        f"  {kind} worker: {len(programme.singles)} single certificates, {single_pages} pages in "
        f"{single_seconds:.2f} s: {run.pages_per_s:.2f} pages/s; booklet of {len(programme.booklet_households)} "
        f"households, {booklet_pages} pages in {booklet_seconds:.2f} s ({booklet_pages / booklet_seconds:.2f} pages/s)"
    )
    return run


# --- bare WeasyPrint --------------------------------------------------------------------------------------------------

# A process of its own that imports WeasyPrint and nothing else: the floor, without this bench's heap around it.
BARE_SCRIPT = """
import json, sys, time
from pathlib import Path
import weasyprint

folder = Path(sys.argv[1])
singles = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("single-*.html"))]
booklet = (folder / "booklet.html").read_text(encoding="utf-8")

def render(html):
    document = weasyprint.HTML(string=html).render()
    document.write_pdf()
    return len(document.pages)

render(singles[0])  # the warm-up: fonts and caches loaded, as the worker's own warm-up and first job do
started = time.perf_counter()
pages = sum(render(html) for html in singles)
seconds = time.perf_counter() - started
started = time.perf_counter()
booklet_pages = render(booklet)
booklet_seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "pages": pages, "booklet_seconds": booklet_seconds,
                  "booklet_pages": booklet_pages}))
"""


def write_documents(engine: Engine, settings: Settings, programme: Programme, folder: Path) -> None:
    """The HTML the last worker run printed, one file each: every single certificate's (from its stored version)
    and the booklet's (`documents.prepare` of its request: the very document the worker rendered)."""
    folder.mkdir(parents=True, exist_ok=True)
    with new_session(engine) as session:
        singles = session.exec(
            select(Certificate)
            .where(col(Certificate.household_id).in_(programme.singles))
            .order_by(col(Certificate.id))
        ).all()
        if len(singles) != len(programme.singles):
            raise SystemExit(f"{len(singles)} single certificates stored, expected {len(programme.singles)}")
        for index, certificate in enumerate(singles):
            html = printing.certificate_html(settings, certificate)
            (folder / f"single-{index:05d}.html").write_text(html, encoding="utf-8")
        request = session.exec(
            select(DocumentRequest)
            .where(DocumentRequest.kind == DocumentKind.village_booklet.value)
            .order_by(col(DocumentRequest.id).desc())
        ).first()
        assert request is not None and request.id is not None
        key = signing.key_at(settings.effective_signing_key_file)
        printable = documents.prepare(session, settings, key, request.id, local_today())
        session.rollback()  # prepare only reads; nothing of it is kept
        assert printable.html is not None
        (folder / "booklet.html").write_text(printable.html, encoding="utf-8")


def run_bare(folder: Path) -> RenderRun:
    done = subprocess.run(
        [sys.executable, "-c", BARE_SCRIPT, str(folder)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bare WeasyPrint failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run = RenderRun(result["seconds"], result["pages"], result["booklet_seconds"], result["booklet_pages"])
    _say(
        f"  bare WeasyPrint: {run.single_pages} certificates, {run.single_pages} pages in {run.single_seconds:.2f} s: "
        f"{run.pages_per_s:.2f} pages/s; booklet {run.booklet_pages} pages in {run.booklet_seconds:.2f} s"
    )
    return run


# --- main -------------------------------------------------------------------------------------------------------------


def workers_needed(households_per_s: float, night_hours: float) -> int:
    return math.ceil(PROVINCE_HOUSEHOLDS / (households_per_s * night_hours * 3600))


def _redis_url(stack: ExitStack) -> str:
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    from tests import infra

    server = infra.start_redis()
    stack.callback(shutil.rmtree, server.workdir, True)
    stack.callback(server.stop)
    return server.url


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--households", type=int, default=200, help="single certificates per run")
    parser.add_argument("--booklet-households", type=int, default=300, help="households in the village booklet")
    parser.add_argument("--worker-class", choices=sorted(CLASSES), default="both")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, each side in a rotating order; medians")
    parser.add_argument("--night-hours", type=float, default=10.0, help="the night the province is printed in")
    args = parser.parse_args()
    kinds = CLASSES[args.worker_class]
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tehuibao-bench-")))
        url = database_url(stack)
        redis_url = _redis_url(stack)
        settings = Settings(
            database_url=url, redis_url=redis_url, var_dir=workdir / "var", queue_name=QUEUE, _env_file=None
        )
        get_queue(redis_from_url(redis_url), QUEUE).empty()
        started = time.perf_counter()
        upgrade(url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        programme = _set_up(engine, workdir, args.households, args.booklet_households)
        _say(
            f"set-up: {programme.households:,} households ({programme.members:,} members) enrolled on "
            f"{programme.policy_no} and issued; booklet village {programme.village} with "
            f"{len(programme.booklet_households)} households; {len(programme.singles)} single certificates "
            f"({time.perf_counter() - started:.1f} s); load average {os.getloadavg()[0]:.2f}"
        )

        runs: dict[str, list[RenderRun]] = {kind: [] for kind in kinds}
        bares: list[RenderRun] = []
        documents = workdir / "html"
        sides = [*kinds, "bare"]
        for round_no in range(args.repeat):
            order = sides[round_no % len(sides) :] + sides[: round_no % len(sides)]
            _say(f"round {round_no + 1}: {' then '.join(order)}")
            for side in order:
                if side == "bare":
                    bares.append(run_bare(documents))
                    continue
                runs[side].append(run_worker(side, engine, settings, programme, workdir, f"{side}_{round_no}"))
                if not documents.exists():
                    write_documents(engine, settings, programme, documents)

        bare_pages_per_s = statistics.median([b.pages_per_s for b in bares])
        bare_booklet_seconds = statistics.median([b.booklet_seconds for b in bares])
        medians = {
            kind: (
                statistics.median([r.pages_per_s for r in found]),
                statistics.median([r.booklet_seconds for r in found]),
            )
            for kind, found in runs.items()
        }
        main_kind = "simple" if "simple" in runs else kinds[0]
        pages_per_s, booklet_seconds = medians[main_kind]
        booklet_pages = runs[main_kind][-1].booklet_pages
        if booklet_pages != bares[-1].booklet_pages:
            raise SystemExit(f"booklet pages differ: worker {booklet_pages}, bare {bares[-1].booklet_pages}")
        booklets_per_s = len(programme.booklet_households) / booklet_seconds  # households a second
        figures: dict[str, Any] = {
            "households": len(programme.singles),
            "booklet_households": len(programme.booklet_households),
            "worker_class": main_kind,
            "pages_per_s": round(pages_per_s, 2),
            "bare_pages_per_s": round(bare_pages_per_s, 2),
            "ratio_to_bare": round(pages_per_s / bare_pages_per_s, 3),
            "booklet_seconds": round(booklet_seconds, 2),
            "booklet_pages": booklet_pages,
            "bare_booklet_seconds": round(bare_booklet_seconds, 2),
            "booklet_ratio_to_bare": round(bare_booklet_seconds / booklet_seconds, 3),
        }
        for kind, (rate, seconds) in medians.items():
            figures[f"{kind}_pages_per_s"] = round(rate, 2)
            figures[f"{kind}_ratio_to_bare"] = round(rate / bare_pages_per_s, 3)
            figures[f"{kind}_booklet_seconds"] = round(seconds, 2)
        if "simple" in medians and "fork" in medians:
            figures["fork_to_simple"] = round(medians["fork"][0] / medians["simple"][0], 3)
            figures["fork_to_simple_booklet"] = round(medians["simple"][1] / medians["fork"][1], 3)
        figures["night_hours"] = args.night_hours
        figures["province_households"] = PROVINCE_HOUSEHOLDS
        figures["workers_province_booklets"] = workers_needed(booklets_per_s, args.night_hours)
        figures["workers_province_singles"] = workers_needed(pages_per_s, args.night_hours)
        figures["runs"] = args.repeat
        figures["load_average"] = round(os.getloadavg()[0], 2)

        medians_of = "medians of " if args.repeat > 1 else ""
        for kind, (rate, seconds) in medians.items():
            _say(
                f"{kind} worker ({medians_of}{args.repeat} run(s)): {rate:.2f} pages/s on single certificates "
                f"({rate / bare_pages_per_s:.2f} of bare WeasyPrint's {bare_pages_per_s:.2f}); booklet {seconds:.2f} s "
                f"({bare_booklet_seconds / seconds:.2f} of bare's {bare_booklet_seconds:.2f} s)"
            )
        if "fork_to_simple" in figures:
            _say(
                f"forking Worker / SimpleWorker: {figures['fork_to_simple']:.2f} on single certificates, "
                f"{figures['fork_to_simple_booklet']:.2f} on the booklet"
            )
        _say(
            f"province ({PROVINCE_HOUSEHOLDS:,} households in {args.night_hours:g} h) with the {main_kind} worker: "
            f"{figures['workers_province_booklets']} workers printing village booklets "
            f"({booklets_per_s:.2f} households/s each), {figures['workers_province_singles']} printing single "
            f"certificates ({pages_per_s:.2f}/s each); goal ratio_to_bare >= 0.7: "
            f"{'met' if figures['ratio_to_bare'] >= 0.7 else 'NOT met'} ({figures['ratio_to_bare']})"
        )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
