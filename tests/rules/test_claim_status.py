"""The claim workflow as a table (claims/status.py): every allowed transition, refusals, terminal states, the
second person."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.status import (
    CLAIM_ACTION_LABELS,
    CLAIM_STATUS_LABELS,
    COUNTS_AGAINST_LIMIT,
    INITIAL_STATUS,
    TRANSITIONS,
    ClaimAction,
    ClaimStatus,
    ClaimType,
    Decision,
    TransitionNotAllowed,
    allowed_actions,
    confirming_action,
    decision_action,
    may,
    needs_second_approval,
    next_status,
    second_approver_allowed,
)

S = ClaimStatus
A = ClaimAction

EXPECTED = {
    (S.filed, A.complete_documents): S.documents_complete,
    (S.filed, A.return_to_filer): S.returned,
    (S.filed, A.withdraw): S.withdrawn,
    (S.returned, A.resubmit): S.filed,
    (S.returned, A.withdraw): S.withdrawn,
    (S.documents_complete, A.assess): S.assessed,
    (S.documents_complete, A.return_to_filer): S.returned,
    (S.documents_complete, A.withdraw): S.withdrawn,
    (S.assessed, A.assess): S.assessed,
    (S.assessed, A.return_to_filer): S.returned,
    (S.assessed, A.approve): S.approved,
    (S.assessed, A.approve_partly): S.partly_approved,
    (S.assessed, A.reject): S.rejected,
    (S.assessed, A.submit_for_second_approval): S.awaiting_second_approval,
    (S.assessed, A.withdraw): S.withdrawn,
    (S.awaiting_second_approval, A.second_approve): S.approved,
    (S.awaiting_second_approval, A.second_approve_partly): S.partly_approved,
    (S.awaiting_second_approval, A.second_reject): S.rejected,
    (S.awaiting_second_approval, A.send_back): S.assessed,
    (S.awaiting_second_approval, A.withdraw): S.withdrawn,
    (S.approved, A.pay): S.paid,
    (S.approved, A.reopen): S.documents_complete,
    (S.approved, A.withdraw): S.withdrawn,
    (S.partly_approved, A.pay): S.paid,
    (S.partly_approved, A.reopen): S.documents_complete,
    (S.partly_approved, A.withdraw): S.withdrawn,
    (S.rejected, A.reopen): S.documents_complete,
    (S.withdrawn, A.reopen): S.filed,
    (S.paid, A.close): S.closed,
    (S.closed, A.reopen): S.documents_complete,
}


def test_the_table_is_exactly_the_agreed_workflow() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("key", "target"), sorted(EXPECTED.items()))
def test_every_allowed_transition_lands_where_the_table_says(key: tuple[S, A], target: S) -> None:
    status, action = key
    assert may(status, action)
    assert next_status(status, action) == target
    assert action in allowed_actions(status)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.filed, A.assess),  # the documents come first (Art. 22)
        (S.filed, A.approve),
        (S.documents_complete, A.approve),  # no decision without an assessment
        (S.assessed, A.pay),
        (S.assessed, A.second_approve),
        (S.awaiting_second_approval, A.approve),  # the first decider cannot decide again alone
        (S.approved, A.approve),
        (S.rejected, A.approve),
        (S.paid, A.withdraw),  # never once paid
        (S.paid, A.reopen),
        (S.closed, A.withdraw),
        (S.returned, A.assess),
    ],
)
def test_a_refused_transition_raises_naming_state_and_action_in_chinese(status: S, action: A) -> None:
    assert not may(status, action)
    with pytest.raises(TransitionNotAllowed) as refused:
        next_status(status, action)
    assert refused.value.status == status and refused.value.action == action
    assert CLAIM_STATUS_LABELS[status] in refused.value.message
    assert CLAIM_ACTION_LABELS[action] in refused.value.message


@given(st.sampled_from(list(S)), st.sampled_from(list(A)))
def test_next_status_agrees_with_allowed_actions(status: S, action: A) -> None:
    if action in allowed_actions(status):
        assert next_status(status, action) in S
    else:
        with pytest.raises(TransitionNotAllowed):
            next_status(status, action)


@pytest.mark.parametrize("status", [S.withdrawn, S.rejected])
def test_withdrawn_and_rejected_are_terminal_except_reopen(status: S) -> None:
    assert allowed_actions(status) == (A.reopen,)


def test_every_state_is_reachable_from_filing() -> None:
    seen, frontier = {INITIAL_STATUS}, [INITIAL_STATUS]
    while frontier:
        status = frontier.pop()
        for action in allowed_actions(status):
            target = next_status(status, action)
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(S)


def test_every_action_and_state_has_a_chinese_label() -> None:
    assert set(CLAIM_ACTION_LABELS) == set(A)
    assert all(not label.isascii() for label in CLAIM_ACTION_LABELS.values())


def test_rejected_and_withdrawn_claims_do_not_count_against_the_annual_limit() -> None:
    assert {S.assessed, S.approved, S.partly_approved, S.paid} <= COUNTS_AGAINST_LIMIT
    assert not {S.filed, S.returned, S.documents_complete, S.rejected, S.withdrawn} & COUNTS_AGAINST_LIMIT


# --- the second person ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payable", "decision", "claim_type", "expected"),
    [
        (2_000_000, Decision.approve, ClaimType.accidental_death, False),  # exactly the threshold: not above it
        (2_000_001, Decision.approve, ClaimType.supplementary_medical, True),
        (2_000_001, Decision.approve_partly, ClaimType.crop_loss, True),
        (150_000, Decision.approve, ClaimType.house_collapse, False),
        (0, Decision.reject, ClaimType.illness_death, True),  # any rejection of a death claim
        (0, Decision.reject, ClaimType.accidental_death, True),
        (0, Decision.reject, ClaimType.supplementary_medical, False),
    ],
)
def test_needs_second_approval(payable: int, decision: Decision, claim_type: ClaimType, expected: bool) -> None:
    assert needs_second_approval(payable, 2_000_000, decision=decision, claim_type=claim_type) is expected


@pytest.mark.parametrize("decision", list(Decision))
def test_a_confirmed_decision_lands_where_the_first_decider_meant(decision: Decision) -> None:
    direct = next_status(S.assessed, decision_action(decision, second_approval=False))
    waiting = next_status(S.assessed, decision_action(decision, second_approval=True))
    assert waiting == S.awaiting_second_approval
    assert next_status(waiting, confirming_action(decision)) == direct


@pytest.mark.parametrize(
    ("filer", "assessor", "first", "candidate", "allowed"),
    [
        (1, 2, 3, 4, True),
        (1, 2, 3, 1, False),  # the filer
        (1, 2, 3, 2, False),  # the assessor
        (1, 2, 3, 3, False),  # the first decider: the same person twice
        (1, 1, None, 5, True),
        (1, 2, 3, None, False),  # nobody
        ("u-1", "u-2", "u-2", "u-3", True),
    ],
)
def test_second_approver_allowed(
    filer: object, assessor: object, first: object, candidate: object, allowed: bool
) -> None:
    assert second_approver_allowed(filer, assessor, first, candidate) is allowed
