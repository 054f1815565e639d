"""grapevine.text: language ID, the shipped sentiment model, corrections, numpy == sklearn."""

from __future__ import annotations

import numpy as np
import pytest

import grapevine.text as gt
from grapevine.errors import InvalidParameter
from grapevine.text import (
    UNSCORED,
    SentimentModel,
    clean_for_language,
    detect_language,
    text_hash,
)
from grapevine.text._sentiment import SHIPPED_MODEL, LinearTfidf, featurize


def test_public_namespace_is_all() -> None:
    assert {n for n in dir(gt) if not n.startswith("_")} == set(gt.__all__)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Ik heb vandaag echt genoten van de zon", "nl"),
        ("Heute war ein wirklich schöner Tag im Park", "de"),
        ("Jag tycker verkligen om den här låten", "sv"),
        ("I really enjoyed the concert last night", "en"),
        ("Je suis très content de ce nouveau livre", "fr"),
        ("@piet Wat een geweldige wedstrijd was dat gisteren 🎉 https://t.co/abc #voetbal", "nl"),
    ],
)
def test_detect_language_short_posts(text: str, lang: str) -> None:
    guess = detect_language([text])[0]
    assert guess.lang == lang
    assert 0.0 < guess.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "🎉🔥😂", "@user #tag https://x.y/z", "<p></p>", "ok"])
def test_detect_language_too_little_text_is_und(text: str) -> None:
    assert detect_language([text]) == [("und", 0.0)]


def test_detect_language_candidates_restrict() -> None:
    assert detect_language(["Dat is mooi"], candidates=["nl", "de"])[0].lang in ("nl", "de")
    with pytest.raises(InvalidParameter, match="candidates"):
        detect_language(["x"], candidates=["xx-not-a-lang"])
    with pytest.raises(InvalidParameter, match="texts"):
        detect_language("a string, not a list")


def test_clean_for_language_strips_noise() -> None:
    assert clean_for_language("<b>Hoi</b> &amp; @a #b www.x.nl 😀") == "Hoi &"


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel.load()


def test_shipped_model_is_small_safe_and_offline(model: SentimentModel) -> None:
    assert SHIPPED_MODEL.stat().st_size < 5 * 2**20
    with np.load(SHIPPED_MODEL, allow_pickle=False) as npz:  # no pickled objects inside
        assert all(npz[k].dtype != object for k in npz.files)
    assert model.supported_languages == ("de", "en", "nl", "sv")


@pytest.mark.parametrize(
    ("text", "lang", "label"),
    [
        ("I love this, what a great day!", "en", "positive"),
        ("This is terrible, I hate it", "en", "negative"),
        ("Wat een prachtige dag, super blij!", "nl", "positive"),
        ("Danke, das war ein großartiger Abend!", "de", "positive"),
        ("Så himla bra, jag älskar det ❤️", "sv", "positive"),
    ],
)
def test_shipped_model_predicts_four_languages(
    model: SentimentModel, text: str, lang: str, label: str
) -> None:
    result = model.predict([text], langs=[lang])[0]
    assert result.label == label
    assert result.source == "model"
    assert 1 / 3 < result.confidence <= 1.0


def test_unsupported_and_undetermined_are_unscored(model: SentimentModel) -> None:
    results = model.predict(
        ["Je suis très content de ce nouveau livre", "🎉🎉", "", "<p>&nbsp;</p>", "Det är bra"],
        langs=[None, None, None, None, "fi"],
    )
    assert [r.label for r in results] == [UNSCORED] * 5
    assert [r.lang for r in results] == ["fr", "und", "und", "und", "fi"]
    assert all(r.confidence == 0.0 and r.source == "unsupported" for r in results)


def test_given_language_scores_empty_and_html(model: SentimentModel) -> None:
    results = model.predict(["", "<p>Super!</p>"], langs=["en", "en"])
    assert all(r.label in gt.LABELS for r in results)


def test_predict_validates(model: SentimentModel) -> None:
    with pytest.raises(InvalidParameter, match="langs"):
        model.predict(["a", "b"], langs=["en"])
    with pytest.raises(InvalidParameter, match="texts"):
        model.predict("abc")


def test_corrections_override_and_are_pure(model: SentimentModel) -> None:
    text = "I love this, what a great day!"
    fixed = model.with_corrections({text_hash(text): "negative"})
    assert fixed.predict([text], ["en"])[0] == ("negative", 1.0, "en", "correction")
    assert model.predict([text], ["en"])[0].label == "positive"  # original unchanged
    # a correction applies even when the language is not supported
    fr = "Je suis très content"
    assert model.with_corrections({text_hash(fr): "positive"}).predict([fr])[0].label == "positive"
    with pytest.raises(InvalidParameter, match="corrections"):
        model.with_corrections({"x": "great"})


def test_save_load_round_trip(model: SentimentModel, tmp_path) -> None:
    path = model.save(tmp_path / "m.npz")
    texts = ["Wat een dag", "Schlecht gemacht", "Bra!", "meh"]
    langs = ["nl", "de", "sv", "en"]
    a = [p.proba(texts, langs) for p in model.parts]
    b = [p.proba(texts, langs) for p in SentimentModel.load(path).parts]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-6)


def test_numpy_predict_equals_sklearn_predict_proba() -> None:
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from grapevine.text._train import _pipeline

    texts = ["good good day", "bad day", "a day", "so good", "so bad", "fine day", "nice", "awful"]
    texts = texts * 2
    y = np.asarray([2, 0, 1, 2, 0, 1, 2, 0] * 2)
    feats = [featurize(t) for t in texts]
    pipe = _pipeline(2.0, True).fit(feats, y)
    vec, clf = pipe.steps[0][1], pipe.steps[1][1]
    lin = LinearTfidf(
        vocabulary=vec.vocabulary_,
        idf=vec.idf_,
        coef=clf.coef_,
        intercept=clf.intercept_,
        languages=("en",),
    )
    new = ["good bad day!", "nothing known here", "so so good"]
    np.testing.assert_allclose(
        lin.proba(new, ["en"] * 3), pipe.predict_proba([featurize(t) for t in new]), atol=1e-10
    )


@pytest.mark.shared_data
def test_shipped_model_beats_majority_on_heldout(data_dir, model: SentimentModel) -> None:
    from grapevine.text import load_sentiment_splits

    splits = load_sentiment_splits(data_dir)
    for lang in ("de", "en", "nl", "sv"):
        s = splits[lang]
        pred = [
            gt.LABELS.index(r.label)
            for r in model.predict(s.heldout_texts, [lang] * len(s.heldout_texts))
        ]
        assert np.mean(np.asarray(pred) == np.asarray(s.heldout_labels)) > 0.5, lang
        assert not set(s.heldout_texts) & set(s.train_texts) - {""}, lang


@pytest.mark.shared_data
def test_language_id_on_heldout(data_dir) -> None:
    from grapevine.text import load_sentiment_splits

    splits = load_sentiment_splits(data_dir)
    for lang in ("de", "en", "nl", "sv"):
        texts = splits[lang].heldout_texts
        guesses = detect_language(texts, candidates=["de", "en", "nl", "sv"])
        assert np.mean([g.lang == lang for g in guesses]) > 0.8, lang
