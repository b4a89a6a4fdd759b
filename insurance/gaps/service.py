"""Who may read which division's coverage figures, and the programme terms that decide eligibility on a date."""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from core.models import Role, User
from insurance.cover.catalogue import cover_terms, version_for
from insurance.cover.errors import CoverInvalidError
from insurance.cover.models import Policy, PolicyStatus, Product, ProductKind, ProductVersion
from insurance.gaps.errors import GapsCode, GapsNotFoundError
from insurance.register import service as register_service
from insurance.register.errors import RegisterInvalidError, RegisterNotFoundError
from insurance.register.models import Division, DivisionLevel

FAMILY_PRODUCT = "th_family"  # the catalogue's family cover, whose terms apply where a county has no policy
PREFIX_LENGTH = {
    DivisionLevel.province: 2,
    DivisionLevel.prefecture: 4,
    DivisionLevel.county: 6,
    DivisionLevel.township: 9,
    DivisionLevel.village: 12,
}


def sees_coverage(user: User) -> bool:
    """The offices see coverage gaps (the province all of it, a county its own); insurers and the admin do not."""
    return user.role in (Role.province_office, Role.county_office)


def get_division(session: Session, user: User, code: str) -> Division:
    """The division of `code` (12 digits, or a county's 6) within the caller's jurisdiction, or not found."""
    if not sees_coverage(user):
        raise GapsNotFoundError("区划不存在", code=GapsCode.division_not_found, field="division_code")
    try:
        return register_service.get_division(session, user, code)
    except (RegisterNotFoundError, RegisterInvalidError) as exc:
        raise GapsNotFoundError("区划不存在", code=GapsCode.division_not_found, field="division_code") from exc


def prefix(division: Division) -> str:
    return division.code[: PREFIX_LENGTH[division.level]]


def exit_years_kept(session: Session, counties: Iterable[str] | None, year: int) -> tuple[int, dict[str, int]]:
    """`cover_after_exit_years` for `year`: the catalogue's family terms for the year (the default), and each county
    whose family policy of that year (not cancelled) was sold under other terms. None: every county."""
    default = 0
    product = session.get(Product, FAMILY_PRODUCT)
    if product is not None:
        try:
            default = cover_terms(version_for(session, product, year, None)).cover_after_exit_years
        except CoverInvalidError:  # no version sold for that year: the programme's own default
            default = 0
    query = (
        select(Policy.county_code, ProductVersion)
        .join(ProductVersion, col(ProductVersion.id) == Policy.product_version_id)
        .where(Policy.kind == ProductKind.family, Policy.year == year, Policy.status != PolicyStatus.cancelled)
        .order_by(col(Policy.id))
    )
    if counties is not None:
        query = query.where(col(Policy.county_code).in_(list(counties)))
    by_county = {county: cover_terms(version).cover_after_exit_years for county, version in session.exec(query)}
    return default, {county: kept for county, kept in by_county.items() if kept != default}
