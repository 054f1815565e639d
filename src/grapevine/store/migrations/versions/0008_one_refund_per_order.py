"""one refund per order: a partial unique index on the refunds of referral_events

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A second refund of an order under another idempotency key used to be recorded (the stats
counted two refunds for one order; the ledger ignored the second). Refunds are now
idempotent on ``(campaign_id, order_id)``: the service answers a repeated refund with the
first one, and this index decides races. Refunds recorded twice before this revision are
reduced to the first one of each order (the earliest time, then the lowest id): the later
rows were no-ops for the rewards and only inflated the refund count.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_WHERE = "kind = 'refund' AND order_id IS NOT NULL"


def upgrade() -> None:
    op.execute(
        "DELETE FROM referral_events WHERE kind = 'refund' AND order_id IS NOT NULL AND id NOT IN "
        "(SELECT first_id FROM (SELECT min(id) AS first_id FROM referral_events r "
        "WHERE r.kind = 'refund' AND r.order_id IS NOT NULL AND r.time = (SELECT min(r2.time) "
        "FROM referral_events r2 WHERE r2.kind = 'refund' AND r2.campaign_id = r.campaign_id "
        "AND r2.order_id = r.order_id) GROUP BY r.campaign_id, r.order_id) AS firsts)"
    )
    op.create_index(
        "ux_referral_events_one_refund",
        "referral_events",
        ["campaign_id", "order_id"],
        unique=True,
        sqlite_where=sa.text(_WHERE),
        postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ux_referral_events_one_refund", table_name="referral_events")
