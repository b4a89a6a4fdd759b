"""Verification codes: what a certificate or notice states, signed with Ed25519 so anyone holding the public key can
check a printed code offline (format in docs/verification.md).

A code is `TH1.<payload>.<signature>`, both parts unpadded base64url; the payload is UTF-8 text of `|`-separated
fields whose first is the kind (`C` certificate, `N` notice). The signature is Ed25519 over the payload's bytes.
Ed25519 signatures are deterministic, so signing the same statement twice gives the same code (and the same PDF).
The short code printed beside the QR is the first 50 bits of SHA-256(signature) in Crockford base32: a lookup key
for typing in, not itself a proof.
"""

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "TH1"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_LENGTH = 10
_SHORT_CODE_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1"})


class BadCode(ValueError):
    """The text is not a code of this format (garbled, truncated, or from elsewhere)."""


@dataclass(frozen=True)
class SignedCode:
    kind: str
    fields: tuple[str, ...]
    payload: bytes
    signature: bytes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise BadCode("not base64url") from exc


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The deployment's signing key; the first process to need it creates it (O_EXCL, so two workers starting
    together cannot each make their own)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


@lru_cache(maxsize=8)
def key_at(path: Path) -> Ed25519PrivateKey:
    """The key of a deployment, read once per process (every verification and every job signs or checks with it)."""
    return load_or_create_key(path)


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key: Ed25519PrivateKey, kind: str, *fields: str) -> str:
    if any("|" in field for field in (kind, *fields)):
        raise ValueError("a signed field may not contain '|'")
    payload = "|".join((kind, *fields)).encode("utf-8")
    return f"{PREFIX}.{_b64(payload)}.{_b64(key.sign(payload))}"


def parse(code: str) -> SignedCode:
    """Splits a code into its parts without checking the signature; BadCode when it is not one."""
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise BadCode("not a TH1 code")
    payload, signature = _unb64(parts[1]), _unb64(parts[2])
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadCode("payload is not UTF-8") from exc
    kind, *fields = text.split("|")
    if len(signature) != 64 or not kind:
        raise BadCode("malformed signature or payload")
    return SignedCode(kind=kind, fields=tuple(fields), payload=payload, signature=signature)


def verify(public: Ed25519PublicKey, code: str) -> SignedCode | None:
    """The code's parts when its signature is good; None when it was altered or signed by another key."""
    signed = parse(code)
    try:
        public.verify(signed.signature, signed.payload)
    except InvalidSignature:
        return None
    return signed


def short_code(code: str) -> str:
    """Ten Crockford base32 characters derived from the signature (50 bits)."""
    bits = int.from_bytes(hashlib.sha256(parse(code).signature).digest()[:8], "big") >> (64 - 5 * SHORT_CODE_LENGTH)
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(SHORT_CODE_LENGTH)))


def format_short_code(short: str) -> str:
    return f"{short[:5]}-{short[5:]}"


def normalise_short_code(text: str) -> str | None:
    """What a person typed, as stored: case, dashes and spaces ignored, O/I/L read as 0/1/1; None if impossible."""
    cleaned = "".join(text.split()).replace("-", "").upper().translate(_SHORT_CODE_FIXES)
    if len(cleaned) != SHORT_CODE_LENGTH or any(char not in CROCKFORD for char in cleaned):
        return None
    return cleaned


def digest(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()
