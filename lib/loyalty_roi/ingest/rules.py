"""Row rules of each canonical table, and the duplicate-key rule.

Every rule either quarantines rows with a reason and a fix, or keeps them and
says what was assumed; nothing is changed silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, Issue

LINE_ITEM_SHARE = 0.05  # this share of rows sharing a receipt id means line items, not errors


def apply(frame: pd.DataFrame, tm, cols: dict[str, str], rej, notes: dict[str, str]):
    """Apply the table's rules in place.  Returns (repaired mask, repair reason → count)."""
    repaired = np.zeros(len(frame), dtype=bool)
    reasons: dict[str, int] = {}
    if tm.table == "transactions":
        _transactions(frame, cols, rej, notes, repaired, reasons)
    elif tm.table == "customers":
        _customers(frame, cols, notes, repaired, reasons)
    elif tm.table == "points_ledger":
        ty, pts = frame["type"], frame["points"]
        rej.add(
            (ty == "earn") & (pts <= 0),
            cols.get("points"),
            "earned points must be positive",
            "book reversals as type 'adjust'",
        )
        rej.add(
            ty.isin(["redeem", "expire"]) & (pts >= 0),
            cols.get("points"),
            "redeemed/expired points must be negative",
            "use signed points: redeem and expire < 0",
        )
    elif tm.table == "campaigns":
        rej.add(
            frame["end"] < frame["start"],
            cols.get("end"),
            "campaign ends before it starts",
            "swap or correct the dates",
        )
        unknown = frame["cost"].isna()
        if unknown.any() and "cost" in cols:
            notes["cost unknown"] = (
                f"{int(unknown.sum()):,} campaigns have no cost: their ROI is reported as unknown"
            )
    elif tm.table == "coupon_redemptions":
        rej.add(
            frame["discount"] <= 0,
            cols.get("discount"),
            "a redemption must carry a positive discount",
            "book the coupon's discount amount as a positive number",
        )
    return repaired, reasons


def _transactions(frame, cols, rej, notes, repaired, reasons) -> None:
    if "discount" not in cols:
        frame["discount"] = 0.0
        notes["discount absent"] = "discount not in the export: every discount taken as 0"
    else:
        empty = frame["discount"].isna() & frame["gross_amount"].notna()
        repaired |= empty.to_numpy()
        if empty.any():
            reasons["discount empty: taken as 0"] = int(empty.sum())
        frame["discount"] = frame["discount"].fillna(0.0)
    if "net_amount" not in cols:
        frame["net_amount"] = frame["gross_amount"] - frame["discount"]
        notes["net absent"] = "net amount not in the export: computed as gross − discount"
    else:
        empty = frame["net_amount"].isna() & frame["gross_amount"].notna()
        repaired |= empty.to_numpy()
        if empty.any():
            reasons["net amount empty: computed as gross − discount"] = int(empty.sum())
        frame.loc[empty, "net_amount"] = frame["gross_amount"] - frame["discount"]
    if "is_return" not in cols:
        frame["is_return"] = frame["gross_amount"] < 0
        notes["returns absent"] = (
            "return flag not in the export: rows with a negative amount counted as returns "
            f"({int(frame['is_return'].sum()):,} rows)"
        )
    ret = frame["is_return"].fillna(False).astype(bool)
    g, n = frame["gross_amount"], frame["net_amount"]
    c_amt = cols.get("gross_amount")
    rej.add(
        ~ret & (g < 0),
        c_amt,
        "sale with a negative amount",
        "mark returns with the return flag, or correct the amount",
    )
    zero = ~ret & (g >= 0) & (n == 0)
    if zero.any():
        notes["zero-value receipts"] = (
            f"{int(zero.sum()):,} zero-value receipts kept (free or fully discounted purchases): "
            "they count as orders with no revenue"
        )
    rej.add(
        ret & (g > 0),
        c_amt,
        "return with a positive amount",
        "returns must carry negative amounts (refund), or clear the return flag",
    )
    rej.add(
        ~ret & (n < 0),
        cols.get("net_amount", "net_amount"),
        "negative net amount on a sale",
        "discount cannot exceed the gross amount",
    )
    rej.add(
        (g - frame["discount"] - n).abs() > 0.011,
        cols.get("net_amount", "net_amount"),
        "net amount ≠ gross amount − discount",
        "correct the amounts (or leave net empty to compute it)",
    )


def _customers(frame, cols, notes, repaired, reasons) -> None:
    mem = frame["is_member"].fillna(False).astype(bool)
    undated = mem & frame["enrolled_at"].isna()
    if undated.any():
        notes["members undated"] = (
            f"{int(undated.sum()):,} members have no enrollment date: taken as enrolled before "
            "they were first seen — members in every month of the data, left out of the lift's "
            "enrollment cohorts"
        )
    fix_tier = ~mem & frame["tier"].notna()
    repaired |= fix_tier.to_numpy()
    if fix_tier.any():
        reasons["tier of a non-member cleared"] = int(fix_tier.sum())
    frame.loc[fix_tier, "tier"] = np.nan


def duplicates(frame: pd.DataFrame, spec, cols: dict[str, str], rej, file: str) -> None:
    """Rows repeating a key: the first is kept; line-item exports stop with their fix."""
    if not spec.key:
        return
    key = list(spec.key)
    from ..memory import keys_repeat  # DuckDB: loaded when a table is checked

    if not keys_repeat(frame, key):
        return
    has_key = frame[key].notna().all(axis=1)
    dup = frame.duplicated(subset=key, keep="first") & has_key
    if not dup.any():
        return
    keyname = ", ".join(cols.get(k, k) for k in key)
    shared = frame.duplicated(subset=key, keep=False) & has_key
    if spec.name == "transactions" and shared.mean() >= LINE_ITEM_SHARE:
        raise line_items_error(file, keyname, shared.mean())
    exact = frame.duplicated(keep="first")
    rej.add(dup & exact, keyname, *EXACT_DUPLICATE)
    rej.add(dup & ~exact, keyname, *KEY_DUPLICATE)


# (rule, fix) of a row repeating an earlier row's key
EXACT_DUPLICATE = ("exact duplicate row", "remove the repeated row from the export")
KEY_DUPLICATE = (
    "duplicate key with different values",
    "ids must be unique: fix the source or de-duplicate the export",
)


def line_items_error(file: str, keyname: str, share: float) -> DataError:
    """The error for receipts exported as line items (many rows share a receipt id)."""
    return DataError(
        Issue(
            file,
            keyname,
            [],
            f"{share:.0%} of rows share a receipt id ({keyname}) with another row: "
            "these look like line items (several rows per receipt), not duplicates",
            f"add 'aggregate: {{by: {keyname}}}' to table 'transactions' in the mapping to "
            "add them up to one row per receipt — do not delete the rows, they are real sales",
        )
    )
