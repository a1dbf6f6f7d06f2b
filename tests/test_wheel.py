"""Installed as a wheel, outside the source tree, the command line works on a user's config."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from loyalty_roi.paths import PROJ_ROOT

pytestmark = pytest.mark.slow
UV = PROJ_ROOT / ".tools" / "bin" / "uv"


def _run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if not UV.exists():
        pytest.skip("uv is installed by make (make test)")
    d = tmp_path_factory.mktemp("wheel")
    built = _run(UV, "build", "--wheel", "-o", d / "dist", cwd=PROJ_ROOT)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (d / "dist").glob("loyalty_roi-*.whl")
    req = _run(UV, "export", "--frozen", "--no-hashes", "--no-emit-project", "-q", cwd=PROJ_ROOT)
    (d / "requirements.txt").write_text(req.stdout, encoding="utf-8")
    venv = d / "venv"
    assert _run(UV, "venv", "-q", venv, "--python", sys.executable).returncode == 0
    py = venv / "bin" / "python"
    res = _run(UV, "pip", "install", "-q", "--python", py, "-r", d / "requirements.txt", wheel)
    assert res.returncode == 0, res.stderr[-2000:]
    return venv


def test_validate_outside_the_source_tree_resolves_paths_from_the_working_folder(
    installed, tmp_path
):
    cfg = tmp_path / "shop.yml"  # relative paths: taken from where the command runs
    cfg.write_text(
        "data:\n  source: demo\n  raw_dir: raw\n  mapping: raw/mapping.yml\n"
        "  processed_dir: processed\n"
        "demo:\n  customers: 300\n  months: 12\n  end_month: '2026-10'\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("LOYALTY_ROI_HOME", "PYTHONPATH")}
    res = _run(
        installed / "bin" / "loyalty-roi", "validate", "--config", cfg, cwd=tmp_path, env=env
    )
    assert res.returncode == 0, res.stdout[-1500:] + res.stderr[-1500:]
    assert "9 tables ingested" in res.stdout
    assert (tmp_path / "raw" / "mapping.yml").exists()  # the demo exports, written where asked
    where = _run(installed / "bin" / "python", "-c",
                 "import loyalty_roi, loyalty_roi.paths as c; print(loyalty_roi.__file__); print(c.PROJ_ROOT)",
                 cwd=tmp_path, env=env).stdout.split()  # fmt: skip
    assert "site-packages" in where[0] and where[1] == str(tmp_path)
    # $LOYALTY_ROI_HOME names the project folder explicitly
    home = tmp_path / "home"
    home.mkdir()
    res = _run(installed / "bin" / "loyalty-roi", "validate", "--config", cfg, cwd=tmp_path,
               env={**env, "LOYALTY_ROI_HOME": str(home)})  # fmt: skip
    assert res.returncode == 0, res.stdout[-1500:] + res.stderr[-1500:]
    assert (home / "raw" / "mapping.yml").exists()
