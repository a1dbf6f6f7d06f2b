"""Command line: ``loyalty-roi report``, ``reports`` (backfill), ``validate`` and ``draft-mapping``.

The report commands check the configuration, the folders and any ``-p NAME=VALUE``
override, take the processed-data lock and hand the work to
:class:`~loyalty_roi.reportrun.ReportRun`.  Every failure the user can fix is one
line and exit code 2; a lock held by a live run is exit code 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .config import load_config
from .errors import WorkbookError
from .paths import DEFAULT_CONFIG, PROJ_ROOT, REPORTS_DIR, resolve_path
from .publish import LockedError, hand_down_locks, processed_lock, remove_stale_staging
from .reportrun import ReportRun, parse_overrides
from .reportrun import fail as _fail
from .runner import DEFAULT_TIMEOUT
from .safety import check_folders, protect

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Loyalty ROI Workbook: ingest, validate and report.",
)

ConfigOpt = Annotated[Path, typer.Option(help="Workbook configuration file.")]
DEFAULT_CONFIG_ARG = DEFAULT_CONFIG.relative_to(PROJ_ROOT)  # shown short in --help


def _check_month(month: str) -> str:
    """The config's month rule, as a one-line CLI error (exit 2)."""
    from .months import check

    try:
        return check(month)
    except ValueError as exc:
        _fail(str(exc), 2)


def _run(
    months: list[str] | None,
    config: Path,
    out: Path,
    timeout: int,
    notebooks,
    param: list[str] | None = None,
) -> None:
    try:
        cfg = load_config(config)
        overrides = parse_overrides(param, notebooks)
    except WorkbookError as exc:
        _fail(str(exc), 2)
    out = resolve_path(out)
    try:
        check_folders(
            {
                "data.raw_dir": cfg.data.raw_path,
                "data.processed_dir": cfg.data.processed_path,
                "report folder (--out)": out,
            }
        )
    except WorkbookError as exc:
        _fail(str(exc), 2)
    protect(cfg.data.raw_path)
    out.mkdir(parents=True, exist_ok=True)
    processed = cfg.data.processed_path
    try:  # every run of a configuration rewrites data/processed: one at a time
        data_lock = processed_lock(processed).acquire()
    except LockedError as exc:
        _fail(str(exc), 3)
    hand_down_locks()  # notebook 01's ingest runs under this run's lock
    for d in remove_stale_staging(out):
        typer.echo(f"removed the staging folder {d.name} of a killed run")
    run = ReportRun(cfg, config, out, timeout, notebooks, overrides)
    try:
        done = run.execute(months)
    finally:
        run.close()
        data_lock.release()
    for month in done:
        typer.secho(f"report written to {out / month}", fg=typer.colors.GREEN)


TimeoutOpt = Annotated[int, typer.Option(help="Execution timeout per notebook cell, seconds.")]
OutOpt = Annotated[Path, typer.Option(help="Folder that receives the YYYY-MM report folders.")]
ParamOpt = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional on Python 3.11
    typer.Option(
        "--param",
        "-p",
        help="Override one notebook parameter, NAME=VALUE (repeatable), e.g. -p pre_months=9; "
        "`papermill --help-notebook notebooks/NN_*.ipynb` lists them.",
    ),
]
NotebooksOpt = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional on Python 3.11
    typer.Option(help="Folder with (a customised copy of) the workbook notebooks."),
]


@app.command()
def report(
    month: Annotated[
        str,
        typer.Option(help="Reporting month YYYY-MM; default: latest complete month in the data."),
    ] = "latest",
    config: ConfigOpt = DEFAULT_CONFIG_ARG,
    out: OutOpt = REPORTS_DIR,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT,
    notebooks: NotebooksOpt = None,
    param: ParamOpt = None,
) -> None:
    """Run notebooks 01–04 for one month and publish reports/YYYY-MM/."""
    months = None if month in ("latest", "") else [_check_month(month)]
    _run(months, config, out, timeout, notebooks, param)


@app.command()
def reports(
    from_: Annotated[str, typer.Option("--from", help="First month YYYY-MM.")],
    to: Annotated[str, typer.Option("--to", help="Last month YYYY-MM (inclusive).")],
    config: ConfigOpt = DEFAULT_CONFIG_ARG,
    out: OutOpt = REPORTS_DIR,
    timeout: TimeoutOpt = DEFAULT_TIMEOUT,
    notebooks: NotebooksOpt = None,
    param: ParamOpt = None,
) -> None:
    """Backfill reports/YYYY-MM/ for a range of months; the data is ingested once."""
    import pandas as pd

    lo, hi = pd.Period(_check_month(from_), "M"), pd.Period(_check_month(to), "M")
    if hi < lo:
        _fail(f"--to {to} is before --from {from_}", 2)
    _run(
        [str(p) for p in pd.period_range(lo, hi, freq="M")], config, out, timeout, notebooks, param
    )


@app.command()
def validate(
    config: ConfigOpt = DEFAULT_CONFIG_ARG,
    out: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option(help="Write the canonical tables, quarantine and quality report here."),
    ] = None,
) -> None:
    """Read and check the exports; print the data-quality summary.  Writes nothing unless --out."""
    from .ingest import ingest_from_config, issues_frame

    try:
        cfg = load_config(config)
        if out is not None:
            check_folders({"data.raw_dir": cfg.data.raw_path, "--out": resolve_path(out)})
        result = ingest_from_config(cfg, out_dir=resolve_path(out) if out else None)
    except LockedError as exc:
        _fail(str(exc), 3)
    except WorkbookError as exc:
        _fail(str(exc), 2)
    typer.echo(result.summary())
    for note in result.quality.get("assumptions", []):
        for line in note or []:
            typer.echo(f"  note: {line}")
    issues = issues_frame(result.issues)
    if len(issues):
        typer.echo("\nQuarantined rows:")
        typer.echo(issues.to_string(index=False))


@app.command("draft-mapping")
def draft_mapping_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder with the exports (read only).")],
    out: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option(help="Write the draft here (outside the export folder); default: print it."),
    ] = None,
) -> None:
    """Draft a commented mapping file for a folder of exports (then read it and `validate`)."""
    from . import safety
    from .draft import draft_mapping

    folder = resolve_path(folder)
    if not folder.is_dir():
        _fail(f"{folder} is not a folder — fix: give the folder that holds the export files", 2)
    try:
        safety.protect(folder)  # the exports are never written, the draft goes elsewhere
        text = draft_mapping(folder)
        if out is None:
            typer.echo(text, nl=False)
            return
        safety.atomic_write_text(text, resolve_path(out))
    except WorkbookError as exc:
        _fail(str(exc), 2)
    typer.echo(f"draft mapping written to {out} — read the TODO lines, then run validate")


if __name__ == "__main__":  # pragma: no cover
    app()
