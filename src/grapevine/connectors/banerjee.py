"""The Banerjee, Chandrasekhar, Duflo and Jackson microfinance villages (Science 2013).

Household networks of Indian villages, the "leader" households the lender (BSS) informed
first, and who took up the loan. Files, as copied in ``innovations/banerjee``::

    microfi_households.csv   loan,hh,village,religion,roof,rooms,beds,electricity,ownership,leader
    microfi_edges.txt        "hh_a hh_b": undirected household links, usually both ways
    village_panel_subset/panel.dta   (optional) village x trimester panel of the replication

``hh`` is ``village * 1000 + local id``; ``loan`` (took up the microfinance loan) and
``leader`` (informed first by the bank) are 0 or 1. Edges whose households are not in the
household file are left out and counted (54 arcs in the teaching copy); an edge given in
both directions is kept once.

References
----------
Banerjee, Chandrasekhar, Duflo, Jackson. The diffusion of microfinance. Science
341(6144):1236498, 2013. Harvard Dataverse hdl:1902.1/21538.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from grapevine._io import parse_columns, read_lines
from grapevine.errors import BadInput

__all__ = ["BanerjeeVillages", "read_banerjee"]

HOUSEHOLDS_FILE = "microfi_households.csv"
EDGES_FILE = "microfi_edges.txt"
PANEL_FILE = "village_panel_subset/panel.dta"

_HOUSEHOLD_COLUMNS: dict[str, str] = {
    "loan": "int",
    "hh": "int",
    "village": "int",
    "religion": "str",
    "roof": "str",
    "rooms": "int",
    "beds": "int",
    "electricity": "int",
    "ownership": "str",
    "leader": "int",
}


class BanerjeeVillages(NamedTuple):
    """The villages as plain tables.

    Attributes
    ----------
    households : DataFrame
        One row per household: ``hh``, ``village``, ``loan`` and ``leader`` (int 0/1),
        then ``religion``, ``roof``, ``rooms``, ``beds``, ``electricity``, ``ownership``.
    edges : DataFrame
        ``hh_a < hh_b`` (int64) and ``village``: one row per undirected link between two
        households of the same village.
    unknown_edges : int
        Arcs of the edge file left out because a household is not in the household file.
    panel : DataFrame or None
        The replication's village panel (``village``, ``t``, ``dynamicMF_empirical``,
        ``*_centrality_leader``, ``numHH`` ...), or None when the file is absent.
    """

    households: pd.DataFrame
    edges: pd.DataFrame
    unknown_edges: int
    panel: pd.DataFrame | None


def _read_households(path: Path) -> pd.DataFrame:
    source = str(path)
    lines, numbers = read_lines(path, comment=None)
    if len(lines) == 0:
        raise BadInput("empty file, expected a header line", file=source, line=1)
    header = [c.strip() for c in bytes(lines[0]).decode("utf-8", "replace").split(",")]
    if header != list(_HOUSEHOLD_COLUMNS):
        raise BadInput(
            f"expected the header {','.join(_HOUSEHOLD_COLUMNS)}, got {','.join(header)[:120]!r}",
            file=source,
            line=int(numbers[0]),
        )
    frame = parse_columns(
        lines[1:],
        numbers[1:],
        source=source,
        columns=_HOUSEHOLD_COLUMNS,  # type: ignore[arg-type]
        sep=",",
    )
    for col in ("loan", "leader"):
        bad = ~frame[col].isin((0, 1)).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise BadInput(
                f"expected 0 or 1, got {frame[col].iat[i]!r}",
                file=source,
                line=int(frame["_line"].iat[i]),
                field=col,
            )
    bad = (frame["hh"] // 1000 != frame["village"]).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise BadInput(
            f"household {frame['hh'].iat[i]} is not village * 1000 + a local id "
            f"(village {frame['village'].iat[i]})",
            file=source,
            line=int(frame["_line"].iat[i]),
            field="hh",
        )
    dup = frame["hh"].duplicated().to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise BadInput(
            f"household {frame['hh'].iat[i]} appears twice",
            file=source,
            line=int(frame["_line"].iat[i]),
            field="hh",
        )
    order = ["hh", "village", "loan", "leader", "religion", "roof", "rooms", "beds"]
    order += ["electricity", "ownership"]
    return frame[order].reset_index(drop=True)


def _read_edges(path: Path, households: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    source = str(path)
    lines, numbers = read_lines(path)
    frame = parse_columns(
        lines,
        numbers,
        source=source,
        columns={"hh_a": "int", "hh_b": "int"},
    )
    a = frame["hh_a"].to_numpy(dtype=np.int64)
    b = frame["hh_b"].to_numpy(dtype=np.int64)
    known = np.isin(a, households["hh"].to_numpy()) & np.isin(b, households["hh"].to_numpy())
    across = known & (a // 1000 != b // 1000)
    if across.any():
        i = int(np.argmax(across))
        raise BadInput(
            f"link between households of two villages ({a[i]} and {b[i]})",
            file=source,
            line=int(frame["_line"].iat[i]),
            field="hh_b",
        )
    keep = known & (a != b)
    lo = np.minimum(a[keep], b[keep])
    hi = np.maximum(a[keep], b[keep])
    edges = pd.DataFrame({"hh_a": lo, "hh_b": hi}).drop_duplicates(ignore_index=True)
    edges = edges.sort_values(["hh_a", "hh_b"], ignore_index=True)
    edges["village"] = edges["hh_a"] // 1000
    return edges, int((~known).sum())


def read_banerjee(folder: str | Path) -> BanerjeeVillages:
    """Read the households, links and (if present) the village panel of the microfinance study.

    Parameters
    ----------
    folder : str or Path
        The folder holding ``microfi_households.csv`` and ``microfi_edges.txt`` (and
        optionally ``village_panel_subset/panel.dta``).

    Returns
    -------
    BanerjeeVillages
        Plain DataFrames (no graph objects: build one per village from ``edges``).

    Raises
    ------
    BadInput
        A missing file; a header other than the one above; a non-integer id or count;
        ``loan`` or ``leader`` not 0/1; an ``hh`` that is not ``village * 1000 + id`` or
        appears twice; a link between two villages. The error names the file, line and
        field.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "microfi_households.csv").write_text(
    ...     "loan,hh,village,religion,roof,rooms,beds,electricity,ownership,leader\\n"
    ...     "1,1001,1,hindu,tile,2,2,1,OWNED,1\\n0,1002,1,hindu,tile,1,1,0,OWNED,0\\n"
    ... )
    >>> _ = (d / "microfi_edges.txt").write_text("1001 1002\\n1002 1001\\n")
    >>> data = read_banerjee(d)
    >>> data.edges.to_dict("records"), data.unknown_edges, data.panel is None
    ([{'hh_a': 1001, 'hh_b': 1002, 'village': 1}], 0, True)
    """
    root = Path(folder)
    paths = [root / HOUSEHOLDS_FILE, root / EDGES_FILE]
    for path in paths:
        if not path.is_file():
            raise BadInput("file not found", file=str(path))
    households = _read_households(paths[0])
    edges, unknown = _read_edges(paths[1], households)
    panel_path = root / PANEL_FILE
    panel = None
    if panel_path.is_file():
        try:
            panel = pd.read_stata(panel_path)
        except (ValueError, OSError) as exc:
            raise BadInput(f"not a readable Stata file: {exc}", file=str(panel_path)) from exc
        for col in ("village", "t"):
            if col not in panel.columns:
                raise BadInput("column missing", file=str(panel_path), field=col)
        panel["village"] = panel["village"].astype(np.int64)
        panel["t"] = panel["t"].astype(np.int64)
    return BanerjeeVillages(households, edges, unknown, panel)
