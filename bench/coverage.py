"""Coverage of the corrected-lift interval over many synthetic programs.

For each seed: generate a program (smaller than the default for speed),
estimate the matched difference-in-differences lift with its 95% bootstrap
interval, and check it against the planted truth.  Prints the estimates,
bias, the share of intervals covering the truth (target ≥ 90%) and the
estimate on the default dataset; writes ``bench/results/coverage.json``.

Run: ``make bench`` or ``.venv/bin/python bench/coverage.py --seeds 20 --customers 12000``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from loyalty_roi import engine, incrementality, synth

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"


def estimate(n_customers: int, seed: int, n_boot: int) -> dict:
    d = synth.generate(n_customers=n_customers, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        for k, v in d.tables.items():
            v.to_parquet(Path(tmp) / f"{k}.parquet", index=False)
        eng = engine.connect(tmp)
        panel = engine.customer_month_panel(eng)
        consent = eng.read("customers").set_index("customer_id")["marketing_consent"]
        r = incrementality.matched_did(panel, n_boot=n_boot, exact=consent)
        naive = incrementality.naive_lift(panel)["lift"]
    truth = d.truth["program_lift"]["revenue"]
    return {
        "seed": seed,
        "customers": n_customers,
        "truth": truth,
        "lift": r.lift,
        "lo": r.ci[0],
        "hi": r.ci[1],
        "naive": naive,
        "covers": bool(r.ci[0] <= truth <= r.ci[1]),
        "within_15pct": bool(abs(r.lift - truth) <= 0.15 * truth),
        "treated": r.treated,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--customers", type=int, default=12_000)
    ap.add_argument("--boot", type=int, default=300)
    a = ap.parse_args()
    t = time.perf_counter()
    default = estimate(20_000, 42, a.boot)
    print(
        f"default data (20,000 customers, seed 42): lift {default['lift']:+.3f} [{default['lo']:+.3f}, "
        f"{default['hi']:+.3f}] vs truth {default['truth']:.3f}; within ±15%: {default['within_15pct']}; "
        f"naive {default['naive']:+.3f}",
        flush=True,
    )
    rows = []
    for seed in range(1, a.seeds + 1):
        r = estimate(a.customers, seed, a.boot)
        rows.append(r)
        print(
            f"seed {seed:>2}: lift {r['lift']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}] covers={r['covers']}",
            flush=True,
        )
    d = pd.DataFrame(rows)
    summary = {
        "default": default,
        "coverage": float(d["covers"].mean()),
        "mean_lift": float(d["lift"].mean()),
        "bias": float(d["lift"].mean() - d["truth"].mean()),
        "sd_lift": float(d["lift"].std()),
        "mean_ci_width": float((d["hi"] - d["lo"]).mean()),
        "mean_naive": float(d["naive"].mean()),
        "seconds": time.perf_counter() - t,
        "runs": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "coverage.json").write_text(json.dumps(summary, indent=2, default=float))
    print(
        f"\ncoverage of the 95% interval over {a.seeds} seeds ({a.customers:,} customers): "
        f"{summary['coverage']:.0%} (target ≥ 90%); mean lift {summary['mean_lift']:.3f} vs truth "
        f"{d['truth'].mean():.3f} (bias {summary['bias']:+.3f}, sd {summary['sd_lift']:.3f}); "
        f"naive {summary['mean_naive']:.2f}"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
