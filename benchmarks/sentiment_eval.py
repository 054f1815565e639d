"""Sentiment and language ID of grapevine.text on the held-out parts of ``sentiment/``.

``python benchmarks/sentiment_eval.py [--out PATH]`` (a few minutes: it retrains the models)
writes ``benchmarks/results/sentiment_eval.md``. Held-out parts are NOT the official test
splits (those are withheld from the data folder): de/en are the UMSAB val files, nl/sv a
stratified 20% (seed 0), en_tweeteval the TweetEval val tweets absent from the English train.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from _common import (
    RESULTS_DIR,
    data_dir,
    facts_markdown,
    fmt_rate,
    machine_facts,
    markdown_table,
    write_report,
)
from grapevine.text import LABELS, SentimentModel, detect_language, load_sentiment_splits
from grapevine.text._train import LANGUAGES, train_sentiment

EVAL = (*LANGUAGES, "en_tweeteval")


def _lang(name: str) -> str:
    return "en" if name == "en_tweeteval" else name


def _vader(texts: list[str]) -> list[int] | None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    sia = SentimentIntensityAnalyzer()
    out = []
    for t in texts:
        c = sia.polarity_scores(t)["compound"]
        out.append(2 if c >= 0.05 else 0 if c <= -0.05 else 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "sentiment_eval.md")
    args = ap.parse_args()
    root = data_dir()
    if not (root / "sentiment").is_dir():
        sys.exit(f"benchmark data not found: {root / 'sentiment'} (set GRAPEVINE_DATA_DIR)")
    splits = load_sentiment_splits(root)

    models: dict[str, SentimentModel] = {}
    train_s: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kw in [
            ("TF-IDF LR per language (C by 3-fold CV)", {"kind": "per_language"}),
            ("TF-IDF LR multilingual + lang features (C=4)", {"kind": "multilingual", "c": 4.0}),
        ]:
            t0 = time.perf_counter()
            path = Path(tmp) / "m.npz"
            train_sentiment(root, path, **kw)  # type: ignore[arg-type]
            train_s[name] = time.perf_counter() - t0
            models[name] = SentimentModel.load(path)  # what ships: float32 weights, numpy
    shipped = SentimentModel.load()

    rows = []
    header = ["model", *EVAL, "mean (de en nl sv)"]

    def add(name: str, preds: dict[str, list[int] | None]) -> None:
        scores = {}
        for e in EVAL:
            p = preds.get(e)
            scores[e] = (
                f1_score(splits[e].heldout_labels, p, average="macro") if p is not None else None
            )
        core = [scores[e] for e in LANGUAGES if scores[e] is not None]
        rows.append(
            [name]
            + [f"{scores[e]:.3f}" if scores[e] is not None else "—" for e in EVAL]
            + [f"{np.mean(core):.3f}" if len(core) == len(LANGUAGES) else "—"]
        )

    majority = {}
    for e in EVAL:
        train = splits[_lang(e)].train_labels
        m = Counter(train).most_common(1)[0][0]
        majority[e] = [m] * len(splits[e].heldout_labels)
    add("majority class of the train part", majority)
    add(
        "VADER (vaderSentiment, English lexicon)",
        {e: _vader(splits[e].heldout_texts) for e in ("en", "en_tweeteval")},
    )
    for name, model in [*models.items(), ("shipped model (models/sentiment.npz)", shipped)]:
        preds: dict[str, list[int] | None] = {}
        for e in EVAL:
            texts = splits[e].heldout_texts
            res = model.predict(texts, [_lang(e)] * len(texts))
            preds[e] = [LABELS.index(s.label) for s in res]
        add(name, preds)

    # Language ID on the held-out texts of known language.
    lid_rows = []
    all_texts, all_langs = [], []
    for e in LANGUAGES:
        texts = splits[e].heldout_texts
        all_texts += texts
        all_langs += [e] * len(texts)
        for cands, label in [(None, "all 97 languages"), (list(LANGUAGES), "de/en/nl/sv")]:
            guesses = detect_language(texts, candidates=cands)
            ok = sum(g.lang == e for g in guesses)
            und = sum(g.lang == "und" for g in guesses)
            lid_rows.append([e, label, len(texts), f"{ok / len(texts):.3f}", und])

    # Throughput on all held-out texts (4 languages), repeated to ~5k texts.
    bulk = (all_texts * (5000 // len(all_texts) + 1))[:5000]
    bulk_langs = (all_langs * (5000 // len(all_langs) + 1))[:5000]
    speed = []
    t0 = time.perf_counter()
    detect_language(bulk)
    speed.append(["detect_language (all languages)", fmt_rate(len(bulk), time.perf_counter() - t0)])
    t0 = time.perf_counter()
    shipped.predict(bulk, bulk_langs)
    speed.append(
        ["SentimentModel.predict, languages given", fmt_rate(len(bulk), time.perf_counter() - t0)]
    )
    t0 = time.perf_counter()
    shipped.predict(bulk)
    speed.append(
        [
            "SentimentModel.predict, languages detected",
            fmt_rate(len(bulk), time.perf_counter() - t0),
        ]
    )

    sizes = [[e, len(splits[e].train_texts), len(splits[e].heldout_texts)] for e in EVAL]
    text = "\n\n".join(
        [
            "# Sentiment and language ID on held-out posts",
            "Macro-F1 over negative / neutral / positive. **Held-out is not the official test "
            "split** (withheld from the data folder on purpose): de, en = UMSAB/XLM-T val files; "
            "nl, sv = a stratified 20% (numpy seed 0) of the files we have; en_tweeteval = the "
            "TweetEval val tweets that are not in the UMSAB English train file (1,429 of its "
            "2,000 are). Nothing here was trained on a held-out text; C was tuned by CV on the "
            "train parts only.",
            markdown_table(["set", "train", "held-out"], sizes, "lrr"),
            markdown_table(header, rows, "l" + "r" * (len(header) - 1)),
            "Training wall time (featurising + CV + fit): "
            + ", ".join(f"{k}: {v:.0f} s" for k, v in train_s.items()),
            "## Language ID on the held-out texts (their language is known)",
            markdown_table(
                ["language", "candidates", "texts", "accuracy", "und"], lid_rows, "llrrr"
            ),
            "## Throughput (one process, 5,000 held-out posts of the four languages)",
            markdown_table(["step", "texts / s"], speed, "lr"),
            "## Machine",
            facts_markdown(
                machine_facts(
                    ["numpy", "scipy", "scikit-learn", "py3langid", "vaderSentiment"],
                    [("command", "python benchmarks/sentiment_eval.py")],
                )
            ),
        ]
    )
    write_report(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
