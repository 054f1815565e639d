"""``grapevine shop connect``, ``grapevine coupons ...`` and ``grapevine payouts ...`` on a
real store, through the command line (a Stripe replay server for the shop)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from grapevine.cli.main import app
from grapevine.config import get_settings
from grapevine.referrals._enrolment import enrol
from grapevine.referrals._events import EventInput, record_event
from grapevine.store import Store, campaigns_repo, tenants_repo
from shop_servers import StripeServer, running
from support import SECRETS_KEY

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "GRAPEVINE_SECRETS_KEY": SECRETS_KEY}


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The commands read the process's settings once; another test of this worker may have
    read them before the key was set."""
    monkeypatch.setenv("GRAPEVINE_SECRETS_KEY", SECRETS_KEY)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def cli(*args: str, db: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", db], env=ENV, input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def campaign(store_url: str) -> tuple[int, str]:
    with Store(store_url) as store, Session(store.engine) as session:
        tenant = tenants_repo.get_or_create_tenant(session, slug="acme")
        row = campaigns_repo.create_campaign(
            session,
            tenant_id=tenant.id,
            name="spring",
            goal=None,
            currency="EUR",
            offer={
                "referrer": {"kind": "fixed", "amount": 10},
                "friend": {"kind": "fixed", "amount": 5},
                "hold_seconds": 0,
            },
            rules={"window_days": 30, "attribution": "last"},
        )
        code = enrol(session, campaign_id=row.id, email="ann@example.org", salt="s" * 32).code
        session.commit()
        return row.id, code


def test_pool_issue_list_and_payouts(
    store_url: str, campaign: tuple[int, str], tmp_path: Path
) -> None:
    cid, ann = campaign
    db = store_url
    t = ("--tenant", "acme", "--campaign", str(cid))
    code, out, err = cli("coupons", "configure", *t, "--provider", "pool", db=db)
    assert code == 0, err
    pool = tmp_path / "codes.csv"
    pool.write_text("code\nCLI-1\nCLI-2\ncli-1\n")
    code, _, err = cli("coupons", "pool-import", str(pool), *t, db=db)
    assert code == 1
    assert f"{pool}, line 4" in " ".join(err.split())
    pool.write_text("code\nCLI-1\nCLI-2\n")
    code, out, err = cli("coupons", "pool-import", str(pool), *t, db=db)
    assert (code, out.strip()) == (0, "added 2 codes; 2 available in the pool"), err
    code, out, err = cli(
        "coupons", "issue", *t, "--email", "bob@example.org", "--referral-code", ann, db=db
    )
    assert (code, out.strip()) == (0, "CLI-1"), err
    code, out, _ = cli("coupons", "issue", *t, "--email", "bob@example.org", db=db)
    assert out.strip() == "CLI-1 (issued before)"
    code, out, err = cli("coupons", "list", *t, "--format", "csv", db=db)
    assert code == 0, err
    assert out.splitlines()[1].startswith("CLI-1,")
    with Store(store_url) as store, Session(store.engine) as session:
        record_event(
            session,
            campaign_id=cid,
            event=EventInput(
                kind="purchase",
                idempotency_key="k1",
                email="bob@example.org",
                coupon_code="cli-1",
                order_id="o1",
                value=40.0,
            ),
        )
    code, out, err = cli("payouts", "approve", *t, "--role", "referrer", db=db)
    assert (code, out.strip()) == (0, "approved 1 rewards"), err
    target = tmp_path / "wise.csv"
    code, _, err = cli("payouts", "export", *t, "--format", "wise", "-o", str(target), db=db)
    assert code == 0, err
    assert "batch 1: 1 rewards, 10.00 EUR" in err
    reference = target.read_text().splitlines()[1].split(",")[2]
    result = tmp_path / "result.csv"
    result.write_text(f"paymentReference,status\n{reference},outgoing_payment_sent\n")
    for expected in (
        "paid 1, failed 0, unchanged 0 (1 lines)",
        "paid 0, failed 0, unchanged 1 (1 lines)",
    ):
        code, out, err = cli("payouts", "import", str(result), *t, db=db)
        assert (code, out.strip()) == (0, expected), err
    code, out, _ = cli("payouts", "list", *t, "--state", "paid", "--json", db=db)
    assert '"state": "paid"' in out


def test_shop_connect_reads_stdin_and_issues(store_url: str, campaign: tuple[int, str]) -> None:
    cid, ann = campaign
    server = StripeServer(secret="sk_test_cli_key")
    with running(server) as url:
        code, out, err = cli(
            "shop",
            "connect",
            "stripe",
            "--tenant",
            "acme",
            "--base-url",
            url,
            db=store_url,
            stdin="sk_test_cli_key\n",
        )
        assert code == 0, err
        assert "credential ..._key, sealed" in out
        cli(
            "coupons",
            "configure",
            "--tenant",
            "acme",
            "--campaign",
            str(cid),
            "--provider",
            "stripe",
            db=store_url,
        )
        code, out, err = cli(
            "coupons",
            "issue",
            "--tenant",
            "acme",
            "--campaign",
            str(cid),
            "--email",
            "bob@example.org",
            "--referral-code",
            ann,
            "--json",
            db=store_url,
        )
    assert code == 0, err
    assert '"provider": "stripe"' in out
    assert len(server.promotion_codes) == 1
    code, _, err = cli(
        "coupons",
        "issue",
        "--tenant",
        "acme",
        "--campaign",
        "999",
        "--email",
        "x@example.org",
        db=store_url,
    )
    assert code == 1
    assert "no campaign 999" in err
