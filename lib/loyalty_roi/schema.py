"""The canonical data contract: nine tables, their columns, types and rules.

``TABLES`` is the single description used by the synthetic generator, the
ingest parser, the pandera validation and the README's data dictionary.
``customers`` and ``transactions`` are required; every other table is
optional and its absence is reported as "not available — provide X".

Conventions
-----------
* Money columns are floats in the configured currency.
* Dates are ``datetime64[us]`` (timestamps for transactions, midnight dates elsewhere).
* Points are signed integers: earn > 0, redeem < 0, expire < 0, adjust either sign.
* A return is its own transaction row with ``is_return`` true and negative amounts.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import pandas as pd


def _import_pandera():
    # pandera imports ``pyspark.pandas`` at import time when pyspark is installed
    # (our optional Spark extra).  That import is slow and emits a pandas-3
    # FutureWarning although we never use pandas-on-Spark; hide the module for
    # the duration of the import so pandera takes its "not installed" path.
    hidden = "pyspark.pandas" not in sys.modules
    if hidden:
        sys.modules["pyspark.pandas"] = None  # type: ignore[assignment]
    try:
        import pandera.pandas as pa
    finally:
        if hidden:
            sys.modules.pop("pyspark.pandas", None)
    return pa


pa = _import_pandera()

TIERS = ("bronze", "silver", "gold")
POINT_TYPES = ("earn", "redeem", "expire", "adjust")
CAMPAIGN_TYPES = ("double_points", "coupon", "email", "event", "partner", "other")
COST_CATEGORIES = ("platform", "marketing", "staff", "rewards", "other")
CHANNELS = ("store", "online")


@dataclass(frozen=True)
class Column:
    """One canonical column.

    kind is one of ``str``, ``date``, ``datetime``, ``bool``, ``float``, ``int``.
    """

    name: str
    kind: str
    description: str
    nullable: bool = False
    required: bool = True
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    pii: bool = False


@dataclass(frozen=True)
class Table:
    """One canonical table: columns, key, references to other tables, required or not."""

    name: str
    description: str
    columns: tuple[Column, ...]
    required: bool = False
    key: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)  # column -> table.column

    @property
    def names(self) -> list[str]:
        """The column names, in canonical order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column
TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "customers",
            "One row per known customer (members and identified non-members).",
            (
                C("customer_id", "str", "customer key, unique"),
                C("first_seen", "date", "date of first purchase or registration"),
                C("is_member", "bool", "enrolled in the loyalty program"),
                C(
                    "enrolled_at",
                    "date",
                    "enrollment date; empty for non-members, and for members whose date is unknown "
                    "(taken as enrolled before first seen)",
                    nullable=True,
                ),
                C(
                    "tier",
                    "str",
                    "current tier; empty for non-members",
                    nullable=True,
                    allowed=TIERS,
                ),
                C("store", "str", "home store or region"),
                C("marketing_consent", "bool", "may receive marketing (GDPR consent)"),
                C(
                    "email_hash",
                    "str",
                    "salted hash of the e-mail address",
                    nullable=True,
                    required=False,
                    pii=True,
                ),
                C(
                    "name_hash",
                    "str",
                    "salted hash of the full name",
                    nullable=True,
                    required=False,
                    pii=True,
                ),
                C(
                    "phone_hash",
                    "str",
                    "salted hash of the phone number",
                    nullable=True,
                    required=False,
                    pii=True,
                ),
            ),
            required=True,
            key=("customer_id",),
        ),
        Table(
            "transactions",
            "One row per receipt; returns are separate rows with negative amounts.",
            (
                C("transaction_id", "str", "receipt key, unique"),
                C("customer_id", "str", "buyer; empty for anonymous sales", nullable=True),
                C("ts", "datetime", "time of sale"),
                C("store", "str", "store (or 'web shop')"),
                C("channel", "str", "sales channel", allowed=CHANNELS),
                C("gross_amount", "float", "amount before discount (negative for returns)"),
                C(
                    "discount",
                    "float",
                    "discount granted, incl. coupons; 0 when absent",
                    required=False,
                    min_value=0,
                ),
                C(
                    "net_amount",
                    "float",
                    "gross_amount − discount; computed when absent",
                    required=False,
                ),
                C("is_return", "bool", "row is a return / refund"),
            ),
            required=True,
            key=("transaction_id",),
            references={"customer_id": "customers.customer_id"},
        ),
        Table(
            "points_ledger",
            "Every movement of loyalty points.",
            (
                C("customer_id", "str", "member"),
                C("date", "date", "booking date"),
                C("type", "str", "earn / redeem / expire / adjust", allowed=POINT_TYPES),
                C("points", "int", "signed points: earn > 0, redeem and expire < 0"),
                C(
                    "transaction_id",
                    "str",
                    "receipt that earned/redeemed the points",
                    nullable=True,
                    required=False,
                ),
                C(
                    "campaign_id",
                    "str",
                    "campaign that granted bonus points",
                    nullable=True,
                    required=False,
                ),
            ),
            references={"customer_id": "customers.customer_id"},
        ),
        Table(
            "tier_history",
            "Every tier change of a member.",
            (
                C("customer_id", "str", "member"),
                C("date", "date", "date the new tier took effect"),
                C(
                    "from_tier",
                    "str",
                    "previous tier; empty at enrollment",
                    nullable=True,
                    allowed=TIERS,
                ),
                C("to_tier", "str", "new tier", allowed=TIERS),
            ),
            references={"customer_id": "customers.customer_id"},
        ),
        Table(
            "campaigns",
            "Marketing campaigns and promotions.",
            (
                C("campaign_id", "str", "campaign key, unique"),
                C("name", "str", "campaign name"),
                C(
                    "type",
                    "str",
                    "double_points / coupon / email / event / partner / other",
                    allowed=CAMPAIGN_TYPES,
                ),
                C("start", "date", "first day"),
                C("end", "date", "last day (inclusive)"),
                C(
                    "cost",
                    "float",
                    "total campaign cost; empty when unknown (its ROI is then reported as unknown)",
                    nullable=True,
                    min_value=0,
                ),
            ),
            key=("campaign_id",),
        ),
        Table(
            "campaign_contacts",
            "Who was selected for a campaign, and whether randomly held out.",
            (
                C("campaign_id", "str", "campaign"),
                C("customer_id", "str", "selected customer"),
                C("is_holdout", "bool", "randomly held out (not contacted)"),
            ),
            key=("campaign_id", "customer_id"),
            references={
                "campaign_id": "campaigns.campaign_id",
                "customer_id": "customers.customer_id",
            },
        ),
        Table(
            "coupon_redemptions",
            "Coupons redeemed: who, when, which coupon, and the discount it gave.",
            (
                C("customer_id", "str", "customer who redeemed; empty if anonymous", nullable=True),
                C("date", "date", "redemption date"),
                C("coupon_id", "str", "coupon code or id"),
                C(
                    "campaign_id",
                    "str",
                    "campaign the coupon belongs to",
                    nullable=True,
                    required=False,
                ),
                C("discount", "float", "discount the coupon gave", min_value=0),
                C(
                    "transaction_id",
                    "str",
                    "receipt it was redeemed on",
                    nullable=True,
                    required=False,
                ),
            ),
            references={
                "customer_id": "customers.customer_id",
                "campaign_id": "campaigns.campaign_id",
            },
        ),
        Table(
            "program_costs",
            "Monthly program running costs (rewards come from the points ledger).",
            (
                C("month", "date", "first day of the month"),
                C(
                    "category",
                    "str",
                    "platform / marketing / staff / rewards / other",
                    allowed=COST_CATEGORIES,
                ),
                C("amount", "float", "cost in the month", min_value=0),
            ),
            key=("month", "category"),
        ),
        Table(
            "surveys",
            "Customer feedback: NPS and optional CSAT.",
            (
                C("customer_id", "str", "respondent"),
                C("date", "date", "answer date"),
                C("nps", "int", "likelihood to recommend, 0–10", min_value=0, max_value=10),
                C(
                    "csat",
                    "float",
                    "satisfaction 1–5",
                    nullable=True,
                    required=False,
                    min_value=1,
                    max_value=5,
                ),
            ),
            references={"customer_id": "customers.customer_id"},
        ),
    ]
}

REQUIRED_TABLES = tuple(n for n, t in TABLES.items() if t.required)
OPTIONAL_TABLES = tuple(n for n, t in TABLES.items() if not t.required)


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of ``table``."""
    spec = TABLES[table]
    return coerce_canonical(pd.DataFrame({c: [] for c in spec.names}), table)


def coerce_canonical(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cast an already-clean frame to the canonical column order and dtypes.

    Optional columns that are absent are added as all-missing.  This is the
    one place that decides dtypes, so the generator and the ingest produce
    identical frames.
    """
    spec = TABLES[table]
    out = {}
    n = len(df)
    for col in spec.columns:
        s = df[col.name] if col.name in df.columns else pd.Series([None] * n, index=df.index)
        if col.kind == "str":
            if not (pd.api.types.is_string_dtype(s) and s.dtype != object):  # else: text already
                s = (
                    s.astype("str")
                    if not col.nullable
                    else s.astype(object).where(s.notna(), None).astype("str")
                )
        elif col.kind in ("date", "datetime"):
            s = pd.to_datetime(s).astype("datetime64[us]")
            if col.kind == "date":
                s = s.dt.normalize()
        elif col.kind == "bool":
            s = s.astype(bool)
        elif col.kind == "float":
            s = s.astype("float64")
        elif col.kind == "int":
            s = s.astype("int64")
        out[col.name] = s.reset_index(drop=True)
    return pd.DataFrame(out, copy=False)  # the columns are new already: no second copy


def pandera_schema(table: str, check_key: bool = True) -> pa.DataFrameSchema:
    """The pandera schema of a canonical table (types, nullability, ranges, keys).

    ``check_key=False`` leaves out the key's uniqueness, for a frame whose keys
    :func:`.memory.keys_repeat` has already checked.
    """
    spec = TABLES[table]
    cols = {}
    for c in spec.columns:
        checks = []
        if c.allowed:
            checks.append(pa.Check.isin(list(c.allowed)))
        if c.min_value is not None:
            checks.append(pa.Check.ge(c.min_value))
        if c.max_value is not None:
            checks.append(pa.Check.le(c.max_value))
        dtype = {
            "str": "str",
            "date": "datetime64[us]",
            "datetime": "datetime64[us]",
            "bool": "bool",
            "float": "float64",
            "int": "int64",
        }[c.kind]
        cols[c.name] = pa.Column(dtype, checks=checks, nullable=c.nullable, required=True)
    table_checks = []
    if table == "transactions":
        table_checks.append(
            pa.Check(
                lambda d: (d["gross_amount"] - d["discount"] - d["net_amount"]).abs() <= 0.011,
                name="net_amount = gross_amount - discount",
            )
        )
    unique = list(spec.key) if spec.key and check_key else None
    return pa.DataFrameSchema(
        cols,
        checks=table_checks,
        unique=unique,
        strict=True,
        ordered=True,
        coerce=False,
        name=table,
    )


CONTRACT_BLOCK = 1_000_000  # rows checked at once by the contract (row rules only)


def validate(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validate a canonical frame; raises ``pandera.errors.SchemaErrors`` listing every failure.

    Key uniqueness is counted in DuckDB first (pandera's own check takes 4 s and
    1.4 GiB at 10M rows); pandera checks it, and names the rows, only when a
    key repeats.

    Without the key check every rule is about one row, so a large frame is
    checked a block of rows at a time (10M receipts: +0.1 GiB, not +0.65 GiB);
    a failure then lists the checks of the first block that fails.
    """
    from .memory import keys_repeat

    key = list(TABLES[table].key)
    check_key = bool(key) and set(key) <= set(df.columns) and keys_repeat(df, key)
    schema = pandera_schema(table, check_key)
    if check_key or len(df) <= CONTRACT_BLOCK:
        return schema.validate(df, lazy=True)
    for start in range(0, len(df), CONTRACT_BLOCK):
        schema.validate(df.iloc[start : start + CONTRACT_BLOCK], lazy=True)
    return df


def data_dictionary_markdown() -> str:
    """The data dictionary as Markdown (docs/data-dictionary.md; a test checks they agree)."""
    lines = []
    for t in TABLES.values():
        req = "required" if t.required else "optional"
        key = f"; key: `{', '.join(t.key)}`" if t.key else ""
        lines.append(f"### `{t.name}` ({req}{key})\n\n{t.description}\n")
        lines.append("| column | type | null | meaning |")
        lines.append("| --- | --- | --- | --- |")
        for c in t.columns:
            extra = f" One of: {', '.join(c.allowed)}." if c.allowed else ""
            lines.append(
                f"| `{c.name}` | {c.kind} | {'yes' if c.nullable else 'no'} | {c.description}.{extra} |"
            )
        lines.append("")
    return "\n".join(lines)
