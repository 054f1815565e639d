"""The Banerjee et al. microfinance villages reader: the real files and a tiny fixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grapevine.connectors import BanerjeeVillages, read_banerjee
from grapevine.errors import BadInput

HEADER = "loan,hh,village,religion,roof,rooms,beds,electricity,ownership,leader\n"


def write_villages(folder: Path, households: str, edges: str) -> Path:
    (folder / "microfi_households.csv").write_text(HEADER + households)
    (folder / "microfi_edges.txt").write_text(edges)
    return folder


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    households = (
        "1,1001,1,hindu,tile,2,2,1,OWNED,1\n"
        "0,1002,1,hindu,rcc,1,1,0,LEASED,0\n"
        "0,1003,1,islam,tile,3,4,1,OWNED,0\n"
        "1,2001,2,hindu,thatch,1,2,0,OWNED,1\n"
        "0,2002,2,hindu,tile,2,2,1,OWNED,0\n"
    )
    edges = "1001 1002\n1002 1001\n1002 1003\n2001 2002\n2002 2002\n1001 1999\n"
    return write_villages(tmp_path, households, edges)


def test_tiny_villages(tiny: Path) -> None:
    data = read_banerjee(tiny)
    assert isinstance(data, BanerjeeVillages)
    h = data.households
    assert h["hh"].tolist() == [1001, 1002, 1003, 2001, 2002]
    assert h["village"].tolist() == [1, 1, 1, 2, 2]
    assert h["loan"].tolist() == [1, 0, 0, 1, 0]
    assert h["leader"].tolist() == [1, 0, 0, 1, 0]
    assert h["religion"].tolist()[2] == "islam"
    # both directions kept once, the self-loop dropped, the unknown household counted
    assert data.edges[["hh_a", "hh_b"]].values.tolist() == [
        [1001, 1002],
        [1002, 1003],
        [2001, 2002],
    ]
    assert data.edges["village"].tolist() == [1, 1, 2]
    assert data.unknown_edges == 1
    assert data.panel is None


@pytest.mark.parametrize(
    ("households", "edges", "line", "field"),
    [
        ("2,1001,1,hindu,tile,2,2,1,OWNED,1\n", "", 2, "loan"),
        ("0,1001,1,hindu,tile,2,2,1,OWNED,7\n", "", 2, "leader"),
        ("0,1001,1,hindu,tile,2,2,1,OWNED,0\n0,2001,1,hindu,tile,2,2,1,OWNED,0\n", "", 3, "hh"),
        ("0,1001,1,hindu,tile,2,2,1,OWNED,0\n0,1001,1,hindu,tile,2,2,1,OWNED,0\n", "", 3, "hh"),
        ("0,1001,1,hindu,tile,two,2,1,OWNED,0\n", "", 2, "rooms"),
        ("0,1001,1,hindu,tile,2,2,1,OWNED,0\n", "1001 x\n", 1, "hh_b"),
        (
            "0,1001,1,hindu,tile,2,2,1,OWNED,0\n0,2001,2,hindu,tile,2,2,1,OWNED,0\n",
            "1001 1001\n1001 2001\n",
            2,
            "hh_b",
        ),
    ],
)
def test_bad_rows_name_file_line_and_field(
    tmp_path: Path, households: str, edges: str, line: int, field: str
) -> None:
    write_villages(tmp_path, households, edges)
    with pytest.raises(BadInput) as info:
        read_banerjee(tmp_path)
    assert info.value.line == line
    assert info.value.field == field
    assert info.value.file is not None
    assert info.value.file.startswith(str(tmp_path))


def test_bad_header_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "microfi_households.csv").write_text("hh,village,loan\n1001,1,0\n")
    (tmp_path / "microfi_edges.txt").write_text("")
    with pytest.raises(BadInput, match="expected the header") as info:
        read_banerjee(tmp_path)
    assert info.value.line == 1
    (tmp_path / "microfi_edges.txt").unlink()
    with pytest.raises(BadInput, match="file not found"):
        read_banerjee(tmp_path)


@pytest.mark.shared_data
def test_real_villages(data_dir: Path) -> None:
    data = read_banerjee(data_dir / "innovations" / "banerjee")
    h = data.households
    assert len(h) == 8622
    assert h["village"].nunique() == 38
    assert h["loan"].mean() == pytest.approx(0.146, abs=0.001)  # PROVENANCE.txt
    assert set(h["leader"].unique()) == {0, 1}
    e = data.edges
    assert (e["hh_a"] < e["hh_b"]).all()
    assert np.isin(e[["hh_a", "hh_b"]].to_numpy(), h["hh"].to_numpy()).all()
    assert not e.duplicated(["hh_a", "hh_b"]).any()
    assert data.unknown_edges == 54
    assert len(e) == 40151  # 80,356 arcs, each link both ways, less the unknown
    assert data.panel is not None
    assert {"village", "t", "dynamicMF_empirical", "eigenvector_centrality_leader"} <= set(
        data.panel.columns
    )
    assert data.panel["village"].nunique() == 43
