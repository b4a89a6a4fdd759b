"""The product catalogue: products and their immutable versions and benefits, seeded from data/products.json.

A version's terms are data, never constants in code; the pure rules read them through cover_terms and
subsidy_shares.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from core import audit
from core.audit import Actor
from core.models import Role, User
from insurance.cover import eligibility, premiums
from insurance.cover.errors import CoverCode, CoverForbiddenError, CoverInvalidError, CoverNotFoundError
from insurance.cover.models import (
    Product,
    ProductBenefit,
    ProductKind,
    ProductUnit,
    ProductVersion,
)
from insurance.cover.schemas import (
    ProductVersionCreate,
)

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "products.json"
# --- the product catalogue ------------------------------------------------------------------------------------


@dataclass
class CatalogueReport:
    products_created: int = 0
    versions_created: int = 0
    unchanged: int = 0


def seed_products(session: Session, actor: Actor) -> CatalogueReport:
    """Adds the products and versions of the seed file that are missing; existing versions are never touched
    (they are immutable, and an administrator may have added newer ones)."""
    report = CatalogueReport()
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    for item in data["products"]:
        product = session.get(Product, item["code"])
        if product is None:
            product = Product(
                code=item["code"],
                name=item["name"],
                kind=ProductKind(item["kind"]),
                unit=ProductUnit(item["unit"]),
                subject=item["subject"],
            )
            session.add(product)
            session.flush()
            report.products_created += 1
        for spec in item["versions"]:
            exists = session.exec(
                select(ProductVersion.id).where(
                    ProductVersion.product_code == product.code, ProductVersion.version == spec["version"]
                )
            ).first()
            if exists is not None:
                report.unchanged += 1
                continue
            _add_version(session, product, spec["version"], _version_from_seed(spec), created_by=actor.name)
            report.versions_created += 1
    if report.products_created or report.versions_created:
        audit.record(
            session,
            actor,
            "seed",
            "product",
            None,
            after={"products": report.products_created, "versions": report.versions_created},
        )
    session.commit()
    return report


def _version_from_seed(spec: dict[str, Any]) -> ProductVersionCreate:
    shares = spec["subsidy_bp"]
    return ProductVersionCreate(
        year_from=spec["year_from"],
        premium_per_unit_fen=spec["premium_per_unit_fen"],
        premium_per_household_fen=spec["premium_per_household_fen"],
        sum_insured_fen=spec["sum_insured_fen"],
        rate_bp=spec["rate_bp"],
        subsidy_central_bp=shares["central"],
        subsidy_provincial_bp=shares["provincial"],
        subsidy_county_bp=shares["county"],
        farmer_share_bp=shares["farmer"],
        terms=spec["terms"],
        note=spec.get("note"),
        benefits=[_public_keys(b) for b in spec["benefits"]],
    )


def _public_keys(spec: dict[str, Any]) -> dict[str, Any]:
    """A seed entry without its `_` keys: those are the file's own notes (design assumptions), not terms."""
    return {key: value for key, value in spec.items() if not key.startswith("_")}


def _source_notes() -> frozenset[str]:
    """The seed file's design notes. Seeds before they moved to `_source_note` stored them as a version's note; the
    catalogue page leaves them out, so users never read them."""
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return frozenset(
        v["_source_note"] for p in data["products"] for v in p["versions"] if v.get("_source_note") is not None
    )


def _check_version(product: Product, data: ProductVersionCreate) -> None:
    shares = premiums.SubsidyShares(
        data.subsidy_central_bp, data.subsidy_provincial_bp, data.subsidy_county_bp, data.farmer_share_bp
    )
    for problem in shares.problems():
        raise CoverInvalidError(problem, code=CoverCode.bad_subsidy_shares, field="farmer_share_bp")
    if product.kind == ProductKind.family and product.unit == ProductUnit.person and not data.premium_per_unit_fen:
        raise CoverInvalidError(
            "家庭综合保障须有每人保费",
            field="premium_per_unit_fen",
        )
    if product.kind == ProductKind.industry:
        if not data.sum_insured_fen:
            raise CoverInvalidError(
                "产业保险须有每单位保额",
                field="sum_insured_fen",
            )
        if not data.rate_bp:
            raise CoverInvalidError("产业保险须有费率", field="rate_bp")
    codes = [b.code for b in data.benefits]
    if len(set(codes)) != len(codes):
        raise CoverInvalidError("保险责任代码重复", field="benefits")
    for index, benefit in enumerate(data.benefits):
        stray = set(benefit.waiting_perils) - set(benefit.perils)
        if stray:
            raise CoverInvalidError(
                f"等待期适用的风险须属于该责任的承保风险：{', '.join(sorted(stray))}",
                field=f"benefits.{index}.waiting_perils",
            )


def _add_version(
    session: Session, product: Product, number: int, data: ProductVersionCreate, *, created_by: str
) -> ProductVersion:
    _check_version(product, data)
    version = ProductVersion(
        product_code=product.code,
        version=number,
        year_from=data.year_from,
        premium_per_unit_fen=data.premium_per_unit_fen,
        premium_per_household_fen=data.premium_per_household_fen,
        sum_insured_fen=data.sum_insured_fen,
        rate_bp=data.rate_bp,
        subsidy_central_bp=data.subsidy_central_bp,
        subsidy_provincial_bp=data.subsidy_provincial_bp,
        subsidy_county_bp=data.subsidy_county_bp,
        farmer_share_bp=data.farmer_share_bp,
        terms=data.terms.model_dump(mode="json"),
        note=data.note,
        created_by=created_by,
    )
    session.add(version)
    session.flush()
    for benefit in data.benefits:
        session.add(ProductBenefit(version_id=version.id, **benefit.model_dump()))
    session.flush()
    return version


def create_product_version(
    session: Session, user: User, product_code: str, data: ProductVersionCreate
) -> ProductVersion:
    """An administrator changes a product's terms by adding a version; policies keep the version they were sold
    under."""
    if user.role != Role.admin:
        raise CoverForbiddenError("只有系统管理员可以修改产品条款")
    product = get_product(session, product_code)
    latest = session.exec(
        select(func.max(ProductVersion.version)).where(ProductVersion.product_code == product.code)
    ).one()
    version = _add_version(session, product, (latest or 0) + 1, data, created_by=user.username)
    audit.record(
        session,
        Actor.of(user),
        "create",
        "product_version",
        f"{product.code}#{version.version}",
        after=data.model_dump(mode="json"),
    )
    session.commit()
    return version


def list_products(session: Session) -> list[Product]:
    return list(session.exec(select(Product).order_by(col(Product.kind), col(Product.code))).all())


def get_product(session: Session, code: str) -> Product:
    product = session.get(Product, code)
    if product is None:
        raise CoverNotFoundError(f"产品 {code} 不存在", code=CoverCode.product_not_found, field="product_code")
    return product


def list_versions(session: Session, product_code: str) -> list[ProductVersion]:
    return list(
        session.exec(
            select(ProductVersion)
            .where(ProductVersion.product_code == product_code)
            .order_by(col(ProductVersion.version).desc())
        ).all()
    )


@dataclass(frozen=True)
class CatalogueEntry:
    product: Product
    versions: list[ProductVersion]  # newest first
    benefits: dict[int, list[ProductBenefit]]  # by version id
    notes: dict[int, str | None]  # by version id: a version's note for users, never a design note of the seed file

    @property
    def latest(self) -> ProductVersion | None:
        return self.versions[0] if self.versions else None


def catalogue(session: Session, codes: Iterable[str] | None = None) -> list[CatalogueEntry]:
    """Products with their versions and benefits in three queries (the API and the catalogue page show them all)."""
    query = select(Product).order_by(col(Product.kind), col(Product.code))
    if codes is not None:
        query = query.where(col(Product.code).in_(list(codes)))
    products = list(session.exec(query).all())
    versions = session.exec(
        select(ProductVersion)
        .where(col(ProductVersion.product_code).in_([p.code for p in products]))
        .order_by(col(ProductVersion.version).desc())
    ).all()
    benefits: dict[int, list[ProductBenefit]] = {v.id or 0: [] for v in versions}
    for benefit in session.exec(
        select(ProductBenefit)
        .where(col(ProductBenefit.version_id).in_(list(benefits)))
        .order_by(col(ProductBenefit.id))
    ):
        benefits[benefit.version_id].append(benefit)
    hidden = _source_notes()
    notes = {v.id or 0: None if v.note in hidden else v.note for v in versions}
    return [CatalogueEntry(p, [v for v in versions if v.product_code == p.code], benefits, notes) for p in products]


def list_benefits(session: Session, version_id: int) -> list[ProductBenefit]:
    return list(
        session.exec(
            select(ProductBenefit).where(ProductBenefit.version_id == version_id).order_by(col(ProductBenefit.id))
        ).all()
    )


def version_for(session: Session, product: Product, year: int, number: int | None) -> ProductVersion:
    """The version asked for, or the latest one sold for the year."""
    query = select(ProductVersion).where(ProductVersion.product_code == product.code)
    if number is not None:
        version = session.exec(query.where(ProductVersion.version == number)).first()
    else:
        version = session.exec(
            query.where(ProductVersion.year_from <= year).order_by(col(ProductVersion.version).desc())
        ).first()
    if version is None:
        raise CoverInvalidError(
            f"产品 {product.code} 没有适用于 {year} 年的条款版本",
            field="product_version",
        )
    if version.year_from > year:
        raise CoverInvalidError(
            f"该版本自 {version.year_from} 年起适用",
            field="product_version",
        )
    return version


def cover_terms(version: ProductVersion) -> eligibility.CoverTerms:
    terms = version.terms or {}
    return eligibility.CoverTerms(
        new_member_grace_days=int(terms.get("new_member_grace_days", 60)),
        cover_after_exit_years=int(terms.get("cover_after_exit_years", 0)),
        moved_out_cover=eligibility.MovedOutCover(terms.get("moved_out_cover", "period_end")),
        notice_objection_days=int(terms.get("notice_objection_days", 7)),
    )


def subsidy_shares(version: ProductVersion) -> premiums.SubsidyShares:
    return premiums.SubsidyShares(
        version.subsidy_central_bp, version.subsidy_provincial_bp, version.subsidy_county_bp, version.farmer_share_bp
    )


# --- what a household is covered for ------------------------------------------------------------------------------


def _benefit_terms(benefit: ProductBenefit) -> eligibility.BenefitTerms:
    return eligibility.BenefitTerms(
        code=benefit.code,
        name=benefit.name,
        perils=frozenset(benefit.perils),
        sum_insured_fen=benefit.sum_insured_fen,
        deductible_fen=benefit.deductible_fen,
        reimbursement_bp=benefit.reimbursement_bp,
        per_event_limit_fen=benefit.per_event_limit_fen,
        annual_limit_fen=benefit.annual_limit_fen,
        waiting_days=benefit.waiting_days,
        waiting_perils=frozenset(benefit.waiting_perils),
    )


def benefits_by_version(
    session: Session, version_ids: Iterable[int]
) -> dict[int, tuple[eligibility.BenefitTerms, ...]]:
    ids = sorted(set(version_ids))
    found: dict[int, list[eligibility.BenefitTerms]] = {i: [] for i in ids}
    for benefit in session.exec(
        select(ProductBenefit).where(col(ProductBenefit.version_id).in_(ids)).order_by(col(ProductBenefit.id))
    ):
        found[benefit.version_id].append(_benefit_terms(benefit))
    return {k: tuple(v) for k, v in found.items()}
