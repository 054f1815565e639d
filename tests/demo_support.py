"""The demo store, built once per test run by ``grapevine demo --no-serve`` (a subprocess).

Every test module that needs it (test_demo.py, test_dashboard_e2e.py) calls
:func:`demo_store`; the first build is shared by the modules and by the xdist workers of one
run (a file lock in the run's temporary folder), so the minute it takes is paid once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXE = shutil.which("grapevine", path=str(Path(sys.executable).parent)) or "grapevine"


def _run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has its own basetemp inside the run's folder.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo's SQLite file and what ``grapevine demo --no-serve`` printed.

    ``GRAPEVINE_DEMO_DB`` names a store built before by ``grapevine demo --no-serve --db
    FILE`` (with its output in ``FILE.out``) to use instead of building one; the modules
    that change the store work on a copy.
    """
    given = os.environ.get("GRAPEVINE_DEMO_DB")
    if given:
        out = Path(f"{given}.out")
        return Path(given), out.read_text() if out.exists() else ""
    root = _run_root(tmp_path_factory)
    db = root / "grapevine-demo.db"
    log = root / "grapevine-demo.out"
    with open(root / "grapevine-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not log.exists():
            env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
            done = subprocess.run(
                [EXE, "demo", "--no-serve", "--db", str(db)],
                capture_output=True,
                text=True,
                env=env,
                timeout=1800,
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            log.write_text(done.stdout + done.stderr)
    return db, log.read_text()
