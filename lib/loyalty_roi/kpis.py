"""The KPI catalogue: every KPI defined once, computed for every month.

Each :class:`Kpi` has a name, its formula (also in the function docstring),
a unit, a direction (is higher better?) and the tables it needs.
:func:`monthly_kpis` computes all of them for all months from the engine's
monthly aggregates; :func:`scorecard` turns one month into a scorecard with
MoM / YoY change, the SMART target from the config and a status.

A KPI whose tables are missing is "not available: needs <table>" — never 0.
A KPI that is undefined in a month (e.g. no campaign ended, not enough
history) is missing for that month, shown as "—".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import engine
from .claims import cite


@dataclass(frozen=True)
class Kpi:
    """One KPI definition."""

    key: str
    name: str
    formula: str
    unit: str  # "share" (0–1), "money", "count", "orders", "points", "nps", "score"
    higher_is_better: bool | None  # None: neither (volume / context figures)
    needs: tuple[str, ...]
    group: str

    @property
    def is_rate(self) -> bool:
        return self.unit == "share"


CATALOGUE: tuple[Kpi, ...] = (
    Kpi(
        "active_customers",
        "Active customers",
        "identified customers with ≥ 1 order in the month",
        "count",
        None,
        ("customers", "transactions"),
        "Volume",
    ),
    Kpi(
        "net_revenue",
        "Net revenue",
        "sum of net amounts of all receipts, returns deducted (incl. anonymous)",
        "money",
        True,
        ("transactions",),
        "Volume",
    ),
    Kpi(
        "average_order_value",
        "Average order value (AOV)",
        "net revenue / orders (all receipts)",
        "money",
        True,
        ("transactions",),
        "Purchase behaviour",
    ),
    Kpi(
        "purchase_frequency",
        "Purchase frequency",
        "orders of identified customers / active identified customers",
        "orders",
        True,
        ("customers", "transactions"),
        "Purchase behaviour",
    ),
    Kpi(
        "repeat_purchase_rate",
        "Repeat purchase rate",
        "customers with ≥ 2 orders / customers with ≥ 1 order, in the 12 months ending with the month",
        "share",
        True,
        ("customers", "transactions"),
        "Loyalty",
    ),
    Kpi(
        "retention_rate",
        "Retention rate",
        "customers active in both the previous and the current window / customers active in the previous window "
        "(windows of `retention_window` months ending with the month)",
        "share",
        True,
        ("customers", "transactions"),
        "Loyalty",
    ),
    Kpi(
        "churn_rate",
        "Churn rate",
        "1 − retention rate",
        "share",
        False,
        ("customers", "transactions"),
        "Loyalty",
    ),
    Kpi(
        "enrollment_rate",
        "Enrollment rate",
        "members / known customers (first seen by the month's end)",
        "share",
        True,
        ("customers",),
        "Program",
    ),
    Kpi(
        "active_member_rate",
        "Active member rate",
        "members with an order or a points event in the month / members",
        "share",
        True,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "revenue_share_members",
        "Revenue share from members",
        "members' net revenue / all net revenue",
        "share",
        True,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "spend_per_active_member",
        "Spend per active member",
        "members' net revenue / active members",
        "money",
        True,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "spend_per_active_non_member",
        "Spend per active non-member",
        "identified non-members' net revenue / active identified non-members",
        "money",
        None,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "member_spend_premium",
        "Member spend premium (naive)",
        "spend per active member / spend per active non-member − 1 — not the program's effect (members self-select)",
        "share",
        None,
        ("customers", "transactions"),
        "Program",
    ),
    Kpi(
        "points_issued",
        "Points issued",
        "sum of earned points booked in the month",
        "points",
        None,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "points_redeemed",
        "Points redeemed",
        "sum of redeemed points booked in the month",
        "points",
        None,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "points_expired",
        "Points expired",
        "sum of expired points booked in the month",
        "points",
        None,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "redemption_rate",
        "Redemption rate",
        "points redeemed / points issued, 12 months ending with the month",
        "share",
        True,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "breakage_rate",
        "Realised breakage",
        "points expired / points issued, 12 months ending with the month",
        "share",
        None,
        ("points_ledger",),
        "Points",
    ),
    Kpi(
        "nps",
        "Net Promoter Score",
        "% promoters (9–10) − % detractors (0–6) of the month's answers, −100…100",
        "nps",
        True,
        ("surveys",),
        "Satisfaction",
    ),
    Kpi(
        "csat",
        "Customer satisfaction (CSAT)",
        "mean CSAT score (1–5) of the month's answers",
        "score",
        True,
        ("surveys",),
        "Satisfaction",
    ),
    Kpi(
        "campaign_response_rate",
        "Campaign response rate",
        "contacted (not held-out) customers with ≥ 1 order in the campaign window / contacted customers, "
        "campaigns ending in the month",
        "share",
        True,
        ("campaigns", "campaign_contacts", "transactions"),
        "Campaigns",
    ),
)
BY_KEY = {k.key: k for k in CATALOGUE}


@dataclass
class KpiInputs:
    """Monthly aggregates every KPI is computed from."""

    panel: pd.DataFrame
    store_totals: pd.DataFrame
    surveys: pd.DataFrame | None
    campaign_activity: pd.DataFrame | None
    campaigns: pd.DataFrame | None
    available: set[str]


def gather_inputs(
    eng: engine.Engine,
    panel: pd.DataFrame | None = None,
    store_totals: pd.DataFrame | None = None,
) -> KpiInputs:
    """Collect what the KPIs need from the engine (the panel and store totals may be passed
    in when already built, e.g. from :func:`loyalty_roi.artefacts.shared`)."""
    panel = panel if panel is not None else engine.customer_month_panel(eng)
    has_campaigns = eng.has("campaigns") and eng.has("campaign_contacts")
    return KpiInputs(
        panel=panel,
        store_totals=store_totals if store_totals is not None else engine.store_month_totals(eng),
        surveys=eng.execute(eng.table("surveys")) if eng.has("surveys") else None,
        campaign_activity=engine.campaign_window_activity(eng) if has_campaigns else None,
        campaigns=eng.execute(eng.table("campaigns")) if has_campaigns else None,
        available=set(eng.tables),
    )


def _by_customer_window(panel: pd.DataFrame, col: str, window: int) -> pd.Series:
    """Sum of ``col`` over the last ``window`` months per customer (panel is dense per customer)."""
    p = panel
    cs = p.groupby("customer_id", sort=False)[col].cumsum()
    prev = cs.groupby(p["customer_id"], sort=False).shift(window).fillna(0)
    return cs - prev


def monthly_kpis(
    inp: KpiInputs, retention_window: int = 3, rolling_months: int = 12
) -> pd.DataFrame:
    """All KPIs of the catalogue for every month: one row per month, one column per KPI.

    ``retention_window``: months per retention window; ``rolling_months``: the
    window of the repeat purchase, redemption and breakage rates (12 in the
    catalogue's definitions).  KPIs whose tables are missing are absent (see
    :func:`availability`); values undefined in a month (not enough history) are NaN.
    """
    p = inp.panel.sort_values(["customer_id", "mi"], kind="stable").reset_index(drop=True)
    months = np.sort(p["month"].unique())
    lo = p["month"].min()
    out = pd.DataFrame(index=pd.DatetimeIndex(months, name="month"))
    g = p.groupby("month")
    mem = p["is_member"]
    active = p["active"]
    out["active_customers"] = g["active"].sum().astype(float)
    st = inp.store_totals.groupby("month")[["receipts", "revenue"]].sum()
    out["net_revenue"] = st["revenue"]
    out["average_order_value"] = st["revenue"] / st["receipts"].replace(0, np.nan)
    out["purchase_frequency"] = g["orders"].sum() / g["active"].sum().replace(0, np.nan)
    # repeat purchase rate over 12 months
    orders12 = _by_customer_window(p, "orders", rolling_months)
    buyers = p.assign(one=orders12 >= 1, two=orders12 >= 2).groupby("month")[["one", "two"]].sum()
    out["repeat_purchase_rate"] = buyers["two"] / buyers["one"].replace(0, np.nan)
    # retention: active in previous window and current window
    act = p.assign(a=p["active"].astype("int64"))
    in_cur = _by_customer_window(act, "a", retention_window) > 0
    prev_cs = in_cur.groupby(p["customer_id"], sort=False).shift(retention_window)
    in_prev = prev_cs.fillna(False).astype(bool)
    r = (
        pd.DataFrame({"month": p["month"], "prev": in_prev, "both": in_prev & in_cur})
        .groupby("month")
        .sum()
    )
    ret = r["both"] / r["prev"].replace(0, np.nan)
    enough = out.index >= lo + pd.DateOffset(months=2 * retention_window - 1)
    out["retention_rate"] = ret.where(enough)
    out["churn_rate"] = 1 - out["retention_rate"]
    enough12 = out.index >= lo + pd.DateOffset(months=rolling_months - 1)
    out["repeat_purchase_rate"] = out["repeat_purchase_rate"].where(enough12)
    # program
    members = g["is_member"].sum()
    out["enrollment_rate"] = members / g["is_member"].size()
    out["active_member_rate"] = (p["engaged"] & mem).groupby(p["month"]).sum() / members.replace(
        0, np.nan
    )
    member_rev = p["revenue"].where(mem, 0.0).groupby(p["month"]).sum()
    non_rev = p["revenue"].where(~mem, 0.0).groupby(p["month"]).sum()
    out["revenue_share_members"] = member_rev / out["net_revenue"].replace(0, np.nan)
    act_mem = (active & mem).groupby(p["month"]).sum()
    act_non = (active & ~mem).groupby(p["month"]).sum()
    out["spend_per_active_member"] = member_rev / act_mem.replace(0, np.nan)
    out["spend_per_active_non_member"] = non_rev / act_non.replace(0, np.nan)
    out["member_spend_premium"] = (
        out["spend_per_active_member"] / out["spend_per_active_non_member"] - 1
    )
    # points
    if "points_ledger" in inp.available:
        pts = g[["points_earned", "points_redeemed", "points_expired"]].sum()
        out["points_issued"] = pts["points_earned"].astype(float)
        out["points_redeemed"] = pts["points_redeemed"].astype(float)
        out["points_expired"] = pts["points_expired"].astype(float)
        roll = pts.rolling(rolling_months, min_periods=rolling_months).sum()
        out["redemption_rate"] = roll["points_redeemed"] / roll["points_earned"].replace(0, np.nan)
        out["breakage_rate"] = roll["points_expired"] / roll["points_earned"].replace(0, np.nan)
    if inp.surveys is not None:
        s = inp.surveys.assign(month=inp.surveys["date"].dt.to_period("M").dt.to_timestamp())
        sg = s.groupby("month")
        out["nps"] = (sg["nps"].apply(lambda x: (x >= 9).mean() - (x <= 6).mean()) * 100).reindex(
            out.index
        )
        out["csat"] = sg["csat"].mean().reindex(out.index)
    if inp.campaign_activity is not None:
        a = inp.campaign_activity[~inp.campaign_activity["is_holdout"]]
        resp = (
            a.assign(responded=a["orders"] > 0)
            .groupby("campaign_id")["responded"]
            .agg(["sum", "size"])
        )
        ends = inp.campaigns.set_index("campaign_id")["end"].dt.to_period("M").dt.to_timestamp()
        resp["month"] = ends.reindex(resp.index)
        m = resp.groupby("month")[["sum", "size"]].sum()
        out["campaign_response_rate"] = (m["sum"] / m["size"]).reindex(out.index)
    return out


def availability(available: set[str]) -> dict[str, str | None]:
    """For each KPI: None when computable, else the "not available: needs …" message."""
    res = {}
    for k in CATALOGUE:
        missing = [t for t in k.needs if t not in available]
        res[k.key] = f"not available: needs {', '.join(missing)}" if missing else None
    return res


def change_unit(unit: str, short: bool = False) -> str:
    """The unit of a KPI's MoM/YoY change: pp for rates, points for NPS, % otherwise."""
    if unit == "share":
        return "pp"
    if unit == "nps":
        return "pts" if short else "points"
    return "%"


def _change(cur: float, prev: float, kpi: Kpi) -> float:
    """Change from ``prev`` to ``cur``: percentage points for rates and NPS, relative change otherwise."""
    if pd.isna(cur) or pd.isna(prev):
        return np.nan
    if kpi.is_rate:
        return (cur - prev) * 100
    if kpi.unit == "nps":
        return cur - prev
    return np.nan if prev == 0 else (cur / prev - 1) * 100


def target_status(
    value: float,
    baseline: float,
    expected: float,
    higher_is_better: bool,
    on_track_share: float = 0.9,
    at_risk_share: float = 0.5,
) -> str:
    """Status against a SMART target with a linear path from baseline to target.

    ``progress = (value − baseline) / (expected − baseline)``, where ``expected``
    is the value the linear path reaches in this month.  On track if progress ≥
    ``on_track_share``, at risk if ≥ ``at_risk_share``, else off track.  At the
    baseline month itself (no change expected yet): on track unless the value
    moved the wrong way.
    """
    if pd.isna(value) or pd.isna(baseline):
        return "no data"
    sign = 1 if higher_is_better else -1
    needed = (expected - baseline) * sign
    achieved = (value - baseline) * sign
    if needed <= 0:
        return "on track" if achieved >= 0 else "at risk"
    progress = achieved / needed
    if progress >= on_track_share:
        return "on track"
    if progress >= at_risk_share:
        return "at risk"
    return "off track"


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def scorecard(
    values: pd.DataFrame,
    month: str | pd.Timestamp,
    kpi_config=None,
    available: set[str] | None = None,
) -> pd.DataFrame:
    """The scorecard of one month.

    Columns: ``kpi, group, value, unit, mom, yoy`` (changes in pp for rates,
    points for NPS, % otherwise), ``target`` (text), ``target_value``,
    ``expected_now``, ``status`` and ``note``.  ``kpi_config`` is the
    ``kpi`` section of the workbook config (targets and status shares).
    """
    m = pd.Timestamp(pd.Period(month, freq="M").to_timestamp())
    if m not in values.index:
        raise KeyError(
            f"month {m:%Y-%m} is not in the data ({values.index.min():%Y-%m} … {values.index.max():%Y-%m})"
        )
    avail = availability(available if available is not None else set())
    targets = kpi_config.targets if kpi_config is not None else {}
    rows = []
    for k in CATALOGUE:
        row = {
            "key": k.key,
            "kpi": k.name,
            "group": k.group,
            "unit": k.unit,
            "higher_is_better": k.higher_is_better,
        }
        if available is not None and avail[k.key]:
            rows.append({**row, "value": np.nan, "status": avail[k.key], "note": avail[k.key]})
            continue
        s = values[k.key] if k.key in values else pd.Series(dtype=float)
        cur = s.get(m, np.nan)
        prev = s.get(m - pd.DateOffset(months=1), np.nan)
        last_year = s.get(m - pd.DateOffset(months=12), np.nan)
        row.update(
            value=cur, previous=prev, mom=_change(cur, prev, k), yoy=_change(cur, last_year, k)
        )
        t = targets.get(k.key)
        if t is not None and k.higher_is_better is not None:
            b_month = pd.Timestamp(pd.Period(t.baseline_month, freq="M").to_timestamp())
            by = pd.Timestamp(pd.Period(t.by, freq="M").to_timestamp())
            baseline = s.get(b_month, np.nan)
            target_value = baseline * (1 + t.change)
            if k.is_rate:
                target_value = min(target_value, 1.0)  # a share cannot pass 100 %
            total = max(1, _months_between(b_month, by))
            elapsed = min(max(0, _months_between(b_month, m)), total)
            expected = baseline + (target_value - baseline) * elapsed / total
            status = target_status(
                cur,
                baseline,
                expected,
                higher_is_better=k.higher_is_better,
                on_track_share=kpi_config.on_track_share,
                at_risk_share=kpi_config.at_risk_share,
            )
            if pd.isna(baseline):
                status = f"no baseline: {t.baseline_month} not in the data"
            elif k.is_rate and not 0 <= baseline * (1 + t.change) <= 1:
                # a rate cannot pass 100 % (or fall below 0): say so instead of "off track"
                status = (
                    f"infeasible: {t.change:+.0%} on {baseline:.1%} is "
                    f"{baseline * (1 + t.change):.1%} — set a reachable change in kpi.targets"
                )
            row.update(
                target=f"{t.change:+.0%} vs {t.baseline_month} by {t.by}",
                baseline=baseline,
                target_value=target_value,
                expected_now=expected,
                status=status,
            )
        else:
            row.update(status="no target" if not pd.isna(cur) else "no data this month")
        row["note"] = describe(k, cur, row.get("mom"), row.get("status"), row.get("target"))
        rows.append(row)
    cols = [
        "key",
        "kpi",
        "group",
        "value",
        "unit",
        "previous",
        "mom",
        "yoy",
        "target",
        "baseline",
        "target_value",
        "expected_now",
        "status",
        "note",
        "higher_is_better",
    ]
    return pd.DataFrame(rows).reindex(columns=cols)


def format_value(value: float, unit: str, currency: str = "EUR") -> str:
    """A KPI value as text in its catalogue unit: 12.3 %, EUR 45.60, 1,234, NPS +23.

    Money, shares and counts are formatted by :func:`loyalty_roi.present.fmt`,
    the one presentation layer; the KPI-only units (points, orders, NPS, score) here.
    """
    from .present import DASH, fmt

    if pd.isna(value):
        return DASH
    if unit in ("share", "money", "count"):
        return fmt(value, unit, currency)
    return {
        "points": f"{value:,.0f}",
        "orders": f"{value:.2f}",
        "nps": f"{value:+.0f}",
        "score": f"{value:.2f}",
    }[unit]


def describe(
    k: Kpi, value: float, mom: float | None, status: str | None, target: str | None
) -> str:
    """One sentence on a KPI, e.g. "Repeat purchase rate fell 2.1 pp MoM, off track vs the +10% target"."""
    if pd.isna(value):
        return f"{k.name}: no value this month."
    if mom is None or pd.isna(mom):
        move = "has no previous month to compare with"
    else:
        unit = change_unit(k.unit)
        verb = "rose" if mom > 0 else ("fell" if mom < 0 else "was unchanged")
        move = f"{verb} {abs(mom):.1f} {unit} MoM" if mom != 0 else verb + " MoM"
    s = f"{k.name} {move}"
    if target and status in ("on track", "at risk", "off track"):
        s += f", {status} vs the {target.split(' vs ')[0]} target"
    return s + "."


def biggest_movements(card: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The KPIs with the largest absolute MoM change among those with a direction."""
    c = card[card["higher_is_better"].notna() & card["mom"].notna()].copy()
    c["abs_mom"] = c["mom"].abs()
    return c.sort_values("abs_mom", ascending=False).head(n)


STATUS_COLORS = {"on track": "#d8f0d2", "at risk": "#fdebc8", "off track": "#f6d0d0"}


def scorecard_display(card: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The scorecard with values and changes as text, ready to show or export."""

    def chg(row, col):
        v = row[col]
        if pd.isna(v):
            return "—"
        unit = change_unit(row["unit"], short=True)
        text = f"{v:+.1f}"
        return f"{'0.0' if text in ('+0.0', '-0.0') else text} {unit}"  # never "−0.0 pp"

    out = pd.DataFrame(
        {
            "KPI": card["kpi"],
            "group": card["group"],
            "value": [
                format_value(v, u, currency)
                for v, u in zip(card["value"], card["unit"], strict=True)
            ],
            "MoM": [chg(r, "mom") for _, r in card.iterrows()],
            "YoY": [chg(r, "yoy") for _, r in card.iterrows()],
            "target": card["target"].fillna("—"),
            "target value": [
                format_value(v, u, currency)
                for v, u in zip(card["target_value"], card["unit"], strict=True)
            ],
            "status": card["status"],
        }
    )
    return out


def styled_scorecard(card: pd.DataFrame, currency: str):
    """The scorecard as a pandas Styler: status cells coloured, no index."""
    disp = scorecard_display(card, currency)
    return (
        disp.style.hide(axis="index")
        .map(
            lambda s: f"background-color: {STATUS_COLORS.get(s, 'transparent')}", subset=["status"]
        )
        .set_properties(**{"font-size": "0.9em"})
    )


def movement_sentences(card: pd.DataFrame, n: int = 4) -> str:
    """Markdown bullets for the largest MoM movements, with their target status."""
    top = biggest_movements(card, n)
    if top.empty:
        return "No KPI has a previous month to compare with."
    return "\n".join(f"- {note}" for note in top["note"])


def member_sentence(values: pd.DataFrame, month: str) -> str:
    """The naive member premium in words, with the warning that it is not the program's effect."""
    m = pd.Timestamp(pd.Period(month, freq="M").to_timestamp())
    prem = values.loc[m, "member_spend_premium"] if m in values.index else np.nan
    if pd.isna(prem):
        return "There are no active members or no active non-members this month to compare."
    return (
        f"Active members spent {prem:+.0%} compared with active non-members in {m:%B %Y}. This is the naive "
        f"comparison the published 12–18% figures rest on {cite('member_premium')}: heavy buyers join "
        f"loyalty programs, so part of the gap existed before they enrolled. Notebook 04 estimates "
        f"the program's own effect."
    )


def catalogue_markdown() -> str:
    """The KPI catalogue as a Markdown table (kept in the README; a test checks they agree)."""
    arrow = {True: "higher", False: "lower", None: "—"}
    lines = ["| KPI | formula | unit | better | needs |", "| --- | --- | --- | --- | --- |"]
    for k in CATALOGUE:
        lines.append(
            f"| {k.name} | {k.formula} | {k.unit} | {arrow[k.higher_is_better]} | {', '.join(k.needs)} |"
        )
    return "\n".join(lines)
