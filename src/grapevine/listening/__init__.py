"""Listening: spike and negative-buzz alerts (so far), watch rules and the webcare inbox next.

:class:`SpikeDetector` raises an alert when a volume series (mentions, negative mentions per
bin) jumps far above what the same time of day has looked like over the past week (a robust
z-score on log counts, using only past data); :func:`nab_normalized_score` scores detectors the
way the Numenta Anomaly Benchmark does.
"""

from grapevine.listening._nab import (
    NAB_PROFILES,
    STANDARD_PROFILE,
    NabProfile,
    NabSeriesScore,
    nab_normalized_score,
    nab_series_score,
    read_nab_csv,
    read_nab_windows,
    scaled_sigmoid,
)
from grapevine.listening._spikes import Spike, SpikeDetector, detect_spikes

__all__ = [
    "NAB_PROFILES",
    "STANDARD_PROFILE",
    "NabProfile",
    "NabSeriesScore",
    "Spike",
    "SpikeDetector",
    "detect_spikes",
    "nab_normalized_score",
    "nab_series_score",
    "read_nab_csv",
    "read_nab_windows",
    "scaled_sigmoid",
]
