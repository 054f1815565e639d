"""The SNAP Higgs Twitter activity stream: who retweeted, mentioned or replied to whom, when.

Format (space separated, one action a line)::

    userA userB timestamp interaction     # interaction in RT, MT, RE

``RT``: A retweeted B; ``MT``: A mentioned B; ``RE``: A replied to B. Each
line becomes a timed :class:`Tie` from A to B of kind ``retweeted``,
``mentioned`` or ``replied`` (the direction of the action; influence flows
from B to A).

References
----------
De Domenico, Lima, Mougel, Musolesi. The anatomy of a scientific rumor.
Scientific Reports 3:2980 (2013).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from grapevine._io import iter_line_blocks, parse_columns
from grapevine.connectors._records import Batch
from grapevine.errors import BadInput

__all__ = ["INTERACTIONS", "read_higgs"]

INTERACTIONS = {"RT": "retweeted", "MT": "mentioned", "RE": "replied"}


def read_higgs(
    path: str | Path, *, batch_size: int = 50_000, platform: str = "higgs"
) -> Iterator[Batch]:
    """Stream the Higgs activity file as batches of timed ties.

    Parameters
    ----------
    path : str or Path
        ``higgs-activity_time.txt`` (gzip or plain).
    batch_size : int
        Lines per batch.
    platform : str
        Namespace for the anonymised user ids (they are not Twitter ids).

    Raises
    ------
    BadInput
        For a line without four fields, a non-integer id or time, or an
        interaction other than RT, MT or RE.
    """
    source = str(path)
    columns = {"user_a": "int", "user_b": "int", "time": "int", "interaction": "str"}
    for lines, numbers in iter_line_blocks(path, block_lines=batch_size):
        frame = parse_columns(lines, numbers, source=source, columns=columns)  # type: ignore[arg-type]
        kinds = frame["interaction"].map(INTERACTIONS)
        bad = kinds.isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise BadInput(
                f"expected RT, MT or RE, got {str(frame['interaction'].iat[i])[:20]!r}",
                file=source,
                line=int(frame["_line"].iat[i]),
                field="interaction",
            )
        ties = pd.DataFrame(
            {
                "source": frame["user_a"].astype(str),
                "target": frame["user_b"].astype(str),
                "kind": kinds,
                "weight": 1.0,
                "time": frame["time"].astype(np.float64),
            }
        )
        yield Batch(platform=platform, rows=len(frame), ties=ties)
