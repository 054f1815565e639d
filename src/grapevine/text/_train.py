"""Training the sentiment model on the shared labelled posts (needs scikit-learn).

scikit-learn is a training-time dependency only: the fitted vectorizer and logistic
regression are exported as plain arrays (:class:`~grapevine.text._sentiment.LinearTfidf`) and
predicted with numpy/scipy.

Held-out parts (never trained on; the official test splits are withheld from the data folder
on purpose, so these are *not* those test splits):

- de, en: the ``val`` files of XLM-T/UMSAB;
- en_tweeteval: the TweetEval ``val`` tweets not in the UMSAB English train file (1,429 of
  the 2,000 are; evaluation only);
- nl, sv: a stratified 20% drawn with ``numpy.random.default_rng(0)``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grapevine.errors import BadInput, InvalidParameter, MissingDependency
from grapevine.text._sentiment import LABELS, LinearTfidf, SentimentModel, featurize

__all__ = ["LANGUAGES", "Split", "fit_linear", "load_sentiment_splits", "train_sentiment"]

#: The languages trained from ``sentiment/``.
LANGUAGES = ("de", "en", "nl", "sv")
#: Values of C tried by cross-validation on the training part.
C_GRID = (1.0, 4.0, 16.0)
_SHORT = {"neg": "negative", "neu": "neutral", "pos": "positive"}
HELDOUT_FRACTION = 0.2
SEED = 0


@dataclass(frozen=True)
class Split:
    """Texts and label indices (0 negative, 1 neutral, 2 positive) of one language."""

    train_texts: list[str]
    train_labels: list[int]
    heldout_texts: list[str]
    heldout_labels: list[int]


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise BadInput("missing file of the sentiment data", file=str(path))
    return path.read_text(encoding="utf-8").split("\n")[:-1] if path.stat().st_size else []


def _read_pair(folder: Path, split: str) -> tuple[list[str], list[int]]:
    texts = _read_lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in _read_lines(folder / f"{split}_labels.txt")]
    if len(texts) != len(labels):
        raise BadInput(f"{len(texts)} texts but {len(labels)} labels", file=str(folder / split))
    return texts, labels


def _read_csv(path: Path) -> tuple[list[str], list[int]]:
    if not path.is_file():
        raise BadInput("missing file of the sentiment data", file=str(path))
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            label = _SHORT.get(row["label"].strip(), row["label"].strip())
            if label not in LABELS:
                raise BadInput(f"unknown label {label!r}", file=str(path), line=line, field="label")
            texts.append(row["text"])
            labels.append(LABELS.index(label))
    return texts, labels


def _stratified_holdout(texts: list[str], labels: list[int], fraction: float, seed: int) -> Split:
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    held = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        held[rng.permutation(idx)[: round(fraction * len(idx))]] = True
    # The files repeat some posts verbatim: a held-out post must not also be a training post.
    trained = {t for t, h in zip(texts, held, strict=True) if not h}
    held &= np.asarray([t not in trained for t in texts], dtype=bool)
    return Split(
        [t for t, h in zip(texts, held, strict=True) if not h],
        [int(v) for v in y[~held]],
        [t for t, h in zip(texts, held, strict=True) if h],
        [int(v) for v in y[held]],
    )


def load_sentiment_splits(data_dir: str | Path) -> dict[str, Split]:
    """Train and held-out parts per language of ``<data_dir>/sentiment`` (or ``data_dir``).

    Keys: ``de``, ``en``, ``nl``, ``sv`` and ``en_tweeteval`` (held-out only: empty train;
    the TweetEval val tweets that are not in the English train file).
    """
    root = Path(data_dir)
    if (root / "sentiment").is_dir():
        root = root / "sentiment"
    out: dict[str, Split] = {}
    for lang in ("de", "en"):
        out[lang] = Split(*_read_pair(root / lang, "train"), *_read_pair(root / lang, "val"))
    out["nl"] = _stratified_holdout(
        *_read_csv(root / "nl" / "polarity.csv"), HELDOUT_FRACTION, SEED
    )
    out["sv"] = _stratified_holdout(
        *_read_csv(root / "sv" / "swe_sentiment.csv"), HELDOUT_FRACTION, SEED
    )
    mapping = dict(line.split("\t") for line in _read_lines(root / "en_tweeteval" / "mapping.txt"))
    if [mapping[str(i)] for i in range(3)] != list(LABELS):
        raise BadInput("unexpected label mapping", file=str(root / "en_tweeteval/mapping.txt"))
    # 1,429 of the 2,000 TweetEval val tweets are also in the UMSAB English train file: keep
    # only the unseen ones, or the check would score memorised posts.
    seen = set(out["en"].train_texts)
    texts, labels = _read_pair(root / "en_tweeteval", "val")
    kept = [(t, v) for t, v in zip(texts, labels, strict=True) if t not in seen]
    out["en_tweeteval"] = Split([], [], [t for t, _ in kept], [v for _, v in kept])
    return out


def _identity(doc: list[str]) -> list[str]:
    return doc


def _sklearn() -> Any:
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise MissingDependency("scikit-learn", "train") from exc
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return TfidfVectorizer, LogisticRegression, make_pipeline


def _pipeline(c: float, balanced: bool) -> Any:
    tfidf, logreg, make_pipeline = _sklearn()
    return make_pipeline(
        tfidf(analyzer=_identity, min_df=2, sublinear_tf=True, dtype=np.float64),
        logreg(C=c, class_weight="balanced" if balanced else None, max_iter=3000),
    )


def _tune_c(feats: list[list[str]], y: np.ndarray, strata: np.ndarray, balanced: bool) -> float:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    folds = list(StratifiedKFold(3, shuffle=True, random_state=SEED).split(feats, strata))
    best, best_c = -1.0, C_GRID[0]
    for c in C_GRID:
        scores = []
        for tr, te in folds:
            model = _pipeline(c, balanced).fit([feats[i] for i in tr], y[tr])
            pred = model.predict([feats[i] for i in te])
            scores.append(f1_score(y[te], pred, average="macro"))
        if float(np.mean(scores)) > best:
            best, best_c = float(np.mean(scores)), c
    return best_c


def fit_linear(
    texts: Sequence[str],
    labels: Sequence[int],
    langs: Sequence[str],
    *,
    lang_features: bool = False,
    c: float | None = None,
    balanced: bool = True,
) -> LinearTfidf:
    """Fit one TF-IDF + logistic regression; ``c=None`` tunes C by 3-fold CV on these texts.

    Returns the fitted weights as a :class:`LinearTfidf` (no scikit-learn object kept).
    """
    if len(texts) != len(labels) or len(texts) != len(langs) or not texts:
        raise InvalidParameter(
            "texts", "fit_linear", "non-empty and as long as labels and langs", len(texts)
        )
    feats = [
        featurize(t, lang if lang_features else None) for t, lang in zip(texts, langs, strict=True)
    ]
    y = np.asarray(labels)
    if c is None:
        strata = np.asarray([f"{lang}{v}" for lang, v in zip(langs, y, strict=True)])
        c = _tune_c(feats, y, strata, balanced)
    model = _pipeline(c, balanced).fit(feats, y)
    vec, clf = model.steps[0][1], model.steps[1][1]
    if list(clf.classes_) != [0, 1, 2]:
        raise InvalidParameter("labels", "fit_linear", "all of 0, 1, 2", sorted(set(labels)))
    return LinearTfidf(
        vocabulary={str(k): int(v) for k, v in vec.vocabulary_.items()},
        idf=np.asarray(vec.idf_, dtype=np.float64),
        coef=np.asarray(clf.coef_, dtype=np.float64),
        intercept=np.asarray(clf.intercept_, dtype=np.float64),
        languages=tuple(sorted(set(langs))),
        lang_features=lang_features,
    )


def train_sentiment(
    data_dir: str | Path,
    out_path: str | Path | None = None,
    *,
    kind: str = "per_language",
    c: float | None = None,
) -> SentimentModel:
    """Retrain the sentiment model on the train parts of the shared data (reproducible).

    Parameters
    ----------
    data_dir : path
        The shared data folder (holding ``sentiment/``) or the ``sentiment`` folder itself.
    out_path : path, optional
        Where to save the model (``.npz``); not saved when None.
    kind : {"multilingual", "per_language"}
        One model over all four languages with shared and per-language features, or one
        model per language.
    c : float, optional
        Inverse regularisation; tuned by 3-fold cross-validation on the train parts when None.

    Notes
    -----
    Only the train parts are used, so the held-out parts of :func:`load_sentiment_splits`
    stay unseen. Needs scikit-learn (``MissingDependency`` otherwise).
    """
    if kind not in ("multilingual", "per_language"):
        raise InvalidParameter("kind", "train_sentiment", "'multilingual' or 'per_language'", kind)
    splits = load_sentiment_splits(data_dir)
    parts: tuple[LinearTfidf, ...]
    if kind == "multilingual":
        texts = [t for lang in LANGUAGES for t in splits[lang].train_texts]
        labels = [v for lang in LANGUAGES for v in splits[lang].train_labels]
        langs = [lang for lang in LANGUAGES for _ in splits[lang].train_texts]
        parts = (fit_linear(texts, labels, langs, lang_features=True, c=c),)
    else:
        parts = tuple(
            fit_linear(
                splits[lang].train_texts,
                splits[lang].train_labels,
                [lang] * len(splits[lang].train_texts),
                c=c,
            )
            for lang in LANGUAGES
        )
    model = SentimentModel(parts)
    if out_path is not None:
        model.save(out_path, info={"kind": kind, "trained_on": "train parts of sentiment/"})
    return model
