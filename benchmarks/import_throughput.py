"""Import throughput: the whole Higgs activity stream into a fresh store, SQLite and PostgreSQL.

For each backend this measures, on a fresh database each repeat:

* ``grapevine.store.import_file(store, "higgs", path)``: the first import
  (563,069 rows: 304,691 persons and 563,069 timed ties created);
* the same call again on the same store: an idempotent re-run that must add
  nothing;
* a floor that does the least work that still puts the raw rows in a table:
  plain ``sqlite3`` ``executemany`` of the split lines (SQLite) and psycopg
  ``COPY ... FROM STDIN`` of the decompressed bytes (PostgreSQL), both without
  the person mapping, the natural-key indexes or the per-batch transactions.

It checks the tie counts per kind against the published ones from
``Store.summary()`` and writes a Markdown table with the machine facts.

Usage::

    .venv/bin/python benchmarks/import_throughput.py [--backends sqlite,postgres]
        [--repeat N] [--out PATH] [--pg-url URL] [--batch-size N] [--tmpdir DIR]

Exit status 1 when a check fails (counts or the re-run adding rows). An
unreachable PostgreSQL is reported in the table, not treated as a failure.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sqlite3
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    RESULTS_DIR,
    data_file,
    facts_markdown,
    fmt_int,
    fmt_rate,
    fmt_seconds,
    machine_facts,
    markdown_table,
    median,
    time_call,
    write_report,
)
from grapevine.connectors import read_higgs
from grapevine.store import Store, import_file

HIGGS = ("higgs", "higgs-activity_time.txt.gz")
EXPECTED_ROWS = 563_069
EXPECTED_PERSONS = 304_691  # distinct user ids in the stream (both columns)
EXPECTED_TIES = {"retweeted": 354_930, "mentioned": 171_237, "replied": 36_902}
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Measure:
    """One line of the table, accumulated over the repeats."""

    backend: str
    method: str
    floor: str | None = None  # method name of the floor on the same backend
    times: list[float] = field(default_factory=list)
    rows: int | None = None
    new_ties: int | None = None
    problems: list[str] = field(default_factory=list)
    passed: str = ""

    def add(self, seconds: float, rows: int | None, new_ties: int | None, problem: str | None):
        self.times.append(seconds)
        self.rows, self.new_ties = rows, new_ties
        if problem and problem not in self.problems:
            self.problems.append(problem)


class Bench:
    def __init__(self) -> None:
        self.measures: dict[tuple[str, str], Measure] = {}
        self.extras: dict[tuple[str, str], list[float]] = {}  # (backend, what) → per run
        self.unreachable: list[tuple[str, str]] = []

    def measure(self, backend: str, method: str, floor: str | None = None) -> Measure:
        key = (backend, method)
        if key not in self.measures:
            self.measures[key] = Measure(backend, method, floor)
        return self.measures[key]

    def extra(self, backend: str, what: str, value: float) -> None:
        self.extras.setdefault((backend, what), []).append(value)

    @property
    def failed(self) -> bool:
        return any(m.problems for m in self.measures.values())


# ---------------------------------------------------------------------- checks
def check_first(store: Store, report: Any) -> tuple[str | None, str]:
    """Compare the store's summary with the published counts; (problem, ok-text)."""
    summary = store.summary()
    ties = {t["kind"]: t["count"] for t in summary["ties"] if t["platform"] == "higgs"}
    persons = sum(p["count"] for p in summary["persons"] if p["platform"] == "higgs")
    wrong = []
    if report.rows_read != EXPECTED_ROWS:
        wrong.append(f"rows read {report.rows_read:,} ≠ {EXPECTED_ROWS:,}")
    for kind, n in EXPECTED_TIES.items():
        if ties.get(kind) != n:
            wrong.append(f"{kind} {fmt_int(ties.get(kind))} ≠ {n:,}")
    extra = sorted(set(ties) - set(EXPECTED_TIES))
    if extra:
        wrong.append(f"unexpected kinds {extra}")
    if persons != EXPECTED_PERSONS:
        wrong.append(f"persons {persons:,} ≠ {EXPECTED_PERSONS:,}")
    ok = "RT/MT/RE " + " / ".join(f"{n:,}" for n in EXPECTED_TIES.values())
    return ("; ".join(wrong) or None), f"ok: {ok}, {EXPECTED_PERSONS:,} persons"


def check_rerun(report: Any) -> tuple[str | None, str]:
    added = {k: v for k, v in report.new.items() if v}
    problem = f"re-run added {added}" if added else None
    if report.rows_read != EXPECTED_ROWS:
        problem = f"rows read {report.rows_read:,} ≠ {EXPECTED_ROWS:,}"
    return problem, "ok: 0 new rows"


# ---------------------------------------------------------------------- grapevine
def run_grapevine(
    bench: Bench, backend: str, url: str, path: Path, batch_size: int | None, floor: str
) -> None:
    """Open a fresh store at ``url``, import twice, check, and record."""
    t_open, store = time_call(lambda: Store(url))
    try:
        first = bench.measure(backend, "grapevine import_file, first import", floor)
        t1, rep1 = time_call(lambda: import_file(store, "higgs", path, batch_size=batch_size))
        t_sum, (problem, ok) = time_call(lambda: check_first(store, rep1))
        first.add(t1, rep1.rows_read, rep1.new.get("ties"), problem)
        first.passed = ok

        rerun = bench.measure(backend, "grapevine import_file, re-run (idempotent)", floor)
        t2, rep2 = time_call(lambda: import_file(store, "higgs", path, batch_size=batch_size))
        problem, ok = check_rerun(rep2)
        rerun.add(t2, rep2.rows_read, rep2.new.get("ties"), problem)
        rerun.passed = ok
        bench.extra(backend, "Store(url) on an empty database (migrations), s", t_open)
        bench.extra(backend, "Store.summary() after the import, s", t_sum)
        bench.extra(backend, "batches (transactions) per import", rep1.batches)
    finally:
        store.close()


def run_reader_only(bench: Bench, path: Path, batch_size: int | None) -> None:
    """The connector alone: decompress, parse and validate, no database."""

    def read() -> tuple[int, int]:
        rows = ties = 0
        for batch in read_higgs(path, batch_size=batch_size or 50_000):
            rows += batch.rows
            ties += 0 if batch.ties is None else len(batch.ties)
        return rows, ties

    seconds, (rows, ties) = time_call(read)
    m = bench.measure("(no database)", "grapevine read_higgs only (parse, validate)")
    m.add(seconds, rows, None, None if rows == EXPECTED_ROWS else f"rows {rows:,}")
    m.passed = f"ok: {rows:,} rows, {ties:,} ties"


# ---------------------------------------------------------------------- SQLite
SQLITE_FLOOR = "floor: sqlite3 executemany of the raw rows"


def naive_sqlite(db: Path, path: Path) -> int:
    """Split the lines and executemany them into one table, one transaction, no ids."""
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA journal_mode=WAL")  # the store's pragmas, for a fair floor
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute(
            "CREATE TABLE higgs_raw (user_a INTEGER, user_b INTEGER, time INTEGER, kind TEXT)"
        )
        with gzip.open(path, "rb") as fh, con:
            con.executemany(
                "INSERT INTO higgs_raw VALUES (?, ?, ?, ?)",
                (line.decode().split() for line in fh),
            )
        return int(con.execute("SELECT count(*) FROM higgs_raw").fetchone()[0])
    finally:
        con.close()


def bench_sqlite(bench: Bench, path: Path, args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gv-bench-import-", dir=args.tmpdir))
    try:
        url = f"sqlite:///{tmp / 'store.db'}"
        run_grapevine(bench, "SQLite", url, path, args.batch_size, SQLITE_FLOOR)
        size = sum(f.stat().st_size for f in tmp.iterdir() if f.name.startswith("store.db"))
        bench.extra("SQLite", "store file after the import, MiB", size / 2**20)
        seconds, rows = time_call(lambda: naive_sqlite(tmp / "naive.db", path))
        m = bench.measure("SQLite", SQLITE_FLOOR)
        m.add(seconds, rows, rows, None if rows == EXPECTED_ROWS else f"rows {rows:,}")
        m.passed = f"ok: {rows:,} rows"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------- PostgreSQL
PG_FLOOR = "floor: psycopg COPY of the raw rows"


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as a libpq one (``postgresql+psycopg://`` → ``postgresql://``)."""
    scheme, sep, rest = url.partition("://")
    return "postgresql" + sep + rest if scheme.startswith("postgres") else url


def with_search_path(url: str, schema: str) -> str:
    if "options=" in url:
        raise SystemExit("--pg-url must not carry options= (the benchmark sets search_path)")
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def naive_copy(conninfo: str, schema: str, path: Path) -> int:
    """COPY the decompressed file as it is into one table: the PostgreSQL floor."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        table = f'"{schema}".higgs_raw'
        conn.execute(f"CREATE TABLE {table} (user_a BIGINT, user_b BIGINT, time BIGINT, kind TEXT)")
        with (
            gzip.open(path, "rb") as fh,
            conn.cursor() as cur,
            cur.copy(f"COPY {table} FROM STDIN (FORMAT text, DELIMITER ' ')") as copy,
        ):
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                copy.write(chunk)
        conn.commit()
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]


def bench_postgres(bench: Bench, path: Path, args: argparse.Namespace) -> str | None:
    """Run the PostgreSQL measures; return the server version (None when unreachable)."""
    try:
        import psycopg
    except ImportError as exc:
        bench.unreachable.append(("PostgreSQL", f"psycopg not importable: {exc}"))
        return None
    conninfo = libpq_url(args.pg_url)
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        bench.unreachable.append(("PostgreSQL", f"not reachable at {args.pg_url}: {first_line}"))
        return None
    with admin:
        version = str(admin.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        schema = f"gv_bench_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = with_search_path(args.pg_url, schema)
            run_grapevine(bench, "PostgreSQL", url, path, args.batch_size, PG_FLOOR)
            seconds, rows = time_call(lambda: naive_copy(conninfo, schema, path))
            m = bench.measure("PostgreSQL", PG_FLOOR)
            m.add(seconds, rows, rows, None if rows == EXPECTED_ROWS else f"rows {rows:,}")
            m.passed = f"ok: {rows:,} rows"
        finally:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return version


# ---------------------------------------------------------------------- report
def fmt_figure(x: float) -> str:
    return fmt_int(x) if float(x).is_integer() else fmt_seconds(x)


def render(bench: Bench, facts: list[tuple[str, str]], repeat: int, path: Path) -> str:
    rows = []
    order = {"SQLite": 0, "PostgreSQL": 1}
    for m in sorted(bench.measures.values(), key=lambda m: order.get(m.backend, 2)):
        wall = median(m.times)
        floor = bench.measures.get((m.backend, m.floor)) if m.floor else None
        vs = f"{wall / median(floor.times):.1f}×" if floor and floor.times else ""
        if m.backend != "(no database)" and m.floor is None:
            vs = "1.0×"
        spread = (
            f" ({fmt_seconds(min(m.times))}–{fmt_seconds(max(m.times))})"
            if len(m.times) > 1
            else ""
        )
        check = "FAILED: " + "; ".join(m.problems) if m.problems else m.passed
        rows.append(
            [
                m.backend,
                m.method,
                fmt_int(m.rows),
                fmt_int(m.new_ties),
                fmt_seconds(wall) + spread,
                fmt_rate(m.rows or 0, wall),
                vs,
                check,
            ]
        )
    for backend, why in bench.unreachable:
        rows.append([backend, "—", "—", "—", "—", "—", "—", f"skipped: {why}"])
    table = markdown_table(
        ["backend", "method", "rows read", "new ties", "wall s", "rows/s", "× floor", "check"],
        rows,
        align="llrrrrrl",
    )
    runs = "one run" if repeat == 1 else f"median of {repeat} runs (min–max)"
    parts = [
        "# Import throughput: Higgs activity stream",
        "",
        f'`import_file(store, "higgs", path)` on `{path.name}` '
        f"({EXPECTED_ROWS:,} rows), a fresh database per run; wall seconds: {runs}. "
        "`rows/s` counts source rows. `× floor` is the wall time over the floor's on the same "
        "backend: the floor only loads the raw rows into one table (no person ids, no "
        "natural-key indexes, no per-batch transactions, no idempotence).",
        "",
        table,
        "",
        "Machine and versions:",
        "",
        facts_markdown(facts),
    ]
    if bench.extras:
        notes = [
            f"- {backend}: {what}: {fmt_figure(median(values))}"
            for (backend, what), values in bench.extras.items()
        ]
        parts += ["", f"Other figures ({'median of the runs' if repeat > 1 else 'one run'}):"]
        parts += ["", *notes]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--backends",
        default="sqlite,postgres",
        help="comma-separated: sqlite, postgres (default both)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per measure (default 1)")
    ap.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR / "import_throughput.md",
        help="Markdown output (default benchmarks/results/import_throughput.md)",
    )
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("GRAPEVINE_BENCH_PG_URL", DEFAULT_PG_URL),
        help=f"PostgreSQL URL (default $GRAPEVINE_BENCH_PG_URL or {DEFAULT_PG_URL});"
        " a unique schema is created in it and dropped afterwards",
    )
    ap.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="rows per transaction (default: the settings' batch_size)",
    )
    ap.add_argument("--tmpdir", default=None, help="where the SQLite files go (default: TMPDIR)")
    args = ap.parse_args(argv)
    backends = [b.strip().lower() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown or not backends:
        ap.error(f"unknown backends {sorted(unknown)}: use sqlite, postgres")
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    path = data_file(*HIGGS)
    if args.batch_size is None:
        from grapevine.config import get_settings

        batch = get_settings().batch_size
    else:
        batch = args.batch_size
    bench = Bench()
    pg_version: str | None = None
    for i in range(args.repeat):
        run = f"run {i + 1}/{args.repeat}"
        if "sqlite" in backends:
            print(f"{run}: SQLite…", file=sys.stderr, flush=True)
            bench_sqlite(bench, path, args)
        if "postgres" in backends and not bench.unreachable:
            print(f"{run}: PostgreSQL…", file=sys.stderr, flush=True)
            pg_version = bench_postgres(bench, path, args) or pg_version
        print(f"{run}: reader only…", file=sys.stderr, flush=True)
        run_reader_only(bench, path, batch)

    sqlite_version = sqlite3.sqlite_version
    if pg_version:
        pg_fact = f"server {pg_version} at {args.pg_url}"
    else:
        pg_fact = "not reachable (see the table)" if "postgres" in backends else "not measured"
    facts = machine_facts(
        ["numpy", "pandas", "sqlalchemy", "psycopg", "alembic"],
        [
            ("sqlite", f"{sqlite_version} (Python's sqlite3)"),
            ("postgresql", pg_fact),
            ("batch size", f"{batch:,} rows per transaction"),
            ("data", str(path)),
            ("command", " ".join(["python", "benchmarks/import_throughput.py", *sys.argv[1:]])),
        ],
    )
    write_report(args.out, render(bench, facts, args.repeat, path))
    return 1 if bench.failed else 0


if __name__ == "__main__":
    sys.exit(main())
