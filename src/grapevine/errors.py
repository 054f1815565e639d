"""The one error tree of Grapevine.

Every exception Grapevine raises on purpose derives from :class:`GrapevineError`
and keeps its context as attributes, so callers (the CLI, the HTTP service)
can render it without parsing the message::

    GrapevineError
    ├── BadInput            a file, row or field that cannot be read (file, line, field)
    ├── InvalidParameter    a function argument outside its domain (also a ValueError)
    ├── UnknownPerson       a person id or handle not in the graph or the store
    ├── NotFound            a named record that is not there (what, key)
    │   └── CampaignNotFound   no such campaign (for the caller's tenant)
    ├── Conflict            a request the record's present state refuses (what, state)
    │   └── CampaignClosed     a paused or ended campaign refuses new participants
    ├── NotConverged        an iterative estimator stopped before its tolerance
    ├── StoreError          the database cannot do what was asked
    │   ├── SchemaOutOfDate the database schema is older than this Grapevine
    │   └── StoreNotFound   no store where one was to be read (nothing is created)
    ├── InvalidSignature    a webhook whose signature, timestamp or nonce does not verify
    ├── MissingDependency   an optional extra is not installed (names the extra)
    ├── SourceFailed        a listening source (feed, Mastodon) failed after its retries
    ├── ShopRejected        a shop's API refused a request (provider, message, field, code)
    └── ShopUnavailable     a shop's API did not answer after its retries (provider, reason)

HTTP status codes are chosen in ``grapevine.service`` only.
"""

from __future__ import annotations

__all__ = [
    "BadInput",
    "CampaignClosed",
    "CampaignNotFound",
    "Conflict",
    "GrapevineError",
    "InvalidParameter",
    "InvalidSignature",
    "LinkExpired",
    "MissingDependency",
    "NotConverged",
    "NotFound",
    "SchemaOutOfDate",
    "ShopRejected",
    "ShopUnavailable",
    "SourceFailed",
    "StoreError",
    "StoreNotFound",
    "UnknownPerson",
]


class GrapevineError(Exception):
    """Root of every error Grapevine raises on purpose."""


class BadInput(GrapevineError):
    """Input that cannot be read, with where it is.

    Attributes
    ----------
    message : str
        What is wrong, without the location.
    file : str or None
        The file (or source name) being read.
    line : int or None
        The 1-based line number in that file.
    field : str or None
        The column or key at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class LinkExpired(BadInput):
    """A signed link (a participant page token) that was valid but whose time is over."""


class InvalidParameter(GrapevineError, ValueError):
    """A parameter outside its domain, worded the scikit-learn way.

    ``The 'k' parameter of IMM must be an int in the range [1, inf). Got 0 instead.``
    """

    def __init__(self, name: str, owner: str, expected: str, got: object) -> None:
        self.name = name
        self.owner = owner
        self.expected = expected
        self.got = got
        super().__init__(
            f"The {name!r} parameter of {owner} must be {expected}. Got {got!r} instead."
        )


class UnknownPerson(GrapevineError, KeyError):
    """A person id or handle that is not there."""

    def __init__(self, person: object, where: str = "the graph") -> None:
        self.person = person
        self.where = where
        super().__init__(f"Unknown person {person!r} in {where}.")

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class NotFound(GrapevineError):
    """A named record that is not there, or not visible to the caller's tenant.

    Attributes
    ----------
    what : str
        The kind of record: ``"campaign"``, ``"risk decision"``...
    key : object
        How it was named (an id, a key).
    """

    def __init__(self, what: str, key: object, message: str | None = None) -> None:
        self.what = what
        self.key = key
        super().__init__(message or f"no {what} {key!r}")


class CampaignNotFound(NotFound):
    """No campaign with that id (another tenant's campaign is not found either).

    Attributes
    ----------
    campaign_id : int
        The id asked for.
    """

    def __init__(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        super().__init__("campaign", campaign_id, f"no campaign {campaign_id}")


class Conflict(GrapevineError):
    """A request that the present state of a record refuses: a name taken, a review
    already decided the other way, a campaign that has ended.

    Attributes
    ----------
    what : str
        The kind of record: ``"campaign"``, ``"review"``...
    state : str or None
        The state that refuses the request (``"ended"``, ``"approve"``...), when there is one.
    """

    def __init__(self, message: str, *, what: str = "record", state: str | None = None) -> None:
        self.what = what
        self.state = state
        super().__init__(message)


class CampaignClosed(Conflict):
    """A paused or ended campaign asked to enrol a participant (or to resume, once ended).

    Attributes
    ----------
    campaign_id : int
        The campaign.
    status : str
        Its status: ``"paused"`` or ``"ended"``.
    """

    def __init__(self, campaign_id: int, status: str, message: str | None = None) -> None:
        self.campaign_id = campaign_id
        self.status = status
        super().__init__(
            message or f"campaign {campaign_id} is {status}: it takes no new participants",
            what="campaign",
            state=status,
        )


class NotConverged(GrapevineError):
    """An iterative method stopped before reaching its tolerance."""

    def __init__(self, method: str, iterations: int, residual: float) -> None:
        self.method = method
        self.iterations = iterations
        self.residual = residual
        super().__init__(
            f"{method} did not converge in {iterations} iterations (residual {residual:.3g})."
        )


class StoreError(GrapevineError):
    """The database could not do what was asked."""


class SchemaOutOfDate(StoreError):
    """The database schema is older than this version of Grapevine."""


class StoreNotFound(StoreError):
    """No store at the place given, when one was to be read: nothing was created there.

    Attributes
    ----------
    where : str
        The SQLite file, or the database URL (password hidden), that holds no store.
    """

    def __init__(self, where: str, detail: str) -> None:
        self.where = where
        super().__init__(
            f"no store at {where} ({detail}): check the path, or create one there with "
            f"`grapevine migrate --db {where}` (an import creates it too)"
        )


class MissingDependency(GrapevineError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package} is needed for this; install it with: pip install 'grapevine[{extra}]'"
        )


class InvalidSignature(GrapevineError):
    """A webhook whose signature, timestamp or nonce does not verify.

    Attributes
    ----------
    reason : str
        What failed: ``"malformed header"``, ``"no matching signature"``, ``"timestamp outside
        the tolerance"`` or ``"replayed"``.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Webhook signature rejected: {reason}.")


class SourceFailed(GrapevineError):
    """A listening source (a feed, a Mastodon timeline) failed after its retries.

    The cursor passed to the failed fetch stays valid: nothing stored is lost, and the next
    fetch with the same cursor resumes where the last good one stopped.

    Attributes
    ----------
    source : str
        The source's name (a feed URL, ``"mastodon:host:timeline"``).
    reason : str
        ``"network"``, ``"rate_limited"``, ``"unauthorized"``, ``"malformed"`` or
        ``"http_NNN"`` (another HTTP status).
    retry_after : float or None
        Seconds to wait before trying again, when the source said so.
    detail : str
        What happened, in words.
    """

    def __init__(
        self,
        source: str,
        reason: str,
        *,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        self.source = source
        self.reason = reason
        self.retry_after = retry_after
        self.detail = detail
        message = f"Source {source!r} failed: {reason}"
        if detail:
            message += f" ({detail})"
        if retry_after is not None:
            message += f"; retry after {retry_after:g} s"
        super().__init__(message + ".")


class ShopRejected(GrapevineError):
    """A shop's API (Stripe, Shopify) refused a request: retrying the same will not help.

    Attributes
    ----------
    provider : str
        ``"stripe"`` or ``"shopify"``.
    message : str
        The shop's own message.
    field : str or None
        The parameter the shop named (Stripe's ``param``, Shopify's ``userErrors.field``).
    code : str or None
        The shop's error code (``resource_already_exists``, ``TAKEN``...).
    status : int or None
        The HTTP status of the answer.
    """

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        self.provider = provider
        self.message = message
        self.field = field
        self.code = code
        self.status = status
        where = f" (field {field!r})" if field else ""
        super().__init__(f"{provider} refused the request{where}: {message}")


class ShopUnavailable(GrapevineError):
    """A shop's API did not answer usefully after every retry (network, 429, 5xx).

    Nothing was lost: asking again later uses the same idempotency key, so the shop never
    makes two codes for one request.

    Attributes
    ----------
    provider : str
        ``"stripe"`` or ``"shopify"``.
    reason : str
        ``"network"``, ``"rate_limited"``, ``"throttled"`` or ``"http_NNN"``.
    attempts : int
        How many requests were made.
    """

    def __init__(self, provider: str, reason: str, *, attempts: int, detail: str = "") -> None:
        self.provider = provider
        self.reason = reason
        self.attempts = attempts
        self.detail = detail
        extra = f": {detail}" if detail else ""
        super().__init__(f"{provider} did not answer after {attempts} attempts ({reason}){extra}")
