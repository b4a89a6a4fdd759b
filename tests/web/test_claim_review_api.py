"""The review sample through the API on SQLite and PostgreSQL: a decision drawn at random (percent 100) or by
risk (above the amount, or unusual for its diagnosis), none at 0, the supervisor's list and the audited outcome,
and another insurer's supervisor answered 404."""

import random
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claims import review
from claims.models import Claim, ClaimReview
from claims.rules.review import MIN_PEERS, SamplePolicy
from claims.status import ClaimStatus, ClaimType
from core.db import local_today, utcnow
from core.settings import Settings
from main import create_app
from tests.builders import bearer, login_page
from tests.cover_builders import audit_rows, make_other_insurer
from tests.web.test_claims_api import MEDICAL_FACTS, World, make_world, ready, step, writer

# the supplementary medical claim of MEDICAL_FACTS is assessed at 3,400 yuan (test_claims_api)
PAYABLE_FEN = 340_000


@pytest.fixture
def sampled(session: Session, engine: Engine, tmp_path: Path, settings: Settings, request: Any) -> Iterator[World]:
    """A world whose app samples with the (percent, risk yuan) the test passes by indirect parametrization."""
    percent, risk_yuan = request.param
    update = {"claim_review_sample_percent": percent, "claim_review_risk_yuan": risk_yuan}
    with TestClient(create_app(settings.model_copy(update=update), engine)) as client:
        yield make_world(session, engine, tmp_path, client)


def decided(world: World) -> dict[str, Any]:
    assessed = ready(world, ClaimType.supplementary_medical, MEDICAL_FACTS, main_diagnosis="肺炎")
    assert assessed["payable_fen"] == PAYABLE_FEN
    response = step(
        world, assessed["claim_no"], "decision", world.supervisor, version=assessed["version"], decision="approve"
    )
    assert response.status_code == 200 and response.json()["status"] == "approved", response.text
    return response.json()


def reviews_of(world: World, claim_no: str) -> list[dict[str, Any]]:
    response = world.client.get(f"/api/claims/{claim_no}/reviews", headers=world.handler)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("sampled", [(100, 100_000)], indirect=True)
def test_at_one_hundred_percent_every_decision_gets_a_random_review_recorded_with_an_audit(
    sampled: World, engine: Engine
) -> None:
    world = sampled
    no = decided(world)["claim_no"]
    [row] = reviews_of(world, no)
    assert (row["kind"], row["reason"], row["outcome"]) == ("random_sample", "random", "pending")
    assert (row["kind_label"], row["reason_label"], row["outcome_label"]) == ("随机抽查", "随机抽中", "待复核")

    listed = world.client.get("/api/claims/reviews?outcome=pending", headers=world.supervisor2).json()
    assert listed["count"] == 1 and listed["data"][0]["claim_no"] == no
    assert world.client.get("/api/claims/reviews", headers=world.handler).status_code == 403

    path = f"/api/claims/{no}/reviews/{row['id']}"
    own = world.client.post(path, json={"outcome": "agreed"}, headers=world.supervisor)
    assert own.status_code == 409 and own.json()["code"] == "same_person"
    bare = world.client.post(path, json={"outcome": "disagreed"}, headers=world.supervisor2)
    assert bare.status_code == 422 and bare.json()["field"] == "note"
    done = world.client.post(
        path, json={"outcome": "disagreed", "note": "住院天数与发票不符"}, headers=world.supervisor2
    )
    assert done.status_code == 200, done.text
    assert (done.json()["outcome"], done.json()["reviewer"]) == ("disagreed", "supervisor2")
    again = world.client.post(path, json={"outcome": "agreed"}, headers=world.supervisor2)
    assert again.status_code == 409 and again.json()["code"] == "review_done"

    [audit] = audit_rows(engine, "record_review", "claim", no)
    assert audit["actor"] == "supervisor2"
    assert audit["after"]["review_outcome"] == "disagreed"
    assert world.client.get("/api/claims/reviews", headers=world.supervisor2).json()["count"] == 0
    assert world.client.get("/api/claims/reviews?outcome=disagreed", headers=world.supervisor2).json()["count"] == 1


@pytest.mark.parametrize("sampled", [(100, 100_000)], indirect=True)
def test_another_insurers_supervisor_finds_no_review(sampled: World, engine: Engine) -> None:
    world = sampled
    no = decided(world)["claim_no"]
    [row] = reviews_of(world, no)
    with writer(engine) as session:
        make_other_insurer(session)
    other = bearer(world.client, "supervisor-b")
    response = world.client.post(f"/api/claims/{no}/reviews/{row['id']}", json={"outcome": "agreed"}, headers=other)
    assert response.status_code == 404
    assert world.client.get("/api/claims/reviews", headers=other).json()["count"] == 0


@pytest.mark.parametrize("sampled", [(0, 1000)], indirect=True)
def test_a_decision_above_the_risk_amount_gets_a_risk_review_and_none_at_random(sampled: World) -> None:
    no = decided(sampled)["claim_no"]
    assert [(r["kind"], r["reason"]) for r in reviews_of(sampled, no)] == [("risk_sample", "amount_above_threshold")]


@pytest.mark.parametrize("sampled", [(0, 100_000)], indirect=True)
def test_at_zero_percent_below_the_risk_amount_no_review(sampled: World) -> None:
    assert reviews_of(sampled, decided(sampled)["claim_no"]) == []


@pytest.mark.parametrize("sampled", [(0, 100_000)], indirect=True)
def test_an_amount_unusual_for_its_diagnosis_gets_a_risk_review_with_ten_peers(sampled: World, engine: Engine) -> None:
    """Ten agreed claims of the same diagnosis at 1,000 yuan make 3,400 yuan unusual; nine do not."""
    first = decided(sampled)  # the template the peers are copied from
    with writer(engine) as session:
        template = session.exec(select(Claim).where(Claim.claim_no == first["claim_no"])).one()
        columns = template.model_dump(exclude={"id", "claim_no", "settlement_no", "version"})
        for index in range(MIN_PEERS - 1):
            peer = Claim(**columns, claim_no=f"LPPEER{index:04d}")
            peer.payable_fen, peer.status, peer.decided_at = 100_000, ClaimStatus.approved, utcnow()
            session.add(peer)
        session.commit()
        template.payable_fen = PAYABLE_FEN
        policy = SamplePolicy(percent=0, risk_fen=10_000_000)
        today = local_today()
        # the decided claim itself at 3,400 yuan is a peer of the next: nine at 1,000 + one at 3,400 = 10 peers
        assert len(review.peer_amounts(session, template, today)) == MIN_PEERS - 1
        probe = Claim(**columns, claim_no="LPPROBE")
        probe.payable_fen = PAYABLE_FEN
        session.add(probe)
        session.flush()
        assert len(review.peer_amounts(session, probe, today)) == MIN_PEERS
        # average (9 x 1,000 + 3,400) / 10 = 1,240; 1.5x = 1,860 < 3,400
        [pick] = review.sample_decision(session, probe, policy, today=today, rng=random.Random(1))
        assert (pick.kind, pick.reason) == ("risk_sample", "unusual_amount")
        # a year and more ago the peers no longer count
        assert review.peer_amounts(session, probe, today + timedelta(days=400)) == []
        probe.main_diagnosis = "骨折"
        assert review.peer_amounts(session, probe, today) == []
        session.rollback()
    with writer(engine) as session:
        assert session.exec(select(ClaimReview).where(ClaimReview.reason == "unusual_amount")).all() == []


@pytest.mark.parametrize("sampled", [(100, 100_000)], indirect=True)
def test_the_supervisor_works_the_review_sample_from_the_pages(sampled: World) -> None:
    world = sampled
    no = decided(world)["claim_no"]
    [row] = reviews_of(world, no)
    login_page(world.client, "supervisor2")
    queue = world.client.get("/claims")
    sample = re.search(r'<table class="queue" data-queue="review-sample">.*?</table>', queue.text, re.S)
    assert sample is not None and no in sample.group(0) and "随机抽查" in sample.group(0)
    page = world.client.get(f"/claims/{no}")
    assert f'id="review-form-{row["id"]}"' in page.text and "复核记录" in page.text

    refused = world.client.post(f"/claims/{no}/reviews/{row['id']}", data={"outcome": "disagreed"})
    assert refused.status_code == 422 and "不同意时须填写复核意见" in refused.text
    done = world.client.post(f"/claims/{no}/reviews/{row['id']}", data={"outcome": "agreed"}, follow_redirects=False)
    assert done.status_code == 303
    page = world.client.get(f"/claims/{no}")
    assert f'id="review-form-{row["id"]}"' not in page.text and "同意" in page.text
    assert "暂无待复核的抽查案件" in world.client.get("/claims").text

    login_page(world.client, "handler")
    assert 'data-queue="review-sample"' not in world.client.get("/claims").text
