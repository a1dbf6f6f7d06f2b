"""Program P&L, ROI, payback, NPV, scenarios, sensitivity and Monte Carlo.

The P&L is built per month from three inputs:

* ``member_revenue`` — net revenue of members in the months after their
  enrollment month (from the panel).  With a corrected relative lift ``L``
  the incremental revenue is ``member_revenue × L / (1 + L)``: members'
  revenue includes the lift, the counterfactual is ``member_revenue / (1+L)``;
* ``points_issued`` — rewards cost accrues when points are issued:
  ``points_issued × cost_per_point × redemption_rate`` (net of breakage);
* ``running_costs`` — platform, marketing and staff from ``program_costs``.

``ROI = (incremental gross margin − program cost) / program cost``; payback is
the first month in which cumulative incremental margin ≥ cumulative cost; NPV
discounts the monthly net at the configured annual rate.  Every function is
vectorised over NumPy arrays, so the Monte Carlo and the what-if explorer
reuse exactly the same formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from . import lift_panel
from .months import floor as month_floor


@dataclass(frozen=True)
class Drivers:
    """The inputs of the P&L that a user may want to change."""

    lift: float  # relative revenue lift on members (corrected estimate)
    gross_margin: float
    cost_per_point: float
    redemption_rate: float  # share of issued points that will be redeemed
    cost_factor: float = 1.0  # multiplies platform, marketing and staff costs
    participation: float = 1.0  # member revenue scaled (more/less members)
    retention_change_pp: float = (
        0.0  # +pp monthly retention of members (compounds on member revenue)
    )
    # share of the lift assumed on member revenue the lift was not measured on (horizons past
    # the DiD's post-period, members who joined before the data): 1 = same lift, 0 = none
    extrapolation: float = 1.0


@dataclass
class ProgramData:
    """Monthly inputs of the P&L (arrays aligned on ``months``)."""

    months: pd.DatetimeIndex
    member_revenue: np.ndarray
    points_issued: np.ndarray
    running_costs: pd.DataFrame  # month × category
    total_revenue: np.ndarray
    cost_source: str
    # member revenue in member-months the lift was measured on (joined inside the data, months
    # 1…post after sign-up); None = all of it
    measured_revenue: np.ndarray | None = None
    measured_horizon: int = 6

    @property
    def measured(self) -> np.ndarray:
        """Member revenue the lift was measured on (all member revenue when not split)."""
        return self.member_revenue if self.measured_revenue is None else self.measured_revenue

    @property
    def running_total(self) -> np.ndarray:
        """Running costs per month, summed over the categories."""
        return self.running_costs.sum(axis=1).to_numpy(dtype=float)


def program_data(
    panel,
    store_totals: pd.DataFrame,
    ledger: pd.DataFrame | None,
    program_costs: pd.DataFrame | None,
    fallback_costs: dict[str, float],
    months: int = 12,
    measured_horizon: int = 6,
) -> ProgramData:
    """Monthly inputs for the last ``months`` months of data.

    ``panel``: a :class:`~loyalty_roi.lift_panel.LiftPanel` or a dense panel frame.
    ``measured_horizon`` is the DiD's post-period: member revenue of members who
    joined inside the data, 1…``measured_horizon`` months after sign-up, is what
    the lift was measured on; the rest is covered by extrapolation.
    """
    lp = lift_panel.of(panel)
    cols = np.arange(max(0, lp.n_months - months), lp.n_months)
    idx = lp.month_starts(cols)
    member_rev, measured = np.zeros(len(cols)), np.zeros(len(cols))
    for j, col in enumerate(cols):  # a month at a time: one column of the arrays
        since = col - lp.enroll  # months since enrollment (NaN: never)
        rev = lp.revenue[:, col]
        member_rev[j] = rev[since >= 1].sum()
        # joined inside the data, 1…measured_horizon months ago: what the lift was measured on
        measured[j] = rev[(since >= 1) & (since <= measured_horizon) & (lp.enroll >= 0)].sum()
    total = store_totals.groupby("month")["revenue"].sum().reindex(idx, fill_value=0.0).to_numpy()
    if ledger is not None and len(ledger):
        earn = (ledger["type"] == "earn").to_numpy()  # two columns taken, not the ledger's rows
        pts = ledger["points"][earn].groupby(month_floor(ledger["date"][earn])).sum()
        issued = pts.reindex(idx, fill_value=0).to_numpy(dtype=float)
    else:
        issued = np.zeros(len(idx))
    if program_costs is not None and len(program_costs):
        pc = program_costs.pivot_table(
            index="month", columns="category", values="amount", aggfunc="sum"
        )
        running = pc.drop(columns=["rewards"], errors="ignore").reindex(idx, fill_value=0.0)
        source = "program_costs table"
    else:
        running = pd.DataFrame({k: v for k, v in fallback_costs.items()}, index=idx)
        source = "config (finance.monthly_costs) — no program_costs table"
    return ProgramData(idx, member_rev, issued, running, total, source, measured, measured_horizon)


def monthly_pnl(data: ProgramData, d: Drivers) -> pd.DataFrame:
    """The program P&L per month with cumulative columns."""
    keep = np.cumprod(np.full(len(data.months), 1 + d.retention_change_pp))  # retention compounding
    rev = data.member_revenue * d.participation * keep
    measured = data.measured * d.participation * keep
    covered = measured + (rev - measured) * d.extrapolation
    inc_rev = covered * d.lift / (1 + d.lift)
    margin = inc_rev * d.gross_margin
    rewards = data.points_issued * d.participation * d.cost_per_point * d.redemption_rate
    running = data.running_costs * d.cost_factor
    cost = rewards + running.sum(axis=1).to_numpy()
    out = pd.DataFrame(
        {
            "member_revenue": rev,
            "revenue_measured": measured,
            "revenue_extrapolated": rev - measured,
            "incremental_revenue": inc_rev,
            "incremental_margin": margin,
            "rewards_cost": rewards,
        },
        index=data.months,
    )
    for c in running.columns:
        out[f"{c}_cost"] = running[c].to_numpy()
    out["program_cost"] = cost
    out["net"] = margin - cost
    out["cum_margin"] = out["incremental_margin"].cumsum()
    out["cum_cost"] = out["program_cost"].cumsum()
    out["cum_net"] = out["net"].cumsum()
    return out


def summary(data: ProgramData, d: Drivers, annual_discount_rate: float) -> dict:
    """ROI, payback month, NPV and program cost as a share of revenue."""
    p = monthly_pnl(data, d)
    cost, margin = p["program_cost"].sum(), p["incremental_margin"].sum()
    paid = p.index[p["cum_margin"] >= p["cum_cost"]]
    r = (1 + annual_discount_rate) ** (1 / 12) - 1
    disc = (1 + r) ** -np.arange(1, len(p) + 1)
    return {
        "roi": (margin - cost) / cost if cost else np.nan,
        "return_per_unit": margin / cost if cost else np.nan,
        "incremental_revenue": p["incremental_revenue"].sum(),
        "incremental_margin": margin,
        "program_cost": cost,
        "net": margin - cost,
        "npv": float((p["net"].to_numpy() * disc).sum()),
        "payback_month": paid[0] if len(paid) else None,
        "payback_months": int(np.argmax((p["cum_margin"] >= p["cum_cost"]).to_numpy())) + 1
        if len(paid)
        else None,
        "cost_share_of_revenue": cost / data.total_revenue.sum()
        if data.total_revenue.sum()
        else np.nan,
    }


def roi_vectorised(
    data: ProgramData,
    lift: np.ndarray,
    gross_margin: np.ndarray,
    cost_per_point: np.ndarray,
    redemption_rate: np.ndarray,
    cost_factor: np.ndarray,
    extrapolation: np.ndarray | float = 1.0,
) -> np.ndarray:
    """ROI for arrays of drivers at once (same formula as :func:`summary`, no retention/participation change)."""
    measured = data.measured.sum()
    rev = measured + (data.member_revenue.sum() - measured) * extrapolation
    margin = rev * lift / (1 + lift) * gross_margin
    cost = (
        data.points_issued.sum() * cost_per_point * redemption_rate
        + data.running_total.sum() * cost_factor
    )
    return (margin - cost) / cost


def scenarios(
    data: ProgramData, base: Drivers, named: dict, annual_discount_rate: float
) -> pd.DataFrame:
    """One row per named scenario of the config (lift × lift_factor; margin, redemption, cost overrides)."""
    rows = []
    for name, s in named.items():
        d = replace(
            base,
            lift=base.lift * s.lift_factor,
            gross_margin=s.gross_margin if s.gross_margin is not None else base.gross_margin,
            redemption_rate=s.redemption_rate
            if s.redemption_rate is not None
            else base.redemption_rate,
            cost_factor=base.cost_factor * s.cost_factor,
            extrapolation=s.extrapolation if s.extrapolation is not None else base.extrapolation,
        )
        r = summary(data, d, annual_discount_rate)
        rows.append(
            {
                "scenario": name,
                "lift": d.lift,
                "gross_margin": d.gross_margin,
                "redemption_rate": d.redemption_rate,
                "cost_factor": d.cost_factor,
                "extrapolation": d.extrapolation,
                **r,
            }
        )
    cols = [
        "scenario",
        "lift",
        "gross_margin",
        "redemption_rate",
        "cost_factor",
        "roi",
        "return_per_unit",
        "incremental_revenue",
        "incremental_margin",
        "program_cost",
        "net",
        "npv",
        "payback_month",
        "payback_months",
        "cost_share_of_revenue",
    ]
    return pd.DataFrame(rows, columns=cols).set_index(
        "scenario"
    )  # empty (with columns) without named scenarios


TORNADO_DRIVERS = (
    "lift",
    "gross_margin",
    "cost_per_point",
    "redemption_rate",
    "cost_factor",
    "participation",
)


def tornado(
    data: ProgramData, base: Drivers, share: float, annual_discount_rate: float
) -> pd.DataFrame:
    """ROI when each driver moves ±``share`` (others at base), sorted by swing."""
    base_roi = summary(data, base, annual_discount_rate)["roi"]
    rows = []
    for name in TORNADO_DRIVERS:
        v = getattr(base, name)
        lo = summary(data, replace(base, **{name: v * (1 - share)}), annual_discount_rate)["roi"]
        hi = summary(data, replace(base, **{name: v * (1 + share)}), annual_discount_rate)["roi"]
        rows.append(
            {
                "driver": name,
                "low_value": v * (1 - share),
                "high_value": v * (1 + share),
                "roi_low": lo,
                "roi_high": hi,
                "swing": abs(hi - lo),
            }
        )
    out = pd.DataFrame(rows).sort_values("swing", ascending=False).set_index("driver")
    out.attrs["base_roi"] = base_roi
    return out


def monte_carlo(
    data: ProgramData,
    base: Drivers,
    lift_se: float,
    ranges: dict[str, tuple[float, float]],
    draws: int = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """ROI distribution: lift ~ Normal(estimate, se) (from the bootstrap), others uniform over the config ranges."""
    rng = np.random.default_rng(seed)

    def uni(name, default):
        lo, hi = ranges.get(name, (default, default))
        return rng.uniform(lo, hi, draws)

    lift = rng.normal(base.lift, lift_se, draws)
    gm = uni("gross_margin", base.gross_margin)
    rr = uni("redemption_rate", base.redemption_rate)
    cf = uni("cost_factor", base.cost_factor)
    cpp = uni("cost_per_point", base.cost_per_point)
    ex = uni("extrapolation", base.extrapolation)
    roi = roi_vectorised(data, np.clip(lift, -0.99, None), gm, cpp, rr, cf, ex)
    return pd.DataFrame(
        {
            "lift": lift,
            "gross_margin": gm,
            "redemption_rate": rr,
            "cost_factor": cf,
            "cost_per_point": cpp,
            "extrapolation": ex,
            "roi": roi,
        }
    )


def break_even_lift(data: ProgramData, d: Drivers) -> float:
    """The lift at which incremental margin exactly covers the program cost (ROI = 0)."""
    cost = (
        data.points_issued.sum() * d.cost_per_point * d.redemption_rate
        + data.running_total.sum() * d.cost_factor
    )
    base = data.member_revenue.sum() * d.participation * d.gross_margin
    if not base > 0:  # no member revenue: no lift on it can pay
        return np.inf
    q = cost / base
    return q / (1 - q) if q < 1 else np.inf


def retention_value(
    annual_retention: float,
    annual_margin_per_customer: float,
    annual_discount_rate: float,
    change_pp: float = 0.05,
) -> dict:
    """What +``change_pp`` retention is worth: customer value m × r / (1 + d − r), before and after.

    The geometric-retention CLV (Gupta & Lehmann) with the measured annual
    retention and margin per retained customer; compare the relative change
    with the published "+5 % retention → +25–95 % profit".
    """

    def value(r):
        return annual_margin_per_customer * r / (1 + annual_discount_rate - r)

    before, after = value(annual_retention), value(min(annual_retention + change_pp, 0.99))
    return {
        "annual_retention": annual_retention,
        "new_retention": min(annual_retention + change_pp, 0.99),
        "value_before": before,
        "value_after": after,
        "change": after / before - 1,
    }


def annual_retention_and_margin(panel, gross_margin: float) -> tuple[float, float]:
    """Annual retention and gross margin per active customer.

    Retention: customers active in the previous 12 months and again in the
    last 12, over those active in the previous 12. Margin: gross margin per
    customer active in the last 12 months.  ``panel``: a
    :class:`~loyalty_roi.lift_panel.LiftPanel` or a dense panel frame.
    """
    lp = lift_panel.of(panel)
    n = lp.n_months
    if n == 0 or len(lp.ids) == 0:
        return float("nan"), 0.0
    last = slice(max(0, n - 12), n)
    a_last = (lp.orders[:, last] > 0).any(axis=1)
    a_prev = (lp.orders[:, max(0, n - 24) : max(0, n - 12)] > 0).any(axis=1)
    retention = (a_last & a_prev).sum() / a_prev.sum() if a_prev.any() else np.nan
    margin = lp.revenue[a_last, last].sum() / max(1, int(a_last.sum())) * gross_margin
    return float(retention), float(margin)


def summary_payload(
    data: ProgramData,
    base: Drivers,
    lift_se: float,
    annual_discount_rate: float,
    currency: str,
    extra: dict | None = None,
) -> dict:
    """What the what-if explorer needs, as the JSON-ready report summary.

    ``extra`` adds summary figures (lift interval, naive lift, verdict, …) for the index
    page; notebook 04 keeps it as the ``report_summary`` artefact.
    """
    from dataclasses import asdict

    return {
        "months": [m.strftime("%Y-%m-%d") for m in data.months],
        "member_revenue": data.member_revenue.tolist(),
        "measured_revenue": data.measured.tolist(),
        "measured_horizon": data.measured_horizon,
        "points_issued": data.points_issued.tolist(),
        "running_costs": {c: data.running_costs[c].tolist() for c in data.running_costs.columns},
        "total_revenue": data.total_revenue.tolist(),
        "cost_source": data.cost_source,
        "drivers": asdict(base),
        "lift_se": lift_se,
        "annual_discount_rate": annual_discount_rate,
        "currency": currency,
        **(extra or {}),
    }


def from_summary(p: dict) -> tuple[ProgramData, Drivers, dict]:
    """The explorer's inputs from :func:`summary_payload`: program data, base drivers and the rest."""
    months = pd.DatetimeIndex(pd.to_datetime(p["months"]), name="month")
    data = ProgramData(
        months,
        np.array(p["member_revenue"]),
        np.array(p["points_issued"]),
        pd.DataFrame(p["running_costs"], index=months),
        np.array(p["total_revenue"]),
        p["cost_source"],
        np.array(p["measured_revenue"]) if "measured_revenue" in p else None,
        int(p.get("measured_horizon", 6)),
    )
    return data, Drivers(**p["drivers"]), p
