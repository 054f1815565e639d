"""Cost of the fraud decision per referred purchase, and of the reward replay it feeds.

Builds a campaign on a fresh SQLite file: ``--referrers`` participants, then ``--purchases``
referred purchases through :func:`grapevine.referrals.record_event` (the
library call behind ``POST /api/events``), each by a new friend whose click came from one of
50 networks with one browser (so that many strangers share a network). Every 25th friend
signs up with a disposable address. Prints the median and 95th percentile of the time of
``assess`` alone and of the whole ``record_event`` (assessment, the ledger replay, the
commit), and how many purchases were held for review (expected: the disposable ones only).

Usage::

    .venv/bin/python benchmarks/risk_decisions.py [--referrers 200] [--purchases 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.referrals import _events
from grapevine.store import Store, events_repo, tenants_repo

SALT = "bench-salt"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--referrers", type=int, default=200)
    parser.add_argument("--purchases", type=int, default=1000)
    args = parser.parse_args()
    assess_times: list[float] = []
    original = _events.assess

    def timed(*a: object, **kw: object) -> object:
        t = time.perf_counter()
        try:
            return original(*a, **kw)  # type: ignore[arg-type]
        finally:
            assess_times.append(time.perf_counter() - t)

    _events.assess = timed  # type: ignore[assignment]
    with (
        tempfile.TemporaryDirectory() as tmp,
        Store(f"sqlite:///{Path(tmp) / 'b.db'}") as store,
        Session(store.engine, expire_on_commit=False) as session,
    ):
        tenant = tenants_repo.get_or_create_tenant(session, slug="bench")
        campaign = rf.create_campaign(
            session,
            tenant_id=tenant.id,
            document={
                "name": "bench",
                "destinations": ["https://shop.example/"],
                "offer": {
                    "referrer": {"kind": "fixed", "amount": 10},
                    "friend": {"kind": "fixed", "amount": 5},
                    "hold_seconds": 0,
                },
            },
        )
        codes = []
        for i in range(args.referrers):
            got = rf.enrol(
                session,
                campaign_id=campaign.id,
                email=f"ref{i}@example.org",
                salt=SALT,
                payout_account=f"IBAN-{i // 2}" if i % 10 == 0 else f"IBAN-x{i}",
            )
            codes.append(got.code)
        session.commit()
        t0 = time.time() - 86400
        whole: list[float] = []
        for j in range(args.purchases):
            code = codes[j % len(codes)]
            visitor = f"v{j}"
            events_repo.add_event(
                session,
                campaign_id=campaign.id,
                kind="click",
                time=t0 + j * 10,
                code=code,
                idempotency_key=f"click-{j}",
                visitor_id=visitor,
                traffic="browser",
                ip_hash=rf.hash_ip(f"10.0.{j % 50}.1", SALT),
                user_agent=UA,
            )
            session.commit()
            body = rf.EventInput(
                kind="purchase",
                idempotency_key=f"p-{j}",
                email=f"friend{j}@" + ("10minutemail.com" if j % 25 == 0 else "example.net"),
                visitor_id=visitor,
                order_id=f"o-{j}",
                value=40.0,
                time=t0 + j * 10 + 5,
            )
            t = time.perf_counter()
            rf.record_event(session, campaign_id=campaign.id, event=body, salt=SALT)
            whole.append(time.perf_counter() - t)
        held = len(rf.review_entries(session, campaign_id=campaign.id))

    def ms(xs: list[float], q: float) -> str:
        return f"{statistics.quantiles(xs, n=100)[int(q) - 1] * 1000:.1f}"

    print(f"referrers {args.referrers}, purchases {args.purchases}, held for review {held}")
    print(f"assess:       median {ms(assess_times, 50)} ms, p95 {ms(assess_times, 95)} ms")
    print(f"record_event: median {ms(whole, 50)} ms, p95 {ms(whole, 95)} ms")
    first, last = whole[: len(whole) // 10], whole[-len(whole) // 10 :]
    print(
        f"record_event, first 10% vs last 10% of purchases: "
        f"{statistics.median(first) * 1000:.1f} ms vs {statistics.median(last) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
