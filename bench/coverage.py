"""Does the confidence label predict the corrected lift's error?  The grid of issue 30.

Every sign-up mechanism of the generator (:data:`loyalty_roi.synth.ENROLLMENT_MECHANISMS`)
× {zero effect, the demo's planted +15.5 %} × ``--seeds`` seeds, at 20,000
customers and 24 months.  Each run estimates the lift as the report does
(risk-set matched DiD and the lagged-outcome estimate, combined by
:func:`lift_checks.headline`; the placebo; the confidence label) and compares the
reported interval with the truth.

Targets, under every mechanism:

* among runs labelled credible (any label but "not credible"), the zero-effect
  interval excludes 0 in at most 10 % and the planted interval covers the truth
  in at least 85 %;
* "not credible" in at most 15 % of the runs whose interval covers the truth;
* "robust" is the usual label where the design is sound.

Writes ``bench/results/coverage.json`` and ``coverage.md`` (with date and
commit); ``docs/methods.md`` quotes the table.  Run: ``make bench`` or
``.venv/bin/python bench/coverage.py --seeds 20 --jobs 2``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from datetime import date
from multiprocessing import Pool
from pathlib import Path

# one thread per worker process: the runs are parallel, not each run (set before numpy loads)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from loyalty_roi import incrementality, lift_checks, synth  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PLANTED = dict(frequency_lift=0.10, spend_lift=0.05)  # the demo's +15.5 %
TARGETS = {"excludes_0": 0.10, "coverage": 0.85, "not_credible_when_right": 0.15}


def run(args: tuple[str, bool, int, int, int]) -> dict:
    """One generated program: estimate, placebo, label, and how they compare with the truth."""
    mechanism, planted, seed, customers, n_boot = args
    effects = PLANTED if planted else dict(frequency_lift=0.0, spend_lift=0.0)
    d = synth.generate(n_customers=customers, seed=seed, enrollment=mechanism, **effects)
    truth = d.truth["program_lift"]["revenue"]
    panel, consent = incrementality.panel_and_consent(d.tables)
    did = incrementality.matched_did(panel, n_boot=n_boot, exact=consent)
    plac = lift_checks.placebo(panel, exact=consent, n_boot=n_boot)
    head = lift_checks.headline(did, plac)
    conf = lift_checks.confidence(did, plac)
    outcome = did.balance["feature"].str.contains("not matched")
    return {
        "mechanism": mechanism,
        "truth": truth,
        "seed": seed,
        "did": did.lift,
        "did_lo": did.ci[0],
        "did_hi": did.ci[1],
        "ancova": did.ancova,
        "ancova_lo": did.ancova_ci[0],
        "ancova_hi": did.ancova_ci[1],
        "lift": head.lift,
        "lo": head.ci[0],
        "hi": head.ci[1],
        "bracket": head.is_bracket,
        "basis": head.basis,
        "covers": bool(head.ci[0] <= truth <= head.ci[1]),
        "excludes_0": bool(head.ci[0] > 0 or head.ci[1] < 0),
        "placebo": plac.lift if plac else np.nan,
        "placebo_lo": plac.ci[0] if plac else np.nan,
        "placebo_hi": plac.ci[1] if plac else np.nan,
        "placebo_ancova": plac.ancova if plac else np.nan,
        "placebo_ancova_lo": plac.ancova_ci[0] if plac else np.nan,
        "placebo_ancova_hi": plac.ancova_ci[1] if plac else np.nan,
        "smd_matched": float(did.balance.loc[~outcome, "smd_after"].abs().max()),
        "smd_outcome": float(did.balance.loc[outcome, "smd_after"].abs().max()),
        "placebo_flags": bool(plac is not None and (plac.ci[0] > 0 or plac.ci[1] < 0)),
        "pretrend_p": did.pretrend_p,
        "pretrend_size": lift_checks.pretrend_size(did),
        "max_smd": float(did.balance["smd_after"].abs().max()),
        "label": conf.label,
        "reasons": conf.reasons,
    }


def table(df: pd.DataFrame) -> pd.DataFrame:
    """Per mechanism × effect: estimate, coverage and what the label says about them."""
    rows = []
    for (mech, truth), g in df.groupby(["mechanism", "truth"], sort=False):
        cred = g[g["label"] != "not credible"]
        rows.append(
            {
                "mechanism": mech,
                "planted": truth,
                "runs": len(g),
                "mean_lift": g["lift"].mean(),
                "bias_pp": (g["lift"].mean() - truth) * 100,
                "did_mean": g["did"].mean(),
                "ancova_mean": g["ancova"].mean(),
                "bracket": g["bracket"].mean(),
                "coverage": g["covers"].mean(),
                "excludes_0": g["excludes_0"].mean(),
                "robust": (g["label"] == "robust").mean(),
                "fragile": (g["label"] == "fragile").mean(),
                "not_credible": (g["label"] == "not credible").mean(),
                "credible_runs": len(cred),
                # the targets: read among the runs the label calls credible
                "credible_excludes_0": cred["excludes_0"].mean()
                if truth == 0 and len(cred)
                else np.nan,
                "credible_coverage": cred["covers"].mean() if truth != 0 and len(cred) else np.nan,
                "not_credible_when_right": (g.loc[g["covers"], "label"] == "not credible").mean()
                if g["covers"].any()
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def verdicts(tab: pd.DataFrame) -> pd.Series:
    """Whether each row meets the targets (NaN counts as met: no credible run to judge)."""
    ok0 = ~(tab["credible_excludes_0"] > TARGETS["excludes_0"])
    okc = ~(tab["credible_coverage"] < TARGETS["coverage"])
    okn = ~(tab["not_credible_when_right"] > TARGETS["not_credible_when_right"])
    return ok0 & okc & okn


def markdown(df: pd.DataFrame) -> str:
    """A pipe table (no extra dependency)."""

    def fmt(v):
        if isinstance(v, float):
            return "–" if np.isnan(v) else f"{v:.3f}"
        return str(v)

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True)
    return out.stdout.decode().strip() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--boot", type=int, default=400)  # as the report (analysis.n_boot)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--mechanisms", default=",".join(synth.ENROLLMENT_MECHANISMS))
    ap.add_argument("--out-name", default="coverage")
    a = ap.parse_args()
    t0 = time.perf_counter()
    seeds = range(a.first_seed, a.first_seed + a.seeds)
    jobs = [
        (m, planted, s, a.customers, a.boot)
        for m in a.mechanisms.split(",")
        for planted in (False, True)
        for s in seeds
    ]
    rows = []
    with Pool(a.jobs) as pool:
        for i, r in enumerate(pool.imap_unordered(run, jobs), 1):
            rows.append(r)
            print(
                f"[{i}/{len(jobs)}] {r['mechanism']:14s} truth {r['truth']:+.3f} seed {r['seed']:2d}: "
                f"{r['lift']:+.3f} ({r['lo']:+.3f} … {r['hi']:+.3f}) did {r['did']:+.3f} "
                f"ancova {r['ancova']:+.3f} placebo {r['placebo']:+.3f} {r['label']}",
                flush=True,
            )
    df = pd.DataFrame(rows).sort_values(["mechanism", "truth", "seed"])
    tab = table(df)
    tab["meets_targets"] = verdicts(tab)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = f"{date.today().isoformat()}, commit {commit()}"
    (RESULTS / f"{a.out_name}.json").write_text(
        json.dumps(
            {"date": stamp, "seconds": time.perf_counter() - t0, "runs": rows},
            indent=1,
            default=lambda v: v if not isinstance(v, np.generic) else v.item(),
        )
    )
    md = (
        f"# Lift and confidence label: {a.seeds} seeds × {a.customers:,} customers per cell\n\n"
        f"Measured {stamp} (`bench/coverage.py`). Targets: among credible runs the zero-effect "
        "interval excludes 0 in ≤ 10 % and the planted interval covers the truth in ≥ 85 %; "
        "'not credible' in ≤ 15 % of the runs whose interval covers the truth.\n\n"
        + markdown(tab)
        + "\n"
    )
    (RESULTS / f"{a.out_name}.md").write_text(md, encoding="utf-8")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print("\n", tab.round(3))
    print(
        f"\n{len(df)} runs in {time.perf_counter() - t0:.0f} s; table in {RESULTS / a.out_name}.md"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
