"""One settings object for the whole of Grapevine.

Every setting can come from an environment variable with the ``GRAPEVINE_``
prefix (``GRAPEVINE_DATABASE_URL``, ``GRAPEVINE_BATCH_SIZE``...) or a ``.env``
file in the working directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once from the environment)."""
    return Settings()
