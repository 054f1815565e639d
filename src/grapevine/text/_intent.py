"""What a post wants: a complaint, a question, praise, or other (de, en, nl, sv).

The webcare inbox should hold the posts that need an answer. :func:`classify_intent` tells
them apart with per-language cue lexicons, question syntax and the sentiment the listening
pipeline already computes; it is a few regular expressions per post (tens of thousands of
posts per second), so it runs on every matched post.

Method
------
For each post, in its language (a language outside de, en, nl, sv uses the cues of all
four):

- **question**: a ``?``; an interrogative at the start of a sentence (``how``, ``warum``,
  ``waarom``, ``hur``...); an auxiliary before its subject (``can you``, ``kann ich``,
  ``kunnen jullie``, ``har ni``); an indirect question (``I wonder whether``, ``ich frage
  mich``, ``ik vraag me af``, ``undrar``); a request (``please``, ``bitte``, ``graag``,
  ``snälla``, ``could you``);
- **complaint cues**: negative words about things and service (``broken``, ``refund``,
  ``kaputt``, ``waardeloos``, ``funkar inte``...), negative emoji, a praise word under a
  negation (``not good``, ``nicht gut``, ``niet goed``, ``inte bra``);
- **praise cues**: positive words and thanks, positive emoji, a negative word under a
  negation (``not bad``, ``nicht schlecht``, ``niet slecht``, ``inte dåligt``);
- the sentiment (when given) adds half a cue to the complaint side when negative and half
  to the praise side when positive, with confidence at least 0.5; ``?!`` adds a complaint cue.

A negation covers the three words before a cue. The label is ``complaint`` when the
complaint side has at least 1.5 votes and outweighs praise (a rhetorical question that
complains is a complaint), else ``question`` when a question signal fired, else
``complaint`` or ``praise`` for the side with a lexical cue that outweighs the other, else
``other``. Every label comes with the reasons that produced it.

Known limits: sarcasm (``Cool. Another Saturday at work``) reads as praise; a complaint
without a cue word and with a neutral sentiment is ``other``; questions quoted from
someone else count as questions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from grapevine.errors import InvalidParameter

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.text._sentiment import Sentiment

__all__ = ["INTENTS", "INTENT_LANGUAGES", "Intent", "classify_intent"]

#: The intent labels.
INTENTS = ("complaint", "question", "praise", "other")
#: The languages with their own cue lists.
INTENT_LANGUAGES = ("de", "en", "nl", "sv")


@dataclass(frozen=True)
class Intent:
    """The intent of one post.

    Attributes
    ----------
    label : str
        ``complaint``, ``question``, ``praise`` or ``other``.
    language : str
        The cue lists used (``de``, ``en``, ``nl``, ``sv``, or ``all``).
    reasons : tuple of str
        What decided it, for example ``('question: interrogative "waarom"',)``.
    """

    label: str
    language: str
    reasons: tuple[str, ...] = ()


# ---------------------------------------------------------------------------- lexicons
# A cue is a word, a phrase, or a stem ending in "*". Lower case; matched on whole words.
_QUESTION_WORDS = {
    "en": "how what why when where who whom whose which anyone anybody",
    "de": "wie was warum wieso weshalb weswegen wo wohin woher wann wer wen wem welche* wozu",
    "nl": "hoe wat waarom wanneer waar wie welk welke hoezo waarvoor",
    "sv": "hur vad varför när var vem vems vilken vilket vilka varifrån",
}
_AUXILIARIES = {
    "en": (
        "do does did can could will would is are was were should shall may has have",
        "you u i we they it he she anyone anybody someone somebody there this that",
    ),
    "de": (
        "kann kannst könnt können könnte könnten hast habt haben hat gibt ist sind wird "
        "werdet funktioniert weiß wisst muss soll sollte darf dürfen geht",
        "ich du ihr sie man es jemand mir das er",
    ),
    "nl": (
        "kan kun kunt kunnen heb hebt hebben heeft is zijn wordt weet weten moet moeten "
        "mag mogen gaat gaan werkt zou zouden krijg krijgen",
        "ik je jij jullie u iemand het er dit dat we wij hij ze",
    ),
    "sv": (
        "kan kommer går finns har är vet ska skulle borde funkar fungerar får",
        "ni du jag man det någon vi han hon den",
    ),
}
# Each lexicon: single words (and "stem*") separated by spaces; phrases in the tuple.
_NEGATIVE: dict[str, tuple[str, tuple[str, ...]]] = {
    "en": (
        "broken broke* fail* fault* bad worse worst terrible awful horrible useless rubbish "
        "crap* shit* sucks suck sucked scam* refund* disappoint* annoy* ridiculous "
        "unacceptable hate* hating hated disgust* pathetic poor overpriced delay* cancel* "
        "complain* problem* issue* error* bug bugs buggy crash* fuck* wtf mush wrong lied "
        "lying liar* stupid shame*",
        (
            "still waiting",
            "doesn't work",
            "does not work",
            "not working",
            "stopped working",
            "never again",
            "rip off",
            "ripped off",
            "no answer",
            "no response",
            "sick of",
            "fed up",
            "why do you",
            "can't believe",
            "cannot believe",
        ),
    ),
    "de": (
        "kaputt* defekt* fehler* schlecht* schlimm* mies* ärger* unverschämt* frechheit "
        "katastroph* enttäusch* nervt* nerv* hasse hass* scheiß* scheiss* kacke mist müll "
        "schrott* betrug* abzocke* geschmacklos* peinlich* unfassbar lächerlich* unmöglich "
        "beschwerde* reklamation* igitt fuck* verspät* ausgefallen storniert ekelhaft* "
        "dreck* schade zumutung",
        ("funktioniert nicht", "geht nicht", "keine antwort", "warte immer noch", "nie wieder"),
    ),
    "nl": (
        "slecht* waardeloos* belachelijk* schandalig* schande* bizar kapot* teleurgesteld* "
        "teleurstell* klacht* klagen irritant* ergerlijk* boos woedend vreselijk* "
        "verschrikkelijk* triest* treurig* walgelijk* nep oplichting* oplichters schaamte* "
        "fout* storing* vertraging* geannuleerd* kut* klote* shit* fuck* onzin* "
        "onacceptabel* bloedgevaarlijk*",
        (
            "werkt niet",
            "doet het niet",
            "geen antwoord",
            "nog steeds",
            "nooit meer",
            "gekker moet het niet",
            "nergens horen",
            "met twee maten",
            "met 2 maten",
        ),
    ),
    "sv": (
        "dålig* sämst* sämre värdelös* trasig* fel felet skandal* usel* hatar* hat "
        "fyfan jävla* jävl* tråkig* besvik* irriter* klaga* klagomål* bedrägeri* vidrig* "
        "äcklig* pinsam* löjlig* triggad* förtäckt* skryt fan dumt dum korkad*",
        (
            "fy fan",
            "funkar inte",
            "fungerar inte",
            "inget svar",
            "väntar fortfarande",
            "aldrig mer",
        ),
    ),
}
_POSITIVE: dict[str, tuple[str, tuple[str, ...]]] = {
    "en": (
        "love* loving great awesome amazing excellent fantastic perfect best thank* thx "
        "brilliant wonderful beautiful nice good recommend* proud happy enjoy* fun cool "
        "favourite favorite impressed delicious superb kudos congrat*",
        (),
    ),
    "de": (
        "danke* dank liebe* lieb toll* super* großartig* grossartig* geil* wunderbar* "
        "schön* schoen* perfekt* empfehl* leseempfehlung klasse spitze prima genial* "
        "lecker* beste* glücklich* gut gute guter gutes",
        (),
    ),
    "nl": (
        "mooi* goed goede geweldig* prachtig* top bedankt dank dankjewel dankzij blij enig "
        "leuk* lekker* heerlijk* fantastisch* super* trots aanrader knap initiatief "
        "gezellig* topprestaties sterk",
        ("fan van",),
    ),
    "sv": (
        "älskar* älska bäst* bästa fin fina finaste snygg* grym* tack underbar* härlig* "
        "bra bra* skön* kul glad idol gillar* favorit* perfekt*",
        (),
    ),
}
_INDIRECT: dict[str, tuple[str, ...]] = {
    "en": (
        "i wonder",
        "wonder whether",
        "wonder if",
        "anyone know",
        "please",
        "pls",
        "plz",
        "could you",
        "would you",
        "can you",
        "can someone",
        "let me know",
        "any idea",
        "any ideas",
        "help me",
    ),
    "de": (
        "ich frage mich",
        "frage mich",
        "weiß jemand",
        "hat jemand",
        "kann mir jemand",
        "bitte",
        "könnt ihr",
        "können sie",
        "gebt bescheid",
        "hilfe",
    ),
    "nl": (
        "ik vraag me af",
        "vraag me af",
        "weet iemand",
        "heeft iemand",
        "kan iemand",
        "alsjeblieft",
        "alstublieft",
        "graag",
        "zou je",
        "zouden jullie",
        "zou u",
        "kunnen jullie",
        "laat weten",
        "durven het bijna niet te vragen",
    ),
    "sv": (
        "undrar",
        "vet någon",
        "någon som",
        "kan någon",
        "snälla",
        "kan ni",
        "skulle ni",
        "hjälp",
    ),
}
_NEGATORS = {
    "en": "not no never n't dont don't isn't wasn't aren't cannot can't hardly",
    "de": "nicht kein keine keinen keiner nie niemals",
    "nl": "niet geen nooit",
    "sv": "inte ej aldrig icke",
}
_NEG_EMOJI = "👎🤬😡😠😤🤢🤮🙄😒💩"
_POS_EMOJI = "❤♥😍🥰👍👌😊🙏💕💗💖😘🤩👏"
_QUESTION_MARK = re.compile(r"\?")
_EXASPERATED = re.compile(r"\?!|!\?")
#: A confident sentiment counts half a lexical cue: it breaks ties, it does not decide alone.
_SENTIMENT_WEIGHT = 0.5
_SENTENCE_START = re.compile(r"(?:^|[.!?\n:;]\s*)(?:(?:@\w+|rt)\s+)*(\w+)(?:\s+(\w+))?")
_TOKEN = re.compile(r"[\w']+")
_URL = re.compile(r"(?:https?://|www\.)\S+")


def _word_re(word: str) -> str:
    return re.escape(word[:-1]) + r"[\w']*" if word.endswith("*") else re.escape(word)


def _alternation(cues: Iterable[str]) -> re.Pattern[str]:
    parts = [r"\s+".join(_word_re(w) for w in cue.split()) for cue in cues]
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(parts) + r")(?![\w'])")


@dataclass(frozen=True)
class _Lexicon:
    negative: re.Pattern[str]
    positive: re.Pattern[str]
    indirect: re.Pattern[str]
    interrogatives: frozenset[str]
    interrogative_stems: tuple[str, ...]
    auxiliaries: frozenset[str]
    subjects: frozenset[str]
    negators: frozenset[str]


@cache
def _lexicon(lang: str) -> _Lexicon:
    langs = INTENT_LANGUAGES if lang == "all" else (lang,)
    negative: list[str] = []
    positive: list[str] = []
    indirect: list[str] = []
    words: set[str] = set()
    aux: set[str] = set()
    subj: set[str] = set()
    negators: set[str] = set()
    for code in langs:
        for lexicon, out in ((_NEGATIVE, negative), (_POSITIVE, positive)):
            single, phrases = lexicon[code]
            out += single.split()
            out += phrases
        indirect += _INDIRECT[code]
        words.update(_QUESTION_WORDS[code].split())
        a, s = _AUXILIARIES[code]
        aux.update(a.split())
        subj.update(s.split())
        negators.update(_NEGATORS[code].split())
    return _Lexicon(
        negative=_alternation(negative),
        positive=_alternation(positive),
        indirect=_alternation(indirect),
        interrogatives=frozenset(w for w in words if not w.endswith("*")),
        interrogative_stems=tuple(w[:-1] for w in words if w.endswith("*")),
        auxiliaries=frozenset(aux),
        subjects=frozenset(subj),
        negators=frozenset(negators),
    )


# ---------------------------------------------------------------------------- signals
def _negated(text: str, start: int, negators: frozenset[str], floor: int = 0) -> bool:
    """Whether one of the three words before ``start`` (and after ``floor``, the end of the
    previous cue: ``funkar inte och inget svar`` negates nothing) is a negator."""
    before = _TOKEN.findall(text[max(floor, start - 40) : start])[-3:]
    return any(w in negators or w.endswith("n't") for w in before)


def _question(text: str, lex: _Lexicon) -> str | None:
    """The first question signal in ``text``, or None."""
    if _QUESTION_MARK.search(text):
        return "question: '?'"
    for m in _SENTENCE_START.finditer(text):
        first, second = m.group(1), m.group(2)
        interrogative = first in lex.interrogatives or (
            bool(lex.interrogative_stems) and first.startswith(lex.interrogative_stems)
        )
        if interrogative and second is not None:  # a lone "what" at the end is no question
            return f"question: interrogative {first!r}"
        if first in lex.auxiliaries and second in lex.subjects:
            return f"question: inversion {first + ' ' + second!r}"
    found = lex.indirect.search(text)
    if found is not None:
        return f"question: request or indirect question {found.group(0)!r}"
    return None


def _one(text: str, lang: str, sentiment: Sentiment | None) -> Intent:
    norm = _URL.sub(" ", text.lower())
    lex = _lexicon(lang)
    complaint: list[str] = []
    praise: list[str] = []
    floor = 0
    for m in lex.negative.finditer(norm):
        if _negated(norm, m.start(), lex.negators, floor):
            praise.append(f"negated negative {m.group(0)!r}")
        else:
            complaint.append(f"negative cue {m.group(0)!r}")
        floor = m.end()
    for m in lex.positive.finditer(norm):
        if _negated(norm, m.start(), lex.negators):
            complaint.append(f"negated positive {m.group(0)!r}")
        else:
            praise.append(f"positive cue {m.group(0)!r}")
    lexical_c, lexical_p = len(complaint), len(praise)
    neg_emoji = [c for c in _NEG_EMOJI if c in text]
    pos_emoji = [c for c in _POS_EMOJI if c in text]
    if neg_emoji:
        complaint.append("negative emoji " + "".join(neg_emoji))
    if pos_emoji:
        praise.append("positive emoji " + "".join(pos_emoji))
    if _EXASPERATED.search(text):
        complaint.append("exasperated '?!'")
    c, p = float(len(complaint)), float(len(praise))
    if sentiment is not None and sentiment.confidence >= 0.5:
        if sentiment.label == "negative":
            complaint.append(f"negative sentiment ({sentiment.confidence:.2f})")
            c += _SENTIMENT_WEIGHT
        elif sentiment.label == "positive":
            praise.append(f"positive sentiment ({sentiment.confidence:.2f})")
            p += _SENTIMENT_WEIGHT
    question = _question(norm, lex)
    if c >= 1.5 and c > p:
        reasons = complaint + ([question] if question else [])
        return Intent("complaint", lang, tuple(reasons))
    if question is not None:
        return Intent("question", lang, (question,))
    if (lexical_c or neg_emoji) and c > p:
        return Intent("complaint", lang, tuple(complaint))
    if (lexical_p or pos_emoji) and p > c:
        return Intent("praise", lang, tuple(praise))
    return Intent("other", lang, ("no cue outweighs the others",) if c or p else ())


# ---------------------------------------------------------------------------- public
def classify_intent(
    texts: Sequence[str],
    languages: Sequence[str | None] | None = None,
    sentiments: Sequence[Sentiment | None] | None = None,
) -> list[Intent]:
    """The intent of each post: complaint, question, praise or other, with the reasons.

    Parameters
    ----------
    texts : sequence of str
        The posts.
    languages : sequence of str or None, optional
        ISO 639-1 codes aligned with ``texts`` (``en-GB`` counts as ``en``); None (or a None
        entry) is detected with :func:`~grapevine.text.detect_language`. A language other
        than de, en, nl and sv uses the cues of all four.
    sentiments : sequence of Sentiment or None, optional
        The posts' sentiment (:class:`~grapevine.text.Sentiment`), aligned with ``texts``;
        a negative one (confidence at least 0.5) counts as half a complaint cue, a positive
        one as half a praise cue.

    Returns
    -------
    list of Intent

    Raises
    ------
    InvalidParameter
        When ``languages`` or ``sentiments`` is not as long as ``texts``.

    Notes
    -----
    Linear in the length of the texts: a handful of compiled regular expressions per post.
    The method, and its recall on a labelled sample, are in docs/listening.md.

    Examples
    --------
    >>> [i.label for i in classify_intent(
    ...     ["Waarom werkt de app niet", "Das ist nicht schlecht!", "My order is broken again",
    ...      "Tack, ni är bäst", "Meeting at noon"],
    ...     languages=["nl", "de", "en", "sv", "en"])]
    ['question', 'praise', 'complaint', 'praise', 'other']
    """
    texts = list(texts)
    if languages is not None and len(languages) != len(texts):
        raise InvalidParameter(
            "languages", "classify_intent", f"as long as texts ({len(texts)})", len(languages)
        )
    if sentiments is not None and len(sentiments) != len(texts):
        raise InvalidParameter(
            "sentiments", "classify_intent", f"as long as texts ({len(texts)})", len(sentiments)
        )
    langs: list[str | None] = [
        None if lang is None else str(lang).strip().lower().replace("_", "-").split("-")[0]
        for lang in (languages if languages is not None else [None] * len(texts))
    ]
    missing = [i for i, lang in enumerate(langs) if not lang]
    if missing:
        from grapevine.text._language import detect_language

        for i, guess in zip(missing, detect_language(texts[i] for i in missing), strict=True):
            langs[i] = guess.lang
    return [
        _one(
            text or "",
            lang if lang in INTENT_LANGUAGES else "all",
            None if sentiments is None else sentiments[i],
        )
        for i, (text, lang) in enumerate(zip(texts, langs, strict=True))
    ]
