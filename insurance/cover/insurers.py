"""Which products each insurer offers (the insurer itself is a register entry: insurance.register.service)."""

from collections.abc import Iterable

from sqlmodel import Session, select

from core import audit
from core.audit import Actor
from core.models import Role, User
from insurance.cover.catalogue import get_product
from insurance.cover.errors import CoverConflictError, CoverForbiddenError
from insurance.cover.models import (
    InsurerProduct,
)
from insurance.cover.schemas import (
    InsurerCreate,
)
from insurance.register import service as register_service
from insurance.register.models import Insurer

# --- insurers ---------------------------------------------------------------------------------------------------


def create_insurer(session: Session, user: User, data: InsurerCreate) -> Insurer:
    if user.role != Role.admin:
        raise CoverForbiddenError("只有系统管理员可以登记保险公司")
    code = register_service.valid_uscc(data.uscc)
    if session.exec(select(Insurer.id).where(Insurer.uscc == code)).first() is not None:
        raise CoverConflictError(f"统一社会信用代码 {code} 已登记", field="uscc")
    insurer = register_service.add_insurer(
        session,
        Actor.of(user),
        uscc=code,
        name=data.name,
        short_name=data.short_name,
        hotline=data.hotline,
        facts={"short_name": data.short_name, "hotline": data.hotline, "products": sorted(set(data.products))},
    )
    _set_offers(session, insurer, data.products)
    session.commit()
    return insurer


def set_insurer_products(session: Session, user: User, insurer_id: int, codes: list[str]) -> list[str]:
    if user.role != Role.admin:
        raise CoverForbiddenError("只有系统管理员可以修改保险公司的产品")
    insurer = register_service.get_insurer(session, insurer_id)
    before = insurer_products(session, insurer.id or 0)
    _set_offers(session, insurer, codes)
    audit.record(
        session,
        Actor.of(user),
        "update",
        "insurer",
        insurer.id,
        before={"products": before},
        after={"products": sorted(set(codes))},
    )
    session.commit()
    return insurer_products(session, insurer.id or 0)


def _set_offers(session: Session, insurer: Insurer, codes: Iterable[str]) -> None:
    wanted = set(codes)
    for code in sorted(wanted):
        get_product(session, code)
    current = {
        row.product_code: row
        for row in session.exec(select(InsurerProduct).where(InsurerProduct.insurer_id == insurer.id))
    }
    for code, row in current.items():
        if code not in wanted:
            session.delete(row)
    for code in wanted - set(current):
        session.add(InsurerProduct(insurer_id=insurer.id or 0, product_code=code))
    session.flush()


def ensure_offers(session: Session, actor: Actor, insurer: Insurer, codes: Iterable[str]) -> None:
    """Idempotent, for the demo seed: adds the offers that are missing."""
    have = set(insurer_products(session, insurer.id or 0))
    missing = [c for c in codes if c not in have]
    for code in missing:
        session.add(InsurerProduct(insurer_id=insurer.id or 0, product_code=code))
    if missing:
        audit.record(session, actor, "update", "insurer", insurer.id, after={"products_added": missing})
        session.commit()


def insurer_products(session: Session, insurer_id: int) -> list[str]:
    return sorted(
        session.exec(select(InsurerProduct.product_code).where(InsurerProduct.insurer_id == insurer_id)).all()
    )
