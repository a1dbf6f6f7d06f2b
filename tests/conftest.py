"""Shared fixtures: a small synthetic program written as raw exports."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from loyalty_roi import synth

RUN_DATE = dt.date(2026, 11, 22)
END_MONTH = "2026-10"
SALT = "test-salt"


@pytest.fixture(scope="session")
def small_synth():
    """A small program: 400 customers over 12 months (fast, same every run)."""
    return synth.generate(n_customers=400, months=12, end_month=END_MONTH, seed=3)


@pytest.fixture(scope="session")
def small_raw_master(small_synth, tmp_path_factory):
    d = tmp_path_factory.mktemp("raw_master")
    synth.write_raw(small_synth, d)
    return d


@pytest.fixture
def small_raw(small_raw_master, tmp_path):
    """A private copy of the small raw exports that a test may modify."""
    d = tmp_path / "raw"
    shutil.copytree(small_raw_master, d)
    return d
