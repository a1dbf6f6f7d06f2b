"""The demo data: generated from the config's ``demo`` section into ``data.raw_dir``."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .. import safety
from ..errors import ConfigError
from .export import write_raw
from .params import SynthParams
from .program import generate


def params_from_config(cfg) -> SynthParams:
    """Synthetic-program parameters from the ``demo`` section of the workbook config."""
    d = cfg.demo
    return SynthParams(
        n_customers=d.customers,
        months=d.months,
        end_month=d.resolved_end_month(),
        seed=d.seed,
        enrollment=d.enrollment,
    )


def ensure_demo_data(cfg, force: bool = False) -> Path:
    """Generate the demo exports into ``cfg.data.raw_dir`` unless they exist with the same parameters."""
    out = cfg.data.raw_path
    if not safety.demo_folder_ok(out):
        raise ConfigError(
            f"data.source is 'demo' but data.raw_dir ({out}) holds files the demo generator did "
            "not write; generating there would overwrite them — fix: set 'data.source: files' to "
            "use those exports, or point data.raw_dir at an empty folder for the demo"
        )
    params = params_from_config(cfg)
    truth_file = out / "truth.json"
    if truth_file.exists() and not force:
        old = json.loads(truth_file.read_text(encoding="utf-8")).get("params", {})
        if all(
            old.get(k) == v
            for k, v in (
                ("n_customers", params.n_customers),
                ("months", params.months),
                ("end_month", params.end_month),
                ("seed", params.seed),
                ("enrollment", params.enrollment),
            )
        ):
            return out
    write_raw(generate(params), out)
    return out


def scale_for_transactions(target: int, months: int = 24) -> int:
    """Number of customers that yields roughly ``target`` transactions over ``months``."""
    per_customer = 16.0 * months / 24  # measured on the default parameters
    return max(100, math.ceil(target / per_customer))


def load_truth(cfg) -> dict | None:
    """The planted truth of the demo data, or None for real data."""
    f = cfg.data.raw_path / "truth.json"
    if cfg.data.source != "demo" or not f.exists():
        return None
    return json.loads(f.read_text(encoding="utf-8"))
