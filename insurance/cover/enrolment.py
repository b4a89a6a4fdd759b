"""Enrolment as a use case: queue a county's enrolment (a job), run it, read its state.

The set-based SQL that does the work is in enrolment_sql.py.
"""

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import audit, queue
from core.audit import Actor
from core.db import for_writing, new_session, utcnow
from core.errors import DomainError
from core.models import User
from insurance.cover.enrolment_sql import ProgressFn, enrol_county
from insurance.cover.errors import CoverCode, CoverConflictError, CoverNotFoundError
from insurance.cover.models import (
    Enrolment,
    EnrolmentStatus,
    Policy,
)
from insurance.cover.policies import check_enrollable, find_policy, find_visible_policy, own_policy

PROGRESS_KEY = "tehuibao:enrolment:{}:progress"  # Redis: how far a running enrolment got
ENROL_TIMEOUT = timedelta(hours=1)  # the worker's job timeout; an enrolment still "running" past it has died
ENROL_JOB = "insurance.cover.jobs.run_enrolment"


def enrolment_job_id(enrolment_id: int) -> str:
    """One job id per enrolment, whoever enqueues it (the web after the commit, or the sweeper)."""
    return f"enrolment-{enrolment_id}"


def start_enrolment(
    session: Session, user: User, policy_no: str, enrolled_on: date, *, kind: str = "enrol"
) -> Enrolment:
    """Records a queued enrolment (committed); the caller enqueues the job after the commit."""
    policy = own_policy(session, user, policy_no)
    return create_enrolment(session, Actor.of(user), policy, enrolled_on, kind=kind)


def create_enrolment(
    session: Session,
    actor: Actor,
    policy: Policy,
    enrolled_on: date,
    *,
    kind: str = "enrol",
    status: EnrolmentStatus = EnrolmentStatus.queued,
) -> Enrolment:
    """A queued enrolment of the policy's county (committed); one at a time per policy. Created running by a
    caller that runs it at once (enrol_now), so neither the sweeper nor a worker ever takes it."""
    enrolment = queue_enrolment(session, actor, policy, enrolled_on, kind=kind, status=status)
    session.commit()
    return enrolment


def queue_enrolment(
    session: Session, actor: Actor, policy: Policy, enrolled_on: date, *, kind: str, status: EnrolmentStatus
) -> Enrolment:
    check_enrollable(policy)
    running = session.exec(
        select(Enrolment.id).where(
            Enrolment.policy_id == policy.id,
            col(Enrolment.status).in_([EnrolmentStatus.queued, EnrolmentStatus.running]),
        )
    ).first()
    if running is not None:
        raise CoverConflictError("该保单正在参保中，请稍候", code=CoverCode.enrolment_running)
    enrolment = Enrolment(
        policy_id=policy.id or 0,
        kind=kind,
        enrolled_on=enrolled_on,
        actor=actor.name,
        actor_user_id=actor.user_id,
        status=status,
        started_at=utcnow() if status == EnrolmentStatus.running else None,
    )
    session.add(enrolment)
    session.flush()
    audit.record(
        session,
        actor,
        "queue_enrolment",
        "policy",
        policy.policy_no,
        after={"enrolment_id": enrolment.id, "enrolled_on": enrolled_on},
    )
    return enrolment


def get_enrolment(session: Session, user: User, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id)
    policy = find_visible_policy(session, user, enrolment.policy_id if enrolment else None)
    if enrolment is None or policy is None:
        raise CoverNotFoundError("参保记录不存在", code=CoverCode.enrolment_not_found, field="id")
    return enrolment


def last_enrolments(session: Session, rows: list[Policy]) -> dict[int, Enrolment]:
    """Per policy: its latest enrolment, for the home pages."""
    found: dict[int, Enrolment] = {}
    ids = [p.id for p in rows if p.id is not None]
    if not ids:
        return found
    for enrolment in session.exec(
        select(Enrolment).where(col(Enrolment.policy_id).in_(ids)).order_by(col(Enrolment.id))
    ):
        found[enrolment.policy_id] = enrolment
    return found


def list_enrolments(session: Session, policy: Policy) -> list[Enrolment]:
    return list(
        session.exec(select(Enrolment).where(Enrolment.policy_id == policy.id).order_by(col(Enrolment.id).desc()))
    )


def run_enrolment(engine: Engine, enrolment_id: int, *, progress: ProgressFn | None = None) -> Enrolment | None:
    """The worker's entry: claims a queued enrolment and runs it; None when another delivery claimed it first."""
    if not queue.claim(engine, Enrolment.__table__, enrolment_id):
        return None
    return _run_claimed(engine, enrolment_id, progress)


def enrol_now(
    engine: Engine, actor: Actor, policy_no: str, enrolled_on: date, *, progress: ProgressFn | None = None
) -> Enrolment:
    """The command line's (and the demo's) entry: records the enrolment as running and runs it in this process."""
    with new_session(engine) as session:
        policy = find_policy(session, policy_no)
        if policy is None:
            raise CoverNotFoundError(f"保单不存在: {policy_no}", code=CoverCode.policy_not_found, field="policy_no")
        enrolment = create_enrolment(session, actor, policy, enrolled_on, status=EnrolmentStatus.running)
    return _run_claimed(engine, enrolment.id or 0, progress)


def _run_claimed(engine: Engine, enrolment_id: int, progress: ProgressFn | None) -> Enrolment:
    """Whatever stops the run (a refusal, an error, Ctrl-C, a job timeout) marks it failed before propagating, so no
    enrolment stays running for nothing; its transaction never committed, so nothing of it was written."""
    try:
        with new_session(for_writing(engine)) as session:  # it reads the register, then writes the cover
            return enrol_county(session, enrolment_id, progress=progress)
    except DomainError as exc:
        queue.mark_failed(engine, Enrolment.__table__, enrolment_id, exc.message)
        raise
    except BaseException as exc:
        queue.mark_failed(
            engine,
            Enrolment.__table__,
            enrolment_id,
            f"参保失败，未写入任何数据: {type(exc).__name__}",
        )
        raise
