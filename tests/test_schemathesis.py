"""Property-based tests over every operation of the app's own OpenAPI schema: no input
gets a 5xx, and every 4xx has the one error shape (``ErrorBody``).

A real uvicorn server per backend (SQLite, and PostgreSQL under the ``postgres`` marker),
seeded with a campaign and a participant so generated ids sometimes hit real rows, an admin
API key on every request. Three kinds of case:

- Schemathesis' own, generated from ``/openapi.json`` (bodies, path and query parameters);
- the same cases with one to three values replaced by hostile ones (non-finite, huge and
  tiny numbers, NUL, unpaired surrogates, long text, nesting 40 levels deep), sent as JSON
  written by hand (``NaN``, ``\\ud800`` escapes), path parameters included;
- signed webhooks: Grapevine-signed event bodies and Stripe-signed events of every shape
  (odd types where objects, strings and integers are expected), signed exactly the way the
  routes verify, so they reach the parsing behind the signature.

Examples are capped so that the file stays within about a minute and a half on the 2-core
machine; ``benchmarks/fuzz_service.py`` runs the same cases with more examples and counts
them (``GRAPEVINE_FUZZ_EXAMPLES``, ``GRAPEVINE_FUZZ_LOG``).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from conftest import BACKENDS
from grapevine.config import Settings
from grapevine.referrals import sign_webhook, stripe_signature_header
from grapevine.service import create_app
from support import (
    SECRETS_KEY,
    api_key,
    auth,
    module_store_url,
    serve,
    tenant_webhook_secret,
)

pytestmark = pytest.mark.slow  # about 60-90 s for both backends

ALLOW = ["https://shop.example/welcome"]
WEBHOOK_SECRET = "whsec_st_tenant_0123456789abcdef"
STRIPE_SECRET = "whsec_st_tenant_stripe_0123456789"
EXAMPLES = int(os.environ.get("GRAPEVINE_FUZZ_EXAMPLES", "0")) or None
"""More examples per test (benchmarks/fuzz_service.py); the defaults below otherwise."""

TALLY: Counter[tuple[str, str, str]] = Counter()
"""(backend, kind of case, outcome: 2xx/3xx/4xx/5xx/bad-shape) -> cases, for the benchmark."""


def _write_tally() -> None:
    target = os.environ.get("GRAPEVINE_FUZZ_LOG")
    if target and TALLY:
        rows = [[*k, n] for k, n in sorted(TALLY.items())]
        Path(target).write_text(json.dumps(rows))


atexit.register(_write_tally)


class Api(NamedTuple):
    base: str
    key: str
    campaign_id: int
    code: str
    backend: str
    url: str


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The served app on a fresh store of the backend, with its seeded campaign and code."""
    with module_store_url(request, tmp_path_factory, "schemathesis") as url:
        key = api_key(url)  # migrates the store
        tenant_webhook_secret(url, WEBHOOK_SECRET)
        tenant_webhook_secret(url, STRIPE_SECRET, kind="stripe")
        app = create_app(
            Settings.model_validate(
                {
                    "database_url": url,
                    "ip_salt": "schemathesis-salt",
                    "webhook_secret": "whsec_st",
                    "stripe_webhook_secret": "whsec_st_stripe",
                    "secrets_key": SECRETS_KEY,
                    "rate_limit_per_ip": "off",
                    "rate_limit_per_key": "off",
                }
            )
        )
        with serve(app) as base, httpx.Client(base_url=base, headers=auth(key)) as c:
            cid = c.post("/api/campaigns", json={"name": "seed", "destinations": ALLOW}).json()
            joined = c.post(f"/api/campaigns/{cid['id']}/participants", json={"email": "a@x.org"})
            yield Api(
                base, key, int(cid["id"]), str(joined.json()["code"]), str(request.param), url
            )


# The schema as the app publishes it at /openapi.json (building the app opens nothing).
# (schemathesis.pytest.from_fixture would fetch it from the server, but it reads a private
# pytest attribute that pytest 9 no longer has.)
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())


def _error_shape(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Every JSON 4xx is an ErrorBody: ``error`` and ``detail`` strings."""
    if (
        400 <= response.status_code < 500
        and response.content
        and "json" in response.headers.get("content-type", [""])[0]
    ):
        body = json.loads(response.content)
        assert isinstance(body.get("error"), str), body
        assert isinstance(body.get("detail"), str), body
    return None


def _call(case: schemathesis.Case, api: Api) -> None:
    try:
        response = case.call(base_url=api.base, headers=auth(api.key), timeout=30)
        case.validate_response(response, checks=[not_a_server_error, _error_shape])
    except BaseException:
        TALLY[(api.backend, "schemathesis", "failed")] += 1
        raise
    TALLY[(api.backend, "schemathesis", str(response.status_code))] += 1


def _settings(examples: int) -> Any:
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    )


@schema.parametrize()
@_settings(8)
def test_no_input_gets_a_server_error(case: schemathesis.Case, api: Api) -> None:
    _call(case, api)


# ---------------------------------------------------------------------------- hostile values
NUMBERS = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        1e308,
        -1e308,
        5e-324,
        1796663000000000,
        2**63,
        2**64,
        -(2**63) - 1,
        10**30,
        -1,
        0,
        1.5,
    ]
)
_TEXTS = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfff",
        "\ud83d",
        "\u202e",
        "x" * 5000,
        "",
        " ",
        "0",
        "-1",
        "NaN",
        "1e999",
        "\U0001f4a5",
    ]
) | st.text(max_size=8)
SCALARS = st.none() | st.booleans() | NUMBERS | _TEXTS | st.integers() | st.floats()
TEXTS = st.deferred(lambda: _TEXTS)


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


_HOSTILE = (
    SCALARS
    | st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
        max_leaves=8,
    )
    | st.just(_deep(40))
)
# deferred: one branch in a union (st.one_of flattens unions, which would drown the
# well-formed alternatives among the dozens of hostile ones)
HOSTILE = st.deferred(lambda: _HOSTILE)


def _dumps(value: Any) -> bytes:
    """JSON as an attacker writes it: NaN and Infinity tokens, lone surrogates escaped."""
    return json.dumps(value, allow_nan=True, ensure_ascii=True).encode()


def _send(
    api: Api, kind: str, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> httpx.Response:
    with httpx.Client(base_url=api.base, timeout=30) as client:
        r = client.request(method, path, content=body, headers={**auth(api.key), **headers})
    outcome = str(r.status_code)
    if r.status_code == 400 and "reason" in r.text:
        outcome += f" {r.json().get('reason')}"
    if 400 <= r.status_code < 500 and r.headers.get("content-type", "").startswith(
        "application/json"
    ):
        shape = r.json()
        if not (isinstance(shape.get("error"), str) and isinstance(shape.get("detail"), str)):
            outcome = "bad-shape"
    TALLY[(api.backend, kind, outcome)] += 1
    assert r.status_code < 500, (method, path, body, r.status_code, r.text)
    assert outcome != "bad-shape", (method, path, r.text)
    return r


_OPERATIONS = [
    op.ok()
    for op in schema.get_all_operations()
    if op.ok().method.upper() in ("POST", "DELETE", "GET")
    and not op.ok().path.startswith(("/r/", "/p/", "/static", "/embed"))
]


@pytest.mark.parametrize("operation", _OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_hostile_values_get_no_server_error(operation: Any, api: Api) -> None:
    @given(case=operation.as_strategy(), data=st.data())
    @_settings(6)
    def run(case: schemathesis.Case, data: st.DataObject) -> None:
        params = dict(case.path_parameters or {})
        for name in list(params)[: data.draw(st.integers(0, len(params)))]:
            params[name] = data.draw(TEXTS | st.sampled_from([api.campaign_id, 2**70, -1]))
        if "campaign_id" in params and data.draw(st.booleans()):
            params["campaign_id"] = api.campaign_id
        path = operation.path
        for name, value in params.items():
            quoted = quote(str(value).encode("utf-8", "surrogatepass"), safe="")
            path = path.replace("{" + name + "}", quoted).replace("{" + name + ":path}", quoted)
        body: Any = case.body if isinstance(case.body, dict) else None
        if isinstance(body, dict):
            if "campaign_id" in body and data.draw(st.booleans()):
                body["campaign_id"] = api.campaign_id
            keys = list(body) or ["time"]
            for _ in range(data.draw(st.integers(1, 3))):
                body[data.draw(st.sampled_from(keys))] = data.draw(HOSTILE)
        raw = None if body is None else _dumps(body)
        headers = {"content-type": "application/json"} if raw is not None else {}
        _send(api, "hostile", operation.method.upper(), path, raw, headers)

    run()


def mostly(
    good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] | None = None, odds: int = 3
) -> Any:
    """``good`` ``odds`` times in ``odds + 1``, else ``bad`` (hostile values): most cases then
    get past the first check and reach the code behind it."""
    other = HOSTILE if bad is None else bad
    return st.integers(0, odds).flatmap(lambda i: other if i == 0 else good)


_REQUIRED = ("kind", "idempotency_key", "email", "order_id")
EVENT_FIELDS = {
    "kind": mostly(st.sampled_from(["signup", "purchase", "refund"]), HOSTILE, odds=9),
    "idempotency_key": mostly(st.uuids().map(str), TEXTS, odds=9),
    "email": mostly(st.sampled_from(["bob@x.org", "a@x.org"]), TEXTS, odds=9),
    "order_id": mostly(st.sampled_from(["o-1", "pi_1"]), TEXTS, odds=9),
    "value": mostly(st.floats(0, 1e4), NUMBERS, odds=9),
    "time": mostly(st.just(time.time()), NUMBERS, odds=9),
    "coupon_code": mostly(st.none(), TEXTS, odds=9),
    "visitor_id": mostly(st.uuids().map(lambda u: u.hex), TEXTS, odds=9),
    "currency": mostly(st.sampled_from(["EUR", "eur"]), TEXTS, odds=9),
}


@given(
    event=mostly(
        st.fixed_dictionaries(
            {k: EVENT_FIELDS[k] for k in _REQUIRED},  # with e-mail and order: most get in
            optional={k: v for k, v in EVENT_FIELDS.items() if k not in _REQUIRED},
        )
    )
)
@_settings(25)
def test_signed_grapevine_webhooks_get_no_server_error(event: Any, api: Api) -> None:
    _secrets_back(api)
    raw = _dumps(event)
    header = sign_webhook(raw, WEBHOOK_SECRET)
    headers = {"X-Grapevine-Signature": header, "content-type": "application/json"}
    _send(api, "signed webhook", "POST", f"/webhooks/{api.campaign_id}", raw, headers)


_RESTORED: set[str] = set()


def _secrets_back(api: Api) -> None:
    """Make the test secrets current again, once per backend: the fuzzed cases of
    ``POST /api/webhook-secrets`` (an admin key is on every request) rotate them."""
    if api.url not in _RESTORED:
        tenant_webhook_secret(api.url, WEBHOOK_SECRET)
        tenant_webhook_secret(api.url, STRIPE_SECRET, kind="stripe")
        _RESTORED.add(api.url)


def _stripe_object(code: str, campaign_id: int) -> st.SearchStrategy[Any]:
    details = st.fixed_dictionaries({}, optional={"email": mostly(st.just("bob@x.org"))})
    metadata = st.dictionaries(st.just("grapevine_campaign_id"), mostly(st.just(str(campaign_id))))
    return mostly(
        st.fixed_dictionaries(
            {},
            optional={
                "id": mostly(st.just("cs_1")),
                "client_reference_id": mostly(st.just(code)),
                "metadata": mostly(metadata),
                "customer_details": mostly(details),
                "customer_email": mostly(TEXTS),
                "amount_total": mostly(st.integers(0, 10**6)),
                "currency": mostly(st.just("eur")),
                "payment_intent": mostly(st.sampled_from(["pi_1", "pi_2"])),
                "refunded": mostly(st.booleans()),
                "amount": mostly(st.integers(0, 10**6)),
            },
        )
    )


@given(data=st.data())
@_settings(30)
def test_signed_stripe_events_get_no_server_error(data: st.DataObject, api: Api) -> None:
    _secrets_back(api)
    kinds = ["checkout.session.completed", "charge.refunded", "refund.created", "x.y"]
    event = data.draw(
        mostly(
            st.fixed_dictionaries(
                {
                    "id": mostly(st.uuids().map(lambda u: f"evt_{u.hex}")),
                    "type": mostly(st.sampled_from(kinds)),
                    "data": mostly(
                        st.fixed_dictionaries({"object": _stripe_object(api.code, api.campaign_id)})
                    ),
                },
                optional={"created": mostly(st.just(int(time.time())))},
            )
        )
    )
    raw = _dumps(event)
    header = stripe_signature_header(raw, STRIPE_SECRET, timestamp=int(time.time()))
    headers = {"Stripe-Signature": header, "content-type": "application/json"}
    _send(api, "signed Stripe event", "POST", "/webhooks/stripe", raw, headers)
