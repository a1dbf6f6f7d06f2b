"""The PySpark backend pointed at a cluster by configuration alone.

* A standalone master and one worker are started on 127.0.0.1 by the test
  (``spark-class`` from the pyspark package); the engine connects with
  ``engine.master: spark://127.0.0.1:<port>`` from a config file.
* A Spark Connect server is started on 127.0.0.1 (``spark-submit`` of the
  server class shipped with pyspark); the engine connects with
  ``engine.spark_connect: sc://127.0.0.1:<port>``.

In both, the panel, RFM, store totals and cohorts must equal DuckDB's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from loyalty_roi import config, engine, paths

from .conftest import END_MONTH, demo_exports
from .helpers import free_port, wait_for_port

pytestmark = pytest.mark.slow


def _stop(*procs: subprocess.Popen) -> None:
    """Stop servers started by a fixture, by process group (the JVM and its launcher script)."""
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(p.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory):
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: the PySpark backend needs a Java 17 runtime")
    pyspark = pytest.importorskip("pyspark", reason="install the 'spark' extra (make test does)")
    home = Path(pyspark.__file__).parent
    log = tmp_path_factory.mktemp("spark-logs")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_WORKER_DIR": str(log / "work")}  # fmt: skip
    port, ui, wport, wui = free_port(), free_port(), free_port(), free_port()
    cls = [str(home / "bin" / "spark-class")]
    procs = []
    try:
        procs.append(subprocess.Popen(
            [*cls, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
             "--port", str(port), "--webui-port", str(ui)],
            env=env, stdout=open(log / "master.log", "wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        ))  # fmt: skip
        wait_for_port(port, procs[0], timeout=120)
        procs.append(subprocess.Popen(
            [*cls, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
             "--host", "127.0.0.1", "--port", str(wport), "--webui-port", str(wui),
             "--cores", "1", "--memory", "1g"],
            env=env, stdout=open(log / "worker.log", "wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        ))  # fmt: skip
        wait_for_port(wport, procs[1], timeout=120)
        yield f"spark://127.0.0.1:{port}"
    finally:
        _stop(*reversed(procs))


def test_the_report_engine_runs_on_a_standalone_cluster_from_the_config(
    spark_cluster, small_processed, tmp_path
):
    from pyspark.sql import SparkSession

    if (active := SparkSession.getActiveSession()) is not None:
        active.stop()  # one SparkContext per JVM: a local session of another test would be reused
    cfg_file = tmp_path / "workbook.yml"
    cfg_file.write_text(
        yaml.safe_dump(
            {
                "data": {"processed_dir": str(small_processed)},
                "engine": {
                    "backend": "pyspark",
                    "master": spark_cluster,
                    "spark_conf": {"spark.executor.memory": "1g", "spark.cores.max": "1"},
                },
            }
        ),
        encoding="utf-8",
    )
    cfg = config.load_config(cfg_file)
    es = engine.engine_from_config(cfg)
    try:
        sc = es.session.sparkContext
        assert sc.master == spark_cluster
        deadline = time.time() + 90  # the worker's executor registers with the driver
        while sc._jsc.sc().getExecutorMemoryStatus().size() < 2 and time.time() < deadline:
            time.sleep(1)
        assert sc._jsc.sc().getExecutorMemoryStatus().size() >= 2, "no executor joined"
        ed = engine.connect(small_processed)
        for fn in (engine.customer_month_panel, engine.rfm_summary, engine.store_month_totals):
            pd.testing.assert_frame_equal(fn(es), fn(ed), check_dtype=False, rtol=1e-9)
        pd.testing.assert_frame_equal(
            engine.cohort_matrix(es, "acquisition"),
            engine.cohort_matrix(ed, "acquisition"),
            check_dtype=False,
            rtol=1e-9,
        )
        # the work ran in the worker's executor, not in the driver
        execs = sc._jsc.sc().statusStore().executorList(True)
        tasks = {execs.apply(i).id(): execs.apply(i).totalTasks() for i in range(execs.size())}
        assert sum(n for ex, n in tasks.items() if ex != "driver") > 0, tasks
    finally:
        es.session.stop()


def test_the_whole_report_on_the_cluster_equals_duckdb_on_every_csv(spark_cluster, tmp_path):
    # the same raw exports reported twice: on DuckDB, and on the standalone cluster named
    # only in the config; every CSV of the report must agree to 1e-9
    from pyspark.sql import SparkSession

    if (active := SparkSession.getActiveSession()) is not None:
        active.stop()  # free the worker's only core for the report's application
    demo = {"customers": 1500, "months": 24, "end_month": END_MONTH, "seed": 5}
    duck_cfg = demo_exports(tmp_path, demo, currency="DKK")
    cfg = json.loads(duck_cfg.read_text(encoding="utf-8"))
    cfg["data"]["processed_dir"] = str(tmp_path / "processed_spark")
    cfg["engine"] = {
        "backend": "pyspark",
        "master": spark_cluster,
        "spark_conf": {"spark.executor.memory": "1g", "spark.cores.max": "1"},
    }
    spark_cfg = tmp_path / "spark.yml"
    spark_cfg.write_text(json.dumps(cfg), encoding="utf-8")
    reports = {}
    for name, c in (("duckdb", duck_cfg), ("spark", spark_cfg)):
        res = subprocess.run(
            [sys.executable, "-m", "loyalty_roi.cli", "report", "--config", str(c),
             "--out", str(tmp_path / name), "--timeout", "600"],
            capture_output=True, text=True, cwd=paths.PROJ_ROOT, timeout=1500,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr[-3000:]
        reports[name] = tmp_path / name / END_MONTH
    csvs = sorted(p.name for p in reports["duckdb"].glob("*.csv"))
    assert csvs == sorted(p.name for p in reports["spark"].glob("*.csv"))
    assert {"kpi_monthly.csv", "scorecard.csv", "summary.csv", "customer_segments.csv"} <= set(csvs)
    for f in csvs:
        duck, spark = (pd.read_csv(reports[n] / f) for n in ("duckdb", "spark"))
        pd.testing.assert_frame_equal(spark, duck, check_dtype=False, rtol=1e-9, obj=f)
    manifest = json.loads((reports["spark"] / "manifest.json").read_text(encoding="utf-8"))
    assert spark_cluster in json.dumps(manifest), "the manifest does not record the cluster"


@pytest.fixture(scope="module")
def spark_connect_server(tmp_path_factory):
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: the PySpark backend needs a Java 17 runtime")
    pyspark = pytest.importorskip("pyspark", reason="install the 'spark' extra (make test does)")
    pytest.importorskip("grpc", reason="the 'spark' extra brings the Spark Connect client")
    home = Path(pyspark.__file__).parent
    log = tmp_path_factory.mktemp("spark-connect")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    port = free_port()
    proc = subprocess.Popen(
        [str(home / "bin" / "spark-submit"), "--class",
         "org.apache.spark.sql.connect.service.SparkConnectServer", "--master", "local[1]",
         "--conf", f"spark.connect.grpc.binding.port={port}",
         "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
         "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.session.timeZone=UTC",
         "spark-internal"],
        env=env, stdout=open(log / "server.log", "wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port, proc, timeout=120)
        yield f"sc://127.0.0.1:{port}"
    finally:
        _stop(proc)


def test_the_report_engine_runs_on_a_spark_connect_server_from_the_config(
    spark_connect_server, small_processed, tmp_path
):
    cfg_file = tmp_path / "workbook.yml"
    cfg_file.write_text(
        yaml.safe_dump(
            {
                "data": {"processed_dir": str(small_processed)},
                "engine": {"backend": "pyspark", "spark_connect": spark_connect_server},
            }
        ),
        encoding="utf-8",
    )
    es = engine.engine_from_config(config.load_config(cfg_file))
    try:
        assert type(es.session).__module__.startswith("pyspark.sql.connect")  # a remote session
        ed = engine.connect(small_processed)
        for fn in (engine.customer_month_panel, engine.rfm_summary, engine.store_month_totals):
            pd.testing.assert_frame_equal(fn(es), fn(ed), check_dtype=False, rtol=1e-9)
    finally:
        es.session.stop()
