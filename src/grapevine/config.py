"""One settings object for the whole of Grapevine.

Every setting can come from an environment variable with the ``GRAPEVINE_``
prefix (``GRAPEVINE_DATABASE_URL``, ``GRAPEVINE_BATCH_SIZE``...) or a ``.env``
file in the working directory.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]

_RATE = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:/\s*s)?\s*(?:[,:]\s*[1-9]\d*)?\s*$")


class Settings(BaseSettings):
    """Grapevine's settings; read from ``GRAPEVINE_*`` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="GRAPEVINE_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = Field(
        default="sqlite:///grapevine.db",
        description="SQLAlchemy URL of the store; a SQLite file in the working directory "
        "by default, or postgresql+psycopg://user@host/db.",
    )
    batch_size: int = Field(
        default=50_000, ge=1, description="Rows written per transaction by the importers."
    )
    data_dir: Path = Field(
        default=Path("../shared/data"),
        description="Where the real datasets live (tests and benchmarks read them from here).",
    )
    cache_dir: Path = Field(
        default=Path("~/.cache/grapevine"),
        description="Where binary graph caches go when the edge-list file's own folder is "
        "not writable.",
    )
    host: str = Field(default="127.0.0.1", description="Address `grapevine serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port of `grapevine serve`.")
    ip_salt: SecretStr | None = Field(
        default=None,
        description="Secret key of the pseudonymous IP hashes of referral clicks (and of the "
        "device and payout hashes of participants). No default on purpose: a generated one "
        "would change at each start and break the fraud checks; the referral routes answer "
        "503 until it is set. Keep it out of the database; rotating it forgets old hashes.",
    )
    secrets_key: SecretStr | None = Field(
        default=None,
        description="Key (32+ random characters) that encrypts the tenants' webhook secrets "
        "in the database (AES-256-GCM). Keep it out of the database; without it tenants "
        "cannot have webhook secrets. Changing it makes the stored secrets unreadable.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Deprecated: the installation's secret of `POST /webhooks/{campaign_id}` "
        "(X-Grapevine-Signature), valid for the campaigns of tenant 'default' only. Give "
        "tenants their own (`grapevine tenant webhook-secret rotate`). Also signs the "
        "embeddable enrolment form.",
    )
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Deprecated: a Stripe endpoint secret (whsec_...) of `POST /webhooks/stripe`, "
        "valid for the campaigns of tenant 'default' only. Give tenants their own "
        "(`grapevine tenant webhook-secret rotate --kind stripe`).",
    )
    import_stale_seconds: float = Field(
        default=600.0,
        ge=10,
        description="A `running` import whose last sign of life (its start, then each batch "
        "committed) is older than this is marked interrupted at the next import or "
        "`grapevine info`; on its own host a run whose process is gone is marked at once.",
    )
    cookie_window_days: float = Field(
        default=30.0,
        gt=0,
        le=400,
        description="Lifetime of the attribution cookie and default attribution window of a "
        "campaign that names none (browsers cap cookies at 400 days).",
    )
    rate_limit_per_key: str = Field(
        default="100,200",
        description="Token bucket of each API key on /api/*: 'RATE,BURST' (requests a second, "
        "largest burst) or 'off'. Kept in each process: with N workers a key gets N times it.",
    )
    rate_limit_per_ip: str = Field(
        default="200,400",
        description="Token bucket of each client IP on /api/* and /webhooks/*: 'RATE,BURST' or "
        "'off'. Behind a proxy the client IP is the proxy's unless the proxy is named in "
        "forwarded_allow_ips.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: keep the rate-limit buckets in Redis, shared by "
        "every worker (needs the 'redis' extra); in each process when unset.",
    )
    click_flush_ms: float = Field(
        default=50.0,
        ge=0,
        le=10_000,
        description="Group commit of referral clicks: a click waits at most this long for "
        "others before its batch is written (not in durable mode, which writes as soon as "
        "the writer is free). Without durable_clicks a crash (SIGKILL, OOM) loses the "
        "clicks not yet committed: up to this window plus the writer's backlog when it "
        "falls behind the traffic, never more than click_max_queue per worker; measured "
        "worst 1,341 clicks (169 ms of traffic at 7,900 req/s) on SQLite and 7,349 (1.2 s "
        "at 6,000 req/s) on PostgreSQL, 5 kills each on a shared 2-core machine "
        "(benchmarks/crash_loss.py).",
    )
    click_max_batch: int = Field(
        default=2000, ge=1, description="Clicks written per transaction, at most."
    )
    click_max_queue: int = Field(
        default=10_000,
        ge=1,
        description="Clicks accepted and not yet committed, at most; past it a redirect "
        "waits up to 2 s for room, then writes its click itself before answering "
        "(backpressure, never a drop). The hard cap on what a crash can lose per worker: "
        "at 2,000 the worst measured loss was 1,789 clicks (benchmarks/crash_loss.py).",
    )
    durable_clicks: bool = Field(
        default=False,
        description="Answer a referral redirect only once its click is committed (still "
        "group-committed: the request waits for the batch that holds its click; 503 if it "
        "is not committed within 5 s). A crash then loses no acknowledged click (none lost "
        "in 10 kills); the default answers first and can lose the clicks not yet committed "
        "(see click_flush_ms). Measured 3,600 redirects/s on SQLite and 1,100 on "
        "PostgreSQL, against 6,500 by default (one worker, shared 2-core machine; "
        "benchmarks/redirect_load.py --modes default,durable).",
    )
    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Largest request body accepted (webhooks, events, campaigns); a larger one "
        "is refused with 413 before it is read.",
    )
    link_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long a worker trusts what a referral code points to; disabling a "
        "code takes effect within this.",
    )
    public_url: str | None = Field(
        default=None,
        description="The origin people reach the service at (https://go.shop.example): every "
        "absolute link and redirect the service builds starts with it, and https here turns "
        "on HSTS and Secure cookies. Unset: http://HOST:PORT of these settings. The client's "
        "Host header is never used.",
    )
    landing_url: str | None = Field(
        default=None,
        description="Where a short link goes when no campaign can take the visitor: a code "
        "nobody has (its tenant cannot be known), or a disabled code of a tenant without a "
        "landing page of its own. An absolute http(s) URL. Unset: such links answer a short "
        "page (404) saying the link does not work.",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed ('10.0.0.5,10.1.0.0/16', '*' for "
        "any: only when nothing but the proxy can reach the port). Unset: nobody's, and the "
        "client address is the TCP peer's.",
    )
    rate_limit_redirect_per_ip: str = Field(
        default="20,200",
        description="Token bucket of each client IP on /r/{code}: 'RATE,BURST' or 'off'. "
        "Always kept in the process (the redirect never waits on Redis).",
    )
    rate_limit_redirect_per_code: str = Field(
        default="200,2000",
        description="Token bucket of each referral code on /r/{code}, whatever the address: "
        "'RATE,BURST' or 'off'. Always kept in the process.",
    )
    rate_limit_pages_per_ip: str = Field(
        default="10,50",
        description="Token bucket of each client IP on the participant pages, their share "
        "beacons and the thank-you snippet (/p/*, /embed*): 'RATE,BURST' or 'off'.",
    )
    rate_limit_pages_per_token: str = Field(
        default="1,20",
        description="Token bucket of each participant page token on /p/{token}, its figures "
        "and its share beacons, whatever the address: 'RATE,BURST' or 'off'.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="SMTP server of the outbound e-mail: smtp://user:pass@host:587 (plain, "
        "add ?starttls=true to upgrade with STARTTLS), smtps://user:pass@host:465 (TLS from "
        "the start). Unset: e-mail messages wait in the outbox (retried) until it is set.",
    )
    mail_from: str | None = Field(
        default=None,
        description="The From address of outbound e-mail ('Shop <hello@shop.example>'); "
        "required with smtp_url.",
    )
    outbound_poll_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How often the service's background dispatcher delivers the due outbound "
        "messages (e-mail, webhooks, alert channels); 0 turns it off (run `grapevine outbound "
        "deliver --loop` instead).",
    )
    dashboard_demo: bool = Field(
        default=False,
        description="Demo mode of the dashboard (set by `grapevine demo`): no login, every "
        "tenant visible and editable, but only while `grapevine serve` listens on a loopback "
        "address and only for requests from this machine; ignored otherwise.",
    )
    dashboard_session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="How long a dashboard login lasts before the user signs in again.",
    )
    dashboard_login_failures_per_user: int = Field(
        default=5,
        ge=1,
        description="Failed dashboard logins for one user name within "
        "dashboard_login_window_seconds after which that name is refused until the window "
        "has passed (kept in the database: every worker sees the same count).",
    )
    dashboard_login_failures_per_ip: int = Field(
        default=20,
        ge=1,
        description="Failed dashboard logins from one client address within "
        "dashboard_login_window_seconds after which that address is refused.",
    )
    dashboard_login_window_seconds: float = Field(
        default=900.0,
        ge=1,
        description="The window over which failed dashboard logins are counted.",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        problem = ValueError(
            "GRAPEVINE_PUBLIC_URL must be an http(s) origin such as "
            f"'https://go.shop.example', without a path. Got {value!r} instead."
        )
        try:
            parts = urlsplit(value.strip())
            port = parts.port  # raises on a port that is not a number in [0, 65535]
            name = parts.hostname or ""
            if ":" in name:  # an IPv6 address, written in brackets
                host = f"[{ipaddress.IPv6Address(name).compressed}]"
            else:  # an internationalised name in its ASCII (IDNA) form: Host is ASCII
                host = name.encode("idna").decode("ascii")
        except (ValueError, UnicodeError):
            raise problem from None
        if (
            parts.scheme not in ("http", "https")
            or not re.fullmatch(r"[a-z0-9._-]+|\[[0-9a-f:.]+\]", host)
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username is not None
        ):
            raise problem
        return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")

    @field_validator("landing_url")
    @classmethod
    def _landing_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        try:
            parts = urlsplit(value)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            ok = ok and parts.username is None and parts.port == parts.port
        except ValueError:
            ok = False
        if not ok or re.search(r"[\x00-\x20\x7f\\]", value):
            raise ValueError(
                "GRAPEVINE_LANDING_URL must be an absolute http(s) URL such as "
                f"'https://shop.example/'. Got {value!r} instead."
            )
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _forwarded(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    "GRAPEVINE_FORWARDED_ALLOW_IPS must be comma-separated IP addresses or "
                    f"networks, or '*'. Got {item!r} instead."
                ) from None
        return ",".join(items)

    @property
    def public_https(self) -> bool:
        """Whether the service is public over https (an https ``public_url``): HSTS and
        ``Secure`` cookies on every answer, not only on requests that came over https.

        >>> Settings(public_url="https://go.shop.example").public_https
        True
        >>> Settings().public_https
        False
        """
        return self.public_url is not None and self.public_url.startswith("https:")

    def public_origin(self) -> str:
        """Where links point: ``public_url``, else ``http://HOST:PORT`` of these settings.

        >>> Settings(host="127.0.0.1", port=8000).public_origin()
        'http://127.0.0.1:8000'
        >>> Settings(public_url="https://Go.Shop.example/").public_origin()
        'https://go.shop.example'
        """
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @field_validator(
        "rate_limit_per_key",
        "rate_limit_per_ip",
        "rate_limit_redirect_per_ip",
        "rate_limit_redirect_per_code",
        "rate_limit_pages_per_ip",
        "rate_limit_pages_per_token",
    )
    @classmethod
    def _rate(cls, value: str, info: ValidationInfo) -> str:
        # The format of grapevine.service._ratelimit.parse_rate, checked at start-up.
        if value.strip().lower() in ("off", "none", "0", "") or _RATE.match(value):
            return value
        raise ValueError(
            f"GRAPEVINE_{str(info.field_name).upper()} must be 'RATE' or 'RATE,BURST' "
            f"(requests a second, burst size) or 'off'. Got {value!r} instead."
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once from the environment)."""
    return Settings()
