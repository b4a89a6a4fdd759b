"""Builders for the document tests: an issued policy with a rare-character name on it, and the document jobs' own
function run in this process on everything due."""

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import insurance.wiring  # noqa: F401 - the coverage kinds of document, cover listening to the register
from core import documents, pdf
from core.settings import Settings
from insurance.certificates.models import Certificate
from insurance.cover import lifecycle
from insurance.cover.models import Policy
from tests.cover_builders import (
    YEAR,
    Cast,
    Register,
    enrol,
    fetch,
    make_cast,
    make_group_policy,
    make_register,
    post_all_notices,
    settle,
)

RARE_NAME = "王𠮷䶮"


@dataclass
class Issued:
    cast: Cast
    register: Register
    policy: Policy


def issued_policy(session: Session, engine: Engine, tmp_path: Path, members: int = 120, *, year: int = YEAR) -> Issued:
    """A Huayuan register, a family policy of `year` (2026 by default) enrolled and issued in the December before
    its period, one head renamed with rare characters."""
    cast = make_cast(session)
    register = make_register(engine, tmp_path, members)
    policy = make_group_policy(session, cast.handler, year=year)
    enrol(session, policy, on=date(year - 1, 12, 15))
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE member SET name = :name WHERE id = (SELECT MIN(m.id) FROM member m JOIN coverage c "
                "ON c.member_id = m.id WHERE m.relation = '户主')"
            ),
            {"name": RARE_NAME},
        )
    settle(session)
    posted_on = date(year - 1, 12, 16)  # the next day; its window closes 7 days later (tests.cover_builders.issue)
    post_all_notices(session, cast.supervisor, policy, posted_on)
    lifecycle.issue_policy(session, cast.supervisor, policy.policy_no, posted_on + timedelta(days=8))
    settle(session)
    return Issued(cast, register, policy)


def produce_all(engine: Engine, settings: Settings) -> list[dict[str, object]]:
    """What the workers do with everything due, in id order, in this process."""
    ids = [
        r.id
        for r in fetch(
            engine, "SELECT id FROM document_request WHERE parent_id IS NULL AND status = 'pending' ORDER BY id"
        )
    ]
    return [documents.produce(engine, settings, i, pdf.render_pdf_pages, "test-worker") for i in ids]


def printed_certificate(session: Session, engine: Engine, settings: Settings, tmp_path: Path) -> Certificate:
    """A small issued policy whose documents are printed; its first certificate."""
    issued_policy(session, engine, tmp_path, members=40)
    produce_all(engine, settings)
    certificate = session.exec(select(Certificate)).first()
    assert certificate is not None
    return certificate
