"""The randomized holdout that would measure the program's lift, sized on this data.

When the observational lift cannot answer (not credible, no comparison group,
no moment of joining), the way to a measured answer is an experiment: hold a
random share of eligible customers out of the program (or out of its
rewards) for a few months and compare their revenue with the rest.

Size: the two-sample comparison of mean revenue per customer, with ``h`` the
holdout share, ``m`` the test's months, ``σ_m`` the standard deviation across
customers of their mean monthly revenue over ``m`` months and ``Δ`` the
effect to detect (the break-even lift × the mean)::

    N = (z₁₋α/₂ + z₁₋β)² · σ_m² · (1/h + 1/(1−h)) / Δ²

(Chow, Shao & Wang 2008, *Sample Size Calculations in Clinical Research*,
§3.2; the ``16 σ²/Δ²`` rule of Kohavi, Tang & Xu 2020, *Trustworthy Online
Controlled Experiments*, ch. 17, is its case h = ½, α = 5 %, power 80 %).
``σ_m`` and the mean are this data's own, from the last ``m`` months of the
customers who bought in the month before: the spread of real revenue, zeros
and heavy buyers included.  :func:`simulated_power` checks the formula by
drawing holdout tests from those customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import lift_panel

ALPHA, POWER = 0.05, 0.80
HOLDOUT_SHARES = (0.05, 0.10, 0.20)
TEST_MONTHS = (3, 6)


def customer_means(panel, months: int) -> np.ndarray:
    """Each eligible customer's mean monthly revenue over the last ``months`` months.

    Eligible: bought in the month before those months (an active customer
    who could be held out).
    """
    lp = lift_panel.of(panel)
    if lp.n_months < months + 1:
        return np.array([])
    start = lp.n_months - months
    active = lp.orders[:, start - 1] > 0
    return lp.revenue[active, start:].mean(1)


def required_customers(
    mean: float, sd: float, lift: float, share: float, alpha: float = ALPHA, power: float = POWER
) -> float:
    """Eligible customers needed (holdout and program together) to detect ``lift``."""
    delta = lift * mean
    if not delta > 0 or not sd > 0:
        return float("nan")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z**2 * sd**2 * (1 / share + 1 / (1 - share)) / delta**2)


def simulated_power(
    values: np.ndarray, lift: float, n: int, share: float, draws: int = 2000, seed: int = 0
) -> float:
    """Share of simulated holdout tests (``n`` customers drawn from ``values``) that detect ``lift``.

    The program arm's revenue is multiplied by ``1 + lift``; detection is a
    two-sided Welch t-test at 5 %.
    """
    rng = np.random.default_rng(seed)
    n_h = max(2, round(n * share))
    n_p = max(2, n - n_h)
    hits = 0
    for _ in range(draws):
        h = rng.choice(values, n_h)
        p = rng.choice(values, n_p) * (1 + lift)
        se = np.sqrt(h.var(ddof=1) / n_h + p.var(ddof=1) / n_p)
        hits += abs(p.mean() - h.mean()) / se > stats.norm.ppf(1 - ALPHA / 2)
    return hits / draws


def holdout_plan(panel, lift: float) -> pd.DataFrame:
    """Customers needed per holdout share and test length to detect ``lift`` (80 % power, 5 %)."""
    rows = []
    for m in TEST_MONTHS:
        v = customer_means(panel, m)
        if len(v) < 50:
            continue
        for h in HOLDOUT_SHARES:
            n = required_customers(float(v.mean()), float(v.std(ddof=1)), lift, h)
            rows.append(
                {
                    "test_months": m,
                    "holdout_share": h,
                    "customers_needed": n,
                    "holdout_customers": n * h,
                    "eligible_customers": len(v),
                    "feasible": bool(np.isfinite(n) and n <= len(v)),
                }
            )
    return pd.DataFrame(rows)


def plan_sentence(plan: pd.DataFrame, lift: float, stores: int | None = None) -> str:
    """The test plan in two sentences: the smallest feasible holdout, or what it would take."""
    if plan.empty or not np.isfinite(lift) or lift <= 0:
        return (
            "Test plan: not computable here — it needs at least 4 months of receipts and a positive "
            "lift to detect (the break-even lift)."
        )
    ok = plan[plan["feasible"]].sort_values(["test_months", "holdout_share"])
    base = (
        f"Test plan: to measure the lift the program needs to break even ({lift:+.1%}) with 80% "
        "power at 5% significance, hold a random share of active customers out of the program"
    )
    if len(ok):
        r = ok.iloc[0]
        out = (
            f"{base}: {r['holdout_share']:.0%} of {r['customers_needed']:,.0f} customers "
            f"({r['holdout_customers']:,.0f} held out) for {r['test_months']:.0f} months is enough, "
            f"from the {r['eligible_customers']:,} who bought last month."
        )
    else:
        r = plan.sort_values("customers_needed").iloc[0]
        out = (
            f"{base}: even {r['holdout_share']:.0%} for {r['test_months']:.0f} months needs "
            f"{r['customers_needed']:,.0f} customers, more than the {r['eligible_customers']:,} "
            "active ones; test a larger effect, run longer, or pool several months of sign-ups."
        )
    if stores and stores >= 4:
        out += (
            f" With {stores} stores, a staggered rollout (switching the program on store by store "
            "in random order, a stepped-wedge design) is the alternative where customers cannot be "
            "held out individually."
        )
    return out
