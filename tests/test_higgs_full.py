"""The whole SNAP Higgs activity stream into SQLite (slow: about 10-15 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grapevine.store import Store, import_file
from support import import_runs, table_counts

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_import_whole_higgs_activity_stream(data_dir: Path, tmp_path: Path) -> None:
    path = data_dir / "higgs" / "higgs-activity_time.txt.gz"
    with Store(f"sqlite:///{tmp_path}/higgs.db") as store:
        report = import_file(store, "higgs", path, batch_size=100_000)
        # PROVENANCE: 563,069 actions: RT 354,930, MT 171,237, RE 36,902, unix times
        # 1341100972..1341705593. Every action is a distinct (source, target, kind, time).
        assert report.rows_read == 563_069
        assert report.batches == 6
        assert report.new["ties"] == 563_069
        assert report.new["posts"] == 0
        assert report.new["persons"] == 304_691  # distinct user ids in the stream
        summary = store.summary()
        ties = {t["kind"]: t for t in summary["ties"]}
        assert {k: t["count"] for k, t in ties.items()} == {
            "retweeted": 354_930,
            "mentioned": 171_237,
            "replied": 36_902,
        }
        assert all(t["timed"] == t["count"] and t["platform"] == "higgs" for t in ties.values())
        assert min(t["first"] for t in ties.values()) == 1_341_100_972.0
        assert max(t["last"] for t in ties.values()) == 1_341_705_593.0
        (persons,) = summary["persons"]
        assert persons == {"platform": "higgs", "count": report.new["persons"]}
        assert table_counts(store.engine) == {
            "persons": report.new["persons"],
            "ties": 563_069,
            "posts": 0,
        }
        (run,) = import_runs(store.engine)
        assert (run["status"], run["rows_read"], run["rows_new"]) == (
            "done",
            563_069,
            report.new["persons"] + 563_069,
        )
