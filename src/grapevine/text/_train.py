"""Training the sentiment models on the shared labelled posts (needs scikit-learn).

scikit-learn is a training-time dependency only: the fitted vectorizer and logistic
regression are exported as plain arrays (:class:`~grapevine.text._sentiment.LinearTfidf`) and
predicted with numpy/scipy.

Held-out parts (never trained on; the official test splits are withheld from the data folder
on purpose, so these are *not* those test splits):

- de, en: the ``val`` files of XLM-T/UMSAB;
- en_tweeteval: the TweetEval ``val`` tweets not in the UMSAB English train file (1,429 of
  the 2,000 are; evaluation only);
- nl, sv: a stratified 20% drawn with ``numpy.random.default_rng(0)``.

The ``"accurate"`` model adds a logistic regression on multilingual-e5-small embeddings
(shared by the four languages) and blends it with the per-language TF-IDF model; its C and
the per-language blend weights are chosen on 5-fold out-of-fold predictions of the train
parts, so the held-out parts stay unseen.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grapevine.errors import BadInput, InvalidParameter, MissingDependency
from grapevine.text._sentiment import (
    LABELS,
    EmbeddingHead,
    LinearTfidf,
    SentimentModel,
    featurize,
    interaction_features,
)

__all__ = [
    "LANGUAGES",
    "CrossValidated",
    "Split",
    "fit_linear",
    "load_sentiment_splits",
    "train_sentiment",
]

#: The languages trained from ``sentiment/``.
LANGUAGES = ("de", "en", "nl", "sv")
#: Values of C tried by cross-validation on the training part.
C_GRID = (1.0, 4.0, 16.0)
#: Values of C tried for the logistic regression on embeddings (1 was the best of 0.3 and 1
#: for this head, and of 1, 3 and 10 for a head without per-language blocks, in 5-fold CV on
#: the train parts; each fit takes minutes, so the shipped grid is that one value).
EMBED_C_GRID = (1.0,)
#: Weights of the TF-IDF model in the blend, tried per language.
BLEND_GRID = tuple(round(0.05 * i, 2) for i in range(21))
#: Folds of the cross-validation that tunes the per-language models and the blend.
FOLDS = 5
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


@dataclass(frozen=True)
class CrossValidated:
    """Out-of-fold results of one language on its train part (``FOLDS`` stratified folds).

    ``f1_*`` hold the macro-F1 of each fold: TF-IDF alone, embeddings alone and the blend
    (the blend weight ``blend`` was chosen on these same folds, so ``f1_blend`` is slightly
    optimistic; the held-out parts are the honest check).
    """

    c_tfidf: float
    c_embed: float
    blend: float
    f1_tfidf: tuple[float, ...]
    f1_embed: tuple[float, ...]
    f1_blend: tuple[float, ...]


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


def _fold_indices(strata: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    return list(splitter.split(np.zeros(len(strata)), strata))


def _macro_f1(y: np.ndarray, proba: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, proba.argmax(axis=1), average="macro", labels=[0, 1, 2]))


def _best_oof(
    fit_proba: Callable[[float, np.ndarray, np.ndarray], np.ndarray],
    grid: Sequence[float],
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[float, np.ndarray]:
    """The value of ``grid`` with the best mean out-of-fold macro-F1, and those probabilities."""
    best: tuple[float, float, np.ndarray] | None = None
    for c in grid:
        oof = np.zeros((len(y), len(LABELS)))
        for tr, te in folds:
            oof[te] = fit_proba(c, tr, te)
        score = float(np.mean([_macro_f1(y[te], oof[te]) for _, te in folds]))
        if best is None or score > best[0]:
            best = (score, c, oof)
    assert best is not None
    return best[1], best[2]


def _tfidf_oof(
    texts: Sequence[str],
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    grid: Sequence[float],
) -> tuple[float, np.ndarray]:
    feats = [featurize(t) for t in texts]

    def fit_proba(c: float, tr: np.ndarray, te: np.ndarray) -> np.ndarray:
        model = _pipeline(c, True).fit([feats[i] for i in tr], y[tr])
        return np.asarray(model.predict_proba([feats[i] for i in te]))

    return _best_oof(fit_proba, grid, y, folds)


def _fit_head(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    _, logreg, _ = _sklearn()
    clf = logreg(C=c, class_weight="balanced", max_iter=3000).fit(x, y)
    return np.asarray(clf.coef_, dtype=np.float64), np.asarray(clf.intercept_, dtype=np.float64)


def _embed_train_parts(
    splits: Mapping[str, Split], embeddings: Mapping[str, np.ndarray] | None
) -> dict[str, np.ndarray]:
    if embeddings is None:
        from grapevine.text._embed import embed_texts

        return {lang: embed_texts(splits[lang].train_texts, threads=2) for lang in LANGUAGES}
    out = {}
    for lang in LANGUAGES:
        x = np.asarray(embeddings[lang], dtype=np.float64)
        if x.shape[0] != len(splits[lang].train_texts):
            raise InvalidParameter(
                "embeddings",
                "train_sentiment",
                f"{len(splits[lang].train_texts)} rows for {lang}",
                x.shape,
            )
        out[lang] = x
    return out


@dataclass(frozen=True)
class _TfidfStage:
    """Per-language TF-IDF models fitted on the whole train parts, with their CV results."""

    parts: tuple[LinearTfidf, ...]
    c: dict[str, float]
    oof: dict[str, np.ndarray]
    folds: dict[str, list[tuple[np.ndarray, np.ndarray]]]


def _tfidf_stage(splits: Mapping[str, Split], grid: Sequence[float]) -> _TfidfStage:
    """Per-language TF-IDF models, C by ``FOLDS``-fold CV (the slow part of training)."""
    ys = {lang: np.asarray(splits[lang].train_labels) for lang in LANGUAGES}
    folds = {lang: _fold_indices(ys[lang]) for lang in LANGUAGES}
    c_tfidf: dict[str, float] = {}
    oof_tfidf: dict[str, np.ndarray] = {}
    for lang in LANGUAGES:
        c_tfidf[lang], oof_tfidf[lang] = _tfidf_oof(
            splits[lang].train_texts, ys[lang], folds[lang], grid
        )
    parts = tuple(
        fit_linear(
            splits[lang].train_texts,
            splits[lang].train_labels,
            [lang] * len(splits[lang].train_texts),
            c=c_tfidf[lang],
        )
        for lang in LANGUAGES
    )
    return _TfidfStage(parts, c_tfidf, oof_tfidf, folds)


def _train_per_language(
    splits: Mapping[str, Split],
    embeddings: Mapping[str, np.ndarray] | None,
    accurate: bool,
    grid: Sequence[float],
    stage: _TfidfStage | None = None,
) -> tuple[tuple[LinearTfidf, ...], EmbeddingHead | None, dict[str, CrossValidated]]:
    """Per-language TF-IDF models (C by ``FOLDS``-fold CV) and, if ``accurate``, the head."""
    stage = stage if stage is not None else _tfidf_stage(splits, grid)
    parts, c_tfidf, oof_tfidf, folds = stage.parts, stage.c, stage.oof, stage.folds
    ys = {lang: np.asarray(splits[lang].train_labels) for lang in LANGUAGES}
    if not accurate:
        return parts, None, {}
    # One head for all four languages: the folds are the union of the per-language folds, so
    # every text is predicted by a head that did not see it (nor any text of its own fold).
    xs = _embed_train_parts(splits, embeddings)
    x_all = interaction_features(
        np.vstack([xs[lang] for lang in LANGUAGES]),
        [lang for lang in LANGUAGES for _ in ys[lang]],
        LANGUAGES,
    )
    y_all = np.concatenate([ys[lang] for lang in LANGUAGES])
    offsets = np.cumsum([0] + [len(ys[lang]) for lang in LANGUAGES])
    joint = [
        (
            np.concatenate([folds[lang][k][0] + offsets[j] for j, lang in enumerate(LANGUAGES)]),
            np.concatenate([folds[lang][k][1] + offsets[j] for j, lang in enumerate(LANGUAGES)]),
        )
        for k in range(FOLDS)
    ]

    def head_proba(c: float, tr: np.ndarray, te: np.ndarray) -> np.ndarray:
        coef, intercept = _fit_head(x_all[tr], y_all[tr], c)
        return _softmax_rows(x_all[te] @ coef.T + intercept)

    c_embed, oof_all = _best_oof(head_proba, EMBED_C_GRID, y_all, joint)
    blend: dict[str, float] = {}
    report: dict[str, CrossValidated] = {}
    for j, lang in enumerate(LANGUAGES):
        y, p_t, p_e = ys[lang], oof_tfidf[lang], oof_all[offsets[j] : offsets[j + 1]]
        langs = [lang] * len(y)

        def fold_f1(proba: np.ndarray, y: np.ndarray = y, lang: str = lang) -> tuple[float, ...]:
            return tuple(_macro_f1(y[te], proba[te]) for _, te in folds[lang])

        scores = {
            w: float(
                np.mean(
                    fold_f1(
                        EmbeddingHead(np.zeros(0), np.zeros(0), {lang: w}).combine(p_t, p_e, langs)
                    )
                )
            )
            for w in BLEND_GRID
        }
        blend[lang] = max(BLEND_GRID, key=lambda w: (scores[w], -abs(w - 0.5)))
        mixed = EmbeddingHead(np.zeros(0), np.zeros(0), blend).combine(p_t, p_e, langs)
        report[lang] = CrossValidated(
            c_tfidf[lang], c_embed, blend[lang], fold_f1(p_t), fold_f1(p_e), fold_f1(mixed)
        )
    coef, intercept = _fit_head(x_all, y_all, c_embed)
    return parts, EmbeddingHead(coef, intercept, blend, LANGUAGES), report


def _softmax_rows(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def train_sentiment(
    data_dir: str | Path,
    out_path: str | Path | None = None,
    *,
    kind: str = "per_language",
    c: float | None = None,
    mode: str = "fast",
    embeddings: Mapping[str, np.ndarray] | None = None,
) -> SentimentModel:
    """Retrain a sentiment model on the train parts of the shared data (reproducible).

    Parameters
    ----------
    data_dir : path
        The shared data folder (holding ``sentiment/``) or the ``sentiment`` folder itself.
    out_path : path, optional
        Where to save the model (``.npz``); not saved when None.
    kind : {"multilingual", "per_language"}
        One TF-IDF model over all four languages with shared and per-language features, or
        one model per language.
    c : float, optional
        Inverse regularisation of the TF-IDF models; tuned over ``C_GRID`` by cross-validation
        on the train parts when None (3-fold; 5-fold per language for ``"accurate"``, whose
        out-of-fold predictions also choose the blend). The shipped accurate model used 4.
    mode : {"fast", "accurate"}
        ``"accurate"`` (``per_language`` only) adds the logistic regression on
        multilingual-e5-small embeddings and the per-language blend weights.
    embeddings : mapping of str to array, optional
        Precomputed :func:`~grapevine.text._embed.embed_texts` of each language's train texts
        (in order); computed (slowly: ~40 texts/s) when None.

    Returns
    -------
    SentimentModel
        The cross-validation results per language are saved in the file's ``info["cv"]``;
        :func:`train_sentiment_cv` returns them too.

    Notes
    -----
    Only the train parts are used, so the held-out parts of :func:`load_sentiment_splits`
    stay unseen. Needs scikit-learn (``MissingDependency`` otherwise).
    """
    model, _ = train_sentiment_cv(
        data_dir, out_path, kind=kind, c=c, mode=mode, embeddings=embeddings
    )
    return model


def train_sentiment_cv(
    data_dir: str | Path,
    out_path: str | Path | None = None,
    *,
    kind: str = "per_language",
    c: float | None = None,
    mode: str = "fast",
    embeddings: Mapping[str, np.ndarray] | None = None,
) -> tuple[SentimentModel, dict[str, CrossValidated]]:
    """:func:`train_sentiment` that also returns the cross-validation results per language."""
    if kind not in ("multilingual", "per_language"):
        raise InvalidParameter("kind", "train_sentiment", "'multilingual' or 'per_language'", kind)
    if mode not in ("fast", "accurate") or (mode == "accurate" and kind != "per_language"):
        raise InvalidParameter(
            "mode", "train_sentiment", "'fast', or 'accurate' with kind='per_language'", mode
        )
    _sklearn()
    splits = load_sentiment_splits(data_dir)
    head: EmbeddingHead | None = None
    report: dict[str, CrossValidated] = {}
    if kind == "multilingual":
        texts = [t for lang in LANGUAGES for t in splits[lang].train_texts]
        labels = [v for lang in LANGUAGES for v in splits[lang].train_labels]
        langs = [lang for lang in LANGUAGES for _ in splits[lang].train_texts]
        parts: tuple[LinearTfidf, ...] = (
            fit_linear(texts, labels, langs, lang_features=True, c=c),
        )
    elif mode == "fast":
        parts = tuple(
            fit_linear(
                splits[lang].train_texts,
                splits[lang].train_labels,
                [lang] * len(splits[lang].train_texts),
                c=c,
            )
            for lang in LANGUAGES
        )
    else:
        parts, head, report = _train_per_language(
            splits, embeddings, True, C_GRID if c is None else (c,)
        )
    model = SentimentModel(parts, head=head)
    if out_path is not None:
        model.save(out_path, info=_info(kind, mode, report))
    return model, report


def _info(kind: str, mode: str, report: Mapping[str, CrossValidated]) -> dict[str, object]:
    return {
        "kind": kind,
        "mode": mode,
        "trained_on": "train parts of sentiment/",
        "cv": {lang: vars(r) for lang, r in report.items()},
    }
