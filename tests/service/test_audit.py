"""Audit records live and die with the change they describe."""

import pytest
from sqlmodel import Session, func, select

from core import audit
from core.audit import Actor
from core.errors import Conflict
from core.models import AuditLog, Role
from tests.builders import make_user


def _audit_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditLog).where(AuditLog.entity_type == "user")).one()


def test_a_refused_change_leaves_no_audit_record(session: Session) -> None:
    make_user(session, Role.admin, username="admin")
    before = _audit_count(session)
    with pytest.raises(Conflict):
        make_user(session, Role.admin, username="admin")
    session.rollback()
    assert _audit_count(session) == before


def test_an_audit_record_rolled_back_with_its_transaction_is_gone(session: Session) -> None:
    audit.record(session, Actor.system("test"), "update", "user", 1, before={"a": 1}, after={"a": 2})
    session.rollback()
    assert _audit_count(session) == 0


def test_diff_keeps_only_what_changed() -> None:
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})
