"""The `tehuibao` console script: the composition root for the command line (it may import every package).

The commands live beside it: admin.py, coverage.py (import-roster, enrol), up.py (`make run`).
"""

import argparse
from collections.abc import Sequence

import claims.wiring  # noqa: F401 - claims' labels and tables (insurance's are wired by each command)
from core.cli.admin import (
    DEMO_USERS,
    cmd_migrate,
    cmd_seed,
    cmd_serve,
    cmd_signing_key,
    cmd_sweep,
    cmd_users_create,
    cmd_users_list,
    cmd_worker,
)
from core.cli.claims import cmd_import_settlements
from core.cli.coverage import cmd_coverage_check, cmd_enrol, cmd_import_roster
from core.cli.up import cmd_up
from core.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tehuibao", description="扶贫特惠保承保理赔系统")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema to the newest version").set_defaults(func=cmd_migrate)
    p = sub.add_parser("seed", help="load Hunan's divisions (idempotent); --demo adds demo insurer and users")
    p.add_argument("--demo", action="store_true")
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("serve", help="run the web app")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="run one RQ worker (PDF rendering and other jobs)").set_defaults(func=cmd_worker)
    sub.add_parser("up", help="migrate, seed demo data, start Redis if needed, a worker and the web app").set_defaults(
        func=cmd_up
    )
    p = sub.add_parser("sweep", help="send again the jobs that never reached Redis or lost their worker (once)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweep)
    sub.add_parser("signing-key", help="print the public key that verifies certificate codes (PEM)").set_defaults(
        func=cmd_signing_key
    )
    p = sub.add_parser("import-roster", help="import a roster of poor households (CSV in UTF-8 or GB18030, or XLSX)")
    p.add_argument("path")
    p.add_argument("--dry-run", action="store_true", help="check and report, change nothing")
    p.add_argument("--strict", action="store_true", help="change nothing at all if any row is rejected")
    p.add_argument(
        "--complete",
        action="store_true",
        help="the roster is the whole register of its villages: households and members missing are removed",
    )
    p.add_argument("--report", help="write the row-level report to this file (.csv, or .xlsx)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")
    p.set_defaults(func=cmd_import_roster)
    p = sub.add_parser("enrol", help="enrol every eligible member of a county onto its group policy (idempotent)")
    p.add_argument("policy_no")
    p.add_argument("--on", help="enrolment date YYYY-MM-DD (default: today, Beijing time)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")
    p.set_defaults(func=cmd_enrol)
    p = sub.add_parser("import-settlements", help="import one-stop settlement sheets as supplementary-medical claims")
    p.add_argument("path")
    p.add_argument("--insurer", help="the insurer's unified social credit code (default: the only insurer)")
    p.add_argument("--dry-run", action="store_true", help="check and assess, write nothing")
    p.add_argument("--report", help="write the row-level report to this file (.csv, or .xlsx)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")
    p.set_defaults(func=cmd_import_settlements)
    coverage_parser = sub.add_parser("coverage", help="the coverage-gap figures")
    coverage_sub = coverage_parser.add_subparsers(dest="coverage_command", required=True)
    p = coverage_sub.add_parser("check", help="recount the coverage figures from the rows; exit 1 if any differs")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line of stdout")
    p.set_defaults(func=cmd_coverage_check)
    users_parser = sub.add_parser("users", help="manage users")
    users_sub = users_parser.add_subparsers(dest="users_command", required=True)
    p = users_sub.add_parser("create", help="create a user (audited as system:cli)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r[2] for r in DEMO_USERS])
    p.add_argument("--name", help="display name, e.g. 花垣县扶贫办")
    p.add_argument("--county", help="county code (6 digits) for a county office")
    p.add_argument("--insurer", help="the insurer's unified social credit code, for insurer roles")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_users_create)
    p = users_sub.add_parser("list", help="list users")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_users_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    return int(args.func(settings, args) or 0)
