"""Claims on property: farm-house collapse (per room, after village verification), livestock dead or culled (per
head, by ear tag) and crops (area x sum per mu by growth stage x loss degree, with franchise and total loss).
Pure; a disaster's area-wide loss survey (next issue) feeds the same functions, one household at a time."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from claims.assessment.cover import Benefit, Cover, apply_limits, check_cover
from claims.assessment.explanation import Assessment, Ledger, LineKind
from claims.assessment.money import BP, percent, round_fen, yuan
from claims.reasons import ReasonCode

HOUSE_COLLAPSE = "house_collapse"
PER_ROOM_FEN = 400_000  # domain.md §2.1: 4,000 yuan a room, when the benefit does not say
STAGE_LABELS = {"seedling": "苗期", "tillering": "分蘖拔节期", "maturity": "成熟期"}


@dataclass(frozen=True)
class HouseFacts:
    rooms_collapsed: int
    village_verified: bool  # the village's (and township's) verification: a condition of payment
    peril: str = HOUSE_COLLAPSE

    def __post_init__(self) -> None:
        if self.rooms_collapsed < 0:
            raise ValueError("rooms below 0")


@dataclass(frozen=True)
class LivestockFacts:
    """The heads claimed by ear tag, matched against the ear tags on the policy's list of insured objects."""

    peril: str  # disease, epidemic, flood, culling...: the epidemic waiting period is the cover's `waiting_ends`
    ear_tags: tuple[str, ...]
    insured_tags: frozenset[str]
    culled_tags: frozenset[str] = frozenset()  # of the claimed heads, those culled by government order
    culling_subsidy_per_head_fen: int = 0  # deducted from a culled head's payout (保监发〔2015〕25号)
    harmless_disposal: bool = True  # the harmless-disposal record: a condition of payment
    sum_insured_per_head_fen: int | None = None  # None: the benefit's sum insured per head

    def __post_init__(self) -> None:
        if self.culling_subsidy_per_head_fen < 0:
            raise ValueError("culling subsidy below 0")


@dataclass(frozen=True)
class CropFacts:
    """One household's crop loss from the survey: the affected area, the loss degree and the growth stage."""

    peril: str
    area_mu: Decimal  # affected area, mu
    loss_bp: int  # loss degree in basis points (35 % = 3,500)
    stage: str | None = None  # growth stage on the incident date, where the product has stage sums
    sum_insured_per_mu_fen: int | None = None  # None: the stage sum, else the benefit's sum insured per mu

    def __post_init__(self) -> None:
        if self.area_mu < 0 or not 0 <= self.loss_bp <= 10_000:
            raise ValueError("area below 0 or loss degree outside 0-100 %")


def assess_house_collapse(facts: HouseFacts, cover: Cover, incident_date: date) -> Assessment:
    """Rooms x the amount per room, only after village verification, at most the household's sum insured."""
    per_room = int(cover.benefit.extra.get("per_room_fen", PER_ROOM_FEN)) if cover.benefit else 0
    ledger = Ledger(
        facts.rooms_collapsed * per_room, "倒塌房屋损失", f"倒塌{facts.rooms_collapsed}间 × {yuan(per_room)}/间"
    )
    if benefit := check_cover(ledger, cover, facts.peril, incident_date):
        if not facts.village_verified:
            ledger.reduce_to(
                0, LineKind.precondition, "未经村级核实", "须经村、乡镇核实后方可赔付", ReasonCode.documents_missing
            )
        ledger.cap(
            benefit.sum_insured_fen,
            LineKind.per_event_limit,
            "以每户保险金额为限",
            f"每户保险金额{yuan(benefit.sum_insured_fen)}",
            ReasonCode.per_event_limit,
        )
        apply_limits(ledger, cover, benefit.per_event_limit_fen)
    return ledger.result()


def _tag_list(tags: Iterable[str], shown: int = 10) -> str:
    ordered = sorted(tags)
    more = f"等{len(ordered)}个" if len(ordered) > shown else ""
    return "、".join(ordered[:shown]) + more


def assess_livestock_loss(facts: LivestockFacts, cover: Cover, incident_date: date) -> Assessment:
    """Heads x the sum per head; heads whose ear tag is not on the policy are not insured; a culled head's
    payout is less the culling subsidy; within the per-head limit and what is left of the annual limit."""
    benefit = cover.benefit
    per_head = facts.sum_insured_per_head_fen or (benefit.sum_insured_fen if benefit else 0)
    tags = {tag.strip() for tag in facts.ear_tags if tag.strip()}
    repeated = len([tag for tag in facts.ear_tags if tag.strip()]) - len(tags)
    note = f"（重复耳标{repeated}个不重复计算）" if repeated else ""
    ledger = Ledger(len(tags) * per_head, "死亡（扑杀）牲畜损失", f"{len(tags)}头 × {yuan(per_head)}/头{note}")
    if benefit := check_cover(ledger, cover, facts.peril, incident_date):
        uninsured = tags - facts.insured_tags
        ledger.deduct(
            len(uninsured) * per_head,
            LineKind.excluded,
            "耳标不在投保清单内",
            f"{len(uninsured)}头未投保：{_tag_list(uninsured)}",
            ReasonCode.object_not_insured,
        )
        insured = tags & facts.insured_tags
        if not facts.harmless_disposal:
            ledger.reduce_to(
                0,
                LineKind.precondition,
                "缺少无害化处理记录",
                "无害化处理是赔付的前提条件",
                ReasonCode.documents_missing,
            )
        culled = insured & facts.culled_tags
        if benefit.extra.get("culling_subsidy_deducted", True):
            subsidy = min(facts.culling_subsidy_per_head_fen, per_head)
            ledger.deduct(
                len(culled) * subsidy,
                LineKind.subsidy,
                "扣除政府扑杀补贴",
                f"扑杀{len(culled)}头 × 补贴{yuan(subsidy)}/头",
            )
        per_event = None if benefit.per_event_limit_fen is None else benefit.per_event_limit_fen * len(insured)
        apply_limits(ledger, cover, per_event)
    return ledger.result()


def stage_sum_insured(benefit: Benefit | None, facts: CropFacts) -> tuple[int, str]:
    """The sum insured per mu on the incident date and its words: the facts' own, the growth stage's, or the
    benefit's. A product with stage sums needs the stage (the service takes it from the county's calendar)."""
    if facts.sum_insured_per_mu_fen is not None:
        return facts.sum_insured_per_mu_fen, ""
    if benefit is None:
        return 0, ""
    stages = benefit.extra.get("stage_sum_insured_fen") or {}
    if not stages:
        return benefit.sum_insured_fen, ""
    if facts.stage not in stages:
        raise ValueError(f"growth stage {facts.stage!r} not among {sorted(stages)}")
    return int(stages[facts.stage]), f"（{STAGE_LABELS.get(facts.stage, facts.stage)}）"


def assess_crop_loss(facts: CropFacts, cover: Cover, incident_date: date) -> Assessment:
    """Insured affected area x the sum per mu x the loss degree, half up once: under the franchise nothing, from
    the total-loss degree everything; within the per-mu limit and what is left of the annual limit."""
    per_mu, stage = stage_sum_insured(cover.benefit, facts)
    ledger = Ledger(
        round_fen(facts.area_mu * per_mu), "受灾作物保险金额", f"受灾面积{facts.area_mu}亩 × {yuan(per_mu)}/亩{stage}"
    )
    if benefit := check_cover(ledger, cover, facts.peril, incident_date):
        area = min(facts.area_mu, cover.insured_units)
        if area < facts.area_mu:
            ledger.reduce_to(
                round_fen(area * per_mu),
                LineKind.excluded,
                "超出投保面积",
                f"投保面积{cover.insured_units}亩，超出部分不予赔付",
                ReasonCode.object_not_insured,
            )
        franchise = int(benefit.extra.get("franchise_bp", 0))
        total_loss = int(benefit.extra.get("total_loss_bp", 10_000))
        if facts.loss_bp < franchise:
            ledger.reduce_to(
                0,
                LineKind.deductible,
                "损失率未达起赔点",
                f"损失率{percent(facts.loss_bp)}，低于起赔点{percent(franchise)}",
                ReasonCode.deductible,
            )
        elif facts.loss_bp < total_loss:
            ledger.reduce_to(
                round_fen(area * per_mu * facts.loss_bp / BP),
                LineKind.ratio,
                f"按损失率{percent(facts.loss_bp)}赔付",
                f"{area}亩 × {yuan(per_mu)}/亩 × {percent(facts.loss_bp)}，四舍五入到分",
            )
        else:
            ledger.note(
                LineKind.ratio, "按全损赔付", f"损失率{percent(facts.loss_bp)}，达到全损标准{percent(total_loss)}"
            )
        per_event = None if benefit.per_event_limit_fen is None else round_fen(area * benefit.per_event_limit_fen)
        apply_limits(ledger, cover, per_event)
    return ledger.result()
