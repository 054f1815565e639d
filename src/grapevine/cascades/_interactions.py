"""Cascades of interactions around one person: who retweeted whom, and how fast."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grapevine._validation import check_number
from grapevine.errors import BadInput

__all__ = ["activity_curve", "retweet_cascades"]


def retweet_cascades(ties: pd.DataFrame, *, top: int | None = 10) -> pd.DataFrame:
    """Summarise the retweet cascade of each retweeted author.

    Twitter attributes every retweet to the original author, so the retweets
    of one author form a star-shaped cascade rooted at that author; this
    summary is what can be said without the follower graph (the tree
    reconstruction comes with ``grapevine.cascades`` trees).

    Parameters
    ----------
    ties : DataFrame
        Columns ``source`` (the retweeter), ``target`` (the retweeted author),
        ``time`` (Unix seconds), as :meth:`grapevine.store.Store.ties` returns
        for ``kinds=["retweeted"]``.
    top : int or None
        Keep the largest ``top`` cascades (all when None).

    Returns
    -------
    DataFrame
        One row per root author, largest first: ``root``, ``retweets``,
        ``retweeters`` (distinct), ``first`` and ``last`` (Unix seconds),
        ``hours_to_half`` (from the first retweet until half of them had
        arrived), ``peak_hour`` (start of the busiest hour, Unix seconds)
        and ``peak_share`` (fraction of the retweets in that hour).

    Notes
    -----
    O(m log m) for m retweets (one sort).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"source": ["b", "c", "d", "c"], "target": ["a", "a", "a", "b"],
    ...                   "time": [0.0, 3600.0, 7200.0, 60.0]})
    >>> retweet_cascades(t)[["root", "retweets", "retweeters", "hours_to_half"]]
      root  retweets  retweeters  hours_to_half
    0    a         3           3            1.0
    1    b         1           1            0.0
    """
    for col in ("source", "target", "time"):
        if col not in ties.columns:
            raise BadInput(f"missing column {col!r}", field=col)
    if top is not None:
        check_number(top, "top", "retweet_cascades", low=1)
    frame = ties[["source", "target", "time"]].dropna(subset=["time"])
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "root",
                "retweets",
                "retweeters",
                "first",
                "last",
                "hours_to_half",
                "peak_hour",
                "peak_share",
            ]
        )
    frame = frame.sort_values(["target", "time"], kind="stable")
    g = frame.groupby("target", sort=False)
    out = pd.DataFrame(
        {
            "retweets": g.size(),
            "retweeters": g["source"].nunique(),
            "first": g["time"].min(),
            "last": g["time"].max(),
        }
    )
    # time by which half of the retweets had arrived: the ceil(n/2)-th time in order
    rank = g.cumcount().to_numpy() + 1
    size = frame["target"].map(out["retweets"]).to_numpy()
    half = frame.loc[rank == np.ceil(size / 2.0)].set_index("target")["time"]
    out["hours_to_half"] = (half - out["first"]) / 3600.0
    hours = np.floor(frame["time"].to_numpy() / 3600.0) * 3600.0
    per_hour = frame.assign(hour=hours).groupby(["target", "hour"]).size()
    peak = per_hour.groupby(level=0).idxmax().map(lambda ix: ix[1])
    out["peak_hour"] = peak
    out["peak_share"] = per_hour.groupby(level=0).max() / out["retweets"]
    out = out.rename_axis("root").reset_index()
    out = out.sort_values(["retweets", "root"], ascending=[False, True], kind="stable")
    if top is not None:
        out = out.head(top)
    return out.reset_index(drop=True)


def activity_curve(times: np.ndarray, *, bin_seconds: float = 3600.0) -> pd.Series:
    """Counts of events per time bin, every bin from the first to the last present.

    >>> activity_curve(np.array([0.0, 10.0, 7300.0])).tolist()
    [2, 0, 1]
    """
    check_number(bin_seconds, "bin_seconds", "activity_curve", low=0, low_closed=False)
    t = np.asarray(times, dtype=np.float64)
    t = t[np.isfinite(t)]
    if t.size == 0:
        return pd.Series(dtype=np.int64)
    start = np.floor(t.min() / bin_seconds) * bin_seconds
    idx = ((t - start) // bin_seconds).astype(np.int64)
    counts = np.bincount(idx)
    return pd.Series(counts, index=start + bin_seconds * np.arange(len(counts)))
