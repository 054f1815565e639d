"""The one error tree of Grapevine.

Every exception Grapevine raises on purpose derives from :class:`GrapevineError`
and keeps its context as attributes, so callers (the CLI, the HTTP service)
can render it without parsing the message::

    GrapevineError
    ├── BadInput            a file, row or field that cannot be read (file, line, field)
    ├── InvalidParameter    a function argument outside its domain (also a ValueError)
    ├── UnknownPerson       a person id or handle not in the graph or the store
    ├── NotConverged        an iterative estimator stopped before its tolerance
    ├── StoreError          the database cannot do what was asked
    │   ├── SchemaOutOfDate the database schema is older than this Grapevine
    │   └── StoreNotFound   no store where one was to be read (nothing is created)
    ├── InvalidSignature    a webhook whose signature, timestamp or nonce does not verify
    ├── MissingDependency   an optional extra is not installed (names the extra)
    └── SourceFailed        a listening source (feed, Mastodon) failed after its retries

HTTP status codes are chosen in ``grapevine.service`` only.
"""

from __future__ import annotations

__all__ = [
    "BadInput",
    "GrapevineError",
    "InvalidParameter",
    "InvalidSignature",
    "LinkExpired",
    "MissingDependency",
    "NotConverged",
    "SchemaOutOfDate",
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
