"""One report run: ingest once, then notebooks 02–04 per month, published whole or not at all.

:class:`ReportRun` is what ``loyalty-roi report`` and ``loyalty-roi reports``
execute.  Every notebook runs in the run's one kernel (reset in between) inside
a staging folder beside ``reports/``; the folder is swapped into
``reports/YYYY-MM/`` only when every notebook succeeded, so a failed or killed
run never replaces or half-writes the last good report.  Progress goes to the
terminal (a bar over notebooks and one over cells) and to ``run.log``.
:func:`parse_overrides` turns ``-p NAME=VALUE`` into notebook parameters.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import typer
import yaml

from .errors import WorkbookError
from .paths import resolve_path
from .publish import LockedError, RunLock, publish, staging_prefix

NOTEBOOKS = [
    "01_ingest_data.ipynb",
    "02_segment_customers.ipynb",
    "03_calculate_kpis.ipynb",
    "04_analyse_roi_scenarios.ipynb",
]
# errors raised on purpose for bad data or configuration: exit code 2, the whole message
DATA_ERRORS = ("DataError", "ConfigError")


def fail(msg: str, code: int = 1) -> None:
    """Print ``msg`` as the run's one error line and exit with ``code`` (never a traceback)."""
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def source(nb: str, notebooks: Path | None = None) -> Path:
    """The notebook ``nb`` a run executes: from ``--notebooks`` if given, else the workbook's."""
    from .runner import notebook_path

    return (notebooks / nb) if notebooks else notebook_path(nb)


def _html(nb_path: Path) -> float:
    """Convert an executed notebook to its HTML page beside it; the seconds it took."""
    from .report import notebook_to_html

    t0 = time.perf_counter()
    notebook_to_html(nb_path, nb_path.with_suffix(".html"))
    return time.perf_counter() - t0


def _cell_seconds(nb_path: Path) -> float:
    """Sum of the cells' execution times papermill recorded in an executed notebook."""
    nb = nbformat.read(nb_path, as_version=4)
    return sum(float(c.metadata.get("papermill", {}).get("duration") or 0) for c in nb.cells)


class ReportRun:
    """One invocation: ingest once, then notebooks 02–04 and the report files per month."""

    def __init__(
        self,
        cfg,
        config: Path,
        out: Path,
        timeout: int,
        notebooks: Path | None,
        overrides: dict[str, dict] | None = None,
    ):
        self.cfg, self.config, self.out, self.timeout = cfg, config, out, timeout
        self.notebooks = notebooks
        self.overrides = overrides or {}
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
        # each notebook's HTML page is made while the kernel runs the next notebook (2 cores)
        self._pages = ThreadPoolExecutor(max_workers=1, thread_name_prefix="html")
        self._ingest_page = None

    def close(self) -> None:
        """Stop the run's kernel and close its log."""
        self.session.close()
        self._pages.shutdown(wait=True, cancel_futures=True)
        for name in ("loyalty_roi.report", "papermill"):
            logging.getLogger(name).removeHandler(self._handler)
        self._handler.close()
        if self.bar is not None:
            self.bar.close()
        shutil.rmtree(self.staging, ignore_errors=True)

    def say(self, msg: str) -> None:
        """Print ``msg`` and write it to the run's log."""
        self.log.info(msg)
        (self.bar.write if self.bar is not None else typer.echo)(msg)

    def notebook(self, nb: str, dest: Path, params: dict, month: str) -> dict:
        """Run one notebook into ``dest``; on failure record it under ``_failed/`` and exit 1.

        Every notebook of the run executes in the run's one kernel (reset in between,
        see :class:`~loyalty_roi.runner.KernelSession`): start-up and imports are paid once.
        """
        from papermill.exceptions import PapermillExecutionError

        from .runner import run_notebook

        src = source(nb, self.notebooks)
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
        fail(f"{reason}\n(details: {failed})", code)

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
            params = {**self.overrides.get(NOTEBOOKS[0], {}), "config_path": cfg_path}
            t_ingest = self.notebook(NOTEBOOKS[0], ingest_dir, params, label)
            # converted once, shared by every month of a backfill
            self._ingest_page = self._pages.submit(_html, ingest_dir / NOTEBOOKS[0])
            resolved = self._preflight(months)
            if months is None:
                months = resolved
                self.say(f"latest complete month in the data: {months[0]}")
                locks = [self._lock(months[0])]
            for i, month in enumerate(months):
                last = i == len(months) - 1
                self._month(month, cfg_path, ingest_dir, t_ingest, started, last)
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
        from .engine import connect
        from .months import resolve as resolve_month

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
        fail(msg, 2)

    def _lock(self, month: str):
        try:
            lock = RunLock(self.out, month).acquire()
        except LockedError as exc:
            fail(str(exc), 3)
        if lock.stale_removed:
            self.say(
                f"[{month}] a killed run (pid {lock.stale_removed.get('pid')}) left a stale "
                "lock: taken over"
            )
        return lock

    def _month(
        self, month: str, cfg_path: str, ingest_dir: Path, t_ingest: dict, started, last: bool
    ) -> None:
        stage = self.staging / month
        stage.mkdir()
        timings, pages = [t_ingest], []
        for nb in NOTEBOOKS[1:]:
            params = {**self.overrides.get(nb, {}), "config_path": cfg_path, "month": month}
            timings.append(self.notebook(nb, stage, params, month))
            pages.append(self._pages.submit(_html, stage / nb))  # while the next one runs
        t_ingest["html_seconds"] = round(self._ingest_page.result(), 2)
        for f in ingest_dir.glob(f"{Path(NOTEBOOKS[0]).stem}.*"):  # notebook + its HTML
            shutil.copy2(f, stage / f.name)
        html_seconds = sum(p.result() for p in pages)
        # before the report files are built (Chromium prints the index to PDF): after the run's
        # last month the kernel is stopped (0.7 GiB with its imports), else only reset for the next
        if last:
            self.session.close()
        else:
            self.session.reset()
        overrides = {k: v for params in self.overrides.values() for k, v in params.items()}
        self.say(
            _build_report_files(
                stage, month, self.cfg, self.config, timings, started, overrides, html_seconds
            )
        )
        self._handler.flush()
        shutil.copy2(self.log_path, stage / "run.log")
        target = self.out / month
        publish(stage, target)
        self.say(f"[{month}] published")  # the closing line names the folder


# set by the run itself: an override would contradict what the command line says
RUN_PARAMETERS = ("config_path", "month")


def _example(name: str, default: str) -> str:
    """A value to show in a fix: the notebook's default, or the shipped config's for ``None``."""
    from .config import NOTEBOOK_PARAMS, WorkbookConfig

    if default != "None" or name not in NOTEBOOK_PARAMS:
        return default
    value = WorkbookConfig()
    for part in NOTEBOOK_PARAMS[name].split("."):
        value = getattr(value, part)
    return str(value)


def parse_overrides(pairs: list[str] | None, notebooks: Path | None = None) -> dict[str, dict]:
    """``NAME=VALUE`` pairs → ``{notebook: {name: value}}`` for the notebooks that declare ``NAME``.

    Values are read as YAML scalars (``9`` is an int, ``0.3`` a float, ``[1, 2]`` a
    list), as papermill's ``-y`` does, and must match the type the notebook declares.
    A name no notebook declares is an error naming the ones that exist.
    """
    import papermill as pm

    declared = {nb: pm.inspect_notebook(str(source(nb, notebooks))) for nb in NOTEBOOKS}
    known = sorted({n for d in declared.values() for n in d} - set(RUN_PARAMETERS))
    out: dict[str, dict] = {nb: {} for nb in NOTEBOOKS}
    kinds = {"int": int, "float": (int, float), "str": str, "list": list, "bool": bool}
    for pair in pairs or []:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise WorkbookError(f"-p {pair!r} is not NAME=VALUE — fix: e.g. -p pre_months=9")
        if name in RUN_PARAMETERS:
            raise WorkbookError(
                f"-p {name} is set by the command itself — fix: use --{name.split('_')[0]}"
            )
        if name not in known:
            raise WorkbookError(
                f"-p {name}: no notebook has a parameter called {name} — fix: one of {', '.join(known)}"
            )
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        for nb, params in declared.items():
            if name not in params:
                continue
            declared_type = params[name]["inferred_type_name"]
            type_name = declared_type.removeprefix("Optional[").removesuffix("]")
            kind = kinds.get(type_name)
            if kind is str and not isinstance(value, str):
                value = text  # -p month_label=2026 stays text for a text parameter
            if kind is not None and (
                not isinstance(value, kind) or (kind is int and isinstance(value, bool))
            ):
                raise WorkbookError(
                    f"-p {name}={text}: {nb} expects {type_name} ({params[name]['help']}) "
                    f"— fix: e.g. -p {name}={_example(name, params[name]['default'])}"
                )
            out[nb][name] = value
    return out


def _build_report_files(
    staging: Path,
    month: str,
    cfg,
    config: Path,
    timings: list,
    started,
    overrides: dict | None = None,
    html_seconds: float = 0.0,
) -> str:
    """Figures, tables (CSV + XLSX), index page and manifest of a month's executed notebooks.

    Every notebook's HTML page (without code) is already beside it; ``html_seconds``:
    the time notebooks 02–04's pages took (notebook 01's is in ``timings[0]``).
    """
    from . import frontpage, report

    processed = cfg.data.processed_path
    figures = []
    html_seconds += timings[0].get("html_seconds", 0.0)
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
        {"month": month, "config": str(config), "overrides": overrides or {}},
        resolve_path(config),
        processed,
        timings,
        started,
        extra={
            "engine": _engine_used(cfg),
            "html_conversion_seconds": round(html_seconds, 2),
            "mapping": report.file_fingerprint(cfg.data.mapping_path) if cfg.data.mapping else None,
        },
    )
    return pdf_note


def _engine_used(cfg) -> dict:
    """Where the numbers were computed, for the manifest (a Spark Connect token is left out)."""
    e = cfg.engine
    if e.backend == "duckdb":
        return {
            "backend": "duckdb",
            "memory_limit": e.memory_limit or f"{e.memory_share * 100:g}% of RAM",
        }
    where = e.spark_connect.split("/;")[0] if e.spark_connect else e.master
    return {"backend": "pyspark", "master": where}
