"""Schemathesis against the app's own OpenAPI schema: no input gets a 5xx.

A real uvicorn server on a SQLite store (with one campaign and participant, so the
generated ids sometimes hit real rows), an admin API key on every request, and the
operations generated from ``/openapi.json``; the check is "not a server error". (Response
conformance is not checked: the domain-error body ``{"error", "detail"}`` of a 422 is not
the declared ``HTTPValidationError``, see docs/referrals.md.) Examples are capped so the
whole file stays under a minute on the 2-core machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from grapevine.config import Settings
from grapevine.service import create_app
from support import api_key, auth, serve

pytestmark = pytest.mark.slow  # about 20-40 s

ALLOW = ["https://shop.example/welcome"]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``(base URL, admin key)`` of a served app on a fresh SQLite store."""
    db = Path(tmp_path_factory.mktemp("schemathesis")) / "st.db"
    url = f"sqlite:///{db}"
    key = api_key(url)  # migrates the store
    app = create_app(
        Settings.model_validate(
            {
                "database_url": url,
                "ip_salt": "schemathesis-salt",
                "webhook_secret": "whsec_st",
                "stripe_webhook_secret": "whsec_st_stripe",
                "rate_limit_per_ip": "off",
                "rate_limit_per_key": "off",
            }
        )
    )
    with serve(app) as base:
        with httpx.Client(base_url=base, headers=auth(key)) as c:
            cid = c.post("/api/campaigns", json={"name": "seed", "destinations": ALLOW}).json()
            c.post(f"/api/campaigns/{cid['id']}/participants", json={"email": "ann@x.org"})
        yield base, key


# The schema as the app publishes it at /openapi.json (building the app opens nothing).
# (schemathesis.pytest.from_fixture would fetch it from the server, but it reads a private
# pytest attribute that pytest 9 no longer has.)
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())


def _call(case: schemathesis.Case, api: tuple[str, str]) -> None:
    case.call_and_validate(
        base_url=api[0], headers=auth(api[1]), checks=[not_a_server_error], timeout=30
    )


_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@schema.parametrize()
@_SETTINGS
def test_no_input_gets_a_server_error(case: schemathesis.Case, api: tuple[str, str]) -> None:
    _call(case, api)
