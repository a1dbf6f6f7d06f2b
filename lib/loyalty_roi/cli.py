"""Command line: ``loyalty-roi report``, ``loyalty-roi reports`` (backfill) and ``loyalty-roi validate``.

A run ingests once (notebook 01), then runs notebooks 02–04 for each month
in a staging folder beside ``reports/`` and swaps it into ``reports/YYYY-MM/``
only when every notebook succeeded, so a failed or killed run never replaces
or half-writes the last good report.  Progress goes to the terminal (a bar over
notebooks and one over cells, with elapsed time) and to ``run.log`` in the
report folder.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated, Optional

import nbformat
import typer

from .config import REPORTS_DIR, load_config, resolve_path
from .errors import WorkbookError
from .publish import (
    LockedError,
    RunLock,
    hand_down_locks,
    processed_lock,
    publish,
    remove_stale_staging,
    staging_prefix,
)
from .safety import check_folders, protect

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
# errors raised on purpose for bad data or configuration: exit code 2, the whole message
DATA_ERRORS = ("DataError", "ConfigError")
DEFAULT_CONFIG_ARG = Path("config/workbook.yml")


def _fail(msg: str, code: int = 1) -> None:
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _check_month(month: str) -> str:
    """The config's month rule, as a one-line CLI error (exit 2)."""
    from .config import _check_month as check

    try:
        return check(month)
    except ValueError as exc:
        _fail(str(exc), 2)


def _cell_seconds(nb_path: Path) -> float:
    """Sum of the cells' execution times papermill recorded in an executed notebook."""
    nb = nbformat.read(nb_path, as_version=4)
    return sum(float(c.metadata.get("papermill", {}).get("duration") or 0) for c in nb.cells)


class ReportRun:
    """One invocation: ingest once, then notebooks 02–04 and the report files per month."""

    def __init__(self, cfg, config: Path, out: Path, timeout: int, notebooks: Path | None):
        self.cfg, self.config, self.out, self.timeout = cfg, config, out, timeout
        self.notebooks = notebooks
        self.staging = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=out))
        self.log_path = self.staging / "run.log"
        self.log = logging.getLogger("loyalty_roi.report")
        self._handler = logging.FileHandler(self.log_path, encoding="utf-8")
        self._handler.setFormatter(
            logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
        )
        for name in ("loyalty_roi.report", "papermill"):
            lg = logging.getLogger(name)
            lg.setLevel(logging.INFO)
            lg.addHandler(self._handler)
        self.bar = None
        from .runner import KernelSession

        self.session = KernelSession()

    def close(self) -> None:
        self.session.close()
        for name in ("loyalty_roi.report", "papermill"):
            logging.getLogger(name).removeHandler(self._handler)
        self._handler.close()
        if self.bar is not None:
            self.bar.close()
        shutil.rmtree(self.staging, ignore_errors=True)

    def say(self, msg: str) -> None:
        self.log.info(msg)
        (self.bar.write if self.bar is not None else typer.echo)(msg)

    def notebook(self, nb: str, dest: Path, params: dict, month: str) -> dict:
        """Run one notebook into ``dest``; on failure record it under ``_failed/`` and exit 1.

        Every notebook of the run executes in the run's one kernel (reset in between,
        see :class:`~loyalty_roi.runner.KernelSession`): start-up and imports are paid once.
        """
        from papermill.exceptions import PapermillExecutionError

        from .runner import notebook_path, run_notebook

        src = (self.notebooks / nb) if self.notebooks else notebook_path(nb)
        self.say(f"[{month}] {nb} …")
        if self.bar is not None:
            self.bar.set_description(f"{month} {Path(nb).stem}")
        t0 = time.perf_counter()
        try:
            run_notebook(
                src,
                dest / nb,
                params,
                timeout=self.timeout,
                log_output=True,
                session=self.session,
                progress_bar={"desc": f"  cells of {nb}", "leave": False, "position": 1},
            )
        except PapermillExecutionError as exc:
            data_problem = exc.ename in DATA_ERRORS
            first = exc.evalue.splitlines()[0] if exc.evalue else ""
            shown = exc.evalue if data_problem else first
            self._failed(
                nb,
                dest,
                month,
                f"{nb} failed at cell In [{exc.exec_count}]: {exc.ename}: {shown}",
                f"{nb}: cell In [{exc.exec_count}]: {exc.ename}: {exc.evalue}",
                2 if data_problem else 1,
            )
        except Exception as exc:  # the kernel or its messaging broke: one line, never a traceback
            first = str(exc).splitlines()[0] if str(exc) else ""
            reason = (
                f"{nb} could not be run (the notebook kernel failed): {type(exc).__name__}: {first}"
            )
            self._failed(nb, dest, month, reason, reason, 1)
        wall = time.perf_counter() - t0
        cells = _cell_seconds(dest / nb)
        if self.bar is not None:
            self.bar.update(1)
        self.say(f"[{month}] {nb} done in {wall:.1f} s")
        return {
            "notebook": nb,
            "seconds": round(wall, 2),
            "cells_seconds": round(cells, 2),
            "startup_seconds": round(max(wall - cells, 0.0), 2),
            "status": "ok",
        }

    def _failed(self, nb: str, dest: Path, month: str, reason: str, detail: str, code: int):
        """Keep the failed notebook, the error and the log under ``_failed/``; exit with ``code``."""
        self.log.error(reason)
        failed = self.out / month / "_failed" / dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        failed.mkdir(parents=True, exist_ok=True)
        if (dest / nb).exists():
            shutil.copy2(dest / nb, failed / nb)
        (failed / "error.txt").write_text(detail + "\n", encoding="utf-8")
        self._handler.flush()
        shutil.copy2(self.log_path, failed / "run.log")
        if self.bar is not None:  # the reason goes on a line of its own, after the bar
            self.bar.close()
            self.bar = None
        _fail(f"{reason}\n(details: {failed})", code)

    def execute(self, months: list[str] | None) -> list[str]:
        """Ingest, resolve ``months`` (``None`` = latest complete month) and publish each month."""
        from tqdm.auto import tqdm

        locks = [self._lock(m) for m in months] if months else []
        try:
            cfg_path = str(resolve_path(self.config))
            ingest_dir = self.staging / "ingest"
            ingest_dir.mkdir()
            total = 1 + 3 * (len(months) if months else 1)
            self.bar = tqdm(total=total, unit="notebook", desc="report", position=0)
            started = dt.datetime.now()
            label = months[0] if months and len(months) == 1 else "ingest"
            t_ingest = self.notebook(NOTEBOOKS[0], ingest_dir, {"config_path": cfg_path}, label)
            from .report import notebook_to_html

            t0 = time.perf_counter()  # converted once, shared by every month of a backfill
            notebook_to_html(
                ingest_dir / NOTEBOOKS[0], ingest_dir / f"{Path(NOTEBOOKS[0]).stem}.html"
            )
            t_ingest["html_seconds"] = round(time.perf_counter() - t0, 2)
            resolved = self._preflight(months)
            if months is None:
                months = resolved
                self.say(f"latest complete month in the data: {months[0]}")
                locks = [self._lock(months[0])]
            for month in months:
                self._month(month, cfg_path, ingest_dir, t_ingest, started)
                started = dt.datetime.now()
        finally:
            for lock in locks:
                lock.release()
        return months

    def _preflight(self, months: list[str] | None) -> list[str]:
        """Exit 2 before notebooks 02–04 when the ingested data cannot carry the report.

        Checks that sales are linked to customers, that there are at least two
        months, and that each requested month is in the data; returns the months
        (``None`` → the latest complete month in the data).
        """
        from .engine import connect, resolve_month

        eng = connect(self.cfg.data.processed_path)
        tx = eng.table("transactions")
        r = eng.execute(
            tx.aggregate(
                months=tx.ts.truncate("M").nunique(),
                identified=tx.customer_id.notnull().sum(),
                rows=tx.count(),
            )
        ).iloc[0]
        if int(r["identified"]) == 0:
            self._stop(
                f"none of the {int(r['rows']):,} transactions is linked to a customer, so there is "
                "nothing to segment or compare — fix: map the customer id column of the "
                "transactions export (customer_id in the mapping)"
            )
        if int(r["months"]) < 2:
            self._stop(
                "the transactions cover a single month; the report compares months (trends, "
                "retention, before/after enrollment) — fix: export at least two months, better 13+"
            )
        try:
            return [resolve_month(eng, m) for m in (months or ["latest"])]
        except WorkbookError as exc:
            self._stop(str(exc))

    def _stop(self, msg: str) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        _fail(msg, 2)

    def _lock(self, month: str):
        try:
            lock = RunLock(self.out, month).acquire()
        except LockedError as exc:
            _fail(str(exc), 3)
        if lock.stale_removed:
            self.say(
                f"[{month}] a killed run (pid {lock.stale_removed.get('pid')}) left a stale "
                "lock: taken over"
            )
        return lock

    def _month(self, month: str, cfg_path: str, ingest_dir: Path, t_ingest: dict, started) -> None:
        stage = self.staging / month
        stage.mkdir()
        for f in ingest_dir.glob(f"{Path(NOTEBOOKS[0]).stem}.*"):  # notebook + its HTML
            shutil.copy2(f, stage / f.name)
        timings = [t_ingest]
        for nb in NOTEBOOKS[1:]:
            params = {"config_path": cfg_path, "month": month}
            timings.append(self.notebook(nb, stage, params, month))
        self.say(_build_report_files(stage, month, self.cfg, self.config, timings, started))
        self._handler.flush()
        shutil.copy2(self.log_path, stage / "run.log")
        target = self.out / month
        publish(stage, target)
        self.say(f"[{month}] published")  # the closing line names the folder


def _run(months: list[str] | None, config: Path, out: Path, timeout: int, notebooks) -> None:
    try:
        cfg = load_config(config)
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
    run = ReportRun(cfg, config, out, timeout, notebooks)
    try:
        done = run.execute(months)
    finally:
        run.close()
        data_lock.release()
    for month in done:
        typer.secho(f"report written to {out / month}", fg=typer.colors.GREEN)


TimeoutOpt = Annotated[int, typer.Option(help="Execution timeout per notebook cell, seconds.")]
OutOpt = Annotated[Path, typer.Option(help="Folder that receives the YYYY-MM report folders.")]
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
    timeout: TimeoutOpt = 900,
    notebooks: NotebooksOpt = None,
) -> None:
    """Run notebooks 01–04 for one month and publish reports/YYYY-MM/."""
    months = None if month in ("latest", "") else [_check_month(month)]
    _run(months, config, out, timeout, notebooks)


@app.command()
def reports(
    from_: Annotated[str, typer.Option("--from", help="First month YYYY-MM.")],
    to: Annotated[str, typer.Option("--to", help="Last month YYYY-MM (inclusive).")],
    config: ConfigOpt = DEFAULT_CONFIG_ARG,
    out: OutOpt = REPORTS_DIR,
    timeout: TimeoutOpt = 900,
    notebooks: NotebooksOpt = None,
) -> None:
    """Backfill reports/YYYY-MM/ for a range of months; the data is ingested once."""
    import pandas as pd

    lo, hi = pd.Period(_check_month(from_), "M"), pd.Period(_check_month(to), "M")
    if hi < lo:
        _fail(f"--to {to} is before --from {from_}", 2)
    _run([str(p) for p in pd.period_range(lo, hi, freq="M")], config, out, timeout, notebooks)


def _build_report_files(
    staging: Path, month: str, cfg, config: Path, timings: list, started
) -> str:
    """HTML without code per notebook, figures, tables (CSV + XLSX), index page and manifest."""
    from . import frontpage, report

    processed = cfg.data.processed_path
    figures = []
    t0 = time.perf_counter()
    for nb in NOTEBOOKS[1:]:  # notebook 01's HTML comes with it from the run's ingest
        report.notebook_to_html(staging / nb, staging / f"{Path(nb).stem}.html")
    html_seconds = time.perf_counter() - t0 + timings[0].get("html_seconds", 0.0)
    for nb in NOTEBOOKS:
        figures += report.extract_figures(staging / nb, staging / "figures")
    for name in ("quality_report.csv", "quality_report.json"):
        if (processed / name).exists():
            shutil.copy2(processed / name, staging / name)
    report.export_tables(processed, staging, cfg.currency, month=month)
    key = [f for f in figures if f.name.startswith("04_")][:1] or figures[:1]
    earlier = [staging.parent, staging.parent.parent]  # this run's months, then published ones
    index = frontpage.index_page(
        staging, month, processed, NOTEBOOKS, key, cfg.currency, published=earlier
    )
    _, pdf_note = frontpage.index_pdf(index)
    report.write_manifest(
        staging,
        {"month": month, "config": str(config)},
        resolve_path(config),
        processed,
        timings,
        started,
        extra={"engine": _engine_used(cfg), "html_conversion_seconds": round(html_seconds, 2)},
    )
    return pdf_note


def _engine_used(cfg) -> dict:
    """Where the numbers were computed, for the manifest (a Spark Connect token is left out)."""
    e = cfg.engine
    if e.backend == "duckdb":
        return {
            "backend": "duckdb",
            "memory_limit": e.memory_limit or f"{e.memory_share:.0%} of RAM",
        }
    where = e.spark_connect.split("/;")[0] if e.spark_connect else e.master
    return {"backend": "pyspark", "master": where}


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
