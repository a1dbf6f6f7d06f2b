"""Parsing source values without guessing: numbers, dates and yes/no codes.

The rule throughout: decide from **unambiguous evidence** or ask.

* **Numbers.**  The decimal separator is decided once per file from values
  that can be read only one way (``12,50``, ``1.234,56`` → comma; ``12.50``,
  ``1,234.56`` → dot).  Values in the other style are quarantined; values that
  could go either way (``1.299``, ``4,500``) with no evidence in the file are an
  error that asks for ``decimal:`` in the mapping.  Thousands groups must have
  three digits; ``inf``, ``nan`` and currency signs are not numbers.
* **Dates.**  The format is the one that reads most values; when a day-first
  and a month-first format read the same values (every day ≤ 12), the order
  cannot be told and ``date_format:`` is required.  Time-zone designators are
  dropped: times are kept as the wall-clock time written in the export.
* **Yes/no.**  Only explicit words (yes/no, ja/nej, ja/nei, ja/nee, ja/nein,
  true/false, 1/0, …); anything else is a bad value, never "truthy".
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute

TRUE_WORDS = frozenset(
    {"1", "true", "t", "yes", "y", "ja", "j", "waar", "sand", "wahr", "oui", "si", "sí"}
)
FALSE_WORDS = frozenset(
    {"0", "false", "f", "no", "n", "nee", "nein", "nej", "nei", "onwaar", "falsk", "falsch", "non"}
)

DAY_FIRST = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)
MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    *DAY_FIRST,
    "%Y-%m",
    "%Y%m%d",
    *MONTH_FIRST,
)
_TZ_SUFFIX = re.compile(r"(?:\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))$")
_FRACTION = re.compile(r"(\d{2}:\d{2}:\d{2})\.\d+")


def _is_trimmed(s: pd.Series, block: int = 1 << 20) -> bool:
    """Whether ``s`` is Arrow-backed text without surrounding whitespace, checked a block at a time.

    Stripping a whole 10M-row column to compare would allocate a second copy of it.
    """
    import pyarrow.compute as pc

    if not (pd.api.types.is_string_dtype(s) and getattr(s.dtype, "storage", None) == "pyarrow"):
        return False
    arr = s.array.__arrow_array__()
    for i in range(0, len(arr), block):
        part = arr.slice(i, block)
        if not pc.all(pc.equal(pc.utf8_trim_whitespace(part), part)).as_py():
            return False
    return True


def as_text(s: pd.Series) -> pd.Series:
    """Source values as stripped strings; missing → ''."""
    if pd.api.types.is_string_dtype(s) and s.dtype != object:
        if not s.hasnans and _is_trimmed(s):
            return s  # already clean: share the export's buffer instead of a second copy
        return s.fillna("").str.strip()  # Arrow-backed text stays in Arrow (no Python objects)
    if s.dtype == object:
        return s.astype(object).where(s.notna(), "").astype(str).str.strip()
    return s.astype(object).where(s.notna(), "").astype(str)


def text_values(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Source text as stripped strings with blanks missing, and the missing mask.

    Clean Arrow-backed text (no surrounding whitespace, no blank value) is
    returned as is: a 10M-row id column with anonymous receipts is not copied.
    """
    if _is_trimmed(s):
        blank = (s == "").fillna(False).astype(bool)
        missing = s.isna() | blank
        return (s.where(~blank) if blank.any() else s), missing
    t = as_text(s)
    missing = t == ""
    return (t.where(~missing) if missing.any() else t), missing


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------
_THOUSANDS = {",": ". \u00a0\u202f'", ".": ", \u00a0\u202f'"}


@functools.lru_cache(maxsize=32)
def _number_re(decimal: str, thousands: str | None = None) -> re.Pattern:
    seps = re.escape(thousands if thousands is not None else _THOUSANDS[decimal])
    grouped = rf"[1-9]\d{{0,2}}(?:(?P<sep>[{seps}])\d{{3}})(?:(?P=sep)\d{{3}})*" if seps else "(?!)"
    return re.compile(rf"^[+-]?(?:{grouped}|\d+)(?:{re.escape(decimal)}\d+)?$")


# Arrow's regex engine runs over a whole column but has no back-reference, so a number
# pattern is checked in three steps: the plain form (no thousands separators) and a
# superset of the grouped form column-wide, then only the grouped candidates one by one
# in Python's ``re`` (is the same separator used throughout?)
def _plain_re(decimal: str) -> str:
    return rf"^[+-]?\d+(?:{re.escape(decimal)}\d+)?$"


def _grouped_superset_re(decimal: str, thousands: str | None) -> str | None:
    seps = re.escape(thousands if thousands is not None else _THOUSANDS[decimal])
    if not seps:
        return None
    return rf"^[+-]?[1-9]\d{{0,2}}(?:[{seps}]\d{{3}})+(?:{re.escape(decimal)}\d+)?$"


def _matches(t: pd.Series, decimal: str, thousands: str | None = None) -> pd.Series:
    """Whether each text is a number in this style (``_number_re(decimal, thousands)``), as booleans."""
    out = t.str.match(_plain_re(decimal)).fillna(False).to_numpy(dtype=bool, copy=True)
    superset = _grouped_superset_re(decimal, thousands)
    rest = np.flatnonzero(~out & t.notna().to_numpy())
    if superset is not None and len(rest):
        maybe = rest[t.iloc[rest].str.match(superset).fillna(False).to_numpy(dtype=bool)]
        if len(maybe):
            exact = _number_re(decimal, thousands)
            out[maybe] = t.iloc[maybe].str.match(exact).fillna(False).to_numpy(dtype=bool)
    return pd.Series(out, index=t.index)


def _to_float(t: pd.Series, decimal: str) -> pd.Series:
    """Text already checked against the style's pattern → float."""
    cleaned = t
    for ch in _THOUSANDS[decimal]:
        cleaned = cleaned.str.replace(ch, "", regex=False)
    cleaned = cleaned.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(cleaned, errors="coerce").astype("float64")


@dataclass
class NumberStyle:
    """The decimal separator of a file and the evidence it was decided from."""

    decimal: str | None  # None: no value needs a decision
    comma_values: int = 0
    dot_values: int = 0
    ambiguous: list[str] | None = None  # examples that read differently in the two styles
    ambiguous_columns: list[str] | None = None


def _text_values(s: pd.Series) -> pd.Series:
    """The text (non-number) cells of a source column, stripped, non-empty."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return pd.Series([], dtype=str)
    if s.dtype == object:
        s = s[~s.map(_is_number_object)]
    t = as_text(s)
    return t[t != ""]


def _is_number_object(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def detect_number_style(columns: dict[str, pd.Series]) -> NumberStyle:
    """Decide the decimal separator of a file from its numeric columns' unambiguous values."""
    n_comma = n_dot = 0
    amb: list[str] = []
    amb_cols: list[str] = []
    for name, s in columns.items():
        t = _text_values(s).drop_duplicates()
        if not len(t):
            continue
        ok_c = _matches(t, ",")
        ok_d = _matches(t, ".")
        n_comma += int((ok_c & ~ok_d).sum())
        n_dot += int((ok_d & ~ok_c).sum())
        both = t[ok_c & ok_d & t.str.contains(r"[.,]", regex=True)]
        if len(both):
            differ = _to_float(both, ",") != _to_float(both, ".")
            if differ.any():
                amb.extend(both[differ].head(3).tolist())
                amb_cols.append(name)
    if n_comma == n_dot:  # no evidence, or a tie: the caller asks unless nothing is ambiguous
        return NumberStyle(None, n_comma, n_dot, amb or None, amb_cols or None)
    return NumberStyle(
        "," if n_comma > n_dot else ".", n_comma, n_dot, amb or None, amb_cols or None
    )


def parse_number(
    s: pd.Series, decimal: str | None, thousands: str | None = None
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Parse a numeric source column in one decimal style.

    Returns ``(values, missing, bad, other_style)``: ``bad`` marks values that
    are not numbers in this style (incl. ``inf``/``nan``), ``other_style`` the
    subset of those that are valid numbers in the other style.
    """
    idx = s.index
    false = pd.Series(False, index=idx)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.astype("float64")
        inf = pd.Series(np.isinf(v.to_numpy()), index=idx)
        return v.where(~inf), v.isna(), inf, false
    values = pd.Series(np.nan, index=idx, dtype="float64")
    numeric_obj = s.map(_is_number_object) if s.dtype == object else false
    if numeric_obj.any():
        nums = s[numeric_obj].astype("float64")
        values[numeric_obj] = nums
    t = as_text(s.where(~numeric_obj, ""))
    missing = (t == "") & ~numeric_obj
    if numeric_obj.any():
        finite = pd.Series(np.isfinite(values.to_numpy()), index=idx)
        bad_num = numeric_obj & ~finite & values.notna()
        missing |= numeric_obj & values.isna()
    else:
        bad_num = false
    dec = decimal or "."
    text = ~missing & ~numeric_obj
    ok = text & _matches(t, dec, thousands)
    if ok.any():
        values[ok] = _to_float(t[ok], dec)
    bad = (text & ~ok) | bad_num
    other = "." if dec == "," else ","
    other_style = false.copy()
    if bad.any():
        other_style[bad] = _matches(t[bad], other)
    return values.where(~bad), missing, bad, other_style


# ---------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------
def strip_time_zone(fmt: str | None, vals: pd.Series) -> tuple[str | None, pd.Series, bool]:
    """Drop time-zone designators (``Z``, ``+01:00``, ``%z``): keep the wall-clock time."""
    stripped = False
    if fmt is not None and ("%z" in fmt or "%Z" in fmt):
        fmt = re.sub(r"\s*%[zZ]", "", fmt)
        stripped = True
    has_tz = vals.str.contains(_TZ_SUFFIX, regex=True) & vals.str.contains(":", regex=False)
    if has_tz.any():
        vals = vals.where(~has_tz, vals.str.replace(_TZ_SUFFIX, "", regex=True))
        stripped = True
    if vals.str.contains(r"\d{2}:\d{2}:\d{2}\.\d", regex=True).any():
        vals = vals.str.replace(_FRACTION, r"\1", regex=True)
    return fmt, vals, stripped


def strptime(vals: pd.Series, fmt: str) -> pd.Series:
    """Parse strings with one strptime format (pyarrow's C++ parser); failures → NaT."""
    pc = pyarrow.compute
    arr = pyarrow.array(vals, type=pyarrow.string(), from_pandas=True)  # no Python objects
    parsed = pc.strptime(arr, format=fmt, unit="us", error_is_null=True)
    out = pd.Series(parsed.to_numpy(zero_copy_only=False), index=vals.index).astype(
        "datetime64[us]"
    )
    # pyarrow rolls impossible dates over (31.02. → 03.03.): rows that do not format back
    # to their text are re-checked with pandas' strict parser (also handles unpadded days).
    # Formatted in whole seconds: at "us", Arrow's %S writes "48.000000" for 48
    seconds = parsed.cast(pyarrow.timestamp("s"), safe=False)
    differs = pc.fill_null(pc.not_equal(pc.strftime(seconds, format=fmt), arr), False)
    differs = differs.to_numpy(zero_copy_only=False)
    if differs.any():
        out[differs] = pd.to_datetime(vals[differs], format=fmt, errors="coerce").astype(
            "datetime64[us]"
        )
    return out


class AmbiguousDates(ValueError):
    """Day/month order cannot be decided from the values."""

    def __init__(self, examples: list[str], formats: tuple[str, str]):
        self.examples, self.formats = examples, formats
        super().__init__(f"day/month order is ambiguous ({', '.join(examples)})")


def detect_date_format(vals: pd.Series) -> str:
    """The format that reads most distinct values; raise :class:`AmbiguousDates` on a day/month tie."""
    uniq = vals.drop_duplicates()
    sample = uniq.sample(min(len(uniq), 5000), random_state=0) if len(uniq) > 5000 else uniq
    counts = {f: int(strptime(sample, f).notna().sum()) for f in DATE_FORMATS}
    best = max(counts.values())
    winners = [f for f in DATE_FORMATS if counts[f] == best]
    if best > 0:
        day = [f for f in winners if f in DAY_FIRST]
        month = [f for f in winners if f in MONTH_FIRST]
        if day and month:
            raise AmbiguousDates(sample.head(3).tolist(), (day[0], month[0]))
    return winners[0]


def parse_date(
    s: pd.Series, fmt: str | None
) -> tuple[pd.Series, pd.Series, pd.Series, dict[str, str]]:
    """Parse a date column.  Returns ``(values, missing, bad, notes)``.

    ``notes`` records decisions worth stating (the format used, time zones dropped).
    """
    notes: dict[str, str] = {}
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
            notes["time_zone"] = "time-zone offsets dropped: wall-clock time as exported"
        v = s.astype("datetime64[us]")
        return v, v.isna(), pd.Series(False, index=s.index), notes
    if s.dtype == object and s.map(lambda x: isinstance(x, (dt.date, pd.Timestamp))).any():
        s = s.map(
            lambda x: (
                x.replace(tzinfo=None).isoformat(sep=" ")
                if isinstance(x, dt.datetime)
                else (x.isoformat() if isinstance(x, dt.date) else x)
            )
        )
    t = as_text(s)
    missing = t == ""
    vals = t[~missing]
    fmt, vals, stripped = strip_time_zone(fmt, vals)
    if stripped:
        notes["time_zone"] = "time-zone designators dropped: wall-clock time as exported"
    if fmt is None and len(vals):
        fmt = detect_date_format(vals)
        notes["format"] = fmt
    v = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    if len(vals):
        v.loc[~missing] = strptime(vals, fmt)
    bad = v.isna() & ~missing
    return v, missing, bad, notes


# ---------------------------------------------------------------------------
# yes/no
# ---------------------------------------------------------------------------
def bool_word(value) -> bool | None:
    """``True``/``False`` for an explicit yes/no word or value, else ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
    return None


def parse_bool(s: pd.Series, codes: dict | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse a yes/no column with the mapping's codes, or the explicit words above."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(bool), pd.Series(False, index=s.index), pd.Series(False, index=s.index)
    t = as_text(s)
    missing = t == ""
    if codes:
        v = t.map({str(k).strip(): bool_word(b) for k, b in codes.items()}).astype(object)
    else:
        low = t.str.lower()
        v = pd.Series(
            np.where(low.isin(TRUE_WORDS), True, np.where(low.isin(FALSE_WORDS), False, None)),
            index=s.index,
            dtype=object,
        )
    bad = v.isna() & ~missing
    return v, missing, bad
