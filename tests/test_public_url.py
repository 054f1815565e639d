"""GRAPEVINE_PUBLIC_URL: only an http(s) origin that can stand in a Host header is accepted."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from grapevine.config import Settings
from grapevine.service import create_app, server_options
from support import serve


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://go.shop.example", "https://go.shop.example"),
        ("https://Go.Shop.Example/", "https://go.shop.example"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("https://[0:0:0:0:0:0:0:1]", "https://[::1]"),
        ("https://例え.jp", "https://xn--r8jz45g.jp"),  # IDNA: a Host header is ASCII
        ("  ", None),
    ],
)
def test_accepted_origins(given: str, origin: str | None) -> None:
    assert Settings(public_url=given).public_url == origin


@pytest.mark.parametrize(
    "given",
    [
        "ftp://go.shop.example",
        "go.shop.example",
        "https://a b.example",
        "https://go.shop.example:abc",
        "https://go.shop.example:99999",
        "https://go.shop.example/shop",
        "https://go.shop.example?x=1",
        "https://user@go.shop.example",
        "https://",
        "https://[::zz]",
    ],
)
def test_refused_origins_name_the_setting(given: str) -> None:
    with pytest.raises(ValidationError, match="GRAPEVINE_PUBLIC_URL must be an http"):
        Settings(public_url=given)


def test_an_internationalised_origin_serves_and_redirects_to_itself(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/idna.db", public_url="https://例え.jp", ip_salt="s"
    )
    with serve(create_app(settings), **server_options(settings)) as base:
        answer = httpx.get(f"{base}/r/ABC/", headers={"Host": "evil.example"})
    assert answer.status_code in (307, 308)
    assert answer.headers["location"] == "https://xn--r8jz45g.jp/r/ABC"
