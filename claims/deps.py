"""Claims' loaders as FastAPI dependencies: the claim a path names, within the user's remit, or 404.

Why: every claim route starts from the claim of the URL; the query decides who sees it (claims.queries), this names
it once so no route forgets it.
"""

from typing import Annotated

from fastapi import Depends

from claims import queries
from claims.models import Claim
from core.auth import CurrentUser, SessionDep


def get_current_claim(claim_no: str, session: SessionDep, user: CurrentUser) -> Claim:
    """The claim of the `claim_no` path parameter, if the user may see it (an insurer: its own company's)."""
    return queries.get_claim(session, user, claim_no)


CurrentClaim = Annotated[Claim, Depends(get_current_claim)]
