"""What the register tells the packages above it when it changes, without knowing them.

Why: cover must end the cover of members a roster import shows as dead or moved, in the import's own transaction,
but the register sits below cover and may not import it. Cover listens instead (insurance.cover.register_sync
registers its step); the composition roots import insurance.wiring, which brings every listener in.
"""

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from core.audit import Actor

AfterMerge = Callable[..., int]  # (session, actor, *, changed_since: datetime) -> rows changed

_after_merge: list[AfterMerge] = []


def listen_after_merge(step: AfterMerge) -> AfterMerge:
    """Registers a step run in the import's transaction after a merge that is kept; registering twice is harmless."""
    if step not in _after_merge:
        _after_merge.append(step)
    return step


def listeners() -> tuple[AfterMerge, ...]:
    return tuple(_after_merge)


def after_merge(session: Session, actor: Actor, changed_since: datetime) -> int:
    """Runs every listener on the members the import stamped at `changed_since` or later; the rows they changed."""
    return sum(step(session, actor, changed_since=changed_since) for step in _after_merge)
