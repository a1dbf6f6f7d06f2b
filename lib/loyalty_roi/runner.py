"""Execute the workbook's notebooks headlessly with papermill.

All headless runs go through :func:`run_notebook` so they share the kernel,
the execution timeout (widget notebooks can hang without one) and the IPC
kernel transport (local sockets instead of unencrypted TCP ports).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from .config import NOTEBOOKS_DIR, PROJ_ROOT

KERNEL_NAME = "loyalty-roi"
DEFAULT_TIMEOUT = 900  # seconds per cell


class IPCKernelManager(AsyncKernelManager):
    """Kernel manager that talks to the kernel over IPC sockets, not TCP.

    The sockets live in a private temporary folder per kernel.  jupyter_client's
    default (``kernel-ipc-N`` in the working directory) picks the first free
    ``N`` by looking for files, so two runs started side by side from the same
    folder could pick the same sockets and talk to each other's kernel.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport", "ipc")
        if kwargs["transport"] == "ipc" and "ip" not in kwargs:
            self._socket_dir = tempfile.mkdtemp(prefix="loyalty-roi-kernel-")
            kwargs["ip"] = str(Path(self._socket_dir) / "kernel")
        super().__init__(**kwargs)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and getattr(self, "_socket_dir", None):
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]


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
