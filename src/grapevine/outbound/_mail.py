"""E-mail over SMTP (the standard library's smtplib): the server setting and one send.

``GRAPEVINE_SMTP_URL`` names the server: ``smtp://user:pass@host:587`` (plain; with
``?starttls=true`` upgraded by STARTTLS, RFC 3207, before logging in) or
``smtps://user:pass@host:465`` (TLS from the first byte, RFC 8314). User and password are
percent-decoded; without them no login is attempted.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from functools import cache
from urllib.parse import parse_qs, unquote, urlsplit

from grapevine.errors import InvalidParameter

__all__ = ["SmtpServer", "build_message", "parse_smtp_url", "send_message"]

_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand e-mail over: host, port, TLS mode and optional login."""

    host: str
    port: int
    tls: str  # "none", "starttls" or "tls"
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def __repr__(self) -> str:  # never show the password
        return f"SmtpServer(host={self.host!r}, port={self.port}, tls={self.tls!r})"


def parse_smtp_url(url: str) -> SmtpServer:
    """The :class:`SmtpServer` of a ``GRAPEVINE_SMTP_URL``.

    >>> parse_smtp_url("smtp://mailer:p%40ss@mail.example:587?starttls=true")
    SmtpServer(host='mail.example', port=587, tls='starttls')
    >>> parse_smtp_url("smtps://mail.example").port
    465
    >>> parse_smtp_url("http://mail.example")
    Traceback (most recent call last):
    ...
    grapevine.errors.InvalidParameter: The 'GRAPEVINE_SMTP_URL' parameter ... Got 'http://...
    """
    problem = InvalidParameter(
        "GRAPEVINE_SMTP_URL",
        "the e-mail sender",
        "smtp://[user:pass@]host[:port][?starttls=true] or smtps://[user:pass@]host[:port]",
        re.sub(r"//[^@/]*@", "//***@", url),  # never echo the password
    )
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise problem from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise problem
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "smtps":
        tls = "tls"
    elif query.get("starttls", "") in _TRUE:
        tls = "starttls"
    else:
        tls = "none"
    try:
        timeout = float(query.get("timeout", "30"))
    except ValueError:
        raise problem from None
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if tls == "tls" else 25),
        tls=tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    headers: dict[str, str] | None = None,
    language: str | None = None,
) -> EmailMessage:
    """A ``multipart/alternative`` e-mail (text, then HTML) with the extra ``headers``."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    if language:  # after the parts: making them moves the Content-* headers into the first
        msg["Content-Language"] = language
    return msg


@cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds: once per process, not per e-mail.
    return ssl.create_default_context()


def send_message(server: SmtpServer, message: EmailMessage) -> None:
    """Hand ``message`` to ``server``.

    Raises
    ------
    smtplib.SMTPException, OSError
        As smtplib raises them (the dispatcher records them as the attempt's error).
    """
    context = _tls()
    client: smtplib.SMTP
    if server.tls == "tls":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    with client:
        if server.tls == "starttls":
            client.starttls(context=context)
        if server.user is not None:
            client.login(server.user, server.password or "")
        client.send_message(message)
