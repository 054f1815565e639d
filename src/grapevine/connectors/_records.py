"""What every connector yields: batches of records, validated, ready for the store."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["PERSON_COLUMNS", "POST_COLUMNS", "TIE_COLUMNS", "Batch"]

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
