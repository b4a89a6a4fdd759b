"""The explanation of an assessment, line by line, and the ledger that writes it (pure).

A claim's explanation starts with the amount claimed and lists every reduction as a negative line (not covered,
other payers, deductible, ratio, limits), so the lines add up to the payable amount exactly; a warning (a late
report) is a line of 0. The handler's page and the notices print these lines in order.
"""

from dataclasses import dataclass, field, replace
from enum import StrEnum

from claims.assessment.money import yuan
from claims.reasons import ReasonCode
from claims.status import Decision


class LineKind(StrEnum):
    claimed = "claimed"  # what the claim asks for (total cost, sum insured, heads x sum per head...)
    not_covered = "not_covered"  # the whole claim: no cover on the incident date, waiting period, peril
    excluded = "excluded"  # a part the cover does not answer for (out-of-policy costs, uninsured heads or area)
    other_payer = "other_payer"  # paid earlier on the settlement sheet (basic medical, critical illness)
    precondition = "precondition"  # a condition of payment not met (village verification, harmless disposal)
    deductible = "deductible"  # an absolute deductible, or a franchise (loss under the starting point)
    ratio = "ratio"  # reimbursement ratio, disability grade ratio, loss degree
    subsidy = "subsidy"  # a culling subsidy, deducted from the payout
    already_paid = "already_paid"  # disability already paid in the policy year
    per_event_limit = "per_event_limit"  # the sum insured or the per-event limit
    annual_limit = "annual_limit"  # what is left of the annual limit
    warning = "warning"  # 0 fen: a late report
    payable = "payable"  # the closing total (`Assessment.total_line`), never one of the lines that add up


@dataclass(frozen=True)
class Line:
    """One line of the explanation: a kind, its Chinese label, a signed amount and the words behind it."""

    kind: LineKind
    label: str
    amount_fen: int
    detail: str = ""
    reason: ReasonCode | None = None  # the reason code the line stands for, if any


_PARTIAL = frozenset(
    {ReasonCode.not_covered, ReasonCode.object_not_insured, ReasonCode.peril_not_covered, ReasonCode.waiting_period}
)


@dataclass(frozen=True)
class Assessment:
    """What a claim pays and why: `payable_fen == sum(line.amount_fen for line in lines)`; `reasons` starts with
    `payable` when something is paid, else with the reason nothing is, and carries warnings (`late_report`) last."""

    payable_fen: int
    claimed_fen: int
    lines: tuple[Line, ...]
    reasons: tuple[ReasonCode, ...]
    household_pays_fen: int | None = None  # supplementary medical: what the stay leaves to the household

    @property
    def main_reason(self) -> ReasonCode:
        return self.reasons[0]

    @property
    def total_line(self) -> Line:
        """The closing line printed under the explanation (not one of `lines`, which already add up to it)."""
        return Line(LineKind.payable, "应赔付金额", self.payable_fen, f"以上各项合计{yuan(self.payable_fen)}")

    @property
    def suggested_decision(self) -> Decision:
        """Nothing payable: reject; part of the claim refused (uninsured heads, area...): approve partly."""
        if self.payable_fen == 0:
            return Decision.reject
        if any(line.reason in _PARTIAL and line.amount_fen < 0 for line in self.lines):
            return Decision.approve_partly
        return Decision.approve

    def with_warning(self, reason: ReasonCode, label: str, detail: str) -> "Assessment":
        """A warning changes nothing payable: a 0-fen line and the code at the end of `reasons`."""
        return replace(
            self,
            lines=(*self.lines, Line(LineKind.warning, label, 0, detail, reason)),
            reasons=(*self.reasons, reason),
        )


@dataclass
class Ledger:
    """Writes an explanation: each step states the new running amount, the ledger writes the difference as a line.
    A step never raises the amount nor takes it below 0, so the payable stays within the claim and every limit."""

    claimed_fen: int
    claimed_label: str
    claimed_detail: str = ""
    lines: list[Line] = field(default_factory=list)
    _running: int = field(default=0, init=False, repr=False, compare=False)
    _summed_lines: int = field(default=-1, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.claimed_fen < 0:
            raise ValueError("claimed amount below 0")
        self.lines.append(Line(LineKind.claimed, self.claimed_label, self.claimed_fen, self.claimed_detail))

    @property
    def running_fen(self) -> int:
        """The lines' sum: asked at every step, so it is summed again only when a line was added since (a bulk
        import assesses a hundred thousand claims)."""
        if self._summed_lines != len(self.lines):
            self._running, self._summed_lines = sum(line.amount_fen for line in self.lines), len(self.lines)
        return self._running

    def reduce_to(
        self,
        amount_fen: int,
        kind: LineKind,
        label: str,
        detail: str = "",
        reason: ReasonCode | None = None,
        *,
        always: bool = False,
    ) -> None:
        """The running amount becomes `amount_fen` (clamped between 0 and the running amount); no change, no line
        unless `always` (a step the reader expects to see, such as a disability grade paying 100 %)."""
        running = self.running_fen
        difference = max(0, min(amount_fen, running)) - running
        if difference or always:
            self.lines.append(Line(kind, label, difference, detail, reason if difference else None))

    def deduct(self, fen: int, kind: LineKind, label: str, detail: str = "", reason: ReasonCode | None = None) -> None:
        self.reduce_to(self.running_fen - fen, kind, label, detail, reason)

    def cap(
        self, limit_fen: int | None, kind: LineKind, label: str, detail: str, reason: ReasonCode | None = None
    ) -> None:
        if limit_fen is not None and self.running_fen > limit_fen:
            self.reduce_to(limit_fen, kind, label, detail, reason)

    def note(self, kind: LineKind, label: str, detail: str) -> None:
        """A line of 0 that explains a step changing nothing (a total loss paid in full)."""
        self.lines.append(Line(kind, label, 0, detail))

    def stop(self, kind: LineKind, label: str, detail: str, reason: ReasonCode) -> None:
        """Nothing of the claim is payable; the line says so even when the claim was 0."""
        running = self.running_fen
        self.lines.append(Line(kind, label, -running, detail, reason))

    @property
    def stopped(self) -> bool:
        return self.running_fen == 0 and any(line.kind == LineKind.not_covered for line in self.lines)

    def result(self, household_pays_fen: int | None = None) -> Assessment:
        payable = self.running_fen
        found: list[ReasonCode] = []
        for line in self.lines:
            if line.reason is not None and line.reason not in found and (line.amount_fen < 0 or payable == 0):
                found.append(line.reason)
        reasons = (ReasonCode.payable, *found) if payable > 0 else (tuple(found) or (ReasonCode.nothing_payable,))
        return Assessment(payable, self.claimed_fen, tuple(self.lines), reasons, household_pays_fen)
