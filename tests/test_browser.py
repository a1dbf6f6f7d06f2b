"""Real browser: Voilà serves the what-if dashboard, Chromium moves a slider, the ROI follows loyalty_roi.roi."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyalty_roi import artefacts, roi, widgets
from loyalty_roi.paths import PROJ_ROOT

from .helpers import ARGS, ARTIFACTS, CHROMIUM, free_port, wait_for_port

pytestmark = pytest.mark.slow


@pytest.fixture
def dashboard(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian chromium is missing: `make test` installs it (apt-get install -y chromium)"
        )
    months = pd.date_range("2026-01-01", periods=12, freq="MS")
    data = roi.ProgramData(
        months,
        np.full(12, 400_000.0),
        np.full(12, 600_000.0),
        pd.DataFrame({"platform": 4500.0, "staff": 3000.0, "marketing": 1500.0}, index=months),
        np.full(12, 700_000.0),
        "test",
    )
    base = roi.Drivers(lift=0.15, gross_margin=0.35, cost_per_point=0.025, redemption_rate=0.7)
    processed = tmp_path / "processed"
    artefacts.save(roi.summary_payload(data, base, 0.03, 0.08, "EUR"), "report_summary", processed)
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(f"data:\n  processed_dir: {processed}\n", encoding="utf-8")
    port = free_port()
    env = {**os.environ, "LOYALTY_ROI_CONFIG": str(cfg)}
    voila = Path(sys.executable).parent / "voila"
    proc = subprocess.Popen(
        [
            str(voila),
            str(PROJ_ROOT / "notebooks" / "05_whatif_dashboard.ipynb"),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
        ],
        cwd=PROJ_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/", data, base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_moving_the_lift_slider_shows_the_roi_that_roi_computes(dashboard):
    from playwright.sync_api import sync_playwright

    url, data, base = dashboard
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(url, timeout=90_000)
            headline = page.locator(".whatif-roi").first
            headline.wait_for(timeout=90_000)
            start = widgets.roi_text(roi.summary(data, base, 0.08), "EUR")
            assert headline.inner_text().strip() == start
            handle = page.locator(
                ".widget-slider .noUi-handle"
            ).first  # the first slider: program lift
            handle.focus()
            page.keyboard.press("ArrowRight")
            moved = roi.Drivers(
                lift=0.155, gross_margin=0.35, cost_per_point=0.025, redemption_rate=0.7
            )
            expected = widgets.roi_text(roi.summary(data, moved, 0.08), "EUR")
            page.wait_for_function(
                "t => document.querySelector('.whatif-roi').innerText.trim() === t",
                arg=expected,
                timeout=30_000,
            )
            assert headline.inner_text().strip() == expected != start
            assert re.search(r"ROI: [+-]\d+\.\d%", expected)
            page.screenshot(path=str(ARTIFACTS / "whatif_explorer.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "whatif_explorer.png").stat().st_size > 10_000
    shutil.rmtree(ARTIFACTS / "unused", ignore_errors=True)
