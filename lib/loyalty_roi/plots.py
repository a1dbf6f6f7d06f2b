"""One seaborn/matplotlib house style for every figure of the workbook.

Every function returns the matplotlib ``Figure`` with a title, labelled axes
and units, so notebooks stay one line per chart.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from .sanitize import mpl_texts  # labels from data: '$' must not switch on mathtext

PALETTE = ["#1b5e7a", "#e07a1f", "#5a9e4b", "#b23a48", "#7d5ba6", "#8c8c8c"]


def use_house_style() -> None:
    """Apply the house style (call once per notebook)."""
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "figure.figsize": (9, 4.2),
            "figure.dpi": 100,
            "axes.titleweight": "bold",
            "axes.titlesize": 12,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "savefig.bbox": "tight",
        },
    )


def money_axis(ax, currency: str, axis: str = "y") -> None:
    """Format an axis as money with thousands separators, e.g. ``EUR 12,500``."""
    fmt = mticker.FuncFormatter(lambda v, _: f"{currency} {v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def plot_monthly_coverage(cov: pd.DataFrame, currency: str) -> plt.Figure:
    """Bars of net revenue per month with the number of receipts as a line.

    ``cov`` has columns ``month``, ``receipts``, ``net_revenue`` (see
    :func:`loyalty_roi.ingest.monthly_coverage`).
    """
    fig, ax = plt.subplots()
    x = cov["month"].dt.strftime("%Y-%m")
    ax.bar(x, cov["net_revenue"], color=PALETTE[0], label="net revenue")
    money_axis(ax, currency)
    ax.set_xlabel("month")
    ax.set_ylabel(f"net revenue ({currency})")
    ax.tick_params(axis="x", rotation=60)
    ax2 = ax.twinx()
    ax2.plot(x, cov["receipts"], color=PALETTE[1], marker="o", label="receipts")
    ax2.set_ylabel("receipts per month (count)")
    ax2.grid(False)
    ax.set_title("Data coverage: net revenue and receipts per month")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="lower right", frameon=True, fontsize=9)
    return fig


def plot_silhouette(curve: pd.DataFrame, chosen_k: int) -> plt.Figure:
    """Silhouette score by number of clusters, the chosen k marked."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(curve["k"], curve["silhouette"], marker="o", color=PALETTE[0])
    best = curve.set_index("k").loc[chosen_k, "silhouette"]
    ax.scatter(
        [chosen_k],
        [best],
        s=160,
        facecolors="none",
        edgecolors=PALETTE[1],
        linewidths=2,
        label=f"chosen k = {chosen_k}",
    )
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("mean silhouette (−1…1)")
    ax.set_title("k-means: silhouette by number of clusters")
    ax.legend()
    return fig


def plot_segments(profile: pd.DataFrame) -> plt.Figure:
    """Share of customers vs share of revenue per named segment."""
    d = profile[["share", "revenue_share"]].rename(
        columns={"share": "customers", "revenue_share": "revenue"}
    )
    fig, ax = plt.subplots(figsize=(9, 4))
    d.mul(100).plot.barh(ax=ax, color=PALETTE[:2])
    ax.invert_yaxis()
    ax.set_xlabel("share of total (%)")
    ax.set_ylabel("RFM segment")
    ax.set_title("RFM segments: share of customers and of net revenue")
    return fig


def plot_tier_distribution(dist: pd.DataFrame) -> plt.Figure:
    """Members per tier over time (stacked area)."""
    fig, ax = plt.subplots()
    colors = {"bronze": "#b08d57", "silver": "#a7a9ac", "gold": "#d4af37"}
    ax.stackplot(
        dist.index,
        *[dist[c] for c in dist.columns],
        labels=list(dist.columns),
        colors=[colors.get(c, PALETTE[0]) for c in dist.columns],
    )
    ax.set_xlabel("month")
    ax.set_ylabel("members (count)")
    ax.set_title("Members per tier")
    ax.legend(loc="upper left")
    return fig


def plot_heatmap(
    mat: pd.DataFrame,
    title: str,
    xlabel: str,
    ylabel: str,
    fmt: str = ".0%",
    cmap: str = "Blues",
    annot: bool = True,
) -> plt.Figure:
    """A labelled heatmap (cohort retention, tier migration)."""
    h = max(3.5, 0.32 * len(mat) + 1.5)
    fig, ax = plt.subplots(figsize=(10, h))
    sns.heatmap(
        mat,
        annot=annot,
        fmt=fmt,
        cmap=cmap,
        cbar=True,
        ax=ax,
        annot_kws={"fontsize": 7},
        linewidths=0.3,
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def plot_kpi_trends(
    values: pd.DataFrame,
    keys: list[str],
    names: dict[str, str],
    units: dict[str, str],
    currency: str,
    months: int = 13,
) -> plt.Figure:
    """Small multiples of KPI trends over the last ``months`` months."""
    v = values[keys].tail(months)
    n = len(keys)
    cols = 3
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.9 * rows), squeeze=False)
    for ax, k in zip(axes.flat, keys, strict=False):
        unit = units[k]
        y = v[k] * (100 if unit == "share" else 1)
        ax.plot(v.index, y, marker="o", color=PALETTE[0], markersize=3)
        ax.set_title(names[k], fontsize=10)
        ax.set_ylabel(
            {
                "share": "%",
                "money": currency,
                "nps": "NPS (−100…100)",
                "score": "score (1–5)",
                "orders": "orders per customer",
                "count": "count",
                "points": "points",
            }[unit]
        )
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        ax.set_xlabel("month", fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(f"KPI trends, last {months} months", fontweight="bold")
    fig.tight_layout()
    return fig


def plot_member_vs_non_member(values: pd.DataFrame, currency: str, months: int = 13) -> plt.Figure:
    """Spend per active member vs non-member, and the naive premium."""
    v = values.tail(months)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 3.8))
    a1.plot(v.index, v["spend_per_active_member"], marker="o", label="members", color=PALETTE[0])
    a1.plot(
        v.index, v["spend_per_active_non_member"], marker="o", label="non-members", color=PALETTE[1]
    )
    money_axis(a1, currency)
    a1.set_title("Spend per active customer")
    a1.set_xlabel("month")
    a1.set_ylabel(f"net revenue per active customer ({currency})")
    a1.legend()
    a2.bar(v.index.strftime("%Y-%m"), v["member_spend_premium"] * 100, color=PALETTE[3])
    a2.set_title("Naive member spend premium (not the program effect)")
    a2.set_xlabel("month")
    a2.set_ylabel("members vs non-members (%)")
    for ax in (a1, a2):
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    fig.tight_layout()
    return fig


def plot_clv_validation(tab: pd.DataFrame, weeks: float) -> plt.Figure:
    """Predicted vs actual repeat purchases in the holdout, by calibration frequency."""
    fig, ax = plt.subplots(figsize=(8, 4))
    x = range(len(tab))
    ax.plot(x, tab["actual"], marker="o", label="actual", color=PALETTE[0])
    ax.plot(
        x,
        tab["predicted"],
        marker="s",
        linestyle="--",
        label="predicted (BG/NBD)",
        color=PALETTE[1],
    )
    ax.set_xticks(list(x), tab.index)
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel(f"mean purchases in the {weeks:.0f}-week holdout")
    ax.set_title("CLV model check: predicted vs actual purchases in the holdout")
    ax.legend()
    return fig


def plot_clv_by(table: pd.DataFrame, label: str, currency: str) -> plt.Figure:
    """Mean expected CLV per group."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.barh(mpl_texts(table.index), table["mean_clv"], color=PALETTE[2])
    ax.invert_yaxis()
    money_axis(ax, currency, axis="x")
    ax.set_xlabel(f"mean expected CLV ({currency}, gross margin)")
    ax.set_ylabel(label)
    ax.set_title(f"Expected customer lifetime value by {label}")
    return fig


def plot_event_study(es: pd.DataFrame, truth: float | None = None) -> plt.Figure:
    """Lift by months since enrollment with 95% intervals; the planted truth when known."""
    fig, ax = plt.subplots(figsize=(9, 4))
    d = es.dropna(subset=["lift"])
    ax.errorbar(
        d["k"],
        d["lift"] * 100,
        yerr=[(d["lift"] - d["lo"]) * 100, (d["hi"] - d["lift"]) * 100],
        fmt="o",
        color=PALETTE[0],
        capsize=3,
        label="members vs matched controls",
    )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(0, color=PALETTE[5], linestyle=":", label="enrollment month (left out)")
    if truth is not None:
        ax.axhline(
            truth * 100, color=PALETTE[2], linestyle="--", label=f"planted truth ({truth:.1%})"
        )
    ax.set_xlabel("months since enrollment")
    ax.set_ylabel("revenue lift vs matched controls (%)")
    ax.set_title("Event study: lift before and after enrollment (pre-trend check)")
    ax.legend(fontsize=8)
    return fig


def plot_campaign_lifts(lifts: pd.DataFrame) -> plt.Figure:
    """Holdout lift per campaign with 95% intervals."""
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(lifts) + 1.5))
    y = range(len(lifts))
    ax.errorbar(
        lifts["lift"] * 100,
        list(y),
        xerr=[(lifts["lift"] - lifts["lift_lo"]) * 100, (lifts["lift_hi"] - lifts["lift"]) * 100],
        fmt="o",
        color=PALETTE[1],
        capsize=3,
    )
    ax.set_yticks(
        list(y),
        mpl_texts(f"{n} ({t})" for n, t in zip(lifts["name"], lifts["type"], strict=True)),
    )
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("revenue per contact vs randomized holdout (%)")
    ax.set_ylabel("campaign")
    ax.set_title("Campaign lift measured against randomized holdouts")
    return fig


def plot_redemption_curves(curves: pd.DataFrame) -> plt.Figure:
    """Cumulative redemption share by age for each earn cohort."""
    fig, ax = plt.subplots(figsize=(9, 4))
    cohorts = sorted(curves["cohort"].unique())
    cmap = plt.get_cmap("viridis", len(cohorts))
    for i, c in enumerate(cohorts):
        d = curves[curves["cohort"] == c]
        ax.plot(d["age"], d["redeemed_share"] * 100, color=cmap(i), linewidth=1)
    ax.set_xlabel("months since the points were earned")
    ax.set_ylabel("cumulative share redeemed (%)")
    ax.set_title("Redemption curves by earn cohort (light = recent cohorts)")
    return fig


def plot_cumulative_pnl(pnl: pd.DataFrame, currency: str) -> plt.Figure:
    """Cumulative incremental margin vs cumulative program cost."""
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(
        pnl.index,
        pnl["cum_margin"],
        marker="o",
        color=PALETTE[2],
        label="cumulative incremental margin",
    )
    ax.plot(
        pnl.index, pnl["cum_cost"], marker="o", color=PALETTE[3], label="cumulative program cost"
    )
    money_axis(ax, currency)
    ax.set_xlabel("month")
    ax.set_ylabel(f"cumulative amount ({currency})")
    ax.set_title("Program P&L: does the incremental margin cover the cost?")
    ax.legend()
    return fig


def plot_tornado(t: pd.DataFrame) -> plt.Figure:
    """ROI range when each driver moves ± the sensitivity share."""
    base = t.attrs.get("base_roi", 0.0)
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(t) + 1.5))
    y = range(len(t))
    lo = t[["roi_low", "roi_high"]].min(axis=1) * 100
    hi = t[["roi_low", "roi_high"]].max(axis=1) * 100
    ax.barh(list(y), hi - lo, left=lo, color=PALETTE[0])
    ax.axvline(base * 100, color="black", linewidth=1, label=f"base ROI {base:+.0%}")
    ax.set_yticks(list(y), [i.replace("_", " ") for i in t.index])
    ax.invert_yaxis()
    ax.set_xlabel("ROI (%)")
    ax.set_ylabel("driver")
    ax.set_title("Sensitivity: ROI when each driver moves up or down")
    ax.legend()
    return fig


def plot_roi_distribution(mc: pd.DataFrame) -> plt.Figure:
    """Histogram of the Monte Carlo ROI with the break-even line."""
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.hist(mc["roi"] * 100, bins=60, color=PALETTE[0], alpha=0.85)
    ax.axvline(
        0,
        color=PALETTE[3],
        linewidth=1.5,
        label=f"break-even (P(ROI > 0) = {(mc['roi'] > 0).mean():.0%})",
    )
    ax.set_xlabel("ROI (%)")
    ax.set_ylabel(f"draws (of {len(mc):,})")
    ax.set_title("Monte Carlo: how certain is the ROI?")
    ax.legend()
    return fig


def plot_trend_sensitivity(b: dict, breakeven: float | None = None) -> plt.Figure:
    """The lift's interval as trends may depart from parallel by M × the largest pre-period gap."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    top = max(2.0, 1.25 * np.nanmax([b.get("sign", 0) or 0, b.get("verdict", 0) or 0]))
    m = np.linspace(0, top, 50)
    lo = (b["lo"] - m * b["pre_size"]) * 100
    hi = (b["hi"] + m * b["pre_size"]) * 100
    ax.fill_between(m, lo, hi, color=PALETTE[0], alpha=0.25, label="lift's 95 % interval, widened")
    ax.axhline(0, color="black", linewidth=0.8)
    if breakeven is not None and np.isfinite(breakeven):
        ax.axhline(breakeven * 100, color=PALETTE[3], linestyle="--", label="break-even lift")
    ax.set_xlabel("M: post-sign-up departure ÷ largest pre-sign-up difference")
    ax.set_ylabel("lift (%)")
    ax.set_title("How much may trends depart from parallel?")
    ax.legend(fontsize=8, loc="upper left")
    return fig
