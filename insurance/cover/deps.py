"""Cover's loaders as FastAPI dependencies: the policy a path names, within the user's remit, or 404.

Why: most policy routes (cover's, and the documents' routes of certificates) start from the policy of the URL; the
service decides who sees it in its query, this names it once so no route forgets it.
"""

from typing import Annotated

from fastapi import Depends

from core.auth import CurrentUser, SessionDep
from insurance.cover import policies
from insurance.cover.models import Policy


def get_current_policy(policy_no: str, session: SessionDep, user: CurrentUser) -> Policy:
    """The policy of the `policy_no` path parameter, if the user may see it (an insurer: its own company's)."""
    return policies.get_policy(session, user, policy_no)


CurrentPolicy = Annotated[Policy, Depends(get_current_policy)]
