"""The what-if explorer: ipywidgets sliders over the ROI drivers.

Every recomputation goes through :mod:`loyalty_roi.roi` (the same functions
the report uses), so what the explorer shows is what the report computes.
"""

from __future__ import annotations

import io
from dataclasses import replace

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from . import roi
from .plots import PALETTE, money_axis

SLIDERS = {  # driver: (label, min, max, step, readout format)
    "lift": ("Program lift", 0.0, 0.5, 0.005, ".1%"),
    "gross_margin": ("Gross margin", 0.05, 0.8, 0.01, ".0%"),
    "cost_per_point": ("Cost per point", 0.001, 0.05, 0.001, ".3f"),
    "redemption_rate": ("Redemption rate", 0.0, 1.0, 0.01, ".0%"),
    "participation": ("Participation ×", 0.5, 2.0, 0.05, ".2f"),
    "retention_change_pp": ("Retention +pp / month", -0.02, 0.02, 0.001, ".1%"),
}


def roi_text(s: dict, currency: str) -> str:
    """The headline the explorer shows (also parsed by the browser test)."""
    pay = (
        s["payback_month"].strftime("%Y-%m")
        if s["payback_month"] is not None
        else "not within the period"
    )
    return (
        f"ROI: {s['roi']:+.1%} | {currency} {s['return_per_unit']:.2f} per {currency} 1 | payback: {pay} | "
        f"NPV: {currency} {s['npv']:,.0f}"
    )


def explorer(
    data: roi.ProgramData, base: roi.Drivers, annual_discount_rate: float, currency: str
) -> w.VBox:
    """Build the explorer: sliders, the ROI headline, a P&L summary and a cumulative chart."""
    sliders = {
        k: w.FloatSlider(
            value=getattr(base, k),
            min=mn,
            max=mx,
            step=st,
            description=label,
            readout_format=fmt,
            continuous_update=False,
            style={"description_width": "160px"},
            layout=w.Layout(width="480px"),
        )
        for k, (label, mn, mx, st, fmt) in SLIDERS.items()
    }
    headline = w.HTML()
    table = w.HTML()
    chart = w.Image(format="png", layout=w.Layout(width="560px"))
    fig, ax = plt.subplots(figsize=(6, 2.8))
    plt.close(fig)
    (l1,) = ax.plot([], [], color=PALETTE[2], label="cumulative incremental margin")
    (l2,) = ax.plot([], [], color=PALETTE[3], label="cumulative program cost")
    ax.set_xlabel("month")
    ax.set_ylabel(f"cumulative ({currency})")
    ax.set_title("What-if: margin vs cost")
    money_axis(ax, currency)
    ax.legend(fontsize=8)
    ticks = np.arange(0, len(data.months), max(1, len(data.months) // 6))
    ax.set_xticks(
        ticks, [data.months[i].strftime("%Y-%m") for i in ticks]
    )  # plain positions: no date locator
    fig.tight_layout()
    fig.subplots_adjust(left=0.24)  # room for the money tick labels
    fig.set_dpi(72)
    canvas = FigureCanvasAgg(fig)

    def update(*_):
        d = replace(base, **{k: s.value for k, s in sliders.items()})
        s = roi.summary(data, d, annual_discount_rate)
        p = roi.monthly_pnl(data, d)
        headline.value = f"<h3 class='whatif-roi'>{roi_text(s, currency)}</h3>"
        table.value = (
            p[["incremental_revenue", "incremental_margin", "program_cost", "net"]]
            .sum()
            .to_frame(f"total ({currency})")
            .map(lambda v: f"{v:,.0f}")
            .to_html()
        )
        x = np.arange(len(p))
        l1.set_data(x, p["cum_margin"].to_numpy())
        l2.set_data(x, p["cum_cost"].to_numpy())
        ax.relim()
        ax.autoscale_view()
        buf = io.BytesIO()
        # rendered here, so Lab and Voilà show the same image; the Agg canvas draws once
        # (savefig with a "tight" bbox, the house default, would draw twice per move)
        canvas.print_png(buf)
        chart.value = buf.getvalue()

    for s in sliders.values():
        s.observe(update, names="value")
    update()
    return w.VBox(
        [w.HTML("<b>What-if explorer</b>"), *sliders.values(), headline, w.HBox([table, chart])]
    )
