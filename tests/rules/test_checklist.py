"""The documents each claim type needs (domain.md §3.2) and what is missing, all at once (Art. 22)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.checklist import CHECKLISTS, DOCUMENT_LABELS, Condition, checklist, codes, is_complete, missing
from claims.status import ClaimType

COMMON = ["claim_form", "claimant_id", "bank_card"]


def required(claim_type: ClaimType) -> list[str]:
    return [spec.code for spec in checklist(claim_type) if spec.required]


def test_every_claim_type_has_a_checklist_starting_with_the_form_the_id_and_the_card() -> None:
    assert set(CHECKLISTS) == set(ClaimType)
    for claim_type in ClaimType:
        assert [spec.code for spec in checklist(claim_type)][:3] == COMMON
        assert all(spec.required for spec in checklist(claim_type)[:3])


@pytest.mark.parametrize(
    ("claim_type", "own"),
    [
        (ClaimType.supplementary_medical, ["invoices", "settlement_sheet", "discharge_summary", "itemised_bill"]),
        (
            ClaimType.accidental_death,
            ["death_certificate", "registration_cancellation", "accident_proof", "relationship_proof"],
        ),
        (ClaimType.illness_death, ["death_certificate", "registration_cancellation", "relationship_proof"]),
        (ClaimType.accidental_disability, ["disability_assessment", "medical_records"]),
        (ClaimType.house_collapse, ["village_verification", "disaster_record", "photos"]),
        (ClaimType.livestock_loss, ["ear_tag_list", "vet_cause_of_death", "harmless_disposal_record", "photos"]),
        (ClaimType.crop_loss, ["survey_report", "public_notice_record"]),
    ],
)
def test_each_type_requires_the_documents_of_domain_3_2(claim_type: ClaimType, own: list[str]) -> None:
    assert required(claim_type) == COMMON + own


def test_a_medical_claim_without_its_settlement_sheet_is_incomplete() -> None:
    present = [c for c in required(ClaimType.supplementary_medical) if c != "settlement_sheet"]
    assert [spec.code for spec in missing(ClaimType.supplementary_medical, present)] == ["settlement_sheet"]
    assert not is_complete(ClaimType.supplementary_medical, present)
    assert is_complete(ClaimType.supplementary_medical, [*present, "settlement_sheet"])


def test_nothing_uploaded_lists_every_required_document_at_once_in_checklist_order() -> None:
    listed = missing(ClaimType.accidental_death, [])
    assert [spec.code for spec in listed] == required(ClaimType.accidental_death)
    assert [spec.label for spec in listed][:2] == ["理赔申请书", "申请人身份证明"]


def test_optional_documents_are_never_missing() -> None:
    assert is_complete(ClaimType.crop_loss, required(ClaimType.crop_loss))  # photos are optional for crops
    assert "photos" in codes(ClaimType.crop_loss)


def test_culled_livestock_also_needs_the_cull_order_and_subsidy_record() -> None:
    present = required(ClaimType.livestock_loss)
    assert is_complete(ClaimType.livestock_loss, present)
    assert [s.code for s in missing(ClaimType.livestock_loss, present, {Condition.culled})] == [
        "cull_order",
        "cull_subsidy_record",
    ]
    assert is_complete(ClaimType.livestock_loss, [*present, "cull_order", "cull_subsidy_record"], {"culled"})


def test_an_accidents_settlement_sheet_is_needed_only_when_basic_medical_insurance_paid() -> None:
    present = required(ClaimType.accidental_medical)
    assert is_complete(ClaimType.accidental_medical, present)
    assert [s.code for s in missing(ClaimType.accidental_medical, present, {Condition.bmi_paid})] == [
        "settlement_sheet"
    ]
    assert [s.code for s in missing(ClaimType.accidental_medical, present, {Condition.hospital_stay})] == [
        "discharge_summary"
    ]


def test_unknown_and_repeated_codes_change_nothing() -> None:
    present = [*required(ClaimType.house_collapse), "photos", "not_a_document"]
    assert missing(ClaimType.house_collapse, present) == []


def test_a_claim_type_may_be_given_as_its_code() -> None:
    assert checklist("crop_loss") == checklist(ClaimType.crop_loss)


def test_every_document_has_a_chinese_label() -> None:
    for specs in CHECKLISTS.values():
        for spec in specs:
            assert spec.label == DOCUMENT_LABELS[spec.code]
            assert all(not ("a" <= ch.lower() <= "z") for ch in spec.label.replace("JR/T", ""))


@given(
    st.sampled_from(list(ClaimType)),
    st.sets(st.sampled_from(sorted(DOCUMENT_LABELS))),
    st.sets(st.sampled_from(list(Condition))),
)
def test_missing_is_exactly_the_needed_documents_not_present(
    claim_type: ClaimType, present: set[str], conditions: set[Condition]
) -> None:
    listed = missing(claim_type, present, conditions)
    assert not {spec.code for spec in listed} & present
    assert all(spec.needed(conditions) for spec in listed)
    # uploading what is listed completes the claim, and nothing else is ever asked for
    assert is_complete(claim_type, present | {spec.code for spec in listed}, conditions)
    assert {spec.code for spec in listed} <= codes(claim_type)
