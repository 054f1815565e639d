"""Which matched posts reach the webcare inbox: routing by intent, sentiment and influence.

Every post that matches a watch rule is stored (with its mention of the rule) and stays
searchable; only the posts that need an answer become inbox items. By default a rule sends
complaints and questions (:func:`~grapevine.text.classify_intent`), posts with a negative
sentiment, and anything from an author whose influence (the inbox priority's influence part,
``log(1 + followers) / log(1 + 1,000,000)`` or a stored influence score, in [0, 1]) is at
least 0.67 (about 10,000 followers). A rule changes that with options written in its query:

    inbox:complaint,question      the intents that reach the inbox (``all``, ``none``)
    inbox-negative:yes            negative posts reach it whatever their intent (``no``)
    inbox-min-influence:0.67      authors at least this influential always reach it (``off``)

A post matched by several rules reaches the inbox when any of them routes it there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from grapevine.errors import InvalidParameter

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.text import Sentiment

__all__ = [
    "DEFAULT_MIN_INFLUENCE",
    "ROUTING_OPTIONS",
    "InboxRouting",
    "post_intents",
    "rule_routing",
]

#: Influence (in [0, 1]) from which an author's posts always reach the inbox: 0.67 is about
#: 10,000 followers with the default ``PriorityWeights.followers_ref`` of 1,000,000.
DEFAULT_MIN_INFLUENCE = 0.67
#: The option names a query may carry.
ROUTING_OPTIONS = ("inbox", "inbox-negative", "inbox-min-influence")
_INTENTS = ("complaint", "question", "praise", "other")
_YES = {"yes": True, "true": True, "on": True, "1": True}
_NO = {"no": False, "false": False, "off": False, "0": False}


@dataclass(frozen=True)
class InboxRouting:
    """A rule's inbox routing.

    Attributes
    ----------
    intents : tuple of str
        The intents that reach the inbox.
    negative : bool
        Whether a post with a negative sentiment reaches it whatever its intent.
    min_influence : float or None
        Authors with at least this influence reach it with any post (None: no such rule).

    Examples
    --------
    >>> r = InboxRouting()
    >>> r.route(intent="praise", negative=False, influence=0.1)
    >>> r.route(intent="question", negative=False, influence=0.1)
    'intent question'
    >>> InboxRouting.from_options({"inbox": "praise", "inbox-negative": "no"}).intents
    ('praise',)
    """

    intents: tuple[str, ...] = ("complaint", "question")
    negative: bool = True
    min_influence: float | None = DEFAULT_MIN_INFLUENCE

    def __post_init__(self) -> None:
        bad = [i for i in self.intents if i not in _INTENTS]
        if bad:
            raise InvalidParameter(
                "inbox", "WatchRule", f"a list of intents among {list(_INTENTS)}", bad[0]
            )
        if self.min_influence is not None and not (
            isinstance(self.min_influence, float | int)
            and math.isfinite(self.min_influence)
            and 0.0 <= self.min_influence <= 1.0
        ):
            raise InvalidParameter(
                "inbox-min-influence", "WatchRule", "a number in [0, 1] or off", self.min_influence
            )

    @classmethod
    def from_options(cls, options: dict[str, str]) -> InboxRouting:
        """The routing of a rule's options (name to raw value, as written in the query).

        Raises
        ------
        InvalidParameter
            An unknown option or a value out of its domain; the message names the option.
        """
        kwargs: dict[str, object] = {}
        for name, raw in options.items():
            value = raw.strip().lower()
            if name == "inbox":
                parts = tuple(p.strip() for p in value.split(",") if p.strip())
                if parts == ("all",):
                    parts = _INTENTS
                elif parts == ("none",):
                    parts = ()
                elif not parts:
                    raise InvalidParameter(
                        "inbox", "WatchRule", "a list of intents, all or none", raw
                    )
                kwargs["intents"] = tuple(dict.fromkeys(parts))
            elif name == "inbox-negative":
                if value not in _YES and value not in _NO:
                    raise InvalidParameter("inbox-negative", "WatchRule", "yes or no", raw)
                kwargs["negative"] = _YES.get(value, False)
            elif name == "inbox-min-influence":
                if value in ("off", "none"):
                    kwargs["min_influence"] = None
                    continue
                try:
                    number = float(value)
                except ValueError:
                    number = math.nan
                if not (math.isfinite(number) and 0.0 <= number <= 1.0):
                    raise InvalidParameter(
                        "inbox-min-influence", "WatchRule", "a number in [0, 1] or off", raw
                    )
                kwargs["min_influence"] = number
            else:
                raise InvalidParameter(
                    "query", "WatchRule", f"options among {list(ROUTING_OPTIONS)}", name
                )
        return cls(**kwargs)  # type: ignore[arg-type]

    def options(self) -> list[str]:
        """The options that differ from the default, as written in a query."""
        default = InboxRouting()
        out = []
        if self.intents != default.intents:
            out.append("inbox:" + (",".join(self.intents) if self.intents else "none"))
        if self.negative != default.negative:
            out.append("inbox-negative:" + ("yes" if self.negative else "no"))
        if self.min_influence != default.min_influence:
            value = "off" if self.min_influence is None else f"{self.min_influence:g}"
            out.append("inbox-min-influence:" + value)
        return out

    def route(self, *, intent: str, negative: bool, influence: float) -> str | None:
        """Why a post reaches the inbox under this routing, or None when it does not."""
        if intent in self.intents:
            return f"intent {intent}"
        if self.negative and negative:
            return "negative sentiment"
        if self.min_influence is not None and influence >= self.min_influence:
            return f"influence {influence:.2f}"
        return None


class _HasText(Protocol):
    @property
    def text(self) -> str: ...


def post_intents(
    posts: Sequence[_HasText],
    languages: Sequence[str],
    sentiments: Sequence[Sentiment],
    which: Sequence[int],
) -> dict[int, str]:
    """The intent of the posts at ``which`` (:func:`~grapevine.text.classify_intent`)."""
    from grapevine.text import classify_intent

    found = classify_intent(
        [posts[i].text for i in which],
        languages=[languages[i] for i in which],
        sentiments=[sentiments[i] for i in which],
    )
    return {i: intent.label for i, intent in zip(which, found, strict=True)}


def rule_routing(rule: Any) -> InboxRouting:
    """A rule's inbox routing (the default for a rule object without one)."""
    routing = getattr(rule, "inbox", None)
    return routing if isinstance(routing, InboxRouting) else InboxRouting()
