"""Where finished PDFs are kept: one small interface, a folder by default (local, or a shared mount in production).

Keys are relative paths with forward slashes. A write is atomic (a temporary file renamed into place), so a worker
killed mid-write leaves either the whole document or none, and writing the same key twice with the same bytes is
harmless: that is what makes a re-run job produce its document once.

A write is durable when `put` returns: the file's bytes are synced before the rename, and the folder after it (and
each folder it had to create, in its parent), since a rename that only sits in the page cache can vanish in a crash
while the database, committed after `put`, says the document is there.
"""

import errno
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
        created = _make_folders(path.parent)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fdatasync(handle.fileno())  # the bytes (and the size), not the times: all a reader needs
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for folder in (path.parent, *(c.parent for c in created)):
            _sync_folder(folder)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _make_folders(folder: Path) -> list[Path]:
    """Creates the folder and its missing parents; the ones it created, deepest first (each needs its parent
    synced for its name to be durable)."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
    return missing


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as exc:  # a mount that cannot sync a folder (some network shares) commits renames itself
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(descriptor)


def get_store(settings: Settings) -> DocumentStore:
    return FolderStore(settings.effective_documents_dir)
