"""The workshop's dataset and the library results the checks compare with.

The workshop program (``config/workshop.yml``) is generated and ingested on
first use; every expected value is computed from it with the library, once
per session, so nothing is hard-coded that could drift from the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from .. import clv, engine, incrementality, ingest, kpis, months, points, processed, roi, segments
from ..config import load_config
from ..paths import PROJ_ROOT

WORKSHOP_CONFIG = PROJ_ROOT / "config" / "workshop.yml"


def workshop_config():
    """The workshop configuration (``config/workshop.yml``)."""
    return load_config(WORKSHOP_CONFIG)


def prepare(force: bool = False) -> Path:
    """Generate and ingest the workshop program unless it is already there (idempotent)."""
    cfg = workshop_config()
    processed = cfg.data.processed_path
    if force or not (processed / "transactions.parquet").exists():
        ingest.ingest_from_config(cfg)
    return processed


@dataclass
class Workshop:
    """The workshop data: canonical tables, a query engine, the analysis month."""

    cfg: Any
    engine: engine.Engine
    month: str
    tables: dict[str, pd.DataFrame] = field(repr=False)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def month_start(self) -> pd.Timestamp:
        """The first day of the analysis month."""
        return months.start(self.month)

    @property
    def next_month(self) -> pd.Timestamp:
        """The first day after the analysis month: its exclusive end (``ts < ws.next_month``)."""
        return months.next_start(self.month)


@cache
def load() -> Workshop:
    """Prepare (first time only) and load the workshop data."""
    folder = prepare()
    cfg = workshop_config()
    eng = engine.connect(folder)
    return Workshop(cfg, eng, months.resolve(eng, "latest"), processed.load_processed(folder))


# Library results the checks compare with (computed once per session).


@cache
def _panel() -> pd.DataFrame:
    ws = load()
    return engine.customer_month_panel(ws.engine, end=ws.month)


@cache
def _kpi_values() -> pd.DataFrame:
    ws = load()
    return kpis.monthly_kpis(
        kpis.gather_inputs(ws.engine, end=ws.month),
        retention_window=ws.cfg.analysis.retention_window,
    )


def _kpi(key: str) -> float:
    return float(_kpi_values().loc[load().month_start, key])


@cache
def _rfm() -> pd.DataFrame:
    ws = load()
    return segments.rfm_scores(engine.rfm_summary(ws.engine, as_of=ws.month))


@cache
def _clv() -> pd.DataFrame:
    ws = load()
    _, customer_clv = clv.clv_for_month(
        clv.summary_from_engine(ws.engine, months.end(ws.month)), ws.cfg.finance
    )
    return customer_clv.merge(_rfm()[["customer_id", "segment", "monetary"]], on="customer_id")


def consent() -> pd.Series:
    """Marketing consent per customer (the corrected lift matches on it exactly)."""
    return load().customers.set_index("customer_id")["marketing_consent"]


# the workshop program is small (2,000 customers): cohorts of 10 members who bought in their
# sign-up month are accepted (the library's default, 20, leaves a single cohort)
MIN_TREATED = 10


@cache
def _did() -> incrementality.DidResult:
    return incrementality.matched_did(_panel(), exact=consent(), min_treated=MIN_TREATED)


@cache
def _placebo() -> incrementality.DidResult | None:
    from ..lift_checks import placebo

    return placebo(_panel(), exact=consent(), min_treated=MIN_TREATED)


def till_demo(n_customers: int = 12_000, seed: int = 2) -> pd.DataFrame:
    """A program with **no** effect whose members sign up at the till, read two ways.

    Returns the lift of the careless design (controls = customers who never
    joined) and of the risk-set design (controls bought in the sign-up month and
    had not joined yet), with their intervals and placebo lifts.
    """
    from .. import synth
    from ..lift_checks import placebo

    d = synth.generate(
        n_customers=n_customers, seed=seed, enrollment="till", frequency_lift=0.0, spend_lift=0.0
    )
    panel, c = incrementality.panel_and_consent(d.tables)
    rows = []
    for design, label in (("legacy", "never-joined controls"), ("risk_set", "risk set at sign-up")):
        r = incrementality.matched_did(panel, n_boot=150, exact=c, design=design)
        pl = placebo(panel, exact=c, design=design, n_boot=150)
        rows.append(
            {
                "design": label,
                "lift": r.lift,
                "ci_low": r.ci[0],
                "ci_high": r.ci[1],
                "placebo": pl.lift if pl is not None else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("design")


@cache
def high_program(n_customers: int = 12_000, seed: int = 2):
    """A program with **no** effect whose members join during a temporary spending high.

    Returns ``(panel, consent)`` of a generated program (``spending_high``: a latent,
    autocorrelated spending phase; each purchase signs up far more often in a high).
    """
    from .. import synth

    d = synth.generate(
        n_customers=n_customers,
        seed=seed,
        enrollment="spending_high",
        frequency_lift=0.0,
        spend_lift=0.0,
        end_month="2026-10",
    )
    return incrementality.panel_and_consent(d.tables)


@cache
def high_estimates() -> tuple:
    """The high program's DiD matched on history alone, the report's estimate and its placebo."""
    from ..lift_checks import placebo

    panel, c = high_program()
    old = incrementality.matched_did(panel, n_boot=150, exact=c, match=("history",))
    new = incrementality.matched_did(panel, n_boot=150, exact=c)
    return old, new, placebo(panel, exact=c, n_boot=150)


def high_demo() -> pd.DataFrame:
    """The zero-effect high program read four ways: naive, uncorrected DiD, placebo, corrected."""
    from ..lift_checks import headline

    panel, _ = high_program()
    old, new, plac = high_estimates()
    head = headline(new, plac)
    nan = float("nan")
    rows = [
        ("naive: members vs non-members", incrementality.naive_lift(panel)["lift"], nan, nan),
        ("DiD matched on history only", old.lift, *old.ci),
        (
            "placebo (enrollment 3 months earlier)",
            plac.lift if plac else nan,
            *(plac.ci if plac else (nan, nan)),
        ),
        ("DiD matched at sign-up too", new.lift, *new.ci),
        ("adjusted for lagged outcomes", new.ancova, *new.ancova_ci),
        ("reported (the lower of the two when both fail their placebo)", head.lift, *head.ci),
    ]
    out = pd.DataFrame(rows, columns=["estimate", "lift", "ci_low", "ci_high"]).set_index(
        "estimate"
    )
    return out.assign(truth=0.0)


@cache
def _ultimate() -> pd.DataFrame:
    return points.ultimate_redemption(
        points.redemption_by_cohort(load().points_ledger), expiry_months=12
    )


@cache
def roi_case(lift: float | None = None) -> tuple[roi.ProgramData, roi.Drivers]:
    """Program data and drivers for the last 12 months, as notebook 04 builds them.

    ``lift`` defaults to the matched difference-in-differences estimate.
    """
    ws = load()
    data = roi.program_data(
        _panel(),
        engine.store_month_totals(ws.engine),
        ws.points_ledger,
        ws.tables.get("program_costs"),
        ws.cfg.finance.monthly_costs,
        months=12,
    )
    drivers = roi.Drivers(
        lift=_did().lift if lift is None else lift,
        gross_margin=ws.cfg.finance.gross_margin,
        cost_per_point=ws.cfg.finance.cost_per_point,
        redemption_rate=points.expected_redemption_rate(_ultimate()),
    )
    return data, drivers


# pieces of data the checks and their typical mistakes are computed from


def _tx_month(ws: Workshop) -> pd.DataFrame:
    t = ws.transactions
    return t[(t["ts"] >= ws.month_start) & (t["ts"] < ws.next_month)]


def _tx_window(ws: Workshop, n_months: int, last: pd.Timestamp | None = None) -> pd.DataFrame:
    end = months.next_start(last or ws.month_start)
    start = end - pd.DateOffset(months=n_months)
    t = ws.transactions
    return t[(t["ts"] >= start) & (t["ts"] < end) & t["customer_id"].notna()]


def _repeat_rate(tx: pd.DataFrame, count_returns: bool = False) -> float:
    rows = tx if count_returns else tx[~tx["is_return"]]
    n = rows.groupby("customer_id").size()
    return float((n >= 2).sum() / (n >= 1).sum())


def _retention(ws: Workshop, window: int, denominator: str = "previous") -> float:
    cur = set(_tx_window(ws, window).query("~is_return")["customer_id"])
    prev_last = ws.month_start - pd.DateOffset(months=window)
    prev = set(_tx_window(ws, window, prev_last).query("~is_return")["customer_id"])
    return len(cur & prev) / len(prev if denominator == "previous" else cur)


def _outstanding(ledger: pd.DataFrame, ws: Workshop) -> pd.DataFrame:
    return ledger[ledger["date"] < ws.next_month]


def _ledger_sum(types: tuple[str, ...], absolute: bool = False) -> float:
    ws = load()
    lg = _outstanding(ws.points_ledger, ws)
    lg = lg[lg["type"].isin(types)]
    return float(lg["points"].abs().sum() if absolute else lg["points"].sum())


def _ledger_window(kind: str) -> float:
    ws = load()
    lg = ws.points_ledger
    start = ws.next_month - pd.DateOffset(months=12)
    lg = lg[(lg["date"] >= start) & (lg["date"] < ws.next_month)]
    return float(-lg.loc[lg["type"] == kind, "points"].sum())


def _earned_window() -> float:
    return -_ledger_window("earn")


def _top20_share(by: str) -> float:
    c = _clv()
    top = c.nlargest(int(round(len(c) * 0.2)), by)
    return float(top["clv"].sum() / c["clv"].sum())


def _holdout_campaign() -> pd.Series:
    """The campaign of module 4, exercise 3: the one with the most holdout customers."""
    ws = load()
    act = engine.campaign_window_activity(ws.engine)
    lifts = incrementality.campaign_lifts(act, ws.campaigns)
    return lifts.sort_values(["holdouts", "campaign_id"], ascending=[False, True]).iloc[0]


def campaign_for_exercise() -> str:
    """The campaign id module 4, exercise 3 asks about."""
    return str(_holdout_campaign()["campaign_id"])


def _campaign_rows() -> pd.DataFrame:
    ws = load()
    act = engine.campaign_window_activity(ws.engine)
    return act[act["campaign_id"] == campaign_for_exercise()]


def _roi(margin_col: str) -> float:
    data, d = roi_case()
    p = roi.monthly_pnl(data, d)
    return float((p[margin_col].sum() - p["program_cost"].sum()) / p["program_cost"].sum())


def _retention_change(kind: str) -> float:
    ws = load()
    r, m = roi.annual_retention_and_margin(_panel(), ws.cfg.finance.gross_margin)
    d = ws.cfg.finance.discount_rate
    if kind == "right":
        return roi.retention_value(r, m, d, 0.05)["change"]
    new = {"relative": r * 1.05, "undiscounted": r + 0.05}[kind]
    if kind == "undiscounted":
        return (m * new / (1 - new)) / (m * r / (1 - r)) - 1
    return (m * new / (1 + d - new)) / (m * r / (1 + d - r)) - 1
