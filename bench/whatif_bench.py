"""Latency of the what-if explorer: recompute + redraw after a slider move, on the default data.

Builds the explorer from the default demo data (as notebook 04 does), moves
the lift slider 60 times and reports the median and 95th percentile of the
callback's wall time (target: median ≤ 100 ms).  Writes bench/results/whatif.json.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from loyalty_roi import config, engine, ingest, roi, widgets

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"


def main() -> None:
    cfg = config.load_config()
    ingest.ingest_from_config(cfg)
    eng = engine.engine_from_config(cfg)
    panel = engine.customer_month_panel(eng)
    data = roi.program_data(
        panel,
        engine.store_month_totals(eng),
        eng.read("points_ledger"),
        eng.read("program_costs"),
        cfg.finance.monthly_costs,
    )
    base = roi.Drivers(
        lift=0.15,
        gross_margin=cfg.finance.gross_margin,
        cost_per_point=cfg.finance.cost_per_point,
        redemption_rate=0.7,
    )
    box = widgets.explorer(data, base, cfg.finance.discount_rate, cfg.currency)
    slider = next(c for c in box.children if getattr(c, "description", "") == "Program lift")
    times = []
    for i in range(60):
        t = time.perf_counter()
        slider.value = 0.05 + (i % 30) * 0.01  # the callback recomputes the P&L and renders the PNG
        times.append((time.perf_counter() - t) * 1000)
    res = {
        "median_ms": statistics.median(times),
        "p95_ms": sorted(times)[int(0.95 * len(times))],
        "moves": len(times),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "whatif.json").write_text(json.dumps(res, indent=2))
    print(
        f"what-if explorer: recompute + redraw median {res['median_ms']:.1f} ms, p95 {res['p95_ms']:.1f} ms "
        f"over {res['moves']} slider moves (target median ≤ 100 ms)"
    )


if __name__ == "__main__":
    main()
