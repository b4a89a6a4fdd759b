"""Who sees what, through the HTTP API, for every lookup a claim will need: a member found by ID number (the household
search), a household, a household's cover and a member's cover, for each role.

One small world per backend, built once for the module (the tests only read): Huayuan and Luxi registers; insurer A
holds Huayuan's policy for YEAR and insurer B Huayuan's for YEAR + 1, both enrolled, so a Huayuan household is covered
by both; insurer C holds only a (draft, unenrolled) policy in Luxi; and the admin. Outside a user's remit an object
answers 404 and lists leave it out; an insurer sees only its own policies' cover.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import make_engine, new_session
from core.models import Role
from core.settings import Settings
from insurance.register import scope
from main import create_app
from tests import infra
from tests.builders import bearer, make_user
from tests.conftest import reset_database
from tests.cover_builders import (
    HOUSEHOLD_NO,
    HUAYUAN,
    ID_NUMBER,
    LUXI,
    REGISTERED,
    YEAR,
    enrol,
    generate_register,
    import_register,
    make_group_policy,
    make_offering_insurer,
    member_id,
    seed_catalogue,
)

Headers = dict[str, str]
ROLES = ("province", "huayuan", "luxi", "handler-a", "handler-b", "handler-c", "admin")
# Who sees the Huayuan household, and whose policies' cover each of them sees there ("A", "B").
SEES_HUAYUAN = {"province": "AB", "huayuan": "AB", "handler-a": "A", "handler-b": "B"}
SEES_LUXI = {"province", "luxi", "handler-c"}


@dataclass(frozen=True)
class World:
    client: TestClient
    headers: dict[str, Headers]
    household_no: str  # a Huayuan household covered by A's and B's policies
    id_number: str  # one of its members
    member_id: int
    luxi_household_no: str
    policy_nos: dict[str, str]  # "A", "B", "C" -> policy number
    households: dict[str, int]  # county code -> households on its register


@pytest.fixture(scope="module")
def world(
    database_url: str,
    _engines: dict[str, Engine],
    redis_server: infra.RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """Built once per backend for this module's read-only tests (the per-test reset would rebuild it 50 times)."""
    if database_url not in _engines:
        _engines[database_url] = make_engine(database_url)
    engine = _engines[database_url]
    reset_database(engine)
    tmp_path = tmp_path_factory.mktemp("jurisdiction")
    huayuan = generate_register(24, seed=31, county=HUAYUAN)
    luxi = generate_register(12, seed=32, county=LUXI)
    import_register(engine, tmp_path, huayuan, name="huayuan.csv", registered=REGISTERED)
    import_register(engine, tmp_path, luxi, name="luxi.csv", registered=REGISTERED)
    with new_session(engine) as session:
        policy_nos = _policies(session)
    covered = {r[HOUSEHOLD_NO] for r in huayuan if r[14] == ""}  # no exit year: enrolled by A and B
    row = next(r for r in huayuan if r[HOUSEHOLD_NO] in covered)
    settings = Settings(database_url=database_url, redis_url=redis_server.url, var_dir=tmp_path / "var", _env_file=None)
    with TestClient(create_app(settings, engine)) as client:
        yield World(
            client=client,
            headers={username: bearer(client, username) for username in ROLES},
            household_no=row[HOUSEHOLD_NO],
            id_number=row[ID_NUMBER],
            member_id=member_id(engine, row[ID_NUMBER]),
            luxi_household_no=luxi[0][HOUSEHOLD_NO],
            policy_nos=policy_nos,
            households={HUAYUAN: len({r[HOUSEHOLD_NO] for r in huayuan}), LUXI: len({r[HOUSEHOLD_NO] for r in luxi})},
        )


def _policies(session: Session) -> dict[str, str]:
    """The insurers, their policies and the users of each role; A's and B's Huayuan policies enrolled."""
    seed_catalogue(session)
    a = make_offering_insurer(session, short_name="人保财险", seq="000001")
    b = make_offering_insurer(session, short_name="平安产险", seq="000002")
    c = make_offering_insurer(session, short_name="太保产险", seq="000003")
    handler_a = make_user(session, Role.insurer_handler, username="handler-a", insurer=a)
    handler_b = make_user(session, Role.insurer_handler, username="handler-b", insurer=b)
    handler_c = make_user(session, Role.insurer_handler, username="handler-c", insurer=c)
    make_user(session, Role.province_office, username="province")
    make_user(session, Role.county_office, username="huayuan", county=HUAYUAN)
    make_user(session, Role.county_office, username="luxi", county=LUXI)
    make_user(session, Role.admin, username="admin")
    policy_a = make_group_policy(session, handler_a)
    policy_b = make_group_policy(session, handler_b, year=YEAR + 1)
    policy_c = make_group_policy(session, handler_c, county=LUXI)
    numbers = {"A": policy_a.policy_no, "B": policy_b.policy_no, "C": policy_c.policy_no}
    enrol(session, policy_a)
    enrol(session, policy_b, on=date(YEAR, 12, 15))
    return numbers


# --- a member found by ID number, and the household lists ---------------------------------------------------------


@pytest.mark.parametrize("username", ROLES)
def test_a_member_is_found_by_id_number_only_within_the_users_register(world: World, username: str) -> None:
    response = world.client.get(f"/api/households?q={world.id_number}", headers=world.headers[username])
    assert response.status_code == 200, response.text
    found = [h["household_no"] for h in response.json()["data"]]
    assert found == ([world.household_no] if username in SEES_HUAYUAN else [])
    assert response.json()["count"] == len(found)


@pytest.mark.parametrize("username", ROLES)
def test_the_household_list_holds_only_the_users_counties(world: World, username: str) -> None:
    listed = world.client.get("/api/households?limit=500", headers=world.headers[username]).json()
    expected = (world.households[HUAYUAN] if username in SEES_HUAYUAN else 0) + (
        world.households[LUXI] if username in SEES_LUXI else 0
    )
    assert listed["count"] == len(listed["data"]) == expected
    prefixes = {h["household_no"][:6] for h in listed["data"]}
    assert prefixes <= ({HUAYUAN} if username in SEES_HUAYUAN else set()) | ({LUXI} if username in SEES_LUXI else set())


# --- a household --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ROLES)
def test_a_household_answers_404_outside_the_users_register(world: World, username: str) -> None:
    response = world.client.get(f"/api/households/{world.household_no}", headers=world.headers[username])
    if username in SEES_HUAYUAN:
        assert response.status_code == 200, response.text
        assert world.id_number[-3:] in {m["id_number_masked"][-3:] for m in response.json()["members"]}
    else:
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "household_not_found"
        assert world.id_number[-4:] not in response.text
    luxi = world.client.get(f"/api/households/{world.luxi_household_no}", headers=world.headers[username])
    assert luxi.status_code == (200 if username in SEES_LUXI else 404), luxi.text


# --- a household's cover --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ROLES)
def test_a_households_cover_lists_only_the_policies_the_user_sees(world: World, username: str) -> None:
    response = world.client.get(
        f"/api/households/{world.household_no}/cover?on={YEAR}-06-01", headers=world.headers[username]
    )
    if username not in SEES_HUAYUAN:
        assert response.status_code == 404, response.text
        return
    assert response.status_code == 200, response.text
    listed = {line["policy_no"] for line in response.json()["members"]}
    assert listed == {world.policy_nos[insurer] for insurer in SEES_HUAYUAN[username]}


# --- a member's cover -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("on", [date(YEAR, 6, 1), date(YEAR + 1, 6, 1)], ids=["year", "next-year"])
def test_a_members_cover_answers_from_the_users_policies_alone(world: World, username: str, on: date) -> None:
    response = world.client.get(
        f"/api/members/{world.member_id}/cover?peril=accident_death&on={on}", headers=world.headers[username]
    )
    if username not in SEES_HUAYUAN:
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "member_not_found"
        return
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["covered"] is False  # both policies are drafts
    visible = {world.policy_nos[insurer] for insurer in SEES_HUAYUAN[username]}
    if len(visible) == 1:  # an insurer: its own line answers, the other insurer's is not considered
        assert (answer["reason"], answer["policy_no"]) == ("policy_not_in_force", *visible)
    else:
        assert answer["policy_no"] in visible
    assert set(answer["also_covered_by"]) <= visible


# --- the rule fails closed; the admin sees no division --------------------------------------------------------------


def test_an_insurer_sees_no_household_when_cover_provides_no_counties(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = world.headers["handler-a"]
    assert world.client.get(f"/api/households/{world.household_no}", headers=headers).status_code == 200
    monkeypatch.setattr(scope, "_insurer_counties", [])
    assert world.client.get(f"/api/households/{world.household_no}", headers=headers).status_code == 404
    assert world.client.get("/api/households", headers=headers).json()["count"] == 0
    member = world.client.get(f"/api/members/{world.member_id}/cover?peril=accident_death", headers=headers)
    assert member.status_code == 404


@pytest.mark.parametrize(("username", "status"), [("province", 200), ("handler-c", 200), ("admin", 404)])
def test_the_admin_sees_no_division(world: World, username: str, status: int) -> None:
    assert world.client.get(f"/api/divisions/{HUAYUAN}", headers=world.headers[username]).status_code == status
    assert world.client.get("/api/divisions", headers=world.headers[username]).status_code == status


def test_the_admins_households_page_says_the_register_is_not_theirs_rather_than_empty(world: World) -> None:
    page = world.client.get("/households", headers=world.headers["admin"])
    assert page.status_code == 200 and "不查看贫困户名册" in page.text and "请先导入花名册" not in page.text


def test_the_world_is_as_built(world: World) -> None:
    """A guard for the module-scoped world: were another test to reset the database in between, this would say so."""
    policies = world.client.get("/api/policies", headers=world.headers["province"]).json()
    assert sorted(p["policy_no"] for p in policies["data"]) == sorted(world.policy_nos.values())
