"""Seed costs for budgeted plans: named schemes and cost files."""

from __future__ import annotations

import csv
import math
from os import PathLike
from pathlib import Path

import numpy as np

from grapevine._validation import check_choice
from grapevine.errors import BadInput
from grapevine.graph import Graph

__all__ = ["COST_SCHEMES", "read_seed_costs", "scheme_costs"]

COST_SCHEMES = ("uniform", "degree")
"""The named cost schemes of :func:`scheme_costs`."""


def scheme_costs(graph: Graph, scheme: str) -> np.ndarray:
    """The cost of seeding every person under a named scheme.

    Parameters
    ----------
    graph : Graph
    scheme : {"uniform", "degree"}
        ``uniform``: 1 each (a budget is then a number of seeds); ``degree``: 1 plus the
        out-degree, a proxy for what people with a large audience ask.

    Returns
    -------
    ndarray of float64, shape (graph.n_nodes,)

    Raises
    ------
    InvalidParameter
        An unknown scheme.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c")])
    >>> scheme_costs(g, "degree").tolist()
    [3.0, 1.0, 1.0]
    """
    check_choice(scheme, "scheme", "scheme_costs", COST_SCHEMES)
    if scheme == "uniform":
        return np.ones(graph.n_nodes, dtype=np.float64)
    return 1.0 + graph.out_degree().astype(np.float64)


def _cost(text: str, path: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadInput(
            f"{text!r} is not a number", file=str(path), line=line, field="cost"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise BadInput(
            f"a cost must be a finite number >= 0, not {text!r}",
            file=str(path),
            line=line,
            field="cost",
        )
    return value


def _pairs(path: Path, lines: list[tuple[int, str]]) -> list[tuple[int, str, str]]:
    """``(line number, id, cost text)`` from ``id cost`` lines or a CSV with id,cost."""
    pairs: list[tuple[int, str, str]] = []
    if "," not in lines[0][1]:
        for number, line in lines:
            parts = line.split()
            if len(parts) != 2:
                raise BadInput(
                    f"expected 'id cost', got {len(parts)} fields",
                    file=str(path),
                    line=number,
                    field="cost" if len(parts) == 1 else None,
                )
            pairs.append((number, parts[0], parts[1]))
        return pairs
    rows = list(csv.reader([line for _, line in lines]))
    header = [h.strip().lower() for h in rows[0]]
    for col in ("id", "cost"):
        if col not in header:
            raise BadInput(
                "a CSV cost file needs a header with columns id and cost",
                file=str(path),
                line=lines[0][0],
                field=col,
            )
    i_id, i_cost = header.index("id"), header.index("cost")
    for (number, _), row in zip(lines[1:], rows[1:], strict=True):
        if len(row) <= max(i_id, i_cost):
            field = "cost" if len(row) > i_id else "id"
            raise BadInput("missing value", file=str(path), line=number, field=field)
        pairs.append((number, row[i_id].strip(), row[i_cost].strip()))
    return pairs


def read_seed_costs(
    graph: Graph, path: str | PathLike[str], *, default: float | None = None
) -> np.ndarray:
    """The cost of every person from an ``id cost`` file, or a CSV with columns ``id,cost``.

    Blank lines and ``#`` comments are skipped; a first line holding a comma makes the
    file a CSV whose header names the ``id`` and ``cost`` columns (in any order, other
    columns ignored). People of the file who are not in the graph are ignored; people
    of the graph missing from the file cost ``default``, or are an error naming how
    many and the first few.

    Parameters
    ----------
    graph : Graph
    path : path-like
        The cost file (UTF-8).
    default : float, optional
        The cost of the people the file leaves out.

    Returns
    -------
    ndarray of float64, shape (graph.n_nodes,)
        Ready for :class:`~grapevine.influence.BudgetedIMM` and
        :func:`~grapevine.influence.reach_curve`.

    Raises
    ------
    BadInput
        A missing or unreadable file, a line without two fields, a non-numeric,
        negative or infinite cost, an id given twice, or people without a cost (no
        ``default``); the error names the file, the line and the field.

    Notes
    -----
    One pass over the file and one vectorised id lookup: O(lines + n).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "costs.csv"
    ...     _ = path.write_text("id,cost\\na,2.5\\nc,1\\nz,9\\n")
    ...     read_seed_costs(g, path, default=4).tolist()
    [2.5, 4.0, 1.0]
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput("no such file", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the cost file: {exc}", file=str(path)) from None
    lines = [
        (i, line.strip())
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise BadInput("the cost file lists no costs", file=str(path))
    pairs = _pairs(path, lines)
    costs = np.full(graph.n_nodes, np.nan)
    ids = np.array([p[1] for p in pairs], dtype=object)
    where = graph.positions(ids) if len(ids) else np.empty(0, dtype=np.int64)
    for (number, label, value), pos in zip(pairs, where.tolist(), strict=True):
        cost = _cost(value, path, number)
        if pos < 0:
            continue
        if not math.isnan(costs[pos]):
            raise BadInput(f"{label!r} is given a cost twice", file=str(path), line=number)
        costs[pos] = cost
    missing = np.flatnonzero(np.isnan(costs))
    if missing.size:
        if default is None:
            first = ", ".join(repr(_plain(x)) for x in graph.ids[missing[:5]])
            raise BadInput(
                f"{missing.size:,} of {graph.n_nodes:,} people have no cost (first: {first}); "
                "add them or give a default cost",
                file=str(path),
                field="cost",
            )
        costs[missing] = default
    return costs


def _plain(label: object) -> object:
    return label.item() if isinstance(label, np.generic) else label
