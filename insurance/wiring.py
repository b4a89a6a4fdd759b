"""The composition of insurance's sub-packages, imported by the composition roots (main, worker, core.cli) and by
nothing inside insurance: cover listens to the register's changes and tells it which counties an insurer holds a
policy in, and certificates register how the coverage documents are printed and verified. Without it a roster
import would not end the cover of the dead, an insurer's staff would see no household (the register's scope fails
closed), and the worker would not know the coverage documents: the roots import it first."""

from insurance import labels as _labels  # noqa: F401 - insurance's namespaces in the one table of labels
from insurance.certificates import kinds as _kinds  # noqa: F401 - registers the coverage kinds of document
from insurance.certificates import verification as _verification  # noqa: F401 - registers their codes
from insurance.cover import counts as _counts  # noqa: F401 - the coverage cohorts follow the register (after it)
from insurance.cover import policies as _policies  # noqa: F401 - cover tells the register an insurer's counties
from insurance.cover import register_sync as _register_sync  # noqa: F401 - cover listens to the register
