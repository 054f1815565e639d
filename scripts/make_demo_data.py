"""Copy the demo's small slices of ../shared/data into the package (src/grapevine/data/).

Run from the project root: ``python scripts/make_demo_data.py``. The output is deterministic
(gzip without a timestamp); src/grapevine/data/PROVENANCE.md describes each file.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

SHARED = Path("../shared/data")
OUT = Path("src/grapevine/data")
LABELS3 = {"0": "negative", "1": "neutral", "2": "positive"}
SV = {"pos": "positive", "neu": "neutral", "neg": "negative"}


def _gzip(path: Path, data: bytes) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(data)
    path.write_bytes(buf.getvalue())
    print(f"{path}: {len(data):,} bytes -> {path.stat().st_size:,}")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def posts() -> bytes:
    rows: list[tuple[str, str, str, str]] = []
    s = SHARED / "sentiment"
    for name, folder, split, lang in (
        ("tweeteval-en", "en_tweeteval", "val", "en"),
        ("umsab-en", "en", "train", "en"),
        ("umsab-en", "en", "val", "en"),
        ("umsab-de", "de", "train", "de"),
        ("umsab-de", "de", "val", "de"),
    ):
        texts = _lines(s / folder / f"{split}_text.txt")
        labels = _lines(s / folder / f"{split}_labels.txt")
        rows += [
            (name, lang, LABELS3[y.strip()], t.strip()) for t, y in zip(texts, labels, strict=True)
        ]
    with open(s / "nl" / "polarity.csv", encoding="utf-8", newline="") as f:
        rows += [
            ("dutch-political", "nl", r["label"], r["text"].strip()) for r in csv.DictReader(f)
        ][:300]
    with open(s / "sv" / "swe_sentiment.csv", encoding="utf-8", newline="") as f:
        rows += [
            ("swe-sentiment", "sv", SV[r["label"]], r["text"].strip()) for r in csv.DictReader(f)
        ][:300]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["dataset", "language", "label", "text"])
    w.writerows(r for r in rows if r[3])
    return out.getvalue().encode("utf-8")


def main() -> None:
    _gzip(
        OUT / "weibo_cascades.txt.gz",
        (SHARED / "cascades/weibo_sample/weibo_sample_casflow.txt").read_bytes(),
    )
    _gzip(OUT / "ciao_trust.csv.gz", (SHARED / "trust/ciao_trust.csv").read_bytes())
    _gzip(OUT / "demo_posts.csv.gz", posts())


if __name__ == "__main__":
    main()
