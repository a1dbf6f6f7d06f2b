"""The typed workbook configuration.

Relative paths in it are taken from the project root (:mod:`loyalty_roi.paths`),
never from the working directory.  ``load_config`` reads ``config/workbook.yml`` into a validated
:class:`WorkbookConfig`; papermill parameters override single values through
``overrides`` with dotted keys (``{"finance.gross_margin": 0.3}``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import secrets
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError
from .months import check as check_month
from .months import last_calendar_month
from .paths import DATA_DIR, DEFAULT_CONFIG, PROJ_ROOT, resolve_path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    """Where the data comes from and the ingest's rules (``data:``)."""

    source: Literal["demo", "files", "database"] = "demo"
    raw_dir: str = "data/raw/demo"
    # source: database — the environment variable holding the connection URL
    # (postgresql://user:password@host:port/db); the URL itself never goes in a file
    database_url_env: str = "LOYALTY_ROI_DATABASE_URL"
    mapping: str = "data/raw/demo/mapping.yml"
    processed_dir: str = "data/processed"
    max_reject_share: float = Field(0.05, ge=0, le=1)
    future_tolerance_days: int = Field(1, ge=0)
    # dates before this are placeholders (1900-01-01, 1970-01-01), not facts
    earliest_date: dt.date = dt.date(1990, 1, 1)

    @property
    def raw_path(self) -> Path:
        """The raw folder, absolute."""
        return resolve_path(self.raw_dir)

    @property
    def mapping_path(self) -> Path:
        """The mapping file, absolute."""
        return resolve_path(self.mapping)

    @property
    def processed_path(self) -> Path:
        """The processed folder, absolute."""
        return resolve_path(self.processed_dir)


class DemoConfig(_Strict):
    """The synthetic program generated when ``data.source`` is ``demo`` (``demo:``)."""

    customers: int = Field(20_000, ge=50)
    months: int = Field(24, ge=6, le=120)
    end_month: str = "latest"
    seed: int = 42
    # how the synthetic members sign up (loyalty_roi.synth.ENROLLMENT_MECHANISMS)
    enrollment: Literal[
        "independent",
        "while_buying",
        "till",
        "launch_wave",
        "promotion",
        "spending_high",
        "big_basket",
        "seasonal_drive",
    ] = "till"

    @field_validator("end_month")
    @classmethod
    def _month(cls, v: str) -> str:
        return v if v == "latest" else check_month(v)

    def resolved_end_month(self) -> str:
        """The demo's last month as ``YYYY-MM`` (``latest``: the last calendar month that ended)."""
        return last_calendar_month() if self.end_month == "latest" else self.end_month


class FinanceConfig(_Strict):
    """Margin, point cost, discount rate and running costs (``finance:``)."""

    gross_margin: float = Field(0.35, gt=0, lt=1)
    cost_per_point: float = Field(0.025, gt=0)
    discount_rate: float = Field(0.08, ge=0, lt=1)
    clv_horizon_months: int = Field(24, ge=1, le=240)
    # running costs per month, used when no program_costs table is provided
    monthly_costs: dict[str, float] = Field(
        default_factory=lambda: {"platform": 4500.0, "staff": 3000.0, "marketing": 1000.0}
    )


class KpiTarget(_Strict):
    """A SMART target: the change from the baseline month's value, to reach by ``by``."""

    baseline_month: str
    change: float
    by: str

    @field_validator("baseline_month", "by", mode="before")
    @classmethod
    def _month(cls, v: Any) -> str:
        if isinstance(v, dt.date):  # YAML may parse 2025-10-01 as a date
            v = f"{v.year:04d}-{v.month:02d}"
        return check_month(str(v))


class KpiConfig(_Strict):
    """The status rule and the KPI targets (``kpi:``)."""

    on_track_share: float = Field(0.9, gt=0, le=1)
    at_risk_share: float = Field(0.5, ge=0, le=1)
    targets: dict[str, KpiTarget] = Field(default_factory=dict)


class Scenario(_Strict):
    """One named ROI scenario: factors and overrides of the base drivers."""

    lift_factor: float = Field(1.0, ge=0)
    gross_margin: float | None = Field(None, gt=0, lt=1)
    redemption_rate: float | None = Field(None, ge=0, le=1)
    cost_factor: float = Field(1.0, gt=0)
    extrapolation: float | None = Field(None, ge=0, le=1)


# drivers the tornado and the Monte Carlo can vary (roi.monte_carlo)
RANGE_DRIVERS = (
    "gross_margin",
    "redemption_rate",
    "cost_factor",
    "cost_per_point",
    "extrapolation",
)


class ScenarioConfig(BaseModel):
    """Named scenarios, sensitivity share, Monte Carlo draws and ranges (``scenarios:``)."""

    model_config = ConfigDict(extra="allow")
    sensitivity_share: float = Field(0.2, gt=0, lt=1)
    monte_carlo_draws: int = Field(20_000, ge=10_000)
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> ScenarioConfig:
        # every extra key is a named scenario: check them now, not in notebook 04
        problems = []
        for name, v in (self.model_extra or {}).items():
            if not isinstance(v, dict):
                close = difflib.get_close_matches(name, list(ScenarioConfig.model_fields), n=1)
                hint = f" — did you mean '{close[0]}'?" if close else ""
                problems.append(
                    f"'{name}' is not a setting of this section, and as a named scenario it must "
                    f"be a mapping such as {{lift_factor: 1.0}}{hint}"
                )
                continue
            try:
                Scenario.model_validate(v)
            except ValidationError as exc:
                for e in exc.errors():
                    key = ".".join(str(x) for x in e["loc"])
                    fields = ", ".join(Scenario.model_fields)
                    problems.append(
                        f"scenario '{name}', {key}: {e['msg']} (got {e.get('input')!r}; "
                        f"a scenario takes {fields})"
                    )
        for driver, (lo, hi) in self.ranges.items():
            if driver not in RANGE_DRIVERS:
                problems.append(
                    f"ranges.{driver}: unknown driver — use one of {', '.join(RANGE_DRIVERS)}"
                )
            elif not lo <= hi:
                problems.append(f"ranges.{driver}: low {lo} is above high {hi}")
            elif driver in ("gross_margin", "redemption_rate", "extrapolation") and not (
                0 <= lo and hi <= 1
            ):
                problems.append(f"ranges.{driver}: a share must lie between 0 and 1")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def named(self) -> dict[str, Scenario]:
        """The named scenarios (every extra key of the section), validated."""
        extra = self.model_extra or {}
        return {name: Scenario.model_validate(v) for name, v in extra.items()}


class AnalysisConfig(_Strict):
    """The analysis tunables of notebooks 02–04; each is also a notebook parameter."""

    # 02 · segments
    rfm_cuts: list[float] = Field(default_factory=lambda: [0.2, 0.4, 0.6, 0.8])
    k_min: int = Field(2, ge=2)
    k_max: int = Field(8, ge=2)
    top_n: int = Field(15, ge=1)
    # 03 · KPIs
    retention_window: int = Field(3, ge=1, le=12)
    trend_months: int = Field(13, ge=2)
    holdout_months: int = Field(6, ge=1)
    # 04 · ROI
    pre_months: int = Field(6, ge=1)
    post_months: int = Field(6, ge=1)
    match_window: int = Field(3, ge=0)
    n_boot: int = Field(400, ge=1)
    pnl_months: int = Field(12, ge=1)
    retention_change: float = Field(0.05, gt=0, lt=1)

    @field_validator("rfm_cuts")
    @classmethod
    def _cuts(cls, v: list[float]) -> list[float]:
        if not v or any(not 0 < c < 1 for c in v) or sorted(set(v)) != list(v):
            raise ValueError(
                "rfm_cuts are increasing quantiles between 0 and 1, e.g. [0.2, 0.4, 0.6, 0.8]"
            )
        return v

    @model_validator(mode="after")
    def _k_range(self) -> AnalysisConfig:
        if self.k_max < self.k_min:
            raise ValueError(f"k_max ({self.k_max}) is below k_min ({self.k_min})")
        return self


class PrivacyConfig(_Strict):
    """Where the pseudonym salt comes from (``privacy:``)."""

    salt_env: str = "LOYALTY_ROI_SALT"


class EngineConfig(_Strict):
    """Where and how the engine runs (see the ``engine`` section of ``workbook.yml``)."""

    backend: Literal["duckdb", "pyspark"] = "duckdb"
    # DuckDB: a memory limit in DuckDB's syntax ("4GB"); empty = memory_share of this machine's RAM
    memory_limit: str | None = None
    memory_share: float = Field(0.05, gt=0, le=0.9)
    spill_dir: str | None = None  # where DuckDB spills past its limit; empty = the system temp dir
    threads: int | None = Field(None, ge=1)
    # PySpark: a master URL (local[2], spark://host:7077) or a Spark Connect URL (sc://host:15002)
    master: str = "local[2]"
    spark_connect: str | None = None
    spark_conf: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self):
        if self.memory_limit is not None and not re.fullmatch(
            r"\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", self.memory_limit
        ):
            raise ValueError(
                f"engine.memory_limit '{self.memory_limit}' is not a size: write e.g. 4GB or 512MB"
            )
        if self.spark_connect is not None and not self.spark_connect.startswith("sc://"):
            raise ValueError(
                f"engine.spark_connect '{self.spark_connect}' must start with sc:// (e.g. sc://host:15002)"
            )
        return self


class WorkbookConfig(_Strict):
    """The whole validated configuration (``config/workbook.yml``)."""

    data: DataConfig = Field(default_factory=DataConfig)
    demo: DemoConfig = Field(default_factory=DemoConfig)
    currency: str = "EUR"
    finance: FinanceConfig = Field(default_factory=FinanceConfig)
    kpi: KpiConfig = Field(default_factory=KpiConfig)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    scenarios: ScenarioConfig = Field(default_factory=ScenarioConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    source_file: str | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        from babel.numbers import list_currencies

        if v not in list_currencies():
            raise ValueError(f"'{v}' is not an ISO 4217 currency code such as EUR, DKK, SEK, NOK")
        return v

    @model_validator(mode="after")
    def _check_folders_and_targets(self) -> WorkbookConfig:
        from .safety import check_folders

        try:
            check_folders(
                {"data.raw_dir": self.data.raw_path, "data.processed_dir": self.data.processed_path}
            )
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        if self.kpi.targets:
            from .kpis import CATALOGUE

            known = [k.key for k in CATALOGUE]
            for key in self.kpi.targets:
                if key not in known:
                    close = difflib.get_close_matches(key, known, n=1)
                    hint = (
                        f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(known)}"
                    )
                    raise ValueError(f"kpi.targets.{key}: not a KPI of the catalogue — {hint}")
        return self

    def salt(self) -> str:
        """The pseudonymisation salt: from the environment, else a stable local file."""
        env = os.environ.get(self.privacy.salt_env)
        if env:
            return env
        salt_file = DATA_DIR / ".salt"
        if not salt_file.exists():
            salt_file.parent.mkdir(parents=True, exist_ok=True)
            salt_file.write_text(secrets.token_hex(16))
        return salt_file.read_text().strip()


def _set_dotted(d: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    cur = d
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
        if not isinstance(cur, dict):
            raise ConfigError(f"override '{key}': '{p}' is not a section of the config")
    cur[parts[-1]] = value


def notebook_config(config_path: str = "", **params: Any) -> WorkbookConfig:
    """Config for a notebook run: the file, overridden by the notebook parameters that are set.

    ``params`` use the notebook's names; each maps to a config key by
    :data:`NOTEBOOK_PARAMS`.  ``None`` means "as in the config"; any other
    value, ``0`` and ``""`` included, overrides it.
    """
    overrides = {}
    for name, value in params.items():
        if name not in NOTEBOOK_PARAMS:
            raise ConfigError(
                f"unknown notebook parameter '{name}' — known: {', '.join(NOTEBOOK_PARAMS)}"
            )
        if value is None:
            continue
        overrides[NOTEBOOK_PARAMS[name]] = value
    return load_config(config_path or None, overrides)


# notebook parameter name -> dotted config key
NOTEBOOK_PARAMS = {
    "source": "data.source",
    "raw_dir": "data.raw_dir",
    "mapping": "data.mapping",
    "processed_dir": "data.processed_dir",
    "demo_customers": "demo.customers",
    "demo_months": "demo.months",
    "demo_end_month": "demo.end_month",
    "demo_seed": "demo.seed",
    "currency": "currency",
    "gross_margin": "finance.gross_margin",
    "cost_per_point": "finance.cost_per_point",
    "discount_rate": "finance.discount_rate",
    "backend": "engine.backend",
    "rfm_cuts": "analysis.rfm_cuts",
    "k_min": "analysis.k_min",
    "k_max": "analysis.k_max",
    "top_n": "analysis.top_n",
    "retention_window": "analysis.retention_window",
    "trend_months": "analysis.trend_months",
    "holdout_months": "analysis.holdout_months",
    "pre_months": "analysis.pre_months",
    "post_months": "analysis.post_months",
    "match_window": "analysis.match_window",
    "n_boot": "analysis.n_boot",
    "pnl_months": "analysis.pnl_months",
    "retention_change": "analysis.retention_change",
}


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> WorkbookConfig:
    """Load and validate the workbook configuration.

    Parameters
    ----------
    path
        YAML file; default ``$LOYALTY_ROI_CONFIG`` if set, else ``config/workbook.yml`` in the project.
    overrides
        Dotted keys to replace, e.g. ``{"finance.gross_margin": 0.3}``; values of
        ``None`` are ignored so notebook parameters can default to "use the config".

    Raises
    ------
    ConfigError
        With the file, the offending key and how to fix it.
    """
    env = os.environ.get("LOYALTY_ROI_CONFIG")
    cfg_path = resolve_path(path) if path else (resolve_path(env) if env else DEFAULT_CONFIG)
    if not cfg_path.exists():
        raise ConfigError(
            f"config file {cfg_path} does not exist — fix: pass an existing file, "
            f"or copy {DEFAULT_CONFIG.relative_to(PROJ_ROOT)} and edit it"
        )
    try:
        raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{cfg_path}: not valid YAML ({exc}) — fix the syntax") from None
    for key, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(raw, key, value)
    raw["source_file"] = str(cfg_path)
    try:
        return WorkbookConfig.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
            got = e.get("input")
            shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"  {loc}: {msg}{shown}")
        raise ConfigError(
            f"{cfg_path}: invalid configuration\n"
            + "\n".join(lines)
            + "\nfix: correct these keys (see the comments in config/workbook.yml)"
        ) from None
