import pytest

from loyalty_roi import config, months, paths
from loyalty_roi.errors import ConfigError


def test_default_config_loads_and_paths_come_from_the_package(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    cfg = config.load_config()
    assert cfg.currency == "EUR"
    assert cfg.data.source == "demo"
    assert cfg.data.processed_path == paths.PROJ_ROOT / "data" / "processed"
    assert set(cfg.scenarios.named()) == {"conservative", "base", "optimistic"}
    assert cfg.kpi.targets["retention_rate"].change == pytest.approx(
        0.05
    )  # +20 % on 85 % would pass 100 %


def test_overrides_replace_single_values():
    cfg = config.load_config(overrides={"finance.gross_margin": 0.3, "currency": "DKK"})
    assert cfg.finance.gross_margin == 0.3
    assert cfg.currency == "DKK"


def test_notebook_parameters_override_only_when_set():
    cfg = config.notebook_config(
        "config/workbook.yml", gross_margin=None, currency=None, demo_customers=500
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


def test_every_analysis_tunable_is_in_the_shipped_config_with_a_comment():
    import yaml

    text = (paths.PROJ_ROOT / "config" / "workbook.yml").read_text(encoding="utf-8")
    shipped = yaml.safe_load(text)["analysis"]
    assert set(shipped) == set(config.AnalysisConfig.model_fields)
    assert config.AnalysisConfig(**shipped) == config.AnalysisConfig()  # the model's defaults
    for name in shipped:
        (line,) = [ln for ln in text.splitlines() if ln.strip().startswith(f"{name}:")]
        assert "#" in line, f"{name} has no comment in workbook.yml"


def test_notebook_parameters_default_to_the_config_not_to_sentinels():
    import ast

    import nbformat

    for path in sorted(paths.NOTEBOOKS_DIR.glob("0[1-5]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        for node in ast.parse(cell.source).body:
            if not isinstance(node, ast.AnnAssign):
                continue
            name, default = node.target.id, ast.literal_eval(node.value)
            if name in ("config_path", "month"):
                continue  # the run's own: the config file and the month
            assert default is None, f"{path.name}: {name} = {default!r} is not None"
            if name == "run_date":
                continue  # None: today
            assert name in config.NOTEBOOK_PARAMS, f"{path.name}: {name} maps to no config key"


def test_an_analysis_tunable_comes_from_the_config_file_and_a_parameter_overrides_it(tmp_path):
    cfg_file = tmp_path / "mine.yml"
    cfg_file.write_text("analysis:\n  pre_months: 9\n  match_window: 2\n", encoding="utf-8")
    cfg = config.notebook_config(str(cfg_file), pre_months=None, match_window=None)
    assert (cfg.analysis.pre_months, cfg.analysis.match_window) == (9, 2)
    cfg = config.notebook_config(str(cfg_file), pre_months=4, match_window=0)
    assert (cfg.analysis.pre_months, cfg.analysis.match_window) == (
        4,
        0,
    )  # 0 is a value, not "unset"
    with pytest.raises(ConfigError, match="k_max"):
        config.notebook_config(str(cfg_file), k_min=5, k_max=3)
