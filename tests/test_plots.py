"""Plots are written as real PNG and SVG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grapevine.cascades import build_forest
from grapevine.cascades.plot import plot_growth, plot_rt, plot_tree
from grapevine.errors import BadInput


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tree_growth_and_rt_plots(tmp_path: Path) -> None:
    f = build_forest(["r", "a", "b", "c"], [None, "r", "r", "a"], [0.0, 10.0, 20.0, 30.0])
    (png, svg) = plot_tree(f, "r", [tmp_path / "tree.png", tmp_path / "tree.svg"])
    assert _is_png(png)
    assert "<svg" in svg.read_text()
    t = 1341100800 + np.arange(50) * 60.0
    (g,) = plot_growth(t, [tmp_path / "g.png"], at=float(t[10]), forecast=(70.0, 60.0, 80.0))
    assert _is_png(g)
    rt = pd.DataFrame(
        {
            "time": t[:5],
            "r_mean": [2.0, 1.5, 1.2, 1.0, 0.8],
            "r_lower": [1.5, 1.1, 0.9, 0.7, 0.5],
            "r_upper": [2.5, 1.9, 1.5, 1.3, 1.1],
        }
    )
    (r,) = plot_rt(rt, [tmp_path / "rt.svg"], tipped_at=float(t[0]))
    assert "<svg" in r.read_text()


def test_plot_errors_are_bad_input(tmp_path: Path) -> None:
    f = build_forest(["r"], [None])
    with pytest.raises(BadInput, match="no tree with root"):
        plot_tree(f, "x", [tmp_path / "t.png"])
    with pytest.raises(BadInput, match="no times"):
        plot_growth([], [tmp_path / "g.png"])
    with pytest.raises(BadInput, match="missing column"):
        plot_rt(pd.DataFrame({"time": [0.0]}), [tmp_path / "r.png"])
