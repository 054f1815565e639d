"""How long coupons and payouts take on a SQLite store: pool imports and draws, codes made
through a Stripe replay server over loopback HTTP, and a payout round (approve, export,
import the result).

Rows:

* ``pool import``: ``--codes`` codes from one CSV, in one transaction;
* ``pool draw``: ``--friends`` friends each get a pool code (``issue_coupon``, one
  transaction per friend);
* ``stripe issue``: ``--shop-friends`` friends each get a promotion code through the Stripe
  replay server of the tests (reserve, POST, confirm: two transactions and one request each);
* ``approve`` / ``export`` / ``import``: the referrer rewards of ``--friends`` purchases,
  approved, exported as a PayPal file and marked paid from a result file (the campaign's
  velocity limit is lifted, so that one referrer's burst of purchases is not held for
  review).

The machine may be shared: the load average is in the report.

Usage::

    .venv/bin/python benchmarks/coupons_payouts.py [--codes N] [--friends N]
        [--shop-friends N] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import (
    PROJECT_ROOT,
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    fmt_rate,
    fmt_seconds,
    machine_facts,
    markdown_table,
    time_call,
    write_report,
)

sys.path.insert(0, str(PROJECT_ROOT / "tests"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--friends", type=int, default=500)
    parser.add_argument("--shop-friends", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "coupons_payouts.md")
    args = parser.parse_args(argv)

    from sqlalchemy.orm import Session

    from grapevine.referrals import _coupons as coupons
    from grapevine.referrals import _payouts as payouts
    from grapevine.referrals._enrolment import enrol
    from grapevine.referrals._events import EventInput, record_event
    from grapevine.referrals._shops import Retry
    from grapevine.store import Store, campaigns_repo, tenants_repo
    from grapevine.store._secretbox import SecretBox
    from shop_servers import StripeServer, running

    box = SecretBox("benchmark-secrets-key-0123456789abcdef")
    offer = {
        "referrer": {"kind": "fixed", "amount": 10},
        "friend": {"kind": "percent", "amount": 10},
        "hold_seconds": 0,
    }
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        Store(f"sqlite:///{tmp}/b.db") as store,
        Session(store.engine, expire_on_commit=False) as session,
    ):
        tenant = tenants_repo.get_or_create_tenant(session, slug="bench")
        cids = []
        for name in ("pool", "stripe"):
            c = campaigns_repo.create_campaign(
                session,
                tenant_id=tenant.id,
                name=name,
                goal=None,
                offer=offer,
                rules={"window_days": 30, "attribution": "last", "velocity_limit": 1_000_000},
                currency="EUR",
            )
            cids.append(c.id)
        code = enrol(session, campaign_id=cids[0], email="ann@example.org", salt="s" * 32)
        code2 = enrol(session, campaign_id=cids[1], email="ann@example.org", salt="s" * 32)
        session.commit()
        coupons.configure_coupons(session, campaign_id=cids[0], settings={"provider": "pool"})
        pool = Path(tmp) / "codes.csv"
        pool.write_text("code\n" + "".join(f"BENCH-{i:07d}\n" for i in range(args.codes)))
        t, _ = time_call(lambda: coupons.import_pool(session, campaign_id=cids[0], path=pool))
        rows.append(["pool import", fmt_int_(args.codes), fmt_seconds(t), fmt_rate(args.codes, t)])

        def draw() -> None:
            for i in range(args.friends):
                coupons.issue_coupon(
                    session,
                    campaign_id=cids[0],
                    email=f"f{i}@example.org",
                    referral_code=code.code,
                )

        t, _ = time_call(draw)
        rows.append(
            ["pool draw", fmt_int_(args.friends), fmt_seconds(t), fmt_rate(args.friends, t)]
        )

        server = StripeServer(secret="sk_bench_0123")
        with running(server) as url:
            coupons.connect_shop(
                session,
                tenant_id=tenant.id,
                provider="stripe",
                secret="sk_bench_0123",
                box=box,
                base_url=url,
            )
            coupons.configure_coupons(session, campaign_id=cids[1], settings={"provider": "stripe"})
            fast = Retry(attempts=3, backoff=0.0)

            def shop() -> None:
                for i in range(args.shop_friends):
                    coupons.issue_coupon(
                        session,
                        campaign_id=cids[1],
                        box=box,
                        retry=fast,
                        email=f"s{i}@example.org",
                        referral_code=code2.code,
                    )

            t, _ = time_call(shop)
        rows.append(
            [
                "stripe issue",
                fmt_int_(args.shop_friends),
                fmt_seconds(t),
                fmt_rate(args.shop_friends, t),
            ]
        )

        for i in range(args.friends):
            record_event(
                session,
                campaign_id=cids[0],
                event=EventInput(
                    kind="purchase",
                    idempotency_key=f"p{i}",
                    email=f"f{i}@example.org",
                    coupon_code=f"BENCH-{i:07d}",
                    order_id=f"o{i}",
                    value=50.0,
                    time=1.9e9,
                ),
                now=1.9e9,
            )
        t, approved = time_call(
            lambda: payouts.approve_rewards(
                session, campaign_id=cids[0], by="bench", roles=["referrer"], now=2e9
            )
        )
        n = len(approved.approved)
        rows.append(["approve", fmt_int_(n), fmt_seconds(t), fmt_rate(n, t)])
        t, batch = time_call(
            lambda: payouts.export_payouts(
                session, campaign_id=cids[0], format="paypal", by="bench", now=2e9
            )
        )
        rows.append(
            ["export (paypal)", fmt_int_(batch.count), fmt_seconds(t), fmt_rate(batch.count, t)]
        )
        result = Path(tmp) / "result.csv"
        refs = [line.split(",")[3] for line in batch.content.splitlines()]
        result.write_text("reference,status\n" + "".join(f"{r},completed\n" for r in refs))
        t, done = time_call(
            lambda: payouts.import_results(
                session, campaign_id=cids[0], path=result, by="bench", now=2e9
            )
        )
        rows.append(
            [
                "import result",
                fmt_int_(len(done.paid)),
                fmt_seconds(t),
                fmt_rate(len(done.paid), t),
            ]
        )

    table = markdown_table(["step", "items", "seconds", "items/s"], rows, align="lrrr")
    text = "\n\n".join(
        [
            "# Coupons and payouts on SQLite",
            f"`{command_line('coupons_payouts.py', argv)}`",
            table,
            busy_note("the seconds are upper bounds"),
            facts_markdown(machine_facts(packages=["sqlalchemy", "httpx", "uvicorn"])),
        ]
    )
    write_report(args.out, text)


def fmt_int_(n: int) -> str:
    return f"{n:,}"


if __name__ == "__main__":
    main()
