"""Months: one home for how the workbook writes, counts and bounds a month.

A month has four forms here, and each has one converter:

* text ``YYYY-MM`` — the config, the CLI, report folders (:func:`check`);
* the integer month index ``year × 12 + month − 1`` — the engine's ``mi``
  column, so month arithmetic is integer arithmetic (:func:`index`,
  :func:`index_expr`, :func:`from_index`);
* the month start, a timestamp at midnight of the first day — how monthly
  frames are indexed (:func:`start`, :func:`floor`);
* the month's bounds: :func:`end` is its **last day** (inclusive, for
  "purchases up to the end of the month"), :func:`next_start` the first day of
  the next month (exclusive, for ``ts < next_start``).

"Latest" has two meanings, under two names:

* :func:`last_calendar_month` — the last calendar month that has ended before
  today (the synthetic program's default end);
* :func:`last_complete_in_data` — the last month whose final day the data
  reaches (what ``--month latest`` reports on; :func:`resolve` asks the
  engine for the data's last timestamp).
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check(text: str) -> str:
    """Return ``text`` if it is a month written ``YYYY-MM``.

    Raises
    ------
    ValueError
        When it is not, with an example of the form.
    """
    if not PATTERN.match(str(text)):
        raise ValueError(f"'{text}' is not a month in the form YYYY-MM (e.g. 2026-10)")
    return str(text)


def index(month: str | pd.Timestamp | dt.date) -> int:
    """The month index ``year × 12 + month − 1`` of ``YYYY-MM`` or any date in the month."""
    p = pd.Period(month, freq="M")
    return p.year * 12 + p.month - 1


def index_expr(ts):
    """The month index of an Ibis timestamp or date expression (computed by the backend)."""
    return (ts.year() * 12 + ts.month() - 1).cast("int64")


def from_index(mi: pd.Series) -> pd.Series:
    """Month starts (timestamps) of a series of month indices."""
    mi = mi.astype("int64")
    return pd.to_datetime(pd.DataFrame({"year": mi // 12, "month": mi % 12 + 1, "day": 1}))


def label(mi: int) -> str:
    """``YYYY-MM`` of a month index."""
    return f"{mi // 12:04d}-{mi % 12 + 1:02d}"


def start(month: str | pd.Timestamp | dt.date) -> pd.Timestamp:
    """The first day of the month (midnight)."""
    return pd.Timestamp(pd.Period(month, freq="M").to_timestamp())


def end(month: str | pd.Timestamp | dt.date) -> pd.Timestamp:
    """The last day of the month (midnight): an inclusive bound."""
    return pd.Period(month, freq="M").to_timestamp(how="end").normalize()


def next_start(month: str | pd.Timestamp | dt.date) -> pd.Timestamp:
    """The first day of the following month: the exclusive bound (``ts < next_start``)."""
    return start(month) + pd.offsets.MonthBegin(1)


def floor(ts: pd.Series) -> pd.Series:
    """The month start of each timestamp in a series."""
    return ts.dt.to_period("M").dt.to_timestamp()


def between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    """Whole calendar months from ``a``'s month to ``b``'s (negative when ``b`` is earlier)."""
    return (b.year - a.year) * 12 + (b.month - a.month)


def last_calendar_month(today: dt.date | None = None) -> str:
    """The last calendar month that ended before ``today``, as ``YYYY-MM``."""
    today = today or dt.date.today()
    prev = today.replace(day=1) - dt.timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


def last_complete_in_data(last_ts: pd.Timestamp) -> str:
    """The last month the data covers to its final day, given its latest timestamp.

    Data that ends on 31 October is complete for October; data that ends on
    15 November is complete up to October.
    """
    hi = pd.Timestamp(last_ts)
    last_day = hi.normalize() + pd.offsets.MonthEnd(0)
    p = pd.Period(hi, freq="M")
    return str(p if hi.normalize() == last_day else p - 1)


def resolve(eng, month: str | None = "latest") -> str:
    """The month a run reports on, as ``YYYY-MM``.

    Parameters
    ----------
    eng
        A :class:`loyalty_roi.engine.Engine` with the transactions registered.
    month
        ``latest`` (or empty): the last month the transactions cover to its final
        day; else ``YYYY-MM``, which must lie inside the data.

    Raises
    ------
    ConfigError
        When the month is outside the data, naming the range it has.
    """
    tx = eng.table("transactions")
    r = eng.execute(tx.aggregate(lo=tx.ts.min(), hi=tx.ts.max()))
    lo, hi = pd.Timestamp(r["lo"].iloc[0]), pd.Timestamp(r["hi"].iloc[0])
    if month in ("", "latest", None):
        return last_complete_in_data(hi)
    p = pd.Period(month, freq="M")
    if not (pd.Period(lo, freq="M") <= p <= pd.Period(hi, freq="M")):
        from .errors import ConfigError

        raise ConfigError(
            f"month {month} is outside the data ({lo:%Y-%m} … {hi:%Y-%m}) — fix: choose a month "
            f"in that range or 'latest'"
        )
    return str(p)
