"""One settings object for the whole of Grapevine.

Every setting can come from an environment variable with the ``GRAPEVINE_``
prefix (``GRAPEVINE_DATABASE_URL``, ``GRAPEVINE_BATCH_SIZE``...) or a ``.env``
file in the working directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once from the environment)."""
    return Settings()
