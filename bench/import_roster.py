"""Roster import at province scale: the real import path against a plain COPY of the same rows, in one run.

    python bench/import_roster.py [--members N] [--repeat R]

Uses the PostgreSQL at DATABASE_URL when given, else a throwaway database on the server the tests would use
(a private one it starts, fsync off; the local one with TEST_POSTGRES=local). Prints figures; the last line is one
JSON object.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg

from bench.common import database_url, libpq_conninfo
from insurance.demo.roster import generate_rows, write_csv
from insurance.register.roster import COLUMNS

PROVINCE = 4_450_000


def time_copy(conninfo: str, path: Path) -> float:
    """The floor: COPY of the same file into a bare 15-column table keyed by the ID number."""
    columns = ", ".join(f"{c.key} TEXT" + (" PRIMARY KEY" if c.key == "id_number" else "") for c in COLUMNS)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_bare_roster")
        connection.execute(f"CREATE TABLE bench_bare_roster ({columns})")
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            path.open("rb") as handle,
            cursor.copy("COPY bench_bare_roster FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        connection.execute("DROP TABLE bench_bare_roster")
    return elapsed


def time_import(url: str, path: Path) -> tuple[float, float, dict]:
    """The real import path, as the CLI runs it, in its own process so its peak memory is its own. The register is
    emptied before each run, so this is PostgreSQL's first load (a province's first roster), not a re-import."""
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "import-roster", str(path), "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"import failed ({process.returncode}): {stderr[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, usage.ru_maxrss / 1024, json.loads(stdout.strip().splitlines()[-1])


def _reset_register(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            "TRUNCATE member, household, village_register_count, roster_import_issue, roster_import CASCADE"
        )
        connection.execute("DELETE FROM division WHERE level IN ('village', 'township')")
        connection.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=PROVINCE)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side; the median is reported")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="tehuibao-bench-") as workdir:
        url = database_url(stack)
        conninfo = libpq_conninfo(url)
        env = {**os.environ, "DATABASE_URL": url}
        for command in (["migrate"], ["seed"]):
            subprocess.run(
                [sys.executable, "-m", "core.cli", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
            )
        path = Path(workdir) / "roster.csv"
        started = time.perf_counter()
        write_csv(path, generate_rows(args.members, seed=2026))
        print(
            f"generated {args.members:,} members ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        copies, imports, rss = [], [], []
        result: dict = {}
        for run in range(args.repeat):
            copies.append(time_copy(conninfo, path))
            _reset_register(conninfo)
            seconds, peak, result = time_import(url, path)
            imports.append(seconds)
            rss.append(peak)
            print(
                f"run {run + 1}: COPY {copies[-1]:.1f} s, import {seconds:.1f} s "
                f"(ratio {seconds / copies[-1]:.2f}), peak RSS {peak:.0f} MB",
                flush=True,
            )
        assert result["accepted"] == args.members, result
        seconds, copy_seconds = statistics.median(imports), statistics.median(copies)
        figures = {
            "members": args.members,
            "seconds": round(seconds, 2),
            "copy_seconds": round(copy_seconds, 2),
            "ratio": round(seconds / copy_seconds, 2),
            "members_per_s": round(args.members / seconds),
            "peak_rss_mb": round(max(rss)),
            "households": result["households"],
            "first_load": result["first_load"],
            "runs": args.repeat,
        }
        print(
            f"import: {figures['members_per_s']:,} members/s; ratio import/COPY {figures['ratio']}; "
            f"peak RSS {figures['peak_rss_mb']} MB"
        )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
