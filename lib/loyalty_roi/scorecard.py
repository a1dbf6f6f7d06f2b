"""A month's KPI scorecard: value, MoM / YoY change, the SMART target and a status.

:func:`build` reads the values :func:`loyalty_roi.kpis.monthly_kpis` computed;
the rest formats the card for the notebook, the report's front page and its
sentences.  A KPI whose tables are missing says "not available: needs …".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import kpis
from .claims import cite
from .months import between as months_between
from .months import start as month_start


def availability(available: set[str]) -> dict[str, str | None]:
    """For each KPI: None when computable, else the "not available: needs …" message."""
    res = {}
    for k in kpis.CATALOGUE:
        missing = [t for t in k.needs if t not in available]
        res[k.key] = f"not available: needs {', '.join(missing)}" if missing else None
    return res


def change_unit(unit: str, short: bool = False) -> str:
    """The unit of a KPI's MoM/YoY change: pp for rates, points for NPS, % otherwise."""
    if unit == "share":
        return "pp"
    if unit == "nps":
        return "pts" if short else "points"
    return "%"


def _change(cur: float, prev: float, kpi: kpis.Kpi) -> float:
    """Change from ``prev`` to ``cur``: percentage points for rates and NPS, relative change otherwise."""
    if pd.isna(cur) or pd.isna(prev):
        return np.nan
    if kpi.is_rate:
        return (cur - prev) * 100
    if kpi.unit == "nps":
        return cur - prev
    return np.nan if prev == 0 else (cur / prev - 1) * 100


def target_status(
    value: float,
    baseline: float,
    expected: float,
    higher_is_better: bool,
    on_track_share: float = 0.9,
    at_risk_share: float = 0.5,
) -> str:
    """Status against a SMART target with a linear path from baseline to target.

    ``progress = (value − baseline) / (expected − baseline)``, where ``expected``
    is the value the linear path reaches in this month.  On track if progress ≥
    ``on_track_share``, at risk if ≥ ``at_risk_share``, else off track.  At the
    baseline month itself (no change expected yet): on track unless the value
    moved the wrong way.
    """
    if pd.isna(value) or pd.isna(baseline):
        return "no data"
    sign = 1 if higher_is_better else -1
    needed = (expected - baseline) * sign
    achieved = (value - baseline) * sign
    if needed <= 0:
        return "on track" if achieved >= 0 else "at risk"
    progress = achieved / needed
    if progress >= on_track_share:
        return "on track"
    if progress >= at_risk_share:
        return "at risk"
    return "off track"


def no_baseline(name: str, baseline_month: str, b_month, values: pd.Series) -> str:
    """Why a target has no baseline, and the first month that would work."""
    first = values.first_valid_index()
    then = f"; the first month with a value is {first:%Y-%m}" if first is not None else ""
    if b_month in values.index and first is not None:
        return (
            f"no baseline: {name} has no value in {baseline_month} — it needs more history than "
            f"the data holds before that month{then}"
        )
    return f"no baseline: {baseline_month} not in the data{then}"


def target_text(change: float, baseline_month: str, by: str) -> str:
    """A target in words, e.g. ``15% above 2025-10 by 2026-12``.

    Not ``+15% vs …``: a cell starting with ``+`` is a formula to a spreadsheet, so the
    export would have to show it behind an apostrophe.
    """
    if not change:
        return f"level with {baseline_month} by {by}"
    return f"{abs(change):.0%} {'above' if change > 0 else 'below'} {baseline_month} by {by}"


def build(
    values: pd.DataFrame,
    month: str | pd.Timestamp,
    kpi_config=None,
    available: set[str] | None = None,
) -> pd.DataFrame:
    """The scorecard of one month.

    Columns: ``kpi, group, value, unit, mom, yoy`` (changes in pp for rates,
    points for NPS, % otherwise), ``target`` (text), ``target_value``,
    ``expected_now``, ``status`` and ``note``.  ``kpi_config`` is the
    ``kpi`` section of the workbook config (targets and status shares).
    """
    m = month_start(month)
    if m not in values.index:
        raise KeyError(
            f"month {m:%Y-%m} is not in the data ({values.index.min():%Y-%m} … {values.index.max():%Y-%m})"
        )
    avail = availability(available if available is not None else set())
    targets = kpi_config.targets if kpi_config is not None else {}
    rows = []
    for k in kpis.CATALOGUE:
        row = {
            "key": k.key,
            "kpi": k.name,
            "group": k.group,
            "unit": k.unit,
            "higher_is_better": k.higher_is_better,
        }
        if available is not None and avail[k.key]:
            rows.append({**row, "value": np.nan, "status": avail[k.key], "note": avail[k.key]})
            continue
        s = values[k.key] if k.key in values else pd.Series(dtype=float)
        cur = s.get(m, np.nan)
        prev = s.get(m - pd.DateOffset(months=1), np.nan)
        last_year = s.get(m - pd.DateOffset(months=12), np.nan)
        row.update(
            value=cur, previous=prev, mom=_change(cur, prev, k), yoy=_change(cur, last_year, k)
        )
        t = targets.get(k.key)
        if t is not None and k.higher_is_better is not None:
            b_month = month_start(t.baseline_month)
            by = month_start(t.by)
            baseline = s.get(b_month, np.nan)
            target_value = baseline * (1 + t.change)
            if k.is_rate:
                target_value = min(target_value, 1.0)  # a share cannot pass 100 %
            total = max(1, months_between(b_month, by))
            elapsed = min(max(0, months_between(b_month, m)), total)
            expected = baseline + (target_value - baseline) * elapsed / total
            status = target_status(
                cur,
                baseline,
                expected,
                higher_is_better=k.higher_is_better,
                on_track_share=kpi_config.on_track_share,
                at_risk_share=kpi_config.at_risk_share,
            )
            if pd.isna(baseline):
                status = no_baseline(k.name, t.baseline_month, b_month, s)
            elif k.is_rate and not 0 <= baseline * (1 + t.change) <= 1:
                # a rate cannot pass 100 % (or fall below 0): say so instead of "off track"
                status = (
                    f"infeasible: {t.change:+.0%} on {baseline:.1%} is "
                    f"{baseline * (1 + t.change):.1%} — set a reachable change in kpi.targets"
                )
            row.update(
                target=target_text(t.change, t.baseline_month, t.by),
                baseline=baseline,
                target_value=target_value,
                expected_now=expected,
                status=status,
            )
        else:
            row.update(status="no target" if not pd.isna(cur) else "no data this month")
        row["note"] = describe(k, cur, row.get("mom"), row.get("status"), row.get("target"))
        rows.append(row)
    cols = [
        "key",
        "kpi",
        "group",
        "value",
        "unit",
        "previous",
        "mom",
        "yoy",
        "target",
        "baseline",
        "target_value",
        "expected_now",
        "status",
        "note",
        "higher_is_better",
    ]
    return pd.DataFrame(rows).reindex(columns=cols)


def format_value(value: float, unit: str, currency: str = "EUR") -> str:
    """A KPI value as text in its catalogue unit: 12.3 %, EUR 45.60, 1,234, NPS +23.

    Money, shares and counts are formatted by :func:`loyalty_roi.present.fmt`,
    the one presentation layer; the KPI-only units (points, orders, NPS, score) here.
    """
    from .present import DASH, fmt

    if pd.isna(value):
        return DASH
    if unit in ("share", "money", "count"):
        return fmt(value, unit, currency)
    return {
        "points": f"{value:,.0f}",
        "orders": f"{value:.2f}",
        "nps": f"{value:+.0f}",
        "score": f"{value:.2f}",
    }[unit]


def describe(
    k: kpis.Kpi, value: float, mom: float | None, status: str | None, target: str | None
) -> str:
    """One sentence on a KPI.

    E.g. "Repeat purchase rate fell 2.1 pp MoM, off track for its target (10% above
    2025-10 by 2026-12)".
    """
    if pd.isna(value):
        return f"{k.name}: no value this month."
    if mom is None or pd.isna(mom):
        move = "has no previous month to compare with"
    else:
        unit = change_unit(k.unit)
        verb = "rose" if mom > 0 else ("fell" if mom < 0 else "was unchanged")
        move = f"{verb} {abs(mom):.1f} {unit} MoM" if mom != 0 else verb + " MoM"
    s = f"{k.name} {move}"
    if target and status in ("on track", "at risk", "off track"):
        s += f", {status} for its target ({target})"
    return s + "."


def biggest_movements(card: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The KPIs with the largest absolute MoM change among those with a direction."""
    c = card[card["higher_is_better"].notna() & card["mom"].notna()].copy()
    c["abs_mom"] = c["mom"].abs()
    return c.sort_values("abs_mom", ascending=False).head(n)


STATUS_COLORS = {"on track": "#d8f0d2", "at risk": "#fdebc8", "off track": "#f6d0d0"}


def scorecard_display(card: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The scorecard with values and changes as text, ready to show or export."""

    def chg(row, col):
        v = row[col]
        if pd.isna(v):
            return "—"
        unit = change_unit(row["unit"], short=True)
        text = f"{v:+.1f}"
        return f"{'0.0' if text in ('+0.0', '-0.0') else text} {unit}"  # never "−0.0 pp"

    out = pd.DataFrame(
        {
            "KPI": card["kpi"],
            "group": card["group"],
            "value": [
                format_value(v, u, currency)
                for v, u in zip(card["value"], card["unit"], strict=True)
            ],
            "MoM": [chg(r, "mom") for _, r in card.iterrows()],
            "YoY": [chg(r, "yoy") for _, r in card.iterrows()],
            "target": card["target"].fillna("—"),
            "target value": [
                format_value(v, u, currency)
                for v, u in zip(card["target_value"], card["unit"], strict=True)
            ],
            "status": card["status"],
        }
    )
    return out


def styled_scorecard(card: pd.DataFrame, currency: str):
    """The scorecard as a pandas Styler: status cells coloured, no index."""
    disp = scorecard_display(card, currency)
    return (
        disp.style.hide(axis="index")
        .map(
            lambda s: f"background-color: {STATUS_COLORS.get(s, 'transparent')}", subset=["status"]
        )
        .set_properties(**{"font-size": "0.9em"})
    )


def movement_sentences(card: pd.DataFrame, n: int = 4) -> str:
    """Markdown bullets for the largest MoM movements, with their target status."""
    top = biggest_movements(card, n)
    if top.empty:
        return "No KPI has a previous month to compare with."
    return "\n".join(f"- {note}" for note in top["note"])


def member_sentence(values: pd.DataFrame, month: str) -> str:
    """The naive member premium in words, with the warning that it is not the program's effect."""
    m = month_start(month)
    prem = values.loc[m, "member_spend_premium"] if m in values.index else np.nan
    if pd.isna(prem):
        return "There are no active members or no active non-members this month to compare."
    return (
        f"Active members spent {prem:+.0%} compared with active non-members in {m:%B %Y}. This is the naive "
        f"comparison the published 12–18% figures rest on {cite('member_premium')}: heavy buyers join "
        f"loyalty programs, so part of the gap existed before they enrolled. Notebook 04 estimates "
        f"the program's own effect."
    )
