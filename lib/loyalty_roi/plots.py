"""One seaborn/matplotlib house style for every figure of the workbook.

Every function returns the matplotlib ``Figure`` with a title, labelled axes
and units, so notebooks stay one line per chart.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd
import seaborn as sns

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
