"""Listening: watch rules, spike and negative-buzz alerts and what grew behind them.

:class:`WatchRule` parses a boolean keyword query (phrases, hashtags, mentions, exclusions,
languages) and matches posts as they arrive; :func:`what_grew` explains an alert by the terms,
authors and cascades that grew in its window.

:class:`SpikeDetector` raises an alert when a volume series (mentions, negative mentions per
bin) jumps far above what the same time of day has looked like over the past week (a robust
z-score on log counts, using only past data); :func:`nab_normalized_score` scores detectors the
way the Numenta Anomaly Benchmark does.

:class:`Listener` runs the pipeline (dedupe, language, rules, sentiment) from the sources or a
file into the store, one transaction per batch with the source's cursor; the webcare inbox
(:func:`inbox_items`, :func:`assign` ... :func:`resolve`, :func:`response_stats`) ranks the
matched posts by a priority whose parts are shown; :func:`buzz_alerts` runs the spike detector
on the store's hourly mentions and negative mentions per rule (docs/listening.md).
"""

from grapevine.listening._alert_delivery import alert_payload, raise_alerts
from grapevine.listening._alerts_store import BuzzAlert, buzz_alerts, hourly_series
from grapevine.listening._explain import (
    AuthorGrowth,
    CascadeGrowth,
    TermGrowth,
    WhatGrew,
    what_grew,
)
from grapevine.listening._inbox import (
    Priority,
    PriorityWeights,
    approve,
    assign,
    draft,
    inbox_items,
    priority,
    resolve,
    response_stats,
    send,
)
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
from grapevine.listening._pipeline import (
    IMPORT_FORMATS,
    IngestReport,
    Listener,
    SourceReport,
    build_source,
    correct_sentiment,
    dedupe_posts,
    resolve_languages,
)
from grapevine.listening._routing import DEFAULT_MIN_INFLUENCE, InboxRouting
from grapevine.listening._rules import (
    MatchText,
    WatchRule,
    match_rules,
    normalize_text,
    rule_grouping,
)
from grapevine.listening._spikes import Spike, SpikeDetector, detect_spikes
from grapevine.listening._summary import (
    SENTIMENT_LABELS,
    AuthorVolume,
    ListeningSummary,
    Story,
    TermCount,
    Thread,
    listening_summary,
    mention_bounds,
    mention_posts,
    post_thread,
    summarize_mentions,
    time_bins,
    top_stories,
)

__all__ = [
    "DEFAULT_MIN_INFLUENCE",
    "IMPORT_FORMATS",
    "NAB_PROFILES",
    "SENTIMENT_LABELS",
    "STANDARD_PROFILE",
    "AuthorGrowth",
    "AuthorVolume",
    "BuzzAlert",
    "CascadeGrowth",
    "InboxRouting",
    "IngestReport",
    "Listener",
    "ListeningSummary",
    "MatchText",
    "NabProfile",
    "NabSeriesScore",
    "Priority",
    "PriorityWeights",
    "SourceReport",
    "Spike",
    "SpikeDetector",
    "Story",
    "TermCount",
    "TermGrowth",
    "Thread",
    "WatchRule",
    "WhatGrew",
    "alert_payload",
    "approve",
    "assign",
    "build_source",
    "buzz_alerts",
    "correct_sentiment",
    "dedupe_posts",
    "detect_spikes",
    "draft",
    "hourly_series",
    "inbox_items",
    "listening_summary",
    "match_rules",
    "mention_bounds",
    "mention_posts",
    "nab_normalized_score",
    "nab_series_score",
    "normalize_text",
    "post_thread",
    "priority",
    "raise_alerts",
    "read_nab_csv",
    "read_nab_windows",
    "resolve",
    "resolve_languages",
    "response_stats",
    "rule_grouping",
    "scaled_sigmoid",
    "send",
    "summarize_mentions",
    "time_bins",
    "top_stories",
    "what_grew",
]
