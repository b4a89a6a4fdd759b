"""Where finished PDFs are kept: one small interface, a folder by default (local, or a shared mount in production).

Keys are relative paths with forward slashes. A write is atomic (a temporary file renamed into place), so a worker
killed mid-write leaves either the whole document or none, and writing the same key twice with the same bytes is
harmless: that is what makes a re-run job produce its document once.
"""

import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Protocol

from core.settings import Settings


class DocumentStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class FolderStore:
    """A folder; several workers on several machines may share it (NFS, SMB) since writes are renames."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"bad document key {key!r}")
        return self.root.joinpath(*relative.parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def get_store(settings: Settings) -> DocumentStore:
    return FolderStore(settings.effective_documents_dir)
