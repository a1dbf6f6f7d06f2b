"""Notebooks 02 and 03 executed by papermill on small data, with and without the optional tables."""

import shutil

import nbformat
import pytest

from loyalty_roi import artefacts, runner

pytestmark = pytest.mark.slow


def outputs(path):
    nb = nbformat.read(path, as_version=4)
    text, images, errors = [], 0, []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        for o in c.outputs:
            if o.output_type == "stream":
                text.append(o.text)
            elif o.output_type == "error":
                errors.append(o)
            else:
                d = o.get("data", {})
                images += "image/png" in d
                text.append(
                    d.get("text/markdown", "") + d.get("text/plain", "") + d.get("text/html", "")
                )
    return "\n".join(text), images, errors


def run(name, out, params):
    runner.run_notebook(runner.notebook_path(name), out, params, timeout=600)
    return outputs(out)


@pytest.fixture(scope="module")
def pipeline(small_raw_master, tmp_path_factory):
    d = tmp_path_factory.mktemp("pipeline")
    raw = d / "raw"
    shutil.copytree(small_raw_master, raw)
    common = {"processed_dir": str(d / "processed")}
    run(
        "01_ingest_data.ipynb",
        d / "01.ipynb",
        {
            **common,
            "source": "files",
            "raw_dir": str(raw),
            "mapping": str(raw / "mapping.yml"),
            "run_date": "2026-11-22",
        },
    )
    return d, common


def test_segmentation_notebook_runs_and_reads_as_a_report(pipeline):
    d, common = pipeline
    text, images, errors = run("02_segment_customers.ipynb", d / "02.ipynb", {**common, "k_max": 5})
    assert not errors
    assert "Analysis month 2026-10" in text
    assert "Champions" in text and "of net revenue" in text
    assert "moved up a tier" in text
    assert "P-" in text  # pseudonymised top customers
    assert images >= 6  # segments, silhouette, tiers, migration, two cohort heatmaps
    assert artefacts.path("customer_clv", d / "processed").exists()


def test_kpi_notebook_runs_and_reads_as_a_report(pipeline):
    d, common = pipeline
    text, images, errors = run(
        "03_calculate_kpis.ipynb", d / "03.ipynb", {**common, "holdout_months": 4}
    )
    assert not errors
    assert "Retention rate" in text
    # the small data starts in 2025-11: a 12-month KPI has no value in the baseline month 2025-12
    assert "no baseline: Repeat purchase rate has no value in 2025-12" in text
    assert "MoM" in text
    assert "This is the naive comparison" in text
    assert "holdout" in text and "repeat purchase days" in text
    assert images >= 4


def test_notebooks_run_without_optional_tables_and_say_what_is_missing(pipeline, tmp_path):
    d, _ = pipeline
    only = tmp_path / "processed"
    only.mkdir()
    for name in ("customers", "transactions"):
        shutil.copy(d / "processed" / f"{name}.parquet", only / f"{name}.parquet")
    params = {"processed_dir": str(only), "k_max": 4}
    text2, _, errors2 = run("02_segment_customers.ipynb", tmp_path / "02.ipynb", params)
    assert not errors2
    assert "Not available — provide the `tier_history` table" in text2
    text3, _, errors3 = run(
        "03_calculate_kpis.ipynb", tmp_path / "03.ipynb", {"processed_dir": str(only)}
    )
    assert not errors3
    assert "not available: needs points_ledger" in text3
    assert "not available: needs surveys" in text3
    assert "not available: needs campaigns, campaign_contacts" in text3


@pytest.fixture(scope="module")
def mid_processed(tmp_path_factory):
    """A 24-month program large enough for the enrollment difference-in-differences."""
    from loyalty_roi import synth

    d = tmp_path_factory.mktemp("mid")
    data = synth.generate(n_customers=4000, months=24, end_month="2026-10", seed=11)
    for k, v in data.tables.items():
        v.to_parquet(d / f"{k}.parquet", index=False)
    return d


def test_roi_notebook_runs_and_gives_a_verdict(mid_processed, tmp_path):
    text, images, errors = run(
        "04_analyse_roi_scenarios.ipynb",
        tmp_path / "04.ipynb",
        {"processed_dir": str(mid_processed), "n_boot": 100},
    )
    assert not errors
    assert "naive comparison" in text and "program's own effect" in text
    assert "reconciles to the point in every month" in text
    assert "**Verdict.** The program returns EUR" in text and "P(ROI > 0)" in text
    assert "breaks even at a lift of" in text and "published 25–95 % range" in text
    assert images >= 6  # event study, holdouts, redemption curves, P&L, tornado, Monte Carlo
    nb = nbformat.read(tmp_path / "04.ipynb", as_version=4)
    explorer = [c for c in nb.cells if "skip-execution" in c.metadata.get("tags", [])]
    assert len(explorer) == 1 and explorer[0].outputs == []  # the widget cell is not run in batch


def test_roi_notebook_says_what_is_missing(mid_processed, tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    for name in ("customers", "transactions"):
        shutil.copy(mid_processed / f"{name}.parquet", d / f"{name}.parquet")
    text, _, errors = run(
        "04_analyse_roi_scenarios.ipynb",
        tmp_path / "04.ipynb",
        {"processed_dir": str(d), "n_boot": 50},
    )
    assert not errors
    assert "Not available — provide the `points_ledger` table" in text
    assert "Not available: no `campaigns` table" in text
    assert "Running costs (platform, marketing and staff) come from the config" in text


def test_roi_notebook_on_members_only_data_estimates_and_says_how(mid_processed, tmp_path):
    """Members-only export with history before enrollment: an estimate (issue 11), labelled."""
    import pandas as pd

    d = tmp_path / "p"
    d.mkdir()
    for f in mid_processed.glob("*.parquet"):
        shutil.copy(f, d / f.name)
    cust = pd.read_parquet(d / "customers.parquet")
    members = set(cust.loc[cust["is_member"], "customer_id"])
    cust[cust["is_member"]].to_parquet(d / "customers.parquet", index=False)
    for name in ("transactions", "points_ledger", "tier_history", "campaign_contacts", "surveys"):
        t = pd.read_parquet(d / f"{name}.parquet")
        keep = t["customer_id"].isin(members)
        if name == "transactions":
            keep = keep | t["customer_id"].isna()
        t[keep].to_parquet(d / f"{name}.parquet", index=False)
    text, _, errors = run(
        "04_analyse_roi_scenarios.ipynb",
        tmp_path / "04.ipynb",
        {"processed_dir": str(d), "n_boot": 50},
    )
    assert not errors
    assert "Not available: every customer is a member" not in text
    assert "members-only data: the controls are members who signed up later" in text
    assert "Confidence: fragile" in text or "Confidence: not credible" in text
