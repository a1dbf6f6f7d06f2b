"""Customer segmentation: RFM scores and named segments, behavioural clusters, tiers.

Inputs are the engine's outputs (:func:`loyalty_roi.engine.rfm_summary`,
:func:`loyalty_roi.engine.customer_month_panel`); everything here works on
per-customer frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import sanitize
from .months import start as month_start

DEFAULT_CUTS = (0.2, 0.4, 0.6, 0.8)

# Rules are applied top to bottom; the first match names the segment.  R and F are
# scores 1–5 (5 = most recent / most frequent), M the monetary score.
SEGMENT_RULES: tuple[tuple[str, str], ...] = (
    ("Champions", "R ≥ 4 and F ≥ 4: bought recently and often"),
    ("Can't lose", "R ≤ 2 and F ≥ 4 and M ≥ 4: were among the best, gone quiet"),
    ("At risk", "R ≤ 2 and F ≥ 3: used to buy regularly, not recently"),
    ("Loyal", "R ≥ 3 and F ≥ 3: regular buyers"),
    ("New", "R ≥ 4 and F = 1: first purchases, recently"),
    ("Potential loyalists", "R ≥ 3 and F ≤ 2: recent, not yet regular"),
    ("Hibernating", "R = 2 and F ≤ 2: few purchases, a while ago"),
    ("Lost", "R = 1 and F ≤ 2: few purchases, long ago"),
)
SEGMENTS = tuple(name for name, _ in SEGMENT_RULES)


def score(
    values: pd.Series,
    cuts: Sequence[float] = DEFAULT_CUTS,
    higher_is_better: bool = True,
    absolute: bool = False,
) -> pd.Series:
    """Score 1…len(cuts)+1 by cut points.

    ``cuts`` are quantiles of ``values`` (default quintiles) or, with
    ``absolute=True``, values in the column's unit (e.g. recency days
    ``[30, 60, 120, 240]``).  Equal values always get the same score.  With
    ``higher_is_better=False`` (recency) small values get the high scores.
    """
    # a backend's parallel SUM adds in a varying order: equal spend differs in the last bits
    # from run to run (1e-11 at 10M receipts) and moved customers on a quantile edge
    v = np.round(values.to_numpy(dtype=float), 6)
    edges = np.asarray(cuts, dtype=float) if absolute else np.quantile(v, cuts)
    s = np.searchsorted(edges, v, side="right" if higher_is_better else "left") + 1
    if not higher_is_better:
        s = len(edges) + 2 - s
    return pd.Series(s.astype("int64"), index=values.index)


def rfm_scores(
    rfm: pd.DataFrame,
    cuts: Sequence[float] = DEFAULT_CUTS,
    recency_cuts: Sequence[float] | None = None,
    frequency_cuts: Sequence[float] | None = None,
    monetary_cuts: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Add ``R, F, M`` scores (1–5) and the named ``segment`` to an RFM summary.

    Quantile ``cuts`` apply to all three unless absolute cut points are given
    for a dimension (``recency_cuts`` in days, ``frequency_cuts`` in orders,
    ``monetary_cuts`` in money).
    """
    out = rfm.copy()
    out["R"] = score(
        out["recency_days"],
        recency_cuts or cuts,
        higher_is_better=False,
        absolute=recency_cuts is not None,
    )
    out["F"] = score(out["frequency"], frequency_cuts or cuts, absolute=frequency_cuts is not None)
    out["M"] = score(out["monetary"], monetary_cuts or cuts, absolute=monetary_cuts is not None)
    out["segment"] = name_segments(out["R"], out["F"], out["M"])
    return out


def name_segments(r: pd.Series, f: pd.Series, m: pd.Series) -> pd.Series:
    """Named segments from R, F, M scores by :data:`SEGMENT_RULES` (a complete partition)."""
    conds = [
        (r >= 4) & (f >= 4),
        (r <= 2) & (f >= 4) & (m >= 4),
        (r <= 2) & (f >= 3),
        (r >= 3) & (f >= 3),
        (r >= 4) & (f == 1),
        (r >= 3) & (f <= 2),
        (r == 2) & (f <= 2),
        (r <= 1) & (f <= 2),
    ]
    seg = np.select(conds, list(SEGMENTS), default="Lost")
    return pd.Series(pd.Categorical(seg, categories=list(SEGMENTS)), index=r.index)


def segment_rules_table() -> pd.DataFrame:
    """The segment rules as a table for the report."""
    return pd.DataFrame(SEGMENT_RULES, columns=["segment", "rule"])


# ---------------------------------------------------------------------------
# behavioural clusters
# ---------------------------------------------------------------------------
CLUSTER_FEATURES = ("recency_days", "frequency", "monetary", "aov", "tenure_days", "engagement")


def behaviour_features(
    rfm: pd.DataFrame, panel: pd.DataFrame | None = None, engagement: pd.Series | None = None
) -> pd.DataFrame:
    """Features for clustering: RFM, AOV, tenure and engagement (share of months with an order or points event).

    Engagement comes from ``engagement`` (per customer, e.g.
    :func:`loyalty_roi.panel_views.engagement_share`) or is computed from ``panel``.
    """
    f = rfm.set_index("customer_id")[
        ["recency_days", "frequency", "monetary", "aov", "tenure_days"]
    ].copy()
    if engagement is None and panel is not None and len(panel):
        engagement = panel.groupby("customer_id")["engaged"].mean()
    f["engagement"] = 0.0 if engagement is None else engagement.reindex(f.index).fillna(0.0)
    return f


def _scaled(features: pd.DataFrame) -> np.ndarray:
    from sklearn.preprocessing import StandardScaler

    x = features.copy()
    for c in ("frequency", "monetary", "aov"):
        if c in x:
            x[c] = np.log1p(x[c].clip(lower=0))
    return StandardScaler().fit_transform(x.to_numpy(dtype=float))


def silhouette_curve(
    features: pd.DataFrame,
    k_range: Sequence[int] = range(2, 9),
    sample: int = 4000,
    seed: int = 0,
    fit_max: int = 50_000,
) -> pd.DataFrame:
    """Silhouette score of k-means for each k, scored on a fixed random sample of ``sample``.

    Each k-means is fitted on at most ``fit_max`` customers — the scored sample
    plus others drawn at random — so the curve costs the same at 50 thousand and
    at 5 million customers; up to ``fit_max`` every customer is used.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = _scaled(features)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(x), size=min(sample, len(x)), replace=False)
    if len(x) > fit_max:
        rest = np.setdiff1d(np.arange(len(x)), idx)
        fit = x[np.r_[idx, rng.choice(rest, size=fit_max - len(idx), replace=False)]]
    else:
        fit = x
    rows = []
    for k in k_range:
        if k >= len(idx):
            break
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(fit)
        labels = km.labels_[idx] if fit is x else km.labels_[: len(idx)]
        rows.append({"k": k, "silhouette": silhouette_score(x[idx], labels)})
    return pd.DataFrame(rows)


def cluster_customers(features: pd.DataFrame, k: int, seed: int = 0) -> pd.Series:
    """k-means cluster labels (0…k−1, ordered by mean monetary value, 0 = highest)."""
    from sklearn.cluster import KMeans

    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(_scaled(features))
    order = (
        pd.Series(features["monetary"].to_numpy())
        .groupby(labels)
        .mean()
        .sort_values(ascending=False)
    )
    remap = {old: new for new, old in enumerate(order.index)}
    return pd.Series([remap[x] for x in labels], index=features.index, name="cluster")


def describe_clusters(features: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Mean features per cluster with a plain-language label from its most distinctive features."""
    prof = features.groupby(labels).mean()
    prof.insert(0, "customers", labels.value_counts().sort_index())
    z = (prof[list(features.columns)] - features.mean()) / features.std(ddof=0).replace(0, 1)
    words = {
        "recency_days": ("recent", "lapsed"),  # many days since the last purchase = lapsed
        "frequency": ("occasional", "frequent"),
        "monetary": ("low value", "high value"),
        "aov": ("small baskets", "big baskets"),
        "tenure_days": ("new", "long-standing"),
        "engagement": ("disengaged", "engaged"),
    }

    def label(row):
        top = row.abs().sort_values(ascending=False).index[:2]
        return ", ".join(words[c][1] if row[c] > 0 else words[c][0] for c in top)

    prof.insert(1, "label", z.apply(label, axis=1))
    prof.index.name = "cluster"
    return prof


# ---------------------------------------------------------------------------
# tiers
# ---------------------------------------------------------------------------
TIER_ORDER = ("bronze", "silver", "gold")


def tier_distribution(panel: pd.DataFrame) -> pd.DataFrame:
    """Members per tier and month (columns in tier order)."""
    m = panel[panel["is_member"] & panel["tier"].notna()]
    d = m.groupby(["month", "tier"]).size().unstack(fill_value=0)
    return d.reindex(columns=[t for t in TIER_ORDER if t in d.columns])


def tier_migration(panel: pd.DataFrame, month: str | pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """Tier migration from the previous month to ``month`` among members in both months.

    Returns the count matrix (rows: previous tier, columns: current tier) and a
    summary ``{"upgrades", "downgrades", "stayed"}``.
    """
    m = month_start(month)
    prev = m - pd.DateOffset(months=1)
    p = panel[panel["is_member"] & panel["tier"].notna() & panel["month"].isin([prev, m])]
    w = p.pivot(index="customer_id", columns="month", values="tier").dropna()
    if w.empty or prev not in w.columns or m not in w.columns:
        return pd.DataFrame(index=list(TIER_ORDER), columns=list(TIER_ORDER), dtype="int64").fillna(
            0
        ), {"upgrades": 0, "downgrades": 0, "stayed": 0}
    mat = pd.crosstab(w[prev], w[m]).reindex(
        index=list(TIER_ORDER), columns=list(TIER_ORDER), fill_value=0
    )
    mat.index.name, mat.columns.name = "previous tier", "current tier"
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    a, b = w[prev].map(rank), w[m].map(rank)
    return mat, {
        "upgrades": int((b > a).sum()),
        "downgrades": int((b < a).sum()),
        "stayed": int((b == a).sum()),
    }


# ---------------------------------------------------------------------------
# profiles and top customers
# ---------------------------------------------------------------------------
def segment_profile(
    rfm_scored: pd.DataFrame,
    customers: pd.DataFrame,
    by: str = "segment",
    clv: pd.Series | None = None,
) -> pd.DataFrame:
    """Profile per segment: customers, share, revenue share, AOV, frequency, CLV, member share.

    ``clv`` (optional) is expected CLV per ``customer_id``; without it the column is missing.
    """
    d = rfm_scored.merge(customers[["customer_id", "is_member"]], on="customer_id", how="left")
    if clv is not None:
        d["clv"] = d["customer_id"].map(clv)
    g = d.groupby(by, observed=False)
    prof = pd.DataFrame(
        {
            "customers": g.size(),
            "revenue": g["monetary"].sum(),
            "orders": g["frequency"].sum(),
            "frequency": g["frequency"].mean(),
            "member_share": g["is_member"].mean(),
        }
    )
    prof["share"] = prof["customers"] / prof["customers"].sum()
    prof["revenue_share"] = prof["revenue"] / prof["revenue"].sum()
    prof["aov"] = prof["revenue"] / prof["orders"].replace(0, np.nan)
    if clv is not None:
        prof["clv"] = g["clv"].mean()
    cols = (
        ["customers", "share", "revenue_share", "aov", "frequency"]
        + (["clv"] if clv is not None else [])
        + ["member_share"]
    )
    return prof[cols]


def pseudonym(customer_ids: pd.Series, salt: str) -> pd.Series:
    """Display pseudonym ``P-xxxxxxxx`` of customer ids (salted hash; not reversible without the salt)."""
    return customer_ids.map(lambda c: sanitize.pseudonym(f"id|{c}", salt, "P-", 8))


def top_customers(
    rfm_scored: pd.DataFrame, customers: pd.DataFrame, salt: str, n: int = 20
) -> pd.DataFrame:
    """The ``n`` customers with the highest net revenue, identified by pseudonym only."""
    d = rfm_scored.nlargest(n, "monetary").merge(
        customers[["customer_id", "is_member", "tier"]], on="customer_id", how="left"
    )
    d.insert(0, "customer", pseudonym(d["customer_id"], salt))
    return d[
        ["customer", "segment", "monetary", "frequency", "aov", "recency_days", "is_member", "tier"]
    ].reset_index(drop=True)


# What a campaign would do with each segment (segments not listed are not targeted).
TARGET_ACTIONS: dict[str, str] = {
    "Can't lose": "personal win-back offer",
    "At risk": "win-back campaign",
    "Hibernating": "reactivation reminder",
    "New": "welcome journey: second-purchase offer",
    "Potential loyalists": "join / tier-upgrade nudge",
    "Champions": "referral and early access",
}


def target_list(
    rfm_scored: pd.DataFrame, customers: pd.DataFrame, actions: dict[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Campaign target lists per segment, **only customers with marketing consent**.

    Returns ``(targets, counts)``: one row per targeted customer (customer id,
    segment, action, net revenue, member flag), and per segment how many
    customers were listed and how many were left out for lack of consent
    (missing consent counts as no consent).
    """
    actions = actions or TARGET_ACTIONS
    d = rfm_scored[rfm_scored["segment"].isin(list(actions))].merge(
        customers[["customer_id", "marketing_consent", "is_member"]], on="customer_id", how="left"
    )
    consent = d["marketing_consent"].astype("boolean").fillna(False).astype(bool)
    counts = (
        pd.DataFrame({"segment": d["segment"].astype(str), "consent": consent})
        .groupby("segment")["consent"]
        .agg(listed="sum", left_out_no_consent=lambda c: int((~c).sum()))
        .reindex(list(actions), fill_value=0)
    )
    counts.insert(0, "action", [actions[x] for x in counts.index])
    t = d[consent].copy()
    t["action"] = t["segment"].astype(str).map(actions)
    t["segment"] = t["segment"].astype(str)
    order = {name: i for i, name in enumerate(actions)}
    t = t.sort_values(
        ["segment", "monetary"], key=lambda c: c.map(order) if c.name == "segment" else -c
    )
    cols = ["customer_id", "segment", "action", "monetary", "recency_days", "is_member"]
    return t[cols].reset_index(drop=True), counts


def segment_sentence(profile: pd.DataFrame) -> str:
    """Which segments carry the revenue, and how big the at-risk value is."""
    p = profile.sort_values("revenue_share", ascending=False)
    top = p.index[0]
    s = (
        f"{top} are {p.loc[top, 'share']:.0%} of customers and bring {p.loc[top, 'revenue_share']:.0%} of net "
        f"revenue (members: {p.loc[top, 'member_share']:.0%})."
    )
    risk = [x for x in ("At risk", "Can't lose") if x in p.index and p.loc[x, "customers"] > 0]
    if risk:
        share = p.loc[risk, "revenue_share"].sum()
        s += (
            f" {' and '.join(risk)} together hold {share:.0%} of revenue from customers who have gone quiet — "
            f"the first audience for a win-back offer."
        )
    return s


def migration_sentence(moves: dict, month: str) -> str:
    """Upgrades and downgrades in one sentence."""
    total = sum(moves.values())
    if total == 0:
        return f"No member had a tier in both {month} and the month before."
    return (
        f"In {month}, {moves['upgrades']:,} members moved up a tier and {moves['downgrades']:,} moved down "
        f"({moves['upgrades'] / total:.1%} vs {moves['downgrades'] / total:.1%} of {total:,} members)."
    )


def cohort_sentence(long: pd.DataFrame, offset: int = 3, left_censored_first: bool = False) -> str:
    """Average share of a cohort that buys again ``offset`` months after its start.

    ``left_censored_first``: the first cohort is everyone already a customer when the
    data begins (acquisition cohorts), not customers acquired that month — it is left
    out of the average and of "best cohort", and the sentence says so.
    """
    first = long["cohort_mi"].min() if len(long) else None
    r = long[long["offset"] == offset]
    note = ""
    if left_censored_first and first is not None:
        r = r[r["cohort_mi"] != first]
        note = (
            f" The first cohort ({long['cohort'].min():%Y-%m}) holds everyone who was already a "
            "customer when the data begins, so it is left out."
        )
    if r.empty:
        return f"No cohort is {offset} months old yet.{note}"
    w = (r["rate"] * r["cohort_size"]).sum() / r["cohort_size"].sum()
    best = r.loc[r["rate"].idxmax()]
    return (
        f"On average {w:.0%} of a cohort buys again in month {offset} after its start; the best cohort "
        f"({best['cohort']:%Y-%m}) reached {best['rate']:.0%}.{note}"
    )
