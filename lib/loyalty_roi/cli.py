"""Command line: ``loyalty-roi report`` and ``loyalty-roi validate``.

A report is built in a staging folder beside ``reports/`` and moved into
``reports/YYYY-MM/`` only when every notebook succeeded, so a failed run
never replaces the last good report.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from .config import REPORTS_DIR, load_config, resolve_path
from .errors import WorkbookError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Loyalty ROI Workbook: ingest, validate and report.",
)

NOTEBOOKS = [
    "01_ingest_data.ipynb",
    "02_segment_customers.ipynb",
    "03_calculate_kpis.ipynb",
    "04_analyse_roi_scenarios.ipynb",
]
ConfigOpt = Annotated[Path, typer.Option(help="Workbook configuration file.")]
DEFAULT_CONFIG_ARG = Path("config/workbook.yml")


def _fail(msg: str, code: int = 1) -> None:
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def resolve_month(month: str, cfg) -> str:
    """``latest`` → the last complete month of the data; otherwise validate ``YYYY-MM``."""
    if month == "latest":
        if cfg.data.source == "demo":
            return cfg.demo.resolved_end_month()
        from .config import last_complete_month

        return last_complete_month()
    try:
        dt.datetime.strptime(month, "%Y-%m")
    except ValueError:
        _fail(f"--month '{month}' is not YYYY-MM (e.g. 2026-10)", 2)
    return month


@app.command()
def report(
    month: Annotated[
        str, typer.Option(help="Reporting month YYYY-MM, or 'latest' complete month.")
    ] = "latest",
    config: ConfigOpt = DEFAULT_CONFIG_ARG,
    out: Annotated[
        Path, typer.Option(help="Folder that receives the YYYY-MM report folder.")
    ] = REPORTS_DIR,
    timeout: Annotated[
        int, typer.Option(help="Execution timeout per notebook cell, seconds.")
    ] = 900,
) -> None:
    """Run the workbook notebooks for one month and publish reports/YYYY-MM/."""
    from papermill.exceptions import PapermillExecutionError

    from .runner import notebook_path, run_notebook

    try:
        cfg = load_config(config)
    except WorkbookError as exc:
        _fail(str(exc), 2)
    month = resolve_month(month, cfg)
    out = resolve_path(out)
    out.mkdir(parents=True, exist_ok=True)
    from .runlock import LockedError, RunLock

    try:
        lock = RunLock(out, month).acquire()
    except LockedError as exc:
        _fail(str(exc), 3)
    if lock.stale_removed:
        typer.echo(
            f"[{month}] a killed run (pid {lock.stale_removed.get('pid')}) left a stale lock: taken over"
        )
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{month}-", dir=out))
    started = dt.datetime.now()
    timings = []
    try:
        for nb in NOTEBOOKS:
            typer.echo(f"[{month}] running {nb} …")
            params = {"config_path": str(resolve_path(config))}
            if nb != "01_ingest_data.ipynb":
                params["month"] = month
            t0 = time.perf_counter()
            try:
                run_notebook(notebook_path(nb), staging / nb, params, timeout=timeout)
            except PapermillExecutionError as exc:
                failed = out / month / "_failed" / dt.datetime.now().strftime("%Y%m%dT%H%M%S")
                failed.mkdir(parents=True, exist_ok=True)
                shutil.copy2(staging / nb, failed / nb)
                (failed / "error.txt").write_text(
                    f"{nb}: cell {exc.cell_index}: {exc.ename}: {exc.evalue}\n"
                )
                _fail(
                    f"{nb} failed in cell {exc.cell_index}: {exc.ename}: "
                    f"{exc.evalue.splitlines()[0] if exc.evalue else ''}"
                )
            timings.append(
                {"notebook": nb, "seconds": round(time.perf_counter() - t0, 1), "status": "ok"}
            )
        _build_report_files(staging, month, cfg, config, timings, started)
        _publish(staging, out / month)
        typer.secho(f"report written to {out / month}", fg=typer.colors.GREEN)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        lock.release()


def _build_report_files(
    staging: Path, month: str, cfg, config: Path, timings: list, started
) -> None:
    """HTML without code per notebook, figures, tables (CSV + XLSX), index page and manifest."""
    from . import report

    processed = cfg.data.processed_path
    figures = []
    for nb in NOTEBOOKS:
        report.notebook_to_html(staging / nb, staging / f"{Path(nb).stem}.html")
        figures += report.extract_figures(staging / nb, staging / "figures")
    for name in ("quality_report.csv", "quality_report.json"):
        if (processed / name).exists():
            shutil.copy2(processed / name, staging / name)
    report.export_tables(processed, staging, cfg.currency)
    key = [f for f in figures if f.name.startswith("04_")][:1] or figures[:1]
    report.index_page(staging, month, processed, NOTEBOOKS, key, cfg.currency)
    report.write_manifest(
        staging,
        {"month": month, "config": str(config)},
        resolve_path(config),
        processed,
        timings,
        started,
    )


def _publish(staging: Path, target: Path) -> None:
    """Swap ``staging`` into ``target``; the previous report is removed only after the swap."""
    keep_failed = target / "_failed"
    if keep_failed.exists():
        shutil.move(str(keep_failed), staging / "_failed")
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@app.command()
def validate(config: ConfigOpt = DEFAULT_CONFIG_ARG) -> None:
    """Ingest and validate only; print the data-quality summary."""
    from .ingest import ingest_from_config, issues_frame

    try:
        cfg = load_config(config)
        result = ingest_from_config(cfg)
    except WorkbookError as exc:
        _fail(str(exc), 2)
    typer.echo(result.summary())
    issues = issues_frame(result.issues)
    if len(issues):
        typer.echo("\nQuarantined rows:")
        typer.echo(issues.to_string(index=False))


if __name__ == "__main__":  # pragma: no cover
    app()
