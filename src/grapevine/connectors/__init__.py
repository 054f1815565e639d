"""Sources of records: files in the research and export formats (feeds and APIs come later).

Each reader streams :class:`Batch` objects of validated records; the store
writes each batch in one transaction (:func:`grapevine.store.import_source`).
Readers never touch the database, and the analytics never import them.
"""

from grapevine.connectors._records import Batch
from grapevine.connectors.cascades import CASCADE_FORMATS, detect_cascade_format, read_cascades
from grapevine.connectors.edgelist import read_edges
from grapevine.connectors.generic import RECORD_KINDS, parse_time, read_records
from grapevine.connectors.higgs import read_higgs
from grapevine.connectors.netdiffuser import read_netdiffuser

__all__ = [
    "CASCADE_FORMATS",
    "RECORD_KINDS",
    "Batch",
    "detect_cascade_format",
    "parse_time",
    "read_cascades",
    "read_edges",
    "read_higgs",
    "read_netdiffuser",
    "read_records",
]
