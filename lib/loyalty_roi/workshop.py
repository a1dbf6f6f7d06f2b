"""The "Measuring loyalty ROI" workshop: its dataset and the self-checks.

In a workshop notebook::

    from loyalty_roi.workshop import check, load
    ws = load()                          # tables, engine and analysis month
    ...
    check.module1.exercise1(answer)      # ✓, or "not yet" with a hint

Every expected value is computed **at check time** with the library on the
same workshop data — nothing is hard-coded that could drift from the data.
Each check also computes the results of the typical mistakes (counting
orders instead of customers, forgetting returns, comparing members with
everyone, …) and, when an answer matches one, says what went wrong.  A blank
or ``None`` answer is "not yet", never an exception.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import clv, engine, incrementality, ingest, kpis, points, processed, roi, segments
from .config import PROJ_ROOT, load_config

WORKSHOP_CONFIG = PROJ_ROOT / "config" / "workshop.yml"
RETENTION_WINDOW = 3  # months per retention window, as in the KPI catalogue's default


# --------------------------------------------------------------------------- data


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
        return pd.Timestamp(self.month + "-01")

    @property
    def month_end(self) -> pd.Timestamp:
        """The last moment of the analysis month (its end, exclusive: next month's first day)."""
        return self.month_start + pd.offsets.MonthBegin(1)


@cache
def load() -> Workshop:
    """Prepare (first time only) and load the workshop data."""
    folder = prepare()
    cfg = workshop_config()
    eng = engine.connect(folder)
    return Workshop(cfg, eng, engine.resolve_month(eng, "latest"), processed.load_processed(folder))


# Library results the checks compare with (computed once per session).


@cache
def _panel() -> pd.DataFrame:
    ws = load()
    return engine.customer_month_panel(ws.engine, end=ws.month)


@cache
def _kpi_values() -> pd.DataFrame:
    ws = load()
    return kpis.monthly_kpis(
        kpis.gather_inputs(ws.engine, _panel()), retention_window=RETENTION_WINDOW
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
        engine.daily_purchases(ws.engine, end=ws.month),
        engine.month_end(ws.month),
        ws.cfg.finance,
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
    from .lift_checks import placebo

    return placebo(_panel(), exact=consent(), min_treated=MIN_TREATED)


def till_demo(n_customers: int = 12_000, seed: int = 2) -> pd.DataFrame:
    """A program with **no** effect whose members sign up at the till, read two ways.

    Returns the lift of the careless design (controls = customers who never
    joined) and of the risk-set design (controls bought in the sign-up month and
    had not joined yet), with their intervals and placebo lifts.
    """
    from . import synth
    from .lift_checks import placebo

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


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    """The outcome of one check; shown as ✓ or "not yet" with a hint in a notebook."""

    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "✓" if self.passed else "not yet"
        return f"{self.exercise}: {mark} — {self.message}"

    def _repr_html_(self) -> str:
        colour, mark = ("#1a7f37", "✓") if self.passed else ("#b35900", "not yet")
        return (
            f"<div style='border-left:4px solid {colour};padding:4px 10px;margin:4px 0'>"
            f"<b style='color:{colour}'>{mark}</b> <i>{html.escape(self.exercise)}</i> — "
            f"{html.escape(self.message)}</div>"
        )


Value = Callable[[], Any]


@dataclass
class Exercise:
    """One self-check: how to compute the right answer and the typical wrong ones."""

    name: str
    task: str
    expected: Value
    mistakes: list[tuple[Value, str]]
    hint: str  # when the answer matches no known mistake
    kind: str = "number"  # number | share | frame | text
    rtol: float = 1e-4
    columns: tuple[str, ...] = ()  # for frames: the columns compared (index = customer_id)

    def __call__(self, answer: Any = None) -> Result:
        if _blank(answer):
            return Result(
                self.name, False, "no answer yet: replace None with your result. " + self.task
            )
        try:
            expected = self.expected()
        except Exception as exc:  # the workshop data is broken: say so, don't crash the notebook
            return Result(self.name, False, f"the check could not compute the answer ({exc})")
        ok, why = self._same(answer, expected)
        if ok:
            return Result(self.name, True, f"right: {_show(expected, self.kind)}")
        for value, hint in self.mistakes:
            try:
                wrong = value()
            except Exception:  # a mistake that cannot be computed on this data
                continue
            if self._same(answer, wrong)[0]:
                return Result(self.name, False, hint)
        if self.kind == "share" and _is_number(answer) and self._same(answer / 100, expected)[0]:
            return Result(
                self.name, False, "give the share as a fraction (0.25), not a percentage (25)."
            )
        return Result(self.name, False, why or self.hint)

    def _same(self, answer: Any, expected: Any) -> tuple[bool, str | None]:
        if self.kind == "text":
            return str(answer).strip().casefold() == str(expected).strip().casefold(), None
        if self.kind == "frame":
            return _same_frame(answer, expected, self.columns, self.rtol)
        if not _is_number(answer):
            return False, f"a number is expected, not {type(answer).__name__}."
        return math.isclose(float(answer), float(expected), rel_tol=self.rtol, abs_tol=1e-9), None


def _blank(answer: Any) -> bool:
    if answer is None or answer is Ellipsis:
        return True
    if isinstance(answer, str) and not answer.strip():
        return True
    if isinstance(answer, (pd.DataFrame, pd.Series)) and answer.empty:
        return True
    return False


def _is_number(x: Any) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _show(x: Any, kind: str) -> str:
    if kind == "share":
        return f"{float(x):.1%}"
    if kind == "number":
        return f"{float(x):,.2f}" if abs(float(x)) < 1000 else f"{float(x):,.0f}"
    if kind == "frame":
        return f"{len(x):,} rows match"
    return str(x)


def _same_frame(
    answer: Any, expected: pd.DataFrame, columns: tuple[str, ...], rtol: float
) -> tuple[bool, str | None]:
    if not isinstance(answer, pd.DataFrame):
        return False, "a DataFrame is expected (one row per customer)."
    a = answer.set_index("customer_id") if "customer_id" in answer.columns else answer
    e = expected.set_index("customer_id")
    missing = [c for c in columns if c not in a.columns]
    if missing:
        return (
            False,
            f"the table needs the columns {', '.join(columns)} (missing: {', '.join(missing)}).",
        )
    if len(a) != len(e) or not a.index.isin(e.index).all():
        return False, (
            f"{len(a):,} customers, expected {len(e):,}: one row per identified customer with at "
            "least one purchase (not a return) up to the end of the month."
        )
    a = a.loc[e.index]
    for c in columns:
        if not np.allclose(a[c].astype(float), e[c].astype(float), rtol=rtol, atol=1e-6):
            return False, f"the column {c} differs from the expected values."
    return True, None


class _Module:
    def __init__(self, title: str, exercises: list[Exercise]):
        self.title = title
        self.exercises = {e.name.split(".")[-1]: e for e in exercises}
        for key, e in self.exercises.items():
            setattr(self, key, e)

    def __repr__(self) -> str:
        return f"{self.title}: " + ", ".join(self.exercises)


# --------------------------------------------------------------------------- pieces of data


def _tx_month(ws: Workshop) -> pd.DataFrame:
    t = ws.transactions
    return t[(t["ts"] >= ws.month_start) & (t["ts"] < ws.month_end)]


def _tx_window(ws: Workshop, months: int, last: pd.Timestamp | None = None) -> pd.DataFrame:
    end = (last or ws.month_start) + pd.offsets.MonthBegin(1)
    start = end - pd.DateOffset(months=months)
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
    return ledger[ledger["date"] < ws.month_end]


def _ledger_sum(types: tuple[str, ...], absolute: bool = False) -> float:
    ws = load()
    lg = _outstanding(ws.points_ledger, ws)
    lg = lg[lg["type"].isin(types)]
    return float(lg["points"].abs().sum() if absolute else lg["points"].sum())


def _ledger_window(kind: str) -> float:
    ws = load()
    lg = ws.points_ledger
    start = ws.month_end - pd.DateOffset(months=12)
    lg = lg[(lg["date"] >= start) & (lg["date"] < ws.month_end)]
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


# --------------------------------------------------------------------------- the checks


def _m1() -> _Module:
    def tx():
        return _tx_month(load())

    def ident():
        t = tx()
        return t[t["customer_id"].notna()]

    return _Module(
        "Module 1 · From raw transactions to loyalty KPIs",
        [
            Exercise(
                "module1.exercise1",
                "Average order value of the analysis month: net revenue ÷ orders.",
                lambda: _kpi("average_order_value"),
                [
                    (
                        lambda: tx().loc[~tx()["is_return"], "net_amount"].mean(),
                        "Returns are separate rows with negative amounts, and net revenue deducts "
                        "them: sum net_amount over all rows (returns included), then divide by the "
                        "number of orders.",
                    ),
                    (
                        lambda: tx()["net_amount"].sum() / len(tx()),
                        "A return is not an order: divide by the receipts where is_return is False.",
                    ),
                    (
                        lambda: (
                            tx()["net_amount"].sum()
                            / tx().loc[~tx()["is_return"], "customer_id"].nunique()
                        ),
                        "You divided by customers: that is spend per customer. AOV divides by "
                        "orders (receipts that are not returns).",
                    ),
                ],
                "AOV = sum of net_amount of all receipts in the month (returns deducted) ÷ "
                "number of receipts that are not returns; anonymous receipts count too.",
            ),
            Exercise(
                "module1.exercise2",
                "Purchase frequency of the analysis month: orders per active customer.",
                lambda: _kpi("purchase_frequency"),
                [
                    (
                        lambda: (
                            (~tx()["is_return"]).sum()
                            / ident().loc[~ident()["is_return"], "customer_id"].nunique()
                        ),
                        "Anonymous receipts (no customer_id) cannot be attributed to a customer: "
                        "count only the orders of identified customers.",
                    ),
                    (
                        lambda: len(ident()) / ident()["customer_id"].nunique(),
                        "Counting orders, leave out the returns (is_return == True) — in the "
                        "numerator and when deciding who was active.",
                    ),
                ],
                "Frequency = orders of identified customers ÷ identified customers with at "
                "least one order, both in the analysis month.",
            ),
            Exercise(
                "module1.exercise3",
                "Repeat purchase rate over the 12 months ending with the analysis month.",
                lambda: _kpi("repeat_purchase_rate"),
                [
                    (
                        lambda: (lambda n: float(n[n >= 2].sum() / n.sum()))(
                            _tx_window(load(), 12).query("~is_return").groupby("customer_id").size()
                        ),
                        "You counted orders, not customers: the rate is the share of customers "
                        "(with at least one order) who ordered at least twice.",
                    ),
                    (
                        lambda: _repeat_rate(_tx_window(load(), 12), count_returns=True),
                        "A return is not a purchase: drop rows with is_return before counting "
                        "orders per customer.",
                    ),
                    (
                        lambda: _repeat_rate(_tx_window(load(), 1)),
                        "The repeat purchase rate looks at the 12 months ending with the analysis "
                        "month, not at the month alone.",
                    ),
                ],
                "Count orders (no returns) per identified customer over the 12 months; the rate "
                "is customers with ≥ 2 orders ÷ customers with ≥ 1 order.",
                kind="share",
            ),
            Exercise(
                "module1.exercise4",
                "Retention rate: customers active in the previous 3 months who are active again "
                "in the last 3 months.",
                lambda: _kpi("retention_rate"),
                [
                    (
                        lambda: _retention(load(), RETENTION_WINDOW, denominator="current"),
                        "Retention asks how many of the customers you had are still there: divide "
                        "by the customers active in the previous window, not the current one.",
                    ),
                    (
                        lambda: _retention(load(), 1),
                        "Use windows of 3 months (the previous 3 and the last 3 months), not single "
                        "months: a monthly buyer pattern is too noisy.",
                    ),
                ],
                "Previous window = the 3 months before the last 3; retention = customers with "
                "an order in both windows ÷ customers with an order in the previous window.",
                kind="share",
            ),
        ],
    )


def _m2() -> _Module:
    def rfm_expected():
        return _rfm()[["customer_id", "frequency", "monetary"]]

    def sales():
        t = load().transactions
        return t[t["customer_id"].notna() & (t["ts"] < load().month_end)]

    def rfm_with_returns_as_orders():
        s = sales()
        f = s.groupby("customer_id").size().rename("frequency")
        m = s.groupby("customer_id")["net_amount"].sum().rename("monetary")
        return pd.concat([f, m], axis=1).loc[rfm_expected()["customer_id"]].reset_index()

    def rfm_without_returns():
        s = sales()
        s = s[~s["is_return"]]
        f = s.groupby("customer_id").size().rename("frequency")
        m = s.groupby("customer_id")["net_amount"].sum().rename("monetary")
        return pd.concat([f, m], axis=1).reset_index()

    def champions(col: str) -> float:
        r = _rfm()
        champ = r["segment"] == "Champions"
        if col == "customers":
            return float(champ.mean())
        return float(r.loc[champ, "monetary"].sum() / r["monetary"].sum())

    return _Module(
        "Module 2 · Knowing your customers: RFM segments and tiers",
        [
            Exercise(
                "module2.exercise1",
                "A table with one row per customer: customer_id, frequency (orders) and monetary "
                "(net revenue, returns deducted) up to the end of the analysis month.",
                rfm_expected,
                [
                    (
                        rfm_with_returns_as_orders,
                        "frequency counts orders: leave returns out when counting (but keep them "
                        "in monetary, which is net of returns).",
                    ),
                    (
                        rfm_without_returns,
                        "monetary is net revenue: returns (negative amounts) must be deducted, so "
                        "sum net_amount over all of a customer's rows.",
                    ),
                ],
                "Group the identified customers' transactions by customer_id: frequency = rows "
                "that are not returns, monetary = sum of net_amount over all rows.",
                kind="frame",
                columns=("frequency", "monetary"),
            ),
            Exercise(
                "module2.exercise2",
                "Which share of net revenue comes from the Champions segment?",
                lambda: champions("revenue"),
                [
                    (
                        lambda: champions("customers"),
                        "That is the Champions' share of customers; the question is their share of "
                        "net revenue (sum of monetary).",
                    ),
                ],
                "Score with segments.rfm_scores, then Champions' monetary ÷ everyone's monetary.",
                kind="share",
            ),
        ],
    )


def _m3() -> _Module:
    def mean_champions(col: str, how: str = "mean") -> float:
        c = _clv()
        v = c.loc[c["segment"] == "Champions", col]
        return float(v.sum() if how == "sum" else v.mean())

    return _Module(
        "Module 3 · Customer lifetime value",
        [
            Exercise(
                "module3.exercise1",
                "The average expected CLV of a Champion (customer_clv's clv column).",
                lambda: mean_champions("clv"),
                [
                    (
                        lambda: mean_champions("clv", "sum"),
                        "That is the CLV of all Champions together; the question is the average "
                        "per customer (mean).",
                    ),
                    (
                        lambda: mean_champions("monetary"),
                        "That is past net revenue (monetary). CLV is the expected future margin "
                        "from the BG/NBD + Gamma-Gamma fit: use the clv column.",
                    ),
                ],
                "Join customer_clv with the segments on customer_id, then the mean clv of the "
                "Champions.",
                rtol=1e-3,
            ),
            Exercise(
                "module3.exercise2",
                "Which share of all expected CLV do the top 20 % of customers (by CLV) hold?",
                lambda: _top20_share("clv"),
                [
                    (
                        lambda: _top20_share("monetary"),
                        "You ranked customers by past revenue (monetary). Rank them by expected "
                        "CLV: the best customers of the past are not all the best of the future.",
                    ),
                ],
                "Take the round(20 %) of customers with the highest clv; their clv sum ÷ all clv.",
                kind="share",
                rtol=1e-3,
            ),
        ],
    )


def _m4() -> _Module:
    def naive(kind: str) -> float:
        p = _panel()
        p = p[p["mi"] > p["mi"].max() - 12]
        m = p.loc[p["is_member"], "revenue"].mean()
        if kind == "all":
            return float(m / p["revenue"].mean() - 1)
        if kind == "active":
            a = p[p["active"]]
            return float(
                a.loc[a["is_member"], "revenue"].mean() / a.loc[~a["is_member"], "revenue"].mean()
                - 1
            )
        return float(incrementality.naive_lift(_panel())["lift"])

    def campaign(kind: str) -> float:
        r = _campaign_rows()
        t, h = r[~r["is_holdout"]], r[r["is_holdout"]]
        if kind == "response":
            return float((t["orders"] > 0).mean() / (h["orders"] > 0).mean() - 1)
        if kind == "inverted":
            return float(h["revenue"].mean() / t["revenue"].mean() - 1)
        return float(_holdout_campaign()["lift"])

    return _Module(
        "Module 4 · Self-selection, matched difference-in-differences and holdouts",
        [
            Exercise(
                "module4.exercise1",
                "The naive lift: revenue per member-month ÷ revenue per non-member-month − 1, "
                "over the last 12 months of the panel.",
                lambda: naive("right"),
                [
                    (
                        lambda: naive("all"),
                        "Compare members with non-members, not with everyone: the average over all "
                        "customer-months already contains the members.",
                    ),
                    (
                        lambda: naive("active"),
                        "Keep the months without a purchase (revenue 0): leaving them out hides "
                        "that non-members buy less often.",
                    ),
                ],
                "Filter the panel to the last 12 months (mi), then mean revenue where is_member "
                "÷ mean revenue where not is_member − 1.",
                kind="share",
            ),
            Exercise(
                "module4.exercise2",
                "The corrected lift from incrementality.matched_did (with exact matching on "
                "marketing consent).",
                lambda: _did().lift,
                [
                    (
                        lambda: naive("right"),
                        "That is the naive lift again — members compared with all non-members. "
                        "Self-selection makes it far too high; report the matched DiD's lift.",
                    ),
                ],
                "did = incrementality.matched_did(panel, exact=workshop.consent(), "
                "min_treated=workshop.MIN_TREATED); the answer is did.lift.",
                kind="share",
                rtol=1e-3,
            ),
            Exercise(
                "module4.exercise4",
                "The placebo: the same design with every enrollment moved 3 months earlier "
                "(lift_checks.placebo with exact matching on consent); its lift.",
                lambda: _placebo().lift,
                [
                    (
                        lambda: _did().lift,
                        "That is the real corrected lift. The placebo moves enrollment 3 months "
                        "earlier, when nobody was a member yet: run lift_checks.placebo.",
                    ),
                ],
                "plac = lift_checks.placebo(panel, exact=workshop.consent(), "
                "min_treated=workshop.MIN_TREATED); the answer is plac.lift.",
                kind="share",
                rtol=1e-3,
            ),
            Exercise(
                "module4.exercise3",
                "Holdout lift of the campaign named in the notebook: revenue per contacted "
                "customer ÷ revenue per holdout customer − 1, in the campaign window.",
                lambda: campaign("right"),
                [
                    (
                        lambda: campaign("response"),
                        "That is the lift of the response rate (share who bought). The question "
                        "is about revenue per customer.",
                    ),
                    (
                        lambda: campaign("inverted"),
                        "Turned around: the contacted group goes on top (contacted ÷ holdout − 1).",
                    ),
                ],
                "From engine.campaign_window_activity: for this campaign, mean revenue where "
                "is_holdout is False ÷ mean revenue where it is True − 1.",
                kind="share",
            ),
        ],
    )


def _m5() -> _Module:
    def liability(kind: str) -> float:
        ws = load()
        lg = _outstanding(ws.points_ledger, ws)
        if kind == "face":
            return float(lg["points"].sum() * ws.cfg.finance.cost_per_point)
        return float(points.liability(lg, _ultimate(), ws.cfg.finance.cost_per_point)["liability"])

    return _Module(
        "Module 5 · Points economics: redemption, breakage, liability",
        [
            Exercise(
                "module5.exercise1",
                "Outstanding points at the end of the analysis month.",
                lambda: _ledger_sum(("earn", "redeem", "expire", "adjust")),
                [
                    (
                        lambda: _ledger_sum(("earn", "redeem", "adjust")),
                        "Expired points are gone too: subtract expiries as well as redemptions.",
                    ),
                    (
                        lambda: _ledger_sum(("earn",)),
                        "Those are the points ever issued: redemptions and expiries reduce the "
                        "balance.",
                    ),
                    (
                        lambda: _ledger_sum(("earn", "redeem", "expire", "adjust"), absolute=True),
                        "Redemptions and expiries are stored as negative points: sum the signed "
                        "values, don't take absolute values.",
                    ),
                ],
                "Sum the signed points of every ledger row dated up to the end of the month.",
            ),
            Exercise(
                "module5.exercise2",
                "Breakage rate of the last 12 months: points expired ÷ points issued.",
                lambda: _kpi("breakage_rate"),
                [
                    (
                        lambda: _ledger_window("redeem") / _earned_window(),
                        "That is the redemption rate (redeemed ÷ issued). Breakage is the share "
                        "that expires unused.",
                    ),
                    (
                        lambda: 1 - _ledger_window("redeem") / _earned_window(),
                        "Not every unredeemed point is broken: many are still outstanding and may "
                        "be redeemed later. Breakage counts only expired points.",
                    ),
                ],
                "Over the 12 months ending with the analysis month: expired points (as a positive "
                "number) ÷ earned points.",
                kind="share",
            ),
            Exercise(
                "module5.exercise3",
                "The points liability in money: outstanding points × cost per point × the share "
                "of them expected to be redeemed.",
                lambda: liability("right"),
                [
                    (
                        lambda: liability("face"),
                        "That is the face value: it assumes every outstanding point will be "
                        "redeemed. Multiply by the expected redemption share of outstanding points.",
                    ),
                ],
                "points.liability(ledger, ultimate, cost_per_point) computes it; check your own "
                "multiplication against it.",
                rtol=1e-3,
            ),
        ],
    )


def _m6() -> _Module:
    return _Module(
        "Module 6 · Building the ROI case",
        [
            Exercise(
                "module6.exercise1",
                "ROI of the last 12 months: (incremental margin − program cost) ÷ program cost.",
                lambda: roi.summary(*roi_case(), load().cfg.finance.discount_rate)["roi"],
                [
                    (
                        lambda: _roi("incremental_revenue"),
                        "Revenue is not profit: use the incremental margin (incremental revenue × "
                        "gross margin).",
                    ),
                    (
                        lambda: _roi("member_revenue"),
                        "Most member revenue would have happened without the program: only the "
                        "incremental margin is the program's return.",
                    ),
                ],
                "From roi.monthly_pnl: (sum of incremental_margin − sum of program_cost) ÷ sum of "
                "program_cost.",
                kind="share",
            ),
            Exercise(
                "module6.exercise2",
                "The break-even lift: the lift at which the ROI is exactly 0.",
                lambda: roi.break_even_lift(*roi_case()),
                [
                    (
                        lambda: roi_case()[1].lift,
                        "That is the estimated lift. Find the lift at which incremental margin "
                        "just covers the program cost (ROI = 0).",
                    ),
                ],
                "Try lifts with dataclasses.replace(drivers, lift=x) until roi.summary(...)['roi'] "
                "is 0 — or use roi.break_even_lift and explain its formula.",
                kind="share",
                rtol=1e-3,
            ),
            Exercise(
                "module6.exercise3",
                "+5 percentage points of annual retention: by how much does the value of a "
                "customer, m × r ÷ (1 + d − r), change (relative change)?",
                lambda: _retention_change("right"),
                [
                    (
                        lambda: _retention_change("relative"),
                        "+5 percentage points means r + 0.05, not r × 1.05 (+5 percent).",
                    ),
                    (
                        lambda: _retention_change("undiscounted"),
                        "Keep the discount rate d in the formula: m × r ÷ (1 + d − r).",
                    ),
                ],
                "r, m = roi.annual_retention_and_margin(panel, gross_margin); value(r) = m × r ÷ "
                "(1 + d − r); answer value(r + 0.05) ÷ value(r) − 1.",
                kind="share",
            ),
        ],
    )


class _Checks:
    """``check.moduleN.exerciseM(answer)`` for the six workshop modules."""

    def __init__(self) -> None:
        self.module1 = _m1()
        self.module2 = _m2()
        self.module3 = _m3()
        self.module4 = _m4()
        self.module5 = _m5()
        self.module6 = _m6()

    @property
    def modules(self) -> dict[str, _Module]:
        return {f"module{i}": getattr(self, f"module{i}") for i in range(1, 7)}

    def all_exercises(self) -> list[Exercise]:
        return [e for m in self.modules.values() for e in m.exercises.values()]


check = _Checks()
