"""Every error cover answers with, in one place (catalogue, insurers' offers, policies, enrolment, notices,
objections, the cover answer): one family per kind of failure, each a `core.errors` class so main.py maps it to
HTTP once, and the stable codes clients and pages rely on. The Chinese message is said where the error is raised
and may change."""

from enum import StrEnum

from core.errors import Conflict, Forbidden, Invalid, NotFound


class CoverCode(StrEnum):
    bad_period = "bad_period"
    bad_subsidy_shares = "bad_subsidy_shares"
    bad_village = "bad_village"
    conflict = "conflict"
    county_not_found = "county_not_found"
    county_retired = "county_retired"
    double_cover = "double_cover"
    enrolment_not_found = "enrolment_not_found"
    enrolment_running = "enrolment_running"
    forbidden = "forbidden"
    household_not_found = "household_not_found"
    household_removed = "household_removed"
    late_reason_required = "late_reason_required"
    invalid = "invalid"
    nobody_enrolled = "nobody_enrolled"
    not_draft = "not_draft"
    notice_missing = "notice_missing"
    notice_not_found = "notice_not_found"
    object_not_found = "object_not_found"
    objection_not_found = "objection_not_found"
    objection_resolved = "objection_resolved"
    objection_window_open = "objection_window_open"
    objections_open = "objections_open"
    outside_objection_window = "outside_objection_window"
    overlapping_policy = "overlapping_policy"
    posted_before_enrolment = "posted_before_enrolment"
    posted_in_future = "posted_in_future"
    policy_cancelled = "policy_cancelled"
    policy_no_taken = "policy_no_taken"
    policy_not_found = "policy_not_found"
    product_not_found = "product_not_found"
    product_not_offered = "product_not_offered"
    raised_in_future = "raised_in_future"
    village_not_on_policy = "village_not_on_policy"


class CoverInvalidError(Invalid):
    """Input that breaks a rule; `field` names the input at fault."""

    codes = CoverCode


class CoverNotFoundError(NotFound):
    """An object that does not exist or is outside the caller's remit (its existence is not revealed)."""

    codes = CoverCode


class CoverConflictError(Conflict):
    """The object's state does not allow the change (yet)."""

    codes = CoverCode


class CoverForbiddenError(Forbidden):
    """The caller's role may not do this."""

    codes = CoverCode
