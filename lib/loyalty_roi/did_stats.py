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

import numpy as np
import pandas as pd
from scipy import stats


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


def ratios(t_blocks, c_blocks, shares, pre: int, post: int) -> tuple[float, np.ndarray]:
    """Pooled lift and event study from per-cohort ratio-DiDs.

    Each enrollment cohort gets its own ratio-DiD (so differences between
    cohorts in seasonality or in how heavy their members are cannot leak into
    the estimate), corrected for the controls who enrol later in the window;
    cohorts are pooled by a weighted mean of log(1 + lift) with weights =
    treated members × post months.  The event study is the same per horizon.
    """
    logs, weights = [], []
    ev_num = np.zeros(pre + post + 1)
    ev_w = np.zeros(pre + post + 1)
    for (t, _), (c, w), sh in zip(t_blocks, c_blocks, shares, strict=True):
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
        return np.nan, np.full(pre + post + 1, np.nan)
    lift = float(np.exp(np.average(logs, weights=weights)) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ev = np.exp(ev_num / ev_w) - 1
    return lift, ev
