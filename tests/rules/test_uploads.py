"""An uploaded claim document is judged by its content: real PDF, JPEG and PNG files pass; a PNG renamed `.pdf`, a
PDF declared as an image, an empty file and one above the limit are refused with a Chinese message naming the
field."""

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader, PdfWriter

from claims.errors import ClaimCode, ClaimInvalidError
from claims.uploads import JPEG, PDF, PNG, check_upload, clean_filename, max_bytes_of, read_upload, sniff, store_key

LIMIT = max_bytes_of(20)


def real_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def real_image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def refused(
    content: bytes,
    *,
    field: str = "file",
    filename: str = "x.pdf",
    max_bytes: int = LIMIT,
    declared_type: str | None = None,
    label: str = "上传的文件",
) -> ClaimInvalidError:
    with pytest.raises(ClaimInvalidError) as caught:
        check_upload(
            content, field=field, filename=filename, max_bytes=max_bytes, declared_type=declared_type, label=label
        )
    return caught.value


def test_a_real_small_pdf_is_accepted_with_its_digest() -> None:
    content = real_pdf()
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    checked = check_upload(content, field="file", filename="出院小结.pdf", max_bytes=LIMIT, declared_type=PDF)
    assert (checked.content_type, checked.extension, checked.size_bytes) == (PDF, ".pdf", len(content))
    assert checked.filename == "出院小结.pdf" and len(checked.sha256) == 64
    assert store_key(7, checked) == f"claims/7/{checked.sha256}.pdf"


@pytest.mark.parametrize(("fmt", "name", "content_type"), [("PNG", "照片.PNG", PNG), ("JPEG", "照片.jpeg", JPEG)])
def test_real_images_are_accepted(fmt: str, name: str, content_type: str) -> None:
    checked = check_upload(real_image(fmt), field="photos", filename=name, max_bytes=LIMIT, declared_type=content_type)
    assert checked.content_type == content_type


def test_a_png_renamed_pdf_is_refused_naming_the_field() -> None:
    error = refused(real_image("PNG"), field="invoices", filename="发票.pdf", label="医疗收费票据")
    assert (error.code, error.field, error.status_code) == (ClaimCode.upload_type_mismatch, "invoices", 422)
    assert error.message == "医疗收费票据「发票.pdf」的内容是PNG 图片，与文件扩展名“.pdf”不符"


def test_a_pdf_declared_as_an_image_is_refused() -> None:
    error = refused(real_pdf(), filename="scan", declared_type="image/jpeg")
    assert error.code == ClaimCode.upload_type_mismatch and "image/jpeg" in error.message


def test_content_that_is_no_pdf_jpeg_or_png_is_refused_whatever_its_name() -> None:
    error = refused(b"GIF89a\x01\x00\x01\x00", filename="照片.png")
    assert error.code == ClaimCode.upload_type_unsupported
    assert error.message == "上传的文件「照片.png」不是 PDF、JPEG 或 PNG 文件（按文件内容判断）"


def test_an_empty_file_is_refused() -> None:
    error = refused(b"", label="理赔申请书")
    assert (error.code, error.message) == (ClaimCode.upload_empty, "理赔申请书是空文件")


def test_a_file_above_the_limit_is_refused_and_one_at_the_limit_accepted() -> None:
    content = real_pdf()
    error = refused(content, max_bytes=len(content) - 1)
    assert error.code == ClaimCode.upload_too_large and "大小限制" in error.message
    assert check_upload(content, field="file", filename="a.pdf", max_bytes=len(content)).size_bytes == len(content)
    assert refused(b"%PDF-" + b"0" * (2 << 20), max_bytes=max_bytes_of(2)).message == "上传的文件超过 2 MB 的大小限制"


def test_a_stream_above_the_limit_is_refused_without_reading_it_all() -> None:
    stream = io.BytesIO(b"%PDF-" + b"0" * (5 << 20))
    with pytest.raises(ClaimInvalidError) as caught:
        read_upload(stream, field="file", filename="a.pdf", max_bytes=1 << 20)
    assert caught.value.code == ClaimCode.upload_too_large
    assert stream.tell() == (1 << 20) + 1


def test_a_stream_within_the_limit_is_read_whole_and_checked() -> None:
    content = real_image("JPEG")
    data, checked = read_upload(io.BytesIO(content), field="file", filename=None, max_bytes=LIMIT)
    assert data == content and checked.content_type == JPEG and checked.filename == "document"


def test_a_windows_path_and_an_octet_stream_declaration_are_harmless() -> None:
    checked = check_upload(
        real_pdf(),
        field="file",
        filename="C:\\扫描\\死亡证明.pdf",
        max_bytes=LIMIT,
        declared_type="application/octet-stream",
    )
    assert checked.filename == "死亡证明.pdf"
    assert clean_filename("../../etc/passwd") == "passwd"


@given(st.binary(max_size=64))
def test_only_the_three_signatures_are_recognised(head: bytes) -> None:
    kind = sniff(head)
    assert kind in (None, PDF, JPEG, PNG)
    if kind is not None:
        assert head.startswith({PDF: b"%PDF-", JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n"}[kind])
