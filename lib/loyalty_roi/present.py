"""One presentation layer: numbers and tables as a reader sees them.

Every table a notebook shows goes through :func:`table`: human headers, no
positional index, money in the configured currency, shares in percent, counts
with thousands separators, months as "Oct 2026", and a dash — never ``nan``,
``NaT``, ``None`` or ``inf`` — for a value that does not exist.  Units are
declared by the caller (or come from the KPI catalogue), not guessed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .months import floor as month_floor

DASH = "—"
UNITS = ("money", "share", "change", "pp", "count", "number", "month", "date", "ratio", "text")

# column name → header where snake_case does not read well
HEADERS = {
    "aov": "Avg order value",
    "clv": "CLV",
    "roi": "ROI",
    "npv": "NPV",
    "smd_before": "SMD before",
    "smd_after": "SMD after",
    "lift_lo": "Lift, low",
    "lift_hi": "Lift, high",
    "ci_low": "95% low",
    "ci_high": "95% high",
    "mi": "Month index",
    "nps": "NPS",
    "csat": "CSAT",
}


def header(name) -> str:
    """``payback_month`` → "Payback month"."""
    if not isinstance(name, str):
        return str(name)
    if name in HEADERS:
        return HEADERS[name]
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _missing(v) -> bool:
    if v is None or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v)) or (isinstance(v, float) and math.isinf(v))
    except (TypeError, ValueError):
        return False


def fmt(v, unit: str, currency: str = "EUR", digits: int | None = None) -> str:
    """One value in its unit; missing, NaN and infinite values are a dash."""
    if _missing(v):
        return DASH
    if unit == "money":
        d = 0 if digits is None and abs(v) >= 1000 else 2 if digits is None else digits
        return f"{currency} {v:,.{d}f}"
    if unit == "share":
        return f"{v:.{1 if digits is None else digits}%}"
    if unit == "change":
        return f"{v:+.{1 if digits is None else digits}%}"
    if unit == "pp":
        s = f"{v * 100:+.{1 if digits is None else digits}f} pp"
        return s.replace("-0.0 pp", "0.0 pp").replace("+0.0 pp", "0.0 pp")
    if unit == "count":
        return f"{v:,.0f}"
    if unit in ("ratio", "number") and not isinstance(v, (bool, np.bool_, int, np.integer)):
        d = 2 if digits is None else digits
        return f"{0.0 if round(float(v), d) == 0 else v:,.{d}f}"  # never "-0.00"
    if unit == "month":
        return pd.Timestamp(v).strftime("%b %Y")
    if unit == "date":
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    if unit == "number":
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        return f"{v:,.{2 if digits is None else digits}f}"
    return str(v)


def _default_unit(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(s):
        ts = s.dropna()
        monthly = len(ts) and (ts == month_floor(ts)).all()
        return "month" if monthly else "date"
    if pd.api.types.is_integer_dtype(s):
        return "count"
    if pd.api.types.is_float_dtype(s):
        return "number"
    return "text"


def _with_index(df: pd.DataFrame, index: bool | None) -> pd.DataFrame:
    """The frame with a named (non-positional) index turned into columns."""
    keep = index if index is not None else not isinstance(df.index, pd.RangeIndex)
    return df.reset_index() if keep else df


def frame(
    df: pd.DataFrame,
    units: dict[str, str] | None = None,
    currency: str = "EUR",
    index: bool | None = None,
) -> pd.DataFrame:
    """A display copy: every cell formatted text, human headers, index kept only if named.

    ``units`` maps columns to one of :data:`UNITS`; other columns get a unit from
    their dtype (integers → count, floats → number, datetimes → month or date).
    """
    units = units or {}
    d = _with_index(df, index)
    out = pd.DataFrame(index=range(len(d)))
    for c in d.columns:
        s = d[c].reset_index(drop=True)
        unit = units.get(c) or _default_unit(s)
        out[header(c)] = [fmt(v, unit, currency) for v in s]
    return out


def table(
    df: pd.DataFrame,
    units: dict[str, str] | None = None,
    currency: str = "EUR",
    index: bool | None = None,
):
    """:func:`frame` as a Styler without the positional index, wrapped to the page width."""
    shown = frame(df, units, currency, index)
    d = _with_index(df, index)
    text = [header(c) for c in d.columns if ((units or {}).get(c) or _default_unit(d[c])) == "text"]
    return (
        shown.style.set_properties(subset=text, **{"text-align": "left"})
        .format(escape="html")  # text from the data is shown, never interpreted
        .format_index(escape="html", axis=1)
        .hide(axis="index")
        .set_table_attributes('class="lr-table"')
        .set_table_styles(
            [
                {"selector": "th", "props": "text-align: left; white-space: normal;"},
                {"selector": "td", "props": "white-space: nowrap;"},
            ]
        )
    )
