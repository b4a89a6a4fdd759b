"""One-stop settlement sheets at scale: `import-settlements` on a 100,000-row file against a plain COPY of the rows.

    python bench/settlement_import.py [--rows N] [--members M] [--repeat R]

Uses the PostgreSQL at DATABASE_URL when given (it must be an empty database), else a throwaway database on the
server the tests would use (a private one it starts, fsync off; the local one with TEST_POSTGRES=local). Prints
figures; the last line is one JSON object.

Set-up (not timed): a migrated database with the catalogue and an insurer (bench/enrol.py's set-up); M members of
one county bulk-loaded with COPY in the roster import's form, every household without an exit year (eligible);
the insurer's 2026 th_family group policy (supplementary medical: deductible 0, 85 %, 100,000 yuan a year)
enrolled through the real service in December 2025, its notices posted in every village and the policy issued by
a supervisor. Then a settlement CSV of N rows for these members: about 85 % payable stays, a few members with
many large stays (the annual limit), stays in the 30-day waiting period, and about 6 % refused rows (unknown ID
number, name mismatch, bad amount, inconsistent amounts, a settlement number repeated).

Timed: the CLI `tehuibao import-settlements FILE --json` in its own process (the one transaction, the contract's
JSON); and the floor, `COPY` of the same file into a bare 13-column TEXT table. With --repeat R each side runs R
times, the import's claims emptied in between; medians.
"""

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg

from bench.common import database_url, libpq_conninfo
from bench.enrol import _load_register, _set_up_programme
from claims.settlement_sheet import SETTLEMENT_COLUMNS
from core.audit import Actor
from core.db import make_engine, new_session
from core.migrate import upgrade
from core.models import Role
from core.schemas import UserCreate
from core.users import create_user
from insurance.cover import enrolment as cover_enrolment
from insurance.cover import lifecycle, notices, policies
from insurance.cover.schemas import GroupPolicyCreate
from insurance.register.identifiers import id_check_char

YEAR = 2026
PRODUCT = "th_family"
PASSWORD = "bench-password-42"  # noqa: S105 - a throwaway user of a throwaway database
FLOOR_TABLE = "bench_bare_settlement"
SEED = 2026


def _say(text: str) -> None:
    print(text, flush=True)


def _issued_policy(engine: Any, conninfo: str, members: int, workdir: Path) -> tuple[str, int]:
    """The register of one county and its issued 2026 family policy; (the policy's number, the insurer's id)."""
    cast = _set_up_programme(engine)
    county = cast.counties[0]
    register = _load_register(conninfo, engine, members, [county], workdir)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("UPDATE household SET exit_year = NULL")  # all eligible for the 2026 family cover
    actor = Actor.system("bench")
    with new_session(engine) as session:
        supervisor = create_user(
            session,
            actor,
            UserCreate(
                username="bench-supervisor",
                display_name="基准主管",
                password=PASSWORD,
                role=Role.insurer_supervisor,
                insurer_id=cast.handler.insurer_id,
            ),
        )
        policy = policies.create_group_policy(
            session, cast.handler, GroupPolicyCreate(county_code=county, year=YEAR, product_code=PRODUCT)
        )
        policy_no, insurer_id = policy.policy_no, int(cast.handler.insurer_id or 0)
    enrolment = cover_enrolment.enrol_now(engine, Actor.of(cast.handler), policy_no, date(YEAR - 1, 12, 15))
    posted_on = date(YEAR - 1, 12, 16)
    with new_session(engine) as session:
        fresh = policies.find_policy(session, policy_no)
        villages = [v["village_code"] for v in notices.policy_village_summary(session, fresh)]
        for village in villages:
            notices.post_notice(session, supervisor, policy_no, village, posted_on, today=posted_on, late_days=3)
        lifecycle.issue_policy(session, supervisor, policy_no, posted_on + timedelta(days=8))
    _say(
        f"register: {register.members:,} members in {register.households:,} households of county {county}; "
        f"policy {policy_no} ({PRODUCT} {YEAR}) enrolled {enrolment.added:,} members, {len(villages)} notices, issued"
    )
    return policy_no, insurer_id


def _covered(conninfo: str) -> list[tuple[str, str]]:
    with psycopg.connect(conninfo) as connection:
        return [
            (r[0], r[1])
            for r in connection.execute(
                "SELECT m.id_number, m.name FROM member m JOIN coverage c ON c.member_id = m.id ORDER BY m.id"
            )
        ]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _stay(rng: random.Random, no: str, name: str, id_number: str, admitted: date, total_fen: int) -> list[str]:
    in_policy = total_fen * rng.randint(70, 95) // 100
    bmi = in_policy * rng.randint(40, 65) // 100
    ci = in_policy * rng.randint(0, 15) // 100
    assistance = min(total_fen - bmi - ci, total_fen * rng.randint(0, 10) // 100)
    days = rng.randint(2, 15)
    cells = {
        "settlement_no": no,
        "name": name,
        "id_number": id_number,
        "hospital": rng.choice(("县人民医院", "县中医医院", "州人民医院", "乡镇卫生院")),
        "admission_date": admitted.isoformat(),
        "discharge_date": (admitted + timedelta(days=days)).isoformat(),
        "settled_on": (admitted + timedelta(days=days + rng.randint(0, 3))).isoformat(),
        "total_cost": _yuan(total_fen),
        "in_policy_amount": _yuan(in_policy),
        "bmi_paid": _yuan(bmi),
        "ci_paid": _yuan(ci),
        "assistance_paid": _yuan(assistance),
        "main_diagnosis": rng.choice(("肺炎 J18.9", "高血压 I10", "2型糖尿病 E11.9", "脑梗死 I63.9", "骨折 S72.0")),
    }
    return [cells[c.key] for c in SETTLEMENT_COLUMNS]


def write_sheet(path: Path, people: list[tuple[str, str]], rows: int) -> dict[str, int]:
    """N rows in file order; what kind each was meant to be, counted."""
    rng = random.Random(SEED)
    heavy = people[: max(1, len(people) // 50)]  # 2 % of the members: many large stays, the annual limit
    ordinary = people[len(heavy) :]
    last_day = date(YEAR, 11, 1)  # discharged and settled before the clock's today
    kinds = {"payable": 0, "heavy": 0, "waiting": 0, "refused": 0}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.header for c in SETTLEMENT_COLUMNS])
        for n in range(rows):
            no = f"JS{YEAR}{n:08d}"
            draw = rng.random()
            admitted = date(YEAR, 2, 5) + timedelta(days=rng.randint(0, (last_day - date(YEAR, 2, 5)).days))
            if draw < 0.06:
                kinds["refused"] += 1
                id_number, name = rng.choice(ordinary)
                case = n % 5
                if case == 0:  # member_unknown
                    first17 = f"43312419800101{n % 1000:03d}"
                    id_number, name = first17 + id_check_char(first17), "查无此人"
                elif case == 1:
                    name = "别人"  # name_mismatch
                line = _stay(rng, no, name, id_number, admitted, rng.randint(200_000, 2_000_000))
                if case == 2:
                    line[9] = "12.345"  # amount_invalid (bmi_paid)
                elif case == 3:
                    line[8] = _yuan(int(line[7].replace(".", "")) + 100)  # amounts_inconsistent
                elif case == 4 and n:
                    line[0] = f"JS{YEAR}{n - 1:08d}"  # duplicate_settlement
                writer.writerow(line)
            elif draw < 0.16:
                kinds["heavy"] += 1
                id_number, name = rng.choice(heavy)
                writer.writerow(_stay(rng, no, name, id_number, admitted, rng.randint(3_000_000, 9_000_000)))
            elif draw < 0.20:
                kinds["waiting"] += 1
                id_number, name = rng.choice(ordinary)
                early = date(YEAR, 1, 2) + timedelta(days=rng.randint(0, 25))
                writer.writerow(_stay(rng, no, name, id_number, early, rng.randint(200_000, 3_000_000)))
            else:
                kinds["payable"] += 1
                id_number, name = rng.choice(ordinary)
                writer.writerow(_stay(rng, no, name, id_number, admitted, rng.randint(100_000, 3_000_000)))
    return kinds


def time_copy(conninfo: str, path: Path) -> float:
    """The floor: COPY of the same file into a bare table of 13 TEXT columns (no key: the file repeats some
    settlement numbers on purpose)."""
    columns = ", ".join(f"{c.key} TEXT" for c in SETTLEMENT_COLUMNS)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        connection.execute(f"CREATE TABLE {FLOOR_TABLE} ({columns})")
        connection.execute("CHECKPOINT")
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            path.open("rb") as handle,
            cursor.copy(f"COPY {FLOOR_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        connection.execute(f"DROP TABLE {FLOOR_TABLE}")
    return elapsed


def time_import(url: str, path: Path) -> tuple[float, float, dict[str, Any]]:
    """The CLI, as a clerk runs it, in its own process (its peak memory its own)."""
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "core.cli", "import-settlements", str(path), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"import failed ({process.returncode}): {process.stderr[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, usage.ru_maxrss / 1024, json.loads(process.stdout.strip().splitlines()[-1])


def _empty_claims(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("DELETE FROM audit_log WHERE entity_type IN ('claim', 'settlement_import', 'risk_flag')")
        # CASCADE: the claim's other tables (callbacks, checks, documents...) reference it, empty as they are here.
        connection.execute(
            "TRUNCATE claim_event, settlement_import_issue, claim, settlement_import, claim_counter, risk_flag_event,"
            " risk_flag CASCADE"
        )
        connection.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=40_000, help="members on the register (one county)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side; medians reported")
    args = parser.parse_args()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tehuibao-bench-")))
        url = database_url(stack)
        conninfo = libpq_conninfo(url)
        started = time.perf_counter()
        upgrade(url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        _issued_policy(engine, conninfo, args.members, workdir)
        people = _covered(conninfo)
        path = workdir / "settlements.csv"
        kinds = write_sheet(path, people, args.rows)
        _say(
            f"sheet: {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) for {len(people):,} covered members: "
            f"{kinds}; set-up {time.perf_counter() - started:.1f} s"
        )
        copies: list[float] = []
        imports: list[float] = []
        rss: list[float] = []
        result: dict[str, Any] = {}
        for run in range(args.repeat):
            if run:
                _empty_claims(conninfo)
            copies.append(time_copy(conninfo, path))
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute("CHECKPOINT")
            seconds, peak, result = time_import(url, path)
            imports.append(seconds)
            rss.append(peak)
            _say(
                f"run {run + 1}: COPY {copies[-1]:.2f} s, import-settlements {seconds:.2f} s "
                f"(ratio {seconds / copies[-1]:.1f}); {result['claims_created']:,} claims, "
                f"{result['refused']:,} refused, peak RSS {peak:.0f} MB"
            )
        reasons: dict[str, int] = {}
        for claim in result["claims"]:
            for reason in claim["reasons"]:
                reasons[reason] = reasons.get(reason, 0) + 1
        refusals: dict[str, int] = {}
        for error in result["errors"]:
            refusals[error["code"]] = refusals.get(error["code"], 0) + 1
        seconds, copy_seconds = statistics.median(imports), statistics.median(copies)
        figures = {
            "settlements": args.rows,
            "seconds": round(seconds, 2),
            "copy_seconds": round(copy_seconds, 3),
            "ratio": round(seconds / copy_seconds, 1),
            "rows_per_s": round(args.rows / seconds),
            "claims_created": result["claims_created"],
            "refused": result["refused"],
            "payable_fen": result["payable_fen"],
            "reasons": reasons,
            "refusals": refusals,
            "members": len(people),
            "peak_rss_mb": round(max(rss)),
            "runs": args.repeat,
            "all_seconds": [round(s, 2) for s in imports],
        }
        _say(
            f"import-settlements: {figures['rows_per_s']:,} rows/s ({seconds:.2f} s for {args.rows:,} rows, median "
            f"of {args.repeat}); COPY {copy_seconds:.3f} s; ratio {figures['ratio']}; reasons {reasons}; "
            f"refusals {refusals}"
        )
        print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
