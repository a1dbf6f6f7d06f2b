"""Execute the workbook's notebooks headlessly with papermill.

All headless runs go through :func:`run_notebook` so they share the kernel,
the execution timeout (widget notebooks can hang without one) and the IPC
kernel transport (local sockets instead of unencrypted TCP ports).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from .config import NOTEBOOKS_DIR, PROJ_ROOT

KERNEL_NAME = "loyalty-roi"
DEFAULT_TIMEOUT = 900  # seconds per cell


class IPCKernelManager(AsyncKernelManager):
    """Kernel manager that talks to the kernel over IPC sockets, not TCP."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)


def notebook_path(name: str) -> Path:
    """Path of a workbook notebook by file name (``01_ingest_data.ipynb``)."""
    return NOTEBOOKS_DIR / name


def run_notebook(
    src: str | Path,
    dst: str | Path,
    parameters: dict[str, Any] | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    progress_bar: bool = False,
    kernel_name: str = KERNEL_NAME,
    **kwargs: Any,
):
    """Execute ``src`` with papermill into ``dst``; raises ``PapermillExecutionError`` on failure.

    The working directory is the project root, so notebooks behave the same
    under JupyterLab, papermill, tests and the CLI.
    """
    import papermill as pm

    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    return pm.execute_notebook(
        str(src),
        str(dst),
        parameters=parameters or {},
        kernel_name=kernel_name,
        execution_timeout=timeout,
        progress_bar=progress_bar,
        cwd=str(PROJ_ROOT),
        kernel_manager_class="loyalty_roi.runner.IPCKernelManager",
        **kwargs,
    )
