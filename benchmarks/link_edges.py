"""What the friendly edges cost the short link: ``GET /r/{code}`` per kind of answer.

The app is called in-process through the whole ASGI stack (no socket, no HTTP parsing:
those cost the same for every answer), as ``benchmarks/edge_overhead.py`` does. Cases:

- ``plain``: an active link of a campaign without page settings (the redirect as before);
- ``plain + channel``: the same with ``?ch=whatsapp`` (the query string parsed);
- ``utm + channel``: an active link whose campaign adds UTM tags, with ``?ch=whatsapp``;
- ``preview card``: the same link asked for by a link-preview crawler (Twitterbot): the
  campaign's Open Graph card, answered 200 (a click of traffic ``preview`` still recorded);
- ``ended -> landing``: a code of an ended campaign: a miss counted, 307 to its landing page;
- ``unknown -> landing``: a code nobody has: a store lookup (unknown codes are never cached),
  a miss counted, 307 to ``GRAPEVINE_LANDING_URL``;
- ``unknown -> page``: the same without a landing page: the 404 page in the visitor's
  language.

Each case runs in a fresh process, the cases in turn, for ``--rounds`` rounds; each times
``--requests`` requests (a new visitor each, from one of 1,000 addresses, rate limits off)
after 200 to warm up. The figure is the median over the rounds of the event loop thread's CPU
time per request (``time.thread_time``: the click writer's and miss counter's threads and
other processes do not count).

Usage::

    .venv/bin/python benchmarks/link_edges.py [--requests 5000] [--rounds 5] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    machine_facts,
    markdown_table,
    write_report,
)
from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.service import create_app
from grapevine.store import Store, tenants_repo
from grapevine.store.models import Campaign, Person, ReferralCode

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
# case: (code, query, user agent, expected status, GRAPEVINE_LANDING_URL set)
CASES: dict[str, tuple[str, bytes, str, int, bool]] = {
    "plain": ("PRSNT234", b"", BROWSER, 307, True),
    "plain + channel": ("PRSNT234", b"ch=whatsapp", BROWSER, 307, True),
    "utm + channel": ("SPRNG234", b"ch=whatsapp", BROWSER, 307, True),
    "preview card": ("SPRNG234", b"ch=x", "Twitterbot/1.0", 200, True),
    "ended -> landing": ("ENDED234", b"", BROWSER, 307, True),
    "unknown -> landing": ("ZZZZ2222", b"", BROWSER, 307, True),
    "unknown -> page": ("ZZZZ2222", b"", BROWSER, 404, False),
}


def _settings(url: str, landing: bool) -> Settings:
    return Settings.model_validate(
        {
            "database_url": url,
            "ip_salt": "bench-salt",
            "rate_limit_redirect_per_ip": "off",
            "rate_limit_redirect_per_code": "off",
            "click_max_queue": 1_000_000,  # no backpressure: the writer is not measured
            "landing_url": "https://shop.example/" if landing else None,
        }
    )


def _seed(url: str) -> None:
    page = {
        "utm": {"source": "grapevine"},
        "preview": {"title": "20% off", "image": "https://shop.example/card.png"},
    }
    store = Store(url)
    with Session(store.engine) as session:
        tenant = tenants_repo.get_or_create_tenant(session, slug="bench")
        for name, status, settings, code in (
            ("plain", "active", None, "PRSNT234"),
            ("spring", "active", page, "SPRNG234"),
            ("over", "ended", None, "ENDED234"),
        ):
            rules: dict[str, Any] = {"destinations": ["https://shop.example/"], "window_days": 30}
            if settings is not None:
                rules["page"] = rf.PageSettings.from_dict(settings).to_dict()
            campaign = Campaign(tenant_id=tenant.id, name=name, status=status, rules=rules)
            person = Person(platform="email", handle=f"{name}@example.com")
            session.add_all([campaign, person])
            session.flush()
            session.add(
                ReferralCode(code=code, campaign_id=campaign.id, person_id=person.id, created_at=0)
            )
        session.commit()
    store.close()


async def _requests(app: Any, case: str, n: int) -> float:
    """Event-loop CPU seconds for ``n`` requests of ``case``."""
    code, query, agent, expected, _ = CASES[case]
    path = f"/r/{code}"
    headers = [
        (b"host", b"bench"),
        (b"user-agent", agent.encode()),
        (b"accept", b"text/html,application/xhtml+xml,*/*;q=0.8"),
        (b"accept-language", b"nl-NL,nl;q=0.9,en;q=0.8"),
    ]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    start = time.thread_time()
    for i in range(n):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": (f"10.0.{i % 1000 // 250}.{i % 250}", 50000),
            "server": ("bench", 80),
            "app": app,
        }
        await app(scope, receive, send)
    spent = time.thread_time() - start
    assert statuses == [expected] * n, sorted(set(statuses))
    return spent


async def _measure(case: str, requests: int, tmp: Path) -> float:
    url = f"sqlite:///{tmp}/edges.db"
    _seed(url)
    app = create_app(_settings(url, CASES[case][4]))
    async with app.router.lifespan_context(app):
        await _requests(app, case, 200)  # warm: the link cache, the middleware stack
        return await _requests(app, case, requests) / requests


def _spawn(case: str, requests: int) -> float:
    cmd = [sys.executable, __file__, "--worker", case, "--requests", str(requests)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(json.loads(out.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "link_edges.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        with tempfile.TemporaryDirectory(prefix="gv-edges-") as tmpdir:
            cost = asyncio.run(_measure(args.worker, args.requests, Path(tmpdir)))
        print(json.dumps(cost))
        return 0
    per_request: dict[str, list[float]] = {case: [] for case in CASES}
    for i in range(args.rounds):
        for case in CASES:
            per_request[case].append(_spawn(case, args.requests))
        print(
            f"round {i + 1}/{args.rounds}: "
            + ", ".join(f"{c} {v[-1] * 1e6:.1f} µs" for c, v in per_request.items()),
            flush=True,
        )
    plain = statistics.median(per_request["plain"])
    rows = []
    for case, values in per_request.items():
        med = statistics.median(values)
        rows.append(
            [
                case,
                f"{med * 1e6:.1f}",
                f"{min(values) * 1e6:.1f}-{max(values) * 1e6:.1f}",
                f"{med / plain:.2f}",
            ]
        )
    table = markdown_table(
        ["answer", "µs per request (median)", "range over rounds", "vs plain"], rows, "lrrr"
    )
    text = "\n".join(
        [
            "# The short link's friendly edges: cost per answer",
            "",
            f"`{command_line('link_edges.py', argv)}`",
            "",
            "Event-loop CPU time per `GET /r/{code}` through the whole ASGI stack, in-process "
            f"(SQLite store), median of {args.rounds} rounds of {args.requests:,} requests "
            "each in a fresh process.",
            "",
            table,
            busy_note("CPU time moves less than wall time, but caches and turbo still vary"),
            "",
            facts_markdown(machine_facts(["fastapi", "starlette", "sqlalchemy"])),
        ]
    )
    write_report(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
