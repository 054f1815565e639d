"""`grapevine sentiment` on files, as a newcomer runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXE = str(Path(sys.executable).parent / "grapevine")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([EXE, *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_sentiment_of_a_text_file_and_a_csv_column(tmp_path: Path) -> None:
    texts = tmp_path / "t.txt"
    texts.write_text("Wat een prachtige dag!\nThis is the worst service ever\nC'est magnifique\n\n")
    out = run("sentiment", str(texts), "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert rows[1]["text"] == "This is the worst service ever"
    assert (rows[0]["lang"], rows[0]["label"]) == ("nl", "positive")
    assert (rows[1]["lang"], rows[1]["label"]) == ("en", "negative")
    assert (rows[2]["label"], rows[2]["source"]) == ("unscored", "unsupported")  # French
    assert rows[3]["lang"] == "und"
    csv_file = tmp_path / "t.csv"
    csv_file.write_text('id,text\n1,"Jag älskar det här!"\n')
    out = run("sentiment", str(csv_file), "--column", "text", "--format", "json", cwd=tmp_path)
    (row,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert (row["line"], row["id"], row["lang"], row["label"]) == (2, "1", "sv", "positive")
    forced = run(
        "sentiment", str(csv_file), "--column", "text", "--lang", "sv", "--json", cwd=tmp_path
    )
    assert json.loads(forced.stdout)["lang"] == "sv"
    # A language the model does not know is refused before anything is scored.
    unknown = run("sentiment", str(csv_file), "--column", "text", "--lang", "fr", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "'fr' is not one of 'de', 'en', 'nl', 'sv'" in " ".join(unknown.stderr.split())


def test_sentiment_of_a_csv_without_column_names_the_header(tmp_path: Path) -> None:
    csv_file = tmp_path / "reviews.csv"
    csv_file.write_text("id,text\n1,I love it\n")
    out = run("sentiment", str(csv_file), cwd=tmp_path)
    assert out.returncode == 1
    assert out.stdout == ""  # the header row is not scored as a text
    assert (
        "reviews.csv, line 1, field 'column': a CSV file needs --column naming the text "
        "column; the header has ['id', 'text']"
    ) in " ".join(out.stderr.split())


def test_sentiment_bad_column_names_the_file_and_field(tmp_path: Path) -> None:
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("id,text\n1,hello\n")
    out = run("sentiment", str(csv_file), "--column", "body", cwd=tmp_path)
    assert out.returncode == 1
    assert "t.csv, line 1, field 'body'" in " ".join(out.stderr.split())


def test_sentiment_accurate_model_and_a_bad_model_name(tmp_path: Path) -> None:
    texts = tmp_path / "t.txt"
    texts.write_text("Wat een prachtige dag!\nThis is the worst service ever\nC'est magnifique\n")
    out = run("sentiment", str(texts), "--model", "accurate", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["lang"], r["label"]) for r in rows] == [
        ("nl", "positive"),
        ("en", "negative"),
        ("fr", "unscored"),
    ]
    bad = run("sentiment", str(texts), "--model", "best", cwd=tmp_path)
    assert bad.returncode == 2
    assert "'best' is not one of 'fast', 'accurate'" in " ".join(bad.stderr.split())


def test_influencers_from_a_file_with_csv_and_gexf(tmp_path: Path) -> None:
    import networkx as nx

    edges = tmp_path / "g.txt"
    # two triangles joined by a bridge through "b"
    edges.write_text("x1 x2\nx2 x3\nx3 x1\nx1 b\nb y1\ny1 y2\ny2 y3\ny3 y1\n")
    out = run(
        "influencers", str(edges), "--json", "--top", "1",
        "--csv", str(tmp_path / "roles.csv"), "--gexf", str(tmp_path / "roles.gexf"),
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["connector"][0]["id"] == "b"
    assert result["maven"][0]["maven_reason"].startswith("no data")
    assert (tmp_path / "roles.csv").read_text().startswith("id,")
    g = nx.read_gexf(tmp_path / "roles.gexf")
    assert {"connector", "maven", "salesman"} <= set(next(iter(g.nodes.values())))


def test_alerts_on_a_volume_series(tmp_path: Path) -> None:
    import numpy as np

    start = np.datetime64("2024-01-01T00:00:00")
    times = start + np.arange(12 * 24 * 9) * np.timedelta64(300, "s")
    values = np.full(len(times), 20)
    values[-30:] = 400  # a burst on the last evening
    series = tmp_path / "volume.csv"
    series.write_text(
        "timestamp,value\n"
        + "".join(f"{str(t).replace('T', ' ')},{v}\n" for t, v in zip(times, values, strict=True))
    )
    out = run("alerts", str(series), "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    alerts = [json.loads(line) for line in out.stdout.splitlines()]
    assert alerts, "the burst raised no alert"
    assert alerts[0]["raised_at"] >= str(times[-30])
    assert alerts[0]["value"] == 400.0
    bad = tmp_path / "bad.csv"
    bad.write_text("time,count\n1,2\n")
    out = run("alerts", str(bad), cwd=tmp_path)
    assert out.returncode == 1
    assert "no 'timestamp' column" in " ".join(out.stderr.split())


def test_influencers_salesmen_from_a_conversions_file(tmp_path: Path) -> None:
    edges = tmp_path / "g.txt"
    edges.write_text("s a\na b\nb s\nq a\n")
    # s exposed 40 people, 30 converted; 80 comparable exposures by nobody in particular
    # converted 20 times; q exposed 40 with 10 converting (no lift).
    rows = ["exposer,exposed,converted"]
    rows += [f"s,f{i},{int(i < 30)}" for i in range(40)]
    rows += [f"q,g{i},{int(i < 10)}" for i in range(40)]
    rows += [f",o{i},{int(i < 20)}" for i in range(80)]
    conv = tmp_path / "conversions.csv"
    conv.write_text("\n".join(rows) + "\n")
    out = run(
        "influencers", str(edges), "--json", "--top", "2", "--conversions", str(conv), cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    top = json.loads(out.stdout.splitlines()[-1])["salesman"]
    assert top[0]["id"] == "s"
    assert top[0]["salesman"] > 0
    assert "lift" in top[0]["salesman_reason"]
    conv.write_text("exposer,exposed,converted\ns,f1,yes\n")
    bad = run("influencers", str(edges), "--conversions", str(conv), cwd=tmp_path)
    assert bad.returncode != 0
    assert "line 2" in bad.stderr
    assert "converted" in bad.stderr
