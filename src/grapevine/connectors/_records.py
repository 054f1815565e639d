"""What every connector yields: batches of records, validated, ready for the store."""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from grapevine._validation import COUNT, TIME, WEIGHT, Domain, text_problem
from grapevine.errors import BadInput

__all__ = ["PERSON_COLUMNS", "POST_COLUMNS", "TIE_COLUMNS", "Batch", "check_batch"]

PERSON_COLUMNS = ("handle", "display_name", "followers", "attributes")
TIE_COLUMNS = ("source", "target", "kind", "weight", "time")
POST_COLUMNS = (
    "external_id",
    "author",
    "time",
    "text",
    "language",
    "url",
    "parent_external_id",
    "cascade_id",
    "likes",
    "reshares",
    "replies",
    "views",
)


@dataclass
class Batch:
    """Records read from one block of a source, every row already validated.

    Persons are named by their ``handle`` on ``platform``; ties and posts refer
    to persons by handle, and the store creates the persons they name.

    Attributes
    ----------
    platform : str
        The namespace of the handles and post ids in this batch.
    rows : int
        Source rows (lines, records) this batch covers.
    persons, ties, posts : DataFrame or None
        Columns as in ``PERSON_COLUMNS``, ``TIE_COLUMNS``, ``POST_COLUMNS``;
        missing values are None or NaN. Times are float Unix seconds.
    notes : list of str
        Things the reader should be told (multi-edges merged, ids renamed...).
    """

    platform: str
    rows: int
    persons: pd.DataFrame | None = None
    ties: pd.DataFrame | None = None
    posts: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rows of each record kind in this batch."""
        return {
            "persons": 0 if self.persons is None else len(self.persons),
            "ties": 0 if self.ties is None else len(self.ties),
            "posts": 0 if self.posts is None else len(self.posts),
        }


_KEYS = {"persons": "handle", "ties": "source", "posts": "external_id"}
_NUMBERS: dict[str, Domain] = {
    "followers": COUNT,
    "weight": WEIGHT,
    "time": TIME,
    "likes": COUNT,
    "reshares": COUNT,
    "replies": COUNT,
    "views": COUNT,
}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_batch(batch: Batch, *, source: str | None = None) -> None:
    """Raise :class:`BadInput` for the first value of ``batch`` outside its domain.

    The store's last check before writing, whatever connector made the batch: numbers as in
    :mod:`grapevine._validation` (times in ``TIME``, counters in ``COUNT``, finite weights),
    text without NUL or unpaired surrogates (attributes are JSON text by then). Vectorised:
    one pass per column. The error names the column and the record (its handle or id).
    """
    for kind in ("persons", "ties", "posts"):
        frame: pd.DataFrame | None = getattr(batch, kind)
        if frame is None or frame.empty:
            continue
        for column in frame.columns:
            series = frame[column]
            domain = _NUMBERS.get(str(column))
            if domain is not None:
                values = pd.to_numeric(series, errors="coerce").to_numpy(float)
                bad = ~np.isnan(values) & ~_inside(values, domain)
                bad |= np.isnan(values) & series.notna().to_numpy()
            elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
                texts = series.dropna()
                if not isinstance(texts.dtype, pd.StringDtype):
                    texts = texts[texts.map(lambda v: isinstance(v, str)).astype(bool)]
                hits = texts.str.contains(_UNSTORABLE)
                bad = series.index.isin(hits.index[hits.to_numpy(bool)])
            else:
                continue
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                value = series.iloc[row]
                value = value.item() if isinstance(value, np.generic) else value
                if domain is not None:
                    what = domain.problem(value) or f"must be {domain.expected}"
                else:
                    what = text_problem(str(value)) or "is not storable text"
                record = frame[_KEYS[kind]].iloc[row] if _KEYS[kind] in frame else row
                raise BadInput(f"{kind[:-1]} {record!r}: {what}", file=source, field=str(column))


def _inside(values: np.ndarray, domain: Domain) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(values) & (values >= domain.low)
        ok &= values <= domain.high if domain.high_closed else values < domain.high
        if domain.kind is numbers.Integral:
            ok &= values == np.floor(values)
    return np.asarray(ok)
