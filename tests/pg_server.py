"""A throw-away PostgreSQL server for tests: Debian's binaries, 127.0.0.1, stopped by PID.

PostgreSQL refuses to run as root; when the tests run as root the server runs as
the ``postgres`` system user (created by Debian's package).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .helpers import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(
            "PostgreSQL binaries not found — `make test` installs Debian's postgresql package "
            "(apt-get install -y postgresql)"
        )
    return found[-1]


class PgServer:
    def __init__(self, base: Path, password: str):
        self.base, self.password = base, password
        self.data, self.sock = base / "pgdata", base / "sock"
        self.port = free_port()
        self.pid: int | None = None
        self.as_root = os.getuid() == 0

    def _run(self, *cmd: str, input: str | None = None) -> str:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else list(cmd)
        r = subprocess.run(full, input=input, capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {r.stderr or r.stdout}")
        return r.stdout

    def start(self) -> PgServer:
        self.base.mkdir(parents=True, exist_ok=True)
        self.sock.mkdir()
        if self.as_root:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.sock, "postgres")
        pw = self.base / "pw"
        pw.write_text(self.password)
        if self.as_root:
            shutil.chown(pw, "postgres")
        self._run(
            _bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pw}",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1"
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.base / "log"),
            "-w",
            "start",
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return self

    def psql(self, sql: str, db: str = "postgres") -> str:
        return self._run(
            _bin("psql"),
            "-h",
            str(self.sock),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            input=sql,
        )

    def url(self, user: str, password: str, db: str) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGINT)  # fast shutdown
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None
