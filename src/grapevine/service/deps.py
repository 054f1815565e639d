"""Request dependencies of the service, as ``Annotated`` aliases.

Everything comes from ``request.app.state``, filled by :func:`grapevine.service.create_app`:
nothing is created at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from grapevine.config import Settings
from grapevine.referrals import ReplayCache
from grapevine.store import Store

__all__ = [
    "IpSaltDep",
    "RawBodyDep",
    "ReplayCacheDep",
    "SessionDep",
    "SettingsDep",
    "StoreDep",
]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _session(store: Annotated[Store, Depends(_store)]) -> Iterator[Session]:
    # One session per request; routes commit, anything else is rolled back on close.
    with Session(store.engine, expire_on_commit=False) as session:
        yield session


def _replay_cache(request: Request) -> ReplayCache:
    cache: ReplayCache = request.app.state.replay_cache
    return cache


def _ip_salt(settings: Annotated[Settings, Depends(_settings)]) -> str:
    if settings.ip_salt is None or not settings.ip_salt.get_secret_value():
        raise HTTPException(
            503, "referral links are not configured: set GRAPEVINE_IP_SALT (a random secret)"
        )
    return settings.ip_salt.get_secret_value()


async def _raw_body(request: Request) -> bytes:
    # The body exactly as received, for signature checks (routes stay sync, off the loop).
    return await request.body()


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
SessionDep = Annotated[Session, Depends(_session)]
ReplayCacheDep = Annotated[ReplayCache, Depends(_replay_cache)]
IpSaltDep = Annotated[str, Depends(_ip_salt)]
RawBodyDep = Annotated[bytes, Depends(_raw_body)]
