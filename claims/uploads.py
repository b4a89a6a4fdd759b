"""An uploaded claim document, checked before it is stored: its type told from its content (the first bytes), not
from its name, and its size against the configured limit. A PNG renamed `.pdf`, a PDF sent as `image/jpeg`, an
empty file or one above the limit is refused with a Chinese message naming the field.

Why from the content: a name and a declared type are whatever the client says; the checklist's reviewers open the
files, so what is stored must be what it claims to be (PDF, JPEG or PNG, which every browser shows). No web or
database imports: the service hands in the bytes (or the stream) and the limit from settings.
"""

import hashlib
from dataclasses import dataclass
from pathlib import PureWindowsPath
from typing import BinaryIO

from claims.errors import ClaimCode, ClaimInvalidError

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"

# The magic numbers: PDF (ISO 32000) `%PDF-`, JPEG's SOI marker and the start of its next marker, PNG's signature.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
EXTENSIONS: dict[str, str] = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
TYPE_NAMES: dict[str, str] = {PDF: "PDF 文件", JPEG: "JPEG 图片", PNG: "PNG 图片"}
# What a name's extension or a declared Content-Type may say for each type (browsers differ a little).
_NAME_EXTENSIONS: dict[str, str] = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".jpe": JPEG, ".png": PNG}
_DECLARED_ALIASES: dict[str, str] = {
    PDF: PDF,
    "application/x-pdf": PDF,
    JPEG: JPEG,
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    PNG: PNG,
    "image/x-png": PNG,
}
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CheckedUpload:
    """What the service records in `claim_document`: the sniffed type, the size, the digest and a clean name."""

    content_type: str
    extension: str
    size_bytes: int
    sha256: str
    filename: str


def sniff(content: bytes) -> str | None:
    """The content type by the first bytes, or None when it is none of PDF, JPEG, PNG."""
    for signature, content_type in SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None


def clean_filename(filename: str | None, fallback: str = "document") -> str:
    """The name without any folder (a browser on Windows may send `C:\\scans\\a.pdf`), at most 255 characters."""
    name = PureWindowsPath(filename or "").name.strip() or fallback
    return name[-255:]


def max_bytes_of(megabytes: int) -> int:
    return megabytes << 20


def store_key(claim_id: int, checked: CheckedUpload) -> str:
    """Where the bytes go in the store (core.storage): by claim and digest, so storing one file twice is harmless."""
    return f"claims/{claim_id}/{checked.sha256}{checked.extension}"


def check_upload(
    content: bytes,
    *,
    field: str,
    filename: str | None,
    max_bytes: int,
    declared_type: str | None = None,
    label: str = "上传的文件",
) -> CheckedUpload:
    """Refuses (ClaimInvalidError naming `field`) an empty or too large file, content that is not PDF, JPEG or PNG,
    and content whose name or declared type says another type. `label` is how the message names the document."""
    size = len(content)
    if size == 0:
        raise ClaimInvalidError(f"{label}是空文件", code=ClaimCode.upload_empty, field=field)
    if size > max_bytes:
        raise _too_large(label, field, max_bytes)
    content_type = sniff(content)
    name = clean_filename(filename)
    if content_type is None:
        raise ClaimInvalidError(
            f"{label}「{name}」不是 PDF、JPEG 或 PNG 文件（按文件内容判断）",
            code=ClaimCode.upload_type_unsupported,
            field=field,
        )
    suffix = PureWindowsPath(name).suffix.lower()
    named = _NAME_EXTENSIONS.get(suffix)
    if suffix and named != content_type:
        raise ClaimInvalidError(
            f"{label}「{name}」的内容是{TYPE_NAMES[content_type]}，与文件扩展名“{suffix}”不符",
            code=ClaimCode.upload_type_mismatch,
            field=field,
        )
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in _UNDECLARED and _DECLARED_ALIASES.get(declared) != content_type:
        raise ClaimInvalidError(
            f"{label}「{name}」的内容是{TYPE_NAMES[content_type]}，与声明的类型“{declared}”不符",
            code=ClaimCode.upload_type_mismatch,
            field=field,
        )
    return CheckedUpload(
        content_type=content_type,
        extension=EXTENSIONS[content_type],
        size_bytes=size,
        sha256=hashlib.sha256(content).hexdigest(),
        filename=name,
    )


def read_upload(
    stream: BinaryIO,
    *,
    field: str,
    filename: str | None,
    max_bytes: int,
    declared_type: str | None = None,
    label: str = "上传的文件",
) -> tuple[bytes, CheckedUpload]:
    """Reads a stream (an UploadFile's `.file`) up to the limit and checks it; a larger file is refused after
    `max_bytes + 1` bytes, without reading the rest."""
    parts: list[bytes] = []
    size = 0
    while chunk := stream.read(min(_CHUNK, max_bytes + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(label, field, max_bytes)
    content = b"".join(parts)
    return content, check_upload(
        content, field=field, filename=filename, max_bytes=max_bytes, declared_type=declared_type, label=label
    )


def _too_large(label: str, field: str, max_bytes: int) -> ClaimInvalidError:
    limit = f"{max_bytes >> 20} MB" if max_bytes >= 1 << 20 else f"{max_bytes} 字节"
    return ClaimInvalidError(f"{label}超过 {limit} 的大小限制", code=ClaimCode.upload_too_large, field=field)
