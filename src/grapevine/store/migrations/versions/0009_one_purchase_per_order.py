"""one purchase per order: a partial unique index on the purchases of referral_events

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

A second purchase of an order under another idempotency key used to be recorded (the stats
counted two purchases for one order, and the referrer could earn twice for it; the ledger's
first-purchase rule limited only the friend's reward). Purchases are now idempotent on
``(campaign_id, order_id)`` as refunds are (revision 0008): the service answers a repeated
purchase with the first one, and this index decides races. Purchases recorded twice before
this revision are reduced to the first one of each order (the earliest time, then the lowest
id), and the rewards and risk decisions of the rows removed go with them; the service replays
the campaign's rewards from its events at its next purchase or refund.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_WHERE = "kind = 'purchase' AND order_id IS NOT NULL"
_FIRSTS = (
    "(SELECT first_id FROM (SELECT min(id) AS first_id FROM referral_events r "
    "WHERE r.kind = 'purchase' AND r.order_id IS NOT NULL AND r.time = (SELECT min(r2.time) "
    "FROM referral_events r2 WHERE r2.kind = 'purchase' AND r2.campaign_id = r.campaign_id "
    "AND r2.order_id = r.order_id) GROUP BY r.campaign_id, r.order_id) AS firsts)"
)
_LATER = (
    "SELECT campaign_id, idempotency_key FROM referral_events "
    f"WHERE {_WHERE} AND id NOT IN {_FIRSTS}"
)


def upgrade() -> None:
    for table in ("rewards", "risk_decisions"):  # what the later copies earned or were assessed
        op.execute(
            f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM ({_LATER}) AS later "
            f"WHERE later.campaign_id = {table}.campaign_id "
            f"AND later.idempotency_key = {table}.event_key)"
        )
    op.execute(f"DELETE FROM referral_events WHERE {_WHERE} AND id NOT IN {_FIRSTS}")
    op.create_index(
        "ux_referral_events_one_purchase",
        "referral_events",
        ["campaign_id", "order_id"],
        unique=True,
        sqlite_where=sa.text(_WHERE),
        postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ux_referral_events_one_purchase", table_name="referral_events")
