"""How much of the listening flood inbox routing removes, and what it keeps, per language.

``python benchmarks/inbox_routing.py [--split heldout|dev] [--out PATH]`` writes
``benchmarks/results/inbox_routing.md`` (a few seconds). It reads the labelled sample
``tests/fixtures/intent_sample.csv`` (240 posts of ``../shared/data/sentiment``, 60 per
language stratified over the datasets' sentiment labels, intents labelled by the Grapevine
developers, half ``dev`` and half ``heldout``), scores each post with the shipped ``fast``
sentiment model and :func:`grapevine.text.classify_intent`, and routes it with the default
:class:`grapevine.listening.InboxRouting` (the sample has no follower counts, so the
influence route never fires). The cue lists were written looking at the ``dev`` half
only; the report shows the ``heldout`` half unless ``--split dev`` is given.

It also routes every post of the four languages' files (de and en: the UMSAB val files; nl,
sv: the whole files) to show the share removed on a larger, unlabelled flood, and times
:func:`classify_intent` on them.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

from _common import (
    PROJECT_ROOT,
    RESULTS_DIR,
    busy_note,
    command_line,
    data_dir,
    facts_markdown,
    fmt_rate,
    machine_facts,
    markdown_table,
    write_report,
)
from grapevine.listening import InboxRouting
from grapevine.text import SentimentModel, classify_intent

SAMPLE = PROJECT_ROOT / "tests" / "fixtures" / "intent_sample.csv"
LANGS = ("de", "en", "nl", "sv")
ANSWER = ("complaint", "question")


def _sample(split: str) -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if split == "all" or r["split"] == split]


def _flood(root: Path) -> dict[str, list[str]]:
    """Every post of the four languages' files (unlabelled for intent)."""
    out: dict[str, list[str]] = {}
    for lang in ("de", "en"):
        out[lang] = (root / "sentiment" / lang / "val_text.txt").read_text("utf-8").splitlines()
    for lang, name in (("nl", "polarity.csv"), ("sv", "swe_sentiment.csv")):
        with (root / "sentiment" / lang / name).open(encoding="utf-8", newline="") as f:
            out[lang] = [r["text"] for r in csv.DictReader(f)]
    return out


def _route(model: SentimentModel, texts: list[str], langs: list[str]) -> tuple[list, list]:
    sentiments = model.predict(texts, langs=langs)
    intents = classify_intent(texts, languages=langs, sentiments=sentiments)
    routing = InboxRouting()
    routed = [
        routing.route(intent=i.label, negative=s.label == "negative", influence=0.0)
        for i, s in zip(intents, sentiments, strict=True)
    ]
    return intents, routed


def _ratio(k: int, n: int) -> str:
    return f"{k}/{n} = {k / n:.2f}" if n else "–"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("heldout", "dev", "all"), default="heldout")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "inbox_routing.md")
    args = parser.parse_args(argv)
    model = SentimentModel.load()
    rows = _sample(args.split)
    texts = [r["text"] for r in rows]
    langs = [r["language"] for r in rows]
    intents, routed = _route(model, texts, langs)

    table = []
    confusion: Counter[tuple[str, str]] = Counter()
    for lang in (*LANGS, "all"):
        idx = [i for i, r in enumerate(rows) if lang in ("all", r["language"])]
        gold = [rows[i]["intent"] for i in idx]
        kept = sum(routed[i] is not None for i in idx)
        need = [i for i in idx if rows[i]["intent"] in ANSWER]
        reach = sum(routed[i] is not None for i in need)
        comp = [i for i in idx if rows[i]["intent"] == "complaint"]
        ques = [i for i in idx if rows[i]["intent"] == "question"]
        table.append(
            [
                lang,
                len(idx),
                f"{1 - kept / len(idx):.0%}",
                _ratio(reach, len(need)),
                _ratio(sum(intents[i].label == "complaint" for i in comp), len(comp)),
                _ratio(sum(intents[i].label == "question" for i in ques), len(ques)),
                _ratio(
                    sum(intents[i].label == g for i, g in zip(idx, gold, strict=True)),
                    len(idx),
                ),
            ]
        )
        if lang == "all":
            confusion.update((rows[i]["intent"], intents[i].label) for i in idx)
    missed = [
        (r["id"], r["language"], r["intent"], intents[i].label, r["text"][:90])
        for i, r in enumerate(rows)
        if r["intent"] in ANSWER and routed[i] is None
    ]

    flood = _flood(data_dir())
    flood_rows = []
    total_n = total_kept = 0
    seconds = 0.0
    for lang in LANGS:
        posts = flood[lang]
        sentiments = model.predict(posts, langs=[lang] * len(posts))
        t = time.perf_counter()
        intents_f = classify_intent(posts, languages=[lang] * len(posts), sentiments=sentiments)
        seconds += time.perf_counter() - t
        routing = InboxRouting()
        kept = sum(
            routing.route(intent=i.label, negative=s.label == "negative", influence=0.0) is not None
            for i, s in zip(intents_f, sentiments, strict=True)
        )
        shares = Counter(i.label for i in intents_f)
        total_n += len(posts)
        total_kept += kept
        flood_rows.append(
            [
                lang,
                len(posts),
                f"{1 - kept / len(posts):.0%}",
                ", ".join(f"{k} {shares[k] / len(posts):.0%}" for k in sorted(shares)),
            ]
        )
    flood_rows.append(["all", total_n, f"{1 - total_kept / total_n:.0%}", ""])

    labels = ("complaint", "question", "praise", "other")
    text = f"""# Inbox routing: flood removed and recall of what needs an answer

Command: `{command_line("inbox_routing.py", argv)}`

Sample: `tests/fixtures/intent_sample.csv`, split **{args.split}** ({len(rows)} posts; the
cue lists were written on the `dev` half). Sentiment: the shipped `fast` model. Routing: the
default (`inbox:complaint,question`, `inbox-negative:yes`, `inbox-min-influence:0.67`; the
sample has no follower counts, so the influence route never fires). Recall of what needs an
answer: complaints and questions (gold labels) that reach the inbox by any route. Classifier
recall: complaints labelled complaint, questions labelled question.

{
        markdown_table(
            [
                "language",
                "posts",
                "flood removed",
                "complaints+questions reaching the inbox",
                "classifier recall: complaint",
                "classifier recall: question",
                "intent accuracy",
            ],
            table,
            "lrrrrrr",
        )
    }

Confusion of the intent classifier (rows: labelled, columns: predicted):

{
        markdown_table(
            ["labelled", *labels],
            [[g, *(confusion[(g, p)] for p in labels)] for g in labels],
            "lrrrr",
        )
    }

Complaints and questions that do not reach the inbox:

{
        markdown_table(["id", "language", "labelled", "predicted", "text"], missed)
        if missed
        else "(none)"
    }

## The whole files (no intent labels)

{markdown_table(["language", "posts", "flood removed", "predicted intents"], flood_rows, "lrrl")}

`classify_intent` on these {total_n:,} posts (with the sentiments given):
{fmt_rate(total_n, seconds)} posts/s.
{busy_note("the throughput is lower than on an idle machine")}
{facts_markdown(machine_facts())}
"""
    write_report(args.out, text)


if __name__ == "__main__":
    main()
