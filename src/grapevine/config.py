"""One settings object for the whole of Grapevine.

Every setting can come from an environment variable with the ``GRAPEVINE_``
prefix (``GRAPEVINE_DATABASE_URL``, ``GRAPEVINE_BATCH_SIZE``...) or a ``.env``
file in the working directory.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

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
    host: str = Field(default="127.0.0.1", description="Address `grapevine serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port of `grapevine serve`.")
    ip_salt: SecretStr | None = Field(
        default=None,
        description="Secret key of the pseudonymous IP hashes of referral clicks (and of the "
        "device and payout hashes of participants). No default on purpose: a generated one "
        "would change at each start and break the fraud checks; the referral routes answer "
        "503 until it is set. Keep it out of the database; rotating it forgets old hashes.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret of `POST /webhooks/{campaign_id}` (X-Grapevine-Signature); "
        "the route answers 503 while unset.",
    )
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Stripe endpoint signing secret (whsec_...) of `POST /webhooks/stripe`; "
        "the route answers 503 while unset.",
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
        "'off'. Behind a proxy the client IP is the proxy's unless uvicorn is started with "
        "--proxy-headers and --forwarded-allow-ips.",
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
        "others before its batch is written. A crash (SIGKILL) loses at most the clicks of "
        "this window plus one batch write, never more than click_max_queue.",
    )
    click_max_batch: int = Field(
        default=2000, ge=1, description="Clicks written per transaction, at most."
    )
    click_max_queue: int = Field(
        default=10_000,
        ge=1,
        description="Clicks accepted and not yet committed, at most; past it a redirect "
        "writes its click itself before answering (backpressure, never a drop).",
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

    @field_validator("rate_limit_per_key", "rate_limit_per_ip")
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
