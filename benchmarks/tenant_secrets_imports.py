"""Cost of per-tenant webhook secrets, and of the gzip stream that locates damaged data.

1. Webhook verification: opening one sealed secret (AES-256-GCM), the campaign webhook's
   secret lookup (``campaign_secrets``: one campaign query, one secrets query, the openings),
   and the shared Stripe endpoint's tenant lookup (``verify_stripe_tenant``) with 1, 10, 100
   and 1,000 tenants, each with one Stripe secret, for the last tenant (the worst case: every
   tenant's secret is opened and tried). On a fresh SQLite file.
2. Gunzip throughput of the real SNAP Higgs activity file (``higgs/higgs-activity_time.txt.gz``):
   ``gzip.GzipFile`` (what ``open_binary`` used before) against ``open_binary`` now, best of
   five full reads in 4 MiB calls.
3. How damage shows: single-bit flips at random places of a gzipped file of 200,000
   Higgs-style lines (seeded), counted by what zlib reports first.

Usage::

    .venv/bin/python benchmarks/tenant_secrets_imports.py [--repeat 200]

Writes ``benchmarks/results/tenant_secrets_imports.md``.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from _common import (
    RESULTS_DIR,
    data_file,
    facts_markdown,
    machine_facts,
    markdown_table,
    write_report,
)
from grapevine import referrals as rf
from grapevine._io import iter_line_blocks, open_binary
from grapevine.config import Settings
from grapevine.errors import BadInput
from grapevine.service._webhook_secrets import campaign_secrets, verify_stripe_tenant
from grapevine.store import Store, tenants_repo
from grapevine.store import webhook_secrets_repo as secrets_repo
from grapevine.store.models import Campaign

KEY = "bench-secrets-key-0123456789abcdefghijkl"


def _per_call(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def webhook_rows(repeat: int) -> list[list[str]]:
    box = secrets_repo.SecretBox(KEY)
    sealed = box.seal("whsec_" + "x" * 32, context="tenant 1 stripe")
    opening = _per_call(lambda: box.open(sealed, context="tenant 1 stripe"), repeat * 10)
    rows = [["open one sealed secret", "-", f"{opening * 1e6:.1f} µs"]]
    folder = Path(tempfile.mkdtemp(prefix="gv-bench-secrets-"))
    store = Store(f"sqlite:///{folder}/b.db")
    settings = Settings.model_validate({"database_url": store.url, "secrets_key": KEY})
    payload = b'{"id": "evt_1", "type": "invoice.paid", "data": {"object": {}}}'
    made = 0
    with Session(store.engine) as s:
        for tenants in (1, 10, 100, 1000):
            while made < tenants:
                t = tenants_repo.create_tenant(s, slug=f"t{made}")
                secrets_repo.rotate_secret(s, tenant_id=t.id, kind="grapevine", box=box)
                secrets_repo.rotate_secret(
                    s,
                    tenant_id=t.id,
                    kind="stripe",
                    box=box,
                    secret=f"whsec_t{made}_0123456789abcdef",
                )
                made += 1
            s.commit()
            last = made - 1
            if tenants == 1:
                camp = Campaign(tenant_id=t.id, name="c", rules={"window_days": 30})
                s.add(camp)
                s.commit()
                cid = camp.id
                seconds = _per_call(
                    lambda cid=cid: campaign_secrets(s, settings, campaign_id=cid), repeat
                )
                rows.append(
                    ["campaign webhook: the campaign's secrets", "1", f"{seconds * 1e3:.2f} ms"]
                )

            def lookup(last: int = last) -> None:
                header = rf.stripe_signature_header(
                    payload, f"whsec_t{last}_0123456789abcdef", int(time.time())
                )
                verify_stripe_tenant(
                    s, settings, payload=payload, header=header, cache=rf.ReplayCache(), tenant=None
                )

            def direct(last: int = last) -> None:
                header = rf.stripe_signature_header(
                    payload, f"whsec_t{last}_0123456789abcdef", int(time.time())
                )
                verify_stripe_tenant(
                    s,
                    settings,
                    payload=payload,
                    header=header,
                    cache=rf.ReplayCache(),
                    tenant=f"t{last}",
                )

            reps = max(3, repeat // max(1, tenants // 10))
            rows.append(
                [
                    "`/webhooks/stripe` (tries every tenant)",
                    f"{tenants:,}",
                    f"{_per_call(lookup, reps) * 1e3:.2f} ms",
                ]
            )
            rows.append(
                [
                    "`/webhooks/stripe/{tenant}`",
                    f"{tenants:,}",
                    f"{_per_call(direct, repeat) * 1e3:.2f} ms",
                ]
            )
    store.close()
    return rows


def gunzip_rows() -> list[list[str]]:
    path = data_file("higgs", "higgs-activity_time.txt.gz")
    rows = []
    for name, opener in (
        ("gzip.GzipFile (before)", gzip.GzipFile),
        ("open_binary (now)", open_binary),
    ):
        best, size = float("inf"), 0
        for _ in range(5):
            t0 = time.perf_counter()
            with opener(path) as fh:
                size = 0
                while chunk := fh.read(1 << 22):
                    size += len(chunk)
            best = min(best, time.perf_counter() - t0)
        rows.append(
            [name, f"{size / 1e6:.1f} MB", f"{best * 1e3:.0f} ms", f"{size / best / 1e6:.0f} MB/s"]
        )
    return rows


def damage_rows(flips: int = 40) -> list[list[str]]:
    lines = b"".join(b"%d %d %d RT\n" % (i, i + 1, 1_341_100_000 + i) for i in range(1, 200_001))
    data = gzip.compress(lines, mtime=0)
    rng = random.Random(1)
    seen: collections.Counter[str] = collections.Counter()
    folder = Path(tempfile.mkdtemp(prefix="gv-bench-gz-"))
    for _ in range(flips):
        bad = bytearray(data)
        at = rng.randrange(20, len(data) - 8)
        bad[at] ^= 1 << rng.randrange(8)
        path = folder / "flip.txt.gz"
        path.write_bytes(bytes(bad))
        try:
            for _ in iter_line_blocks(path, block_lines=50_000):
                pass
            seen["not detected"] += 1
        except BadInput as exc:
            seen["checksum" if "checksum" in exc.message else "invalid data"] += 1
    return [[what, str(n)] for what, n in seen.most_common()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    text = "\n\n".join(
        [
            "# Per-tenant webhook secrets and the gzip stream",
            "Command: `.venv/bin/python benchmarks/tenant_secrets_imports.py "
            f"--repeat {args.repeat}`",
            facts_markdown(machine_facts(["cryptography", "sqlalchemy"])),
            "## Webhook verification (SQLite file, per request)",
            markdown_table(["step", "tenants", "time"], webhook_rows(args.repeat), "llr"),
            "## Gunzip of higgs-activity_time.txt.gz (best of 5)",
            markdown_table(["reader", "decompressed", "time", "rate"], gunzip_rows(), "lrrr"),
            "## 40 single-bit flips in a gzipped file of 200,000 Higgs-style lines",
            markdown_table(["first reported as", "flips"], damage_rows(), "lr"),
        ]
    )
    write_report(RESULTS_DIR / "tenant_secrets_imports.md", text)


if __name__ == "__main__":
    main()
