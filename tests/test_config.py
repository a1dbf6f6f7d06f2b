import pytest

from loyalty_roi import config, months
from loyalty_roi.errors import ConfigError


def test_default_config_loads_and_paths_come_from_the_package(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    cfg = config.load_config()
    assert cfg.currency == "EUR"
    assert cfg.data.source == "demo"
    assert cfg.data.processed_path == config.PROJ_ROOT / "data" / "processed"
    assert set(cfg.scenarios.named()) == {"conservative", "base", "optimistic"}
    assert cfg.kpi.targets["retention_rate"].change == pytest.approx(0.20)


def test_overrides_replace_single_values():
    cfg = config.load_config(overrides={"finance.gross_margin": 0.3, "currency": "DKK"})
    assert cfg.finance.gross_margin == 0.3
    assert cfg.currency == "DKK"


def test_notebook_parameters_override_only_when_set():
    cfg = config.notebook_config(
        "config/workbook.yml", gross_margin=0.0, currency="", demo_customers=500
    )
    assert cfg.finance.gross_margin == config.load_config().finance.gross_margin
    assert cfg.currency == "EUR"
    assert cfg.demo.customers == 500
    with pytest.raises(ConfigError, match="unknown notebook parameter 'margin'"):
        config.notebook_config(margin=0.3)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"currency": "euro"}, "currency"),
        ({"finance.gross_margin": 1.5}, "finance.gross_margin"),
        ({"data.source": "ftp"}, "data.source"),
        ({"demo.end_month": "2026-13"}, "demo.end_month"),
    ],
)
def test_invalid_values_name_the_key_and_the_fix(override, message):
    with pytest.raises(ConfigError) as exc:
        config.load_config(overrides=override)
    assert message in str(exc.value) and "fix:" in str(exc.value)


def test_missing_config_file_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="does not exist — fix"):
        config.load_config(tmp_path / "nope.yml")


def test_last_complete_month():
    import datetime as dt

    assert months.last_calendar_month(dt.date(2026, 11, 22)) == "2026-10"
    assert months.last_calendar_month(dt.date(2026, 1, 1)) == "2025-12"
