"""Statistics the corrected-lift estimator computes about itself.

* :func:`smd` and :func:`balance_table`: standardised mean differences of the
  matching features, before and after matching;
* :func:`joint_pretrend`: one Wald test that every pre-enrollment event-study
  term is zero, with the bootstrap covariance;
* :func:`ratios`: the pooled lift and event study from per-cohort ratio-DiDs,
  corrected for controls who join later (:func:`corrected`), and
  :func:`percentile` for the bootstrap intervals.

:mod:`loyalty_roi.incrementality` fills them in; :mod:`loyalty_roi.lift_checks`
reads them to judge the lift.  They live apart so that neither of those two
modules imports the other in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class DidResult:
    """Result of :func:`matched_did`."""

    lift: float
    ci: tuple[float, float]
    se: float
    event_study: pd.DataFrame  # k, lift, lo, hi
    balance: pd.DataFrame  # feature, smd_before, smd_after, ...
    cohorts: pd.DataFrame  # cohort, treated, controls, post_months
    treated: int
    controls: int
    member_post_revenue: float  # mean revenue per treated member-month after enrollment
    counterfactual_post_revenue: float
    pretrend_wald: float = np.nan  # joint test that every pre-period event-study term is 0
    pretrend_p: float = np.nan
    # the linear drift of the pre-period terms: over the whole pre-period, and its p-value
    pretrend_drift: float = np.nan
    pretrend_drift_p: float = np.nan
    design: str = "risk_set"
    future_member_controls: float = 0.0  # share of matched controls who enrol later
    censored_controls: bool = False  # members-only data: controls followed until their sign-up
    ancova: float = np.nan  # the lift adjusted for lagged outcomes (did_stats.ancova_lift)
    ancova_ci: tuple[float, float] = (np.nan, np.nan)

    @property
    def incremental_revenue_per_member_month(self) -> float:
        """Member revenue after enrollment minus its counterfactual, per member and month."""
        return self.member_post_revenue - self.counterfactual_post_revenue


def smd(a: np.ndarray, b: np.ndarray, wb: np.ndarray | None = None) -> float:
    """Standardised mean difference of ``a`` vs (weighted) ``b``."""
    wb = np.ones(len(b)) if wb is None else wb
    mb = np.average(b, weights=wb)
    vb = np.average((b - mb) ** 2, weights=wb)
    pooled = np.sqrt((a.var() + vb) / 2)
    return float((a.mean() - mb) / pooled) if pooled > 0 else 0.0


def balance_table(rows: list[dict]) -> pd.DataFrame:
    """Per feature: treated and control means, SMD before and after matching."""
    out = []
    for feat in dict.fromkeys(r["feature"] for r in rows):
        rs = [r for r in rows if r["feature"] == feat]
        t = np.concatenate([r["t"] for r in rs])
        ca = np.concatenate([r["c_all"] for r in rs])
        cm = np.concatenate([r["c_m"] for r in rs])
        w = np.concatenate([r["w"] for r in rs])
        out.append(
            {
                "feature": feat,
                "treated_mean": t.mean(),
                "controls_mean_before": ca.mean(),
                "controls_mean_after": np.average(cm, weights=w),
                "smd_before": smd(t, ca),
                "smd_after": smd(t, cm, w),
            }
        )
    return pd.DataFrame(out)


def joint_pretrend(ev: np.ndarray, ev_boot: np.ndarray, pre: int) -> tuple[float, float]:
    """Wald statistic and p-value that all pre-enrollment event-study terms are zero.

    The terms are log ratios relative to the pre-period mean, so they sum to
    about zero; the first one is dropped and the rest tested jointly with the
    bootstrap covariance (pseudo-inverse for stability).
    """
    if pre < 2:
        return np.nan, np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log1p(ev[1:pre])
        b = np.log1p(ev_boot[:, 1:pre])
    b = b[np.isfinite(b).all(axis=1)]
    if not np.isfinite(r).all() or len(b) < 20:
        return np.nan, np.nan
    cov = np.cov(b, rowvar=False).reshape(pre - 1, pre - 1)
    wald = float(r @ np.linalg.pinv(cov) @ r)
    return wald, float(stats.chi2.sf(wald, df=pre - 1))


def pretrend_drift(ev: np.ndarray, ev_boot: np.ndarray, pre: int) -> tuple[float, float]:
    """The straight-line drift of the pre-enrollment terms over the pre-period, and its p-value.

    A month-to-month zig-zag is noise; what biases a difference-in-differences is
    a *trend* that continues after sign-up.  The slope of log(1 + term) on the
    month is fitted to the estimate and to every bootstrap draw; the drift is the
    slope × (pre − 1) months, and the p-value is two-sided from the draws'
    standard error.  One degree of freedom, not ``pre − 1``: it is not fooled
    by noise the bootstrap under-states in single months.
    """
    if pre < 3:
        return np.nan, np.nan
    k = np.arange(pre, dtype=float)
    k -= k.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log1p(ev[:pre])
        yb = np.log1p(ev_boot[:, :pre])
    yb = yb[np.isfinite(yb).all(axis=1)]
    if not np.isfinite(y).all() or len(yb) < 20:
        return np.nan, np.nan
    slope = float(k @ y / (k @ k))
    se = float(np.std(yb @ k / (k @ k), ddof=1))
    p = float(2 * stats.norm.sf(abs(slope) / se)) if se > 0 else np.nan
    return slope * (pre - 1), p


def percentile(draws: np.ndarray, q: float) -> np.ndarray:
    """Per-column percentile of bootstrap draws, NaN where a column has no finite draw."""
    out = np.full(draws.shape[1], np.nan)
    ok = np.isfinite(draws).any(axis=0)
    out[ok] = np.nanpercentile(draws[:, ok], q, axis=0)
    return out


def corrected(ratio: float, share: float) -> float:
    """Undo the dilution by controls under the program: R = (1+L)/(1+L·s) → 1+L."""
    den = 1 - ratio * share
    return (ratio - 1) / den + 1 if den > 0.05 else np.nan


def ratios(t_blocks, c_blocks, shares, pre: int, post: int) -> tuple:
    """Pooled lift, event study and each cohort's log ratio (NaN: left out) from per-cohort ratio-DiDs.

    Each enrollment cohort gets its own ratio-DiD (so differences between
    cohorts in seasonality or in how heavy their members are cannot leak into
    the estimate), corrected for the controls who enrol later in the window;
    cohorts are pooled by a weighted mean of log(1 + lift) with weights =
    treated members × post months.  The event study is the same per horizon.
    """
    logs, weights = [], []
    by_cohort = np.full(len(t_blocks), np.nan)  # each cohort's log ratio (NaN: left out)
    ev_num = np.zeros(pre + post + 1)
    ev_w = np.zeros(pre + post + 1)
    for i, ((t, _), (c, w), sh) in enumerate(zip(t_blocks, c_blocks, shares, strict=True)):
        n = t.shape[1]
        valid = (sh >= 0) * w[:, None]  # control weight per cell (0 once censored)
        under = np.clip(sh, 0, 1)
        col = (c * valid).sum(0)  # control revenue per relative month …
        # … against the pre-period level of exactly those controls: when controls leave at their
        # own sign-up (members-only data, heavy buyers first), the comparison keeps its mix
        base = (valid * c[:, :pre].mean(1)[:, None]).sum(0)
        tmean = t.mean(0)
        tp, tq = tmean[:pre].mean(), tmean[pre + 1 :].mean()
        cb, cq = base[pre + 1 :].sum(), col[pre + 1 :].sum()
        if not min(tp, tq, cb, cq) > 0:
            continue  # no revenue, or every control signed up before the post-period
        share_post = (c * valid * under)[:, pre + 1 :].sum() / cq
        r = corrected((tq / tp) / (cq / cb), share_post)
        if not np.isfinite(r) or r <= 0:
            continue
        logs.append(np.log(r))
        by_cohort[i] = logs[-1]
        weights.append(len(t) * (n - pre - 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            share_k = (c * valid * under).sum(0) / col
            ratio_k = (tmean / tp) / (col / base)
            rk = np.log(
                np.where(
                    ratio_k * share_k < 0.95, (ratio_k - 1) / (1 - ratio_k * share_k) + 1, np.nan
                )
            )
        ok = np.isfinite(rk)
        ev_num[:n][ok] += rk[ok] * len(t)
        ev_w[:n][ok] += len(t)
    if not logs:
        out = np.nan, np.full(pre + post + 1, np.nan)
        return (*out, by_cohort)
    lift = float(np.exp(np.average(logs, weights=weights)) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ev = np.exp(ev_num / ev_w) - 1
    return lift, ev, by_cohort


# the lagged-outcome (ANCOVA) estimate: at most this many risk-set controls per cohort are fitted
ANCOVA_POOL = 5_000


def ancova_block(X, y, under, treated_mask) -> dict:
    """One cohort's data for :func:`ancova_lift`: covariates, post-period outcome, dilution.

    ``X``: rows of the treated and the risk-set controls (lagged outcomes and the
    matching features); ``y``: each row's mean revenue per post-period month;
    ``under``: the part of ``y`` earned under the program (controls who joined
    later); ``treated_mask``: which rows are the cohort's new members.
    """
    X = np.asarray(X, float)
    sd = X.std(0)
    keep = sd > 0  # constant columns carry nothing beyond the intercept
    X = (X[:, keep] - X[:, keep].mean(0)) / sd[
        keep
    ]  # standardised: the normal equations stay stable
    return {"X": np.c_[np.ones(len(X)), X], "y": y, "under": under, "t": treated_mask}


def ancova_cohort(rev, enroll_f, ix, n_treated, post_cols, X, censor) -> dict:
    """:func:`ancova_block` of one cohort: rows ``ix`` (its ``n_treated`` new members first).

    The outcome is each row's mean revenue over ``post_cols``; controls who enrol
    by then carry the program in those months (``under``), or, on members-only
    data (``censor``), count only until their own sign-up.
    """
    post_rev = rev[np.ix_(ix, post_cols)]
    later = enroll_f[ix][:, None] < post_cols[None, :]  # under the program by then
    is_t = np.arange(len(ix)) < n_treated
    if censor:
        seen = ~later | is_t[:, None]
        y = (post_rev * seen).sum(1) / np.maximum(seen.sum(1), 1)
        under, keep = np.zeros(len(ix)), seen.any(1)
    else:
        y, under, keep = post_rev.mean(1), (post_rev * later).mean(1), np.ones(len(ix), bool)
    return ancova_block(X[keep], y[keep], under[keep], is_t[keep])


def _cohort_ratio(b: dict, it: np.ndarray, ic: np.ndarray) -> tuple[float, float]:
    X, y, under, t = b["X"], b["y"], b["under"], b["t"]
    tr, co = np.flatnonzero(t)[it], np.flatnonzero(~t)[ic]
    Xc = X[co]
    ridge = 1e-6 * len(co) * np.eye(X.shape[1])
    beta = np.linalg.solve(Xc.T @ Xc + ridge, Xc.T @ y[co])
    pred = float(X[tr].sum(0) @ beta)
    yc = float(y[co].sum())
    share = float(under[co].sum()) / yc if yc > 0 else 0.0
    ratio = float(y[tr].sum()) / pred if pred > 0 else np.nan
    # the fit's controls who joined later carry the effect: ŷ is too high by (1 + L·share)
    return corrected(ratio, share), len(tr)


def ancova_lift(blocks: list[dict], weights: list[float], n_boot: int, rng) -> tuple:
    """The lift adjusted for lagged outcomes (ANCOVA), per cohort, pooled like :func:`ratios`.

    Within each enrollment cohort, the post-period revenue of the risk-set
    controls is regressed on their pre-period months one by one, the sign-up
    month's revenue and orders and the matching features; the members'
    counterfactual is that regression's prediction.  This assumes that sign-up
    is unconfounded *given the lagged outcomes* (the members' recent path,
    spike included), where the difference-in-differences assumes parallel
    trends given a permanent level: under sign-up at a transient high the DiD
    reads the drift back as lift, and under sign-up of permanently heavier
    buyers the ANCOVA under-corrects; both directions are measured in
    ``bench/coverage.py``; together they bracket the effect (Angrist & Pischke
    2009 §5.4; Ding & Li 2019).  Returns ``(lift, (lo, hi), draws)``.
    """

    def pooled(draw_ix) -> tuple[float, np.ndarray]:
        logs = np.full(len(blocks), np.nan)
        for i, (b, (it, ic)) in enumerate(zip(blocks, draw_ix, strict=True)):
            r, _ = _cohort_ratio(b, it, ic)
            if np.isfinite(r) and r > 0:
                logs[i] = np.log(r)
        ok = np.isfinite(logs)
        if not ok.any():
            return np.nan, logs
        return float(np.exp(np.average(logs[ok], weights=np.asarray(weights)[ok])) - 1), logs

    full = [(np.arange(int(b["t"].sum())), np.arange(int((~b["t"]).sum()))) for b in blocks]
    est, est_logs = pooled(full)
    draws, draw_logs = [], []
    for _ in range(n_boot):
        ix = []
        for b in blocks:
            nt, nc = int(b["t"].sum()), int((~b["t"]).sum())
            ix.append((rng.integers(0, nt, nt), rng.integers(0, nc, nc)))
        d, dl = pooled(ix)
        draws.append(d)
        draw_logs.append(dl)
    draws = np.array(draws)
    ok = draws[np.isfinite(draws)]
    if len(ok) < 10:
        return est, (np.nan, np.nan), draws
    ci = (float(np.percentile(ok, 2.5)), float(np.percentile(ok, 97.5)))
    f = heterogeneity_factor(est_logs, np.asarray(weights, float), np.array(draw_logs))
    return est, widen(est, ci, f), draws


def heterogeneity_factor(logs: np.ndarray, weights: np.ndarray, boot_logs: np.ndarray) -> float:
    """How much wider the pooled interval must be when cohorts differ more than their noise.

    Each enrollment cohort has its own estimate (``logs``, log(1 + lift)) and
    bootstrap draws (``boot_logs``, draws × cohorts).  If cohorts scatter more
    than their sampling error explains — a cohort-specific bias such as a
    seasonal difference between members and controls, or an effect that
    differs by cohort — the excess is estimated as a between-cohort variance
    τ² (DerSimonian & Laird 1986) and added to each cohort's variance, as in a
    random-effects meta-analysis.  Returns the factor (≥ 1) by which the pooled
    standard error grows; 1 with fewer than three cohorts.
    """
    ok = np.isfinite(logs) & (np.isfinite(boot_logs).sum(0) >= 10)
    if ok.sum() < 3:
        return 1.0
    var = np.array([np.nanvar(boot_logs[:, i], ddof=1) for i in np.flatnonzero(ok)])
    var = np.maximum(var, 1e-12)
    y, w = logs[ok], weights[ok]
    iv = 1 / var
    fixed = np.sum(iv * y) / iv.sum()
    q = float(np.sum(iv * (y - fixed) ** 2))
    tau2 = max(0.0, (q - (len(y) - 1)) / (iv.sum() - np.sum(iv**2) / iv.sum()))
    return float(np.sqrt(np.sum(w**2 * (var + tau2)) / np.sum(w**2 * var)))


def widen(est: float, ci: tuple[float, float], factor: float) -> tuple[float, float]:
    """Stretch an interval around its estimate by ``factor`` on the log(1 + lift) scale."""
    if factor <= 1 or not np.isfinite(est):
        return ci
    c = np.log1p(est)
    lo, hi = np.log1p(ci[0]), np.log1p(ci[1])
    return float(np.expm1(c - factor * (c - lo))), float(np.expm1(c + factor * (hi - c)))
