"""Data shapes a real program has and the demo does not, for the report matrix.

Each builder takes the generator's canonical tables and returns them changed the
way a real export differs: members only, no members, no holdouts, no points
ledger, no costs, a short history, one store, campaigns that began before the
data.  ``write_shape`` writes them as Parquet with an identity mapping and a
``files`` config, so the whole report runs on them.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd

from loyalty_roi import synth

END_MONTH = "2026-10"


def _members_only(t: dict) -> dict:
    c = t["customers"]
    members = set(c.loc[c["is_member"], "customer_id"])
    t["customers"] = c[c["is_member"]]
    x = t["transactions"].copy()
    x.loc[~x["customer_id"].isin(members), "customer_id"] = None  # non-members are anonymous
    t["transactions"] = x
    for name in (
        "points_ledger",
        "tier_history",
        "campaign_contacts",
        "surveys",
        "coupon_redemptions",
    ):
        if name in t:
            t[name] = t[name][t[name]["customer_id"].isin(members)]
    return t


def _no_members(t: dict) -> dict:
    c = t["customers"].copy()
    c["is_member"], c["enrolled_at"], c["tier"] = False, pd.NaT, None
    t["customers"] = c
    for name in ("points_ledger", "tier_history"):
        t.pop(name)
    cp = t["campaigns"]
    keep = set(cp.loc[cp["type"] != "double_points", "campaign_id"])
    t["campaigns"] = cp[cp["campaign_id"].isin(keep)]
    t["campaign_contacts"] = t["campaign_contacts"][
        t["campaign_contacts"]["campaign_id"].isin(keep)
    ]
    t["coupon_redemptions"] = t["coupon_redemptions"][
        t["coupon_redemptions"]["campaign_id"].isin(keep)
    ]
    return t


def _no_holdouts(t: dict) -> dict:
    t["campaign_contacts"] = t["campaign_contacts"].assign(is_holdout=False)
    return t


def _no_ledger(t: dict) -> dict:
    t.pop("points_ledger")
    return t


def _no_costs(t: dict) -> dict:
    t.pop("program_costs")
    return t


def _single_store(t: dict) -> dict:
    t["transactions"] = t["transactions"].assign(store="Aarhus C", channel="store")
    t["customers"] = t["customers"].assign(store="Aarhus C")
    return t


def _campaigns_before_data(t: dict) -> dict:
    cp = t["campaigns"].copy()
    first = t["transactions"]["ts"].min().normalize()
    cp.loc[cp.index[0], "start"] = first - pd.Timedelta(days=20)
    t["campaigns"] = cp
    return t


# name → (months of history, changes); several independent changes share one report to keep
# the matrix fast (each report is a full run of the four notebooks)
SHAPES = {
    "members_only": (24, [_members_only]),
    "no_members": (24, [_no_members]),
    "no_holdouts_campaigns_before_data": (24, [_no_holdouts, _campaigns_before_data]),
    "no_ledger_no_costs_single_store": (24, [_no_ledger, _no_costs, _single_store]),
    "months_12": (12, []),
    "months_6": (6, []),
    # members sign up during a temporary spending high, and the program does nothing: the two
    # estimates disagree, both fail their placebo, the lift is a bracket labelled fragile
    "fragile_lift_high": (24, []),
    # members sign up during a spending low (a win-back offer), the program does nothing: a
    # placebo reads below zero, the lift is not credible
    "not_credible_lift_low": (24, []),
}

# generator settings of the shapes that are about how members sign up (customers, seed, program)
GENERATE = {
    "fragile_lift_high": dict(
        n_customers=3000, seed=7, enrollment="spending_high", frequency_lift=0.0, spend_lift=0.0
    ),
    "not_credible_lift_low": dict(
        n_customers=3000,
        seed=8,
        enrollment="spending_high",
        phase_signup=-2.5,
        frequency_lift=0.0,
        spend_lift=0.0,
    ),
}


def write_shape(shape: str, d: Path, customers: int = 800, seed: int = 7) -> Path:
    """Raw Parquet exports, identity mapping and a ``files`` config for ``shape``; the config path."""
    months, changes = SHAPES[shape]
    kw = {"n_customers": customers, "seed": seed, "enrollment": "till", **GENERATE.get(shape, {})}
    data = synth.generate(months=months, end_month=END_MONTH, **kw)
    tables = {k: v.copy() for k, v in data.tables.items()}
    for change in changes:
        tables = change(tables)
    data = synth.SynthData(tables=tables, pii=data.pii, truth=data.truth)
    raw = d / "raw"
    synth.write_raw(data, raw, fmt="parquet")
    (raw / "truth.json").unlink()  # real data has no truth
    cfg = {
        "data": {
            "source": "files",
            "raw_dir": str(raw),
            "mapping": str(raw / "mapping.yml"),
            "processed_dir": str(d / "processed"),
        },
        "currency": "DKK",
    }
    (d / "config.yml").write_text(json.dumps(cfg), encoding="utf-8")
    return d / "config.yml"


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<img[^>]*>", " [figure] ", page)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def empty_sections(page: str) -> list[str]:
    """``##`` headings followed by nothing (no text, table row or figure) before the next heading.

    A table with a header and no rows is nothing: its header text does not count.
    """
    parts = re.split(r"<h[12][^>]*>", page)
    empty = []
    for part in parts[1:]:
        heading, _, body = part.partition("</h")
        body = body.split(">", 1)[1] if ">" in body else ""
        body = re.sub(r"<table(?:(?!<td).)*?</table>", " ", body, flags=re.S)  # no data cell
        if not visible_text(body).replace("¶", "").strip():
            empty.append(visible_text(heading).replace("¶", "").strip())
    return empty
