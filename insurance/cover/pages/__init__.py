"""The cover pages, one module per business idea: policies (products, group policies, the policy page and its
lifecycle forms), industry (a new industry policy with its insured objects) and notices (enrolment notices and their
objections). One router for main.py; the industry form's fixed path comes before the policy page's `{policy_no}`."""

from fastapi import APIRouter

from insurance.cover.pages import industry, notices, policies

router = APIRouter(include_in_schema=False)
for _module in (industry, policies, notices):
    router.include_router(_module.router)
