"""E-mail addresses: one canonical form per mailbox, and throw-away domains."""

from __future__ import annotations

import functools
from importlib import resources

from grapevine.errors import BadInput

__all__ = ["PLUS_TAG_DOMAINS", "disposable_domains", "is_disposable_email", "normalize_email"]

_GMAIL = frozenset({"gmail.com", "googlemail.com"})
PLUS_TAG_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "fastmail.com",
        "fastmail.fm",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "mail.com",
        "hey.com",
    }
)
"""Providers that deliver ``name+anything@domain`` to ``name@domain`` (sub-addressing,
RFC 5233); their plus-tags are dropped by :func:`normalize_email`."""


def normalize_email(email: str) -> str:
    """The canonical mailbox of an address, to tell one person's many spellings apart.

    Rules
    -----
    1. Surrounding whitespace is stripped; the whole address is lower-cased (RFC 5321 lets
       the local part be case-sensitive; no large provider makes it so), and a trailing
       dot on the domain is dropped.
    2. ``googlemail.com`` is ``gmail.com``; for Gmail the dots of the local part are dropped
       (Gmail ignores them) and everything from the first ``+``.
    3. For the other providers of :data:`PLUS_TAG_DOMAINS` everything from the first ``+``
       of the local part is dropped (dots are significant there).
    4. Any other domain keeps its local part as is: sub-addressing there is the domain's
       own business, and guessing would merge different people.

    Raises
    ------
    BadInput
        Without exactly one ``@``, or with an empty local part or domain.

    Examples
    --------
    >>> normalize_email(" John.Smith+promo@GoogleMail.com ")
    'johnsmith@gmail.com'
    >>> normalize_email("jane.doe+x@outlook.com"), normalize_email("a+b@example.org")
    ('jane.doe@outlook.com', 'a+b@example.org')
    """
    if not isinstance(email, str):
        raise BadInput(f"an e-mail must be a string, not {type(email).__name__}", field="email")
    text = email.strip().lower()
    local, at, domain = text.rpartition("@")
    domain = domain.rstrip(".")
    if not at or "@" in local or not local or not domain or any(c.isspace() for c in text):
        raise BadInput(f"not an e-mail address: {email!r}", field="email")
    if domain in _GMAIL:
        domain = "gmail.com"
        local = local.split("+", 1)[0].replace(".", "")
    elif domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    if not local:
        raise BadInput(f"not an e-mail address: {email!r}", field="email")
    return f"{local}@{domain}"


@functools.cache
def disposable_domains() -> frozenset[str]:
    """The bundled disposable e-mail domains (see ``referrals/data/PROVENANCE.md``).

    >>> len(disposable_domains()) > 10_000
    True
    """
    text = (
        resources.files("grapevine.referrals")
        .joinpath("data/disposable_email_domains.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def is_disposable_email(email_or_domain: str) -> bool:
    """True when an address (or a bare domain) is at a disposable domain or a subdomain of one.

    >>> is_disposable_email("someone@mailinator.com"), is_disposable_email("x@gmail.com")
    (True, False)
    >>> is_disposable_email("a@inbox.mailinator.com")
    True
    """
    text = email_or_domain.strip().lower()
    domain = text.rpartition("@")[2].rstrip(".")
    listed = disposable_domains()
    labels = domain.split(".")
    return any(".".join(labels[i:]) in listed for i in range(len(labels) - 1))
