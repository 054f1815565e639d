"""Listening pipeline throughput: posts per second end to end, with the split per stage.

``python benchmarks/listening_pipeline.py [--posts N] [--backends sqlite,postgres] [--out PATH]``
writes ``benchmarks/results/listening_pipeline.md``.

The input is a generic posts JSONL built from real posts: the texts of
``sentiment/`` in four languages (de, en UMSAB tweets; nl political tweets; sv tweets and
YouTube comments), cycled to ``--posts`` lines, each with a unique id; authors drawn from the
Higgs Twitter activity stream in proportion to their activity (its heavy tail of very active
accounts); times spread over ten days; one post in five a reply to an earlier one.

Each backend runs in its own child process (so its peak memory is its own) on a fresh store
with 20 watch rules, and times ``Listener.import_file(path, "jsonl")``: parse (read and
validate the JSONL), dedupe (in the batch and against the store), language (py3langid where
the post states none), match (the 20 rules), sentiment (the shipped model), store (posts,
persons, sentiment, mentions and inbox items, one transaction per 2,000 posts). The model
and the language identifier are loaded before the clock starts. Peak memory is the child's
maximum resident set size (``getrusage``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from _common import (
    RESULTS_DIR,
    data_dir,
    data_file,
    facts_markdown,
    fmt_int,
    machine_facts,
    markdown_table,
    write_report,
)

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
GOAL = 2_000.0
STAGES = ("parse", "dedupe", "language", "match", "sentiment", "store")

# 20 brand-watch-style rules over words that occur in the four languages' posts.
RULES = {
    "trump": "trump OR donald",
    "bahn": "bahn OR zug OR bahnhof",
    "service-en": '(service OR support OR "customer care") lang:en',
    "apple": "apple OR iphone OR ipad",
    "google": "google OR android",
    "football": "football OR soccer OR fußball OR voetbal OR fotboll",
    "politics-nl": "(kabinet OR minister OR kamer) lang:nl",
    "corona": "corona OR covid OR virus OR coronavirus",
    "schule": "schule OR lehrer OR schüler",
    "svt": "svt OR tv OR tablå",
    "weather": "weather OR wetter OR weer OR väder OR rain OR regen",
    "love": "love OR liebe OR liefde OR kärlek",
    "hate": "hate OR hass OR haat OR hatar",
    "music": "music OR musik OR muziek OR song OR album",
    "game": "game OR spiel OR spel",
    "tags": "#fail OR #wtf OR #love",
    "mentions": "@user AND NOT rt",
    "money": "money OR geld OR pengar OR euro OR dollar",
    "phone": '(phone OR handy OR telefoon OR telefon) -"phone number"',
    "travel": "flight OR flug OR vlucht OR flyg OR airport OR flughafen",
}


def _higgs_authors(n_lines: int = 200_000) -> tuple[list[str], list[int]]:
    path = data_file("higgs", "higgs-activity_time.txt.gz")
    counts: Counter[str] = Counter()
    with gzip.open(path, "rt") as fh:
        for i, line in enumerate(fh):
            if i >= n_lines:
                break
            counts[line.split(" ", 1)[0]] += 1
    authors, weights = zip(*counts.items(), strict=True)
    return list(authors), list(weights)


def build_posts(path: Path, n: int, seed: int = 0) -> dict[str, int]:
    """Write ``n`` posts as generic JSONL; return the count of texts per language."""
    from grapevine.text import load_sentiment_splits

    splits = load_sentiment_splits(data_dir())
    texts: list[tuple[str, str]] = []
    for lang in ("de", "en", "nl", "sv"):
        s = splits[lang]
        texts += [(lang, t) for t in (*s.train_texts, *s.heldout_texts)]
    rng = random.Random(seed)
    rng.shuffle(texts)
    authors, weights = _higgs_authors()
    picked = rng.choices(authors, weights=weights, k=n)
    t0 = 1_341_100_000.0
    per_lang: Counter[str] = Counter()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            lang, text = texts[i % len(texts)]
            per_lang[lang] += 1
            row: dict[str, Any] = {
                "id": f"p{i}",
                "author": picked[i],
                "time": t0 + i * (10 * 86_400 / n),
                "text": text,
            }
            if i > 10 and rng.random() < 0.2:
                row["parent"] = f"p{rng.randrange(i)}"
                row["reshares"] = rng.randrange(5)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return dict(per_lang)


def _stage(seconds: dict[str, float], stage: str) -> str:
    if stage == "workers":
        found = [v for k, v in seconds.items() if k.startswith("language + sentiment")]
        return f"{found[0]:.2f}" if found else "—"
    return f"{seconds[stage]:.2f}" if stage in seconds else "—"


def run_one(backend: str, url: str, path: Path, workers: int) -> dict[str, Any]:
    """In the child: a fresh store, the rules, one timed import; the report as a dict."""
    from grapevine.listening import Listener
    from grapevine.store import Store
    from grapevine.store import listening_repo as repo
    from grapevine.text import detect_language

    store = Store(url)
    try:
        with store.engine.begin() as conn:
            for name, query in RULES.items():
                repo.add_rule(conn, name=name, query=query, now=time.time())
        listener = Listener(store, workers=workers)
        detect_language(["warm up the language identifier"])
        listener.active_rules()
        cpu0 = time.process_time()
        start = time.perf_counter()
        report = listener.import_file(path, "jsonl", platform="bench", batch_size=2_000)
        wall = time.perf_counter() - start
        cpu_main = time.process_time() - cpu0
        listener.close()  # waits for the workers, so their CPU time is counted below
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        again = time.perf_counter()
        rerun = listener.import_file(path, "jsonl", platform="bench", batch_size=2_000)
        wall_rerun = time.perf_counter() - again
    finally:
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak_worker = kids.ru_maxrss * 1024
    return {
        "backend": backend,
        "workers": workers,
        "wall": wall,
        "report": report.as_dict(),
        "rerun_wall": wall_rerun,
        "rerun_stored": rerun.stored,
        "peak_rss": peak,
        "peak_rss_worker": peak_worker,
        "cpu": cpu_main + kids.ru_utime + kids.ru_stime,
        "cpu_main": cpu_main,
    }


def _child(backend: str, url: str, path: Path, workers: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", backend, "--url", url, "--input", str(path)]
    out = subprocess.run(
        [*cmd, "--workers", str(workers)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{backend} child failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _pg_schema(url: str) -> tuple[str, Any] | None:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(parsed)
    schema = f"gv_bench_{uuid.uuid4().hex[:10]}"
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # unreachable server: reported in the table
        print(f"PostgreSQL not reachable: {exc}", file=sys.stderr)
        return None
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False), (engine, schema)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--pg-url", default=os.environ.get("GRAPEVINE_BENCH_PG_URL", DEFAULT_PG_URL))
    ap.add_argument(
        "--workers",
        default="1,2",
        help="Worker processes for language and sentiment, one run per value (1: in process).",
    )
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "listening_pipeline.md")
    ap.add_argument("--note", default="", help="A sentence added to the notes.")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.url, args.input, int(args.workers))))
        return 0

    results: list[dict[str, Any]] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posts.jsonl"
        per_lang = build_posts(path, args.posts)
        runs = [(b, int(w)) for b in args.backends.split(",") for w in args.workers.split(",")]
        for n, (backend, workers) in enumerate(runs):
            if backend == "sqlite":
                results.append(_child("sqlite", f"sqlite:///{tmp}/listen{n}.db", path, workers))
            elif backend == "postgres":
                made = _pg_schema(args.pg_url)
                if made is None:
                    problems.append("PostgreSQL not reachable: not measured")
                    continue
                url, (engine, schema) = made
                try:
                    results.append(_child("postgres", url, path, workers))
                finally:
                    import sqlalchemy as sa

                    with engine.begin() as conn:
                        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                    engine.dispose()
            else:
                raise SystemExit(f"unknown backend {backend!r}")

    rows = []
    for r in results:
        rep = r["report"]
        rate = rep["received"] / r["wall"]
        idle_s = r["cpu_main"] + (r["cpu"] - r["cpu_main"]) / r["workers"]
        rows.append(
            [
                r["backend"],
                str(r["workers"]),
                fmt_int(rep["received"]),
                f"{r['wall']:.2f}",
                f"{rate:,.0f}",
                "yes" if rate >= GOAL else "no",
                *(_stage(rep["seconds"], s) for s in STAGES),
                _stage(rep["seconds"], "workers"),
                f"{r['cpu']:.1f}",
                f"{r['cpu_main']:.1f}",
                f"{rep['received'] / r['cpu']:,.0f}",
                f"{rep['received'] / idle_s:,.0f}",
                f"{r['peak_rss'] / 2**20:,.0f}"
                + (f" + {r['peak_rss_worker'] / 2**20:,.0f}" if r["workers"] > 1 else ""),
                fmt_int(rep["matched"]),
                fmt_int(rep["unscored"]),
                f"{r['rerun_wall']:.2f} s, {r['rerun_stored']} new",
            ]
        )
        if r["rerun_stored"]:
            problems.append(f"{r['backend']}: the re-run stored {r['rerun_stored']} posts")
    table = markdown_table(
        [
            "backend",
            "workers",
            "posts",
            "seconds",
            "posts/s",
            f"≥ {GOAL:,.0f}/s",
            *(f"{s} s" for s in STAGES),
            "language + sentiment in workers s",
            "CPU s",
            "of which main process",
            "posts per CPU s",
            "estimated posts/s, idle machine",
            "peak RSS MiB",
            "matched",
            "unscored",
            "re-run",
        ],
        rows,
        "lrrrrl" + "r" * (len(STAGES) + 6) + "rrl",
    )
    langs = ", ".join(f"{k} {v:,}" for k, v in sorted(per_lang.items()))
    cmd = "python benchmarks/listening_pipeline.py " + " ".join(sys.argv[1:])
    notes = [
        f"Input: {args.posts:,} posts as generic JSONL (texts per language: {langs}); "
        "authors from the Higgs activity stream weighted by activity; 20% replies.",
        f"{len(RULES)} watch rules (see RULES in the script); one transaction per 2,000 posts.",
        "Stages are the seconds inside `Listener.import_file` (parse includes reading and "
        "validating the JSONL); `seconds` is the whole call.",
        "Re-run: the same file again on the same store; every post is already stored, so "
        "nothing is scored or written (it must store 0).",
        "workers 1: the whole pipeline in one Python process; workers 2: language and "
        "sentiment split over two forked worker processes while the main process parses, "
        "matches and stores. PostgreSQL's server is another process.",
        "CPU s: user + system seconds of the pipeline's processes (the main one and its "
        "workers; not PostgreSQL's server) for the timed import; posts per CPU s is what one "
        "uncontended core would do. With workers, an idle two-core machine would take at "
        "least max(main, total / 2) and at most main + (total - main) / 2 seconds (the "
        "pipeline does not overlap a batch's scoring with the next batch's parsing). "
        "The estimated rate uses that upper bound: posts / (main + (total - main) / workers); "
        "it is computed from CPU seconds, not measured. "
        "Peak RSS: the main process (+ the largest worker).",
    ]
    if args.note:
        notes.append(args.note)
    notes += problems
    text = "\n".join(
        [
            "# Listening pipeline throughput",
            "",
            f"Command: `{cmd.strip()}`",
            "",
            table,
            "",
            *(f"- {n}" for n in notes),
            "",
            "## Machine",
            "",
            facts_markdown(machine_facts(["sqlalchemy", "psycopg", "py3langid", "numpy"])),
        ]
    )
    write_report(args.out, text)
    return 1 if any("re-run stored" in p for p in problems) else 0


if __name__ == "__main__":
    raise SystemExit(main())
