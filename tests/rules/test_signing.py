"""Verification codes: sign and verify, any change to what was signed fails, short codes survive how people type
them, and the offline check documented in docs/verification.md works as written."""

import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from core import signing

KEY = Ed25519PrivateKey.generate()
FIELDS = ("TH202743312400001-4331241012010001", "1", "2027-01-01", "2027-12-31", "0123456789abcdef" * 2)
DOC = Path(__file__).resolve().parents[2] / "docs" / "verification.md"


def test_a_code_signed_by_the_key_verifies_and_gives_back_its_fields() -> None:
    code = signing.sign(KEY, "C", *FIELDS)
    signed = signing.verify(KEY.public_key(), code)
    assert signed is not None and signed.kind == "C" and signed.fields == FIELDS


def test_signing_the_same_fields_twice_gives_the_same_code() -> None:
    assert signing.sign(KEY, "C", *FIELDS) == signing.sign(KEY, "C", *FIELDS)


@given(st.integers(min_value=0, max_value=4), st.text(min_size=1, max_size=3).filter(lambda t: "|" not in t))
def test_any_change_to_a_signed_field_fails_verification(index: int, extra: str) -> None:
    code = signing.sign(KEY, "C", *FIELDS)
    prefix, _, signature = code.split(".")
    changed = list(FIELDS)
    changed[index] += extra
    payload = "|".join(["C", *changed]).encode()
    assert signing.verify(KEY.public_key(), f"{prefix}.{signing._b64(payload)}.{signature}") is None


def test_a_code_signed_by_another_key_fails() -> None:
    other = Ed25519PrivateKey.generate()
    assert signing.verify(KEY.public_key(), signing.sign(other, "C", *FIELDS)) is None


@given(st.sampled_from(["", "TH1", "TH1..", "TH2.AAAA.BBBB", "TH1.!!!.@@@", "TH1.QQ.QQ"]))
def test_garbage_is_not_a_code(text: str) -> None:
    try:
        signing.parse(text)
    except signing.BadCode:
        return
    raise AssertionError(f"{text!r} parsed")


def test_a_short_code_is_read_whatever_the_case_dashes_spaces_and_look_alike_letters() -> None:
    short = signing.short_code(signing.sign(KEY, "C", *FIELDS))
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{10}", short)
    typed = signing.format_short_code(short).lower().replace("0", "o").replace("1", "l")
    assert signing.normalise_short_code(f" {typed} ") == short
    assert signing.normalise_short_code("ABCDE-1234") is None
    assert signing.normalise_short_code("ABCDE-1234U") is None


def test_the_offline_check_in_the_documentation_accepts_a_genuine_code_and_rejects_an_altered_one() -> None:
    source = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert source is not None
    namespace: dict[str, object] = {}
    exec(compile(source.group(1), str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation's example
    check = namespace["check"]
    code = signing.sign(KEY, "C", *FIELDS)
    pem = signing.public_key_pem(KEY).encode()
    assert check(code, pem) == ["C", *FIELDS]  # type: ignore[operator]
    prefix, _, signature = code.split(".")
    forged = signing._b64(signing.parse(code).payload.replace(b"|1|", b"|2|"))
    assert check(f"{prefix}.{forged}.{signature}", pem) is None  # type: ignore[operator]
