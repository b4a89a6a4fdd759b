"""What a roster import is asked to do (options), what it counts, and what it gives back: shared by the import's
steps (staging, merge, first load).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from core.audit import Actor

BATCH = 5000
COPY_CHUNK_ROWS = 500  # rows per COPY write: about 100 kB
Progress = Callable[[str, int, int, int], None]  # phase, rows read, bytes done, bytes total


@dataclass
class ImportOptions:
    actor: Actor
    today: date
    filename: str
    dry_run: bool = False
    strict: bool = False
    county_code: str | None = None  # a county office may import only its own county's rows
    complete: bool = False  # the roster lists the whole register of its villages: who is missing is removed
    progress: Progress | None = None
    bulk_min_rows: int = 100_000  # PostgreSQL: accepted rows from which a load into a small register goes in bulk
    # PostgreSQL: the file size from which a roster for an empty register is loaded as it is read (about 100,000 CSV
    # rows); a smaller one takes the staged path, quick anyway.
    first_load_min_bytes: int = 16 << 20


@dataclass
class ImportCounts:
    rows: int = 0
    accepted: int = 0
    normalised: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    deceased: int = 0
    removed: int = 0
    households: int = 0
    households_incomplete: int = 0
    villages_created: int = 0


@dataclass
class ImportOutcome:
    import_id: int
    counts: ImportCounts
    applied: bool
    already_imported: int | None = None  # the id of an earlier import of the very same file
    extra_columns: list[str] = field(default_factory=list)
    file_format: str = ""
    encoding: str | None = None
    first_load: bool = False  # loaded into an empty register as it was read (PostgreSQL), not staged first
