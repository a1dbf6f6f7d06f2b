"""End-to-end benchmark of ``loyalty-roi report``: wall time, peak memory, overhead share.

Two runs, each in its own output and processed folder (``bench/work/``), so
``data/processed`` and ``reports/`` are not touched:

* ``default`` — the built-in demo program of ``config/workbook.yml``;
* ``10M``     — ≈10 M transactions (the engine benchmark's canonical Parquet
  tables, ingested through an identity mapping like a customer's Parquet export);
* ``100M``    — ≈100 M transactions, generated shard by shard
  (:mod:`loyalty_roi.synth.large`); ``make bench-large``.

Peak memory is the largest sum of resident memory over the CLI process and
all its children (the kernels), sampled every 0.2 s.  The overhead share is
(papermill/kernel start-up + HTML conversion) ÷ wall time, where start-up is
each notebook's wall time minus the execution time papermill recorded for its
cells — the reference side by side is the notebooks' own compute time.

Run: ``make bench`` or ``.venv/bin/python bench/report_bench.py --sizes default``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"


def config_for(size: str) -> Path:
    base = yaml.safe_load((ROOT / "config" / "workbook.yml").read_text(encoding="utf-8"))
    w = WORK / size
    w.mkdir(parents=True, exist_ok=True)
    base["data"]["processed_dir"] = str(w / "processed")
    if size != "default":
        sys.path.insert(0, str(ROOT / "bench"))
        from engine_bench import ensure_data

        raw = ensure_data(int(size.rstrip("M")) * 1_000_000)
        from loyalty_roi.schema import TABLES

        mapping = {"tables": {t: {"file": f"{t}.parquet"} for t in TABLES}}
        (w / "mapping.yml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
        base["data"].update(source="files", raw_dir=str(raw), mapping=str(w / "mapping.yml"))
        if int(size.rstrip("M")) >= 100:  # 6M customers: RFM and CLV summaries need a larger
            base.setdefault("engine", {})["memory_share"] = 0.25  # engine than 5 % of RAM
    cfg = w / "config.yml"
    cfg.write_text(yaml.safe_dump(base, sort_keys=False), encoding="utf-8")
    return cfg


def tree_rss(p: psutil.Process) -> int:
    total = 0
    for q in [p, *p.children(recursive=True)]:
        try:
            total += q.memory_info().rss
        except psutil.Error:
            pass
    return total


def run(size: str, timeout: int) -> dict:
    cfg = config_for(size)
    out = WORK / size / "reports"
    cmd = [sys.executable, "-m", "loyalty_roi.cli", "report", "--config", str(cfg)]
    cmd += ["--out", str(out), "--timeout", str(timeout)]
    console = WORK / size / "console.txt"  # a file, not a pipe: a full pipe would stall the run
    t0 = time.perf_counter()
    with console.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, text=True)
        ps, peak, samples = psutil.Process(proc.pid), 0, []
        while proc.poll() is None:
            rss = tree_rss(ps)
            peak = max(peak, rss)
            samples.append((time.perf_counter() - t0, rss))
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    output = console.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    if proc.returncode != 0:
        print(output[-3000:])
        return {"size": size, "status": f"failed ({proc.returncode})", "wall_seconds": wall}
    month = [ln for ln in output.splitlines() if "report written to" in ln][-1].split("/")[-1]
    m = json.loads((out / month / "manifest.json").read_text(encoding="utf-8"))
    html = m["html_conversion_seconds"]
    # each notebook's peak: the samples in its time slot (notebooks run one after another; the
    # slots are laid end to end back from the last HTML step, so CLI start-up falls before the first)
    end = wall - html - sum(n["seconds"] for n in m["notebooks"])
    for nb in m["notebooks"]:
        inside = [r for t, r in samples if end <= t <= end + nb["seconds"]]
        nb["peak_memory_mb"] = round(max(inside, default=0) / 2**20)
        end += nb["seconds"]
    startup = sum(n["startup_seconds"] for n in m["notebooks"])
    cells = sum(n["cells_seconds"] for n in m["notebooks"])
    return {
        "size": size,
        "status": "ok",
        "month": month,
        "inputs": m["inputs_sha256"] and len(m["inputs_sha256"]),
        "wall_seconds": round(wall, 1),
        "peak_memory_mb": round(peak / 2**20),
        "cells_seconds": round(cells, 1),
        "kernel_startup_seconds": round(startup, 1),
        "html_conversion_seconds": round(html, 1),
        "overhead_share": round((startup + html) / wall, 3),
        "per_notebook": m["notebooks"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="default,10M")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--out-name", default="report", help="results file name (without extension)")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes.split(","):
        r = run(size, args.timeout)
        rows.append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "per_notebook"}))
    (RESULTS / f"{args.out_name}.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    lines = [
        "| data | wall | peak memory | notebook cells | kernel start-up | HTML | overhead share |"
        " 01 | 02 | 03 | 04 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['size']} | {r['status']} | | | | | |")
            continue
        lines.append(
            f"| {r['size']} | {r['wall_seconds']:.0f} s | {r['peak_memory_mb'] / 1024:.2f} GiB | "
            f"{r['cells_seconds']:.0f} s | {r['kernel_startup_seconds']:.1f} s | "
            f"{r['html_conversion_seconds']:.1f} s | {r['overhead_share']:.0%} | "
            + " | ".join(
                f"{n['seconds']:.0f} s, {n.get('peak_memory_mb', 0) / 1024:.1f} GiB"
                for n in r["per_notebook"]
            )
            + " |"
        )
    lines.append(
        "\nper notebook: wall time and peak memory (sum over processes) in its time slot."
        "\ntargets: overhead ≤ 40 % of wall time on the default data; the 10M run in ≤ 3 GiB"
    )
    (RESULTS / f"{args.out_name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
