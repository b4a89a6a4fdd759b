"""ID numbers never appear in full in pages, print or logs."""

import logging

from core.masking import IdMaskingFilter, mask_id_number, mask_ids_in_text


def test_mask_keeps_first_six_and_last_three() -> None:
    assert mask_id_number("433124198503151237") == "433124*********237"


def test_mask_of_text_hides_every_id_but_leaves_other_numbers() -> None:
    text = "member 433124198503151237 and 34052419800101001X, phone 13422116575, village 431221202220"
    masked = mask_ids_in_text(text)
    assert "433124198503151237" not in masked and "34052419800101001X" not in masked
    assert "433124*********237" in masked and "340524*********01X" in masked
    assert "13422116575" in masked and "431221202220" in masked


def test_log_filter_masks_ids_formatted_into_a_message() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "rejected %s", ("433124198503151237",), None)
    IdMaskingFilter().filter(record)
    assert record.getMessage() == "rejected 433124*********237"
