"""The per-village counts the import keeps must equal the register counted row by row, after every kind of change."""

from collections import Counter
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.db import new_session
from core.models import Role, User
from insurance.demo.roster import generate_rows, write_csv
from insurance.register import service
from tests.imports.builders import HEADER, import_file, village_counts, write_rows
from tests.roster_defects import generate_defective_rows


def _counted(engine: Engine) -> dict[str, tuple[str, int, int, int]]:
    """The same counts from the rows themselves, in Python."""
    with engine.connect() as connection:
        households = connection.execute(
            text("SELECT id, village_code, county_code, is_incomplete FROM household WHERE removed_on IS NULL")
        ).all()
        active = Counter(
            household_id
            for (household_id,) in connection.execute(text("SELECT household_id FROM member WHERE status = 'active'"))
        )
    counts: dict[str, tuple[str, int, int, int]] = {}
    for household_id, village, county, incomplete in households:
        _, h, i, m = counts.get(village, (county, 0, 0, 0))
        counts[village] = (county, h + 1, i + bool(incomplete), m + active[household_id])
    return counts


def test_village_counts_follow_the_register_through_moves_deaths_removals_and_refused_rows(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [list(r) for r in generate_rows(600, seed=21)]
    import_file(engine, write_rows(tmp_path / "v1.csv", rows))
    first = village_counts(engine)
    assert first == _counted(engine) and sum(m for *_, m in first.values()) == 600

    by_household: dict[str, list[list[str]]] = {}
    for row in rows:
        by_household.setdefault(row[0], []).append(row)
    households = [members for members in by_household.values() if len(members) >= 2]
    mover = next(m for m in households[0] if m[3] != "户主")
    target = next(h[0] for h in households if h[0][7] != mover[7])  # a household in another village
    elsewhere = [h for h in households if h[0][7] not in (mover[7], target[7])]
    dying = next(m for m in elsewhere[0] if m[3] != "户主")
    leaving = next(m for m in elsewhere[1] if m[3] != "户主")
    # Only these households are listed: the village the mover leaves is not in this roster at all.
    listed = {target[0], dying[0], leaving[0]}
    newer = [[*r, "正常", ""] for r in rows if r is not leaving and (r[0] in listed or r is mover)]
    for row in newer:
        if row[2] == mover[2]:
            row[0], row[7:15], row[3] = target[0], target[7:15], "其他"
        if row[2] == dying[2]:
            row[15], row[16] = "死亡", "2026-03-01"
    outcome = import_file(engine, write_rows(tmp_path / "v2.csv", newer, header=[*HEADER, "人员状态", "状态变动日期"]))
    assert (outcome.counts.moved, outcome.counts.deceased, outcome.counts.removed) == (1, 1, 1)
    second = village_counts(engine)
    assert second == _counted(engine)
    assert second[mover[7]][3] == first[mover[7]][3] - 1  # the village the mover left
    assert second[target[7]][3] == first[target[7]][3] + 1

    # A complete roster of the villages that leaves a household out: it is removed from the register and the count.
    gone, village = elsewhere[2][0][0], elsewhere[2][0][7]
    complete = [[*r, "正常", ""] for r in rows if r[7] == village and r[0] != gone and r is not mover]
    import_file(
        engine, write_rows(tmp_path / "v3.csv", complete, header=[*HEADER, "人员状态", "状态变动日期"]), complete=True
    )
    third = village_counts(engine)
    assert third == _counted(engine)
    assert third[village][1] == second[village][1] - 1

    # Refused rows flag their households incomplete; a dry run changes nothing.
    bad, _ = generate_defective_rows(seed=22)
    write_csv(tmp_path / "bad.csv", bad)
    import_file(engine, tmp_path / "bad.csv", dry_run=True)
    assert village_counts(engine) == third
    import_file(engine, tmp_path / "bad.csv")
    fourth = village_counts(engine)
    assert fourth == _counted(engine) and sum(i for _, _, i, _ in fourth.values()) > 0


def test_the_home_page_totals_are_the_sums_of_the_village_counts_in_the_users_remit(
    engine: Engine, tmp_path: Path
) -> None:
    rows = list(generate_rows(400, seed=23))
    import_file(engine, write_rows(tmp_path / "r.csv", rows))
    county = rows[0][7][:6]
    kept = village_counts(engine)
    office = {"display_name": "x", "password_hash": "x"}
    with new_session(engine) as session:
        province = service.register_totals(session, User(username="p", role=Role.province_office, **office))
        own = service.register_totals(
            session, User(username="c", role=Role.county_office, county_code=county + "000000", **office)
        )
    assert province == {
        "households": sum(h for _, h, _, _ in kept.values()),
        "members": 400,
        "incomplete": 0,
    }
    assert own["members"] == sum(1 for r in rows if r[7].startswith(county)) < 400
