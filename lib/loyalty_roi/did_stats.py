"""Statistics the corrected-lift estimator computes about itself.

* :func:`smd` and :func:`balance_table`: standardised mean differences of the
  matching features, before and after matching;
* :func:`joint_pretrend`: one Wald test that every pre-enrollment event-study
  term is zero, with the bootstrap covariance.

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
