"""The folder store: a document is written whole under its key, in folders it creates, with no temporary file left."""

from pathlib import Path

import pytest

from core.storage import FolderStore


def test_a_document_is_stored_whole_in_folders_made_for_it(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "documents")

    store.put("claims/7/abc.pdf", b"%PDF-1.7 first")
    store.put("claims/7/abc.pdf", b"%PDF-1.7 again")

    assert store.exists("claims/7/abc.pdf") and store.get("claims/7/abc.pdf") == b"%PDF-1.7 again"
    assert [p.name for p in (tmp_path / "documents" / "claims" / "7").iterdir()] == ["abc.pdf"]


@pytest.mark.parametrize("key", ["/etc/passwd", "claims/../../x.pdf", ""])
def test_a_key_outside_the_store_is_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="bad document key"):
        FolderStore(tmp_path).put(key, b"x")
