"""The composition of claims, imported by the composition roots (main, worker, core.cli) right after
insurance.wiring, and by nothing inside insurance (claims -> insurance, never back). It registers claims' labels
and loads claims' tables into the shared metadata, so a root that only ever touches insurance still creates,
empties and migrates the claims tables with the others."""

from claims import labels as _labels  # noqa: F401 - claims' namespaces in the one table of labels
from claims import models as _models  # noqa: F401 - the claims tables in SQLModel.metadata
from claims.risk import labels as _risk_labels  # noqa: F401 - the risk flags' namespaces
from claims.risk import models as _risk_models  # noqa: F401 - the risk flag tables in SQLModel.metadata
from claims.risk import raising as _risk_raising
from insurance.cover import counts as _counts

# After every coverage recount (enrolment, issue, cancellation, upheld objection, roster import), the households left
# uncovered are flagged in the same transaction: insurance calls the step without knowing claims.
_counts.listen_after_recount(_risk_raising.flag_after_recount)
