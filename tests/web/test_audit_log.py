"""The audit log as the administrator reads it: Chinese labels instead of codes, values as text (no `\\u4eba`
escapes), ID numbers masked, filters by actor, action, object and date on the page, the API and both exports."""

import csv
import io
import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from core import audit
from core.audit import Actor
from core.models import Role
from tests.builders import bearer, login_page, make_user

ID_NUMBER = "433124199001011234"
RAW_CODES = ("county_office", "login", "reset_password", '"role"', "entity_type", "\\u")


def _entry(session: Session, actor: Actor, action: str, entity: str, entity_id: object, at: datetime, **values) -> None:  # noqa: ANN003
    audit.record(session, actor, action, entity, entity_id, at=at, **values)
    session.commit()


def _seed(session: Session) -> None:
    """Three entries by two actors on two days, one with long Chinese values and an ID number in free text."""
    admin = make_user(session, Role.admin, username="admin")
    county = make_user(session, Role.county_office, username="huayuan", county="433124")
    admin.display_name, county.display_name = "管理员甲", "花垣县扶贫办"
    session.add_all([admin, county])
    long_reason = "村民反映该户已于去年迁出本村，身份证号" + ID_NUMBER + "，" + "情况核实中" * 40
    _entry(
        session,
        Actor.of(county),
        "record_objection",
        "notice_objection",
        7,
        datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        after={"raised_by": "龙老四", "reason": long_reason, "upheld": False},
    )
    _entry(
        session,
        Actor.of(admin),
        "update",
        "user",
        county.id,
        datetime(2026, 3, 5, 2, 0, tzinfo=UTC),
        before={"role": "province_office"},
        after={"role": "county_office", "premium_fen": 11500},
    )
    _entry(
        session,
        Actor.of(admin),
        "login",
        "user",
        admin.id,
        datetime(2026, 3, 5, 3, 0, tzinfo=UTC),
        after={"kind": "session"},
    )


def test_audit_page_shows_labels_and_readable_values_never_codes_escapes_or_full_id_numbers(
    client: TestClient, session: Session
) -> None:
    _seed(session)
    login_page(client, "admin")
    page = client.get("/admin/audit", params={"date_to": "2026-03-31"}).text  # the seeded entries
    table = page[page.index('<table class="audit">') :]
    assert "登录" in table and "登记异议" in table and "公示异议" in table and "用户" in table
    assert "角色" in table and "县扶贫办" in table and "省扶贫办" in table and "网页登录" in table
    assert "¥115.00" in table and "龙老四" in table and "异议是否成立" in table and "否" in table
    assert ID_NUMBER not in page and "433124*********234" in table
    assert "管理员甲（admin）" in table and "花垣县扶贫办（huayuan）" in table
    for code in RAW_CODES:
        assert code not in table, code


def test_audit_filters_narrow_the_page_and_paging_keeps_them(client: TestClient, session: Session) -> None:
    _seed(session)
    login_page(client, "admin")
    by_actor = client.get("/admin/audit", params={"actor": "huayuan"}).text
    assert "审计日志（共 1 条）" in by_actor and "登记异议" in by_actor
    by_action = client.get("/admin/audit", params={"action": "login", "entity_type": "user"}).text
    assert "审计日志（共 2 条）" in by_action  # the admin's login of this test, and the seeded one
    by_day = client.get("/admin/audit", params={"date_from": "2026-03-05", "date_to": "2026-03-05"}).text
    assert "审计日志（共 2 条）" in by_day and "登记异议" not in by_day.split('<table class="audit">')[1]
    # Beijing time: 2026-03-02 01:00 UTC is 09:00 on the 2nd, so the 1st finds nothing.
    assert "审计日志（共 0 条）" in client.get("/admin/audit", params={"date_to": "2026-03-01"}).text
    blank = client.get("/admin/audit", params={"actor": "", "action": "", "date_from": ""})
    assert blank.status_code == 200

    for i in range(55):
        audit.record(session, Actor.system("cli"), "update", "division", f"4331{i:02d}")
    session.commit()
    first = client.get("/admin/audit", params={"entity_type": "division", "action": "update"}).text
    assert "审计日志（共 55 条）" in first
    links = re.findall(r'href="/admin/audit\?([^"]+)">下一页', first)
    assert links and "entity_type=division" in links[0] and "action=update" in links[0] and "offset=50" in links[0]
    second = client.get("/admin/audit?" + links[0].replace("&amp;", "&")).text
    assert "第 51–55 条" in second and "系统（命令行）" in second
    assert "entity_type=division" in re.findall(r'href="/admin/audit/export\.csv\?([^"]+)"', second)[0]


def test_audit_api_filters_by_actor_action_object_and_date(client: TestClient, session: Session) -> None:
    _seed(session)
    headers = bearer(client, "admin")

    def count(**params: str) -> int:
        response = client.get("/api/audit", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()["count"]

    assert count(actor="huayuan") == 1
    assert count(action="update", entity_type="user") == 1
    assert count(entity_type="notice_objection", date_from="2026-03-02", date_to="2026-03-02") == 1
    assert count(actor="admin", date_from="2026-03-05", date_to="2026-03-05") == 2
    bad = client.get("/api/audit", headers=headers, params={"date_from": "2026-13-40"})
    assert bad.status_code == 422 and bad.json()["field"] == "date_from"
    assert bad.json()["message"] == "开始日期须为 年-月-日 格式的日期"


def test_audit_exports_are_the_filtered_entries_with_chinese_headers_and_labels(
    client: TestClient, session: Session
) -> None:
    _seed(session)
    login_page(client, "admin")
    params = {"actor": "admin", "date_from": "2026-03-05", "date_to": "2026-03-05"}

    response = client.get("/admin/audit/export.csv", params=params)
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["时间（北京时间）", "操作人", "操作", "对象", "对象编号", "原值", "新值"]
    assert [r[2] for r in rows[1:]] == ["登录", "修改"]
    assert rows[2][5] == "角色：省扶贫办" and rows[2][6] == "角色：县扶贫办\n保费：¥115.00"
    assert rows[1][0] == "2026-03-05 11:00:00"  # Beijing time

    response = client.get("/admin/audit/export.xlsx", params={"entity_type": "notice_objection"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["时间（北京时间）", "操作人", "操作"] and len(values) == 2
    assert values[1][2] == "登记异议" and values[1][3] == "公示异议" and values[1][4] == "7"
    text = "".join(str(v) for row in values for v in row)
    assert "异议提出人：龙老四" in text and ID_NUMBER not in text and "\\u" not in text
    for code in ("record_objection", "notice_objection", "raised_by"):
        assert code not in text

    assert client.get("/admin/audit/export.pdf").status_code == 422


def test_audit_pages_and_exports_are_for_the_admin_only(client: TestClient, session: Session) -> None:
    make_user(session, Role.province_office, username="province")
    login_page(client, "province")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.csv").status_code == 403
