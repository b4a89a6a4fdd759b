"""Defective synthetic rosters with an answer key (shared/data/README.md, "Defective rows"): test data only.

Every defect kind of the README is planted at known rows, so the import's report can be checked against the key.
"""

import random
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from insurance.demo.names import DEFAULT_COUNTIES, ROSTER_DATE
from insurance.demo.roster import _households
from insurance.register.identifiers import ID_CHECK_CHARS, id_check_char
from insurance.register.roster import COLUMNS, HEAD_RELATION

# ---------------------------------------------------------------------------------------------------------------
# Defective rosters with an answer key (shared/data/README.md, "Defective rows").

Decision = Literal["reject", "fixable", "valid_tricky"]

# kind -> (decision, column at fault); too_few_fields names the first missing column instead (None here).
_KIND_SPEC: dict[str, tuple[Decision, str | None]] = {
    "bad_checksum": ("reject", "id_number"),
    "bad_birth_date": ("reject", "id_number"),
    "future_birth_date": ("reject", "id_number"),
    "sex_mismatch": ("reject", "sex"),
    "birth_date_mismatch": ("reject", "birth_date"),
    "duplicate_id_in_file": ("reject", "id_number"),
    "legacy_15_digit_id": ("fixable", "id_number"),
    "lowercase_x": ("fixable", "id_number"),
    "fullwidth_digits": ("fixable", "id_number"),
    "id_with_spaces": ("fixable", "id_number"),
    "excel_scientific": ("reject", "id_number"),
    "unknown_village_code": ("reject", "village_code"),
    "bad_village_code": ("reject", "village_code"),
    "no_head": ("reject", "relation"),
    "two_heads": ("reject", "relation"),
    "missing_name": ("reject", "name"),
    "name_with_spaces": ("fixable", "name"),
    "bad_phone": ("reject", "phone"),
    "bad_relation": ("reject", "relation"),
    "too_few_fields": ("reject", None),
    "embedded_newline_in_quoted_field": ("valid_tricky", "village"),
}
DEFECT_KINDS: tuple[str, ...] = tuple(_KIND_SPEC)
HOUSEHOLD_DEFECT_KINDS = frozenset({"no_head", "two_heads"})
# Row-level instances per kind; every variant the README names appears across the instances.
_ROW_DEFECT_COUNTS = {
    "bad_checksum": 2,
    "bad_birth_date": 3,
    "future_birth_date": 2,
    "sex_mismatch": 2,
    "birth_date_mismatch": 3,
    "duplicate_id_in_file": 2,
    "legacy_15_digit_id": 3,
    "lowercase_x": 2,
    "fullwidth_digits": 2,
    "id_with_spaces": 4,
    "excel_scientific": 2,
    "unknown_village_code": 2,
    "bad_village_code": 7,
    "missing_name": 3,
    "name_with_spaces": 4,
    "bad_phone": 5,
    "bad_relation": 3,
    "too_few_fields": 2,
    "embedded_newline_in_quoted_field": 2,
}
_NO_HEAD_FORMS = ("missing", "其他", "配偶")  # the head's row is missing, or the head is labelled 其他 / 配偶
_TWO_HEADS_HOUSEHOLDS = 2
_COLUMN_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
_HEADERS = {c.key: c.header for c in COLUMNS}
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
_UNKNOWN_COUNTY_PREFIXES = ("433199", "431299", "439901", "430099")  # the README's examples: not county codes


@dataclass(frozen=True)
class Expectation:
    """One defective row of the answer key, as roster_bad.answers.json lists it (README "the answer key")."""

    row: int  # 1-based record number, header = 1
    kind: str
    decision: Decision
    column: str  # English alias of the column at fault
    scope: Literal["row", "household"]
    household_no: str
    expected: str | None = None  # the normalised value, for fixable rows only
    duplicate_of_row: int | None = None  # for duplicate_id_in_file: the earlier, good row with the same ID
    value: str | None = None  # the value as written; None when the field is missing
    detail: str = ""

    @property
    def header(self) -> str:
        """The column's Chinese header, as an importer's error names it."""
        return _HEADERS[self.column]


@dataclass
class _Slot:
    """A row under construction, with the defect planned for it (row numbers are known only at the end)."""

    values: list[str]
    household: int
    kind: str | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None
    detail: str = ""
    duplicate_of: "_Slot | None" = None
    reserved: bool = False  # the good original of a duplicate: must stay defect-free


@dataclass(frozen=True)
class DefectTotals:
    """The totals of an answer key, named as in roster_bad.answers.json ("totals")."""

    rows: int
    households: int
    good_rows: int
    fixable_rows: int
    valid_tricky_rows: int
    rejected_rows: int
    accepted_rows: int
    accepted_households: int
    physical_lines: int
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def members(self) -> int:
        return self.rows

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "members": self.rows,
            "households": self.households,
            "good_rows": self.good_rows,
            "fixable_rows": self.fixable_rows,
            "valid_tricky_rows": self.valid_tricky_rows,
            "rejected_rows": self.rejected_rows,
            "accepted_rows": self.accepted_rows,
            "accepted_households": self.accepted_households,
            "physical_lines": self.physical_lines,
            "by_kind": dict(self.by_kind),
        }


def excel_display(digits: str) -> str:
    """How a spreadsheet's General format shows a long number: 6 significant digits, e.g. 4.33124E+17."""
    mantissa, exponent = f"{int(digits):.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"


def _with_check(first17: str) -> str:
    return first17 + id_check_char(first17)


class _DefectPlanner:
    """Chooses rows for every defect kind and rewrites them as the README describes."""

    def __init__(self, households: list[list[tuple[str, ...]]], seed: int, roster_date: date) -> None:
        self.rng = random.Random(f"defects-{seed}")
        self.roster_date = roster_date
        self.households = [[_Slot(list(r), h) for r in rows] for h, rows in enumerate(households)]
        self.household_kind: dict[int, str] = {}
        self.removed: set[int] = set()  # id() of slots dropped (the missing head rows)
        self.taken = {s.values[2] for hh in self.households for s in hh}
        self.offsets: dict[str, int] = {}

    # -- choosing rows ------------------------------------------------------------------------------------------

    def _free(self, slot: _Slot) -> bool:
        return slot.kind is None and not slot.reserved and slot.household not in self.household_kind

    def pick(self, *, head_ok: bool, where: Callable[[_Slot], bool] | None = None) -> _Slot:
        candidates = [
            s
            for hh in self.households
            for s in hh
            if self._free(s) and (head_ok or s.values[3] != HEAD_RELATION) and (where is None or where(s))
        ]
        if not candidates:
            raise LookupError("no row left for a defect")
        return candidates[self.rng.randrange(len(candidates))]

    def mark(self, slot: _Slot, kind: str, value: str | None, *, expected: str | None = None, detail: str) -> None:
        slot.kind, slot.value, slot.expected, slot.detail = kind, value, expected, detail
        slot.column = _KIND_SPEC[kind][1]

    def new_id(self, first17: str, *, want_x: bool = False) -> str:
        """A valid ID like first17 (same county, date, sex) but unused so far; with want_x, ending in X."""
        male = int(first17[16]) % 2
        for seq in self.rng.sample(range(1 + (1 - male), 1000, 2), 499):
            candidate = _with_check(f"{first17[:14]}{seq:03d}")
            if candidate not in self.taken and (not want_x or candidate.endswith("X")):
                self.taken.add(candidate)
                return candidate
        raise LookupError("no free sequence number")

    # -- household-wide kinds -----------------------------------------------------------------------------------

    def household_defects(self) -> None:
        def eligible(h: int, need_spouse: bool) -> bool:
            rows = self.households[h]
            spouse = any(s.values[3] == "配偶" for s in rows)
            return h not in self.household_kind and len(rows) >= 3 and (spouse or not need_spouse)

        for form in _NO_HEAD_FORMS:
            h = self.rng.choice([h for h in range(1, len(self.households)) if eligible(h, False)])
            self.household_kind[h] = "no_head"
            rows = self.households[h]
            head = next(s for s in rows if s.values[3] == HEAD_RELATION)
            if form == "missing":
                self.removed.add(id(head))
                detail = f"household {head.values[0]} has no 户主 row (the head's row is missing)"
            else:
                head.values[3] = form
                detail = f"household {head.values[0]} has no 户主 (the head is labelled {form})"
            for s in rows:
                self.mark(s, "no_head", s.values[3], detail=detail)
        for _ in range(_TWO_HEADS_HOUSEHOLDS):
            h = self.rng.choice([h for h in range(1, len(self.households)) if eligible(h, True)])
            self.household_kind[h] = "two_heads"
            rows = self.households[h]
            next(s for s in rows if s.values[3] == "配偶").values[3] = HEAD_RELATION
            for s in rows:
                self.mark(
                    s, "two_heads", s.values[3], detail=f"household {s.values[0]} has two 户主 rows (one was 配偶)"
                )

    # -- row kinds ----------------------------------------------------------------------------------------------

    def variant(self, kind: str, n: int, forms: Sequence[str]) -> str:
        """The n-th instance's form: all forms in turn, from a per-seed starting point."""
        offset = self.offsets.setdefault(kind, self.rng.randrange(len(forms)))
        return forms[(offset + n) % len(forms)]

    def row_defect(self, kind: str, n: int) -> None:
        """Makes the n-th instance of a row-level kind (one branch per row of the README's table)."""
        rng = self.rng
        v: list[str]
        if kind == "bad_checksum":
            s = self.pick(head_ok=False)
            v = s.values
            right = v[2][17]
            wrong = rng.choice([c for c in ID_CHECK_CHARS if c != right])
            v[2] = v[2][:17] + wrong
            self.mark(s, kind, v[2], detail=f"check character is {wrong}, should be {right}")
        elif kind == "bad_birth_date":
            s = self.pick(head_ok=False)
            v = s.values
            year = int(v[2][6:10])
            mmdd = self.variant(
                kind, n, ("0230", "0231", "0431", "1301", "0000", "0229", "0931", "1512", "0631", "1131")
            )
            if mmdd == "0229" and (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
                year -= 1  # a common year, so that 29 February does not exist
            v[2] = _with_check(f"{v[2][:6]}{year:04d}{mmdd}{v[2][14:17]}")
            self.mark(s, kind, v[2], detail=f"date in the ID ({v[2][6:14]}) does not exist")
        elif kind == "future_birth_date":
            s = self.pick(head_ok=False)
            v = s.values
            born = date(2051 + rng.randrange(29), 1 + rng.randrange(12), 1 + rng.randrange(28))
            v[2] = self.new_id(f"{v[2][:6]}{born:%Y%m%d}{v[2][14:17]}")
            v[5] = born.isoformat()
            self.mark(s, kind, v[2], detail=f"birth date {born} (in the ID and 出生日期) is in the future")
        elif kind == "sex_mismatch":
            s = self.pick(head_ok=False)
            v = s.values
            says = v[4]
            v[4] = "女" if says == "男" else "男"
            self.mark(s, kind, v[4], detail=f"性别 is {v[4]} but the ID's sequence says {says}")
        elif kind == "birth_date_mismatch":
            s = self.pick(head_ok=False)
            v = s.values
            real = date.fromisoformat(v[5])
            shown = self._shifted(real, self.variant(kind, n, ("days", "months", "years")))
            v[5] = shown.isoformat()
            self.mark(s, kind, v[5], detail=f"出生日期 {shown} but the ID says {real}")
        elif kind == "duplicate_id_in_file":
            later = self.pick(head_ok=False, where=lambda s: s.household > 0)
            earlier = self.pick(head_ok=True, where=lambda s: s.household < later.household)
            earlier.reserved = True
            v = later.values
            v[2], v[4], v[5], v[3] = earlier.values[2], earlier.values[4], earlier.values[5], "其他"
            self.mark(later, kind, v[2], detail="ID already used by an earlier row of another household")
            later.duplicate_of = earlier
        elif kind == "legacy_15_digit_id":
            s = self.pick(head_ok=True, where=lambda s: s.values[5] <= "1983-12-31")
            v = s.values
            full = v[2]
            v[2] = full[:6] + full[8:17]
            assert _with_check(v[2][:6] + "19" + v[2][6:]) == full
            self.mark(s, kind, v[2], expected=full, detail="15-digit ID issued before 1999; upgrade it")
        elif kind == "lowercase_x":
            s = self.pick(head_ok=True)
            v = s.values
            self.taken.discard(v[2])
            valid = self.new_id(v[2][:17], want_x=True)
            v[2] = valid[:17] + "x"
            self.mark(s, kind, v[2], expected=valid, detail="check character written as lowercase x")
        elif kind == "fullwidth_digits":
            s = self.pick(head_ok=True)
            v = s.values
            valid = v[2]
            v[2] = valid.translate(_FULLWIDTH)
            assert unicodedata.normalize("NFKC", v[2]) == valid
            self.mark(s, kind, v[2], expected=valid, detail="ID typed in full-width digits")
        elif kind == "id_with_spaces":
            s = self.pick(head_ok=True)
            v = s.values
            valid = v[2]
            v[2] = self.variant(
                kind,
                n,
                (
                    f" {valid}  ",
                    f"{valid[:6]} {valid[6:14]} {valid[14:]}",
                    f"{valid}\u3000",
                    f"\u3000{valid[:6]}\u3000{valid[6:]} ",
                ),
            )
            self.mark(s, kind, v[2], expected=valid, detail="ID with stray spaces (around it, or grouping its digits)")
        elif kind == "excel_scientific":
            s = self.pick(head_ok=False, where=lambda s: s.values[2].isdigit())
            v = s.values
            v[2] = excel_display(v[2])
            self.mark(s, kind, v[2], detail=f"ID mangled to scientific notation {v[2]}; the digits are lost")
        elif kind == "unknown_village_code":
            s = self.pick(head_ok=False)
            v = s.values
            prefix = self.variant(kind, n, _UNKNOWN_COUNTY_PREFIXES)
            v[7] = prefix + v[7][6:]
            self.mark(s, kind, v[7], detail=f"行政区划代码 {v[7]} is not under any known county ({prefix})")
        elif kind == "bad_village_code":
            s = self.pick(head_ok=False)
            v = s.values
            code = v[7]
            i = code.rfind("1")  # every county code holds a 1, so there is always a digit to mistype
            v[7] = self.variant(
                kind,
                n,
                (
                    code[:11],
                    code + str(rng.randrange(10)),
                    code[:6],
                    code[:9],
                    code.replace("0", "O", 1) if "0" in code else code[:i] + "O" + code[i + 1 :],
                    code[:i] + "l" + code[i + 1 :],
                    excel_display(code),
                ),
            )
            self.mark(s, kind, v[7], detail=f"行政区划代码 {v[7]!r} is not 12 digits")
        elif kind == "missing_name":
            s = self.pick(head_ok=False)
            s.values[1] = self.variant(kind, n, ("", " ", "\u3000", "  "))
            self.mark(s, kind, s.values[1], detail="姓名 is empty")
        elif kind == "name_with_spaces":
            s = self.pick(head_ok=True, where=lambda s: len(s.values[1]) >= 2)
            v = s.values
            name = v[1]
            v[1] = self.variant(kind, n, (" " + name, "\u3000" + name, name[0] + "\u3000" + name[1:], f" {name}\u3000"))
            self.mark(s, kind, v[1], expected=name, detail="姓名 has ASCII or full-width spaces; remove them")
        elif kind == "bad_phone":
            s = self.pick(head_ok=False)
            v = s.values
            phone = v[13] or f"1{3 + rng.randrange(7)}{rng.randrange(10**9):09d}"
            v[13] = self.variant(
                kind,
                n,
                (
                    phone[:10],
                    phone + str(rng.randrange(10)),
                    "12" + phone[2:],
                    "10" + phone[2:],
                    f"{phone[:4]}O{phone[5:]}",
                ),
            )
            self.mark(s, kind, v[13], detail=f"联系电话 {v[13]!r} is not 11 digits starting 13..19")
        elif kind == "bad_relation":
            s = self.pick(head_ok=False)
            s.values[3] = self.variant(kind, n, ("邻居", "朋友", "未知", "寄住人员", "8", "X"))
            self.mark(s, kind, s.values[3], detail=f"与户主关系 {s.values[3]!r} is not a known relation")
        elif kind == "too_few_fields":
            s = self.pick(head_ok=False)
            keep = int(self.variant(kind, n, ("5", "7", "9", "12")))
            del s.values[keep:]
            self.mark(s, kind, None, detail=f"row has {keep} of {len(COLUMNS)} fields")
            s.column = COLUMNS[keep].key
        elif kind == "embedded_newline_in_quoted_field":
            s = self.pick(head_ok=True)
            s.values[10] += "\n"
            self.mark(s, kind, s.values[10], detail="村 ends in a line break inside a quoted field: accept, trim it")
        else:  # pragma: no cover - DEFECT_KINDS and this method must name the same kinds
            raise ValueError(kind)

    def _shifted(self, real: date, unit: str) -> date:
        """A real date that differs from `real` by days, months or years, and is not after the roster date."""
        rng = self.rng
        for _ in range(100):
            if unit == "days":
                shown = real + timedelta(days=rng.choice((-1, 1)) * (1 + rng.randrange(27)))
            elif unit == "months":
                month = (real.month - 1 + rng.choice((-1, 1)) * (1 + rng.randrange(11))) % 12 + 1
                shown = real.replace(month=month, day=min(real.day, 28))
            else:
                shown = real.replace(year=real.year - 1 - rng.randrange(9), day=min(real.day, 28))
            if shown != real and shown <= self.roster_date:
                return shown
        raise LookupError("no shifted date")

    # -- the result ---------------------------------------------------------------------------------------------

    def result(self) -> tuple[list[tuple[str, ...]], list[Expectation]]:
        slots = [s for hh in self.households for s in hh if id(s) not in self.removed]
        numbers = {id(s): i + 2 for i, s in enumerate(slots)}
        expectations = []
        for s in slots:
            if s.kind is None:
                continue
            decision, _ = _KIND_SPEC[s.kind]
            dup_row = numbers[id(s.duplicate_of)] if s.duplicate_of is not None else None
            detail = s.detail if dup_row is None else f"ID already used by row {dup_row} (another household)"
            assert s.column is not None
            expectations.append(
                Expectation(
                    row=numbers[id(s)],
                    kind=s.kind,
                    decision=decision,
                    column=s.column,
                    scope="household" if s.kind in HOUSEHOLD_DEFECT_KINDS else "row",
                    household_no=s.values[0],
                    expected=s.expected,
                    duplicate_of_row=dup_row,
                    value=s.value,
                    detail=detail,
                )
            )
        return [tuple(s.values) for s in slots], expectations


def generate_defective_rows(
    seed: int = 0, *, roster_date: date = ROSTER_DATE
) -> tuple[list[tuple[str, ...]], list[Expectation]]:
    """A small roster (~100 households) with every kind of DEFECT_KINDS, and its answer key.

    Each defective row carries exactly one defect, made as the data README describes; a rejected row is never
    the 户主 row, except for the household-wide kinds (no_head, two_heads), whose every row is listed. The
    rows of too_few_fields are tuples shorter than 15. Write them with write_csv: the embedded line breaks
    are quoted, and the record numbers in the key count records, not lines.
    """
    for members in (300, 400, 600):
        households = list(_households(members, seed, DEFAULT_COUNTIES, roster_date))
        planner = _DefectPlanner(households, seed, roster_date)
        try:
            planner.household_defects()
            for kind, count in _ROW_DEFECT_COUNTS.items():
                for n in range(count):
                    planner.row_defect(kind, n)
        except LookupError:
            continue  # too few suitable rows for this seed: try a larger base roster
        return planner.result()
    raise RuntimeError(f"seed {seed}: could not place every defect kind")


def defective_totals(expectations: Sequence[Expectation], rows: Sequence[Sequence[str]]) -> DefectTotals:
    """The answer key's totals: what an importer that stores the acceptable rows must end with."""
    by_row = {e.row: e for e in expectations}
    decisions = Counter(e.decision for e in by_row.values())
    accepted = [r for i, r in enumerate(rows, start=2) if i not in by_row or by_row[i].decision != "reject"]
    return DefectTotals(
        rows=len(rows),
        households=len({r[0] for r in rows if r}),
        good_rows=len(rows) - len(by_row),
        fixable_rows=decisions["fixable"],
        valid_tricky_rows=decisions["valid_tricky"],
        rejected_rows=decisions["reject"],
        accepted_rows=len(accepted),
        accepted_households=len({r[0] for r in accepted}),
        physical_lines=1 + len(rows) + sum(value.count("\n") for r in rows for value in r),
        by_kind=dict(sorted(Counter(e.kind for e in expectations).items())),
    )
