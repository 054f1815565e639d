"""Secrets kept in the database, encrypted under a key kept outside it.

A webhook secret is an HMAC key: verifying a signature needs the secret itself, so a hash
(as for API keys) cannot be stored. Each secret is sealed with AES-256-GCM under a key
derived (HKDF-SHA256) from ``GRAPEVINE_SECRETS_KEY``, a setting that never enters the
database: a copy of the database (a backup, a dump, a read-only SQL injection) gives
ciphertext only. The tenant and the secret's kind are the GCM associated data, so a sealed
value moved to another tenant's row no longer opens.

Sealed form: ``v1$<key id>$<base64url(nonce || ciphertext || tag)>``; the key id (8 hex
digits of a hash of the derived key) says which ``GRAPEVINE_SECRETS_KEY`` sealed it, so a
changed setting is reported as such rather than as damaged data.
"""

from __future__ import annotations

import base64
import hashlib
import os

from grapevine.errors import InvalidParameter, StoreError

__all__ = ["MIN_KEY_CHARS", "SecretBox", "SecretUnreadable"]

MIN_KEY_CHARS = 32
"""Shortest accepted ``GRAPEVINE_SECRETS_KEY`` (``secrets.token_urlsafe(32)`` gives 43)."""

_VERSION = "v1"
_INFO = b"grapevine webhook secrets v1"


class SecretUnreadable(StoreError):
    """A sealed secret that this ``GRAPEVINE_SECRETS_KEY`` cannot open."""


class SecretBox:
    """Seal and open short secrets with AES-256-GCM under a key derived from ``master``.

    Parameters
    ----------
    master : str
        The value of ``GRAPEVINE_SECRETS_KEY``: at least 32 characters of a random secret.

    Examples
    --------
    >>> box = SecretBox("k" * 32)
    >>> sealed = box.seal("whsec_abc", context="tenant 1 stripe")
    >>> box.open(sealed, context="tenant 1 stripe")
    'whsec_abc'
    """

    def __init__(self, master: str) -> None:
        if not isinstance(master, str) or len(master) < MIN_KEY_CHARS:
            shown = f"{len(master)} characters" if isinstance(master, str) else master
            raise InvalidParameter(
                "GRAPEVINE_SECRETS_KEY",
                "the secret store",
                f"a str of at least {MIN_KEY_CHARS} characters",
                shown,
            )
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            master.encode("utf-8")
        )
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"key id\x00" + key).hexdigest()[:8]

    def seal(self, secret: str, *, context: str) -> str:
        """The sealed form of ``secret``, bound to ``context`` (tenant and kind)."""
        nonce = os.urandom(12)
        data = self._aead.encrypt(nonce, secret.encode("utf-8"), context.encode("utf-8"))
        blob = base64.urlsafe_b64encode(nonce + data).decode("ascii")
        return f"{_VERSION}${self.key_id}${blob}"

    def open(self, sealed: str, *, context: str) -> str:
        """The secret that :meth:`seal` sealed under the same context.

        Raises
        ------
        SecretUnreadable
            Sealed under another ``GRAPEVINE_SECRETS_KEY``, for another context, or damaged.
        """
        from cryptography.exceptions import InvalidTag

        version, _, rest = sealed.partition("$")
        key_id, _, blob = rest.partition("$")
        if version != _VERSION or not blob:
            raise SecretUnreadable("a stored secret is not in the sealed format")
        if key_id != self.key_id:
            raise SecretUnreadable(
                f"a stored secret was sealed under another GRAPEVINE_SECRETS_KEY (key id "
                f"{key_id}; the key set now has id {self.key_id})"
            )
        try:
            raw = base64.urlsafe_b64decode(blob.encode("ascii"))
            return self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode()
        except (InvalidTag, ValueError) as exc:
            raise SecretUnreadable(
                f"a stored secret does not open for {context!r} (damaged, or moved from "
                "another row)"
            ) from exc
