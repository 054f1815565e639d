"""Shared helpers of the benchmarks: data-dir resolution, machine facts, timing, Markdown.

Not part of the ``grapevine`` package: the scripts in this folder import it as a
sibling module (``python benchmarks/<name>.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "BENCH_DIR",
    "PROJECT_ROOT",
    "RESULTS_DIR",
    "busy_note",
    "command_line",
    "data_dir",
    "data_file",
    "facts_markdown",
    "fmt_int",
    "fmt_rate",
    "fmt_seconds",
    "machine_facts",
    "markdown_table",
    "median",
    "time_call",
    "write_report",
]

T = TypeVar("T")

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


# ---------------------------------------------------------------------- data
def data_dir() -> Path:
    """The real-data folder: ``$GRAPEVINE_DATA_DIR``, else ``../shared/data`` from the project root.

    The default is resolved against the project root, not the working
    directory, so the scripts can be started from anywhere.
    """
    env = os.environ.get("GRAPEVINE_DATA_DIR")
    path = Path(env).expanduser() if env else PROJECT_ROOT / ".." / "shared" / "data"
    return path.resolve()


def data_file(*parts: str) -> Path:
    """A file under :func:`data_dir`; exits with a clear message when it is missing."""
    path = data_dir().joinpath(*parts)
    if not path.is_file():
        sys.exit(
            f"benchmark data not found: {path}\n"
            "Set GRAPEVINE_DATA_DIR to the folder holding the shared datasets "
            "(default: ../shared/data from the project root)."
        )
    return path


# ---------------------------------------------------------------------- timing
def time_call(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall seconds of ``fn()`` (after a garbage collection) and its result."""
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


# ---------------------------------------------------------------------- formatting
def fmt_seconds(s: float) -> str:
    """Seconds with three significant digits (``0.0412``, ``1.23``, ``12.3``, ``123``)."""
    if s != s:  # NaN
        return "—"
    if s >= 100:
        return f"{s:,.0f}"
    if s >= 10:
        return f"{s:.1f}"
    if s >= 1:
        return f"{s:.2f}"
    return f"{s:.3g}"


def fmt_int(n: float | None) -> str:
    return "—" if n is None or n != n else f"{int(n):,}"


def fmt_rate(n: float, seconds: float) -> str:
    """``n / seconds`` to three significant digits, with thousands separators."""
    if not seconds or seconds != seconds or seconds <= 0:
        return "—"
    rate = n / seconds
    return f"{float(f'{rate:.3g}'):,.0f}" if rate >= 100 else f"{rate:.3g}"


def markdown_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None
) -> str:
    """A GitHub Markdown table, padded so it also reads well as plain text.

    ``align`` holds one letter per column: ``l`` (default) or ``r``.
    """
    body = [[str(c).replace("|", "\\|").replace("\n", " ") for c in r] for r in rows]
    align = (align or "l" * len(headers)).ljust(len(headers), "l")
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(w) if a == "r" else c.ljust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return "| " + " | ".join(out) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if a == "r" else "-" * (w + 2)
            for w, a in zip(widths, align, strict=True)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in body)])


# ---------------------------------------------------------------------- machine facts
def _cpu_model() -> str:
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal:"):
                return f"{int(row.split()[1]) / 2**20:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def _git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" (src/ has uncommitted changes)" if dirty else "")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_facts(
    packages: Sequence[str] = (), extra: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """Facts that make a timing comparable: date, CPU, cores, memory, Python, versions."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    facts = [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("cpu", _cpu_model()),
        ("nproc", f"{usable} usable ({os.cpu_count()} online)"),
        ("memory", _memory()),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("grapevine", f"{_version('grapevine') or '?'} at git {_git_revision()}"),
    ]
    try:
        load = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
        facts.append(("load average", f"{load} (1 / 5 / 15 min, when the report was written)"))
    except OSError:
        pass
    versions = [f"{p} {v}" for p in packages if (v := _version(p))]
    if versions:
        facts.append(("packages", ", ".join(versions)))
    facts.extend(extra)
    return facts


def busy_note(consequence: str) -> str:
    """A paragraph saying the machine was shared and what that does, or ``""`` when it was not.

    The machine counts as shared when the 1-minute load average exceeds the usable cores;
    ``consequence`` (no final stop) says which figures of the report that moves.
    """
    load = os.getloadavg()[0]
    cores = len(os.sched_getaffinity(0))
    if load <= cores:
        return ""
    return (
        f"\nThe machine was shared while this ran (load average {load:.1f} on {cores} "
        f"cores): {consequence}.\n"
    )


def command_line(script: str, argv: Sequence[str] | None) -> str:
    """The command that reproduces a report: ``python benchmarks/<script>`` and its arguments.

    ``argv`` is what the script's ``main`` was given, ``None`` for the process's own arguments.
    """
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python", f"benchmarks/{script}", *args])


def facts_markdown(facts: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"- **{k}**: {v}" for k, v in facts)


def write_report(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (creating its folder) and print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    print(text)
    print(f"\n(written to {path})")
