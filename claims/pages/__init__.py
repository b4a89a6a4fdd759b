"""The claims pages, one module per business idea: queues (the work queues per role and the filing form), claim (the
claim page and the forms of its steps) and settlements (the settlement-sheet imports). One router for main.py;
queues comes first, so the filing form's fixed path /claims/new is matched before the claim page's {claim_no}."""

from fastapi import APIRouter

from claims.pages import claim, queues, settlements

router = APIRouter(include_in_schema=False)
for _module in (queues, claim, settlements):
    router.include_router(_module.router)
