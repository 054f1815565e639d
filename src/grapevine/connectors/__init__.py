"""Sources of records: files in the research and export formats, feeds and APIs.

Each reader streams :class:`Batch` objects of validated records; the store
writes each batch in one transaction (:func:`grapevine.store.import_source`).
Readers never touch the database, and the analytics never import them.

Listening sources (:class:`FeedSource`, :class:`MastodonSource`) and the archive readers
yield :class:`ListenedPost` objects; the two sources are loaded on first use (httpx,
feedparser and Mastodon.py are not imported with this package).
"""

from typing import TYPE_CHECKING, Any

from grapevine.connectors._listen import FetchResult, ListenedPost, Source, html_to_text
from grapevine.connectors._records import Batch
from grapevine.connectors.archives import read_mastodon_outbox, read_twitter_archive
from grapevine.connectors.banerjee import BanerjeeVillages, read_banerjee
from grapevine.connectors.cascades import CASCADE_FORMATS, detect_cascade_format, read_cascades
from grapevine.connectors.edgelist import read_edges
from grapevine.connectors.generic import RECORD_KINDS, parse_time, read_records
from grapevine.connectors.higgs import read_higgs
from grapevine.connectors.netdiffuser import read_netdiffuser

if TYPE_CHECKING:
    from grapevine.connectors.feeds import FeedSource
    from grapevine.connectors.mastodon import MastodonSource

__all__ = [
    "CASCADE_FORMATS",
    "RECORD_KINDS",
    "BanerjeeVillages",
    "Batch",
    "FeedSource",
    "FetchResult",
    "ListenedPost",
    "MastodonSource",
    "Source",
    "detect_cascade_format",
    "html_to_text",
    "parse_time",
    "read_banerjee",
    "read_cascades",
    "read_edges",
    "read_higgs",
    "read_mastodon_outbox",
    "read_netdiffuser",
    "read_records",
    "read_twitter_archive",
]

_LAZY = {
    "FeedSource": "grapevine.connectors.feeds",
    "MastodonSource": "grapevine.connectors.mastodon",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'grapevine.connectors' has no attribute {name!r}")
