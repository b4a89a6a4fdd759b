"""The project's own synthetic rosters of registered poor households (花名册), in the sample files' form.

Why it exists: the demo (`make run`), the benchmark (4.45 million members) and the tests all need rosters
that look like the ones in shared/data (README "Columns"), but far larger than the samples and with a known
answer key for every defect kind. Real rosters cannot be used: they carry real ID numbers.

What it guarantees (and the tests check):

- Rows are tuples of 15 strings in `COLUMNS` order, exactly as a roster CSV holds them.
- ID numbers have the GB 11643 form and check character, agree with 性别 and 出生日期, and are unique in the
  whole output (4.45 million members checked), WITHOUT a set of the IDs issued.
  Uniqueness is by construction: an ID is county + birth date + sequence + check, and the address code is
  always the household's county. Counties are generated one after the other, each in one contiguous run, so
  one counter per (birth date, sex) for the current county (an `array` of ~88,000 small ints, reset per
  county) says how many IDs that bucket has issued. The k-th person of a bucket takes the k-th value of a
  fixed rotation of the 500 odd (men) or 499 even (women) sequence numbers, so two people of one bucket can
  never share a sequence. A full bucket moves the person one day (the age margins below allow it); beyond
  that the generator refuses rather than repeat an ID. Memory is therefore bounded by the number of days,
  not by the number of members. Limits per county: ~999 IDs per birth date (~36 million members), and its
  10-25 townships x 799 village numbers (201..999) x 30-150 households, i.e. about 2-5 million members; the
  default 18 counties thus hold the province's 4.45 million several times over.
- Ages agree with relations (README "Households"): every gap in days is kept 2 days clear of the ends of its
  interval of whole years, so 1-day moves of both members can never break the rule.
- Deterministic for a seed. Names of townships and villages depend only on their codes (never on the seed),
  so the same code always carries the same names in every roster this module writes.

Names and places come from `insurance.demo.names`; defective rosters with an answer key are test data
(`tests/roster_defects.py`). It is a pure module: the standard library only, and openpyxl inside `write_xlsx`.
"""

import csv
import itertools
import random
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from insurance.demo.names import (
    _CAUSE_TABLE,
    _DATE_EPOCH,
    _ETHNICITY_TABLES,
    _EXIT_YEAR_WEIGHTS,
    _GIVEN_NAMES,
    _HEAD_AGE_TABLE,
    _HOUSEHOLD_TYPE_TABLE,
    _MAX_AGE_YEARS,
    _NAME_POOL_BITS,
    _SEQ_CAPACITY,
    _SEX,
    _SIZE_TABLE,
    _SURNAMES,
    DEFAULT_COUNTIES,
    ROSTER_DATE,
    _county_plan,
    _table,
    _village_name,
    county_names,
)
from insurance.register.identifiers import ID_CHECK_CHARS, ID_WEIGHTS
from insurance.register.roster import COLUMNS, HEAD_RELATION, RELATIONS

# ---------------------------------------------------------------------------------------------------------------
# ID pieces, with their weighted sums precomputed: computing id_check_char per member would cost ~3 us per row,
# half the time budget. The fast sums use the same ID_WEIGHTS and ID_CHECK_CHARS; tests compare with id_check_char.


def _weighted(digits: str, weights: Sequence[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


@dataclass(frozen=True)
class _DateTable:
    """Every day from 1900-01-01 to the roster date: YYYYMMDD, YYYY-MM-DD and the weighted sum of its 8 digits."""

    last: int  # index of the roster date
    compact: tuple[str, ...]
    iso: tuple[str, ...]
    sums: tuple[int, ...]


@lru_cache(maxsize=2)
def _date_table(roster_date: date) -> _DateTable:
    epoch = _DATE_EPOCH.toordinal()
    days = [date.fromordinal(epoch + i) for i in range(roster_date.toordinal() - epoch + 1)]
    compact = tuple(d.strftime("%Y%m%d") for d in days)
    weights = ID_WEIGHTS[6:14]
    return _DateTable(
        last=len(days) - 1,
        compact=compact,
        iso=tuple(d.isoformat() for d in days),
        sums=tuple(_weighted(c, weights) for c in compact),
    )


def _sequence_table(county: str, male: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The sequence numbers of one sex, in a fixed per-county shuffled order, with their weighted sums."""
    values = list(range(1, 1000, 2)) if male else list(range(2, 1000, 2))
    random.Random(f"seq-{county}-{male}").shuffle(values)
    texts = tuple(f"{v:03d}" for v in values)
    return texts, tuple(_weighted(t, ID_WEIGHTS[14:17]) for t in texts)


def _years_lo(years: int) -> int:
    """Fewest days that are surely `years` whole years, plus a 2-day margin for one 1-day move at each end."""
    return years * 365 + years // 4 + 3


def _years_hi(years: int) -> int:
    """Most days that are surely less than `years + 1` whole years, less the same margin."""
    return (years + 1) * 365 + (years + 1) // 4 - 3


_LO18, _LO20, _LO42, _LO60 = _years_lo(18), _years_lo(20), _years_lo(42), _years_lo(60)
_HI38, _HI42, _HI68 = _years_hi(38), _years_hi(42), _years_hi(68)
_SPOUSE_SPREAD = 6 * 365  # spouse within ±6 years of the head ("close in age")

# The relation labels used here must be the register's (roster.RELATIONS); a typo would otherwise go unnoticed.
assert {HEAD_RELATION, "配偶", "之子", "之女", "之孙子", "之孙女", "之父", "之母", "其他"} == set(RELATIONS)


# Relations that carry the family surname (the head's line); spouses, mothers and others have their own.
_FAMILY_SURNAME = frozenset({HEAD_RELATION, "之子", "之女", "之孙子", "之孙女", "之父"})


def _household_members(rng: random.Random, size: int, head_day: int, last: int) -> list[tuple[str, int, int]]:
    """(relation, male 0/1, birth day index) for a household, head first; ages agree with the relations."""
    rand = rng.random
    min_day = last - _years_hi(_MAX_AGE_YEARS - 1)
    head_male = 1 if rand() < 0.78 else 0
    members = [(HEAD_RELATION, head_male, head_day)]
    age = last - head_day
    extra = size - 1
    if extra and rand() < 0.78:
        # Within ±6 years of the head, but an adult and at most 100: the window is cut, not clamped to one day
        # (clamping would pile many spouses onto one birth date).
        low = max(min_day, head_day - _SPOUSE_SPREAD)
        high = min(last - _LO18, head_day + _SPOUSE_SPREAD)
        members.append(("配偶", 1 - head_male, low + int(rand() * (high - low + 1))))
        extra -= 1
    parents: list[str] = []
    can_child = age >= _LO20
    can_grandchild = age >= _LO42
    grand_weight = 4.0 if age >= _LO60 else 1.5
    for _ in range(extra):
        can_parent = len(parents) < 2 and head_day - _LO20 >= min_day
        choices = (
            (6.0 if can_child else 0.0),
            (grand_weight if can_grandchild else 0.0),
            (0.7 if can_parent else 0.0),
            0.4,
        )
        pick = rand() * sum(choices)
        if pick < choices[0]:
            male = 1 if rand() < 0.5 else 0
            gap = _LO20 + int(rand() * (min(_HI42, age) - _LO20 + 1))
            members.append(("之子" if male else "之女", male, head_day + gap))
        elif pick < choices[0] + choices[1]:
            male = 1 if rand() < 0.5 else 0
            gap = _LO42 + int(rand() * (min(_HI68, age) - _LO42 + 1))
            members.append(("之孙子" if male else "之孙女", male, head_day + gap))
        elif pick < choices[0] + choices[1] + choices[2]:
            relation = (
                ("之父" if rand() < 0.5 else "之母") if not parents else ("之母" if parents[0] == "之父" else "之父")
            )
            parents.append(relation)
            low = max(min_day, head_day - _HI38)
            members.append((relation, 1 if relation == "之父" else 0, low + int(rand() * (head_day - _LO20 - low + 1))))
        else:
            members.append(("其他", 1 if rand() < 0.5 else 0, last - int(rand() * 80 * 365.25)))
    return members


def _households(members: int, seed: int, counties: Sequence[str], roster_date: date) -> Iterator[list[tuple[str, ...]]]:
    """Households as lists of row tuples, county after county (the uniqueness of IDs relies on that order)."""
    if members < 0:
        raise ValueError("members must be >= 0")
    if not counties:
        raise ValueError("at least one county is needed")
    if roster_date.year < 2000:
        raise ValueError("roster_date must be in 2000 or later (members are at most 100 years old, born >= 1900)")
    if len(set(counties)) != len(counties):  # a county run twice would restart its ID counters
        raise ValueError(f"a county is listed twice: {list(counties)}")
    known = county_names()
    unknown = [c for c in counties if c not in known]
    if unknown:
        raise ValueError(f"not current county codes of divisions_hunan.csv: {unknown}")
    rng = random.Random(seed)
    rand = rng.random
    bits = rng.getrandbits
    dates = _date_table(roster_date)
    last, compact, iso, date_sums = dates.last, dates.compact, dates.iso, dates.sums
    exit_years = _table({y: w for y, w in _EXIT_YEAR_WEIGHTS.items() if not y or int(y) <= roster_date.year})
    surnames, given, sexes = _SURNAMES, _GIVEN_NAMES, _SEX
    base, remainder = divmod(members, len(counties))
    for index, county in enumerate(counties):
        quota = base + (1 if index < remainder else 0)
        if not quota:
            continue
        plan = _county_plan(county)
        county_sum = _weighted(county, ID_WEIGHTS[:6])
        sequences = (_sequence_table(county, 0), _sequence_table(county, 1))
        salt = zlib.crc32(county.encode("ascii"))
        issued = array("H", bytes(2 * 2 * (last + 1)))  # per (day, sex): IDs issued so far in this county
        ethnicities = _ETHNICITY_TABLES.get(county[:4], _ETHNICITY_TABLES[""])
        townships = plan.townships
        village_index = 0
        while quota > 0:
            township_code, township = townships[village_index % len(townships)]
            number = 201 + village_index // len(townships)
            if number > 999:
                raise ValueError(f"county {county}: more villages than 3-digit village numbers allow")
            village_index += 1
            village_code = f"{township_code}{number:03d}"
            village = _village_name(township_code, number)
            for household_seq in range(1, 30 + int(rand() * 121) + 1):
                if quota <= 0:
                    break
                size = min(_SIZE_TABLE[bits(10)], quota)
                quota -= size
                household_no = f"{village_code}{household_seq:04d}"
                phone = f"1{3 + int(rand() * 7)}{bits(30) % 1_000_000_000:09d}" if rand() < 0.8 else ""
                tail = (
                    village_code,
                    plan.name,
                    township,
                    village,
                    _HOUSEHOLD_TYPE_TABLE[bits(10)],
                    _CAUSE_TABLE[bits(10)],
                    phone,
                    exit_years[bits(10)],
                )
                ethnicity = ethnicities[bits(10)]
                head_years = _HEAD_AGE_TABLE[bits(10)]
                head_day = last - head_years * 365 - head_years // 4 - int(rand() * 365)
                family_surname = surnames[bits(11)]
                rows: list[tuple[str, ...]] = []
                for relation, male, day in _household_members(rng, size, head_day, last):
                    surname = family_surname if relation in _FAMILY_SURNAME else surnames[bits(11)]
                    key = 2 * day + male
                    count = issued[key]
                    capacity = _SEQ_CAPACITY[male]
                    if count >= capacity:  # a full bucket: move one day, inside the age margins
                        for other in (day - 1, day + 1):
                            if 0 <= other <= last and issued[2 * other + male] < capacity:
                                day, key = other, 2 * other + male
                                count = issued[key]
                                break
                        else:
                            raise ValueError(f"county {county}: too many members for unique ID numbers")
                    issued[key] = count + 1
                    texts, sums = sequences[male]
                    slot = (count + day * 131 + salt) % capacity
                    id_number = (
                        county
                        + compact[day]
                        + texts[slot]
                        + ID_CHECK_CHARS[(county_sum + date_sums[day] + sums[slot]) % 11]
                    )
                    rows.append(
                        (
                            household_no,
                            surname + given[male][bits(_NAME_POOL_BITS)],
                            id_number,
                            relation,
                            sexes[male],
                            iso[day],
                            ethnicity if rand() < 0.9 else ethnicities[bits(10)],
                            *tail,
                        )
                    )
                if len(rows) > 1 and rand() < 0.08:  # the head usually, not always, comes first
                    rows.insert(1 + int(rand() * (len(rows) - 1)), rows.pop(0))
                yield rows


def generate_rows(
    members: int,
    *,
    seed: int = 0,
    counties: Sequence[str] | None = None,
    roster_date: date = ROSTER_DATE,
) -> Iterator[tuple[str, ...]]:
    """Yields `members` roster rows (tuples of 15 strings in COLUMNS order), household by household.

    Streams in constant memory: only the current county's counters and the (cached) date table are held.
    The members are shared evenly between the counties (default: the 18 of the data README); each county's
    last household is cut short so that exactly `members` rows come out.
    """
    for household in _households(members, seed, tuple(counties or DEFAULT_COUNTIES), roster_date):
        yield from household


# ---------------------------------------------------------------------------------------------------------------
# Writers.


def _header(english_headers: bool) -> list[str]:
    return [c.key if english_headers else c.header for c in COLUMNS]


def _plain_lines(chunk: list[Sequence[str]]) -> str | None:
    """The chunk as CSV text when no field needs quoting, else None (csv.writer must then do it).

    ",".join is about twice as fast as csv.writer, and generated rows never need quotes. A field needs quoting
    only when it holds a comma, a double quote or a line break (or is the lone field of a row), so a chunk whose
    text has none of those beyond the separators is exactly what csv.writer would write.
    """
    try:
        text = "\r\n".join(map(",".join, chunk)) + "\r\n"
    except TypeError:  # a value that is not a string: let csv.writer format it
        return None
    fields = sum(map(len, chunk))
    if (
        min(map(len, chunk)) < 2
        or '"' in text
        or text.count(",") != fields - len(chunk)
        or text.count("\n") != len(chunk)
        or text.count("\r") != len(chunk)
    ):
        return None
    return text


def write_csv(
    path: str | Path, rows: Iterable[Sequence[str]], *, encoding: str = "utf-8-sig", english_headers: bool = False
) -> int:
    """Writes a roster CSV as the samples are: header row, CRLF records, minimal quoting. Returns the data rows.

    `utf-8-sig` is the "CSV UTF-8" that spreadsheet programs write (with a byte-order mark); pass "gb18030"
    for the legacy form (which round-trips every character, 𠮷 and 䶮 included) or "utf-8" for no mark.
    Rows are written in chunks, so a stream of millions stays in constant memory; a chunk that needs no
    quoting is joined directly, any other goes through csv.writer (same bytes either way).
    """
    written = 0
    with open(path, "w", encoding=encoding, newline="", buffering=1 << 20) as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(_header(english_headers))
        iterator = iter(rows)
        while chunk := list(itertools.islice(iterator, 8192)):
            text = _plain_lines(chunk)
            if text is None:
                writer.writerows(chunk)
            else:
                f.write(text)
            written += len(chunk)
    return written


def write_xlsx(path: str | Path, rows: Iterable[Sequence[str]], *, sheet: str = "花名册") -> int:
    """Writes a one-sheet workbook like roster_small.xlsx. Returns the data rows written.

    Every value is a text cell with number format "@", so an ID or phone number keeps all its digits when a
    clerk opens and saves the file; a blank value is an absent cell. openpyxl's write-only mode streams rows
    to disk; a cell's format can only be set on a WriteOnlyCell, not on a plain value.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)

    def cells(values: Sequence[str]) -> list[object]:
        out: list[object] = []
        for value in values:
            if value == "":
                out.append(None)
                continue
            cell = WriteOnlyCell(worksheet, value=value)
            cell.number_format = "@"
            out.append(cell)
        return out

    worksheet.append(cells(_header(english_headers=False)))
    written = 0
    for row in rows:
        worksheet.append(cells(row))
        written += 1
    workbook.save(path)
    return written
