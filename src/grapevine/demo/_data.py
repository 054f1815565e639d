"""The data files the demo imports: small slices shipped in ``grapevine.data``.

src/grapevine/data/PROVENANCE.md says where each comes from, how it was cut
(``scripts/make_demo_data.py``) and which paper to cite.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["CIAO", "HIGGS", "POSTS", "WEIBO", "LabelledPost", "data_file", "labelled_posts"]

HIGGS = "higgs_activity_slice.txt.gz"
"""SNAP Higgs Twitter, the first 80 hours (De Domenico et al. 2013)."""
WEIBO = "weibo_cascades.txt.gz"
"""30 Sina Weibo cascades with their retweet paths (DeepHawkes, CasFlow sample)."""
CIAO = "ciao_trust.csv.gz"
"""The Ciao review community's trust graph (Tang, Gao, Liu 2012)."""
POSTS = "demo_posts.csv.gz"
"""Labelled social posts in four languages (TweetEval, UMSAB, Dutch and Swedish sets)."""


@contextmanager
def data_file(name: str) -> Iterator[Path]:
    """A real path to the shipped file ``name`` for the duration of the block."""
    with as_file(files("grapevine.data") / name) as path:
        yield Path(path)


@dataclass(frozen=True)
class LabelledPost:
    """One post of the shipped sentiment sets: where it comes from, its language, the
    label its annotators gave it and its text (line is its line in the CSV, from 2)."""

    line: int
    dataset: str
    language: str
    label: str
    text: str


def labelled_posts() -> list[LabelledPost]:
    """The posts of :data:`POSTS`, in file order."""
    with data_file(POSTS) as path:
        raw = gzip.decompress(path.read_bytes()).decode("utf-8")
    reader = csv.DictReader(io.StringIO(raw, newline=""))
    return [
        LabelledPost(i, r["dataset"], r["language"], r["label"], r["text"])
        for i, r in enumerate(reader, start=2)
    ]
