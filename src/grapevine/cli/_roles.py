"""``grapevine influencers``: the top people per role, with the reason for each score."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from rich.table import Table

from grapevine.cli._plan import load_graph
from grapevine.cli._render import console, json_value
from grapevine.connectors.generic import read_csv_checked
from grapevine.errors import BadInput
from grapevine.graph import Graph
from grapevine.roles import ROLES, influencer_roles
from grapevine.store import Store


def influencer_inputs(
    path: Path | None, db: str | None, platform: str | None
) -> tuple[Graph, pd.DataFrame | None]:
    """The graph (a file, or the store's ties) and, from the store, the cascades' adoptions."""
    if path is not None:
        return load_graph(path, None, None), None
    with Store(db) as store:
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


def show_influencers(
    graph: Graph,
    *,
    adoptions: pd.DataFrame | None,
    conversions: pd.DataFrame | None = None,
    top: int,
    as_json: bool,
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
    roles = influencer_roles(
        graph,
        adoptions=adoptions,
        conversions=conversions,
        match_on=match_on,
        random_state=random_state,
    )
    if csv_path is not None:
        roles.to_csv(csv_path, index=False)
        console.print(f"wrote {csv_path}", highlight=False)
    if gexf_path is not None:
        attrs = {role: roles[role].to_numpy(dtype=np.float64) for role in ROLES}
        attrs.update({f"{role}_rank": roles[f"{role}_rank"].to_numpy() for role in ROLES})
        graph.write_gexf(gexf_path, node_attributes=attrs)
        console.print(f"wrote {gexf_path}", highlight=False)
    if as_json:
        out = {
            role: [
                {k: json_value(v) for k, v in row.items()}
                for row in roles.sort_values(f"{role}_rank")
                .head(top)[["id", role, f"{role}_rank", f"{role}_reason", f"{role}_data"]]
                .to_dict("records")
            ]
            for role in ROLES
        }
        print(json.dumps(out))
        return
    for role in ROLES:
        plural = "salesmen" if role == "salesman" else f"{role}s"
        table = Table(title=f"Top {plural}", title_justify="left")
        for col in ("rank", "person", "score", "why"):
            table.add_column(col, justify="right" if col in ("rank", "score") else "left")
        best = roles.sort_values(f"{role}_rank").head(top)
        for row in best.itertuples(index=False):
            table.add_row(
                str(getattr(row, f"{role}_rank")),
                str(row.id)[:24],
                f"{getattr(row, role):.2f}",
                str(getattr(row, f"{role}_reason")),
            )
        console.print(table)
        console.print(
            f"{role} scores rest on: {best[f'{role}_data'].iloc[0] if len(best) else '-'}"
        )
