"""``grapevine influencers``: the top people per role, with the reason for each score."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grapevine.cli._output import Col, print_records, write_csv
from grapevine.cli._plan import load_graph
from grapevine.cli._render import console, errors, json_value, step
from grapevine.connectors.generic import read_csv_checked
from grapevine.errors import BadInput
from grapevine.graph import Graph
from grapevine.roles import ROLES, TIE_BREAK, influencer_roles
from grapevine.store import Store


def influencer_inputs(
    path: Path | None, db: str | None, platform: str | None, *, cache: bool = True
) -> tuple[Graph, pd.DataFrame | None]:
    """The graph (a file, or the store's ties) and, from the store, the cascades' adoptions."""
    if path is not None:
        return load_graph(path, None, None, cache=cache), None
    with Store(db, create=False) as store:
        graph = store.graph(platform=platform)
        posts = store.posts(platform=platform)
    if posts.empty or not posts["cascade_id"].notna().any():
        return graph, None
    adoptions = posts.rename(columns={"author": "user", "cascade_id": "cascade"})
    return graph, adoptions[["user", "time", "cascade"]].dropna()


def read_conversions(path: Path) -> pd.DataFrame:
    """A conversions CSV: ``exposer`` (may be empty), ``exposed``, ``converted`` (0 or 1) and
    optionally ``time`` and more columns to match on; bad values name the line and field."""
    frame = read_csv_checked(path, required=("exposer", "exposed", "converted"))
    bad = ~frame["converted"].str.strip().isin(["0", "1"])
    if bad.any():
        row = frame[bad].iloc[0]
        raise BadInput(
            f"expected 0 or 1, got {row['converted']!r}",
            file=str(path),
            line=int(row["_line"]),
            field="converted",
        )
    if frame["exposed"].str.strip().eq("").any():
        row = frame[frame["exposed"].str.strip().eq("")].iloc[0]
        raise BadInput("empty", file=str(path), line=int(row["_line"]), field="exposed")
    out = frame.drop(columns="_line")
    out["converted"] = out["converted"].str.strip().astype(int)
    out["exposer"] = out["exposer"].str.strip().replace("", None)
    if "time" in out:
        times = pd.to_numeric(out["time"], errors="coerce")
        bad = times.isna() & out["time"].str.strip().ne("")
        if bad.any():
            row = frame[bad].iloc[0]
            raise BadInput(
                f"expected a number, got {row['time']!r}",
                file=str(path),
                line=int(row["_line"]),
                field="time",
            )
        out["time"] = times
    return out


#: What fills a role that has no data, and how to get it into Grapevine.
NEEDS = {
    "connector": "connectors need ties between people: import a graph with "
    "`grapevine import edges FILE` (or `import ties`), or pass an edge-list file",
    "maven": "mavens need cascades (who adopted what, and when): import posts with parent "
    "links or cascade ids with `grapevine import cascades FILE` or `grapevine import posts "
    "FILE`, then run `grapevine influencers` on the store (an edge-list file has no cascades)",
    "salesman": "salesmen need conversions: pass --conversions FILE, a CSV with exposer, "
    "exposed, converted (0/1) and optionally time",
}


def _has_data(roles: pd.DataFrame, role: str) -> pd.Series:
    return ~roles[f"{role}_data"].astype(str).str.startswith(("no data", "not enough data"))


def _role_records(roles: pd.DataFrame, role: str, top: int) -> list[dict[str, Any]]:
    """The ``top`` people with data for ``role``, in their order (ties broken)."""
    best = roles[_has_data(roles, role)].sort_values(f"{role}_order").head(top)
    tie = TIE_BREAK[role]
    scores = roles[role].to_numpy()
    out = []
    for row in best.to_dict("records"):
        shared = int((scores == row[role]).sum()) > 1
        out.append(
            {
                "role": role,
                "order": int(row[f"{role}_order"]),
                "rank": int(row[f"{role}_rank"]),
                "tied": shared,
                "id": json_value(row["id"]),
                "score": float(row[role]),
                "tie_break": tie,
                "tie_break_value": json_value(row[tie]),
                "reason": row[f"{role}_reason"],
                "data": row[f"{role}_data"],
            }
        )
    return out


def show_influencers(
    graph: Graph,
    *,
    adoptions: pd.DataFrame | None,
    conversions: pd.DataFrame | None = None,
    top: int,
    fmt: str,
    csv_path: Path | None,
    gexf_path: Path | None,
    random_state: int,
) -> None:
    match_on = (
        ()
        if conversions is None
        else tuple(
            c for c in conversions.columns if c not in ("exposer", "exposed", "converted", "time")
        )
    )
    with step(f"scoring {graph.n_nodes:,} people as connectors, mavens, salesmen"):
        roles = influencer_roles(
            graph,
            adoptions=adoptions,
            conversions=conversions,
            match_on=match_on,
            random_state=random_state,
        )
    if csv_path is not None:
        roles.to_csv(csv_path, index=False)
        errors.print(f"wrote {csv_path}", highlight=False)
    if gexf_path is not None:
        attrs = {role: roles[role].to_numpy(dtype=np.float64) for role in ROLES}
        attrs.update({f"{role}_rank": roles[f"{role}_rank"].to_numpy() for role in ROLES})
        graph.write_gexf(gexf_path, node_attributes=attrs)
        errors.print(f"wrote {gexf_path}", highlight=False)
    if fmt == "json":
        out = {
            role: [
                {k: json_value(v) for k, v in row.items()}
                for row in roles.sort_values(f"{role}_order")
                .head(top)[
                    ["id", role, f"{role}_rank", f"{role}_order", f"{role}_reason", f"{role}_data"]
                ]
                .to_dict("records")
            ]
            for role in ROLES
        }
        print(json.dumps(out))
        return
    if fmt == "csv":
        write_csv(
            [r for role in ROLES for r in _role_records(roles, role, top)],
            ["role", "order", "rank", "tied", "id", "score", "tie_break", "tie_break_value",
             "reason", "data"],
        )  # fmt: skip
        return
    for role in ROLES:
        plural = "salesmen" if role == "salesman" else f"{role}s"
        records = _role_records(roles, role, top)
        if not records:
            console.print(f"[bold]Top {plural}[/]: none with data. {NEEDS[role]}.", highlight=False)
            console.print()
            continue
        tie = TIE_BREAK[role]
        for r in records:
            r["#"] = f"{r['order']}=" if r["tied"] else str(r["order"])
        cols = [
            Col("#", right=True),
            Col("id", "person", wrap=True),
            Col("score", cell=_score_format([r["score"] for r in records]), right=True),
            Col("tie_break_value", tie, cell=_measure, right=True, drop=1),
            Col("reason", "why", wrap=True),
        ]
        print_records(records, cols, "table", console=console, title=f"Top {plural}")
        notes = [f"scores rest on: {records[0]['data']}"]
        if any(r["tied"] for r in records):
            notes.append(f"= marks a score shared with others; ties go by {tie}, then by id")
        left = int((~_has_data(roles, role)).sum())
        if left:
            notes.append(f"{left:,} people without data are not listed")
        for note in notes:
            console.print(note, highlight=False)
        console.print()


def _score_format(scores: list[float]) -> Callable[[float], str]:
    """Two decimals, or up to four where two would make different scores look equal."""
    distinct = len(set(scores))
    digits = next((d for d in (2, 3) if len({f"{x:.{d}f}" for x in scores}) == distinct), 4)
    return lambda x: f"{x:.{digits}f}"


def _measure(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.3g}"
    return f"{int(value):,}"
