"""netdiffuseR-style diffusion tables: a node table with time of adoption, and nomination edges.

``nodes``: CSV with columns ``node``, ``toa`` (time of adoption, a period
number) and any others (``community``, ...), which become person attributes.
By the package's convention non-adopters carry the last period + 1; pass
``censored`` (or leave the default, the largest ``toa`` in the file when the
file has a value that marks non-adoption) to say which value means "never".
Missing ``toa`` also means never. Each adopter gets one adoption post in the
cascade named ``innovation``, with ``time`` = its period.

``edges`` (optional): CSV with ``ego``, ``alter`` and optional ``relation``
columns; each dyad becomes one ``nominated`` tie from ego to alter whose weight
is the number of relations naming it.

References
----------
Valente (1995). Network Models of the Diffusion of Innovations.
Vega Yon and Valente. netdiffuseR: Analysis of Diffusion and Contagion Processes on Networks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from grapevine.connectors._records import Batch
from grapevine.connectors.generic import read_csv_checked
from grapevine.errors import BadInput

__all__ = ["read_netdiffuser"]


def read_netdiffuser(
    nodes: str | Path,
    *,
    edges: str | Path | None = None,
    innovation: str = "innovation",
    censored: float | None = None,
    batch_size: int = 50_000,
    platform: str = "netdiffuser",
) -> Iterator[Batch]:
    """Read a node/adoption-time table (and optionally its edges) as persons, posts and ties."""
    table = read_csv_checked(nodes, required=("node", "toa"))
    src = str(nodes)
    node = table["node"].astype(str).str.strip()
    if (node == "").any():
        i = int(np.argmax((node == "").to_numpy()))
        raise BadInput("empty node id", file=src, line=int(table["_line"].iat[i]), field="node")
    toa = pd.to_numeric(table["toa"].replace("", np.nan).replace("NA", np.nan), errors="coerce")
    bad = toa.isna() & ~table["toa"].isin(["", "NA"])
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise BadInput(
            f"expected a number, got {table['toa'].iat[i]!r}",
            file=src,
            line=int(table["_line"].iat[i]),
            field="toa",
        )
    never = censored if censored is not None else float(toa.max())
    adopted = toa.notna() & (toa < never)
    notes = [f"toa = {never:g} read as 'never adopted' ({int((~adopted).sum()):,} persons)"]
    extra = [c for c in table.columns if c not in ("node", "toa", "_line")]
    attributes = (
        [
            {**{c: _scalar(row[c]) for c in extra}, "toa": None if pd.isna(t) else float(t)}
            for row, t in zip(table[extra].to_dict("records"), toa.tolist(), strict=True)
        ]
        if extra
        else [{"toa": None if pd.isna(t) else float(t)} for t in toa.tolist()]
    )
    persons = pd.DataFrame(
        {"handle": node, "display_name": None, "followers": np.nan, "attributes": attributes}
    )
    posts = pd.DataFrame(
        {
            "external_id": innovation + "/" + node[adopted],
            "author": node[adopted],
            "time": toa[adopted].astype(float),
            "cascade_id": innovation,
        }
    )
    ties = None
    rows = len(table)
    if edges is not None:
        e = read_csv_checked(edges, required=("ego", "alter"))
        rows += len(e)
        ego, alter = e["ego"].astype(str).str.strip(), e["alter"].astype(str).str.strip()
        empty = ((ego == "") | (alter == "")).to_numpy()
        if empty.any():
            i = int(np.argmax(empty))
            raise BadInput("empty ego or alter", file=str(edges), line=int(e["_line"].iat[i]))
        dyads = (
            pd.DataFrame({"source": ego, "target": alter})
            .groupby(["source", "target"], as_index=False, sort=False)
            .size()
        )
        notes.append(
            f"{len(e):,} nominations form {len(dyads):,} distinct dyads "
            "(weight = number of relations naming the dyad)"
        )
        ties = pd.DataFrame(
            {
                "source": dyads["source"],
                "target": dyads["target"],
                "kind": "nominated",
                "weight": dyads["size"].astype(float),
                "time": np.nan,
            }
        )
    yield Batch(
        platform=platform,
        rows=rows,
        persons=persons,
        posts=posts,
        ties=ties,
        notes=notes,
    )


def _scalar(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value in ("", "NA"):
        return None
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number
