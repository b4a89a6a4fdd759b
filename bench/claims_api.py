"""Claims through the JSON API under load: C concurrent clients against a real uvicorn server on PostgreSQL.

    python bench/claims_api.py [--clients C] [--seconds S] [--workers W]

Uses the PostgreSQL at DATABASE_URL when given (it must be an empty database), else a throwaway database on the
server the tests would use (a private one it starts, fsync off; the local one with TEST_POSTGRES=local). Prints
figures; the last line is one JSON object.

Set-up (not timed): a migrated database with a small covered world, built as the tests build it (the divisions,
then `tests.document_builders.issued_policy`): the catalogue, an insurer offering it with its handler and
supervisor, a generated Huayuan register imported by the real importer, its 2026 th_family group policy enrolled,
the notices posted and the policy issued. Then the app is started as production runs it: `uvicorn main:build --factory`
with W stateless worker processes (`--workers`, default the CPU count) sharing one port; each client logs in once
(handler and supervisor tokens).

Timed: for S seconds each client, in its own thread with its own keep-alive connection, files accidental-medical
claims one after another, each through the whole flow: POST /api/claims, one upload per needed document (a small
PDF, a different one for each document, as real scans differ), complete-documents, assess, and the supervisor's
decision (approve; reject with the assessment's reason when nothing is payable). Every request is one operation,
timed from send to the end of the response; a status other than the expected one is an error. Each claim names a
different (member, incident date) pair, so the filing's duplicate check never blocks it.
"""

import argparse
import io
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2 as httpx
from pypdf import PdfWriter
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.common import database_url
from core.audit import Actor
from core.db import make_engine, new_session
from core.migrate import upgrade
from insurance.register import service as register_service

YEAR = 2026  # the year of tests.document_builders.issued_policy's policy
MEMBERS = 400  # generated register rows; about half the households are eligible and covered
MEDICAL_COST_FEN = 30_000  # 300 yuan: (300 - 100 deductible) x 80 % = 160 yuan payable, well inside the limits
SERVER_START_SECONDS = 120  # W workers each import the app; a busy 2-core machine takes its time


def _say(text_: str) -> None:
    print(text_, flush=True)


def _small_pdf(width: int) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=width, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# One distinct PDF per document of a claim: the store keeps a claim's files by digest, and the same bytes uploaded
# six times would be one file stored once, which real claims (six different scans) never are.
PDFS = [_small_pdf(200 + n) for n in range(12)]
PDF = PDFS[0]


# --- set-up -------------------------------------------------------------------------------------------------------


@dataclass
class World:
    id_numbers: list[str]
    handler: str
    supervisor: str
    password: str


def _seed(engine: Engine, workdir: Path) -> World:
    """The tests' covered world: an issued 2026 family policy for Huayuan with its handler and supervisor."""
    from tests.builders import PASSWORD
    from tests.document_builders import issued_policy

    with new_session(engine) as session:
        register_service.seed_divisions(session, Actor.system("bench"))
        issued = issued_policy(session, engine, workdir, members=MEMBERS, year=YEAR)
        policy_no = issued.policy.policy_no
    with engine.connect() as connection:
        ids = connection.execute(
            text(
                "SELECT DISTINCT m.id_number FROM coverage c JOIN member m ON m.id = c.member_id "
                "JOIN policy p ON p.id = c.policy_id WHERE p.policy_no = :no AND c.status = 'active' "
                "AND m.status = 'active' ORDER BY m.id_number"
            ),
            {"no": policy_no},
        ).scalars()
        id_numbers = list(ids)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return World(id_numbers, "handler", "supervisor", PASSWORD)


def _incident_days(today: date) -> list[date]:
    """Every day of the policy year up to yesterday: in cover, none in the future."""
    last = min(date(YEAR, 12, 31), today - timedelta(days=1))
    return [date(YEAR, 1, 1) + timedelta(days=n) for n in range((last - date(YEAR, 1, 1)).days + 1)]


def _start_server(
    url: str, workdir: Path, port: int, log_path: Path, workers: int, stack: tuple[str, str] = ("auto", "auto")
) -> subprocess.Popen[bytes]:
    """The app as production serves it: `uvicorn main:build --factory --workers W`, stateless processes on one
    port (uvicorn's supervisor hands the socket to each)."""
    from tests import infra

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "VAR_DIR": str(workdir / "var"),
        "LOG_LEVEL": "WARNING",
        "REDIS_AUTOSTART": "false",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "main:build",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "info",
                "--no-access-log",
                "--workers",
                str(workers),
                "--loop",
                stack[0],
                "--http",
                stack[1],
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def answers() -> bool:
        """Every worker has started its app (each logs it once), and the port answers."""
        if process.poll() is not None:
            raise SystemExit(f"uvicorn exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        if log_path.read_text().count("Application startup complete") < workers:
            return False
        try:
            return httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        infra.wait_until(answers, SERVER_START_SECONDS, "uvicorn to start")
    except BaseException:
        infra.stop_process(process)
        raise
    return process


def _token(base: str, username: str, password: str) -> dict[str, str]:
    # Not timed; a generous timeout: C clients log in at once and each login is an Argon2id hash (64 MiB, 3 passes).
    response = httpx.post(f"{base}/api/auth/token", data={"username": username, "password": password}, timeout=120)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- the timed run ------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """One client's figures: each operation's latency in seconds (by route), errors, claims decided."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    claims: int = 0

    def timed(self, route: str, client: httpx.Client, expect: int, method: str, path: str, **kw: Any) -> Any:
        started = time.perf_counter()
        response = client.request(method, path, **kw)
        self.latencies.setdefault(route, []).append(time.perf_counter() - started)
        if response.status_code != expect:
            self.errors.append(f"{route} {response.status_code}: {response.text[:300]}")
            return None
        return response.json()


class Pairs:
    """The (member, incident date) pairs, handed out once each across the clients."""

    def __init__(self, id_numbers: list[str], days: list[date]) -> None:
        self._pairs = itertools.product(days, id_numbers)
        self._lock = threading.Lock()

    def next(self) -> tuple[str, date]:
        with self._lock:
            day, id_number = next(self._pairs)
        return id_number, day


def _one_claim(tally: Tally, client: httpx.Client, handler: dict[str, str], boss: dict[str, str], pairs: Pairs) -> None:
    id_number, day = pairs.next()
    body = {
        "claim_type": "accidental_medical",
        "id_number": id_number,
        "claimant_name": "申请人",
        "incident_date": day.isoformat(),
        "incident_place": "花垣县人民医院",
        "facts": {"medical_cost_fen": MEDICAL_COST_FEN},
    }
    claim = tally.timed("file", client, 201, "POST", "/api/claims", json=body, headers=handler)
    if claim is None:
        return
    no = claim["claim_no"]
    needed = [item for item in claim["checklist"] if item["needed"] and not item["present"]]
    for item, pdf in zip(needed, PDFS, strict=False):
        files = {"file": ("scan.pdf", pdf, "application/pdf")}
        uploaded = tally.timed(
            "upload",
            client,
            201,
            "POST",
            f"/api/claims/{no}/documents",
            data={"code": item["code"]},
            files=files,
            headers=handler,
        )
        if uploaded is None:
            return
    version = claim["version"]
    done = tally.timed(
        "complete",
        client,
        200,
        "POST",
        f"/api/claims/{no}/complete-documents",
        json={"version": version},
        headers=handler,
    )
    if done is None:
        return
    assessed = tally.timed(
        "assess", client, 200, "POST", f"/api/claims/{no}/assess", json={"version": done["version"]}, headers=handler
    )
    if assessed is None:
        return
    decision: dict[str, Any] = {"version": assessed["version"], "decision": "approve"}
    if not assessed["payable_fen"]:
        decision = {**decision, "decision": "reject", "reason": assessed["reasons"][0]}
    if tally.timed("decide", client, 200, "POST", f"/api/claims/{no}/decision", json=decision, headers=boss):
        tally.claims += 1


def _client(
    base: str, tokens: tuple[dict[str, str], dict[str, str]], pairs: Pairs, tally: Tally, stop_at: float
) -> None:
    handler, boss = tokens
    with httpx.Client(base_url=base, timeout=30) as client:
        while time.perf_counter() < stop_at:
            try:
                _one_claim(tally, client, handler, boss, pairs)
            except StopIteration:
                return
            except httpx.HTTPError as error:
                tally.errors.append(f"transport: {error!r}")


def _timed_clients(clients: list[tuple[Callable[..., None], tuple[Any, ...]]], seconds: float) -> float:
    """Runs each client (its function and arguments, the stop time appended) in its own thread until S seconds
    from now; the seconds it took, all joined."""
    started = time.perf_counter()
    threads = [
        threading.Thread(target=target, args=(*args, started + seconds), name=f"client-{n}")
        for n, (target, args) in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def floor(base: str, world: World, clients: int, seconds: float) -> tuple[list[Tally], float]:
    """The floor under any claim operation: the same clients for the same time on GET /api/me, the cheapest
    authenticated JSON request (the token's lookup and a small answer, nothing of claims): what this machine and
    stack can do before a claim step does any work of its own."""
    tallies = [Tally() for _ in range(clients)]

    def hammer(headers: dict[str, str], tally: Tally, stop_at: float) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.perf_counter() < stop_at:
                tally.timed("me", client, 200, "GET", "/api/me", headers=headers)

    tokens = [_token(base, world.handler, world.password) for _ in range(clients)]
    return tallies, _timed_clients([(hammer, (token, t)) for token, t in zip(tokens, tallies, strict=True)], seconds)


def run(base: str, world: World, clients: int, seconds: float, today: date) -> tuple[list[Tally], float]:
    """Each client's two logins first (set-up, as the docstring says: not timed), then S seconds of claims."""
    pairs = Pairs(world.id_numbers, _incident_days(today))
    tallies = [Tally() for _ in range(clients)]
    tokens = [
        (_token(base, world.handler, world.password), _token(base, world.supervisor, world.password))
        for _ in range(clients)
    ]
    work = [(_client, (base, token, pairs, t)) for token, t in zip(tokens, tallies, strict=True)]
    return tallies, _timed_clients(work, seconds)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: a number above zero, else a usage error naming the value."""

    def parse(text_: str) -> Any:
        value = kind(text_)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above zero, not {text_}")
        return value

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=_positive(int), default=8)
    parser.add_argument("--seconds", type=_positive(float), default=20.0)
    parser.add_argument(
        "--workers",
        type=_positive(int),
        default=os.cpu_count() or 1,
        help="uvicorn worker processes (default: the CPU count)",
    )
    parser.add_argument("--loop", default="auto", help="uvicorn's event loop: auto (uvloop when installed) or asyncio")
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP parser: auto (httptools when installed) or h11")
    parser.add_argument(
        "--floor", action="store_true", help="then as long on GET /api/me: the floor of an authenticated request"
    )
    args = parser.parse_args()
    from core.db import local_today
    from tests import infra

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tehuibao-bench-")))
        url = database_url(stack)
        started = time.perf_counter()
        upgrade(url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        world = _seed(engine, workdir)
        _say(
            f"world: an issued {YEAR} th_family policy for Huayuan, {len(world.id_numbers)} covered members "
            f"(seeded in {time.perf_counter() - started:.1f} s)"
        )
        port = infra.free_port()
        server = _start_server(url, workdir, port, workdir / "uvicorn.log", args.workers, (args.loop, args.http))
        _say(f"server: uvicorn, {args.workers} worker process{'es' if args.workers != 1 else ''}")
        stack.callback(infra.stop_process, server)
        base = f"http://127.0.0.1:{port}"
        tallies, elapsed = run(base, world, args.clients, args.seconds, local_today())
        everything = [v for t in tallies for values in t.latencies.values() for v in values]
        by_route: dict[str, list[float]] = {}
        for tally in tallies:
            for route, values in tally.latencies.items():
                by_route.setdefault(route, []).extend(values)
        errors = [e for t in tallies for e in t.errors]
        claims = sum(t.claims for t in tallies)
        for route, values in by_route.items():
            _say(
                f"  {route:<8} {len(values):>6} ops  p50 {_ms(values, 0.5):>6.1f} ms  p95 {_ms(values, 0.95):>6.1f} ms"
                f"  mean {statistics.mean(values) * 1000:.1f} ms"
            )
        for error in errors[:5]:
            _say(f"  error: {error}")
        ops_per_s = len(everything) / elapsed
        figures: dict[str, Any] = {
            "clients": args.clients,
            "workers": args.workers,
            "loop": args.loop,
            "http": args.http,
            "seconds": round(elapsed, 2),
            "operations": len(everything),
            "ops_per_s": round(ops_per_s, 1),
            "p50_ms": _ms(everything, 0.5),
            "p95_ms": _ms(everything, 0.95),
            "p99_ms": _ms(everything, 0.99),
            "errors": len(errors),
            "claims_decided": claims,
            "claims_per_s": round(claims / elapsed, 1),
            "by_route": {
                route: {"ops": len(v), "p50_ms": _ms(v, 0.5), "p95_ms": _ms(v, 0.95)} for route, v in by_route.items()
            },
            "goal_met": ops_per_s >= 300 and _ms(everything, 0.95) < 100 and not errors,
        }
        if args.floor:
            floor_tallies, floor_elapsed = floor(base, world, args.clients, args.seconds)
            me = [v for t in floor_tallies for v in t.latencies.get("me", [])]
            figures["floor_me"] = {
                "ops_per_s": round(len(me) / floor_elapsed, 1),
                "p50_ms": _ms(me, 0.5),
                "p95_ms": _ms(me, 0.95),
                "errors": sum(len(t.errors) for t in floor_tallies),
            }
            _say(
                f"floor, GET /api/me: {figures['floor_me']['ops_per_s']} requests/s, p50 {_ms(me, 0.5)} ms, "
                f"p95 {_ms(me, 0.95)} ms"
            )
        _say(
            f"claims API: {figures['ops_per_s']} ops/s ({len(everything):,} operations, {claims:,} claims decided, "
            f"{args.clients} clients, {args.workers} workers, {elapsed:.1f} s); "
            f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms; "
            f"{len(errors)} errors"
        )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
