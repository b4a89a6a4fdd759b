"""Verification anyone can do of a document's signed code (the QR's text or URL, or the short code typed in), for
every kind of document.

Why a registry: the signature check, the QR URL's form and the short code's normalisation are the same for a
certificate, a notice or (next) a claim's settlement notice; what a genuine code stands for is the domain's
record. Each domain registers its code kinds (the kind letter it signs, how many fields, how to find the record)
and, if it prints short codes, how to look one up; this module never imports a domain.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import Session

from core import signing
from core.settings import Settings

R = TypeVar("R")

STATE_LABELS = {
    "genuine": "真实有效",
    "not_started": "真实有效，尚未生效",
    "superseded": "已被新版本取代",
    "revoked": "已作废",
    "forged": "验证失败：伪造或被篡改",
    "not_found": "查无此凭证",
}


@dataclass(frozen=True)
class CodeKind:
    letter: str  # the kind signed into the code (core.signing.sign(key, letter, *fields))
    fields: int  # how many fields such a code signs
    check: Callable[[Session, tuple[str, ...]], Any]  # the domain's answer for a code whose signature holds


ShortCodeLookup = Callable[[Session, str], Any]  # a normalised short code -> the domain's answer, or None

_CODES: dict[str, CodeKind] = {}
_SHORT_CODES: list[ShortCodeLookup] = []


def register_code(kind: CodeKind) -> None:
    known = _CODES.get(kind.letter)
    if known is not None and known != kind:
        raise ValueError(f"code kind {kind.letter!r} is already registered")
    _CODES[kind.letter] = kind


def register_short_codes(lookup: ShortCodeLookup) -> None:
    if lookup not in _SHORT_CODES:
        _SHORT_CODES.append(lookup)


def check(session: Session, settings: Settings, text: str, *, forged: Callable[[], R], not_found: Callable[[], R]) -> R:
    """A QR code (its URL or the code itself) or a typed short code, checked against the signature and then the
    record of the kind it names; `forged` and `not_found` make the answers for a bad signature and an unknown code."""
    text = text.strip()
    if "/v/" in text:
        text = text.rsplit("/v/", 1)[1]
    if text.startswith(signing.PREFIX + "."):
        key = signing.key_at(settings.effective_signing_key_file)
        try:
            signed = signing.verify(key.public_key(), text)
        except signing.BadCode:
            return forged()
        if signed is None:
            return forged()
        kind = _CODES.get(signed.kind)
        if kind is None or len(signed.fields) != kind.fields:
            return not_found()
        return kind.check(session, signed.fields)
    short = signing.normalise_short_code(text)
    if short is None:
        return not_found()
    for lookup in _SHORT_CODES:
        found = lookup(session, short)
        if found is not None:
            return found
    return not_found()


def public_key_pem(settings: Settings) -> str:
    return signing.public_key_pem(signing.key_at(settings.effective_signing_key_file))
