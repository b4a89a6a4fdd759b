"""A claim's states and the transitions allowed between them, as a table (pure: no web, database or core imports).
The services ask `next_status(from, action)` (or `may`) before they change a claim, and audit every transition
from -> to. Decisions above a threshold wait for a second supervisor who neither filed, assessed nor first decided."""

from enum import StrEnum


class ClaimType(StrEnum):
    supplementary_medical = "supplementary_medical"  # hospital stay, peril hospitalisation (one-stop settlement)
    accidental_medical = "accidental_medical"
    accidental_death = "accidental_death"
    accidental_disability = "accidental_disability"
    illness_death = "illness_death"
    house_collapse = "house_collapse"
    livestock_loss = "livestock_loss"  # dead or culled animals, by ear tag
    crop_loss = "crop_loss"


CLAIM_TYPE_LABELS: dict[ClaimType, str] = {
    ClaimType.supplementary_medical: "补充医疗",
    ClaimType.accidental_medical: "意外医疗",
    ClaimType.accidental_death: "意外身故",
    ClaimType.accidental_disability: "意外伤残",
    ClaimType.illness_death: "疾病身故",
    ClaimType.house_collapse: "农房倒塌",
    ClaimType.livestock_loss: "养殖业损失",
    ClaimType.crop_loss: "种植业损失",
}


class ClaimStatus(StrEnum):
    filed = "filed"  # documents still missing (Art. 22: one notice lists them all)
    returned = "returned"  # back with the filer, with coded reasons, to be resubmitted
    documents_complete = "documents_complete"  # the Art. 23 30-day decision clock runs from here
    assessed = "assessed"  # the payable amount and its explanation are computed
    awaiting_second_approval = "awaiting_second_approval"  # above the review threshold: a second supervisor decides
    approved = "approved"
    partly_approved = "partly_approved"
    rejected = "rejected"  # with a reason code; the refusal notice is due within 3 days (Art. 24)
    withdrawn = "withdrawn"
    paid = "paid"  # next issue
    closed = "closed"  # next issue


CLAIM_STATUS_LABELS: dict[ClaimStatus, str] = {
    ClaimStatus.filed: "已报案（材料待补）",
    ClaimStatus.returned: "已退回补正",
    ClaimStatus.documents_complete: "材料齐全",
    ClaimStatus.assessed: "已理算",
    ClaimStatus.awaiting_second_approval: "待复核审批",
    ClaimStatus.approved: "同意赔付",
    ClaimStatus.partly_approved: "部分赔付",
    ClaimStatus.rejected: "拒赔",
    ClaimStatus.withdrawn: "已撤案",
    ClaimStatus.paid: "已支付",
    ClaimStatus.closed: "已结案",
}


# --- the workflow: actions and the transition table -------------------------------------------------------------

INITIAL_STATUS = ClaimStatus.filed  # filing creates the claim here; the service audits it as None -> filed


class ClaimAction(StrEnum):
    complete_documents = "complete_documents"  # the checklist is satisfied: the 30-day decision clock starts
    return_to_filer = "return_to_filer"  # with coded reasons; the filer corrects and resubmits
    resubmit = "resubmit"
    assess = "assess"  # compute (or recompute) the payable amount and its explanation
    approve = "approve"  # a decision that needs no second person
    approve_partly = "approve_partly"
    reject = "reject"  # with a reason code
    submit_for_second_approval = "submit_for_second_approval"  # the first decision, above the threshold
    second_approve = "second_approve"  # the second supervisor confirms a first decision to approve
    second_approve_partly = "second_approve_partly"  # ... to approve partly
    second_reject = "second_reject"  # ... to reject
    send_back = "send_back"  # the second supervisor disagrees: back to assessed, to be decided again
    withdraw = "withdraw"  # by the household, through the handler; never once paid
    reopen = "reopen"  # with a reason; re-assessed from documents complete
    pay = "pay"  # next issue
    close = "close"  # next issue


CLAIM_ACTION_LABELS: dict[ClaimAction, str] = {
    ClaimAction.complete_documents: "确认材料齐全",
    ClaimAction.return_to_filer: "退回补正",
    ClaimAction.resubmit: "重新提交",
    ClaimAction.assess: "理算",
    ClaimAction.approve: "同意赔付",
    ClaimAction.approve_partly: "部分赔付",
    ClaimAction.reject: "拒赔",
    ClaimAction.submit_for_second_approval: "提交复核审批",
    ClaimAction.second_approve: "复核同意赔付",
    ClaimAction.second_approve_partly: "复核同意部分赔付",
    ClaimAction.second_reject: "复核同意拒赔",
    ClaimAction.send_back: "复核退回重新审批",
    ClaimAction.withdraw: "撤案",
    ClaimAction.reopen: "重新开启",
    ClaimAction.pay: "支付赔款",
    ClaimAction.close: "结案",
}

_S = ClaimStatus
_A = ClaimAction
_WITHDRAWABLE = (
    _S.filed,
    _S.returned,
    _S.documents_complete,
    _S.assessed,
    _S.awaiting_second_approval,
    _S.approved,
    _S.partly_approved,
)

# Every allowed transition, and nothing else: (from, action) -> to. A state with no row for an action refuses it.
TRANSITIONS: dict[tuple[ClaimStatus, ClaimAction], ClaimStatus] = {
    (_S.filed, _A.complete_documents): _S.documents_complete,
    (_S.filed, _A.return_to_filer): _S.returned,
    (_S.returned, _A.resubmit): _S.filed,
    (_S.documents_complete, _A.return_to_filer): _S.returned,
    (_S.documents_complete, _A.assess): _S.assessed,
    (_S.assessed, _A.assess): _S.assessed,  # facts corrected: assessed again, the new explanation replaces the old
    (_S.assessed, _A.return_to_filer): _S.returned,
    (_S.assessed, _A.approve): _S.approved,
    (_S.assessed, _A.approve_partly): _S.partly_approved,
    (_S.assessed, _A.reject): _S.rejected,
    (_S.assessed, _A.submit_for_second_approval): _S.awaiting_second_approval,
    (_S.awaiting_second_approval, _A.second_approve): _S.approved,
    (_S.awaiting_second_approval, _A.second_approve_partly): _S.partly_approved,
    (_S.awaiting_second_approval, _A.second_reject): _S.rejected,
    (_S.awaiting_second_approval, _A.send_back): _S.assessed,
    **{(status, _A.withdraw): _S.withdrawn for status in _WITHDRAWABLE},
    (_S.approved, _A.reopen): _S.documents_complete,
    (_S.partly_approved, _A.reopen): _S.documents_complete,
    (_S.rejected, _A.reopen): _S.documents_complete,
    (_S.closed, _A.reopen): _S.documents_complete,
    (_S.withdrawn, _A.reopen): _S.filed,  # withdrawn perhaps before the documents were complete: checked again
    (_S.approved, _A.pay): _S.paid,
    (_S.partly_approved, _A.pay): _S.paid,
    (_S.paid, _A.close): _S.closed,
}

# Claims whose amount counts against the annual limit of later claims (issue 14): assessed, approved or paid; not
# filed, returned, rejected or withdrawn. The service orders them by when they were assessed.
COUNTS_AGAINST_LIMIT: frozenset[ClaimStatus] = frozenset(
    {_S.assessed, _S.awaiting_second_approval, _S.approved, _S.partly_approved, _S.paid, _S.closed}
)
DECIDED: frozenset[ClaimStatus] = frozenset({_S.approved, _S.partly_approved, _S.rejected})


class TransitionNotAllowed(ValueError):
    """An action the table does not allow from the claim's state; the service maps it to a 409 with `message`."""

    def __init__(self, status: ClaimStatus, action: ClaimAction) -> None:
        self.status = status
        self.action = action
        self.message = f"理赔案件当前状态为“{CLAIM_STATUS_LABELS[status]}”，不能执行“{CLAIM_ACTION_LABELS[action]}”"
        super().__init__(self.message)


def may(status: ClaimStatus, action: ClaimAction) -> bool:
    return (status, action) in TRANSITIONS


def next_status(status: ClaimStatus, action: ClaimAction) -> ClaimStatus:
    """The state after `action`, or TransitionNotAllowed: the one place the services learn where a claim goes."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionNotAllowed(status, action) from None


def allowed_actions(status: ClaimStatus) -> tuple[ClaimAction, ...]:
    """What may be done to a claim in `status`, in the order of ClaimAction (the pages show these buttons)."""
    return tuple(action for action in ClaimAction if (status, action) in TRANSITIONS)


# --- decisions and the second person ------------------------------------------------------------------------------


class Decision(StrEnum):
    approve = "approve"
    approve_partly = "approve_partly"
    reject = "reject"


DECISION_LABELS: dict[Decision, str] = {
    Decision.approve: "同意赔付",
    Decision.approve_partly: "部分赔付",
    Decision.reject: "拒赔",
}

DEATH_CLAIMS: frozenset[ClaimType] = frozenset({ClaimType.accidental_death, ClaimType.illness_death})
SECOND_APPROVAL_THRESHOLD_FEN = 2_000_000  # domain.md §3.5 default (20,000 yuan); the service passes its setting

_DIRECT = {Decision.approve: _A.approve, Decision.approve_partly: _A.approve_partly, Decision.reject: _A.reject}
_CONFIRM = {
    Decision.approve: _A.second_approve,
    Decision.approve_partly: _A.second_approve_partly,
    Decision.reject: _A.second_reject,
}


def needs_second_approval(
    payable_fen: int, threshold_fen: int, *, decision: Decision = Decision.approve, claim_type: ClaimType | None = None
) -> bool:
    """Whether a decision must be confirmed by a second supervisor (domain.md §3.5): an amount strictly above the
    threshold, or any rejection of a death claim (a household's largest benefit is refused by two people)."""
    if decision == Decision.reject:
        return claim_type in DEATH_CLAIMS
    return payable_fen > threshold_fen


def decision_action(decision: Decision, *, second_approval: bool) -> ClaimAction:
    """The first decider's action: the decision itself, or a submission for second approval."""
    return _A.submit_for_second_approval if second_approval else _DIRECT[decision]


def confirming_action(first_decision: Decision) -> ClaimAction:
    """The second supervisor's "agree": it lands the claim where the first decider meant it to go."""
    return _CONFIRM[first_decision]


def second_approver_allowed(
    filer: object | None, assessor: object | None, first_decider: object | None, candidate: object | None
) -> bool:
    """Maker-checker: the second approver is a known person who neither filed, nor assessed, nor first decided the
    claim (openIMIS checks only permissions; here two different people must act). Ids compared by equality."""
    if candidate is None:
        return False
    return candidate not in (filer, assessor, first_decider)
