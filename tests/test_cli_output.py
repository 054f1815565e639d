"""The output layer: tables that fit 80 columns, --format json/csv that parse, no progress
bars in redirected output. Commands run in this process with COLUMNS=80 and their output
captured (redirected, as into a file)."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from grapevine.cli._output import Col, fit_table, output_format
from grapevine.cli.main import app

PROGRESS_MARKS = ("━", "⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "\x1b[")
runner = CliRunner()


@pytest.fixture(autouse=True)
def _eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands' consoles read $COLUMNS when they print, as in a real 80-column terminal."""
    from grapevine.cli import _render

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GRAPEVINE_DATABASE_URL", raising=False)
    for console in (_render.console, _render.errors):
        monkeypatch.setattr(console, "_width", None)


def ok(*args: str | Path, cwd: Path | None = None) -> str:
    """Run a command in this process (output redirected, as into a file) and check it."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    for mark in PROGRESS_MARKS:  # stderr is not a terminal: no bar, no spinner, no escapes
        assert mark not in result.stderr, (mark, result.stderr)
    return result.stdout


def assert_fits(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        assert len(line) <= width, line
    assert "…" not in text, text


def csv_rows(text: str) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows, text
    return rows


# ---------------------------------------------------------------------------- unit
words = st.text(alphabet="abcdefghij0123456789-_", min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(words, min_size=6, max_size=6), min_size=1, max_size=5),
    prose=st.lists(words, min_size=1, max_size=12),
    width=st.integers(min_value=40, max_value=160),
)
def test_a_fitted_table_never_cuts_a_cell(
    rows: list[list[str]], prose: list[str], width: int
) -> None:
    cols = [Col("a"), Col("b", drop=3), Col("c", right=True, drop=1), Col("d", drop=2),
            Col("e", drop=4), Col("f", drop=5), Col("text", wrap=True)]  # fmt: skip
    records = [{**dict(zip("abcdef", r, strict=True)), "text": " ".join(prose)} for r in rows]
    table, left_out = fit_table(records, cols, width=width)
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    out = console.export_text()
    for line in out.splitlines():
        assert len(line) <= width
    assert "…" not in out
    shown = [c for c in cols if c.heading() not in left_out]
    joined = "".join(out.split())  # folded cells come back whole once spaces are gone
    for record in records:
        for col in shown:
            if not col.wrap and len(record[col.key]) + 4 <= width:
                assert record[col.key] in joined


@pytest.mark.parametrize(
    ("fmt", "as_json", "as_csv", "expected"),
    [
        (None, False, False, "table"),
        (None, True, False, "json"),
        ("json", True, False, "json"),
        ("csv", False, False, "csv"),
        (None, False, True, "csv"),
    ],
)
def test_output_format(fmt: str | None, as_json: bool, as_csv: bool, expected: str) -> None:
    assert output_format(fmt, as_json=as_json, as_csv=as_csv) == expected


@pytest.mark.parametrize(("fmt", "as_json"), [("xml", False), ("csv", True)])
def test_a_bad_or_contradicting_format_is_refused(fmt: str, as_json: bool) -> None:
    import typer

    with pytest.raises(typer.BadParameter, match=r"one of table, json, csv|contradicts"):
        output_format(fmt, as_json=as_json)


# ---------------------------------------------------------------------------- commands
@pytest.fixture
def listened(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'l.db'}"
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        json.dumps({"id": "1", "author": "ann_with_a_rather_long_handle_indeed",
                    "time": "2026-11-20T10:00:00Z", "reshares": 12,
                    "text": "My Brewly leaks again, terrible machine, I want my money back "
                            "right now, this is the third time this month"}) + "\n"
        + json.dumps({"id": "2", "author": "bob", "time": "2026-11-20T11:00:00Z",
                      "text": "Brewly koffie is prima vandaag, echt lekker"}) + "\n"
    )  # fmt: skip
    ok("listen", "add-rule", "brewly", '"brewly" OR #brewly -vacature lang:nl,en', "--db", db,
       cwd=tmp_path)  # fmt: skip
    ok("listen", "import", posts, "--format", "jsonl", "--db", db, cwd=tmp_path)
    return db


def test_inbox_and_listen_status_at_80_columns(listened: str, tmp_path: Path) -> None:
    inbox = ok("inbox", "--db", listened, cwd=tmp_path)
    assert_fits(inbox)
    assert "not shown at 80 columns" in inbox  # the table was fitted, not cut
    assert "priority" in inbox
    assert "0." in inbox  # the priority, whole
    rows = csv_rows(ok("inbox", "--format", "csv", "--db", listened, cwd=tmp_path))
    assert rows[0]["author"] == "ann_with_a_rather_long_handle_indeed"
    assert rows[0]["text"].endswith("third time this month")
    assert float(rows[0]["priority"]) > 0
    items = json.loads(ok("inbox", "--format", "json", "--db", listened, cwd=tmp_path))
    assert [i["external_id"] for i in items] == [r["external_id"] for r in rows]
    status = ok("listen", "status", "--db", listened, cwd=tmp_path)
    assert_fits(status)
    assert "vacature" in status
    (rule,) = csv_rows(ok("listen", "status", "--format", "csv", "--db", listened, cwd=tmp_path))
    assert rule["grouping"] == "brewly OR (#brewly AND NOT vacature AND lang:nl,en)"


def test_add_rule_prints_its_grouping(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    out = ok("listen", "add-rule", "acme", '"acme bank" OR #acme -vacature lang:nl,en',
             "--db", db, cwd=tmp_path)  # fmt: skip
    assert 'matches: "acme bank" OR (#acme AND NOT vacature AND lang:nl,en)' in out


def test_campaign_list_and_show_in_words(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    spec = tmp_path / "spring.toml"
    spec.write_text(
        'name = "spring referral campaign with a long name"\n'
        'goal = "more subscribers from the newsletter readers this spring"\n'
        'destinations = ["https://shop.example/spring"]\ncurrency = "EUR"\nbudget = 5000\n'
        '[offer]\nreferrer = {kind = "fixed", amount = 10}\n'
        'friend = {kind = "percent", amount = 20, max_amount = 15}\n'
        "tiers = [{referrals = 5, bonus = 50}]\n"
    )
    ok("migrate", "--db", db, cwd=tmp_path)
    ok("campaign", "create", "--file", spec, "--db", db, cwd=tmp_path)
    listing = ok("campaign", "list", "--db", db, cwd=tmp_path)
    assert_fits(listing)
    assert "{" not in listing  # the offer in words, not JSON
    flat = " ".join(listing.split())
    assert "5,000.00 EUR" in flat
    (row,) = csv_rows(ok("campaign", "list", "--format", "csv", "--db", db, cwd=tmp_path))
    assert row["name"] == "spring referral campaign with a long name"
    shown = " ".join(ok("campaign", "show", "1", "--db", db, cwd=tmp_path).split())
    assert "offer: referrer 10.00 EUR, friend 20% of the order (at most 15.00 EUR)" in shown
    assert "bonus 50.00 EUR at 5 referrals" in shown


def test_cascades_with_iso_dates(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    rows = ["1,2,1341100972,RT", "3,2,1341101972,RT", "4,3,1341102972,RT",
            "5,2,1341103972,RT"]  # fmt: skip
    higgs = tmp_path / "higgs.txt"
    higgs.write_text("".join(r.replace(",", " ") + "\n" for r in rows))
    ok("import", "higgs", higgs, "--db", db, cwd=tmp_path)
    table = ok("cascades", "--db", db, cwd=tmp_path)
    assert_fits(table)
    assert "2012-07-01" in table  # ISO dates, four-digit years
    records = [json.loads(line) for line in
               ok("cascades", "--json", "--db", db, cwd=tmp_path).splitlines()]  # fmt: skip
    assert records
    parsed = csv_rows(ok("cascades", "--format", "csv", "--db", db, cwd=tmp_path))
    assert [r["cascade"] for r in parsed] == [str(r["cascade"]) for r in records]


def test_influencers_hide_rows_without_data_and_break_ties(tmp_path: Path) -> None:
    edges = tmp_path / "g.txt"
    # two identical triangles joined through "b": x1 and y1 tie on every measure
    edges.write_text("x1 x2\nx2 x3\nx3 x1\nx1 b\nb y1\ny1 y2\ny2 y3\ny3 y1\n")
    out = ok("influencers", edges, cwd=tmp_path)
    assert_fits(out)
    flat = " ".join(out.split())
    assert "no data" not in flat
    assert "mavens need cascades" in flat
    assert "grapevine import cascades" in flat
    assert "salesmen need conversions: pass --conversions FILE" in flat
    assert "ties go by betweenness, then by id" in flat
    rows = csv_rows(ok("influencers", edges, "--format", "csv", cwd=tmp_path))
    assert {r["role"] for r in rows} == {"connector"}
    assert [int(r["order"]) for r in rows] == list(range(1, len(rows) + 1))
    tied = [r for r in rows if r["tied"] == "True"]
    assert tied
    for a, b in itertools.pairwise(tied):  # the tie-break: betweenness, then id
        if a["score"] == b["score"]:
            assert (-float(a["tie_break_value"]), a["id"]) <= (
                -float(b["tie_break_value"]),
                b["id"],
            )


def test_sentiment_shows_the_text_and_its_id(tmp_path: Path) -> None:
    texts = tmp_path / "t.csv"
    texts.write_text('id,text\nA-17,"This is the worst service ever, I have waited for three '
                     'weeks now and nobody answers"\nB-2,Wat een prachtige dag!\n')  # fmt: skip
    table = ok("sentiment", texts, "--column", "text", cwd=tmp_path)
    assert_fits(table)
    assert "A-17" in table
    assert "nobody answers" in table
    rows = csv_rows(ok("sentiment", texts, "--column", "text", "--format", "csv", cwd=tmp_path))
    assert [(r["id"], r["label"]) for r in rows] == [("A-17", "negative"), ("B-2", "positive")]
    assert rows[0]["text"].endswith("nobody answers")


def test_alerts_say_how_many_times_the_usual_volume(tmp_path: Path) -> None:
    import numpy as np

    start = np.datetime64("2024-01-01T00:00:00")
    times = start + np.arange(12 * 24 * 9) * np.timedelta64(300, "s")
    values = np.full(len(times), 20)
    values[-30:] = 400
    series = tmp_path / "volume.csv"
    lines = [f"{str(t).replace('T', ' ')},{v}\n" for t, v in zip(times, values, strict=True)]
    series.write_text("timestamp,value\n" + "".join(lines))
    table = ok("alerts", series, cwd=tmp_path)
    assert_fits(table)
    flat = " ".join(table.split())
    assert "the usual volume for a Tuesday" in flat
    assert flat.index("the usual volume") < flat.index("Statistics:")
    (row,) = csv_rows(ok("alerts", series, "--format", "csv", cwd=tmp_path))
    assert row["why"].split("×")[0].replace(".", "").isdigit()


def test_plan_seeds_as_csv(tmp_path: Path) -> None:
    edges = tmp_path / "g.txt"
    edges.write_text("".join(f"hub n{i}\n" for i in range(20)) + "n1 n2\nn3 n4\n")
    rows = csv_rows(ok("plan", edges, "--k", "2", "--runs", "20", "--random-state", "1",
                       "--format", "csv", cwd=tmp_path))  # fmt: skip
    assert [r["order"] for r in rows] == ["1", "2"]
    assert rows[0]["seed"] == "hub"
    assert float(rows[0]["marginal_gain"]) > 1


def test_plan_discounts_as_csv_are_the_json_discounts(tmp_path: Path) -> None:
    edges = tmp_path / "g.txt"
    edges.write_text("".join(f"hub n{i}\n" for i in range(20)) + "n1 n2\nn3 n4\n")
    args = ("plan", edges, "--budget", "2", "--discount", "concave", "--levels", "0.25,0.5,1",
            "--runs", "20", "--random-state", "1")  # fmt: skip
    plan = json.loads(ok(*args, "--format", "json", cwd=tmp_path))
    rows = csv_rows(ok(*args, "--format", "csv", cwd=tmp_path))
    assert list(rows[0]) == ["order", "seed", "discount", "probability"]
    assert [int(r["order"]) for r in rows] == list(range(1, len(rows) + 1))
    as_read = [
        {
            "seed": r["seed"],
            "discount": float(r["discount"]),
            "probability": float(r["probability"]),
        }
        for r in rows
    ]
    assert as_read == plan["discounts"]
    assert sum(r["discount"] for r in as_read) <= 2


def test_info_as_a_table_json_and_csv(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    higgs = tmp_path / "higgs.txt"
    higgs.write_text("1 2 1341100972 RT\n3 2 1341101972 RT\n4 3 1341102972 MT\n")
    ok("import", "higgs", higgs, "--db", db, cwd=tmp_path)
    table = ok("info", "--db", db, cwd=tmp_path)
    assert_fits(table)
    summary = json.loads(ok("info", "--format", "json", "--db", db, cwd=tmp_path))
    assert json.loads(ok("info", "--json", "--db", db, cwd=tmp_path)) == summary
    rows = csv_rows(ok("info", "--format", "csv", "--db", db, cwd=tmp_path))
    assert list(rows[0]) == [
        "what", "platform", "kind", "count", "timed", "cascades", "with_parent", "first", "last"
    ]  # fmt: skip
    counts = {(r["what"], r["platform"], r["kind"]): int(r["count"]) for r in rows}
    assert counts[("persons", "higgs", "")] == summary["persons"][0]["count"] == 4
    for tie in summary["ties"]:
        assert counts[("ties", tie["platform"], tie["kind"])] == tie["count"]
    assert counts[("campaigns", "", "")] == 0
    assert counts[("referral_events", "", "")] == 0
    retweets = next(r for r in rows if r["kind"] == "retweeted")
    assert float(retweets["first"]) == 1341100972


def test_import_progress_is_not_drawn_into_a_pipe(tmp_path: Path) -> None:
    edges = tmp_path / "e.txt"
    edges.write_text("".join(f"{i} {i + 1}\n" for i in range(500)))
    out = ok("import", "edges", edges, "--db", f"sqlite:///{tmp_path / 'e.db'}", cwd=tmp_path)
    assert "imported 500 rows" in out
    assert_fits(out)
