"""Deaths and moves on the register end cover: cover listens to the roster import (insurance.register.events)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from core import audit
from core.audit import Actor
from insurance.cover import eligibility, outbox
from insurance.cover.catalogue import cover_terms
from insurance.cover.models import (
    Coverage,
    CoverStatus,
    Policy,
    PolicyStatus,
    ProductVersion,
)
from insurance.register import events
from insurance.register.models import Member, MemberStatus

# --- the register changes: deaths and moves end cover ---------------------------------------------------------------


@events.listen_after_merge
def sync_cover_with_register(session: Session, actor: Actor, *, changed_since: datetime | None = None) -> int:
    """Ends the cover of members the register now shows as deceased (on the day of death) or moved out (per the
    programme's rule), each change audited and the household's certificate requested. Runs in the caller's
    transaction (the roster import's), so the register and the cover never disagree. The import passes the time it
    stamped on the members it changed, so only those are looked at, not every death in the province."""
    connection = session.connection()
    member, coverage, policy_table = Member.__table__, Coverage.__table__, Policy.__table__
    rows = connection.execute(
        sa.select(
            coverage.c.member_id,
            coverage.c.policy_id,
            coverage.c.cover_start,
            coverage.c.cover_end,
            member.c.status,
            member.c.status_date,
            member.c.household_id,
            policy_table.c.period_end,
            policy_table.c.product_version_id,
            policy_table.c.status.label("policy_status"),
            policy_table.c.policy_no,
        )
        .select_from(
            coverage.join(member, member.c.id == coverage.c.member_id).join(
                policy_table, policy_table.c.id == coverage.c.policy_id
            )
        )
        .where(
            coverage.c.status == CoverStatus.active.value,
            policy_table.c.status != PolicyStatus.cancelled.value,
            member.c.status.in_([MemberStatus.deceased.value, MemberStatus.moved_out.value]),
            member.c.status_date.is_not(None),
            member.c.status_date <= coverage.c.cover_end,
            sa.true() if changed_since is None else member.c.updated_at >= changed_since,
        )
    ).all()
    terms_by_version: dict[int, eligibility.CoverTerms] = {}
    changed = 0
    for row in rows:
        if row.product_version_id not in terms_by_version:
            version = session.get(ProductVersion, row.product_version_id)
            assert version is not None
            terms_by_version[row.product_version_id] = cover_terms(version)
        end = eligibility.cover_end_after_status(
            status=row.status,
            status_date=row.status_date,
            cover_start=row.cover_start,
            period_end=row.period_end,
            terms=terms_by_version[row.product_version_id],
        )
        if end >= row.cover_end:
            continue
        connection.execute(
            coverage.update()
            .where(coverage.c.member_id == row.member_id, coverage.c.policy_id == row.policy_id)
            .values(cover_end=end, status=CoverStatus.ended.value, end_reason=row.status)
        )
        audit.record(
            session,
            actor,
            "end_cover",
            "coverage",
            f"{row.policy_no}:{row.member_id}",
            before={"cover_end": row.cover_end},
            after={"cover_end": end, "reason": row.status},
        )
        if row.policy_status == PolicyStatus.issued.value:
            outbox.request_certificates(
                connection, sa.select(sa.literal(row.household_id)), row.policy_id, f"member_{row.status}"
            )
        changed += 1
    return changed
