"""Every error claims answer with, in one place (filing, documents and uploads, assessment, review and decision,
settlement imports): one family per kind of failure, each a `core.errors` class so main.py maps it to HTTP once,
and the stable codes clients and pages rely on. The Chinese message is said where the error is raised and may
change; the code may not."""

from enum import StrEnum

from core.errors import Conflict, Forbidden, Invalid, NotFound


class ClaimCode(StrEnum):
    invalid = "invalid"
    conflict = "conflict"
    forbidden = "forbidden"
    # what is claimed for
    claim_not_found = "claim_not_found"
    policy_not_found = "policy_not_found"
    member_not_found = "member_not_found"
    member_not_covered = "member_not_covered"  # not on a policy of the handler's company
    object_not_found = "object_not_found"
    benefit_not_found = "benefit_not_found"
    peril_not_covered = "peril_not_covered"
    # the facts
    incident_in_future = "incident_in_future"
    amount_invalid = "amount_invalid"  # negative, or more than 2 decimals
    grade_invalid = "grade_invalid"  # a disability grade outside 1-10
    facts_invalid = "facts_invalid"
    # filing checks
    check_blocked = "check_blocked"  # a block found at filing, not overridden
    override_reason_required = "override_reason_required"
    duplicate_settlement = "duplicate_settlement"
    # documents
    document_not_found = "document_not_found"
    document_code_unknown = "document_code_unknown"
    upload_empty = "upload_empty"
    upload_too_large = "upload_too_large"
    upload_type_unsupported = "upload_type_unsupported"  # not a PDF, JPEG or PNG by its content
    upload_type_mismatch = "upload_type_mismatch"  # the content is not the type its name or declared type says
    documents_missing = "documents_missing"
    # the workflow
    stale_version = "stale_version"  # someone changed the claim since it was read: reload and retry
    transition_not_allowed = "transition_not_allowed"
    reason_required = "reason_required"
    same_person = "same_person"  # the second approver is the filer or the assessor
    review_not_found = "review_not_found"
    review_done = "review_done"
    # settlement imports
    import_not_found = "import_not_found"
    import_running = "import_running"
    already_imported = "already_imported"


class ClaimInvalidError(Invalid):
    """Input that breaks a rule; `field` names the input at fault."""

    codes = ClaimCode


class ClaimNotFoundError(NotFound):
    """A claim, document, review or import that does not exist or is outside the caller's remit (another
    insurer's claim answers exactly like a missing one)."""

    codes = ClaimCode


class ClaimConflictError(Conflict):
    """The claim's state or version does not allow the change: a stale version, a transition the table refuses,
    the same person twice."""

    codes = ClaimCode


class ClaimForbiddenError(Forbidden):
    """The caller's role may not do this (a county office changing a claim, a handler deciding one)."""

    codes = ClaimCode
